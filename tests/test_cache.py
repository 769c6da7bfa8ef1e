"""The result cache (generator.cache): reused answers on unchanged input, fresh ones on any
change, and a cache folder treated as hostile input (forged, damaged or foreign entries are
ignored, never believed)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from generator import cache, loader
from generator.checks import run_report
from generator.project import Project

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def on(tmp_path, monkeypatch):
    """The cache turned on, with a signing key of this test's own."""
    monkeypatch.setenv(cache.ENV, "on")
    monkeypatch.delenv(cache.DIR_ENV, raising=False)  # the project's own .cache/dashgen
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "dashgen" / "key"


@pytest.fixture
def counting_promtool(tmp_path, promtool):
    """The real promtool behind a wrapper that logs each invocation's arguments."""
    log = tmp_path / "promtool.log"
    wrapper = tmp_path / "bin" / "promtool"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {promtool} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def _project(tmp_path, slos: bool = False) -> Path:
    """A scratch copy of the project; its SLOs (whose generated tests are most of a cold
    promtool run) only when the test is about them."""
    dst = tmp_path / "project"
    for name in ("monitoring", "dashboards", "alerts", "synthetics", *(("slos",) if slos else ())):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "rules", dst / "tests" / "rules")
    shutil.copyfile(ROOT / "environments.toml", dst / "environments.toml")
    return dst


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _report(root, wrapper):
    r = run_report(root, only=["promtool/", "amtool/"], promtool=str(wrapper))
    return [str(f) for f in r.findings]


def test_roundtrip_and_every_untrusted_entry_is_ignored(tmp_path, on):
    store = cache.ProjectCache.for_root(tmp_path)
    key = cache.digest("x", b"content")
    assert store.get("promtool-check", key) is None
    store.put("promtool-check", key, b'{"rc": 0, "out": ""}')
    assert store.get("promtool-check", key) == b'{"rc": 0, "out": ""}'
    entry = tmp_path / cache.FOLDER / "promtool-check" / f"{key}.bin"
    assert (tmp_path / cache.FOLDER / ".gitignore").read_text().endswith("*\n")
    assert stat.S_IMODE(on.stat().st_mode) == 0o600

    good = entry.read_bytes()
    entry.write_bytes(good[:-1] + b"1")  # the data changed, the signature did not
    assert store.get("promtool-check", key) is None
    entry.write_bytes(good[:20])  # truncated
    assert store.get("promtool-check", key) is None
    other = cache.ProjectCache(tmp_path / cache.FOLDER, b"k" * 32)  # signed by another user's key
    other.put("promtool-check", key, b'{"rc": 0, "out": ""}')
    assert store.get("promtool-check", key) is None
    entry.unlink()
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(good)
    entry.symlink_to(target)  # even a valid entry is not read through a link
    assert store.get("promtool-check", key) is None
    entry.unlink()
    entry.write_bytes(good)
    assert store.get("promtool-check", key) == b'{"rc": 0, "out": ""}'
    # The same data filed under another kind or key does not verify either.
    (tmp_path / cache.FOLDER / "amtool").mkdir()
    shutil.copyfile(entry, tmp_path / cache.FOLDER / "amtool" / f"{key}.bin")
    assert store.get("amtool", key) is None
    with pytest.raises(ValueError):
        store.get("../x", key)


def test_no_cache_without_a_private_key_or_when_turned_off(tmp_path, on, monkeypatch):
    assert cache.ProjectCache.for_root(tmp_path) is not None
    on.chmod(0o644)  # readable by others: not a secret any more
    assert cache.ProjectCache.for_root(tmp_path) is None
    on.chmod(0o600)
    monkeypatch.setenv(cache.ENV, "off")
    assert cache.ProjectCache.for_root(tmp_path) is None


