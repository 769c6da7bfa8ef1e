"""PromQL: every panel target and rule expression parses, after Grafana's substitution."""

from __future__ import annotations

from generator.checks import Issue, check
from generator.checks.exprs import parse, queries


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@check("promql/parse")
def parses(project):
    """Every panel query (macros and variables substituted as Grafana does) and rule expression parses."""
    for q in queries(project):
        ast, error = parse(project, q.text)
        if ast is None:
            shown = _one_line(q.raw)
            if q.text != q.raw:
                shown += f"  (as sent: {_one_line(q.text)})"
            yield Issue(q.loc, f"PromQL does not parse: {error}; query: {shown}")
