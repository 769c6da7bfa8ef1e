"""What the issue asks of the rendered dashboards: modern JSON, datasource variable, units, links."""

from __future__ import annotations

import json

import pytest

from generator.normalize import SCHEMA_VERSION, normalize_dashboard
from generator.render import build_outputs

LEGACY = {"rows", "span", "gnetId", "hideControls", "style", "sharedCrosshair", "__inputs", "minSpan",
          "height", "error", "cacheTimeout", "intervalFactor", "step", "metric", "maxDataPoints", "editable"}
SERVER_SET = {"id", "version", "iteration"}
UIDS = {"raymontology-system-health", "raymontology-business", "raymontology-database"}


@pytest.fixture(scope="module")
def dashboards(root):
    _loaded, boards = build_outputs(root)
    return {d["uid"]: d for _rel, d in boards}


def walk(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,), k, v
            yield from walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, path + (i,))


def test_the_three_dashboards(dashboards):
    assert UIDS <= set(dashboards)


def test_modern_json_without_nulls_or_legacy_fields(dashboards):
    for uid, d in dashboards.items():
        assert d["schemaVersion"] == SCHEMA_VERSION in (41, 42)
        assert not SERVER_SET & set(d), uid
        for path, key, value in walk(d):
            base_step = path[-4:-2] == ("thresholds", "steps") and path[-2] == 0 and key == "value"
            assert value is not None or base_step, f"{uid}: null at {path}"  # Grafana's base step is null
            if path[0] == "panels" and path[-2:-1] not in (("excludeByName",), ("renameByName",)):
                assert key not in LEGACY, f"{uid}: {path}"
        for p in d["panels"]:
            for t in p.get("targets", []):
                assert not {"query", "target", "alias"} & set(t), (uid, p["title"])


def test_datasource_variable_and_refs(dashboards):
    for uid, d in dashboards.items():
        variables = {v["name"]: v for v in d["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (uid, p["title"])
            for t in p["targets"]:
                assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_every_panel_has_title_description_unit_thresholds(dashboards):
    for uid, d in dashboards.items():
        for p in d["panels"]:
            if p["type"] == "row":
                assert p["title"]
                continue
            defaults = p["fieldConfig"]["defaults"]
            assert p["title"] and p.get("description"), (uid, p.get("title"))
            assert defaults.get("unit"), (uid, p["title"])
            if p["type"] != "heatmap":
                assert defaults["thresholds"]["steps"], (uid, p["title"])


def test_stable_ids_and_ref_ids(dashboards):
    for d in dashboards.values():
        ids = [p["id"] for p in d["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        for p in d["panels"]:
            refs = [t["refId"] for t in p.get("targets", [])]
            assert refs == [chr(65 + i) for i in range(len(refs))]


def test_grid_fits_and_rows_group_panels(dashboards):
    for uid, d in dashboards.items():
        cells = set()
        assert d["panels"][0]["type"] == "row"
        for p in d["panels"]:
            g = p["gridPos"]
            assert 0 <= g["x"] and g["x"] + g["w"] <= 24, (uid, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    assert (x, y) not in cells, f"{uid}: {p['title']} overlaps another panel"
                    cells.add((x, y))


def test_link_bar_reaches_the_other_dashboards(dashboards):
    for d in dashboards.values():
        (link,) = d["links"]
        assert link["type"] == "dashboards" and link["tags"] == ["raymontology"]
        assert "raymontology" in d["tags"]


def test_normalize_is_idempotent_and_drops_server_fields(dashboards):
    for d in dashboards.values():
        assert normalize_dashboard(d) == d
        remote = json.loads(json.dumps(d))
        remote.update(id=42, version=7, iteration=123)
        remote["panels"][1]["pluginVersion"] = "12.0.0"
        remote["panels"][1]["id"] = 99
        assert normalize_dashboard(remote) == d


@pytest.mark.parametrize("uid,title", [
    ("raymontology-system-health", "5xx error ratio"),
    ("raymontology-system-health", "P95 latency"),
    ("raymontology-system-health", "Uptime"),
    ("raymontology-business", "Risk score distribution"),
    ("raymontology-database", "Pool checked out vs size"),
    ("raymontology-database", "Redis memory used vs max"),
])
def test_seed_panels_present(dashboards, uid, title):
    assert title in [p["title"] for p in dashboards[uid]["panels"]]
