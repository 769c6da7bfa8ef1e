"""`dashgen import` on hostile dashboards: nothing in a dashboard may run, here or later.

Anyone who can edit a dashboard in Grafana chooses its text, and the importer writes that
text into a Python module it executes (to prove the round trip) and that `make dashboards`
executes ever after. The corpus below puts payloads that would run code (a file created in
the working directory, an environment variable set: the canaries) and every kind of
awkward text (line breaks Python or a terminal honours, NUL, quotes, backslashes, braces,
bidi and zero-width characters, keywords, 200 KB) into every field the importer reads.
Each case must either import, with a module that renders the dashboard back when executed
with no check at all (as the loader does), or fail cleanly (ImportFailed or a bad-input
error); never a traceback, and never a canary.

The guard (generator/importer/guard.py) is tested on its own too, on modules written by
hand to do harm: it must refuse each before any of it runs.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import shutil
import sys
import time
import tokenize
from pathlib import Path

import importlib

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from conftest import dashgen  # noqa: E402

from generator import panels as P  # noqa: E402
from repo_project import CATALOG, CONFIG  # noqa: E402
from generator.cli import main  # noqa: E402
from generator.errors import DashgenError  # noqa: E402
from generator import importer  # noqa: E402
from generator.importer import ImportFailed, UnsafeCode  # noqa: E402
from generator.importer import guard, pysrc  # noqa: E402
from generator.importer.factories import TODO_CATALOG  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402
from generator.render import dashboard_json  # noqa: E402
from generator import loader  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def import_dashboard(dashboard: dict, **options):
    """The importer with this repository's config and catalog."""
    return importer.import_dashboard(dashboard, CONFIG, CATALOG, **options)


def render_module(source: str, comments=None) -> dict:
    return importer.render_module(source, CONFIG, CATALOG, comments)
CANARY_ENV = "DASHGEN_IMPORT_CANARY"
CANARY_FILE = "PWNED"  # created in the working directory (each test runs in its own tmp_path)

#: The exploit from issue 16, verbatim: the query's newline ended the TODO comment.
EXPLOIT = "{__name__=\"x\\n*[__import__('os').system('touch PWNED')][:0],\"}"

_RUN_FILE = f"__import__('os').system('touch {CANARY_FILE}')"
_RUN_ENV = f"__import__('os').environ.__setitem__('{CANARY_ENV}', 'ran')"

#: Text that would run code if it reached the module unescaped, and text that is merely awkward.
PAYLOADS = {
    "newline": f"x\n*[{_RUN_FILE}][:0],",
    "newline-statement": f"x\n{_RUN_ENV}\n",
    "cr": f"x\r{_RUN_ENV}\r",
    "crlf": f"x\r\n{_RUN_FILE}\r\n",
    "u2028": f"x\u2028{_RUN_FILE}\u2029y",
    "formfeed-vtab": f"x\x0c\x0b{_RUN_ENV}\x1c\x1d\x1e\x85",
    "nul": f"x\x00{_RUN_FILE}",
    "double-quote-end": f'"); {_RUN_FILE}; ("',
    "single-quote-end": f"'); {_RUN_FILE}; ('",
    "triple-quotes": f'"""\n{_RUN_ENV}\n"""\'\'\'',
    "backslashes": "\\ \\\\ \\n \\x00 \\N{BULLET} \\u2028 x\\",
    "braces": "{a} {{b}} }{ {",
    "fstring-field": "{" + _RUN_FILE + "}",
    "comment": f"# x\n# {_RUN_ENV}",
    "bidi-zero-width": "a\u202eb\u2066c\u2069\u200b\u200d\ufeffd",
    "terminal": "\x1b]0;owned\x07\x1b[2J\x1b[31m",
    "keyword": "if",
    "dunder": "__import__",
    "non-ascii-name": "\uff52\uff45\uff50\uff45\uff41\uff54",  # fullwidth "repeat": NFKC folds it
    "lone-surrogate": "x\ud800y",
    "empty": "",
    "spaces": "   ",
}
BIG = {  # 200 KB strings: in fewer fields (each costs a PromQL parse and a module of its size)
    "big": "x" * 200_000,
    "big-breaks": ("a\n\r\u2028\"'{}\\" * 25_000)[:200_000],
}


