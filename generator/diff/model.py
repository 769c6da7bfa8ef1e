"""The vocabulary of a diff: `Change` records, word diffs, quoted values and leaf-by-leaf comparison."""

from __future__ import annotations

import difflib
import html
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from dataclasses import field as _field
from typing import Any, Iterable

from generator.units import number

MAX_VALUE = 160  # characters of a value quoted in a message

@dataclass(frozen=True)
class Change:
    """One difference, located by names."""

    kind: str  # added | removed | changed | moved | renamed
    target: str  # dashboard | row | panel | variable | group | alert | record | file
    file: str  # path relative to rendered/ (the new side's, when both exist)
    parent: str  # dashboard title or rule group name: what the change belongs to
    message: str  # what changed, in a reviewer's words (without the location)
    uid: str = ""  # dashboard uid, when a dashboard
    row: str | None = None
    name: str | None = None  # panel title, variable, alert or record name
    field: str | None = None  # e.g. "query A", "threshold", "unit", "for", "labels.severity"
    old: Any = None
    new: Any = None
    marked: tuple = _field(default=(), compare=False)  # word diff: (("=" | "-" | "+", text), ...)

    @property
    def location(self) -> str:
        parts = [p for p in (self.row, self.name) if p]
        return " / ".join(parts)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["marked"] = [list(seg) for seg in self.marked]
        d["location"] = self.location
        return d


# --- word diff --------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s+|"(?:[^"\\]|\\.)*"|[A-Za-z_:][A-Za-z0-9_:]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[a-z]*|.',
    re.S,
)


