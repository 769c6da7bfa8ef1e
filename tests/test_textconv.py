"""`dashgen textconv` and the git setup: stable semantic text that `git diff` really uses."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.diff import rows_and_panels
from generator.normalize import normalize_dashboard
from generator.textconv import textconv

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "diff"
DASHBOARDS = sorted((REPO / "rendered" / "dashboards").glob("*.json"))
RULES = sorted((REPO / "rendered" / "alerts").glob("*.yaml"))


@pytest.mark.parametrize("path", DASHBOARDS + RULES, ids=lambda p: p.name)
def test_output_is_stable(path):
    data = path.read_bytes()
    first = textconv(data)
    assert first == textconv(data)
    assert first != data and first.endswith(b"\n")


def test_volatile_fields_do_not_change_the_text():
    """ids, version, key order: the twin fixture reads exactly like the original (refIds are kept:
    expressions, overrides and transformations name queries by them)."""
    assert textconv((FIX / "dash_old.json").read_bytes()) == textconv((FIX / "dash_volatile.json").read_bytes())


def test_golden_form_of_the_fixture():
    text = textconv((FIX / "dash_old.json").read_bytes()).decode()
    assert text.splitlines()[:2] == ['dashboard "Fixture / Service"', "  uid: raymontology-fixture"]
    block = text.split('panel "Errors / 5xx ratio"\n', 1)[1].split("\npanel ", 1)[0]
    assert block.splitlines()[:7] == [
        "  row: Errors",
        "  title: 5xx ratio",
        "  type: stat",
        "  position: x=0 y=0 in row, 6x4",
        "  unit: percentunit",
        "  thresholds (absolute): green base, orange from 0.1 %, red from 1 %",
        '  query A: sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    ]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_has_a_named_block_and_no_ids(path):
    text = textconv(path.read_bytes()).decode()
    _rows, items = rows_and_panels(normalize_dashboard(json.loads(path.read_text())))
    for i in items:
        assert f'panel "{i.row} / {i.title}"' in text
    assert not re.search(r'"id": \d', text) and "\n  id:" not in text and "version" not in text


def test_rules_read_by_alert():
    text = textconv((FIX / "rules_old.yaml").read_bytes()).decode()
    assert "alert HighErrorRate  (group fixture-http)\n  group: fixture-http\n  alert: HighErrorRate\n  kind: alert\n" \
           "  expr: fixture:http_requests_5xx:ratio_rate5m > 0.01\n" \
           "  for: 5m\n  label severity: warning\n" in text
    assert "record fixture:http_requests:rate5m\n" in text


@pytest.mark.parametrize("data", [b"# Catalog\n", b"{not json", b"\xff\xfe binary", b"groups: [oops", b"[1, 2]\n"])
def test_other_content_passes_through(data):
    assert textconv(data) == data


def test_cli(tmp_path):
    res = CliRunner().invoke(main, ["textconv", str(FIX / "dash_old.json")])
    assert res.exit_code == 0
    assert res.output.encode() == textconv((FIX / "dash_old.json").read_bytes())


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "commit.gpgsign=false",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


HEALTH = "raymontology-system-health.json"


def committed_dashboard(tmp_path: Path) -> Path:
    """A repository with the committed .gitattributes and one rendered dashboard committed."""
    git(tmp_path, "init", "-q")
    shutil.copy(REPO / ".gitattributes", tmp_path / ".gitattributes")
    target = tmp_path / "rendered" / "dashboards" / HEALTH
    target.parent.mkdir(parents=True)
    shutil.copy(REPO / "rendered" / "dashboards" / HEALTH, target)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    subprocess.run([str(REPO / "scripts" / "git-setup"), f"'{sys.executable}' -m generator"], cwd=tmp_path,
                   check=True, capture_output=True)
    return target


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_diff_and_log_use_the_semantic_form(tmp_path):
    """The committed .gitattributes plus scripts/git-setup make git show thresholds, not JSON."""
    target = committed_dashboard(tmp_path)
    target.write_text(target.read_text().replace('"value": 0.001', '"value": 0.005'))

    out = git(tmp_path, "diff")
    assert "-  thresholds (absolute): green base, orange from 0.1 %, red from 1 %" in out
    assert "+  thresholds (absolute): green base, orange from 0.5 %, red from 1 %" in out
    assert '@@ panel "Service level / 5xx ratio (alert window)"' in out
    assert '"value"' not in out

    git(tmp_path, "commit", "-qam", "two")
    log = git(tmp_path, "log", "-p", "--format=%s")
    assert "+  thresholds (absolute): green base, orange from 0.5 %, red from 1 %" in log
    assert '"value": 0.005' in git(tmp_path, "log", "-p", "--no-textconv", "--format=%s")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_hunk_header_names_the_changed_panel_not_the_one_above(tmp_path):
    """A change on a panel's first changeable line (its position) still gets its own hunk header."""
    target = committed_dashboard(tmp_path)
    d = json.loads(target.read_text())
    _rows, items = rows_and_panels(normalize_dashboard(d))
    second = next(i for n, i in enumerate(items) if n and items[n - 1].row == i.row)
    for p in d["panels"]:
        for c in [p, *p.get("panels", [])]:
            if c.get("title") == second.panel["title"] and c.get("gridPos") == second.panel["gridPos"]:
                c["gridPos"]["h"] += 1
    target.write_text(json.dumps(d, indent=2))
    out = git(tmp_path, "diff")
    hunks = [ln for ln in out.splitlines() if ln.startswith("@@")]
    assert len(hunks) == 1 and hunks[0].endswith(f'@@ panel "{second.row} / {second.title}"'), out
