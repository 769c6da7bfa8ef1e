"""Python source for generated modules, laid out the way black and `ruff format` lay it out.

Expressions are small trees (`Call`, `List`, `Dict`, atomic `Code`). A node goes on one line
when it fits in `LINE_LENGTH`; otherwise it is exploded one item per line with a trailing
comma. That trailing comma is "magic" to black and ruff, so the output is a fixed point of
both formatters at their default settings. Strings are quoted as black prefers them.

This module is the one way the importer writes text into code, and the text it writes may be
hostile (a dashboard's titles, queries, keys). Strings go through `string`/`fstring` (every
character that is not printable, line breaks, NUL, U+2028, bidi controls included, is written
as its escape), comments through `comment` (one printable line), docstrings through
`docstring`, and names through `name`/`is_identifier` (ASCII identifiers that are not
keywords). A keyword whose name is not such an identifier is written as `**{"key": value}`.
The module that comes out is still checked (`guard`) before anything runs it.
"""

from __future__ import annotations

import json
import keyword
from dataclasses import dataclass, field

LINE_LENGTH = 88  # black's and ruff's default
INDENT = "    "


@dataclass(frozen=True)
class Code:
    """An atomic piece of code: a literal, a name, an f-string. Made by this module's
    functions (`string`, `literal`, `name`, `fstring`), never from text by hand."""

    text: str


@dataclass(frozen=True)
class Comment:
    """A `# ...` line inside an exploded call, list or dict (forces the explosion). The text
    may be anything: `comment` writes it as one printable line."""

    text: str