def promql_string(s: str) -> str:
    """`s` inside a PromQL double-quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# --- the corpus ------------------------------------------------------------------------------


def house_panel(kind: str = "timeseries") -> dict:
    """A panel as our factories write it (so the factory path, not only p.raw, is exercised)."""
    if kind == "stat":
        return P.panel_json(P.up_stat("Up", "Whether it answers.", 'pg_up{job="postgres"}'))
    return P.panel_json(P.timeseries("Rate", "Per second.", P.target("sum(rate(pg_up[5m]))", "{{job}}"), "ops",
                                     P.bad_above(0.9)))


def base(*panels) -> dict:
    return {"uid": "hostile", "title": "Hostile", "schemaVersion": 41, "panels": list(panels) or [house_panel()]}


HOUSE = json.loads((ROOT / "rendered" / "dashboards" / "raymontology-database.json").read_text())


def house_dashboard(rows: int = 1) -> dict:
    """One of ours (house frame, variables), to reach `p.dashboard` and `p.query_variable`;
    its first `rows` rows (the whole of it costs time, not cases)."""
    d = copy.deepcopy(HOUSE)
    starts = [i for i, p in enumerate(d["panels"]) if p["type"] == "row"] + [len(d["panels"])]
    d["panels"] = d["panels"][:starts[min(rows, len(starts) - 1)]]
    return d


def _set(path: list, value):
    def edit(d: dict) -> dict:
        node = d
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return d
    return edit


def fields(s: str) -> dict:
    """Field name -> dashboard with `s` in that field."""
    q = promql_string(s)
    ts, stat = house_panel(), house_panel("stat")
    ours = {"datasource": ts["datasource"], "targets": ts["targets"]}  # the house data source: the factory path
    out = {
        "dashboard title": base() | {"title": s or "t"},
        "dashboard description": base() | {"description": s},
        "uid": base() | {"uid": s or "u"},
        "tags": base() | {"tags": [s, "x"]},
        "dashboard JSON key": base() | {s or "k": {s: 1}},
        "dashboard links": base() | {"links": [{"title": s, "url": s, "type": "link"}]},
        "time": base() | {"time": {"from": s, "to": "now"}},
        "annotation name": base() | {"annotations": {"list": [{"name": s, "enable": True}]}},
        "variable name/label/query": base() | {"templating": {"list": [
            {"type": "query", "name": s, "label": s, "query": s, "current": {"text": s, "value": s}}]}},
        "panel title": base(ts | {"title": s}),
        "panel description": base(ts | {"description": s}),
        "panel unit": base(_set(["fieldConfig", "defaults", "unit"], s)(copy.deepcopy(ts))),
        "panel JSON key": base(ts | {s or "k": s}),
        "nested JSON key": base(_set(["options", s or "k"], {s: [s]})(copy.deepcopy(ts))),
        "panel links": base(ts | {"links": [{"title": s, "url": s, "targetBlank": True}]}),
        "threshold color": base(_set(["fieldConfig", "defaults", "thresholds", "steps"],
                                     [{"color": s, "value": None}, {"color": "red", "value": 1}])(copy.deepcopy(ts))),
        "threshold value": base(_set(["fieldConfig", "defaults", "thresholds", "steps"],
                                     [{"color": "green", "value": None}, {"color": "red", "value": s}])(copy.deepcopy(ts))),
        "transformation": base(ts | {"transformations": [{"id": "organize", "options": {
            "renameByName": {s: s}, "excludeByName": {s: True}}}]}),
        "panel data source": base(ts | {"datasource": {"type": "prometheus", "uid": s}}),
        "query data source": base(_set(["targets", 0, "datasource"], {"type": s, "uid": s})(copy.deepcopy(ts))),
        "legend format": base(_set(["targets", 0, "legendFormat"], s)(copy.deepcopy(ts))),
        "refId": base(_set(["targets", 0, "refId"], s or "Z")(copy.deepcopy(ts))),
        "query JSON key": base(_set(["targets", 0, s or "k"], s)(copy.deepcopy(ts))),
        "query": base(_set(["targets", 0, "expr"], s)(copy.deepcopy(ts))),
        "__name__": base(_set(["targets", 0, "expr"], "{__name__=" + q + "}")(copy.deepcopy(ts))),
        "label value": base(_set(["targets", 0, "expr"], f"sum(rate(pg_up{{job={q}}}[5m]))")(copy.deepcopy(ts))),
        "label name": base(_set(["targets", 0, "expr"], f'pg_up{{{s}="x"}}')(copy.deepcopy(ts))),
        "up_stat selector": base(_set(["targets", 0, "expr"], f"min(pg_up{{job={q}}})")(copy.deepcopy(stat))),
        "raw panel query": base({"type": "text", "title": s, "targets": [{"expr": f"rate(x{{a={q}}}[1m]) # {s}"}]}),
        "row title": base({"type": "row", "title": s, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}, ts),
        "row JSON key": base({"type": "row", "title": "r", s or "k": s, "repeat": s,
                              "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}, ts),
        "collapsed row child": base({"type": "row", "title": s, "collapsed": True,
                                     "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}, "panels": [ts | {"title": s}]}),
        # issue 20's new ways in: text content, typed queries of other data sources (their keys
        # become keyword names), legacy tables and heatmaps (their values reach overrides and
        # options), pie chart legends
        "text content": base({"type": "text", "title": "t", "gridPos": {"h": 3, "w": 24, "x": 0, "y": 0},
                              "options": {"mode": "markdown", "content": s}}),
        "loki query": base(ts | {"targets": [{"refId": "A", "expr": s, "legendFormat": s, "queryType": "range",
                                              "datasource": {"type": "loki", "uid": s}, s or "k": s}]}),
        "other data source query": base(ts | {"targets": [{"refId": "A", "service": s, s or "k": [s],
                                                           "datasource": {"type": "jaeger", "uid": s}}]}),
        "angular table style": base({"type": "table", "title": "T", "transform": "table",
                                     "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0}, **ours,
                                     "styles": [{"pattern": s, "alias": s, "unit": s, "type": "date", "dateFormat": s,
                                                 "link": True, "linkUrl": s, "thresholds": [s, "1"],
                                                 "colors": [s, "red", "green"], s or "k": s},
                                                {"pattern": "/.*/", "unit": s, "decimals": 2}]}),
        "angular heatmap": base({"type": "heatmap", "title": "H", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                                 "dataFormat": "tsbuckets", **ours,
                                 "color": {"mode": "spectrum", "colorScheme": s, "cardColor": s},
                                 "yAxis": {"format": s, "min": s}, "cards": {"cardPadding": s}, s or "k": s}),
        "pie chart": base({"type": "piechart", "title": s, "gridPos": {"h": 8, "w": 8, "x": 0, "y": 0}, **ours,
                           "options": {"legend": {"values": [s], "showLegend": True}, "displayLabels": [s]}}),
    }
    house = house_dashboard()
    house["title"], house["description"] = s or "t", s
    house["templating"]["list"][1]["current"] = {"text": s, "value": s}
    house["templating"]["list"][1]["label"] = s
    out["house dashboard"] = house
    return out


BIG_FIELDS = {"big": ("query",),
              "big-breaks": ("dashboard title", "__name__", "label value", "panel JSON key", "row title")}


def small() -> dict:
    """A small dashboard with a bit of everything: variables, rows (one collapsed), factory and raw panels."""
    ts, stat = house_panel(), house_panel("stat")
    table = P.panel_json(P.table("Top", "", 'topk(5, pg_up{job="postgres"})', "short", P.neutral(),
                                 columns={"Value": "Up"}))
    return {"uid": "small", "title": "Small", "tags": ["a"], "schemaVersion": 41,
            "templating": {"list": [{"type": "query", "name": "job", "label": "Job", "query": "label_values(up, job)",
                                     "current": {"text": "postgres", "value": "postgres"}}]},
            "panels": [{"type": "row", "title": "Top", "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}, ts, stat,
                       {"type": "row", "title": "Shut", "collapsed": True, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 9},
                        "panels": [table, {"type": "text", "title": "Read", "options": {"content": "# hi"}}]}]}


#: Keys the mutation leaves alone: renamed, they make a dashboard of another shape (a panel with
#: no place or type, a step with no color), which the field cases above cover.
STRUCTURE = {"panels", "targets", "type", "gridPos", "h", "w", "x", "y", "templating", "list", "fieldConfig",
             "defaults", "thresholds", "steps", "color", "value", "title", "collapsed", "expr", "refId"}


def mutate(value, rng: random.Random, payloads: list[str]):
    """The JSON with about a third of its strings and a tenth of its keys made hostile (seeded)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = rng.choice(payloads) if k not in STRUCTURE and rng.random() < 0.1 else k
            out[key] = mutate(v, rng, payloads)
        return out
    if isinstance(value, list):
        return [mutate(v, rng, payloads) for v in value]
    if isinstance(value, str) and rng.random() < 0.35:
        return rng.choice([rng.choice(payloads), value + rng.choice(payloads), rng.choice(payloads) + value])
    return value


