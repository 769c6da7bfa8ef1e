"""`dashgen check --baseline`: accept today's findings so an adopted project's gate is green,
and still fail on anything new."""

from __future__ import annotations

import shutil
import tomllib

import pytest

from checks_fixtures import CORPUS, cli
from generator.checks import ERROR, Finding, Location
from generator.checks.exclusions import append_baseline, baseline, load_exclusions, toml_string


@pytest.fixture
def unknown_metric(tmp_path):
    """A copy of the broken corpus' project whose one dashboard queries a metric not in the catalog."""
    root = tmp_path / "project"
    shutil.copytree(CORPUS / "unknown_metric", root)
    return root


def test_a_baseline_makes_the_gate_green_and_a_new_finding_still_fails(unknown_metric):
    root = unknown_metric
    assert cli("--root", str(root), "check")[0] == 1
    code, out = cli("--root", str(root), "check", "--baseline")
    assert code == 0, out
    assert "1 exclusion added, covering" in out
    (entry,) = tomllib.loads((root / "dashgen-check.toml").read_text())["exclude"]
    assert entry["check"] == "catalog/unknown-metric"
    assert entry["dashboard"] == "broken-unknown-metric" and entry["file"] == "dashboards/board.py"
    assert "panel" not in entry and "http_request_total" in entry["reason"] and "delete this entry" in entry["reason"]
    code, out = cli("--root", str(root), "check")
    assert code == 0 and "0 errors" in out and "excluded" in out, out

    # A different defect on the same dashboard is not covered: the gate fails on it.
    board = root / "dashboards" / "board.py"
    board.write_text(board.read_text().replace("http_request_total", "http_request_total{code=~\"5..\"", 1))
    code, out = cli("--root", str(root), "check")
    assert code == 1 and "[promql/parse]" in out, out


def test_a_fixed_finding_leaves_its_entry_reported_unused(unknown_metric):
    root = unknown_metric
    assert cli("--root", str(root), "check", "--baseline")[0] == 0
    board = root / "dashboards" / "board.py"
    board.write_text(board.read_text().replace("http_request_total", "http_requests_total"))
    code, out = cli("--root", str(root), "check")
    assert code == 1 and "[exclusions/unused]" in out and "remove it" in out, out


def test_the_file_is_appended_to_with_its_comments_and_entries_kept(unknown_metric):
    """The user's text stays byte for byte; a stale entry of theirs is still reported."""
    root = unknown_metric
    own = ('# our accepted findings\n[[exclude]]\ncheck = "dashboard/panel-unit"\ndashboard = "broken-unknown-metric"\n'
           'reason = "Counts have no unit."')  # no final newline
    (root / "dashgen-check.toml").write_text(own)
    code, out = cli("--root", str(root), "check", "--baseline")
    # The file's own entry matches nothing: a baseline never hides that (nor removes the entry).
    assert code == 1 and "[exclusions/unused]" in out and "1 exclusion added" in out, out
    text = (root / "dashgen-check.toml").read_text()
    assert text.startswith(own + "\n\n[[exclude]]\n")
    assert [e.check for e in load_exclusions(root / "dashgen-check.toml")] == [
        "dashboard/panel-unit", "catalog/unknown-metric"]


def test_nothing_to_accept_writes_nothing(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(CORPUS / "unknown_metric", root)
    board = root / "dashboards" / "board.py"
    board.write_text(board.read_text().replace("http_request_total", "http_requests_total"))
    code, out = cli("--root", str(root), "check", "--baseline")
    assert code == 0 and "no error findings to accept" in out, out
    assert not (root / "dashgen-check.toml").exists()


def test_a_module_that_does_not_load_is_no_baseline(tmp_path):
    root = tmp_path / "project"
    shutil.copytree(CORPUS / "module_raises", root)
    code, out = cli("--root", str(root), "check", "--baseline")
    assert code == 1 and "[definitions/load]" in out, out
    assert not (root / "dashgen-check.toml").exists()


def test_a_symlinked_exclusions_file_is_refused(unknown_metric, tmp_path):
    target = tmp_path / "elsewhere.toml"
    target.write_text("")
    (unknown_metric / "dashgen-check.toml").symlink_to(target)
    code, out = cli("--root", str(unknown_metric), "check", "--baseline")
    assert code == 2 and target.read_text() == ""


HOSTILE = ['a "quoted" title', "back\\slash", "new\nline", "tab\tand\rcr", "nul\x00", "del\x7f",
           "emoji 😀 and 한국어", ']]\n[[exclude]]\ncheck = "*"', "\u202eright-to-left", "'single'"]


@pytest.mark.parametrize("text", HOSTILE)
def test_any_string_is_one_toml_string(text):
    assert tomllib.loads(f"k = {toml_string(text)}")["k"] == text


def test_hostile_names_round_trip_and_match_their_findings(tmp_path):
    """Dashboard uids, panel titles and messages come from anyone's dashboards: every entry reads
    back as written and matches exactly the findings it was made from."""
    findings = [Finding("dashboard/panel-unit", ERROR, Location(file=f"dashboards/d{i}.py", dashboard=name, panel=name),
                        f"panel {name!r} has no unit") for i, name in enumerate(HOSTILE)]
    findings.append(Finding("rule/runbook", ERROR, Location(file="alerts/a.py", group="g\n", rule='R"'), "no runbook"))
    path = tmp_path / "dashgen-check.toml"
    assert append_baseline(path, findings) == (len(HOSTILE) + 1, len(HOSTILE) + 1)
    entries = load_exclusions(path)
    assert len(entries) == len(findings)
    for e, f in zip(entries, findings):
        assert e.matches(f) and sum(e.matches(g) for g in findings) == 1


def test_one_entry_per_check_and_place_counting_its_findings():
    loc = Location(file="dashboards/a.py", dashboard="a", panel="p1")
    findings = [Finding("dashboard/panel-unit", ERROR, loc, "no unit"),
                Finding("dashboard/panel-unit", ERROR, Location(file="dashboards/a.py", dashboard="a", panel="p2"), "x"),
                Finding("dashboard/panel-description", ERROR, loc, "no description"),
                Finding("dashboard/panel-unit", "warning", loc, "a warning is not an error"),
                Finding("exclusions/unused", ERROR, Location(file="dashgen-check.toml"), "stale")]
    entries = baseline(findings)
    assert [t["check"] for t, _r in entries] == ["dashboard/panel-unit", "dashboard/panel-description"]
    assert entries[0][1].startswith("Baseline taken by `dashgen check --baseline`: 2 findings (the first: panel 'p1': no unit)")
    assert "1 finding (panel 'p1': no description). Fix it," in entries[1][1]
