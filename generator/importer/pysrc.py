"""Python source for generated modules, laid out the way black and `ruff format` lay it out.

Expressions are small trees (`Call`, `List`, `Dict`, atomic `Code`). A node goes on one line
when it fits in `LINE_LENGTH`; otherwise it is exploded one item per line with a trailing
comma. That trailing comma is "magic" to black and ruff, so the output is a fixed point of
both formatters at their default settings. Strings are quoted as black prefers them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

LINE_LENGTH = 88  # black's and ruff's default
INDENT = "    "


@dataclass(frozen=True)
class Code:
    """An atomic piece of code: a literal, a name, an f-string."""

    text: str


@dataclass(frozen=True)
class Comment:
    """A `# ...` line inside an exploded call, list or dict (forces the explosion)."""

    text: str


@dataclass
class Call:
    func: str
    args: list = field(default_factory=list)
    kwargs: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class List:
    items: list = field(default_factory=list)


@dataclass
class Dict:
    items: list[tuple[object, object]] = field(default_factory=list)


def string(s: str) -> str:
    """A str literal: double quotes unless single ones need fewer escapes (black's rule)."""
    quote = "'" if s.count("'") < s.count('"') else '"'
    return quote + _escape(s, quote) + quote


def _escape(s: str, quote: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
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
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def fstring(parts: list[tuple[str, str]]) -> str:
    """An f-string from ("text", literal) and ("code", expression) parts.

    Expressions must use single quotes (Python 3.11 forbids the outer quote inside them);
    literal text is escaped for the double-quoted f-string and has its braces doubled.
    """
    body = []
    for kind, value in parts:
        if kind == "code":
            body.append("{" + value + "}")
        else:
            body.append(_escape(value, '"').replace("{", "{{").replace("}", "}}"))
    return 'f"' + "".join(body) + '"'


def literal(value) -> object:
    """A JSON value as a node (dicts and lists stay explodable)."""
    if isinstance(value, dict):
        return Dict([(Code(string(k)), literal(v)) for k, v in value.items()])
    if isinstance(value, list):
        return List([literal(v) for v in value])
    if isinstance(value, str):
        return Code(string(value))
    if value is None or isinstance(value, bool):
        return Code(repr(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{value!r} cannot be written as JSON")
        return Code(repr(value).replace("e+", "e"))  # 1e42, as black writes it
    if isinstance(value, int):
        return Code(repr(value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def flat(node) -> str:
    """The node on one line (comments dropped): what `eval` needs."""
    if isinstance(node, Code):
        return node.text
    if isinstance(node, Call):
        items = [flat(a) for a in node.args if not isinstance(a, Comment)]
        items += [f"{k}={flat(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(items)})"
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
        return node.func + "(", [("", a) for a in node.args] + [(f"{k}=", v) for k, v in node.kwargs], ")"
    if isinstance(node, List) and node.items:
        return "[", [("", i) for i in node.items], "]"
    if isinstance(node, Dict) and node.items:
        return "{", [(flat(k) + ": ", v) for k, v in node.items], "}"
    return None


def lines(node, indent: str = "", prefix: str = "", suffix: str = "") -> list[str]:
    """`indent + prefix + node + suffix`, exploded where it does not fit on one line."""
    one = indent + prefix + flat(node) + suffix
    parts = _parts(node)
    if parts is None or (len(one) <= LINE_LENGTH and not _has_comment(node)):
        return [one]
    opener, items, closer = parts
    out = [indent + prefix + opener]
    inner = indent + INDENT
    for item_prefix, item in items:
        if isinstance(item, Comment):
            out.append(f"{inner}# {item.text}")
        else:
            out.extend(lines(item, inner, item_prefix, ","))
    out.append(indent + closer + suffix)
    return out


def json_text(value) -> str:
    """A JSON value's canonical text, for comparing literals."""
    return json.dumps(value, sort_keys=True)