def corpus() -> list[tuple[str, dict]]:
    """(name, dashboard): every payload in every field, 200 KB in some, and seeded mutations
    of a small dashboard and of one of ours (many fields hostile at once)."""
    cases = [(f"{field} / {name}", d) for name, s in PAYLOADS.items() for field, d in fields(s).items()]
    cases += [(f"{field} / {name}", fields(s)[field]) for name, s in BIG.items() for field in BIG_FIELDS[name]]
    rng = random.Random(16)  # deterministic: the same mutations on every run
    payloads = [PAYLOADS[k] for k in sorted(PAYLOADS)] + [EXPLOIT]
    cases += [(f"mutated small {i}", mutate(small(), rng, payloads)) for i in range(40)]
    cases += [(f"mutated ours {i}", mutate(house_dashboard(rows=4), rng, payloads)) for i in range(3)]
    return cases


CORPUS = corpus()


# --- what every case must show ----------------------------------------------------------------


@pytest.fixture
def canaries(tmp_path, monkeypatch):
    """Runs the test in tmp_path; afterwards, neither canary may have fired."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CANARY_ENV, raising=False)
    yield tmp_path
    assert not (tmp_path / CANARY_FILE).exists(), "a payload ran: it created the canary file"
    assert CANARY_ENV not in os.environ, "a payload ran: it set the canary variable"


def run_unchecked(source: str) -> dict:
    """Execute the module as the loader does at `make dashboards`: no guard, full builtins, as a
    module of this repository's dashboards/ (so its catalog import finds monitoring/)."""
    package = f"{loader._package(ROOT)}.dashboards"
    importlib.import_module(package)
    namespace: dict = {"__name__": f"{package}._imported", "__package__": package}
    exec(compile(source, "<imported>", "exec"), namespace)  # noqa: S102 - the point of the test
    return dashboard_json(namespace["build"](CONFIG))


