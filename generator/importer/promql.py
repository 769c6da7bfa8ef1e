"""PromQL text as Python code: catalogued selectors become `C.sel(...)` calls.

A selector is rewritten only when `C.sel` gives back exactly the text it replaces, so the
imported module renders the same query. Metrics the catalog does not know are reported and
kept as written. Metric names come from a real parse (after Grafana's variables and macros
are substituted), so label names, functions and keywords are never mistaken for metrics.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

import promql_parser as pp

from generator.catalog import Catalog, CatalogError, eq, ne, nre, re_
from generator.checks.exprs import PROBE_TIME, metric_name, selectors
from generator.config import Config
from generator.importer.pysrc import Call, Code, flat, fstring, inner_string, is_identifier, string
from generator.importer.pysrc import name as pysrc_name
from generator.templating import expand

_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_OPS = {"=": "eq", "!=": "ne", "=~": "re_", "!~": "nre"}
_MATCHER_FUNCS = {"eq": eq, "ne": ne, "re_": re_, "nre": nre}
_SEL_PARAMS = set(inspect.signature(Catalog.sel).parameters) - {"self"}  # series, matchers, equals


@dataclass
class Expr:
    """An expression as code, with what the import learned about it."""

    code: str
    metrics: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)  # eq, ne, re_, nre: imported from generator.catalog
    parses: bool = True
    min_of: str | None = None  # for `min(<selector>)`: the selector as code (p.up_stat takes it)


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


def _config_name(value: str, cfg: Config) -> Code | None:
    """The config's job name or selector value equal to a label value, if exactly one is."""
    for group in ("jobs", "selectors"):
        hits = [name for name, v in vars(getattr(cfg, group)).items() if v == value]
        if len(hits) == 1 and is_identifier(hits[0]):
            return pysrc_name("cfg", group, hits[0])
    return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)


@dataclass(frozen=True)
class _Selector:
    """A `C.sel` call: the series, its matchers (label, operator, value, the config name
    written for the value if any) and whether equality matchers are keywords (the house
    spelling) or `eq(...)` arguments."""

    series: str
    matchers: tuple[tuple[str, str, str, Code | None], ...]
    keywords: bool

    def _keyword(self, op: str) -> bool:
        return op == "=" and self.keywords

    @property
    def helpers(self) -> set[str]:
        return {_OPS[op] for _l, op, _v, _c in self.matchers if not self._keyword(op)}

    def call(self, quote: str) -> Call:
        """The call as code, its strings in `quote` (single inside an f-string)."""
        def text(s: str) -> Code:
            return Code(string(s, quote))

        args, kwargs = [text(self.series)], []
        for label, op, value, config in self.matchers:
            code = config or text(value)
            if self._keyword(op):
                kwargs.append((label, code))
            else:
                args.append(Call(_OPS[op], [text(label), code]))
        return Call("C.sel", args, kwargs)

    def render(self, catalog: Catalog) -> str:
        """What the call returns: `C.sel` called with the values themselves (nothing is evaluated)."""
        positional = [_MATCHER_FUNCS[_OPS[op]](label, value) for label, op, value, _c in self.matchers
                      if not self._keyword(op)]
        equals = {label: value for label, op, value, _c in self.matchers if self._keyword(op)}
        return catalog.sel(self.series, *positional, **equals)


def _selector(span: str, name: str, cfg: Config, catalog: Catalog) -> _Selector | None:
    """The `C.sel` call that gives back exactly `span`, or None."""
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
    # A label spelled like a Python keyword (`if`) or like C.sel's own parameter cannot be a
    # keyword argument: then every matcher is written positionally, eq(...) included.
    keywords = all(is_identifier(lab) and lab not in _SEL_PARAMS for lab in equals)
    found = []
    for label, op, value in matchers:
        config = _config_name(value, cfg)
        if config is None and inner_string(value) is None:
            return None  # no backslash or quote inside an f-string on Python 3.11
        found.append((label, op, value, config))
    sel = _Selector(name, tuple(found), keywords)
    try:
        return sel if sel.render(catalog) == span else None
    except CatalogError:
        return None


def expr_code(expr: str, cfg: Config, catalog: Catalog, dashboard: dict | None = None, known: set[str] = frozenset()) -> Expr:
    """The expression as a Python expression (a str literal or an f-string of `C.sel` calls).

    `known` are series the project records itself (recording rules): not reported as unknown.
    """
    names = metric_names(expr, dashboard)
    bare = expr.startswith("min(") and expr.endswith(")") and "{" not in expr
    minimum = string(expr[4:-1]) if bare else None  # min(metric), kept literal
    if names is None:
        return Expr(string(expr), parses=False, min_of=minimum)
    unknown = [n for n in names if catalog.lookup(n) is None and n not in known]
    parts: list[tuple[str, object]] = []
    selectors_: list[_Selector] = []
    helpers: set[str] = set()
    pos = 0
    catalogued = {n for n in names if catalog.lookup(n) is not None}
    for start, end, name in _spans(expr, catalogued):
        sel = _selector(expr[start:end], name, cfg, catalog)
        if sel is None:
            continue
        parts += [("text", expr[pos:start]), ("code", sel.call("'"))]
        selectors_.append(sel)
        helpers |= sel.helpers
        pos = end
    parts.append(("text", expr[pos:]))
    parts = [(k, v) for k, v in parts if v]
    if not any(k == "code" for k, _v in parts) or any(k == "text" and '"' in v for k, v in parts):
        # Quotes left in the text would make formatters swap the f-string's quotes: keep it literal.
        return Expr(string(expr), names, unknown, min_of=minimum)
    if len(parts) == 1:  # the whole expression is one selector: a plain call, black's quotes
        return Expr(flat(selectors_[0].call('"')), names, unknown, helpers)
    if [k for k, _v in parts] == ["text", "code", "text"] and parts[0][1] == "min(" and parts[2][1] == ")":
        minimum = flat(selectors_[0].call('"'))
    else:
        minimum = None
    return Expr(fstring(parts), names, unknown, helpers, min_of=minimum)
