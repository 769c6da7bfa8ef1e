"""PromQL text as Python code: catalogued selectors become `C.sel(...)` calls.

A selector is rewritten only when `C.sel` gives back exactly the text it replaces, so the
imported module renders the same query. Metrics the catalog does not know are reported and
kept as written. Metric names come from a real parse (after Grafana's variables and macros
are substituted), so label names, functions and keywords are never mistaken for metrics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import promql_parser as pp

from generator.catalog import CATALOG, CatalogError, eq, ne, nre, re_
from generator.checks.exprs import PROBE_TIME, metric_name, selectors
from generator.config import Config
from generator.importer.pysrc import fstring, string
from generator.templating import expand

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_OPS = {"=": None, "!=": "ne", "=~": "re_", "!~": "nre"}
_MATCHER_FUNCS = {"ne": ne, "re_": re_, "nre": nre}


@dataclass
class Expr:
    """An expression as code, with what the import learned about it."""

    code: str
    metrics: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # ne, re_, nre: imported from generator.catalog
    parses: bool = True


def metric_names(expr: str, dashboard: dict | None) -> list[str] | None:
    """Metric names the expression selects, in order; None when it does not parse."""
    try:
        ast = pp.parse(expand(expr, dashboard, time=PROBE_TIME))
    except Exception:  # promql-parser raises ValueError with the parser's message
        return None
    names = (metric_name(vs) for vs, _parents in selectors(ast))
    return list(dict.fromkeys(n for n in names if n))


def _skip_string(text: str, i: int) -> int:
    quote = text[i]
    i += 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" and quote != "`" else 1
    return i + 1


def _spans(text: str, names: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, metric) of each `metric` or `metric{...}` selector in the text."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'`":
            i = _skip_string(text, i)
            continue
        if ch in "{[":  # matchers of a name-less selector, a range: no metric names inside
            close = "}" if ch == "{" else "]"
            while i < len(text) and text[i] != close:
                i = _skip_string(text, i) if text[i] in "\"'`" else i + 1
            i += 1
            continue
        m = _IDENT.match(text, i)
        if not m:
            i += 1
            continue
        start, end, name = i, m.end(), m.group()
        prev = text[start - 1] if start else ""
        i = end
        if (prev and (prev.isalnum() or prev in "_.$")) or name not in names:
            continue
        j = end
        while j < len(text) and text[j] == " ":
            j += 1
        if j < len(text) and text[j] == "(":
            continue  # a function or an aggregation of the same name
        if j < len(text) and text[j] == "{":
            k = j + 1
            while k < len(text) and text[k] != "}":
                k = _skip_string(text, k) if text[k] in "\"'`" else k + 1
            if k >= len(text):
                continue
            end = i = k + 1
        out.append((start, end, name))
    return out


def _value_code(value: str, cfg: Config) -> str:
    """A label value as code: the config's job name or selector value when it is one, else a literal."""
    for group in ("jobs", "selectors"):
        hits = [name for name, v in vars(getattr(cfg, group)).items() if v == value]
        if len(hits) == 1:
            return f"cfg.{group}.{hits[0]}"
    if any(c in value for c in "\"'\\") or not value.isprintable():
        return None  # f-string expressions hold no backslashes or quotes on Python 3.11
    return f"'{value}'"


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)


def _sel_code(span: str, name: str, cfg: Config) -> tuple[str, set[str]] | None:
    """`C.sel(...)` (single-quoted, for an f-string) that evaluates to exactly `span`, or None."""
    body = span[len(name):].strip()
    matchers: list[tuple[str, str, str]] = []
    if body:
        inner = body[1:-1]
        pos = 0
        while pos < len(inner) and inner[pos:].strip():
            m = _MATCHER.match(inner, pos)
            if not m:
                return None
            matchers.append((m.group(1), m.group(2), _unescape(m.group(3))))
            pos = m.end()
    # C.sel writes equality matchers (keywords) first, then the others, in order.
    kinds = [op == "=" for _l, op, _v in matchers]
    equals = [lab for lab, op, _v in matchers if op == "="]
    if kinds != sorted(kinds, reverse=True) or len(set(equals)) != len(equals):  # keywords must be unique
        return None
    args, kwargs, helpers = [], [], set()
    for label, op, value in matchers:
        code = _value_code(value, cfg)
        if code is None:
            return None
        if _OPS[op] is None:
            kwargs.append(f"{label}={code}")
        else:
            helpers.add(_OPS[op])
            args.append(f"{_OPS[op]}('{label}', {code})")
    code = f"C.sel({', '.join([repr(name), *args, *kwargs])})"
    try:
        rendered = eval(code, {"C": CATALOG, "cfg": cfg, "ne": ne, "re_": re_, "nre": nre, "eq": eq})  # noqa: S307
    except CatalogError:
        return None
    return (code, helpers) if rendered == span else None


def expr_code(expr: str, cfg: Config, dashboard: dict | None = None, known: set[str] = frozenset()) -> Expr:
    """The expression as a Python expression (a str literal or an f-string of `C.sel` calls).

    `known` are series the project records itself (recording rules): not reported as unknown.
    """
    names = metric_names(expr, dashboard)
    if names is None:
        return Expr(string(expr), parses=False)
    unknown = [n for n in names if CATALOG.lookup(n) is None and n not in known]
    parts: list[tuple[str, str]] = []
    helpers: set[str] = set()
    pos = 0
    catalogued = {n for n in names if CATALOG.lookup(n) is not None}
    for start, end, name in _spans(expr, catalogued):
        sel = _sel_code(expr[start:end], name, cfg)
        if sel is None:
            continue
        parts += [("text", expr[pos:start]), ("code", sel[0])]
        helpers |= sel[1]
        pos = end
    parts.append(("text", expr[pos:]))
    parts = [(k, v) for k, v in parts if v]
    if not any(k == "code" for k, _v in parts) or any(k == "text" and '"' in v for k, v in parts):
        # Quotes left in the text would make formatters swap the f-string's quotes: keep it literal.
        return Expr(string(expr), names, unknown)
    if len(parts) == 1:  # the whole expression is one selector: a plain call, black's quotes
        return Expr(parts[0][1].replace("'", '"'), names, unknown, helpers)
    return Expr(fstring(parts), names, unknown, helpers)
