"""Every target of every rendered panel shows data from the reference stack.

Queries are expanded by generator.templating as Grafana would, with the time picker at
"Last 5 minutes" (the stack is minutes old: over the dashboards' default 6 h, Grafana's
step of 22 s would leave a fresh stack nearly blank), the stack's 2 s scrape interval as
the data source's, and each query variable's options read from Prometheus the way
Grafana's label_values() does. They are sent as Grafana sends them: a range query over
the time range with step $__interval, or an instant query for instant targets.
A target passes when at least one series has at least one non-NaN value.
"""

from __future__ import annotations

import json
import math
import re
import time

import pytest

from generator import templating

from .conftest import DASHBOARDS_DIR

pytestmark = pytest.mark.e2e

#: The e2e's time picker: "Last 5 minutes".
RANGE_SECONDS = 300
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$")


def _panels(panels):
    for p in panels:
        if p.get("type") == "row":
            yield from _panels(p.get("panels", []))
        else:
            yield p


def _targets():
    out = []
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        dash = json.loads(path.read_text())
        for panel in _panels(dash.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    ref = target.get("refId", "A")
                    out.append(pytest.param(dash, panel, target, id=f"{dash['uid']}:{panel['title']}:{ref}"))
    return out


def _time_context(dash: dict, stack) -> templating.TimeContext:
    return templating.TimeContext(range_seconds=RANGE_SECONDS, scrape_interval_seconds=stack.scrape_interval)


_VARIABLES: dict[str, dict] = {}


def resolve_variables(dash: dict, stack, ctx) -> dict:
    """Query variables' options from Prometheus (Grafana's label_values), current value checked."""
    uid = dash["uid"]
    if uid in _VARIABLES:
        return _VARIABLES[uid]
    overrides: dict = {}
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        m = _LABEL_VALUES.match(templating.expand(query or "", dash, time=ctx, overrides=overrides))
        assert m, f"{uid}: variable {var['name']}: unsupported query {query!r}"
        selector, label = m.group(1), m.group(2)
        options = stack.label_values(label, selector)
        assert options, f"{uid}: variable ${var['name']} ({query}) has no options on the stack"
        current = (var.get("current") or {}).get("value")
        values = current if isinstance(current, list) else [current]
        if "$__all" not in values:
            missing = [v for v in values if v not in options]
            assert not missing, f"{uid}: ${var['name']} = {missing} is not among its options {options}"
            overrides[var["name"]] = current
        elif not var.get("allValue"):
            overrides[var["name"]] = options
    _VARIABLES[uid] = overrides
    return overrides


def _has_value(series: dict) -> bool:
    values = series.get("values") or ([series["value"]] if "value" in series else [])
    return any(not math.isnan(float(v)) for _, v in values)


@pytest.mark.parametrize("dash,panel,target", _targets())
def test_panel_target_has_data(stack, report, dash, panel, target):
    ctx = _time_context(dash, stack)
    overrides = resolve_variables(dash, stack, ctx)
    expr = templating.expand(target["expr"], dash, time=ctx, overrides=overrides)
    assert "$" not in expr, f"unexpanded variable left in {expr!r}"
    now = time.time()
    if target.get("instant"):
        result = stack.query(expr, at=now)
    else:
        result = stack.query_range(expr, now - ctx.range_seconds, now, ctx.interval_seconds)
    with_values = [s for s in result if _has_value(s)]
    note = "" if with_values else ("all NaN" if result else "EMPTY")
    report["panels"].append((dash["uid"], panel["title"], target.get("refId", "A"), len(with_values), note))
    assert with_values, (
        f"{dash['uid']} / {panel['title']} ({target.get('refId', 'A')}): "
        f"{'only NaN' if result else 'no series'} for\n  {expr}"
    )


# --------------------------------------------------------------------------- selectors
# A panel or rule can show data, or stay quiet, with one of its selectors matching
# nothing: `x or vector(0)`, `absent(x)`, `a and b`. So every vector selector in every
# rendered rule and panel target must match at least one series on the stack.

import promql_parser  # noqa: E402
import yaml  # noqa: E402

from .conftest import RULES_DIR  # noqa: E402


def selectors(node, out=None) -> list[str]:
    """Every vector selector in a parsed PromQL expression, as text."""
    out = [] if out is None else out
    if isinstance(node, promql_parser.VectorSelector):
        out.append(str(node))
        return out
    for attr in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            selectors(child, out)
    for arg in getattr(node, "args", None) or []:
        selectors(arg, out)
    return out


def _sources():
    out = []
    for path in sorted(RULES_DIR.glob("*.rules.yaml")):
        exprs = [(r.get("alert") or r.get("record"), r["expr"])
                 for g in (yaml.safe_load(path.read_text()) or {}).get("groups", []) for r in g["rules"]]
        out.append(pytest.param(path.name, None, exprs, id=path.name))
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        dash = json.loads(path.read_text())
        exprs = [(f"{p['title']} ({t.get('refId', 'A')})", t["expr"])
                 for p in _panels(dash.get("panels", [])) for t in p.get("targets", []) if t.get("expr")]
        out.append(pytest.param(path.name, dash, exprs, id=path.name))
    return out


@pytest.mark.parametrize("source,dash,exprs", _sources())
def test_every_selector_matches_series(stack, report, source, dash, exprs):
    if dash is not None:
        ctx = _time_context(dash, stack)
        overrides = resolve_variables(dash, stack, ctx)
        exprs = [(where, templating.expand(e, dash, time=ctx, overrides=overrides)) for where, e in exprs]
    checked, missing = 0, []
    for where, expr in exprs:
        for sel in dict.fromkeys(selectors(promql_parser.parse(expr))):
            checked += 1
            if not stack.query(f"count({sel})"):
                missing.append(f"{where}: {sel}")
    report["selectors"].append((source, checked, missing))
    assert not missing, f"{source}: selectors matching no series on the stack:\n  " + "\n  ".join(missing)
