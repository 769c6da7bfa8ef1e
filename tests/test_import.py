"""`dashgen import`: JSON -> module, and the round trip is the test.

For every dashboard of the corpus (our three, the real public ones under
tests/fixtures/realworld/, and dashboards pulled from the Grafana emulator after an edit in
its UI), the generated module is written into a scratch project, loaded by the real loader,
rendered, and its normalised JSON compared with the normalised input. Which panels fell back
to raw JSON is kept, per file, in tests/fixtures/realworld/IMPORT-REPORT.md (golden file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from conftest import dashgen  # noqa: E402
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401

from generator import panels as P  # noqa: E402
from generator.checks import run_report  # noqa: E402
from generator.cli import main  # noqa: E402
from repo_project import CATALOG, CONFIG  # noqa: E402
from generator.environments import Environment  # noqa: E402
from generator.grafana.upload import Local, upload  # noqa: E402
from generator import importer  # noqa: E402
from generator.importer.adopt import recorded_series  # noqa: E402
from generator.importer.migrate import migrate_dashboard  # noqa: E402
from generator.loader import load  # noqa: E402
from generator.normalize import load_dashboard, normalize_dashboard  # noqa: E402
from generator.render import dashboard_json  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def import_dashboard(dashboard: dict, **options):
    """The importer with this repository's config and catalog."""
    return importer.import_dashboard(dashboard, CONFIG, CATALOG, **options)


def render_module(source: str, comments=None) -> dict:
    return importer.render_module(source, CONFIG, CATALOG, comments)
# Our dashboards modules' output; the SLO dashboard is generated from slos/ (no module to re-import).
OURS = sorted(p for p in (ROOT / "rendered" / "dashboards").glob("*.json") if p.stem != CONFIG.slo.dashboard_uid)
REALWORLD = sorted((ROOT / "tests" / "fixtures" / "realworld" / "dashboards").glob("*.json"))
REPORT = ROOT / "tests" / "fixtures" / "realworld" / "IMPORT-REPORT.md"
KNOWN = recorded_series(ROOT)


def read(path: Path) -> dict:
    return load_dashboard(path.read_bytes(), file=path.name)


def module_name(path: Path) -> str:
    return path.stem.replace("-", "_").replace(".", "_")


@pytest.fixture(scope="module")
def imported() -> dict[str, tuple[Path, object]]:
    return {p.name: (p, import_dashboard(read(p), source_name=p.name, known_series=KNOWN)) for p in OURS + REALWORLD}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, imported) -> Path:
    """A project whose dashboards/ holds every imported module (monitoring/ and alerts/ copied for the loader)."""
    root = tmp_path_factory.mktemp("imported")
    (root / "dashboards").mkdir()
    (root / "dashboards" / "__init__.py").write_text("")
    for kind in ("monitoring", "alerts"):
        shutil.copytree(ROOT / kind, root / kind, ignore=shutil.ignore_patterns("__pycache__"))
    for name, (path, result) in imported.items():
        (root / "dashboards" / f"{module_name(path)}.py").write_text(result.source, encoding="utf-8")
    return root


# --- the round trip ------------------------------------------------------------------------


def test_the_corpus_is_big_and_old_enough():
    versions = [read(p).get("schemaVersion") for p in REALWORLD]
    assert sum(1 for v in versions if isinstance(v, int) and 16 <= v <= 42) >= 20
    assert min(versions) < 16 <= max(versions) and max(versions) >= 41  # rows migration and current JSON


def test_every_corpus_dashboard_round_trips_through_the_loader(scratch, imported):
    built = dict(load(scratch, CONFIG).dashboards)
    assert len(built) == len(imported) == len(OURS) + len(REALWORLD)
    for name, (path, _result) in imported.items():
        got = dashboard_json(built[f"dashboards/{module_name(path)}.py"])
        want = read(path)
        if not want.get("uid"):  # issue 20: a dashboard without a uid gets one, named in the result
            assert _result.uid_note and _result.uid, name
            want["uid"] = _result.uid
        want = normalize_dashboard(want)
        if _result.migrations:  # issue 20: graph and singlestat come back as Grafana migrates them
            want = migrate_dashboard(want)[0]
        assert got == want, name
        assert not imported[name][1].safe_mode, name  # rows and factories, not the everything-raw fallback


