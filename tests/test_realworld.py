"""Normalise, textconv and diff on public dashboards nobody here wrote (tests/fixtures/realworld).

Every corpus file normalises idempotently and without losing a panel or a query; every real
before/after pair from git history gives exactly the changes a reviewer must see, by row and
panel; a pure re-export (key order, ids, versions) gives none; bad input gives one error line.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import diff
from generator.cli import main
from generator.diff.dashboards import QUERY_KEYS
from generator.normalize import (
    MAX_JSON_DEPTH, DashboardInputError, load_dashboard, migrate_rows, normalize_dashboard,
)
from generator.textconv import textconv

CORPUS = Path(__file__).parent / "fixtures" / "realworld"
DASHBOARDS = sorted((CORPUS / "dashboards").glob("*.json"))
PAIRS = sorted(p for p in (CORPUS / "pairs").iterdir() if p.is_dir())
PATH = "dashboards/x.json"


def raw_panels(d: dict) -> list[dict]:
    """Every non-row panel of a dashboard as written, old rows layout included."""
    out = [p for r in d.get("rows") or [] for p in r.get("panels") or []]
    for p in d.get("panels") or []:
        out.extend(p.get("panels") or [] if p.get("type") == "row" else [p])
    return out


def raw_queries(d: dict) -> list[str]:
    """Every query text (expr, query, rawSql...) in a dashboard."""
    return sorted(t[k] for p in raw_panels(d) for t in p.get("targets") or [] for k in QUERY_KEYS
                  if isinstance(t.get(k), str) and t[k])


def test_corpus_is_what_the_issue_asks_for():
    versions = {json.loads(p.read_text()).get("schemaVersion") for p in DASHBOARDS}
    sources = {x["datasource"].get("type") for p in DASHBOARDS
               for panel in raw_panels(json.loads(p.read_text())) for x in [panel, *(panel.get("targets") or [])]
               if isinstance(x.get("datasource"), dict)}
    assert len(DASHBOARDS) >= 20 and min(versions) <= 14 and max(versions) >= 42
    assert {"prometheus", "loki", "grafana-opensearch-datasource", "grafana-testdata-datasource"} <= sources
    assert len(PAIRS) >= 10
    provenance = (CORPUS / "PROVENANCE.md").read_text()
    for f in [*DASHBOARDS, *(p / n for p in PAIRS for n in ("before.json.gz", "after.json.gz"))]:
        line = next(ln for ln in provenance.splitlines() if ln.startswith(str(f.relative_to(CORPUS)) + " |"))
        assert line.split("|")[-1].split()[0] in ("Apache-2.0", "MIT"), line  # permissive licences only


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_normalise_is_idempotent_and_loses_no_panel_or_query(path):
    raw = load_dashboard(path.read_bytes(), str(path))
    once = normalize_dashboard(raw)
    assert normalize_dashboard(once) == once
    assert json.loads(json.dumps(once)) == once
    assert len(raw_panels(once)) == len(raw_panels(raw))
    assert raw_queries(once) == raw_queries(raw)
    assert "rows" not in once  # legacy rows are laid out on the grid
    # A panel saved without gridPos (ingress-nginx has one) stays so: Grafana places it.
    assert sum("gridPos" not in p for p in raw_panels(once)) == sum(
        "gridPos" not in p for p in raw_panels(raw) if isinstance(p, dict) and "rows" not in raw)


def test_time_series_defaults_grafana_writes_on_save_are_dropped_and_nothing_else():
    custom = {"axisColorMode": "text", "axisBorderShow": False, "axisCenteredZero": False, "barWidthFactor": 0.6,
              "insertNulls": False}
    saved = {"type": "timeseries", "title": "t", "options": {"tooltip": {"mode": "multi", "sort": "none",
                                                                          "hideZeros": False}},
             "fieldConfig": {"defaults": {"custom": dict(custom), "links": []}, "overrides": []}}
    changed = {**saved, "options": {"tooltip": {"mode": "multi", "sort": "desc", "hideZeros": 0}},
               "fieldConfig": {"defaults": {"custom": {**custom, "axisCenteredZero": True, "insertNulls": 3600000}},
                               "overrides": []}}
    d = normalize_dashboard({"panels": [saved, changed, {**saved, "type": "barchart"}]})
    plain, edited, other = d["panels"]
    assert plain["options"] == {"tooltip": {"mode": "multi"}} and plain["fieldConfig"]["defaults"] == {}
    assert edited["options"]["tooltip"] == {"mode": "multi", "sort": "desc", "hideZeros": 0}
    assert edited["fieldConfig"]["defaults"]["custom"] == {"axisCenteredZero": True, "insertNulls": 3600000}
    assert other["fieldConfig"]["defaults"]["custom"] == custom  # another panel's defaults are its own
    assert normalize_dashboard(d) == d
    assert saved["fieldConfig"]["defaults"]["custom"] == custom  # the input is not changed
    stat = {"type": "stat", "options": {"textMode": "auto", "percentChangeColorMode": "standard", "text": {},
                                        "colorMode": "value"}}
    gauge = {"type": "gauge", "options": {"showThresholdMarkers": True, "showThresholdLabels": True, "minVizWidth": 75}}
    stat_n, gauge_n = normalize_dashboard({"panels": [stat, gauge]})["panels"]
    assert "options" not in stat_n and gauge_n["options"] == {"showThresholdLabels": True}  # colorMode value: stat's default
    background = normalize_dashboard({"panels": [{**stat, "options": {"colorMode": "background"}}]})["panels"][0]
    assert background["options"] == {"colorMode": "background"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_textconv_shows_every_panel_once(path):
    raw = json.loads(path.read_bytes())
    text = textconv(path.read_bytes()).decode()
    headers = [ln for ln in text.splitlines() if ln.startswith('panel "')]
    assert len(headers) == len(raw_panels(raw))
    for q in raw_queries(raw):
        if q and "\n" not in q:
            assert q.replace("\n", "\n    ") in text


def reexport(d: dict, seed: int) -> dict:
    """The same dashboard as another Grafana would save it: new ids and versions, keys shuffled."""
    rng = random.Random(seed)

    def shuffle(v):
        if isinstance(v, dict):
            items = list(v.items())
            rng.shuffle(items)
            return {k: shuffle(x) for k, x in items}
        if isinstance(v, list):
            return [shuffle(x) for x in v]
        return v

    out = shuffle(d)
    out.update(id=rng.randint(1, 999), version=rng.randint(1, 999), iteration=rng.randint(1, 10**12))
    for p in raw_panels(out):
        p["id"] = rng.randint(1000, 9999)
        p["pluginVersion"] = "11.9.9"
    return out


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_pure_reexport_gives_no_differences(path):
    raw = json.loads(path.read_bytes())
    twin = json.dumps(reexport(raw, 7), indent=4).encode()
    assert diff.diff_trees({PATH: path.read_bytes()}, {PATH: twin}) == []
    assert textconv(path.read_bytes()) == textconv(twin)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_real_pair_gives_the_expected_changes(pair):
    expect = json.loads((pair / "expect.json").read_text())
    before = gzip.decompress((pair / "before.json.gz").read_bytes())
    after = gzip.decompress((pair / "after.json.gz").read_bytes())
    changes = diff.diff_trees({PATH: before}, {PATH: after})
    report = diff.format_text(changes)
    assert len(changes) == expect["changes"], report
    for want in expect["must_see"]:
        assert any(c.row == want["row"] and c.name == want["panel"]
                   and (want["text"] in c.message or want["text"] in str(c.new)) for c in changes), (want, report)
    if expect["changes"] == 0:
        assert report == "no differences\n"
        assert textconv(before) == textconv(after)


def test_textconv_of_a_real_pair_changes_only_the_edited_panel():
    pair = CORPUS / "pairs" / "nef-unit-typo"
    a = textconv(gzip.decompress((pair / "before.json.gz").read_bytes())).decode().splitlines()
    b = textconv(gzip.decompress((pair / "after.json.gz").read_bytes())).decode().splitlines()
    changed = [(x, y) for x, y in zip(a, b) if x != y]
    assert len(a) == len(b) and changed == [("  unit: sishort", "  unit: short")] * 2


# --- the rows layout, migrated the way Grafana's DashboardMigrator does --------------------------


def test_rows_migrate_like_grafana():
    d = {"schemaVersion": 14, "rows": [
        {"title": "A", "showTitle": True, "height": "250px",
         "panels": [{"type": "graph", "title": "a1", "span": 6}, {"type": "graph", "title": "a2", "span": 6},
                    {"type": "graph", "title": "a3", "span": 12, "height": 100}]},
        {"title": "B", "collapse": True, "panels": [{"type": "graph", "title": "b1", "span": 4}]},
    ]}
    out = migrate_rows(json.loads(json.dumps(d)))
    got = [(p["type"], p.get("title"), p["gridPos"]) for p in out["panels"]]
    assert got == [  # 250 px = ceil(250 / 38) = 7 grid units; span 6 of 12 = 12 of 24 columns
        ("row", "A", {"x": 0, "y": 0, "w": 24, "h": 7}),
        ("graph", "a1", {"x": 0, "y": 1, "w": 12, "h": 7}),
        ("graph", "a2", {"x": 12, "y": 1, "w": 12, "h": 7}),
        ("graph", "a3", {"x": 0, "y": 8, "w": 24, "h": 3}),
        ("row", "B", {"x": 0, "y": 15, "w": 24, "h": 7}),
    ]
    assert out["panels"][-1]["collapsed"] is True
    assert out["panels"][-1]["panels"][0]["gridPos"] == {"x": 0, "y": 16, "w": 8, "h": 7}
    assert out["schemaVersion"] == 16


def test_rows_without_titles_become_plain_panels():
    d = {"schemaVersion": 12, "rows": [{"panels": [{"type": "text", "span": 12}]},
                                       {"panels": [{"type": "text", "span": 3}]}]}
    out = normalize_dashboard(d)
    assert [p["gridPos"] for p in out["panels"]] == [{"x": 0, "y": 0, "w": 24, "h": 7},
                                                      {"x": 0, "y": 7, "w": 6, "h": 7}]


def test_old_rows_query_change_is_reported():
    """The issue's worst case: an old-layout edit used to give "no differences"."""
    pair = CORPUS / "pairs" / "nef-sv14-rate-to-irate"
    changes = diff.diff_trees({PATH: gzip.decompress((pair / "before.json.gz").read_bytes())},
                              {PATH: gzip.decompress((pair / "after.json.gz").read_bytes())})
    assert all("irate" in str(c.new) for c in changes) and len(changes) == 9


