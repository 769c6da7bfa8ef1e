"""`dashgen check` on big dashboards: findings summarised per check and dashboard, and the
grid-overlap sweep finding exactly the pairs the all-pairs comparison finds."""

from __future__ import annotations

import random

import pytest

from generator.checks import ERROR, Finding, Location
from generator.checks.dashboard_lint import _overlap, _overlapping_pairs
from generator.checks.summary import summarise


def _f(check: str, dashboard: str = "", file: str = "dashboards/x.py", n: int = 0) -> Finding:
    return Finding(check, ERROR, Location(file=file, dashboard=dashboard, panel=f"P{n}"), f"message {n}")


def test_the_first_few_of_one_check_on_one_dashboard_then_a_count():
    findings = ([_f("a/x", "d1", n=i) for i in range(12)] + [_f("a/x", "d2", n=i) for i in range(3)]
                + [_f("b/y", "d1", n=i) for i in range(6)] + [_f("rule/z", file="alerts/r.py", n=i) for i in range(7)])
    out = summarise(findings, first=5)
    lines = [str(x) for x in out]
    assert [x for x in out if isinstance(x, Finding)] == (findings[:5] + findings[12:15] + findings[15:20]
                                                          + findings[21:26])
    assert "error: [a/x] dashboard d1: ... and 7 more findings of this check here (--all shows every one)" in lines
    assert "error: [b/y] dashboard d1: ... and 1 more finding of this check here (--all shows every one)" in lines
    assert "error: [rule/z] file alerts/r.py: ... and 2 more findings of this check here (--all shows every one)" in lines
    assert not any("[a/x] dashboard d2: ..." in x for x in lines)  # three findings: all shown
    assert lines.index(str(findings[4])) + 1 == lines.index(
        "error: [a/x] dashboard d1: ... and 7 more findings of this check here (--all shows every one)")
    assert summarise(findings, first=0) == findings


def _brute(panels):
    return [(i, j) for i in range(len(panels)) for j in range(i + 1, len(panels)) if _overlap(panels[i], panels[j])]


def test_the_overlap_sweep_finds_the_same_pairs_as_comparing_all():
    rng = random.Random(21)
    for _ in range(300):
        panels = []
        for _k in range(rng.randint(0, 40)):
            grid = {"x": rng.randint(-2, 24), "y": rng.choice([rng.randint(0, 30), rng.random() * 30]),
                    "w": rng.randint(-1, 12), "h": rng.randint(-1, 9)}
            panels.append({"gridPos": {k: v for k, v in grid.items() if rng.random() > 0.05}})
        assert _overlapping_pairs(panels) == _brute(panels)
    # A box that is not numbers takes the all-pairs loop, failing exactly as it always did.
    odd = [{"gridPos": {"x": "1", "y": 0, "w": 2, "h": 2}}, {"gridPos": {"x": 0, "y": 0, "w": 2, "h": 2}}]
    with pytest.raises(TypeError):
        _brute(odd)
    with pytest.raises(TypeError):
        _overlapping_pairs(odd)