def test_our_dashboards_import_in_house_style(imported):
    for path in OURS:
        result = imported[path.name][1]
        assert result.frame == "p.dashboard" and result.layout == "flow", path.name
        assert result.raw_panels == [] and result.unknown_metrics == [], path.name
        assert "p.raw(" not in result.source and "C.sel(" in result.source
        assert "cfg.dashboards." in result.source and "t = cfg.thresholds" in result.source
    db = imported["raymontology-database.json"][1].source
    assert 'C.sel("pg_up", job=cfg.jobs.postgres)' in db  # up_stat with the job from the config
    assert "p.bad_above(t.pool_usage_warn)" in db and "cfg.selectors.database" in db


def test_reimporting_our_modules_keeps_rendered_and_check_clean(project, imported):
    """Our three modules replaced by their imports: rendered/ is unchanged and check finds nothing."""
    for path in OURS:
        result = imported[path.name][1]
        owner = {"raymontology-business": "business", "raymontology-database": "database",
                 "raymontology-system-health": "system_health"}[result.uid]
        (project / "dashboards" / f"{owner}.py").write_text(result.source, encoding="utf-8")
    r = CliRunner().invoke(main, ["--root", str(project), "render", "--check"])
    assert r.exit_code == 0, r.output
    report = run_report(project, only=["dashboard/", "catalog/", "promql/"],
                        exclusions_file=ROOT / "dashgen-check.toml")
    assert report.errors == [], [str(f) for f in report.errors]


@pytest.mark.golden
def test_the_raw_fallback_report_is_current(imported, request):
    """The report covers the real-world corpus only: our own dashboards change with every edit a
    user makes (test_our_dashboards_import_in_house_style holds them to no raw panel at all)."""
    lines = ["# `dashgen import` over the corpus", "",
             "Generated by tests/test_import.py (`make update-golden` rewrites it). Each file: frame, layout,",
             "panels from house factories, every panel kept as Grafana JSON (`p.raw`) with the reason, and",
             "what migrating legacy panels (graph, singlestat) as Grafana does on load could not keep.", ""]
    corpus = {p.name for p in REALWORLD}
    for name, (_path, r) in sorted((k, v) for k, v in imported.items() if k in corpus):
        raw = r.raw_panels
        lines.append(f"## {name}")
        lines.append("")
        lines.append(f"{r.frame}, {r.layout} layout: {len(r.panels) - len(raw)} of {len(r.panels)} panels from "
                     f"factories ({len(r.overridden_panels)} with p.override); {len(r.unknown_metrics)} metrics "
                     f"not in the catalog; {len(r.migrations)} legacy panels migrated.")
        lines.append("")
        lines += [f"- raw: {(p.row + ' / ') if p.row else ''}{p.title or '(untitled)'}: {p.reason}" for p in raw]
        lines += [f"- not kept: {(m.row + ' / ') if m.row else ''}{m.title or '(untitled)'} ({m.old_type} -> "
                  f"{m.new_type}): {lost}" for m in r.migrations for lost in m.lost]
        if lines[-1] != "":
            lines.append("")
    text = "\n".join(lines).rstrip("\n") + "\n"
    if request.config.getoption("--update-golden"):
        REPORT.write_text(text, encoding="utf-8")
    assert REPORT.read_text(encoding="utf-8") == text, "run `make update-golden` and review the report"


# --- what the module looks like -------------------------------------------------------------


def test_output_is_formatted(imported, tmp_path):
    for _name, (path, result) in imported.items():
        (tmp_path / f"{module_name(path)}.py").write_text(result.source, encoding="utf-8")
        compile(result.source, path.name, "exec")
    # ruff is a test dependency so this proves the modules are what `ruff format` would write.
    r = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "F,E9", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_output_is_deterministic_across_hash_seeds_and_cwd(tmp_path):
    src = REALWORLD[0] if not OURS else OURS[-1]
    outs = []
    for seed, cwd in (("1", ROOT), ("2", tmp_path)):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "generator", "--root", str(ROOT), "import", str(src)],
                           cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1] and outs[0].startswith('"""')


def dashboard(*panels, **settings) -> dict:
    return {"uid": "imp-test", "title": "Import test", "schemaVersion": 41, **settings, "panels": list(panels)}