def comment_lines(source: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]


def check_case(name: str, d: dict) -> str:
    """'ok', or 'failed cleanly: <the one-line error>' (ImportFailed, or a shape Grafana could
    not load either: exit 1 or 2 in the CLI). Any other exception is a traceback: the test fails."""
    try:
        result = import_dashboard(copy.deepcopy(d))
    except DashgenError as exc:
        return f"failed cleanly: {exc}"
    source = result.source
    assert all(line.isprintable() for line in source.split("\n")), f"{name}: a raw control character"
    for c in result.comments:  # only the importer's own comments (the guard compared them with the source's)
        assert c == "#: The data source most queries here name." or c.startswith(f"# {TODO_CATALOG}: "), (name, c)
    if len(source) < 100_000:  # tokenize, the reference, takes a while over a 200 KB literal
        assert result.comments == comment_lines(source), name
    want = {**d, "uid": result.uid} if result.uid_note else d  # a uid-less dashboard gets one (issue 20)
    expected = normalize_dashboard(want)
    if result.migrations:  # legacy panels come back migrated (issue 20)
        from generator.importer.migrate import migrate_dashboard

        expected = migrate_dashboard(expected)[0]
    assert run_unchecked(source) == expected, f"{name}: does not render back"
    return "ok"


def test_the_hostile_corpus_imports_or_fails_cleanly_and_nothing_runs(canaries):
    """Every field x every payload, 200 KB strings, seeded mixtures (numbers printed with -s)."""
    started, outcome = time.monotonic(), {}
    for name, d in CORPUS:
        outcome[name] = check_case(name, d)
        assert not (canaries / CANARY_FILE).exists() and CANARY_ENV not in os.environ, name
    failed = {n: o for n, o in outcome.items() if o != "ok"}
    print(f"\nhostile import corpus: {len(CORPUS)} cases, {len(CORPUS) - len(failed)} round-trip, "
          f"{len(failed)} fail cleanly, {time.monotonic() - started:.1f} s")
    assert len(CORPUS) >= 750
    # Failing cleanly would be allowed, but no case here needs to: every field takes every payload.
    assert failed == {}, failed