def test_untitled_and_repeated_rows_keep_their_panels():
    d = {"uid": "u", "title": "t", "panels": [
        {"type": "row", "title": "", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}},
        {"type": "stat", "title": "s1", "gridPos": {"x": 0, "y": 1, "w": 6, "h": 4}},
        {"type": "row", "title": "Dup ", "gridPos": {"x": 0, "y": 5, "w": 24, "h": 1}},
        {"type": "stat", "title": "s2", "gridPos": {"x": 0, "y": 6, "w": 6, "h": 4}},
        {"type": "row", "title": "Dup", "gridPos": {"x": 0, "y": 10, "w": 24, "h": 1}},
        {"type": "stat", "title": "s3", "gridPos": {"x": 0, "y": 11, "w": 6, "h": 4}},
    ]}
    text = textconv(json.dumps(d).encode()).decode()
    headers = [ln for ln in text.splitlines() if ln.startswith(("row ", "panel "))]
    assert headers == ['row "(untitled row)"', 'panel "(untitled row) / s1"', 'row "Dup"', 'panel "Dup / s2"',
                       'row "Dup #2"', 'panel "Dup #2 / s3"']
    new = json.loads(json.dumps(d))
    new["panels"][5]["targets"] = [{"expr": "up", "refId": "A"}]
    (c,) = diff.diff_trees({PATH: json.dumps(d).encode()}, {PATH: json.dumps(new).encode()})
    assert (c.row, c.name, c.message) == ("Dup #2", "s3", "query A added: up")