def test_unknown_metric_is_reported_and_kept_literal_with_a_todo():
    panel = P.panel_json(P.timeseries("Foo", "Foo per second.", P.target("sum(rate(foo_total[5m]))", "foo"),
                                      "ops", P.neutral()))
    result = import_dashboard(dashboard(panel))
    assert result.unknown_metrics == ["foo_total"]
    assert "# TODO: add to the catalog: foo_total" in result.source
    assert '"sum(rate(foo_total[5m]))"' in result.source and result.raw_panels == []


def test_thresholds_equal_to_a_config_value_are_written_as_its_name():
    t = CONFIG.thresholds
    panel = P.panel_json(P.stat("Pool usage", "Share.", "max(raymontology_db_pool_size_connections)",
                                "percentunit", P.bad_above(t.pool_usage_warn)))
    source = import_dashboard(dashboard(panel)).source
    assert "p.bad_above(t.pool_usage_warn)" in source and "t = cfg.thresholds" in source
    assert "max({C.sel('raymontology_db_pool_size_connections')})" in source


def test_what_no_factory_writes_is_kept_whole_as_raw_json():
    text = {"type": "news", "title": "Read me", "gridPos": {"h": 3, "w": 24, "x": 0, "y": 0},
            "options": {"feedUrl": "https://example.com/# Hi \"there\" {x}\n"}, "futureKey": {"kept": [1, 2.5e30]}}
    graph = {"type": "graph", "title": "Old", "gridPos": {"h": 5, "w": 7, "x": 3, "y": 3}, "lines": True,
             "targets": [{"expr": 'rate(pg_stat_database_deadlocks{job="postgres"}[5m])', "intervalFactor": 2}]}
    result = import_dashboard(dashboard(text, graph), migrate=False)  # the graph kept as it is (--keep-legacy)
    assert [r.factory for r in result.panels] == ["p.raw", "p.raw"]
    assert "no factory for 'news' panels" in result.panels[0].reason
    assert result.layout == "fixed" and '"gridPos": {"h": 5, "w": 7, "x": 3, "y": 3}' in result.source
    assert "C.sel('pg_stat_database_deadlocks', job=cfg.jobs.postgres)" in result.source
    assert render_module(result.source) == normalize_dashboard(dashboard(text, graph))


