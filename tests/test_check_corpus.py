"""The broken-definition corpus: each case gives its own finding and exit 1; a failing module renders nothing."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from checks_fixtures import CORPUS, cli

#: case folder -> (the check that must report it, the file it must point at)
CASES = {
    "bad_promql": ("promql/parse", "dashboards/board.py"),
    "unknown_metric": ("catalog/unknown-metric", "dashboards/board.py"),
    "unknown_label": ("catalog/unknown-label", "dashboards/board.py"),
    "duplicate_uid": ("dashboard/uid-unique", "dashboards/second.py"),
    "overlapping_panels": ("dashboard/grid-overlap", "dashboards/board.py"),
    "rate_on_gauge": ("catalog/rate-on-gauge", "dashboards/board.py"),
    "missing_unit": ("dashboard/panel-unit", "dashboards/board.py"),
    "alert_without_severity": ("rule/severity", "alerts/rules.py"),
    "missing_runbook": ("rule/runbook", "alerts/rules.py"),
    "module_raises": ("definitions/load", "dashboards/board.py"),
}


def test_every_case_has_a_folder():
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_definition_gives_its_finding_and_exit_1(case):
    expected, file = CASES[case]
    code, out = cli("--root", str(CORPUS / case), "check", "--format", "json")
    assert code == 1, out
    report = json.loads(out)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    # Exactly the one defect: every other check is clean on these small projects.
    assert {f["check"] for f in errors} == {expected}, errors
    assert all(f["location"]["file"] == file for f in errors)
    assert report["summary"]["errors"] == len(errors) >= 1


def test_text_output_names_check_location_and_message():
    code, out = cli("--root", str(CORPUS / "unknown_metric"), "check")
    assert code == 1
    line = next(ln for ln in out.splitlines() if ln.startswith("error:"))
    assert "[catalog/unknown-metric]" in line
    assert 'dashboards/board.py, dashboard broken-unknown-metric, panel "Requests"' in line
    assert "http_request_total" in line and "did you mean http_requests_total" in line


def test_parse_error_reports_query_and_parser_message():
    code, out = cli("--root", str(CORPUS / "bad_promql"), "check", "--format", "json")
    (f,) = [f for f in json.loads(out)["findings"] if f["check"] == "promql/parse"]
    assert f["location"]["dashboard"] == "broken-bad-promql" and f["location"]["panel"] == "Requests"
    assert "unclosed left parenthesis" in f["message"]
    assert "[$__rate_interval]" in f["message"]  # the query as written, not only as sent


def _digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_render_leaves_rendered_untouched_when_a_module_fails(tmp_path):
    root = tmp_path / "module_raises"
    shutil.copytree(CORPUS / "module_raises", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "rendered" / "dashboards").mkdir(parents=True)
    (root / "rendered" / "dashboards" / "broken-module-raises.json").write_text('{"previous": true}\n')
    before = _digest(root / "rendered")
    code, out = cli("--root", str(root), "render")
    assert code == 1
    assert _digest(root / "rendered") == before
    assert sorted(p.name for p in root.iterdir()) == ["alerts", "dashboards", "monitoring", "rendered"]  # no staging left
