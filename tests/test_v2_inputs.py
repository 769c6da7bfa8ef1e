"""v2 JSON (a Grafana 13 export, a v2 resource, a bare v2 spec) accepted by textconv, the
file diff and import: each converts it to the classic model offline (generator.dashv2)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from generator.dashv2 import to_v2_resource
from generator.diff.trees import diff_trees
from generator.normalize import DashboardInputError, load_dashboard
from generator.textconv import textconv

REPO = Path(__file__).resolve().parent.parent
V2 = Path(__file__).parent / "fixtures" / "v2"
RENDERED = REPO / "rendered" / "dashboards" / "raymontology-business.json"


def v2_export_of(path: Path) -> bytes:
    resource, _ = to_v2_resource(json.loads(path.read_text()), namespace="stacks-1")
    return json.dumps(resource).encode()


def test_textconv_of_a_v2_export_is_the_text_of_the_classic_dashboard():
    classic = textconv(RENDERED.read_bytes(), "raymontology-business.json")
    assert textconv(v2_export_of(RENDERED), "raymontology-business.json") == classic
    spec = json.loads(v2_export_of(RENDERED))["spec"]  # a bare v2 spec too
    assert textconv(json.dumps(spec).encode(), "x.json").splitlines()[0] == classic.splitlines()[0]


def test_load_dashboard_converts_and_reports_the_losses():
    losses: list = []
    board = load_dashboard((V2 / "v2beta1-export.json").read_bytes(), "v2beta1-export.json", losses=losses)
    assert board["uid"] == "beta-export" and board["title"] == "Exported from Grafana 12"
    assert "panels" in board and all(hasattr(e, "reason") for e in losses)
    classic_resource = {"apiVersion": "dashboard.grafana.app/v1", "kind": "Dashboard",
                        "metadata": {"name": "abc"}, "spec": {"title": "T", "panels": []}}
    assert load_dashboard(json.dumps(classic_resource)) == {"title": "T", "panels": [], "uid": "abc"}
    try:
        load_dashboard(json.dumps({"apiVersion": "dashboard.grafana.app/v2", "kind": "Dashboard",
                                   "metadata": {"name": "x"}, "spec": {"elements": {}, "layout": {"kind": "Nope"}}}),
                       "bad.json")
    except DashboardInputError as exc:
        assert "bad.json" in str(exc) and "layout" in str(exc)
    else:
        raise AssertionError("an unknown layout kind must be refused")


def test_the_file_diff_compares_a_v2_export_with_the_classic_file_as_equal():
    name = "dashboards/raymontology-business.json"
    assert diff_trees({name: RENDERED.read_bytes()}, {name: v2_export_of(RENDERED)}) == []


def test_import_accepts_a_grafana_13_export(tmp_path):
    src = tmp_path / "export.json"
    src.write_bytes(v2_export_of(RENDERED))
    r = CliRunner().invoke(main, ["--root", str(REPO), "import", str(src)])
    assert r.exit_code == 0, r.output
    assert "def build(cfg: Config)" in r.stdout
    direct = CliRunner().invoke(main, ["--root", str(REPO), "import", str(RENDERED)])
    # the same module as from the classic file
    assert direct.stdout.replace(RENDERED.name, "export.json") == r.stdout
