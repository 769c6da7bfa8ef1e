"""Issue 20: imports people keep. Dashboards without a uid, odd positions and values, legacy
panels migrated the way Grafana migrates them, DATASOURCE reuse, re-import into a module."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from generator import panels as P  # noqa: E402
from generator.cli import main  # noqa: E402
from generator import importer  # noqa: E402
from generator.importer import ImportFailed, derived_uid  # noqa: E402
from repo_project import CATALOG, CONFIG  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402

PROM = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def import_dashboard(dashboard: dict, **options):
    return importer.import_dashboard(dashboard, CONFIG, CATALOG, **options)


def render_module(source: str, comments=None) -> dict:
    return importer.render_module(source, CONFIG, CATALOG, comments)


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


# --- legacy panels, migrated as Grafana migrates them -------------------------------------------

from generator.importer.migrate import (angular_heatmap, graph_to_timeseries, migrate_dashboard, singlestat_to_stat,  # noqa: E402
                                        heatmap_leftovers, single_stat_field_options, table_old_to_table,
                                        text_options)


GRAPH = {
    "type": "graph", "title": "Requests", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
    "datasource": PROM, "targets": [{"expr": "sum(rate(up[5m])) by (job)", "refId": "A", "legendFormat": "{{job}}"}],
    "lines": True, "linewidth": 2, "fill": 3, "fillGradient": 0, "points": False, "pointradius": 2, "bars": False,
    "stack": True, "percentage": False, "steppedLine": True, "nullPointMode": "null", "dashes": False,
    "aliasColors": {"api": "#ff0000"},
    "seriesOverrides": [{"alias": "/err.*/", "transform": "negative-Y", "fill": 0, "zindex": 3},
                        {"alias": "db", "yaxis": 2}],
    "yaxes": [{"format": "reqps", "logBase": 10, "min": "0", "max": None, "show": True, "label": "req/s"},
              {"format": "s", "logBase": 1, "show": True}],
    "legend": {"show": True, "alignAsTable": True, "rightSide": True, "values": True, "avg": True, "current": True,
               "max": False, "hideZero": True},
    "tooltip": {"shared": True, "sort": 2},
    "thresholds": [{"op": "gt", "value": 80, "colorMode": "warning", "line": True, "fill": False},
                   {"op": "gt", "value": 95, "colorMode": "critical", "line": True, "fill": True}],
    "xaxis": {"mode": "time", "show": True},
}


def test_a_graph_becomes_the_time_series_grafana_makes_of_it():
    lost: list[str] = []
    ts = graph_to_timeseries(GRAPH, lost)
    d, custom = ts["fieldConfig"]["defaults"], ts["fieldConfig"]["defaults"]["custom"]
    assert ts["type"] == "timeseries" and d["unit"] == "reqps" and d["min"] == 0 and "max" not in d
    assert custom["scaleDistribution"] == {"type": "log", "log": 10} and custom["axisLabel"] == "req/s"
    assert custom["lineWidth"] == 2 and custom["fillOpacity"] == 30 and custom["showPoints"] == "never"
    assert custom["lineInterpolation"] == "stepAfter" and custom["spanNulls"] is True
    assert custom["stacking"] == {"mode": "normal", "group": "A"} and custom["thresholdsStyle"] == {"mode": "line+area"}
    assert d["thresholds"]["steps"] == [{"color": "transparent", "value": None}, {"color": "orange", "value": 80},
                                        {"color": "red", "value": 95}]
    assert ts["options"]["legend"] == {"displayMode": "table", "placement": "right", "calcs": ["mean", "lastNotNull"]}
    assert ts["options"]["tooltip"] == {"mode": "multi", "sort": "desc"}
    overrides = ts["fieldConfig"]["overrides"]
    assert overrides[0] == {"matcher": {"id": "byName", "options": "api"},
                            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "#ff0000"}}]}
    assert overrides[1]["matcher"] == {"id": "byRegexp", "options": "/err.*/"}
    assert {"id": "custom.transform", "value": "negative-Y"} in overrides[1]["properties"]
    assert {"id": "custom.fillOpacity", "value": 0} in overrides[1]["properties"]
    assert {"id": "unit", "value": "s"} in overrides[2]["properties"]  # the right axis' unit
    assert "series override '/err.*/': zindex" in lost and any("hideZero" in x for x in lost)


def test_a_singlestat_becomes_a_stat_or_a_gauge():
    ss = {"type": "singlestat", "title": "Up", "targets": [{"expr": "up", "refId": "A"}], "format": "percent",
          "decimals": 1, "valueName": "current", "thresholds": "50,80", "colors": ["green", "orange", "red"],
          "colorBackground": True, "sparkline": {"show": True}, "gauge": {"show": False},
          "valueMaps": [{"op": "=", "value": "0", "text": "Down"}], "mappingType": 1, "postfix": "x"}
    lost: list[str] = []
    stat = singlestat_to_stat(ss, lost)
    assert stat["type"] == "stat" and stat["options"]["colorMode"] == "background"
    assert stat["options"]["graphMode"] == "area" and stat["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
    d = stat["fieldConfig"]["defaults"]
    assert d["unit"] == "percent" and d["decimals"] == 1
    assert d["thresholds"]["steps"] == [{"color": "green", "value": None}, {"color": "orange", "value": 50},
                                        {"color": "red", "value": 80}]
    assert d["mappings"] == [{"type": "value", "options": {"0": {"text": "Down", "index": 0}}}]
    assert any("postfix 'x'" in x for x in lost)
    nulls = singlestat_to_stat({**ss, "valueMaps": [{"op": "=", "value": "null", "text": "N/A"}]}, [])
    assert nulls["fieldConfig"]["defaults"]["mappings"] == [  # as Grafana 8 converts old maps: a special match
        {"type": "special", "options": {"match": "null", "result": {"text": "N/A", "index": 0}}}]
    gauge = singlestat_to_stat({**ss, "gauge": {"show": True, "minValue": 0, "maxValue": 100}}, [])
    assert gauge["type"] == "gauge" and gauge["fieldConfig"]["defaults"]["max"] == 100


def test_imported_legacy_panels_are_factory_calls_and_the_report_names_the_losses(project, tmp_path):
    d = {"uid": "legacy", "title": "Legacy", "schemaVersion": 27, "panels": [GRAPH]}
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.timeseries"]
    assert [(m.old_type, m.new_type) for m in result.migrations] == [("graph", "timeseries")]
    assert 'legend_placement="right"' in result.source and "log=10" in result.source and "p.raw(" not in result.source
    assert render_module(result.source) == migrate_dashboard(normalize_dashboard(d))[0]
    src = tmp_path / "legacy.json"
    src.write_text(json.dumps(d))
    r = cli("import", str(src), root=project)
    assert r.exit_code == 0, r.output
    assert "migrated as Grafana does on load: 1 graph -> timeseries" in r.stderr
    assert "not kept: Requests: series override '/err.*/': zindex" in r.stderr
    r = cli("import", str(src), "--keep-legacy", root=project)
    assert r.exit_code == 0 and "p.raw(" in r.stdout and "migrated" not in r.stderr


def test_an_angular_text_panel_gets_its_content_in_options_as_grafana_moves_it():
    old = {"type": "text", "title": "Notes", "mode": "text", "content": "# Hi", "height": "100px", "span": 6,
           "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}}
    lost: list[str] = []
    new = text_options(old, lost)
    assert new["options"] == {"content": "# Hi", "mode": "markdown"}  # the dropped "text" mode reads as Markdown
    assert not {"content", "mode", "height", "span"} & new.keys()
    assert lost == ["height (the grid sets the size)", "span (the grid sets the size)"]
    current = {"type": "text", "title": "Notes", "options": {"content": "# Hi", "mode": "html"}}
    assert text_options(current, []) is None  # nothing to migrate
    both = {**current, "content": "old", "mode": "markdown"}  # saved after 7.1: its options win
    assert text_options(both, [])["options"] == {"content": "# Hi", "mode": "html"}


def test_text_panels_import_as_p_text_with_any_queries_they_carry():
    loki = {"refId": "A", "datasource": {"type": "loki", "uid": "logs"}, "expr": '{app="api"} |= "error"'}
    panels = [
        {"type": "text", "title": "Old", "mode": "html", "content": "<b>x</b>", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4}},
        {"type": "text", "title": "Code", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 4}, "fieldConfig": {},
         "options": {"mode": "code", "content": "SELECT 1", "code": {"language": "sql", "showLineNumbers": False,
                                                                      "showMiniMap": False}}},
        {"type": "text", "title": "Logs", "gridPos": {"x": 0, "y": 4, "w": 24, "h": 3}, "targets": [loki],
         "options": {"mode": "markdown", "content": "See {logs} \"here\""}}]
    d = {"uid": "texts", "title": "Texts", "schemaVersion": 39, "panels": panels}
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.text", "p.text", "p.text"]
    assert [(m.old_type, m.new_type) for m in result.migrations] == [("text", "text")]
    assert 'p.text("Old", "<b>x</b>", mode="html", w=12, h=4)' in result.source
    assert 'mode="code"' in result.source and 'language="sql"' in result.source
    assert "'loki'" in result.source or '"loki"' in result.source  # the Loki query kept as written
    assert render_module(result.source) == migrate_dashboard(normalize_dashboard(d))[0]


def test_p_text_writes_what_grafana_saves_and_refuses_an_unknown_mode():
    panel = P.panel_json(P.text("Read me", "Ask **#db**.", w=12, h=2))
    assert panel["type"] == "text" and panel["options"] == {"mode": "markdown", "content": "Ask **#db**."}
    assert panel["gridPos"]["w"] == 12 and panel["gridPos"]["h"] == 2 and "targets" not in panel
    code = P.panel_json(P.text("Query", "SELECT 1", mode="code", language="sql"))
    assert code["options"]["code"] == {"language": "sql", "showLineNumbers": False, "showMiniMap": False}
    with pytest.raises(ValueError, match="text mode 'text' is not one of markdown, html, code"):
        P.text("Old", "x", mode="text")


def test_a_text_panels_default_options_and_empty_field_config_normalise_away():
    saved = {"uid": "t", "title": "T", "panels": [
        {"type": "text", "title": "A", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 3},
         "fieldConfig": {"defaults": {}, "overrides": []},
         "options": {"mode": "markdown", "content": "x",
                     "code": {"language": "plaintext", "showLineNumbers": False, "showMiniMap": False}}}]}
    written = {"uid": "t", "title": "T", "panels": [
        {"type": "text", "title": "A", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 3}, "options": {"content": "x"}}]}
    assert normalize_dashboard(saved) == normalize_dashboard(written)


def test_unit_scale_true_is_what_every_grafana_does_and_imports_as_a_plain_call():
    """Grafana 10.3 wrote `unitScale: true` into every field config; it changes nothing, so it
    neither makes a diff nor forces a `p.override` on import."""
    saved = ts("Requests", "sum(rate(up[1m]))", {"x": 0, "y": 0, "w": 12, "h": 8}, unit="reqps", unitScale=True)
    plain = ts("Requests", "sum(rate(up[1m]))", {"x": 0, "y": 0, "w": 12, "h": 8}, unit="reqps")
    assert normalize_dashboard({"uid": "u", "panels": [saved]}) == normalize_dashboard({"uid": "u", "panels": [plain]})
    off = ts("Requests", "sum(rate(up[1m]))", {"x": 0, "y": 0, "w": 12, "h": 8}, unit="reqps", unitScale=False)
    assert normalize_dashboard({"uid": "u", "panels": [off]})["panels"][0]["fieldConfig"]["defaults"]["unitScale"] is False
    assert import_dashboard({"uid": "u", "title": "U", "panels": [saved]}).source == \
        import_dashboard({"uid": "u", "title": "U", "panels": [plain]}).source


ANGULAR_TABLE = {
    "type": "table", "title": "Offsets", "transform": "timeseries_aggregations",
    "columns": [{"text": "Current", "value": "current"}, {"text": "Max", "value": "max"}],
    "sort": {"col": 2, "desc": True}, "pageSize": 10, "fontSize": "100%", "scroll": True, "showHeader": True,
    "targets": [{"expr": "sum by (topic) (kafka_consumergroup_lag)", "refId": "A"}],
    "styles": [
        {"pattern": "Time", "type": "date", "alias": "When", "dateFormat": "YYYY-MM-DD HH:mm"},
        {"pattern": "/lag.*/", "type": "number", "unit": "short", "decimals": 0, "colorMode": "cell",
         "thresholds": ["100", "1000.5"], "colors": ["green", "orange", "red"], "align": "right"},
        {"pattern": "secret", "type": "hidden"},
        {"pattern": "/.*/", "type": "number", "unit": "none", "decimals": 2, "thresholds": [], "align": "auto",
         "mappingType": 1}]}


def test_an_angular_table_becomes_the_table_grafana_makes_of_it():
    lost: list[str] = []
    table = table_old_to_table(ANGULAR_TABLE, lost)
    assert table["type"] == "table" and not {"styles", "transform", "columns", "sort"} & table.keys()
    assert table["transformations"] == [{"id": "reduce", "options": {"reducers": ["lastNotNull", "max"],
                                                                     "includeTimeField": False}}]
    assert table["fieldConfig"]["defaults"] == {"unit": "none", "decimals": 2}
    when, lag, secret = table["fieldConfig"]["overrides"]
    assert when == {"matcher": {"id": "byName", "options": "Time"}, "properties": [
        {"id": "displayName", "value": "When"}, {"id": "unit", "value": "time: YYYY-MM-DD HH:mm"}]}
    assert lag["matcher"] == {"id": "byRegexp", "options": "/lag.*/"}
    assert {"id": "custom.cellOptions", "value": {"type": "color-background"}} in lag["properties"]
    assert {"id": "custom.align", "value": "right"} in lag["properties"]
    assert {"id": "thresholds", "value": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "orange", "value": 100}, {"color": "red", "value": 1000}]}} \
        in lag["properties"]
    assert secret["properties"] == []
    assert "style '/lag.*/': threshold '1000.5' read as 1000, as Grafana reads it" in lost
    assert "style 'secret': type hidden (Grafana's migration shows the column)" in lost
    assert "sort (the table sorts by a column's name: set sort_by)" in lost and "pageSize 10 (no table option)" in lost
    assert "style '/.*/': mappingType" in lost


def test_a_react_table_loses_only_the_angular_keys_it_never_read():
    modern = {"type": "table", "title": "T", "styles": [{"pattern": "/.*/"}], "transform": "table", "pageSize": 10,
              "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []}, "options": {"showHeader": True}}
    lost: list[str] = []
    table = table_old_to_table(modern, lost)
    assert table == {"type": "table", "title": "T", "fieldConfig": modern["fieldConfig"],
                     "options": {"showHeader": True}}
    assert lost == ["styles, transform, pageSize (the Angular table's; the table has not read them since Grafana 7.0)"]
    assert table_old_to_table({"type": "table", "title": "T", "options": {}}, []) is None


def test_a_gauge_saved_before_grafana_7_gets_its_field_options_moved():
    old = {"type": "gauge", "title": "CPU Busy", "targets": [{"expr": "up", "refId": "A"}],
           "options": {"orientation": "horizontal", "showThresholdMarkers": True, "fieldOptions": {
               "calcs": ["lastNotNull"], "values": False, "overrides": [],
               "defaults": {"unit": "percent", "title": "Busy", "nullValueMode": "null", "color": "blue",
                            "mappings": [{"id": 0, "op": "=", "text": "N/A", "type": 1, "value": "null"},
                                         {"id": 1, "op": "=", "text": "idle", "type": 1, "value": "0"},
                                         {"id": 2, "text": "high", "type": 2, "from": "90", "to": "100"}],
                            "thresholds": [{"color": "green", "value": None}, {"color": "red", "value": 95}]}}}}
    lost: list[str] = []
    gauge = single_stat_field_options(old, lost)
    d = gauge["fieldConfig"]["defaults"]
    assert "fieldOptions" not in gauge["options"] and gauge["options"]["orientation"] == "horizontal"
    assert gauge["options"]["reduceOptions"] == {"values": False, "calcs": ["lastNotNull"]}
    assert d["thresholds"] == {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                             {"color": "red", "value": 95}]}
    assert d["color"] == {"mode": "fixed", "fixedColor": "blue"} and d["displayName"] == "Busy"
    assert (d["min"], d["max"]) == (0, 100)  # a percent unit's range, as Grafana 8 reads an old one
    assert d["mappings"] == [{"type": "value", "options": {"0": {"text": "idle", "index": 1}}},
                             {"type": "special", "options": {"match": "null", "result": {"text": "N/A", "index": 0}}},
                             {"type": "range", "options": {"from": 90, "to": 100,
                                                           "result": {"text": "high", "index": 2}}}]
    assert lost == ["nullValueMode 'null' (no field option since 7.0)"]
    assert single_stat_field_options({"type": "gauge", "options": {"reduceOptions": {}}}, []) is None


def test_migrated_tables_and_gauges_import_as_factory_calls():
    old_gauge = {"type": "gauge", "title": "Busy", "gridPos": {"x": 0, "y": 0, "w": 6, "h": 6}, "datasource": PROM,
                 "targets": [{"expr": "max(up)", "refId": "A", "datasource": PROM}],
                 "options": {"fieldOptions": {"calcs": ["lastNotNull"], "defaults": {"unit": "percent"}}}}
    table = {**ANGULAR_TABLE, "gridPos": {"x": 6, "y": 0, "w": 18, "h": 6}, "datasource": PROM,
             "targets": [{**ANGULAR_TABLE["targets"][0], "datasource": PROM}]}
    d = {"uid": "old", "title": "Old", "schemaVersion": 22, "panels": [old_gauge, table]}
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.gauge", "p.table"], [(r.title, r.reason) for r in result.panels]
    assert [(m.old_type, m.new_type) for m in result.migrations] == [("gauge", "gauge"), ("table", "table")]
    assert "transformations=" in result.source and "overrides=" in result.source
    assert render_module(result.source) == migrate_dashboard(normalize_dashboard(d))[0]


def test_a_migrated_heatmap_loses_the_angular_keys_and_an_unmigrated_one_is_kept():
    options = {"calculate": False, "color": {"mode": "scheme", "scheme": "Spectral"}}
    saved = {"type": "heatmap", "title": "H", "options": options, "cards": {"cardPadding": 0},
             "dataFormat": "tsbuckets", "yAxis": {"format": "s"}, "fieldConfig": {"defaults": {}, "overrides": []}}
    lost: list[str] = []
    assert heatmap_leftovers(saved, lost) == {"type": "heatmap", "title": "H", "options": options,
                                              "fieldConfig": {"defaults": {}, "overrides": []}}
    assert lost == ["cards, dataFormat, yAxis (the Angular heatmap's; the heatmap reads its options instead)"]
    angular = {"type": "heatmap", "title": "H", "cards": {}, "dataFormat": "tsbuckets"}
    assert heatmap_leftovers(angular, [])["options"]["calculate"] is False  # never migrated: migrated now
    assert heatmap_leftovers({"type": "heatmap", "options": options}, []) is None


def test_an_angular_heatmap_becomes_the_heatmap_grafana_makes_of_it():
    old = {"type": "heatmap", "title": "Latency", "targets": [{"expr": "up", "refId": "A"}],
           "dataFormat": "timeseries", "yBucketSize": 0.5, "xBucketNumber": 30, "cards": {"cardPadding": 0, "cardRound": 2},
           "color": {"mode": "spectrum", "colorScheme": "interpolateRdYlGn", "cardColor": "#b4ff00", "colorScale": "linear",
                     "min": 10, "max": 1},
           "yAxis": {"format": "s", "logBase": 2, "splitFactor": 3, "show": True, "decimals": 1, "min": "0"},
           "reverseYBuckets": True, "tooltip": {"show": True, "showHistogram": False}, "tooltipDecimals": 2,
           "legend": {"show": False}, "hideZeroBuckets": True, "yBucketBound": "upper", "xAxis": {"show": False},
           "highlightCards": True}
    lost: list[str] = []
    new = angular_heatmap(old, lost)
    o = new["options"]
    assert new["type"] == "heatmap" and new["fieldConfig"] == {"defaults": {}, "overrides": []}
    assert o["calculate"] is True and o["calculation"] == {
        "xBuckets": {"mode": "count", "value": "30"},
        "yBuckets": {"mode": "count", "value": "3", "scale": {"type": "log", "log": 2}}}  # a log axis wins
    assert o["cellGap"] == 1 and o["cellRadius"] == 2  # no padding: the smallest gap
    assert o["color"]["scheme"] == "RdYlGn" and o["color"]["fill"] == "#b4ff00" and o["color"]["steps"] == 128
    assert (o["color"]["min"], o["color"]["max"], o["color"]["reverse"]) == (1, 10, True)  # swapped: reversed
    assert o["yAxis"] == {"axisPlacement": "left", "reverse": True, "unit": "s", "decimals": 1, "min": "0"}
    assert o["rowsFrame"] == {"layout": "ge"} and o["filterValues"] == {"le": 1e-9} and o["legend"] == {"show": False}
    assert o["tooltip"] == {"show": True, "yHistogram": False} and o["cellValues"] == {"decimals": 2}
    assert lost == ["color.colorScale 'linear' (the scheme's scale is exponential)",
                    "xAxis hidden (the heatmap always shows its time axis)"]
    opacity = angular_heatmap({"type": "heatmap", "color": {"mode": "opacity", "cardColor": "red"}}, [])
    assert opacity["options"]["color"]["mode"] == "opacity" and "scale" not in opacity["options"]["color"]


def test_pie_charts_are_p_piechart_calls_and_their_defaults_normalise_away():
    pie = P.panel_json(P.piechart("Codes", "Requests by status code.", P.target("sum by (code) (up)", "{{code}}"),
                                  "reqps", reduce="mean", legend_placement="right", legend_values=["percent"],
                                  pie_type="donut"))
    assert pie["type"] == "piechart" and pie["options"]["pieType"] == "donut"
    assert pie["options"]["reduceOptions"]["calcs"] == ["mean"]
    assert pie["options"]["legend"] == {"displayMode": "list", "placement": "right", "showLegend": True,
                                        "values": ["percent"]}
    saved = {"type": "piechart", "title": "P", "options": {"pieType": "pie", "displayLabels": [],
                                                           "legend": {"displayMode": "list", "placement": "bottom",
                                                                      "values": [], "showLegend": True},
                                                           "tooltip": {"mode": "single", "sort": "none"}},
             "fieldConfig": {"defaults": {"color": {"mode": "palette-classic"}, "custom": {
                 "hideFrom": {"legend": False, "tooltip": False, "viz": False}}}, "overrides": []}}
    bare = {"type": "piechart", "title": "P", "options": {"legend": {"showLegend": True}}}
    assert normalize_dashboard({"uid": "n", "panels": [saved]}) == normalize_dashboard({"uid": "n", "panels": [bare]})
    d = {"uid": "pie", "title": "Pie", "panels": [{**pie, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 6}}]}
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.piechart"]
    assert 'pie_type="donut"' in result.source and 'legend_values=["percent"]' in result.source
    assert render_module(result.source) == normalize_dashboard(d)


# --- re-import into the module that defines the dashboard -----------------------------------------


def edited_business(project: Path, title: str | None = None, threshold: float | None = None, extra: bool = False) -> Path:
    d = json.loads((project / "rendered" / "dashboards" / "raymontology-business.json").read_text())
    for panel in (q for p in d["panels"] for q in [p, *p.get("panels", [])]):
        if title and panel.get("title") == "Active users":
            panel["title"] = title
        for step in ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("thresholds", {}).get("steps", []):
            if threshold is not None and step.get("value") == 0.8:
                step["value"] = threshold
    if extra:
        d["panels"].append({"type": "text", "title": "New", "gridPos": {"x": 0, "y": 99, "w": 24, "h": 3},
                            "options": {"content": "x"}})
    path = project / "edited.json"
    path.write_text(json.dumps(d))
    return path


def test_reimport_rewrites_an_edited_literal_in_place_and_keeps_the_rest(project):
    module = project / "dashboards" / "business.py"
    before = module.read_text()
    src = edited_business(project, title="Active users (all windows)")
    r = cli("import", str(src), "--out", str(module), "--dry-run", root=project)
    assert r.exit_code == 0, r.output
    assert '-    trend = p.timeseries("Active users",' in r.stdout
    assert '+    trend = p.timeseries("Active users (all windows)",' in r.stdout
    assert module.read_text() == before  # --dry-run writes nothing
    r = cli("import", str(src), "--out", str(module), root=project)
    assert r.exit_code == 0, r.output
    after = module.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 1 and len(before.splitlines()) == len(after.splitlines())  # loops, docstring kept
    assert cli("render", root=project).exit_code == 0
    rendered = json.loads((project / "rendered" / "dashboards" / "raymontology-business.json").read_text())
    assert rendered == normalize_dashboard(json.loads(src.read_text()))


def test_reimport_adds_a_setting_the_ui_added_as_the_factorys_keyword(project):
    """noValue and a fixed colour set in the UI on a panel whose call has its title as a literal
    become keywords of that call (P.KEYWORD_PATHS), and nothing else in the module changes."""
    module = project / "dashboards" / "database.py"
    before = module.read_text()
    d = json.loads((project / "rendered" / "dashboards" / "raymontology-database.json").read_text())
    panel = next(p for p in d["panels"] if p.get("title") == "Connections used vs max")
    panel["fieldConfig"]["defaults"].update(noValue="no data yet", color={"mode": "fixed", "fixedColor": "blue"})
    src = project / "edited.json"
    src.write_text(json.dumps(d))
    r = cli("import", str(src), "--out", str(module), root=project)
    assert r.exit_code == 0, r.output
    assert "added as no_value='no data yet'" in r.stderr and "added as color=" in r.stderr
    after = module.read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 1 and 'no_value="no data yet"' in changed[0][1]
    assert cli("render", root=project).exit_code == 0
    rendered = json.loads((project / "rendered" / "dashboards" / "raymontology-database.json").read_text())
    assert rendered == normalize_dashboard(d)


def test_reimport_adds_a_keyword_on_its_own_line_in_an_imported_module(project):
    src = Path(__file__).parent / "fixtures" / "realworld" / "dashboards" / "nginx-rhp.json"
    module = project / "dashboards" / "nginx_rhp.py"
    assert cli("import", str(src), "--out", str(module), root=project).exit_code == 0
    before = module.read_text()
    assert cli("render", root=project).exit_code == 0
    uid = json.loads(src.read_text())["uid"]
    d = json.loads((project / "rendered" / "dashboards" / f"{uid}.json").read_text())
    panel = next(p for p in d["panels"] if p.get("type") == "timeseries")
    panel["fieldConfig"]["defaults"]["noValue"] = "idle"
    edited = project / "edited.json"
    edited.write_text(json.dumps(d))
    r = cli("import", str(edited), "--out", str(module), root=project)
    assert r.exit_code == 0, r.output
    added = [line for line in module.read_text().splitlines() if line not in before.splitlines()]
    assert [line.strip() for line in added] == ['no_value="idle",']
    assert cli("render", root=project).exit_code == 0
    assert json.loads((project / "rendered" / "dashboards" / f"{uid}.json").read_text()) == normalize_dashboard(d)


def test_reimport_names_the_config_field_a_ui_change_belongs_to(project):
    module = project / "dashboards" / "business.py"
    before = module.read_text()
    r = cli("import", str(edited_business(project, threshold=0.85)), "--out", str(module), root=project)
    assert r.exit_code == 1, r.output
    assert "the UI changed panel 'Average risk score'" in r.stderr
    assert "from 0.8 to 0.85, which is config field thresholds.high_risk_score: change it there" in r.stderr
    assert module.read_text() == before


def test_reimport_refuses_what_it_cannot_patch_and_shows_the_semantic_diff(project):
    module = project / "dashboards" / "business.py"
    before = module.read_text()
    r = cli("import", str(edited_business(project, extra=True)), "--out", str(module), root=project)
    assert r.exit_code == 2, r.output
    assert "New: panel added (text" in r.stdout and "cannot be made in place" in r.stderr and "--force" in r.stderr
    assert module.read_text() == before
    assert cli("import", str(edited_business(project, extra=True)), "--out", str(module), "--force",
               root=project).exit_code == 0
    assert module.read_text() != before


# --- queries of other data sources, keywords for what Grafana sets ------------------------------


LOKI = {"type": "loki", "uid": "logs"}


def test_typed_query_helpers_write_what_grafanas_query_editors_save():
    assert P.loki('{job="api"} |= "error"', "{{level}}", datasource=LOKI).to_json_data() == {
        "expr": '{job="api"} |= "error"', "legendFormat": "{{level}}", "queryType": "range", "datasource": LOKI}
    assert P.loki("{job=\"api\"}", query_type=None).to_json_data() == {"expr": "{job=\"api\"}"}  # as older Grafanas saved it
    es = P.elasticsearch("level:error", alias="errors").to_json_data()
    assert es["query"] == "level:error" and es["metrics"] == [{"id": "1", "type": "count"}]
    assert es["bucketAggs"][0]["type"] == "date_histogram" and es["timeField"] == "@timestamp"
    assert P.influx('SELECT mean("v") FROM "m"').to_json_data() == {
        "query": 'SELECT mean("v") FROM "m"', "rawQuery": True, "resultFormat": "time_series"}
    assert P.influx("from(bucket: \"b\")", raw_query=None, result_format=None).to_json_data() == {
        "query": "from(bucket: \"b\")"}  # Flux
    assert P.testdata("random_walk", seriesCount=4).to_json_data() == {"scenarioId": "random_walk", "seriesCount": 4}
    assert P.query({"type": "jaeger", "uid": "j"}, queryType="search", service="api").to_json_data() == {
        "queryType": "search", "service": "api", "datasource": {"type": "jaeger", "uid": "j"}}


def test_a_typed_query_keeps_every_key_in_a_house_dashboard_too():
    """The renderer strips grafanalib's legacy query keys, not the keys a query helper sets."""
    from generator.render import dashboard_json

    panel = P.timeseries("Errors", "Error lines.", [P.loki('{job="api"}', query="x", datasource=LOKI),
                                                    P.target("sum(up)", step=30)], "short", P.neutral())
    d = dashboard_json(P.dashboard(CONFIG, "t", "T", "", [P.row("R", panel)]))
    loki, prom = next(p for p in d["panels"] if p["type"] == "timeseries")["targets"]
    assert loki["query"] == "x" and loki["datasource"] == LOKI and loki["queryType"] == "range"
    assert prom["step"] == 30 and "intervalFactor" not in prom and "metric" not in prom