# --- the exploit from the issue, by name -------------------------------------------------------


def exploit_dashboard() -> dict:
    return base({"type": "timeseries", "title": "t", "targets": [{"expr": EXPLOIT}]})


def test_issue_16_exploit_does_not_run_through_the_library(canaries):
    result = import_dashboard(exploit_dashboard())
    todo = [c for c in result.comments if TODO_CATALOG in c]
    assert todo == ["# TODO: add to the catalog: \"x\\n*[__import__('os').system('touch PWNED')][:0],\""]
    assert todo[0] in [line.strip() for line in result.source.splitlines()]
    assert render_module(result.source, result.comments) == normalize_dashboard(exploit_dashboard())
    assert run_unchecked(result.source) == normalize_dashboard(exploit_dashboard())  # as `make dashboards` runs it


def test_issue_16_exploit_does_not_run_through_the_cli(tmp_path):
    """`dashgen import FILE --out X` in a fresh process, then `dashgen render` of a project
    holding the module (the real loader, as `make dashboards`): no PWNED file anywhere."""
    project = tmp_path / "project"
    for name in ("monitoring", "dashboards", "alerts", "synthetics"):
        shutil.copytree(ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "environments.toml", project / "environments.toml")
    (tmp_path / "hostile.json").write_text(json.dumps(exploit_dashboard()), encoding="utf-8")
    r = dashgen("--root", str(project), "import", "hostile.json", "--out", "project/dashboards/hostile.py",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / CANARY_FILE).exists() and not (ROOT / CANARY_FILE).exists()
    module = (project / "dashboards" / "hostile.py").read_text(encoding="utf-8")
    assert "\n*[__import__" not in module and "__import__('os')" in module  # written, as text
    r = dashgen("--root", str(project), "render", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / CANARY_FILE).exists() and not (project / CANARY_FILE).exists()
    rendered = json.loads((project / "rendered" / "dashboards" / "hostile.json").read_text())
    assert rendered["panels"][0]["targets"][0]["expr"] == EXPLOIT


def test_a_module_the_guard_refuses_is_neither_run_nor_written(tmp_path, monkeypatch, canaries):
    """If the escaping ever failed, the guard stops the import: exit 1 naming what it found, no file."""
    import generator.importer as importer

    real = importer._Builder.module

    def leaky(self, source_name):  # a bug that lets the payload out of its comment
        result = real(self, source_name)
        result.source = result.source.replace("# TODO: add to the catalog: x", f"# TODO\n*[{_RUN_FILE}][:0],\n#")
        return result

    monkeypatch.setattr(importer._Builder, "module", leaky)
    (tmp_path / "hostile.json").write_text(json.dumps(base({"type": "timeseries", "title": "t",
                                                             "targets": [{"expr": "rate(x[5m])"}]})))
    r = CliRunner().invoke(main, ["--root", str(ROOT), "import", "hostile.json", "--out", "out.py"])
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith("error: dashboard 'Hostile': the generated code holds what the importer never writes")
    assert "(line 34: an expression: Starred `*[__import__('os').system('touch PWNED')][:0]`)" in r.stderr
    assert "nothing was run or written" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "out.py").exists()


# --- labels spelled like Python keywords ----------------------------------------------------------


@pytest.mark.parametrize("expr", ['pg_up{if="x"}', 'pg_up{series="x"}', 'max(pg_up{class="a", job="postgres"})',
                                  'pg_up{None="x"}', 'pg_up{__import__="x"}'])
def test_label_names_that_are_python_keywords_import(expr, canaries):
    d = base({"type": "stat", "title": "s", "targets": [{"expr": expr}]})
    result = import_dashboard(d)
    assert run_unchecked(result.source) == normalize_dashboard(d)


