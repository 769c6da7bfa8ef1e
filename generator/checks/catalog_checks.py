"""Metric catalog: selectors name declared metrics and labels; histograms and counters used right.

Series written by the project's recording rules are accepted as metrics (any label) and
count as gauges: their rates are already taken.
"""

from __future__ import annotations

import difflib
import re

import promql_parser as pp

from generator.catalog import CATALOG_FILE, COUNTER, GAUGE, HISTOGRAM, SUFFIXES
from generator.checks import Issue, check
from generator.checks.exprs import RANGE_FUNCTIONS, func_name, lookup, matchers, op_text, parsed, selectors, unwrap, walk


def _composite_base(project, name: str):
    """The histogram or summary whose base name this is (they expose only suffixed series)."""
    m = project.catalog.metrics.get(name)
    return m if m is not None and m.type in SUFFIXES else None


def _keeps_le(agg: pp.AggregateExpr) -> bool:
    mod = agg.modifier
    if mod is None:
        return False
    labels = list(mod.labels or [])
    if mod.type == pp.AggModifierType.By:
        return "le" in labels
    return "le" not in labels


@check("catalog/unknown-metric")
def unknown_metric(project):
    """Every selector names a metric declared in the catalog (or a recorded series)."""
    known = set(project.catalog.series_names()) | project.recorded
    ordered = sorted(known)
    hints: dict[str, str] = {}  # one fuzzy search per unknown name, not per selector
    for use in project.selector_uses:
        name = use.name
        if name is None:
            yield Issue(use.loc, f"selector {use.selector} has no literal metric name; match __name__ exactly "
                                 "(regex name selectors also catch _created series, docs/metrics.md §13.12)")
            continue
        if name in known or _composite_base(project, name):
            continue
        if name not in hints:
            near = difflib.get_close_matches(name, ordered, n=1)
            hints[name] = f"; did you mean {near[0]}?" if near else ""
        yield Issue(use.loc, f"metric {name} is not in the metric catalog ({CATALOG_FILE}){hints[name]}")


@check("catalog/unknown-label")
def unknown_label(project):
    """Every label matcher names a label the selected metric has."""
    for use in project.selector_uses:
        if use.hit is None:
            continue
        _metric, labels = use.hit
        for m in matchers(use.selector):
            if m.name in labels or m.name == "le":  # le: reported by catalog/histogram-series
                continue
            yield Issue(use.loc, f"{use.name} has no label {m.name!r} (it has: {', '.join(labels)}); "
                                 f"matcher {m.name}{op_text(m)}\"{m.value}\"")


@check("catalog/histogram-series")
def histogram_series(project):
    """Histograms are queried as _bucket (with le), _sum and _count; le appears only on _bucket."""
    for use in project.selector_uses:
        name = use.name
        if not name:
            continue
        base = _composite_base(project, name)
        if base is not None:
            suffixes = ", ".join(name + s for s in SUFFIXES[base.type])
            yield Issue(use.loc, f"{name} is a {base.type}: it exposes only {suffixes}")
            continue
        if use.hit is None:
            continue
        metric, labels = use.hit
        has_le = any(m.name == "le" for m in matchers(use.selector))
        if has_le and "le" not in labels:
            yield Issue(use.loc, f"le is a label of histogram _bucket series only; {name} has none "
                                 f"({metric.type} {metric.name})")
            continue
        if metric.type == HISTOGRAM and name.endswith("_bucket") and not has_le:
            if any(func_name(p) == "histogram_quantile" for p in use.parents):
                continue
            agg = next((p for p in reversed(use.parents) if isinstance(p, pp.AggregateExpr)), None)
            if agg is not None and not _keeps_le(agg):
                yield Issue(use.loc, f"{agg.op} over {name} without `by (le)` adds up every bucket: keep le, "
                                     "or select one bucket with an le matcher")


@check("catalog/le-bound")
def le_bound(project):
    """A bucket filter (le="...") names a bucket bound the histogram declares, spelled as exposed."""
    for use in project.selector_uses:
        if use.hit is None or not use.name.endswith("_bucket"):
            continue
        metric = use.hit[0]
        bounds = metric.le_values
        for m in matchers(use.selector):
            if m.name != "le":
                continue
            if m.op == pp.MatchOp.Equal and m.value not in bounds:
                yield Issue(use.loc, f'le="{m.value}" is not a bucket bound of {metric.name} '
                                     f"(bounds: {', '.join(bounds)}; Python writes 1.0, not 1)")
            elif m.op == pp.MatchOp.Re:
                try:
                    rx = re.compile(m.value)
                except re.error as exc:
                    yield Issue(use.loc, f'le=~"{m.value}" is not a valid regular expression: {exc}')
                    continue
                if not any(rx.fullmatch(b) for b in bounds):
                    yield Issue(use.loc, f'le=~"{m.value}" matches no bucket bound of {metric.name} '
                                         f"(bounds: {', '.join(bounds)})")


def _series_kind(project, name: str) -> str | None:
    """'counter', 'gauge', 'recorded' or None (unknown: another check reports it)."""
    if name in project.recorded:
        return "recorded"
    hit = project.catalog.lookup(name)
    if hit is None:
        return None
    metric = hit[0]
    if metric.type == COUNTER or metric.type in SUFFIXES:
        return "counter"  # histogram and summary series (_bucket, _sum, _count) are counters
    return GAUGE if metric.type == GAUGE else metric.type