# --- bad input ----------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return ('{"title": "x", "panels": [], "deep": ' + "[" * depth + "]" * depth + "}").encode()


BAD = [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (b"[]", "got array"),
    (b"null", "got null"),
    (b"42", "got number"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{not json", "not JSON"),
    (nested(MAX_JSON_DEPTH + 1), f"more than {MAX_JSON_DEPTH} levels"),
    (nested(5000), "nested"),
    (b'{"title": 7, "panels": []}', "title: title must be string, not number"),
    (b'{"title": "t", "panels": {"a": 1}}', "panels: panels must be array, not object"),
    (b'{"title": "t", "panels": [{"type": "graph", "targets": ["up"]}]}',
     "panels[0].targets[0]: each of targets must be object, not string"),
    (b'{"title": "t", "panels": [{"type": "stat", "fieldConfig": {"defaults": {"thresholds": {"steps": [{"value": 1}]}}}}]}',
     "panels[0].fieldConfig.defaults.thresholds.steps[0]: threshold step has no color"),
    (b'{"title": "t", "panels": [{"type": "stat", "gridPos": {"x": "0"}}]}', "panels[0].gridPos.x"),
    (b'{"schemaVersion": 14, "rows": [{"panels": [{"span": "6"}]}]}', "rows[0].panels[0].span"),
    (b'{"title": "t", "panels": [], "refresh": NaN}', "NaN is not a JSON value"),
    (b'{"title": "t", "panels": [{"type": "stat", "fieldConfig": {"defaults": {"max": -Infinity}}}]}',
     "-Infinity is not a JSON value"),
]


@pytest.mark.parametrize("data,message", BAD, ids=lambda v: v[:24] if isinstance(v, bytes) else None)
def test_bad_dashboard_is_one_error_naming_file_and_path(data, message):
    with pytest.raises(DashboardInputError) as exc:
        diff.diff_trees({PATH: data}, {})
    text = str(exc.value)
    assert text.startswith(f"{PATH} (old side): ") and message in text and "\n" not in text


@pytest.mark.parametrize("data,message", [b for b in BAD if b[0].lstrip().startswith(b"{")][2:],
                         ids=lambda v: v[:24] if isinstance(v, bytes) else None)
def test_textconv_cli_shows_a_bad_dashboard_raw_under_one_warning(tmp_path, data, message):
    """git aborts the whole `git diff` when a textconv fails (issue 20): never fail."""
    f = tmp_path / "bad.json"
    f.write_bytes(data)
    res = CliRunner().invoke(main, ["textconv", str(f)])
    assert res.exit_code == 0, res.output
    head, _, rest = res.stdout.partition("\n")
    assert head.startswith(f"# dashgen textconv: {f} cannot be shown semantically (") and message in head
    assert rest == data.decode()


def test_api_envelope_is_unwrapped():
    d = json.loads(DASHBOARDS[0].read_bytes())
    envelope = json.dumps({"dashboard": d, "meta": {"version": 3, "folderUid": "f"}}).encode()
    assert diff.diff_trees({PATH: DASHBOARDS[0].read_bytes()}, {PATH: envelope}) == []
    assert textconv(envelope) == textconv(DASHBOARDS[0].read_bytes())


def test_graph_to_timeseries_keeps_the_unit_it_had_in_yaxes():
    """A Grafana 11 style migration: the unit was in yaxes[0].format, not newly added."""
    old = {"uid": "u", "title": "t", "panels": [{"type": "graph", "title": "p", "yaxes": [{"format": "bytes"}, {}],
                                                 "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}}]}
    new = {"uid": "u", "title": "t", "panels": [{"type": "timeseries", "title": "p",
                                                 "fieldConfig": {"defaults": {"unit": "bytes"}, "overrides": []},
                                                 "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}}]}
    changes = diff.diff_trees({PATH: json.dumps(old).encode()}, {PATH: json.dumps(new).encode()})
    messages = [c.message for c in changes]
    assert "type graph -> timeseries" in messages and not any(m.startswith("unit") for m in messages)
    assert any(m.startswith("yaxes removed") for m in messages)  # lossless: the old field's removal shows


def test_unhashable_refids_and_panel_types_do_not_crash_the_normaliser():
    """A refId or panel type that is an object or a list (hostile input) is no crash: the
    refId is replaced like a missing one, the type gets no per-type defaults."""
    board = {"title": "t", "panels": [{"type": ["timeseries"], "targets": [{"refId": {"x": 1}, "expr": "up"},
                                                                          {"refId": ["B"], "expr": "up"}]}]}
    panel = normalize_dashboard(board)["panels"][0]
    assert [t["refId"] for t in panel["targets"]] == ["A", "B"]
    assert panel["type"] == ["timeseries"]
