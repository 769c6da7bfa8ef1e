"""classic -> v2 -> classic over our dashboards and the real-world corpus.

For every dashboard: the v2 spec validates against the shipped schema, and the round trip
gives back the input after normalising, except exactly where the report says so. The diff
here is the test's own (a plain structural walk), so a converter that loses something it
does not report, or reports a loss that does not happen, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.dashv2 import KEPT, to_classic, to_v2, validate_v2
from generator.normalize import load_dashboard, normalize_dashboard

ROOT = Path(__file__).resolve().parents[1]
OURS = sorted((ROOT / "rendered" / "dashboards").glob("*.json"))
REALWORLD = sorted((ROOT / "tests" / "fixtures" / "realworld" / "dashboards").glob("*.json"))


def _key(path: str, key) -> str:
    from generator.dashv2.report import join

    return join(path, key)


def structural_diff(a, b, path: str = "") -> list[str]:
    """The JSON paths where `a` and `b` differ: a key on one side only, a list of another
    length, a different scalar (type included: 0 is not false)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(_key(path, k))
            else:
                out += structural_diff(a[k], b[k], _key(path, k))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [path]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in structural_diff(x, y, _key(path, i))]
    return [] if a == b and type(a) is type(b) else [path]


def related(p: str, q: str) -> bool:
    """One path is the other or lies under it."""
    return p == q or any(long.startswith(short + sep) for short, long in ((p, q), (q, p)) for sep in ".[")


def roundtrip(file: Path):
    raw = load_dashboard(file.read_bytes(), str(file))
    source = normalize_dashboard(raw)
    spec, report = to_v2(raw)
    back, back_report = to_classic(spec, uid=source.get("uid"))
    return source, spec, report, normalize_dashboard(back), back_report


@pytest.mark.parametrize("file", OURS + REALWORLD, ids=lambda f: f.stem)
def test_roundtrip_gives_back_the_input_except_where_the_report_says(file):
    source, spec, report, back, back_report = roundtrip(file)
    assert validate_v2(spec) == [], f"{file.name}: v2 output is not valid by the shipped schema"
    assert not back_report.entries, "our own v2 output converts back without loss"
    diffs = structural_diff(source, back)
    reported = [e.path for e in report.losses]
    unreported = [d for d in diffs if not any(related(r, d) for r in reported)]
    assert not unreported, f"{file.name}: differs but not reported: {unreported[:10]}"
    phantom = [e for e in report.losses if not any(related(e.path, d) for d in diffs)]
    assert not phantom, f"{file.name}: reported but the round trip keeps it: {[str(e) for e in phantom[:10]]}"
    kept = [e for e in report.entries if e.kind == KEPT]
    clobbered = [e for e in kept if any(related(e.path, d) for d in diffs)]
    assert not clobbered, f"{file.name}: said to be kept but lost: {[str(e) for e in clobbered[:10]]}"


@pytest.mark.parametrize("file", OURS, ids=lambda f: f.stem)
def test_our_dashboards_survive_the_roundtrip_exactly(file):
    source, _spec, report, back, _ = roundtrip(file)
    assert not report, report.lines()
    assert back == source


def test_angular_panel_keys_ride_in_options_and_come_back():
    """An old graph panel's keys have no v2 field; they are kept where Grafana keeps them."""
    file = ROOT / "tests" / "fixtures" / "realworld" / "dashboards" / "node-exporter-full-old.json"
    _source, spec, report, back, _ = roundtrip(file)
    graphs = [e for e in spec["elements"].values() if e["spec"]["vizConfig"]["group"] == "graph"]
    assert graphs
    stash = graphs[0]["spec"]["vizConfig"]["spec"]["options"]["__angularMigration"]
    assert stash["autoMigrateFrom"] == "graph" and "yaxes" in stash["originalOptions"]
    assert any(e.kind == KEPT and e.path.endswith(".yaxes") for e in report.entries)
    graph_back = next(p for row in back["panels"] for p in [row, *row.get("panels", [])] if p.get("type") == "graph")
    assert "yaxes" in graph_back and "__angularMigration" not in graph_back.get("options", {})