def test_queries_of_other_data_sources_import_as_typed_helper_calls():
    es = {"refId": "A", "datasource": {"type": "elasticsearch", "uid": "es"}, "query": "level:error",
          "metrics": [{"id": "1", "type": "count"}], "timeField": "@timestamp",
          "bucketAggs": [{"id": "2", "type": "terms", "field": "service"}]}
    jaeger = {"refId": "B", "datasource": {"type": "jaeger", "uid": "j"}, "queryType": "search", "service": "$svc"}
    panels = [
        ts("Log lines", '{job="api"}', {"x": 0, "y": 0, "w": 12, "h": 8}, unit="short"),
        {**ts("Errors", "x", {"x": 12, "y": 0, "w": 12, "h": 8}, unit="short"), "targets": [es, jaeger]}]
    panels[0]["targets"][0]["datasource"] = LOKI
    panels[0]["targets"][0]["queryType"] = "range"
    d = {"uid": "q", "title": "Q", "panels": panels}
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.timeseries", "p.timeseries"], [(r.title, r.reason) for r in result.panels]
    assert "p.loki(" in result.source and "C.sel" not in result.source.split("p.loki(")[1].split(")")[0]
    assert re.search(r'p\.elasticsearch\(\s*"level:error",', result.source)
    assert "bucket_aggs=" in result.source and "metrics=" not in result.source  # the default count stays implicit
    assert "p.query(" in result.source and 'service="$svc"' in result.source
    assert render_module(result.source) == normalize_dashboard(d)