def word_diff(old: str, new: str) -> tuple:
    """Segments (op, text) marking what changed between two strings, token by token."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    segs: list[list] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segs and segs[-1][0] == op:
            segs[-1][1] += text
        else:
            segs.append([op, text])

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("=", "".join(a[i1:i2]))
        else:
            add("-", "".join(a[i1:i2]))
            add("+", "".join(b[j1:j2]))
    return _fold_spaces(segs)


def _fold_spaces(segs: list[list]) -> tuple:
    """`[-a-]{+b+} [-c-]{+d+}` reads better as `[-a c-]{+b d+}`: fold lone spaces between changes."""
    def run_at(i: int) -> dict:
        ops: dict = {}
        while i < len(segs) and segs[i][0] != "=":
            ops.setdefault(segs[i][0], []).append(segs[i][1])
            i += 1
        return ops

    out: list[list] = []
    i = 0
    while i < len(segs):
        op, text = segs[i]
        if op == "=" and not text.strip() and out:
            before, after = _tail(out), run_at(i + 1)
            if set(before) == set(after) == {"-", "+"}:
                while out and out[-1][0] != "=":
                    out.pop()
                n = sum(len(v) for v in after.values())
                out.append(["-", before["-"][0] + text + "".join(after["-"])])
                out.append(["+", before["+"][0] + text + "".join(after["+"])])
                i += 1 + n
                continue
        out.append([op, text])
        i += 1
    return tuple((op, text) for op, text in out)


def _tail(out: list[list]) -> dict:
    ops: dict = {}
    for op, text in reversed(out):
        if op == "=":
            break
        ops.setdefault(op, []).insert(0, text)
    return {k: ["".join(v)] for k, v in ops.items()}


def marked_text(segs: Iterable) -> str:
    """git's --word-diff=plain notation: [-old-]{+new+}.

    A change whose text begins or ends with "-" or "+" (or holds a marker) would read as
    `[---]{+++}`: it is widened to the neighbouring word on each side, `[-a - b-]{+a + b+}`.
    """
    segs = [list(s) for s in segs]
    out: list[str] = []
    i = 0
    while i < len(segs):
        if segs[i][0] == "=":
            out.append(segs[i][1])
            i += 1
            continue
        j = i
        while j < len(segs) and segs[j][0] != "=":
            j += 1
        old = "".join(t for op, t in segs[i:j] if op == "-")
        new = "".join(t for op, t in segs[i:j] if op == "+")
        if any(_ambiguous(t) for t in (old, new) if t):
            before = out.pop() if out else ""
            m = re.search(r"\S*\s*$", before)
            out.append(before[: m.start()])
            pre = before[m.start():]
            post = ""
            if j < len(segs):
                m2 = re.match(r"\s*\S*", segs[j][1])
                post, segs[j][1] = m2.group(0), segs[j][1][m2.end():]
            old, new = pre + old + post, pre + new + post
        out.append((f"[-{old}-]" if old else "") + (f"{{+{new}+}}" if new else ""))
        i = j
    return "".join(out)


def _ambiguous(text: str) -> bool:
    return text[0] in "+-" or text[-1] in "+-" or any(m in text for m in ("[-", "-]", "{+", "+}"))


def marked_html(segs: Iterable) -> str:
    out = []
    for op, text in segs:
        t = html.escape(text, quote=False)
        out.append(t if op == "=" else f"<del>{t}</del>" if op == "-" else f"<ins>{t}</ins>")
    return "".join(out)


# --- values -------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value quoted in a message: strings as they are, the rest as compact JSON."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        text = value if value else '""'
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = number(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _q(title: str | None) -> str:
    """A title quoted in a message ("(top)" for panels above the first row)."""
    return f'"{title}"' if title is not None else "(top)"


def leaves(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted path, old, new) for every differing leaf; lists compare as whole values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append((sub, None, new[k]))
            elif k not in new:
                out.append((sub, old[k], None))
            else:
                out.extend(leaves(old[k], new[k], sub))
        return out
    if isinstance(old, list) and isinstance(new, list) and old != new:
        key = _list_key(old, new)
        if key:
            a, b = {str(x[key]): x for x in old}, {str(x[key]): x for x in new}
            out = []
            for k in [*a, *(k for k in b if k not in a)]:
                out.extend(leaves(a.get(k), b.get(k), f"{path}[{k}]"))
            return out
        if len(old) == len(new) and all(isinstance(x, dict) for x in old + new):
            out = []
            for n, (x, y) in enumerate(zip(old, new), 1):  # order matters here (e.g. policy routes)
                out.extend(leaves(x, y, f"{path}#{n}"))
            return out
    return [] if old == new else [(path, old, new)]


def _list_key(old: list, new: list) -> str | None:
    """A field naming each element of both lists (uid, name, title), if there is one."""
    for key in ("uid", "name", "title", "receiver"):
        for items in (old, new):
            if not all(isinstance(x, dict) and isinstance(x.get(key), (str, int)) for x in items):
                break
            if len({str(x[key]) for x in items}) != len(items):
                break
        else:
            return key
    return None


def _text_change(label: str, old: Any, new: Any) -> tuple[str, tuple]:
    """A message for a changed text-like value, with the changed part marked when useful."""
    short = all(isinstance(v, str) and len(v) <= 40 and not any(c.isspace() for c in v) for v in (old, new))
    if isinstance(old, str) and isinstance(new, str) and old and new and not short:
        segs = word_diff(old, new)
        return f"{label} changed: {marked_text(segs)}", segs
    if old is None:
        return f"{label} set to {show(new)}", ()
    if new is None:
        return f"{label} removed (was {show(old)})", ()
    return f"{label} {show(old)} -> {show(new)}", ()


def _keyed(items: Iterable, key) -> dict:
    """Items by key; a repeated key gets " #2", " #3" (reading order) so nothing is lost."""
    out: dict = {}
    seen: Counter = Counter()
    for it in items:
        k = key(it)
        try:
            hash(k)
        except TypeError:  # a name of another type (a list where Grafana writes a string)
            k = show(k)
        seen[k] += 1
        if seen[k] > 1:
            k = (*k[:-1], f"{k[-1]} #{seen[k]}") if isinstance(k, tuple) else f"{k} #{seen[k]}"
        out[k] = it
    return out