@dataclass
class Call:
    func: str  # a dotted name (`p.row`, `settings`): checked by `name` when written
    args: list = field(default_factory=list)
    kwargs: list[tuple[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Star:
    """`*node` as a call argument."""

    node: object


@dataclass
class List:
    items: list = field(default_factory=list)


@dataclass
class Dict:
    items: list[tuple[object, object]] = field(default_factory=list)


# --- text as code: the one escaping path ---------------------------------------------------


def is_identifier(text: str) -> bool:
    """Whether `text` may be written as a Python name: an ASCII identifier, not a keyword.
    (Python folds non-ASCII names to NFKC, so `ｒｅｐｅａｔ` would silently mean `repeat`.)"""
    return isinstance(text, str) and text.isascii() and text.isidentifier() and not keyword.iskeyword(text)


def name(*parts: str) -> Code:
    """A name or dotted name (`cfg.jobs.postgres`); ValueError for anything else."""
    for part in parts:
        if not is_identifier(part):
            raise ValueError(f"not a name to write into code: {part!r}")
    return Code(".".join(parts))


def _dotted(text: str) -> str:
    return name(*text.split(".")).text


def string(s: str, quote: str | None = None) -> str:
    """A str literal: double quotes unless single ones need fewer escapes (black's rule), or
    the `quote` asked for."""
    if not isinstance(s, str):
        raise TypeError(f"not a string: {type(s).__name__}")
    quote = quote or ("'" if s.count("'") < s.count('"') else '"')
    return quote + _escape(s, quote) + quote


def inner_string(s: str) -> str | None:
    """A single-quoted literal to use inside a double-quoted f-string's braces, or None when
    it would need a backslash or a double quote (Python 3.11 allows neither there)."""
    text = string(s, "'")
    return None if "\\" in text or '"' in text else text


def _escape(s: str, quote: str | None, backslash: bool = True) -> str:
    """`s` as the inside of a literal quoted with `quote` (None: no quote to escape): the
    backslash (unless told not to), the quote and every character that is not printable
    (line and paragraph separators, NUL, form feed, bidi and zero-width controls, ...) escaped."""
    if s.isprintable():  # the common case, without a loop in Python
        s = s.replace("\\", "\\\\") if backslash else s
        return s.replace(quote, "\\" + quote) if quote else s
    out = []
    for ch in s:
        if ch == "\\" and backslash:
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def fstring(parts: list[tuple[str, object]]) -> str:
    """An f-string from ("text", str) and ("code", node) parts.

    Code is written flat and must not need a backslash or a double quote (Python 3.11 forbids
    both inside the braces: build it with `inner_string`); literal text is escaped for the
    double-quoted f-string and has its braces doubled.
    """
    body = []
    for kind, value in parts:
        if kind == "code":
            code = flat(value)
            if "\\" in code or '"' in code or not code.isprintable():
                raise ValueError(f"cannot go inside an f-string: {code!r}")
            body.append("{" + code + "}")
        else:
            body.append(_escape(value, '"').replace("{", "{{").replace("}", "}}"))
    return 'f"' + "".join(body) + '"'


def comment(text: str) -> str:
    """`# text` on one printable line: what would break the line or fool a reader is escaped
    (a comment is never read as code, so a backslash may stay as it is)."""
    return "# " + _escape(text, None, backslash=False)


def docstring(first: str, rest: list[str]) -> list[str]:
    """A module docstring's lines: `first` (any text, made one printable line and stripped),
    then the importer's own lines, then the closing quotes."""
    text = _escape(first.strip(), '"')
    return [f'"""{text}', *rest, '"""']


class Unwritable(ValueError):
    """A value that is not JSON (NaN, Infinity, a key that is not a string, ...): no literal for it."""


def literal(value) -> object:
    """A JSON value as a node (dicts and lists stay explodable); Unwritable for anything else."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unwritable("a JSON object key that is not a string cannot be written")
        return Dict([(Code(string(k)), literal(v)) for k, v in value.items()])
    if isinstance(value, list):
        return List([literal(v) for v in value])
    if isinstance(value, str):
        return Code(string(value))
    if value is None or isinstance(value, bool):
        return Code(repr(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unwritable(f"{value!r} is not a JSON number and cannot be written")
        return Code(repr(value).replace("e+", "e"))  # 1e42, as black writes it
    if isinstance(value, int):
        return Code(repr(value))
    raise Unwritable(f"not a JSON value: {type(value).__name__}")


def _keyword(key: str, value) -> tuple[str, object]:
    """(prefix, node) of a keyword argument: `key=` when the key is a name, else `**{"key": value}`."""
    if is_identifier(key):
        return f"{key}=", value
    return "**", Dict([(Code(string(key)), value)])


def flat(node) -> str:
    """The node on one line (comments dropped): what `eval` needs."""
    if isinstance(node, Code):
        return node.text
    if isinstance(node, Star):
        return "*" + flat(node.node)
    if isinstance(node, Call):
        items = [flat(a) for a in node.args if not isinstance(a, Comment)]
        items += [prefix + flat(v) for prefix, v in (_keyword(k, v) for k, v in node.kwargs)]
        return f"{_dotted(node.func)}({', '.join(items)})"
    if isinstance(node, List):
        return "[" + ", ".join(flat(i) for i in node.items if not isinstance(i, Comment)) + "]"
    if isinstance(node, Dict):
        return "{" + ", ".join(f"{flat(k)}: {flat(v)}" for k, v in node.items) + "}"
    raise TypeError(type(node).__name__)


def _has_comment(node) -> bool:
    if isinstance(node, Call):
        return any(isinstance(a, Comment) or _has_comment(a) for a in node.args) or any(
            _has_comment(v) for _k, v in node.kwargs)
    if isinstance(node, List):
        return any(isinstance(i, Comment) or _has_comment(i) for i in node.items)
    if isinstance(node, Dict):
        return any(_has_comment(v) for _k, v in node.items)
    return False


def _parts(node) -> tuple[str, list[tuple[str, object]], str] | None:
    """(opener, [(prefix, item)], closer) of an explodable node, None for atoms."""
    if isinstance(node, Call) and (node.args or node.kwargs):
        return _dotted(node.func) + "(", [("", a) for a in node.args] + [_keyword(k, v) for k, v in node.kwargs], ")"
    if isinstance(node, List) and node.items:
        return "[", [("", i) for i in node.items], "]"
    if isinstance(node, Dict) and node.items:
        return "{", [(flat(k) + ": ", v) for k, v in node.items], "}"
    return None


def _flat_upto(node, limit: int) -> str | None:
    """`flat(node)` if it is at most `limit` characters, else None, found without writing
    out a big node whole (exploding a big literal would otherwise flatten every level again)."""
    if isinstance(node, Code):
        return node.text if len(node.text) <= limit else None
    if isinstance(node, Star):
        inner = _flat_upto(node.node, limit - 1)
        return None if inner is None else "*" + inner
    if isinstance(node, Call):
        pieces = [("", a) for a in node.args if not isinstance(a, Comment)] + \
            [_keyword(k, v) for k, v in node.kwargs]
        opener, closer, sep = _dotted(node.func) + "(", ")", ", "
    elif isinstance(node, List):
        pieces, opener, closer, sep = [("", i) for i in node.items if not isinstance(i, Comment)], "[", "]", ", "
    elif isinstance(node, Dict):
        pieces, opener, closer, sep = [(None, kv) for kv in node.items], "{", "}", ", "
    else:
        raise TypeError(type(node).__name__)
    used, out = len(opener) + len(closer), []
    for prefix, item in pieces:
        if prefix is None:
            k = _flat_upto(item[0], limit - used)
            v = None if k is None else _flat_upto(item[1], limit - used - len(k) - 2)
            text = None if v is None else f"{k}: {v}"
        else:
            v = _flat_upto(item, limit - used - len(prefix))
            text = None if v is None else prefix + v
        if text is None:
            return None
        used += len(text) + (len(sep) if out else 0)
        if used > limit:
            return None
        out.append(text)
    return opener + sep.join(out) + closer


def lines(node, indent: str = "", prefix: str = "", suffix: str = "") -> list[str]:
    """`indent + prefix + node + suffix`, exploded where it does not fit on one line."""
    parts = _parts(node)
    if parts is None:
        return [indent + prefix + flat(node) + suffix]
    fits = _flat_upto(node, LINE_LENGTH - len(indent) - len(prefix) - len(suffix))
    if fits is not None and not _has_comment(node):
        return [indent + prefix + fits + suffix]
    opener, items, closer = parts
    out = [indent + prefix + opener]
    inner = indent + INDENT
    for item_prefix, item in items:
        if isinstance(item, Comment):
            out.append(inner + comment(item.text))
        else:
            out.extend(lines(item, inner, item_prefix, ","))
    out.append(indent + closer + suffix)
    return out


def comments(node) -> list[str]:
    """The comment lines `lines` writes for the node, in order (`guard` compares them)."""
    if isinstance(node, Comment):
        return [comment(node.text)]
    if isinstance(node, Star):
        return comments(node.node)
    if isinstance(node, Call):
        return [c for a in [*node.args, *(v for _k, v in node.kwargs)] for c in comments(a)]
    if isinstance(node, List):
        return [c for i in node.items for c in comments(i)]
    if isinstance(node, Dict):
        return [c for _k, v in node.items for c in comments(v)]
    return []


def json_text(value) -> str:
    """A JSON value's canonical text, for comparing literals."""
    return json.dumps(value, sort_keys=True)