def test_a_warm_check_asks_promtool_nothing_and_a_change_asks_again(tmp_path, on, counting_promtool):
    wrapper, log = counting_promtool
    root = _project(tmp_path)
    first = _report(root, wrapper)
    assert any(line.startswith("check rules") for line in _lines(log))
    assert any(line.startswith("test rules") for line in _lines(log))
    runs = len(_lines(log))

    assert _report(root, wrapper) == first
    assert len(_lines(log)) == runs  # every answer came from the cache

    # One test file changes: only it goes to promtool again, and its failure is reported.
    test = root / "tests" / "rules" / "http.test.yaml"
    test.write_text(test.read_text().replace("eval_time: 10m\n        alertname: HighErrorRate",
                                             "eval_time: 10m\n        alertname: NoSuchAlert", 1))
    changed = _report(root, wrapper)
    new = _lines(log)[runs:]
    assert new == ["test rules http.test.yaml"]
    assert any("http.test.yaml" in f and "promtool test rules fails" in f for f in changed)
    assert _report(root, wrapper) == changed and len(_lines(log)) == runs + 1  # a failure is cached too

    # A rule changes: the check and every test run again (they all read the rule files).
    rule = next((root / "alerts").glob("*.py"))
    rule.write_text(rule.read_text() + "\n# a comment changes no rule file\n")
    _report(root, wrapper)
    assert len(_lines(log)) == runs + 1  # the rendered rule files are the same bytes
    os.utime(wrapper, ns=(1, 1))  # another promtool (its identity changed): everything again
    _report(root, wrapper)
    assert len(_lines(log)) > runs + 1 and any(x.startswith("check rules") for x in _lines(log)[runs + 1:])


def test_forged_or_damaged_entries_are_recomputed(tmp_path, on, counting_promtool):
    wrapper, log = counting_promtool
    root = _project(tmp_path)
    test = root / "tests" / "rules" / "http.test.yaml"
    test.write_text(test.read_text().replace("eval_time: 10m\n        alertname: HighErrorRate",
                                             "eval_time: 10m\n        alertname: NoSuchAlert", 1))
    failing = _report(root, wrapper)
    assert any("promtool test rules fails" in f for f in failing)
    runs = len(_lines(log))
    # Someone rewrites every entry to say "passed" (valid JSON, but not signed with our key).
    for entry in (root / cache.FOLDER).rglob("*.bin"):
        entry.write_bytes(b"\0" * 32 + b'{"rc": 0, "out": ""}')
    assert _report(root, wrapper) == failing
    assert len(_lines(log)) > runs


def test_signed_but_malformed_values_are_recomputed(tmp_path, on, counting_promtool):
    wrapper, log = counting_promtool
    root = _project(tmp_path)
    first = _report(root, wrapper)
    runs = len(_lines(log))
    store = cache.ProjectCache.for_root(root)
    for entry in (root / cache.FOLDER / "promtool-test").glob("*.bin"):
        store.put("promtool-test", entry.stem, b'{"rc": "0", "out": null}')  # signed, wrong shape
    assert _report(root, wrapper) == first
    assert len(_lines(log)) > runs


def test_definition_bytecode_comes_from_the_cache_and_bad_entries_are_compiled_afresh(tmp_path, on):
    root = _project(tmp_path)
    store = cache.ProjectCache.for_root(root)
    config = Project(root).config
    first = loader.load(root, config, cache=store)
    entries = sorted((root / cache.FOLDER / "bytecode").glob("*.bin"))
    assert entries and not list((root / "dashboards").rglob("__pycache__"))
    for entry in entries:  # garbage that is not even marshal data
        entry.write_bytes(entry.read_bytes()[:40] + b"\xff" * 10)
    (root / "dashboards" / "business.py").write_text((root / "dashboards" / "business.py").read_text() + "\n")
    again = loader.load(root, config, cache=store)  # a changed file: the package is imported afresh
    assert [rel for rel, _ in again.dashboards] == [rel for rel, _ in first.dashboards]
    assert all(store.get("bytecode", e.stem) is None or e.read_bytes()[-10:] != b"\xff" * 10 for e in entries)


def test_render_keeps_template_bytecode_and_writes_the_same_bytes(tmp_path, on):
    from generator import docs, preview, templatecache
    from generator.render import render_project

    root = _project(tmp_path)
    plain = render_project(Project(root))  # no cache: compiled as always
    store = cache.ProjectCache.for_root(root)
    try:
        docs._env.cache.clear()  # jinja2's in-process copies: make it load from the store
        preview._env.cache.clear()
        cold = render_project(Project(root, cache=store))
        templates = sorted((root / cache.FOLDER / templatecache.KIND).glob("*.bin"))
        assert len(templates) == 3  # runbooks, catalog, preview
        docs._env.cache.clear()
        preview._env.cache.clear()
        warm = render_project(Project(root, cache=store))  # the templates' code from the store
        for entry in templates:  # damaged (signature fails) or signed garbage: compiled afresh
            entry.write_bytes(entry.read_bytes()[:40] + b"\xff" * 10)
        key = templates[0].stem
        store.put(templatecache.KIND, key, b"not a jinja2 bytecode header")
        docs._env.cache.clear()
        preview._env.cache.clear()
        damaged = render_project(Project(root, cache=store))
    finally:
        templatecache.use_cache(docs._env, "docs", None)
        templatecache.use_cache(preview._env, "preview", None)
    assert cold == warm == damaged == plain
    assert store.get(templatecache.KIND, key) != b"not a jinja2 bytecode header"  # rewritten