@check("catalog/rate-on-gauge")
def rate_on_gauge(project):
    """rate(), irate() and increase() only take counters (histogram series included), never a gauge."""
    for q, ast in parsed(project):
        for node, _parents in walk(ast):
            fn = func_name(node)
            if fn not in RANGE_FUNCTIONS or not node.args:
                continue
            arg = unwrap(node.args[0])
            if isinstance(arg, pp.MatrixSelector):
                inner = [arg.vector_selector]
            elif isinstance(arg, pp.SubqueryExpr) and isinstance(unwrap(arg.expr), pp.VectorSelector):
                inner = [unwrap(arg.expr)]
            else:
                continue
            for vs in inner:
                name, _hit = lookup(project, vs)
                kind = _series_kind(project, name) if name else None
                if kind == GAUGE:
                    yield Issue(q.loc, (f"{fn}() of {name}, a gauge: rates only make sense on counters; "
                                        "use deriv(), delta() or *_over_time() (docs/metrics.md §13.1)"))
                elif kind == "recorded":
                    yield Issue(q.loc, (f"{fn}() of {name}, a recorded series (already a rate or ratio, so a "
                                        "gauge): query it directly"))


_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<sel>.+?)\s*,\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)


@check("catalog/variable-query")
def variable_query(project):
    """Template variables' label_values(metric, label) name a catalogued metric and one of its labels."""
    from generator.checks import Location
    from generator.checks.exprs import PROBE_TIME
    from generator.templating import expand

    for rel, d in project.dashboards:
        for v in d.get("templating", {}).get("list", []):
            query = v.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            if v.get("type") != "query" or not isinstance(query, str):
                continue
            loc = Location(file=rel, dashboard=str(d.get("uid") or ""))
            m = _LABEL_VALUES.match(query)
            if not m:
                continue  # other query forms (query_result, metrics) are not checked
            label, sel = m.group("label"), m.group("sel")
            if sel is None:
                continue
            try:
                ast = pp.parse(expand(sel, d, time=PROBE_TIME))
            except Exception as exc:
                yield Issue(loc, f"variable ${v.get('name')}: {sel} does not parse: {exc}")
                continue
            for vs, _p in selectors(ast):
                name, hit = lookup(project, vs)
                if hit is None:
                    if name not in project.recorded:
                        yield Issue(loc, f"variable ${v.get('name')}: metric {name} is not in the metric catalog")
                    continue
                if label not in hit[1]:
                    yield Issue(loc, (f"variable ${v.get('name')}: {name} has no label {label!r} "
                                f"(it has: {', '.join(hit[1])}); the drop-down would be empty"))


#: Functions that add or rename labels: grouping by their output cannot be checked against the catalog.
LABEL_MAKERS = {"label_replace", "label_join"}


@check("catalog/grouping-label")
def grouping_label(project):
    """Labels in by (...) name labels the aggregated metrics have (a typo silently merges every series)."""
    for q, ast in parsed(project):
        for node, _parents in walk(ast):
            if not isinstance(node, pp.AggregateExpr) or node.modifier is None:
                continue
            if node.modifier.type != pp.AggModifierType.By:
                continue
            inner = [n for n, _p in walk(node.expr)]
            if any(func_name(n) in LABEL_MAKERS for n in inner):
                continue
            available: set[str] = set()
            names = []
            for vs, _p in selectors(node.expr):
                name, hit = lookup(project, vs)
                if hit is None:
                    available = None  # a recorded or unknown series: its labels are not declared
                    break
                available.update(hit[1])
                names.append(name)
            if not available:
                continue
            for label in node.modifier.labels or []:
                if label not in available:
                    yield Issue(q.loc, (f"{node.op} by ({label}): none of {', '.join(sorted(set(names)))} has a "
                                        f"label {label!r}, so every series lands in one group"))


#: Functions and aggregations under which a raw counter (or histogram series) makes sense.
COUNTER_SAFE_CALLS = RANGE_FUNCTIONS | {"resets", "absent", "absent_over_time", "present_over_time", "timestamp"}
COUNTER_SAFE_AGGREGATIONS = {"count", "group"}


@check("catalog/raw-counter")
def raw_counter(project):
    """Counters are read through rate(), irate() or increase(), never plotted or compared raw (docs/metrics.md §13.8)."""
    for use in project.selector_uses:
        name, parents = use.name, use.parents
        if not name or _series_kind(project, name) != "counter":
            continue
        if any(func_name(p) in COUNTER_SAFE_CALLS for p in parents):
            continue
        if any(isinstance(p, pp.AggregateExpr) and str(p.op) in COUNTER_SAFE_AGGREGATIONS for p in parents):
            continue
        yield Issue(use.loc, f"{name} is a counter used raw: it only grows and resets on restart; "
                             "take rate() or increase() over a window")


@check("catalog/histogram-quantile")
def histogram_quantile(project):
    """histogram_quantile() takes rate()d _bucket series aggregated with le kept (docs/metrics.md §13.3)."""
    for q, ast in parsed(project):
        for node, _parents in walk(ast):
            if func_name(node) != "histogram_quantile" or len(node.args) < 2:
                continue
            arg = unwrap(node.args[1])
            for vs, parents in selectors(arg):
                name, _hit = lookup(project, vs)
                if not name or name in project.recorded:
                    continue
                if not name.endswith("_bucket"):
                    yield Issue(q.loc, f"histogram_quantile() over {name}: it needs _bucket series")
                elif not any(func_name(p) in RANGE_FUNCTIONS for p in parents):
                    yield Issue(q.loc, (f"histogram_quantile() over raw {name}: take rate() of the buckets first "
                                        "(cumulative counts since start otherwise)"))
            agg = next((n for n, _p in walk(arg) if isinstance(n, pp.AggregateExpr)), None)
            if agg is not None and not _keeps_le(agg):
                yield Issue(q.loc, f"histogram_quantile() over {agg.op}(...) that drops le: write {agg.op} by (le, ...)")