def test_a_catalogued_label_spelled_like_a_keyword_goes_through_eq(monkeypatch, canaries):
    """A catalog label `if`/`series` cannot be a keyword argument of C.sel: every matcher is
    then written positionally (`eq("if", "x")`), in the query's order."""
    metric, _labels = CATALOG.lookup("pg_up")
    monkeypatch.setitem(CATALOG._series, "kw_metric", (metric, ("if", "series", "job")))
    d = base({"type": "timeseries", "title": "t",
              "targets": [{"expr": 'sum(kw_metric{if="x", series="y", job="postgres"}) + sum(kw_metric{job="z"})'}]})
    result = import_dashboard(d)
    assert ("C.sel('kw_metric', eq('if', 'x'), eq('series', 'y'), eq('job', cfg.jobs.postgres))"
            in result.source), result.source
    assert "C.sel('kw_metric', job='z')" in result.source  # the house spelling where it can be
    assert "from generator.catalog import eq" in result.source
    assert run_unchecked(result.source) == normalize_dashboard(d)


# --- the escaping path on its own ----------------------------------------------------------------


@pytest.mark.parametrize("text", [*PAYLOADS.values(), "".join(map(chr, range(0, 0x3000, 7)))])
def test_every_string_literal_and_comment_is_one_printable_line(text):
    for literal in (pysrc.string(text), pysrc.string(text, "'"), pysrc.fstring([("text", text)])):
        assert "\n" not in literal and literal.isprintable()
        assert eval(literal) == text  # noqa: S307 - our own literal
    line = pysrc.comment(text)
    assert line.isprintable() and comment_lines(line + "\n") == [line]
    inner = pysrc.inner_string(text)
    assert inner is None or ("\\" not in inner and '"' not in inner and eval(inner) == text)  # noqa: S307


@pytest.mark.parametrize("bad", ["if", "class", "1x", "a-b", "\uff52epeat", "", "a.b", "x y", "None"])
def test_names_must_be_ascii_identifiers_that_are_not_keywords(bad):
    assert not pysrc.is_identifier(bad)
    with pytest.raises(ValueError):
        pysrc.name(bad)
    call = pysrc.Call("p.row", [], [(bad, pysrc.literal(1))])  # a key that is not a name: **{...}
    assert pysrc.flat(call) == "p.row(**{" + pysrc.string(bad) + ": 1})"


# --- the guard on its own ----------------------------------------------------------------------


GOOD = '''"""A module as the importer writes it."""

from generator import panels as p
from generator.catalog import eq, ne
from generator.config import Config

from ..monitoring.catalog import CATALOG as C

#: The data source most queries here name.
DATASOURCE = {"type": "prometheus", "uid": "x"}


def build(cfg: Config):
    return p.imported_dashboard(settings(cfg), [p.row("R", *r(cfg), collapsed=True, **{"a-b": 1})])


def settings(cfg: Config) -> dict:
    """Everything but the panels."""
    return {"uid": cfg.dashboards.database, "title": "T", "n": -1.5, "none": None}


def r(cfg: Config):
    t = cfg.thresholds
    return [
        # TODO: add to the catalog: foo
        p.stat("A", "", p.target(f"max({C.sel('pg_up', eq('job', 'x'), ne('instance', 'y'))})", datasource=DATASOURCE),
               "none", p.bad_above(t.pool_usage_warn), mappings=p.UP_DOWN_MAPPINGS),
        p.raw({"type": "text", "targets": [{"expr": C.sel("pg_up", job=cfg.jobs.postgres)}]}),
    ]
'''