def test_the_cli_render_fills_the_cache_and_stays_byte_identical(tmp_path, on):
    from conftest import dashgen

    root = _project(tmp_path)
    off = dashgen("--root", str(root), "render", "--out", str(tmp_path / "plain"), env={cache.ENV: "off"})
    assert off.returncode == 0, off.stderr
    env = {cache.ENV: "on", "XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    for _ in range(2):  # cold, then warm from the cache
        r = dashgen("--root", str(root), "render", "--out", str(tmp_path / "out"), env=env)
        assert r.returncode == 0, r.stderr
        assert not dashgen("--root", str(root), "render", "--check", "--out", str(tmp_path / "plain"),
                           env=env).returncode
    assert list((root / cache.FOLDER / "template").glob("*.bin"))
    assert list((root / cache.FOLDER / "bytecode").glob("*.bin"))  # the definitions'

    def tree(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert tree(tmp_path / "out") == tree(tmp_path / "plain")


def test_dashgen_own_bytecode_comes_from_the_user_cache_when_python_writes_none(tmp_path, on):
    import subprocess
    import sys

    from generator import _bytecode

    env = {**os.environ, cache.ENV: "on", "XDG_CACHE_HOME": str(tmp_path / "user-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)  # `make test` keeps the tests' bytecode there; a user's dashgen does not
    probe = "import generator.units as u; print(getattr(u, 'FROM_THE_CACHE', 'compiled'))"

    def run(extra=None):
        r = subprocess.run([sys.executable, "-c", probe], env={**env, **(extra or {})}, capture_output=True,
                           text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    import importlib.util
    import marshal

    path = str(ROOT / "generator" / "units.py")
    beside = Path(path).parent / "__pycache__" / f"units.{sys.implementation.cache_tag}.pyc"
    if beside.exists():
        pytest.skip("generator/__pycache__ exists (tests run without PYTHONDONTWRITEBYTECODE): Python's file wins")
    assert run() == "compiled"
    folder = tmp_path / "user-cache" / "dashgen" / _bytecode.KIND
    assert sorted(folder.glob("*.bin"))
    # A signed entry is what runs: this user's cache is trusted like this user's files.
    key = cache.digest(_bytecode.KIND, importlib.util.MAGIC_NUMBER, path, Path(path).read_bytes())
    store = cache.ProjectCache(tmp_path / "user-cache" / "dashgen", on.read_bytes())
    store.put(_bytecode.KIND, key, marshal.dumps(compile("FROM_THE_CACHE = 'cached'", path, "exec")))
    assert run() == "cached"
    assert run({cache.ENV: "off"}) == "compiled"  # turned off: compiled from the source
    for entry in folder.glob("*.bin"):  # damaged (signature fails): compiled afresh, rewritten
        entry.write_bytes(entry.read_bytes()[:40] + b"\xff" * 10)
    assert run() == "compiled"
    store.put(_bytecode.KIND, key, b"not marshal data")  # signed garbage: compiled afresh
    assert run() == "compiled"
    assert marshal.loads(store.get(_bytecode.KIND, key)).co_filename == path


def test_yaml_text_from_the_cache_is_the_text_pyyaml_writes(tmp_path, on):
    from generator import rules

    store = cache.ProjectCache.for_root(tmp_path)
    shared = ["a", "b"]
    documents = [
        {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0\nor x", "for": "5m", "n": 1, "f": 1.0,
                                              "ok": True, "none": None, "k\u00e9": "\ud55c\U0001F600 \u2028"}]}]},
        {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0\nor x", "for": "5m", "n": 1.0, "f": 1,
                                              "ok": 1, "none": "null", "k\u00e9": "\ud55c\U0001F600 \u2028"}]}]},
        {"x": shared, "y": shared},  # one list twice: PyYAML writes an anchor, so never cached
        {"x": ["a", "b"], "y": ["a", "b"]},
        {1: "int key", "1": "str key"},
    ]
    plain = [rules.dumps(d, "# h\n") for d in documents]
    assert len(set(plain)) == len(plain)
    assert [rules.dumps(d, "# h\n", store) for d in documents] == plain  # cold: written to the store
    assert rules._document_key(documents[2]) is None
    assert [rules.dumps(d, "# h\n", store) for d in documents] == plain  # warm: read from it
    entries = sorted((tmp_path / cache.FOLDER / "yaml").glob("*.bin"))
    assert len(entries) == 4
    for entry in entries:  # damaged (signature fails): dumped afresh
        entry.write_bytes(entry.read_bytes()[:40] + b"\xff" * 10)
    assert [rules.dumps(d, "# h\n", store) for d in documents] == plain
    store.put("yaml", rules._document_key(documents[0]), b"\xff\xfe not utf-8")  # signed garbage
    assert rules.dumps(documents[0], "# h\n", store) == plain[0]