def test_what_grafana_sets_beyond_a_factorys_own_arguments_becomes_keywords_not_an_override():
    panel = P.panel_json(P.gauge("Disk", "Disk used.", P.target("max(up)"), "percentunit", P.bad_above(0.8, 0.9)))
    panel["fieldConfig"]["defaults"]["color"] = {"mode": "fixed", "fixedColor": "blue"}
    panel["fieldConfig"]["defaults"]["thresholds"]["mode"] = "percentage"
    panel["fieldConfig"]["defaults"]["noValue"] = "no disk"
    panel["options"]["orientation"] = "horizontal"
    result = import_dashboard({"uid": "k", "title": "K", "panels": [panel]})
    assert [r.factory for r in result.panels] == ["p.gauge"]
    source = result.source
    assert 'color={"mode": "fixed", "fixedColor": "blue"}' in source
    assert 'threshold_mode="percentage"' in source and 'no_value="no disk"' in source
    assert 'orientation="horizontal"' in source and "p.override(" not in source
    assert render_module(source) == normalize_dashboard({"uid": "k", "title": "K", "panels": [panel]})


def test_factory_keywords_set_their_json_path_and_unknown_ones_fail():
    panel = P.panel_json(P.table("T", "", P.target("up", fmt="table", instant=True), "short", P.neutral(),
                                 filterable=True, no_value="none yet", transformations=[{"id": "reduce"}],
                                 sort_by="Value", sort_desc=False))
    assert panel["fieldConfig"]["defaults"]["custom"]["filterable"] is True
    assert panel["fieldConfig"]["defaults"]["noValue"] == "none yet"
    assert panel["transformations"] == [{"id": "reduce"}]  # instead of the organize the table makes
    assert panel["options"]["sortBy"] == [{"displayName": "Value", "desc": False}]
    removed = P.panel_json(P.stat("S", "", "up", "short", P.neutral(), orientation="auto", reduce_fields=None))
    assert "fields" not in removed["options"]["reduceOptions"]  # None removes what the factory wrote
    with pytest.raises(TypeError, match="unexpected keyword argument.*colour"):
        P.gauge("G", "", "up", "short", P.neutral(), colour="red")