#: (what, replace this, with that): each turns GOOD into a module that would do harm or is not ours.
MALICIOUS = [
    ("__import__ call", 'p.raw({"type": "text"', 'p.raw({"type": __import__("os").system("touch PWNED")'),
    ("exec", '"title": "T"', '"title": exec("import os")'),
    ("eval", '"title": "T"', '"title": eval("1")'),
    ("open", '"title": "T"', '"title": open("PWNED", "w")'),
    ("getattr", '"title": "T"', '"title": getattr(p, "raw")'),
    ("lambda", '"title": "T"', '"title": (lambda: 0)()'),
    ("dunder attribute", '"title": "T"', '"title": p.__builtins__'),
    ("dunder on a call", '"title": "T"', '"title": p.neutral().__class__'),
    ("private attribute", '"title": "T"', '"title": p._flow'),
    ("config internals", '"title": "T"', '"title": cfg.__class__'),
    ("unknown config field", '"title": "T"', '"title": cfg.jobs.nope'),
    ("unknown factory", '"title": "T"', '"title": p.merged({}, {})'),
    ("subscript", '"title": "T"', '"title": settings(cfg)["uid"]'),
    ("comprehension", '"title": "T"', '"title": [x for x in "ab"]'),
    ("binary operator", '"title": "T"', '"title": "a" * 10**9'),
    ("walrus", '"title": "T"', '"title": (x := 1)'),
    ("f-string field", 'f"max({C.sel(', 'f"{__import__(\'os\')}max({C.sel('),
    ("f-string format spec", "eq('job', 'x'), ne('instance', 'y'))}", "eq('job', 'x'), ne('instance', 'y')):{open('x')}}"),
    ("f-string conversion", "eq('job', 'x'), ne('instance', 'y'))}", "eq('job', 'x'), ne('instance', 'y'))!r}"),
    ("starred other", "*r(cfg)", "*__import__('os').environ"),
    ("double star other", '**{"a-b": 1}', "**__import__('os').environ"),
    ("own function with more", "*r(cfg)", "*r(cfg, open)"),
    ("import os", "from generator import panels as p", "import os\nfrom generator import panels as p"),
    ("from os import", "from generator.config import Config", "from os import system as Config"),
    ("relative import", "from generator.config import Config", "from .config import Config"),
    ("another project module", "from ..monitoring.catalog import CATALOG as C", "from ..monitoring.queries import C"),
    ("the catalog's other names", "from ..monitoring.catalog import CATALOG as C",
     "from ..monitoring.catalog import raymontology_metrics as C"),
    ("other generator import", "from generator.catalog import eq, ne", "from generator.grafana import upload"),
    ("statement in body", "    t = cfg.thresholds", "    t = cfg.thresholds\n    print(t)"),
    ("other assignment", "    t = cfg.thresholds", "    t = __builtins__"),
    ("module assignment", "DATASOURCE = {", "p = {"),
    ("code in DATASOURCE", '"uid": "x"}', '"uid": open("x")}'),
    ("module expression", "\n\ndef build", "\n\n__import__('os')\n\n\ndef build"),
    ("decorator", "\n\ndef r(cfg", "\n\n@p.raw\ndef r(cfg"),
    ("default argument", "def r(cfg: Config):", "def r(cfg: Config = open('x')):"),
    ("annotation", "def r(cfg: Config):", "def r(cfg: __import__('os').getcwd()):"),
    ("return annotation", "def settings(cfg: Config) -> dict:", "def settings(cfg: Config) -> open('x'):"),
    ("nested function", "    t = cfg.thresholds", "    def t(cfg: Config):\n        return 1"),
    ("async function", "def r(cfg: Config):", "async def r(cfg: Config):"),
    ("class", "\n\ndef r(cfg", "\n\nclass X:\n    pass\n\n\ndef r(cfg"),
    ("function named like a builtin", "def r(cfg: Config):\n", "def dict(cfg: Config):\n"),
    ("dunder function", "*r(cfg)", "*__init__(cfg)"),
    ("while", "    t = cfg.thresholds", "    while True:\n        pass"),
    ("global", "    t = cfg.thresholds", "    global p"),
    ("bytes", '"title": "T"', '"title": b"T"'),
    ("ellipsis", '"title": "T"', '"title": ...'),
    ("tuple", '"title": "T"', '"title": ("T",)'),
    ("set", '"title": "T"', '"title": {"T"}'),
    ("NUL in a string", '"title": "T"', '"title": "T\x00"'),
    ("U+2028 in a string", '"title": "T"', '"title": "T\u2028"'),
    ("bidi override in a comment", "# TODO: add to the catalog: foo", "# TODO: add to the catalog: foo\u202e"),
    ("no build", "def build(cfg: Config):", "def bulid(cfg: Config):"),
]


def test_the_guard_passes_what_the_importer_writes():
    guard.check_module(GOOD, cfg=CONFIG, comments=["#: The data source most queries here name.",
                                       "# TODO: add to the catalog: foo"])


@pytest.mark.parametrize("what, old, new", MALICIOUS, ids=[m[0] for m in MALICIOUS])
def test_the_guard_refuses_a_harmful_module_before_anything_runs(what, old, new, canaries):
    assert GOOD.count(old) >= 1, what
    source = GOOD.replace(old, new, 1)
    with pytest.raises(UnsafeCode, match="nothing was run or written"):
        render_module(source)