def test_a_changed_rule_group_reruns_only_the_tests_that_load_it(tmp_path, on, counting_promtool):
    """Each test file's answer is keyed by the rule files its `rule_files` names, so editing the
    HTTP group re-runs the HTTP tests and leaves the others (the SLOs' generated ones too) cached."""
    wrapper, log = counting_promtool
    root = _project(tmp_path, slos=True)
    first = _report(root, wrapper)
    runs = len(_lines(log))
    config = root / "monitoring" / "config.py"
    text = config.read_text()
    assert "error_ratio_alert: float = 0.01 " in text
    config.write_text(text.replace("error_ratio_alert: float = 0.01 ", "error_ratio_alert: float = 0.02 ", 1))
    changed = _report(root, wrapper)
    tested = [line.split()[2:] for line in _lines(log)[runs:] if line.startswith("test rules")]
    files = sorted(f for batch in tested for f in batch)
    # http.test.yaml fails at the new threshold and is reported; nothing else went to promtool
    assert files == ["http.test.yaml"], files
    assert any("http.test.yaml" in f and "promtool test rules fails" in f for f in changed) and changed != first


def test_one_cache_folder_serves_several_checkouts(tmp_path, on, monkeypatch, counting_promtool):
    wrapper, log = counting_promtool
    shared = tmp_path / "ci-cache"
    monkeypatch.setenv(cache.DIR_ENV, str(shared))
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    assert _report(a, wrapper) == []
    runs = len(_lines(log))
    assert _report(b, wrapper) == [] and len(_lines(log)) == runs  # b's answers came from a's run
    assert not (a / ".cache").exists() and not (b / ".cache").exists() and any(shared.rglob("*.bin"))


@pytest.mark.parametrize("value", ["relative/cache", "~/cache"])
def test_a_cache_dir_that_is_not_an_absolute_path_is_a_usage_error(tmp_path, on, monkeypatch, value):
    from click.testing import CliRunner

    from generator.cli import main

    monkeypatch.setenv(cache.DIR_ENV, value)
    r = CliRunner().invoke(main, ["--root", str(_project(tmp_path)), "check", "--only", "promtool/"])
    assert r.exit_code == 2 and cache.DIR_ENV in r.stderr and "Traceback" not in r.output, r.output


def test_a_warm_check_reads_no_yaml_and_renders_no_template(tmp_path, on):
    """What a warm check hands promtool and amtool comes from the cache: the rule and test
    files' YAML text, the tests' rule_files, the notification template's text. So it imports
    neither jinja2 nor the docs module, and PyYAML's parser and emitter do not run."""
    import subprocess
    import sys

    root = _project(tmp_path, slos=True)
    script = (
        "import sys, yaml\n"
        "from generator.checks import run_report\n"
        "calls = []\n"
        "for name in ('load', 'dump_all'):\n"
        "    real = getattr(yaml, name)\n"
        "    setattr(yaml, name, lambda *a, _real=real, _name=name, **k: (calls.append(_name), _real(*a, **k))[1])\n"
        f"report = run_report({str(root)!r}, only=['promtool/', 'amtool/'])\n"
        "print(len(report.errors), 'jinja2' in sys.modules, 'generator.docs' in sys.modules, sorted(set(calls)))\n")
    env = {**os.environ}
    cold = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout.split()[:3] == ["0", "True", "True"]  # the first run renders and parses
    warm = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip() == "0 False False []"


