"""Issue 20: imports people keep. Dashboards without a uid, odd positions and values, legacy
panels migrated the way Grafana migrates them, DATASOURCE reuse, re-import into a module."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from generator import panels as P  # noqa: E402
from generator.cli import main  # noqa: E402
from generator.importer import ImportFailed, derived_uid, import_dashboard, render_module  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402

PROM = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def cli(*args, root: Path, input=None):
    return CliRunner().invoke(main, ["--root", str(root), *args], input=input)


def ts(title: str, expr: str, grid: dict, **defaults) -> dict:
    return {"type": "timeseries", "title": title, "gridPos": grid, "datasource": PROM,
            "targets": [{"expr": expr, "refId": "A", "datasource": PROM}],
            "fieldConfig": {"defaults": defaults, "overrides": []}}


def mesh(**settings) -> dict:
    """Shaped like istio's mesh dashboard: no uid, a gridPos without x, an axis max of 1.01."""
    return {"title": "Mesh Overview", "schemaVersion": 39, **settings, "panels": [
        ts("Success rate", "sum(rate(up[5m]))", {"y": 0, "w": 12, "h": 8}, max=1.01, unit="percentunit"),
        ts("Requests", "sum(rate(up[1m]))", {"x": 12, "y": 0, "w": 12, "h": 8}, unit="reqps")]}


# --- uid, gridPos, odd values ---------------------------------------------------------------


def test_a_dashboard_without_uid_gets_one_from_the_file_name_and_renders(project, tmp_path):
    src = tmp_path / "Istio Mesh.json"
    src.write_text(json.dumps(mesh()))
    out = project / "dashboards" / "mesh.py"
    r = cli("import", str(src), "--out", str(out), root=project)
    assert r.exit_code == 0, r.output
    assert "(uid istio-mesh)" in r.stderr
    assert "note: the dashboard has no uid: it is 'istio-mesh', made from the file name 'Istio Mesh.json'" in r.stderr
    assert "uid None" not in r.stderr
    r = cli("render", root=project)
    assert r.exit_code == 0, r.output
    rendered = json.loads((project / "rendered" / "dashboards" / "istio-mesh.json").read_text())
    assert rendered["title"] == "Mesh Overview"


def test_a_dashboard_read_from_stdin_takes_its_uid_from_the_title(project):
    r = cli("import", "-", root=project, input=json.dumps(mesh()))
    assert r.exit_code == 0, r.output
    assert "made from the title 'Mesh Overview'" in r.stderr and '"uid": "mesh-overview"' in r.stdout


def test_no_usable_uid_is_a_clear_failure_not_a_module_that_cannot_render(project):
    r = cli("import", "-", root=project, input=json.dumps({**mesh(), "title": "!!!"}))
    assert r.exit_code == 1
    assert "the dashboard has no uid and neither its file name nor its title gives one" in r.stderr
    with pytest.raises(ImportFailed):
        derived_uid({"title": "///"}, "...json")


def test_derived_uids_follow_grafanas_rule():
    assert derived_uid({"title": "x"}, "Kafka: Strimzi (v2).JSON") == ("kafka-strimzi-v2", "the file name 'Kafka: Strimzi (v2).JSON'")
    uid, how = derived_uid({"title": "A" * 80}, None)
    assert uid == "a" * 40 and how.startswith("the title")


def test_a_gridpos_without_x_is_read_as_grafana_reads_it():
    norm = normalize_dashboard(mesh(uid="m"))
    assert norm["panels"][0]["gridPos"] == {"x": 0, "y": 0, "w": 12, "h": 8}
    result = import_dashboard(mesh(uid="m"))
    assert render_module(result.source) == norm


def test_a_float_axis_max_is_a_factory_argument_not_a_silent_fallback():
    panel = P.panel_json(P.timeseries("t", "", "up", "percentunit", P.neutral(), max=1.01, min=0.5))
    assert panel["fieldConfig"]["defaults"]["max"] == 1.01 and panel["fieldConfig"]["defaults"]["min"] == 0.5
    with pytest.raises(TypeError):
        P.timeseries("t", "", "up", "", P.neutral(), max="1")
    result = import_dashboard(mesh(uid="m"))
    first = result.panels[0]
    assert first.factory != "p.raw" or "fails" not in first.reason