def test_merged_merges_objects_replaces_the_rest_and_none_removes():
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": True, "g": "x"}
    got = P.merged(base, {"a": {"c": [3], "d": {"e": None, "h": 2}}, "f": None, "i": {}})
    assert got == {"a": {"b": 1, "c": [3], "d": {"h": 2}}, "g": "x", "i": {}}
    assert base == {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": True, "g": "x"}  # not changed in place


def test_a_ui_edit_is_the_factory_call_with_keyword_arguments():
    """A house timeseries edited in the UI (line width, legend placement, a data source picked
    by name, a query with step and queryType) is still that call, the changes as keywords (issue 20)."""
    panel = P.panel_json(P.timeseries("Foo", "Foo per second.", P.target("sum(rate(pg_up[5m]))", "foo"),
                                      "ops", P.neutral()))
    panel["fieldConfig"]["defaults"]["custom"]["lineWidth"] = 2
    panel["options"]["legend"]["placement"] = "right"
    panel["datasource"] = {"type": "prometheus", "uid": "prom-main"}  # the UI sets the queries' too
    panel["targets"][0].update(step=30, queryType="timeSeriesQuery", intervalFactor=2, datasource=panel["datasource"])
    d = dashboard(panel)
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.timeseries"]
    assert "step=30" in result.source and 'queryType="timeSeriesQuery"' in result.source
    assert "line_width=2" in result.source and 'legend_placement="right"' in result.source
    assert "datasource=DATASOURCE" in result.source and 'DATASOURCE = {"type": "prometheus", "uid": "prom-main"}' in result.source
    assert "C.sel('pg_up')" in result.source
    assert "p.override(" not in result.source
    assert render_module(result.source) == normalize_dashboard(d)


def test_a_near_miss_no_keyword_covers_is_the_factory_call_with_a_small_override():
    panel = P.panel_json(P.timeseries("Foo", "Foo per second.", "sum(rate(pg_up[5m]))", "ops", P.neutral()))
    panel["options"]["tooltip"]["hideZeros"] = True
    d = dashboard(panel)
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.timeseries + override"]
    assert '"hideZeros": True' in result.source
    assert render_module(result.source) == normalize_dashboard(d)


def test_gauges_and_bar_gauges_come_from_their_factories():
    gauge = P.panel_json(P.gauge("Disk used", "Share of the disk in use.", "max(pg_up)", "percentunit",
                                 P.bad_above(0.8, 0.9), min=0, max=1))
    bars = P.panel_json(P.bargauge("Per disk", "", P.target("max by (instance) (pg_up)", "{{instance}}"), "none",
                                   P.neutral(), reduce="max"))
    bars["targets"][0]["refId"] = "Disks"  # not the A the normaliser would give it
    d = dashboard(gauge, bars)
    result = import_dashboard(d)
    assert [r.factory for r in result.panels] == ["p.gauge", "p.bargauge"]
    assert "min=0," in result.source and 'reduce="max"' in result.source and 'refId="Disks"' in result.source
    assert render_module(result.source) == normalize_dashboard(d)


def test_a_data_source_most_queries_name_is_written_once():
    ds = {"type": "prometheus", "uid": "prom-main"}
    panels = [P.panel_json(P.stat(f"S{i}", "", P.target("max(pg_up)", datasource=ds), "none", P.neutral()))
              for i in range(2)]
    text = {"type": "text", "title": "x", "targets": [{"expr": "max(pg_up)", "datasource": ds, "foo-bar": 1}]}
    d = dashboard(*panels, text)
    result = import_dashboard(d)
    assert 'DATASOURCE = {"type": "prometheus", "uid": "prom-main"}' in result.source
    assert result.source.count("datasource=DATASOURCE") == 2 and '"datasource": DATASOURCE' in result.source
    assert render_module(result.source) == normalize_dashboard(d)


def test_a_panel_far_from_every_factory_stays_raw():
    """Past IMPORT_OVERRIDE_SHARE of the panel the override would read worse than the JSON."""
    panel = P.panel_json(P.stat("Foo", "", "max(pg_up)", "none", P.neutral()))
    panel["options"] = {f"option{i}": i for i in range(40)}
    result = import_dashboard(dashboard(panel))
    assert [r.factory for r in result.panels] == ["p.raw"] and "p.stat differs at options" in result.panels[0].reason
    assert render_module(result.source) == normalize_dashboard(dashboard(panel))


def test_rows_collapsed_and_repeated_round_trip():
    child = {"type": "stat", "title": "In a collapsed row", "gridPos": {"h": 4, "w": 6, "x": 0, "y": 2}}
    d = dashboard(
        {"type": "row", "title": "Open", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}, "repeat": "instance"},
        {"type": "row", "title": "Shut", "collapsed": True, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 1},
         "panels": [child]},
    )
    result = import_dashboard(d)
    assert 'repeat="instance"' in result.source and "collapsed=True" in result.source
    assert render_module(result.source) == normalize_dashboard(d)


# --- the CLI ----------------------------------------------------------------------------------


def cli(*args, root: Path = ROOT, emu=None, input=None):
    env = {"GRAFANA_URL": emu.url if emu else "", "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_BACKOFF": "0.01"}
    return CliRunner().invoke(main, ["--root", str(root), *args], env=env, input=input)


def test_cli_prints_the_module_and_reports_raw_panels_on_stderr():
    path = next(p for p in REALWORLD if p.name == "k8s-system-coredns.json")
    r = cli("import", str(path))
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith('"""Kubernetes / System / CoreDNS: imported from k8s-system-coredns.json')
    assert "14 panels, 14 from factories (0 with p.override), 0 kept as Grafana JSON" in r.stderr
    assert "        p.timeseries(" in r.stdout and "p.raw(" not in r.stdout
    assert "not in the catalog (TODO in the module): coredns_dns_requests_total" in r.stderr


def test_cli_out_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "dashboards" / "business.py"
    r = cli("import", str(OURS[0]), "--out", str(out))
    assert r.exit_code == 0 and out.read_text().startswith('"""Raymontology / Business')
    assert "warning: dashboards/business.py already renders uid raymontology-business" in r.stderr
    out.write_text("# mine\n")
    r = cli("import", str(OURS[0]), "--out", str(out))
    assert r.exit_code == 2 and "exists: pass --force" in r.stderr and out.read_text() == "# mine\n"
    r = cli("import", str(OURS[0]), "--out", str(out), "--force")
    assert r.exit_code == 0 and out.read_text().startswith('"""Raymontology / Business')
    assert [p.name for p in out.parent.iterdir()] == ["business.py"]  # no temporary file left