def test_the_cached_template_text_is_the_rendered_one(tmp_path, on):
    from dataclasses import replace

    from generator.notifications import template_text
    from repo_project import CONFIG

    store = cache.ProjectCache.for_root(tmp_path)
    fresh = template_text(CONFIG)
    assert template_text(CONFIG, store) == fresh  # filled
    assert template_text(CONFIG, store) == fresh  # read back
    other = replace(CONFIG, notifications=replace(CONFIG.notifications, template_name="other"))
    assert template_text(other, store) == template_text(other) != fresh  # keyed by the values
    for entry in (tmp_path / cache.FOLDER / "notification-template").glob("*.bin"):
        store.put("notification-template", entry.stem, b"\xff\xfe not text")  # signed, not UTF-8
    assert template_text(CONFIG, store) == fresh


def test_amtool_is_asked_again_when_the_configuration_or_the_template_changes(tmp_path, on, monkeypatch):
    """amtool's answer is keyed without writing the YAML: a changed route and a changed
    template colour each reach amtool; an unchanged project does not."""
    real = shutil.which("amtool")
    assert real, "amtool is needed (make tools)"
    log = tmp_path / "amtool.log"
    (tmp_path / "bin").mkdir()
    wrapper = tmp_path / "bin" / "amtool"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    root = _project(tmp_path)

    def asked() -> int:
        assert run_report(root, only=["amtool/"]).errors == []
        return len(_lines(log))

    assert asked() == 1
    assert asked() == 1  # warm: nothing asked
    config = root / "monitoring" / "config.py"
    config.write_text(config.read_text().replace('warning_repeat_interval="4h"', 'warning_repeat_interval="5h"', 1))
    assert asked() == 2  # the route changed
    config.write_text(config.read_text().replace('slack_colour_other="#808080"', 'slack_colour_other="#808081"', 1))
    assert asked() == 3  # the template's text changed
    assert asked() == 3


def test_a_kind_keeps_at_most_its_share_of_entries_the_least_recently_used_go(tmp_path, on, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 10)
    monkeypatch.setattr(cache, "KEEP_ENTRIES", 6)
    store = cache.ProjectCache.for_root(tmp_path)
    keys = [cache.digest(str(i)) for i in range(11)]
    for i, key in enumerate(keys[:10]):
        store.put("promtool-check", key, b"answer %d" % i)
        os.utime(store._path("promtool-check", key), (1_000_000 + i, 1_000_000 + i))  # written long ago, in order
    assert store.get("promtool-check", keys[0]) == b"answer 0"  # read now: used, so kept
    store.put("promtool-check", keys[0], b"answer 0")  # rewriting an entry prunes nothing
    assert len(list((tmp_path / cache.FOLDER / "promtool-check").glob("*.bin"))) == 10
    store.put("promtool-check", keys[10], b"answer 10")  # the eleventh: back to six
    kept = [i for i, key in enumerate(keys) if store.get("promtool-check", key) is not None]
    assert kept == [0, 6, 7, 8, 9, 10]
    assert len(list((tmp_path / cache.FOLDER / "promtool-check").iterdir())) == 6  # nothing else left behind


def test_make_test_keeps_only_the_checkouts_own_bytecode(tmp_path):
    from conftest import prune_pycache

    root = tmp_path / "work" / "main"
    prefix = root / ".cache" / "pycache"
    own = prefix / root.relative_to("/") / "generator" / "__pycache__" / "cli.cpython-311.pyc"
    venv = prefix / root.relative_to("/") / ".venv" / "lib" / "x.pyc"
    temp = prefix / "tmp" / "pytest-of-root" / "pytest-7" / "m.pyc"
    beside = prefix / root.relative_to("/").parent / "other" / "y.pyc"
    for f in (own, venv, temp, beside):
        f.parent.mkdir(parents=True)
        f.write_bytes(b"pyc")
    prune_pycache(str(tmp_path / "elsewhere"), root)  # not the project's prefix: left alone
    assert temp.exists()
    prune_pycache(str(prefix), root)
    assert own.exists() and venv.exists() and not temp.exists() and not beside.exists()
    left = sorted(str(f.relative_to(prefix)) for f in prefix.rglob("*") if f.is_file())
    assert left == sorted(str(f.relative_to(prefix)) for f in (own, venv))
