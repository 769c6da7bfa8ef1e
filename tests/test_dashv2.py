"""The v1 <-> v2 dashboard converter: what maps to what, hand-made v2 dashboards, hostile input."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path

import pytest

from generator.dashv2 import (
    CHANGED,
    KEPT,
    LOST,
    V2_API_VERSION,
    is_v2,
    load_any,
    to_classic,
    to_v2,
    to_v2_resource,
    validate_v2,
)
from generator.normalize import DashboardInputError, normalize_dashboard

V2 = Path(__file__).resolve().parent / "fixtures" / "v2"


def fixture(name: str) -> dict:
    return json.loads((V2 / name).read_text(encoding="utf-8"))


def entries(report, kind=None) -> dict[str, str]:
    return {e.path: e.reason for e in report.entries if kind is None or e.kind == kind}


# --- hand-made v2 dashboards -> classic --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in V2.glob("*.json")))
def test_hand_made_v2_dashboards_are_valid_and_convert_to_classic_that_normalises_cleanly(name):
    doc = fixture(name)
    assert is_v2(doc)
    if doc.get("apiVersion", V2_API_VERSION) == V2_API_VERSION:  # the schema is v2's, not v2beta1's
        assert validate_v2(doc.get("spec", doc)) == []
    board, _ = load_any(doc)
    once = normalize_dashboard(board)
    assert normalize_dashboard(once) == once
    ids = [p["id"] for p in once["panels"]] + [c["id"] for p in once["panels"] for c in p.get("panels", [])]
    assert len(ids) == len(set(ids))


def test_auto_grid_is_laid_out_the_way_grafana_does_it():
    board, report = load_any(fixture("autogrid.json"))
    assert board["uid"] == "autogrid-demo"
    positions = {p["title"]: p["gridPos"] for p in board["panels"]}
    # maxColumnCount 2: 12 wide; "short" rows: 5 high; filled left to right
    assert positions == {
        "CPU": {"x": 0, "y": 0, "w": 12, "h": 5}, "Memory": {"x": 12, "y": 0, "w": 12, "h": 5},
        "Up ($job)": {"x": 0, "y": 5, "w": 12, "h": 5}, "Notes": {"x": 12, "y": 5, "w": 12, "h": 5},
        "Errors": {"x": 0, "y": 10, "w": 12, "h": 5},
    }
    repeated = next(p for p in board["panels"] if p["title"] == "Up ($job)")
    assert (repeated["repeat"], repeated["repeatDirection"], repeated["maxPerRow"]) == ("job", "h", 2)
    errors = next(p for p in board["panels"] if p["title"] == "Errors")
    assert (errors["maxDataPoints"], errors["interval"]) == (500, "1m")
    assert errors["datasource"] == {"type": "prometheus", "uid": "prom"}
    lost = entries(report, LOST)
    assert set(lost) == {"layout.spec.columnWidthMode", "layout.spec.columnWidth",
                         "layout.spec.items[3].spec.conditionalRendering"}
    assert "auto grid" in entries(report, CHANGED)["layout"]
    assert board["graphTooltip"] == 1 and board["refresh"] == "30s"
    assert board["timepicker"] == {"refresh_intervals": ["30s", "1m", "5m"]}


def test_tabs_become_rows_and_the_report_says_so():
    board, report = load_any(fixture("tabs.json"))
    shape = [(p["type"], p.get("title"), p["gridPos"]["y"], [c["title"] for c in p.get("panels", [])])
             for p in board["panels"]]
    assert shape == [
        ("row", "Service", 0, []), ("timeseries", "Requests", 1, []), ("timeseries", "Latency", 1, []),
        ("row", "Hosts", 9, []), ("row", "Disk", 10, []), ("bargauge", "Disk", 11, []),
        ("row", "Network", 17, ["Network"]),
    ]
    assert all(not p["collapsed"] for p in board["panels"][:5] if p["type"] == "row")
    assert "tabs become expanded rows" in entries(report, CHANGED)["layout"]
    assert "conditional rendering" in entries(report, LOST)["layout.spec.tabs[1].spec.conditionalRendering"]
    variable = board["templating"]["list"][0]
    assert variable["query"] == {"query": "label_values(up, instance)",
                                 "refId": "PrometheusVariableQueryEditor-VariableQuery"}
    assert (variable["refresh"], variable["sort"], variable["datasource"]) == (
        2, 1, {"type": "prometheus", "uid": "prom"})


def test_a_v2_dashboard_the_classic_model_can_hold_comes_back_unchanged():
    """Rows (header hidden, repeated, collapsed), panel repeats, a library panel, every
    variable kind but switch, annotations, links and time settings: v2 -> classic -> v2."""
    spec = fixture("rows-and-variables.json")
    board, report = to_classic(spec)
    assert not report.entries
    again, back = to_v2(board)
    assert again == spec
    assert not back, back.lines()
    kinds = {v["name"]: v["type"] for v in board["templating"]["list"]}
    assert kinds == {"datasource": "datasource", "job": "query", "quantile": "custom", "cluster": "constant",
                     "window": "interval", "filter": "textbox", "adhoc": "adhoc", "by": "groupby"}
    rows = [p for p in board["panels"] if p["type"] == "row"]
    assert [(r["title"], r["collapsed"], r.get("repeat")) for r in rows] == [
        ("Traffic of $job", False, "job"), ("Instances", True, None)]
    per_instance, library = rows[1]["panels"]
    assert (per_instance["repeat"], per_instance["repeatDirection"], per_instance["maxPerRow"]) == ("job", "v", 4)
    assert library["libraryPanel"] == {"uid": "slo-availability", "name": "SLO availability"}
    requests = board["panels"][2]
    assert [t.get("hide") for t in requests["targets"]] == [None, True]
    assert requests["transformations"] == [{"id": "organize", "options": {"excludeByName": {"Time": True}}}]
    job = board["templating"]["list"][1]
    assert (job["query"], job["hide"], job["sort"], job["allowCustomValue"]) == (
        "label_values(up, job)", 0, 5, False)


def test_a_grafana_12_v2beta1_export_reads_and_names_what_classic_cannot_hold():
    doc = fixture("v2beta1-export.json")
    assert validate_v2(doc["spec"])[0].startswith("elements/panel-1/spec/data/spec/")  # the Panel shape, named
    board, report = load_any(doc)
    assert board["uid"] == "beta-export"
    (panel,) = board["panels"]
    assert panel["transformations"] == [{"id": "merge", "options": {}}]
    assert panel["datasource"] == {"type": "datasource", "uid": "-- Mixed --"}
    assert [t["datasource"]["type"] for t in panel["targets"]] == ["prometheus", "loki"]
    switch = board["templating"]["list"][0]
    assert switch["current"] == {"text": "on", "value": "on"}
    assert [o["value"] for o in switch["options"]] == ["on", "off"]
    assert set(entries(report, LOST)) == {
        "elements.panel-1.spec.data.spec.queries[0].spec.query.labels",
        "elements.panel-1.spec.data.spec.queryOptions.timeTo",
        "elements.orphan",
    }


def test_v2alpha1_spellings_are_read():
    spec = fixture("rows-and-variables.json")
    element = spec["elements"]["panel-4"]
    query = element["spec"]["data"]["spec"]["queries"][0]["spec"]
    query["datasource"] = {"type": "prometheus", "uid": "alpha"}
    query["query"] = {"kind": "prometheus", "spec": query["query"]["spec"]}
    viz = element["spec"]["vizConfig"]
    element["spec"]["vizConfig"] = {"kind": "barchart", "spec": {**viz["spec"], "pluginVersion": "11.0.0"}}
    board, _ = to_classic(spec)
    errors = board["panels"][3]
    assert (errors["type"], errors["pluginVersion"]) == ("barchart", "11.0.0")
    assert errors["targets"][0]["datasource"] == {"type": "prometheus", "uid": "alpha"}


# --- classic -> v2 -----------------------------------------------------------------------------

def classic_board() -> dict:
    ds = {"type": "prometheus", "uid": "${datasource}"}
    return {
        "uid": "unit", "title": "Unit", "graphTooltip": 2, "editable": False, "tags": ["a"],
        "time": {"from": "now-3h", "to": "now"}, "timezone": "utc", "refresh": "5m", "weekStart": "sunday",
        "timepicker": {"refresh_intervals": ["5m"], "hidden": True, "nowDelay": "2m"},
        "schemaVersion": 42,
        "panels": [
            {"id": 10, "type": "timeseries", "title": "Rate", "datasource": ds,
             "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
             "repeat": "job", "repeatDirection": "v", "maxPerRow": 3, "maxDataPoints": 200, "timeShift": "1d",
             "targets": [{"refId": "A", "expr": "up", "datasource": ds, "hide": True}],
             "fieldConfig": {"defaults": {"unit": "s"}, "overrides": []}},
            {"id": 11, "type": "row", "title": "More", "collapsed": True, "repeat": "job",
             "gridPos": {"x": 0, "y": 8, "w": 24, "h": 1},
             "panels": [{"id": 12, "title": "Library", "gridPos": {"x": 0, "y": 9, "w": 6, "h": 4},
                         "libraryPanel": {"uid": "lib-1", "name": "Lib"}}]},
        ],
        "templating": {"list": [
            {"type": "datasource", "name": "datasource", "query": "prometheus", "refresh": 1, "hide": 2,
             "multi": False, "includeAll": False},
            {"type": "query", "name": "job", "query": "label_values(up, job)", "datasource": ds, "refresh": 2,
             "sort": 3, "hide": 1, "multi": True, "includeAll": True, "skipUrlSync": True},
            {"type": "interval", "name": "step", "query": "1m,5m", "auto": False, "auto_min": "10s", "auto_count": 30,
             "refresh": 2, "hide": 0},
        ]},
        "annotations": {"list": []},
    }


def test_classic_fields_land_where_v2_keeps_them():
    spec, report = to_v2(classic_board())
    assert validate_v2(spec) == []
    assert (spec["cursorSync"], spec["editable"], spec["tags"]) == ("Tooltip", False, ["a"])
    assert spec["timeSettings"] == {"from": "now-3h", "to": "now", "timezone": "utc", "autoRefresh": "5m",
                                    "fiscalYearStartMonth": 0, "weekStart": "sunday", "autoRefreshIntervals": ["5m"],
                                    "hideTimepicker": True, "nowDelay": "2m"}
    rate = spec["elements"]["panel-1"]["spec"]
    query = rate["data"]["spec"]["queries"][0]
    assert query == {"kind": "PanelQuery", "spec": {"refId": "A", "hidden": True, "query": {
        "kind": "DataQuery", "group": "prometheus", "version": "v0", "datasource": {"name": "${datasource}"},
        "spec": {"expr": "up"}}}}
    assert rate["data"]["spec"]["queryOptions"] == {"maxDataPoints": 200, "timeShift": "1d"}
    assert rate["vizConfig"]["group"] == "timeseries" and rate["vizConfig"]["spec"]["fieldConfig"]["defaults"] == {
        "unit": "s"}
    rows = spec["layout"]["spec"]["rows"]
    assert rows[0]["spec"]["hideHeader"] is True
    assert rows[0]["spec"]["layout"]["spec"]["items"][0]["spec"]["repeat"] == {
        "mode": "variable", "value": "job", "direction": "v", "maxPerRow": 3}
    more = rows[1]["spec"]
    assert (more["title"], more["collapse"], more["repeat"]) == ("More", True, {"mode": "variable", "value": "job"})
    (item,) = more["layout"]["spec"]["items"]
    assert (item["spec"]["y"], item["spec"]["element"]["name"]) == (0, "panel-3")
    assert spec["elements"]["panel-3"] == {"kind": "LibraryPanel", "spec": {
        "id": 3, "title": "Library", "libraryPanel": {"name": "Lib", "uid": "lib-1"}}}
    kinds = [(v["kind"], v["spec"]["hide"]) for v in spec["variables"]]
    assert kinds == [("DatasourceVariable", "hideVariable"), ("QueryVariable", "hideLabel"),
                     ("IntervalVariable", "dontHide")]
    job = spec["variables"][1]["spec"]
    assert (job["sort"], job["refresh"], job["skipUrlSync"]) == ("numericalAsc", "onTimeRangeChanged", True)
    assert job["query"]["spec"] == {"__legacyStringValue": "label_values(up, job)"}
    assert spec["variables"][0]["spec"]["pluginId"] == "prometheus"
    assert not report, report.lines()


def test_what_v2_cannot_hold_is_named_by_panel_and_field():
    board = classic_board()
    rate = board["panels"][0]
    rate["links"] = [{"title": "old", "type": "dashboard", "dashboard": "Other"}]  # no url: no v2 shape
    rate["fieldConfig"]["defaults"]["unitScale"] = False  # true is what every Grafana does: normalised away
    rate["lines"] = True  # an Angular-era key: kept, not lost
    board["style"] = "dark"
    board["templating"]["list"][1]["useTags"] = False
    _, report = to_v2(board)
    lost = entries(report, LOST)
    assert "does not fit" in lost["panels[0].links[0]"]
    assert "panels[0].links[0].dashboard" not in lost  # the whole link is named, not its parts
    assert set(lost) == {"panels[0].links[0]", "panels[0].fieldConfig.defaults.unitScale", "style",
                         "templating.list[1].useTags"}
    assert "panels[0].lines" in entries(report, KEPT)
    assert any(line.startswith("panel 1 'Rate': panels[0].fieldConfig.defaults.unitScale:")
               for line in report.lines())


def test_to_v2_resource_names_the_dashboard_by_its_uid():
    resource, _ = to_v2_resource(classic_board(), namespace="stacks-12")
    assert resource["apiVersion"] == V2_API_VERSION == "dashboard.grafana.app/v2"
    assert resource["kind"] == "Dashboard"
    assert resource["metadata"] == {"name": "unit", "namespace": "stacks-12"}
    assert is_v2(resource) and validate_v2(resource["spec"]) == []
    board, report = load_any(resource)
    assert board["uid"] == "unit" and not report


# --- recognising the forms ---------------------------------------------------------------------

def test_is_v2_and_load_any_tell_the_forms_apart():
    classic = classic_board()
    spec, _ = to_v2(classic)
    assert is_v2(spec) and not is_v2(classic)
    assert not is_v2([spec]) and not is_v2("elements") and not is_v2(None)
    v1 = {"apiVersion": "dashboard.grafana.app/v1beta1", "kind": "Dashboard", "metadata": {"name": "from-meta"},
          "spec": {k: v for k, v in classic.items() if k != "uid"}}
    assert not is_v2(v1)
    board, report = load_any(v1)
    assert board["uid"] == "from-meta" and not report.entries
    envelope = {"dashboard": classic, "meta": {"folderUid": "x"}}
    assert load_any(envelope)[0] is classic
    beta = {"apiVersion": "dashboard.grafana.app/v2beta1", "kind": "Dashboard", "metadata": {}, "spec": spec}
    assert is_v2(beta) and load_any(beta)[0]["title"] == "Unit"
    other_kind = {"apiVersion": "dashboard.grafana.app/v2", "kind": "LibraryPanel", "spec": {}}
    assert not is_v2(other_kind)


# --- hostile input -----------------------------------------------------------------------------

def _spec() -> dict:
    return copy.deepcopy(fixture("rows-and-variables.json"))


@pytest.mark.parametrize("breakage, path", [
    (lambda s: s.__setitem__("layout", {"kind": "FancyLayout", "spec": {}}), "layout"),
    (lambda s: s["layout"]["spec"]["rows"][1]["spec"]["layout"]["spec"]["items"][0]["spec"]["element"].__setitem__(
        "name", "panel-99"), "layout.spec.rows[1].spec.layout.spec.items[0].spec.element.name"),
    (lambda s: s.__setitem__("elements", ["panel-1"]), "elements"),
    (lambda s: s["layout"]["spec"].__setitem__("rows", "many"), "layout.spec.rows"),
    (lambda s: s["elements"]["panel-1"].__setitem__("kind", "Widget"), "elements.panel-1.kind"),
    (lambda s: s.__setitem__("variables", [1, 2]), "variables"),
    (lambda s: s["layout"]["spec"]["rows"][0]["spec"]["layout"]["spec"]["items"][0]["spec"].__setitem__("x", "left"),
     "layout.spec.rows[0].spec.layout.spec.items[0].spec.x"),
])
def test_a_malformed_v2_spec_is_an_error_that_names_the_path(breakage, path):
    spec = _spec()
    breakage(spec)
    with pytest.raises(DashboardInputError) as err:
        to_classic(spec)
    assert err.value.path == path


def test_deeply_nested_or_non_object_input_is_refused():
    deep: dict = {}
    node = deep
    for _ in range(150):
        node["x"] = {}
        node = node["x"]
    spec = _spec()
    spec["elements"]["panel-1"]["spec"]["vizConfig"]["spec"]["options"] = deep
    with pytest.raises(DashboardInputError, match="nested more than"):
        to_classic(spec)
    with pytest.raises(DashboardInputError):
        to_classic(["not", "a", "spec"])
    with pytest.raises(DashboardInputError):
        to_v2({"title": "x", "panels": "many"})


def test_unknown_enum_values_and_fields_in_v2_are_reported_not_trusted():
    spec = _spec()
    spec["cursorSync"] = "Everything"
    spec["variables"][2]["spec"]["hide"] = "sometimes"
    spec["elements"]["panel-1"]["spec"]["subtitle"] = "below the title"
    spec["layout"]["spec"]["rows"][2]["spec"]["variables"] = [spec["variables"][3]]
    board, report = to_classic(spec)
    lost = entries(report, LOST)
    assert set(lost) == {"cursorSync", "variables[2].spec.hide", "elements.panel-1.spec.subtitle",
                         "layout.spec.rows[2].spec.variables"}
    assert board["graphTooltip"] == 0 and board["templating"]["list"][2]["hide"] == 0


JUNK = ["", "x", 0, -3, 2.5, True, None, [], [1, "a"], {}, {"a": 1}, {"kind": "GridLayout"}]


def _paths(x, path=()):
    yield path
    items = x.items() if isinstance(x, dict) else enumerate(x) if isinstance(x, list) else ()
    for k, v in items:
        yield from _paths(v, (*path, k))


@pytest.mark.parametrize("seed", range(4))
def test_hostile_mutations_give_an_error_or_a_valid_result_never_a_crash(seed):
    """Junk put anywhere in our dashboards and the hand-made v2 ones: the conversion raises
    DashboardInputError or gives output that validates (v2) / normalises (classic)."""
    import random

    rng = random.Random(seed)
    root = Path(__file__).resolve().parents[1]
    classics = [json.loads(p.read_text()) for p in sorted((root / "rendered" / "dashboards").glob("*.json"))]
    v2s = [d.get("spec", d) for d in (fixture(p.name) for p in sorted(V2.glob("*.json")))]
    for n in range(40):
        to_v2_side = n % 2 == 0
        doc = copy.deepcopy(rng.choice(classics if to_v2_side else v2s))
        for _ in range(rng.randint(1, 3)):
            path = rng.choice([p for p in _paths(doc) if p])
            node = doc
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        try:
            out, _ = to_v2(doc) if to_v2_side else to_classic(doc)
        except DashboardInputError:
            continue
        if to_v2_side:
            assert validate_v2(out) == [], (seed, n)
        else:  # junk the v2 schema would refuse may still be refused here, by its classic path
            with contextlib.suppress(DashboardInputError):
                normalize_dashboard(out)


def test_junk_refids_and_panel_types_are_tolerated_as_grafana_does():
    board = classic_board()
    board["panels"][0]["targets"][0]["refId"] = {"not": "a string"}
    board["panels"][0]["type"] = ["timeseries"]
    spec, report = to_v2(board)
    query = spec["elements"]["panel-1"]["spec"]["data"]["spec"]["queries"][0]["spec"]
    assert query["refId"] == "A"  # a refId that is not a string is replaced, as a missing one is
    assert "panels[0].type" in entries(report, LOST)