@pytest.mark.parametrize("data, message", [
    (b"{not json", "broken.json: (top level): not JSON"),
    (b"[]", "broken.json: (top level): expected a dashboard"),
    (b'{"panels": [{"type": "row", "panels": 3}]}', "broken.json: panels[0].panels: panels must be array"),
])
def test_cli_bad_input_is_one_line_naming_the_file_exit_2(tmp_path, data, message):
    bad = tmp_path / "broken.json"
    bad.write_bytes(data)
    r = cli("import", str(bad), "--out", str(tmp_path / "x.py"))
    assert r.exit_code == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "x.py").exists()


def test_cli_reads_stdin():
    r = cli("import", "-", input=OURS[0].read_text())
    assert r.exit_code == 0 and "imported from stdin" in r.stdout


# --- from the emulator: drift, pull hint, import --env ----------------------------------------


def test_a_ui_edit_is_adopted_through_pull_and_import(project, emulator, tmp_path):
    env = Environment("production", emulator.url, "Raymontology/Production", token=TOKEN)
    ours = {p.stem: json.loads(p.read_text()) for p in OURS}
    report = upload(env, Local(ours, None), commit="abc", client_options={"backoff": 0.01, "timeout": 2.0})
    assert not report.failed
    uid = "raymontology-database"

    def edit(d):  # a person retitles a panel, moves nothing, and adds a text panel in the UI
        d["panels"][1]["title"] = "Postgres reachable"
        d["panels"][2]["targets"][0].update(editorMode="code", range=True)  # the query editor touched it
        d["panels"].append({"type": "text", "title": "Notes", "gridPos": {"h": 3, "w": 24, "x": 0, "y": 60},
                            "options": {"mode": "markdown", "content": "Ask #db first."}})

    emulator.edit_in_ui(uid, edit)
    (project / "environments.toml").write_text((ROOT / "environments.toml").read_text())
    r = cli("pull", "--env", "production", uid, root=project, emu=emulator)
    assert r.exit_code == 0
    assert (f"note: {uid} in production differs from rendered/ (edited in Grafana?); adopt it as code with: "
            f"dashgen import --env production {uid} --out dashboards/database.py --force") in r.stderr
    pulled = json.loads(r.stdout)
    r = cli("import", "--env", "production", uid, "--out", str(project / "dashboards" / "database.py"), "--force",
            root=project, emu=emulator)
    assert r.exit_code == 0, r.output
    assert "17 from factories (0 with p.override), 0 kept as Grafana JSON" in r.stderr
    source = (project / "dashboards" / "database.py").read_text()
    assert 'editorMode="code",' in source and 'p.text("Notes", "Ask #db first."' in source
    assert "frame p.dashboard" in r.stderr and "layout flow, 1 of 4 rows fixed" in r.stderr  # still ours
    r = dashgen("--root", str(project), "render")  # a fresh process: this one imported the old module (pull)
    assert r.returncode == 0, r.stderr
    assert json.loads((project / "rendered" / "dashboards" / f"{uid}.json").read_text()) == pulled
    r = cli("pull", "--env", "production", uid, root=project, emu=emulator)
    assert r.exit_code == 0 and "note:" not in r.stderr  # adopted: no drift left
    r = cli("import", "--env", "production", "raymontology-nope", root=project, emu=emulator)
    assert r.exit_code == 1 and "not found in production" in r.stderr


def test_odd_input_still_round_trips():
    """No gridPos (Grafana places the panel), control characters and quotes in titles, braces in
    label values (inside an f-string), an empty dashboard."""
    d = {"uid": "odd", "title": 'Weird """ \\ \x01 title\r\nnext',
         "panels": [{"type": "timeseries", "title": "\x00odd", "targets": [{"expr": 'sum(pg_up{job="a}b{c"})'}]}]}
    result = import_dashboard(d)
    # The title goes through the one escaping path: quotes, backslash and control characters as escapes.
    assert result.source.splitlines()[0] == (r'"""Weird \"\"\" \\ \x01 title\r\nnext: imported from Grafana JSON by '
                                             "`dashgen import`.")
    assert "C.sel('pg_up', job='a}b{c')" in result.source
    assert render_module(result.source) == normalize_dashboard(d)
    empty = import_dashboard({"uid": "empty", "title": "Empty"})
    assert render_module(empty.source) == normalize_dashboard({"uid": "empty", "title": "Empty"})