def test_the_guard_compares_comments_with_the_ones_the_importer_meant():
    meant = ["#: The data source most queries here name.", "# TODO: add to the catalog: foo"]
    sneaky = GOOD.replace("# TODO: add to the catalog: foo", "# TODO: add to the catalog: foo\n        # and more")
    guard.check_module(sneaky, None, CONFIG)  # harmless code, but a comment nobody wrote:
    with pytest.raises(UnsafeCode, match="comments are not the ones the importer wrote"):
        guard.check_module(sneaky, meant, CONFIG)


@pytest.mark.parametrize("code", ["__import__('os')", "p.raw.__globals__", "open('x')", "(lambda: 1)()",
                                  "p.row('a', *[1])", "C.sel('x', **{'a': 1}) or 1", "[p][0]", "cfg.jobs.__dict__"])
def test_the_guard_checks_each_expression_the_importer_evaluates(code):
    with pytest.raises(UnsafeCode):
        guard.safe_eval(code, {"p": P, "C": CATALOG, "cfg": CONFIG}, CONFIG)


def test_a_module_that_passed_runs_without_builtins_it_does_not_need():
    """Defence in depth: the checked module runs with `dict` and three imports, nothing else."""
    with pytest.raises(ImportError, match="may not import 'os'"):
        guard._importer(CATALOG)("os", fromlist=("system",))
    with pytest.raises(ImportError):
        guard._importer(CATALOG)("generator", fromlist=("grafana",))
    module = guard.run_module(GOOD, None, CONFIG, CATALOG)
    assert set(module.__dict__["__builtins__"]) == {"__import__", "dict"}
    assert module.build(CONFIG)["uid"] == CONFIG.dashboards.database


def test_an_unwritable_value_fails_cleanly():
    with pytest.raises(ImportFailed, match="nan is not a JSON number"):
        import_dashboard(base({"type": "text", "title": "x", "options": {"v": float("nan")}}))


def test_the_guard_knows_every_factory_the_importer_writes():
    """The guard's vocabulary is the importer's: a factory the importer starts writing must be
    added to guard.PANEL_NAMES (or every import using it is refused)."""
    written = set()
    for path in (ROOT / "generator" / "importer").glob("*.py"):
        written |= set(re.findall(r'"p\.(\w+)', path.read_text(encoding="utf-8")))
    written |= {"UP_DOWN_MAPPINGS"}
    assert written and written <= guard.PANEL_NAMES, written - guard.PANEL_NAMES
    assert all(hasattr(P, n) for n in guard.PANEL_NAMES)


# --- wrongly typed values in real dashboards ------------------------------------------------

#: Values of the wrong type for any key: what a hand-edited or generated dashboard may hold.
ODD_VALUES = [None, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, True, "null", "/.*/", 1e308]


def _mutated(d: dict, rnd: random.Random, changes: int = 3) -> dict:
    """A copy of `d` with `changes` values anywhere in it replaced by ODD_VALUES or left out."""
    d = copy.deepcopy(d)
    slots = []

    def walk(o):
        items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else ()
        for k, v in items:
            slots.append((o, k))
            walk(v)

    walk(d)
    for parent, key in rnd.sample(slots, min(changes, len(slots))):
        if isinstance(parent, dict) and rnd.random() < 0.25:
            parent.pop(key, None)
        else:
            try:
                parent[key] = rnd.choice(ODD_VALUES)
            except (IndexError, KeyError):
                pass  # gone with an earlier change
    return d


@pytest.mark.parametrize("seed", range(6))
def test_real_dashboards_with_wrongly_typed_values_import_or_fail_clearly(seed):
    """Every key of a real dashboard may hold a value of another type: the import writes a
    module that renders the dashboard back (a panel it cannot read kept as JSON), or fails
    with the importer's own error naming what is wrong; never a traceback."""
    rnd = random.Random(seed)
    files = sorted((ROOT / "tests" / "fixtures" / "realworld" / "dashboards").glob("*.json"))
    outcomes = [check_case(path.name, _mutated(json.loads(path.read_text()), rnd)) for path in rnd.sample(files, 8)]
    # check_case: the module, run, renders the (migrated) dashboard back, or the error is the importer's own
    assert all(o == "ok" or (o.startswith("failed cleanly: ") and len(o) > 16) for o in outcomes), outcomes
    assert "ok" in outcomes  # some still import