def test_defaults_grafana_writes_on_save_normalise_away():
    """Table, gauge and bar gauge option defaults (their panelcfg schemas), Grafana 12.2's
    `showValues: false` and a `fieldMinMax: false` are what a panel without them shows."""
    def one(panel):
        return normalize_dashboard({"uid": "n", "panels": [panel]})["panels"][0]

    table = {"type": "table", "title": "T", "fieldConfig": {"defaults": {"custom": {
        "align": "auto", "cellOptions": {"type": "auto", "wrapText": False}, "inspect": False, "filterable": False,
        "footer": {"reducers": []}}, "color": {"mode": "thresholds"}, "fieldMinMax": False}, "overrides": []},
        "options": {"showHeader": True, "cellHeight": "sm", "frameIndex": 0, "sortBy": [],
                    "footer": {"show": False, "countRows": False, "reducer": [], "fields": ""}}}
    assert one(table) == one({"type": "table", "title": "T"})
    assert one({**table, "options": {"footer": {"show": True, "reducer": ["sum"]}}})["options"]["footer"] == {
        "show": True, "reducer": ["sum"]}  # a shown footer stays
    gauge = {"type": "gauge", "title": "G", "options": {"sizing": "auto", "orientation": "auto"},
             "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}}, "overrides": []}}
    assert one(gauge) == one({"type": "gauge", "title": "G"})
    bar = {"type": "bargauge", "title": "B", "options": {"displayMode": "gradient", "valueMode": "color",
                                                         "showUnfilled": True, "minVizHeight": 16, "minVizWidth": 8}}
    assert one(bar) == one({"type": "bargauge", "title": "B"})
    assert one({**bar, "options": {"displayMode": "lcd"}})["options"] == {"displayMode": "lcd"}
    series = ts("S", "up", {"x": 0, "y": 0, "w": 12, "h": 8})
    series["fieldConfig"]["defaults"]["custom"] = {"showValues": False}
    assert one(series) == one(ts("S", "up", {"x": 0, "y": 0, "w": 12, "h": 8}))


@pytest.mark.parametrize("call, written", [
    ('p.stat("T", "d", "up", "short", [])', 'p.stat("T", "d", "up", "short", [], no_value="n")'),
    ('p.stat("T", "d", "up", "short", [],)', 'p.stat("T", "d", "up", "short", [], no_value="n",)'),
    ('p.stat(\n    "T",\n    "d",\n    "up",\n    "short",\n    [],\n)',
     'p.stat(\n    "T",\n    "d",\n    "up",\n    "short",\n    [],\n    no_value="n",\n)'),
])
def test_a_keyword_the_ui_added_goes_where_the_calls_layout_wants_it(call, written):
    import ast

    from generator.importer import reimport

    source = f"x = {call}\n"
    patch = reimport.Patch(source, blocked=["panels[0].fieldConfig.defaults.noValue added"])
    incoming = {"panels": [{"title": "T", "fieldConfig": {"defaults": {"noValue": "n"}}}]}
    inserts = reimport._keyword_inserts(ast.parse(source), source, reimport._offsets(source), incoming, patch)
    for a, b, text in sorted(inserts, reverse=True):
        source = source[:a] + text + source[b:]
    assert source == f"x = {written}\n" and patch.blocked == []