def test_only_rows_the_flow_cannot_place_keep_fixed_positions():
    def stat(title, x, y, w=6, h=4):
        return P.panel_json(P.stat(title, "", "max(raymontology_db_pool_size_connections)", "short", P.neutral(),
                                   w=w, h=h)) | {"gridPos": {"h": h, "w": w, "x": x, "y": y}}

    d = dashboard(
        {"type": "row", "title": "Flows", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
        stat("a", 0, 1), stat("b", 6, 1),
        {"type": "row", "title": "Stacked", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 5}},
        stat("c", 0, 6), stat("d", 0, 10), stat("e", 6, 6, h=8),  # two stats stacked beside a tall one
        {"type": "row", "title": "Below", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 14}},
        stat("f", 0, 15),
    )
    result = import_dashboard(d)
    assert result.layout == "flow, 1 of 3 rows fixed" and not result.safe_mode
    assert [r.factory for r in result.panels] == ["p.stat"] * 6
    flows, stacked, below = result.source.split("\n\n\ndef ")[-3:]
    assert "p.at(" not in flows and stacked.count("p.at(") == 3 and "p.at(" not in below
    assert render_module(result.source) == normalize_dashboard(d)


def test_a_foreign_import_passes_check_apart_from_real_findings(project, imported):
    path, result = imported["k8s-system-coredns.json"]
    (project / "dashboards" / "coredns.py").write_text(result.source, encoding="utf-8")
    report = run_report(project, only=["dashboard/", "catalog/", "promql/"],
                        exclusions_file=ROOT / "dashgen-check.toml")
    found = {f.check for f in report.findings}
    # What the public dashboard really lacks by our rules: descriptions, units, catalogued metrics,
    # thresholds from the config, a line its last heatmap leaves half empty (row-gap); nothing
    # about the module itself (it loads and renders).
    assert found and found <= {"dashboard/panel-description", "dashboard/panel-unit", "dashboard/thresholds-config",
                               "dashboard/row-gap",
                                "dashboard/variables-used", "catalog/unknown-metric", "catalog/unknown-label",
                                "catalog/variable-query", "dashboard/rate-interval"}, found
    assert all(f.location.file == "dashboards/coredns.py" for f in report.findings)


def test_no_module_is_handed_out_that_would_not_render_back(monkeypatch, tmp_path):
    """If even the everything-raw module renders something else, the import fails: exit 1, no file."""
    import generator.importer as importer

    monkeypatch.setattr(importer, "render_module", lambda source, cfg, catalog, comments=None: {"title": "something else"})
    with pytest.raises(importer.ImportFailed, match="renders differently at"):
        import_dashboard(read(OURS[0]))
    out = tmp_path / "x.py"
    r = cli("import", str(OURS[0]), "--out", str(out))
    assert r.exit_code == 1 and "cannot write a module that renders it back" in r.stderr and not out.exists()


def test_label_values_from_the_config_are_written_as_its_names():
    panel = P.panel_json(P.timeseries("Queue", "", 'sum(celery_queue_length{job="raymontology-worker", '
                                      'queue_name="celery"})', "short", P.neutral()))
    source = import_dashboard(dashboard(panel)).source
    assert "C.sel('celery_queue_length', job=cfg.jobs.worker, queue_name=cfg.selectors.celery_queue)" in source


def test_a_threshold_shared_by_several_config_fields_is_named_from_the_panels_words():
    """0.8 is pg_connections_warn, cpu_alert and high_risk_score at once: for our own dashboards
    the description and queries pick the field when the title does not ("connections" is
    "connection", as "fds" is the "fd" of fd_usage_warn); elsewhere the title alone decides."""
    from generator.importer.factories import Context, number

    t = CONFIG.thresholds
    assert t.pg_connections_warn == t.cpu_alert == t.high_risk_score == 0.8
    context = "Share of max_connections in use. pg_stat_activity_count / pg_settings_max_connections"
    house = Context(CONFIG, CATALOG, {}, house=True)
    assert number(0.8, "Saturation", house, context).text == "t.pg_connections_warn"
    assert house.uses_thresholds
    assert number(0.8, "Saturation", Context(CONFIG, CATALOG, {}, house=False), context).text == "0.8"
    assert number(0.8, "Saturation", Context(CONFIG, CATALOG, {}, house=True), "").text == "0.8"  # no clue: a literal
    assert number(0.8, "CPU alert", Context(CONFIG, CATALOG, {}, house=True), context).text == "t.cpu_alert"  # title first
