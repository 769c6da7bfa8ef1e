"""Issue 20: `dashgen diff A B` on two files, untitled rows paired by what they hold, and a
git textconv that never fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.dashv2 import to_classic
from generator.diff import diff_dashboard, diff_files, format_text
from generator.normalize import normalize_dashboard
from generator.textconv import textconv

ROOT = Path(__file__).resolve().parent.parent
V2 = ROOT / "tests" / "fixtures" / "v2" / "rows-and-variables.json"
REAL = ROOT / "tests" / "fixtures" / "realworld" / "dashboards" / "thanos-query.json"


def cli(*args):
    return CliRunner().invoke(main, ["--root", str(ROOT), *args])


def test_diff_of_two_dashboard_files_exits_1_and_names_the_change(tmp_path):
    b = json.loads(REAL.read_text())
    b["title"] = "Thanos / Query (edited)"
    (tmp_path / "b.json").write_text(json.dumps(b))
    r = cli("diff", str(REAL), str(tmp_path / "b.json"))
    assert r.exit_code == 1, r.output
    assert "title changed: Thanos / Query{+ (edited)+}" in r.stdout
    r = cli("diff", "--format", "markdown", str(REAL), str(tmp_path / "b.json"))
    assert r.exit_code == 1 and "dashgen diff (" in r.stdout and "b.json" in r.stdout
    assert cli("diff", str(REAL), str(REAL)).exit_code == 0


def test_a_v2_file_compares_with_its_classic_form(tmp_path):
    board, _report = to_classic(json.loads(V2.read_text()))
    (tmp_path / "classic.json").write_text(json.dumps(board))
    r = cli("diff", str(V2), str(tmp_path / "classic.json"))
    assert r.exit_code == 0, r.output
    board["panels"][0]["title"] = "Renamed"
    (tmp_path / "classic.json").write_text(json.dumps(board))
    r = cli("diff", str(V2), str(tmp_path / "classic.json"))
    assert r.exit_code == 1 and "Renamed" in r.stdout


def test_diff_of_two_rule_files(tmp_path):
    rule = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: {for_}\n"
    (tmp_path / "a.yaml").write_text(rule.format(for_="5m"))
    (tmp_path / "b.yaml").write_text(rule.format(for_="10m"))
    r = cli("diff", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    assert r.exit_code == 1 and "A" in r.stdout and "10m" in r.stdout


def test_diff_takes_two_files_or_none(tmp_path):
    r = cli("diff", str(REAL))
    assert r.exit_code == 2 and "two files" in r.stderr
    r = cli("diff", "--against", "HEAD", str(REAL), str(REAL))
    assert r.exit_code == 2


def test_identical_unparseable_files_are_no_difference(tmp_path):
    bad = b'{"uid": 1, "title": 2, "panels": "no"}'
    assert diff_files("a.json", bad, "b.json", bad) == []


def row(y: int) -> dict:
    return {"type": "row", "title": "", "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "collapsed": False, "panels": []}


def panel(title: str, expr: str, y: int) -> dict:
    return {"type": "timeseries", "title": title, "gridPos": {"x": 0, "y": y, "w": 12, "h": 8},
            "targets": [{"expr": expr, "refId": "A"}]}


def text(y: int) -> dict:
    return {"type": "text", "title": "", "gridPos": {"x": 0, "y": y, "w": 12, "h": 4}, "options": {"content": "hi"}}


def test_inserting_an_untitled_row_is_one_insertion_not_a_shuffle():
    old = {"uid": "u", "title": "T", "panels": [row(0), panel("A", "a", 1), row(9), text(10), row(14), panel("B", "b", 15)]}
    new = {"uid": "u", "title": "T", "panels": [row(0), panel("N", "n", 1), row(9), panel("A", "a", 10), row(18),
                                                text(19), row(23), panel("B", "b", 24)]}
    changes = diff_dashboard(normalize_dashboard(old), normalize_dashboard(new), "dashboards/u.json")
    assert [(c.kind, c.target) for c in changes] == [("added", "row"), ("added", "panel")], format_text(changes)
    assert changes[1].name == "N"


def test_textconv_never_fails_on_a_dashboard_it_cannot_model():
    for doc in ({"uid": "x", "title": 3, "panels": []},
                {"uid": "x", "panels": [{"type": "stat", "targets": "up"}]},
                {"uid": "x", "panels": [{"type": "stat", "fieldConfig": {"defaults": {"thresholds": {
                    "steps": [{"value": None}, {"value": 3}]}}}}]}):
        raw = json.dumps(doc).encode()
        out = textconv(raw, "rendered/dashboards/x.json").decode()
        head, _, rest = out.partition("\n")
        assert head.startswith("# dashgen textconv: rendered/dashboards/x.json cannot be shown semantically (")
        assert rest == raw.decode()
    deep = ("[" * 200 + "]" * 200).encode()
    out = textconv(b'{"uid": "x", "panels": ' + deep + b"}", "d.json")
    assert out.startswith(b"# dashgen textconv:")


@pytest.mark.parametrize("seed", range(4))
def test_a_diff_against_a_wrongly_typed_copy_never_tracebacks(seed):
    """A real dashboard against a copy with three values anywhere replaced by odd ones (a
    list of tags holding numbers, an override that is a string, a variable named by a list):
    the diff reports it in every format, or the normaliser names what it cannot read."""
    import random
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_import_hostile import _mutated

    from generator.diff.render import format_json, format_markdown
    from generator.errors import DashgenError

    rnd = random.Random(seed)
    files = sorted((Path(__file__).parent / "fixtures" / "realworld" / "dashboards").glob("*.json"))
    compared = 0
    for path in rnd.sample(files, 12):
        a = json.loads(path.read_text())
        try:
            old, new = normalize_dashboard(a), normalize_dashboard(_mutated(a, rnd))
        except DashgenError:
            continue
        changes = diff_dashboard(old, new, path.name)
        assert format_text(changes) is not None and format_markdown(changes) and format_json(changes)
        compared += 1
    assert compared
