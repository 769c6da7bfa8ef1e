"""Semantic diff: fixture pairs with known changes give the expected reviewer lines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator import diff
from generator.units import format_value

FIX = Path(__file__).parent / "fixtures" / "diff"
DASH = "dashboards/raymontology-fixture.json"
RULES = "alerts/fixture-http.rules.yaml"


def tree(dash: str | None = None, rules: str | None = None) -> dict[str, bytes]:
    out = {}
    if dash:
        out[DASH] = (FIX / dash).read_bytes()
    if rules:
        out[RULES] = (FIX / rules).read_bytes()
    return out


@pytest.fixture(scope="module")
def changes() -> list[diff.Change]:
    return diff.diff_trees(tree("dash_old.json", "rules_old.yaml"), tree("dash_new.json", "rules_new.yaml"))


@pytest.fixture(scope="module")
def text(changes) -> list[str]:
    return diff.format_text(changes).splitlines()


@pytest.mark.parametrize("line", [
    'dashboard "Fixture / Service" (raymontology-fixture)',
    "  Errors / 5xx ratio: threshold orange 0.1 % -> 0.5 %",
    '  Errors / 5xx ratio: query A changed: sum(rate(http_requests_total{status=~"5.."}[[-5m-]{+10m+}]))'
    " / sum(rate(http_requests_total[[-5m-]{+10m+}]))",
    '  Errors / Requests per second: panel renamed "Request rate" -> "Requests per second"',
    "  Errors / Saturation: panel added (gauge, at x=12 y=1, 6x4)",
    "  Errors / Restarts: panel removed (stat)",
    "  Latency / Mean latency: moved from x=12 y=6 to x=0 y=6",
    "  Latency / Mean latency: unit s -> ms",
    "  Latency / P95 latency: moved from x=0 y=6 to x=12 y=6",
    '  Resources / CPU: moved from row "Latency" to row "Resources" (x=0 y=14 -> x=0 y=15)',
    "  Resources / CPU: resized from 12x8 to 24x8 (w x h)",
    "  Resources: row added",
    "  $job: label changed: [-Job-]{+Backend job+}",
    "rule group fixture-http (alerts/fixture-http.rules.yaml)",
    "  interval 1m -> 30s",
    "  HighErrorRate: expr changed: fixture:http_requests_5xx:ratio_rate5m > [-0.01-]{+0.05+}",
    "  HighErrorRate: for 5m -> 10m",
    "  HighErrorRate: severity warning -> critical",
    "  HighErrorRate: label team=backend added",
    "  HighErrorRate: annotation summary changed: More than [-1-]{+5+}% of API requests fail with 5xx.",
    "  TargetMissing: alert added (warning, for 3m): up == 0",
    "  Watchdog: alert removed",
    "  fixture:http_requests:rate5m: expr changed: sum by (job{+, handler+}) (rate(http_requests_total[5m]))",
])
def test_expected_lines(text, line):
    assert line in text


def test_nothing_else_is_reported(text):
    """Exactly the changes made in the fixture pair: unchanged panels and alerts stay silent."""
    assert text[-1] == "21 changes in 2 items"
    assert not [ln for ln in text if "SlowAPIResponse" in ln]
    assert not [ln for ln in text if "/ CPU" in ln and "unit" in ln]


def test_never_by_index(changes):
    rendered = diff.format_text(changes)
    assert "panels[" not in rendered and "[0]" not in rendered and "refId" not in rendered
    assert "version" not in rendered and '"id"' not in rendered


def test_only_volatile_fields_differ_gives_empty_diff():
    old, twin = tree("dash_old.json"), {DASH: (FIX / "dash_volatile.json").read_bytes()}
    assert json.loads(twin[DASH])["version"] != json.loads(old[DASH])["version"]
    assert diff.diff_trees(old, twin) == []
    assert diff.format_text([]) == "no differences\n"


def test_identical_trees_give_no_changes():
    both = tree("dash_new.json", "rules_new.yaml")
    assert diff.diff_trees(both, dict(both)) == []


def test_rendered_tree_against_itself_is_empty():
    rendered = diff.tree_from_dir(Path(__file__).parent.parent / "rendered")
    assert rendered and diff.diff_trees(rendered, dict(rendered)) == []


def test_threshold_values_follow_the_unit():
    assert format_value(0.001, "percentunit") == "0.1 %"
    assert format_value(0.999, "percentunit") == "99.9 %"
    assert format_value(0.2, "s") == "200 ms"
    assert format_value(86400, "s") == "1 d"
    assert format_value(300.0, "s") == "5 min"
    assert format_value(512 * 1024 * 1024, "bytes") == "512 MiB"
    assert format_value(5, "reqps") == "5 reqps"
    assert format_value(None, "s") == "base"


def test_word_diff_marks_only_the_changed_tokens():
    segs = diff.word_diff("rate(x[5m]) > 0.001", "rate(x[5m]) > 0.005")
    assert diff.marked_text(segs) == "rate(x[5m]) > [-0.001-]{+0.005+}"
    assert diff.marked_html(diff.word_diff("a < 1", "a < 2")) == "a &lt; <del>1</del><ins>2</ins>"


def test_markdown_has_a_collapsible_section_per_item(changes):
    md = diff.format_markdown(changes, title="dashgen diff (HEAD -> working tree)")
    assert md.startswith("### dashgen diff (HEAD -> working tree)\n")
    assert md.count("<details>") == md.count("</details>") == 2
    assert '<summary><b>dashboard "Fixture / Service" (raymontology-fixture)</b>: 12 changes</summary>' in md
    assert "<summary><b>rule group fixture-http (alerts/fixture-http.rules.yaml)</b>: 9 changes</summary>" in md
    assert "&gt; <del>0.01</del><ins>0.05</ins></code>" in md
    # the HTML parts are balanced: every <details> block parses as XML
    for block in md.split("<details>")[1:]:
        ET.fromstring("<details>" + block.split("</details>")[0] + "</details>")


def test_markdown_escapes_titles():
    old = json.loads((FIX / "dash_old.json").read_text())
    new = json.loads((FIX / "dash_old.json").read_text())
    new["panels"][1]["title"] = "Errors <b>& friends</b>"
    md = diff.format_markdown(diff.diff_trees({DASH: old}, {DASH: new}))
    assert "<b>& friends</b>" not in md
    assert "Errors &lt;b&gt;&amp; friends&lt;/b&gt;" in md


def test_markdown_without_changes():
    assert "No differences" in diff.format_markdown([])


def test_json_output_is_data(changes):
    doc = json.loads(diff.format_json(changes))
    assert doc["count"] == len(changes) == len(doc["changes"])
    threshold = [c for c in doc["changes"] if c["field"] == "threshold"]
    assert threshold == [{
        "kind": "changed", "target": "panel", "file": DASH, "parent": "Fixture / Service",
        "uid": "raymontology-fixture", "row": "Errors", "name": "5xx ratio", "location": "Errors / 5xx ratio",
        "field": "threshold", "old": 0.001, "new": 0.005, "marked": [],
        "message": "threshold orange 0.1 % -> 0.5 %",
    }]


def test_dashboards_added_removed_and_uid_change():
    old = json.loads((FIX / "dash_old.json").read_text())
    moved = dict(old, uid="raymontology-fixture-2")
    got = diff.diff_trees({DASH: old}, {"dashboards/raymontology-fixture-2.json": moved})
    assert [c.message for c in got] == ["uid raymontology-fixture -> raymontology-fixture-2"]
    got = diff.diff_trees({}, {DASH: old})
    assert [(c.kind, c.target, c.message) for c in got] == [("added", "dashboard", "dashboard added (6 panels)")]
    got = diff.diff_trees({DASH: old}, {})
    assert [(c.kind, c.target) for c in got] == [("removed", "dashboard")]


def test_repeated_alert_names_are_told_apart_by_severity():
    def doc(warn: str) -> dict:
        return {"groups": [{"name": "g", "rules": [
            {"alert": "HighCPUUsage", "expr": f"cpu > {warn}", "labels": {"severity": "warning"}},
            {"alert": "HighCPUUsage", "expr": "cpu > 0.95", "labels": {"severity": "critical"}},
        ]}]}

    got = diff.diff_trees({"alerts/g.rules.yaml": doc("0.8")}, {"alerts/g.rules.yaml": doc("0.85")})
    assert [(c.name, c.message) for c in got] == [
        ("HighCPUUsage (warning)", "expr changed: cpu > [-0.8-]{+0.85+}")]


def test_row_renamed_keeps_its_panels():
    old = json.loads((FIX / "dash_old.json").read_text())
    new = json.loads((FIX / "dash_old.json").read_text())
    new["panels"][4]["title"] = "Response times"
    got = diff.diff_trees({DASH: old}, {DASH: new})
    assert [(c.kind, c.target, c.message) for c in got] == [
        ("renamed", "row", 'row renamed "Latency" -> "Response times"')]


def test_rows_reordered():
    old = json.loads((FIX / "dash_new.json").read_text())
    new = json.loads((FIX / "dash_new.json").read_text())
    # move the Resources row (and its panel) to the top; everything else shifts down
    res, cpu = new["panels"][7], new["panels"][8]
    rest = new["panels"][:7]
    res["gridPos"]["y"], cpu["gridPos"]["y"] = 0, 1
    for p in rest:
        p["gridPos"]["y"] += 9
    new["panels"] = [res, cpu, *rest]
    got = diff.diff_trees({DASH: old}, {DASH: new})
    assert [(c.target, c.row, c.message) for c in got] == [
        ("row", "Resources", "row moved to the top (row 3 -> 1)")]


def test_a_new_runbook_section_is_named_by_its_own_heading():
    """Adding PostgresDeadlocks after RedisMemoryHigh: the text belongs to PostgresDeadlocks."""
    old = b"# Runbooks\n\n## RedisMemoryHigh\n\nFree memory.\n\n## Zed\n\nz\n"
    new = (b"# Runbooks\n\n## RedisMemoryHigh\n\nFree memory.\n\n## PostgresDeadlocks\n\nFind the lock.\n"
           b"\n## Zed\n\nz\n")
    got = diff.diff_trees({"docs/runbooks.md": old}, {"docs/runbooks.md": new})
    assert [(c.name, c.message) for c in got] == [("PostgresDeadlocks", "text changed (+2 -0 lines)")]


def test_added_panel_lists_its_unit_thresholds_and_queries(changes):
    (c,) = [c for c in changes if c.kind == "added" and c.name == "Saturation"]
    lines = c.message.splitlines()
    assert lines[0] == "panel added (gauge, at x=12 y=1, 6x4)"
    assert "unit: percent" in lines and any(ln.startswith("query A: ") for ln in lines)


def test_docs_derived_files_are_not_reported_but_runbooks_are():
    old = {"docs/catalog.md": b"a\n", "docs/x.svg": b"<svg/>", "docs/runbooks.md": b"# R\n## HighErrorRate\nold\n"}
    new = {"docs/catalog.md": b"b\n", "docs/x.svg": b"<svg />", "docs/runbooks.md": b"# R\n## HighErrorRate\nnew\n"}
    got = diff.diff_trees(old, new)
    assert [(c.file, c.name, c.message) for c in got] == [
        ("docs/runbooks.md", "HighErrorRate", "text changed (+1 -1 lines)")]


@pytest.mark.parametrize("old, new, marked", [
    ("PostgreSQL cannot be reached.", "PostgreSQL is unreachable.", "PostgreSQL [-cannot be reached-]{+is unreachable+}."),
    ("sum(a) by (x)", "avg(a) without (x)", "[-sum-]{+avg+}(a) [-by-]{+without+} (x)"),
    ("up == 0", "up == 0 or absent(up)", "up == 0{+ or absent(up)+}"),
    ('x{job="a"}', 'x{job="b"}', 'x{job=[-"a"-]{+"b"+}}'),
    # a change that is itself "+" or "-" is widened to its neighbours, never `[---]{+++}`
    ("a - b", "a + b", "[-a - b-]{+a + b+}"),
    ("x > 0.01", "x > -0.01", "x [-> 0.01-]{+> -0.01+}"),
    ("foo", "foo-bar", "[-foo-]{+foo-bar+}"),
])
def test_word_diff_keeps_both_sides(old, new, marked):
    segs = diff.word_diff(old, new)
    assert diff.marked_text(segs) == marked
    assert "".join(t for op, t in segs if op != "+") == old
    assert "".join(t for op, t in segs if op != "-") == new


def test_other_yaml_files_are_diffed_by_name():
    """rendered/alerting/: list items named by uid or name, short values as old -> new."""
    def doc(title: str, repeat: str) -> bytes:
        return (
            "apiVersion: 1\npolicies:\n- receiver: slack\n  routes:\n  - receiver: page\n"
            f"    repeat_interval: {repeat}\ncontactPoints:\n- name: slack\n  receivers:\n  - uid: s-0\n"
            f"    settings:\n      title: {title}\n"
        ).encode()

    got = diff.diff_trees({"alerting/x.yaml": doc("Raymontology Alert", "15m")},
                          {"alerting/x.yaml": doc("Raymontology alert", "30m")})
    assert [c.message for c in got] == [
        "contactPoints[slack].receivers[s-0].settings.title changed: Raymontology [-Alert-]{+alert+}",
        "policies[slack].routes[page].repeat_interval 15m -> 30m",
    ]


def test_alert_moved_to_another_group():
    def group(name: str, *alerts: str) -> dict:
        return {"groups": [{"name": name, "rules": [
            {"alert": a, "expr": "up == 0", "for": "5m", "labels": {"severity": "warning"}} for a in alerts]}]}

    old = {"alerts/a.rules.yaml": group("a", "ServiceDown", "TargetMissing"), "alerts/b.rules.yaml": group("b", "RedisDown")}
    new = {"alerts/a.rules.yaml": group("a", "ServiceDown"), "alerts/b.rules.yaml": group("b", "RedisDown", "TargetMissing")}
    new["alerts/b.rules.yaml"]["groups"][0]["rules"][1]["for"] = "3m"
    got = diff.diff_trees(old, new)
    assert [(c.parent, c.name, c.message) for c in got] == [
        ("b", "TargetMissing", "alert moved from group a"),
        ("b", "TargetMissing", "for 5m -> 3m"),
    ]
