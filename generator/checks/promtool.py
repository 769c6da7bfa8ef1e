"""promtool: `check rules` on the rule files as rendered, `test rules` on the project's rule tests.

The rule files are written from the loaded groups into a temporary folder, with the same
names as under rendered/alerts/, so promtool sees exactly what `dashgen render` writes.
The tests (`tests/rules/*.test.yaml`, which name their rule files by base name) run in a
second folder against the same files minus their annotations (see `without_annotations`).
Tests that hold only for one uptime source (`Uptime.source`: what ServiceDown reads) live in
`tests/rules/<source>/` and run only while that source is configured, so switching the source
is one config line.
The tests generated for the SLOs under slos/ (generator.slo.unit_tests) run beside them.
The two runs go in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator import cache, rules, slo, yamlio
from generator.checks import WARNING, Issue, Location, cached, check
from generator.errors import ConfigError
from generator.safenames import check_name

TEST_GLOB = "*.test.yaml"
TIMEOUT = 60
_LOCK = threading.Lock()


def promtool_path(project) -> str:
    path = project.promtool or shutil.which("promtool")
    if not path:
        raise ConfigError("promtool is not installed: install Debian's 'prometheus' package "
                          "(`make tools` does it as root), or leave out the promtool/ checks")
    return path


def rule_file_name(group) -> str:
    return f"{check_name(group.name, 'rule group', 'promtool check')}.rules.yaml"


def generated_tests(project) -> dict[str, dict]:
    """promtool test documents generated for the project's SLOs: file name -> document."""
    out: dict[str, dict] = {}
    for _rel, s in getattr(project, "slos", []):
        out.update(slo.unit_tests(project.cfg, s, rule_file_name(slo.rule_group(project.cfg, s))))
    return out


def test_files(project) -> list[Path]:
    """tests/rules/*.test.yaml, and those of tests/rules/<uptime source>/ (the configured one only)."""
    d = project.tests_dir
    if d is None or not d.is_dir():
        return []
    files = sorted(d.glob(TEST_GLOB)) + sorted((d / project.cfg.uptime.source).glob(TEST_GLOB))
    seen: dict[str, Path] = {}
    for f in files:  # promtool runs them side by side in one folder
        if f.name in seen:
            raise ConfigError(f"{test_path(project, seen[f.name])} and {test_path(project, f)}: two rule test "
                              "files with one name; rename one")
        seen[f.name] = f
    return files


def test_path(project, path: Path) -> str:
    """A rule test file as findings name it: tests/rules/<path below the tests folder>."""
    try:
        rel = path.relative_to(project.tests_dir).as_posix()
    except ValueError:
        rel = path.name
    return f"tests/rules/{rel}"


def without_annotations(doc: dict) -> dict:
    """The rule document with alert annotations removed, for unit tests.

    promtool compares annotations exactly, so tests would have to repeat every description
    (with its rendered $value) and every wording change would break them. The tests prove
    when alerts fire and with which labels; `promtool check rules` and the rule/ checks
    cover the annotations.
    """
    return {"groups": [
        {**g, "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in g["rules"]]}
        for g in doc["groups"]
    ]}


@dataclass
class Runs:
    """What promtool said about a project: `check rules` over every rule file (None without
    groups) and `test rules` per test file (None without test files)."""

    check: tuple[int, str] | None = None  # (exit code, output)
    test: list[tuple[str, int, str]] | None = None  # (test file, exit code, output)


def run(project) -> Runs:
    """The promtool runs of a project (`project.promtool_runs` runs them once).

    Each answer is cached (generator.cache) under a key over exactly the bytes promtool
    read (the rule files, and for a test file also the test itself) and the promtool
    binary; only the runs without a trusted cached answer go to promtool, all at once."""
    with _LOCK:  # promtool/check-rules and promtool/test-rules may ask from two threads
        done = project.__dict__.get("promtool_runs")
        return done if isinstance(done, Runs) else _run_uncached(project)


def _run_uncached(project) -> Runs:
    binary = promtool_path(project)
    store = project.result_cache
    tool = cache.tool_identity(binary) if store is not None else ""
    results: dict = {"check": None, "test": None}
    checked_files: dict[str, bytes] = {}
    tested_files: dict[str, bytes] = {}
    for _rel, g in project.groups:
        name = rule_file_name(g)
        doc = rules.group_document(project.cfg, g)
        # rules.dumps takes the text of a document seen before from the cache: PyYAML's
        # emitter was most of a warm check's promtool work
        checked_files[name] = rules.dumps(doc, cache=store).encode("utf-8")
        test_doc = without_annotations(doc)
        if any(g.name == slo.group_name(project.cfg, x) for _r, x in getattr(project, "slos", [])):
            # generated SLO tests evaluate once per input step (slo.unit_tests): the file's
            # evaluation_interval must apply, and a group's own interval would win over it
            test_doc = {"groups": [{k: v for k, v in grp.items() if k != "interval"} for grp in test_doc["groups"]]}
        tested_files[name] = rules.dumps(test_doc, cache=store).encode("utf-8")
    tests = {t.name: t.read_bytes() for t in test_files(project)}
    loads: dict[str, list[str] | None] = {t: _rule_files(project, data) for t, data in tests.items()}
    for name, doc in generated_tests(project).items():
        check_name(name, "generated test file", "promtool test")
        tests[name] = rules.dumps(doc, cache=store).encode("utf-8")
        loads[name] = list(doc["rule_files"])  # what it loads is known: no need to read it back
    check_key = cache.digest("check", tool, *[x for n in sorted(checked_files) for x in (n, checked_files[n])])
    test_keys = {t: cache.digest("test", tool, t, data, *_rule_parts(loads[t], tested_files))
                 for t, data in tests.items()}
    if store is not None:
        if checked_files:
            results["check"] = cache.decode_run(store.get("promtool-check", check_key))
        cached_tests = {t: cache.decode_run(store.get("promtool-test", k)) for t, k in test_keys.items()}
    else:
        cached_tests = dict.fromkeys(tests)
    todo_tests = [t for t in sorted(tests) if cached_tests[t] is None]
    run_check = bool(checked_files) and results["check"] is None
    if run_check or todo_tests:
        fresh = _promtool(binary, checked_files if run_check else {}, tested_files, tests, todo_tests)
        if "check" in fresh:
            results["check"] = fresh["check"][:2]
            if store is not None and fresh["check"][2]:
                store.put("promtool-check", check_key, cache.encode_run(*fresh["check"][:2]))
        for t, (rc, out, complete) in fresh.get("tests", {}).items():
            cached_tests[t] = (rc, out)
            if store is not None and complete:
                store.put("promtool-test", test_keys[t], cache.encode_run(rc, out))
    results["test"] = [(t, *cached_tests[t]) for t in sorted(tests)] if tests else None
    return Runs(check=results["check"], test=results["test"])


def _rule_files(project, test: bytes) -> list[str] | None:
    """The `rule_files` a test file names, when they are plain names in a list; None when they
    cannot be read so (a glob, a path, a file that is not YAML). Cached by the file's bytes:
    reading YAML in pure Python cost a tenth of a warm check."""
    def read():
        try:
            doc = yamlio.safe_load(test.decode("utf-8"))
        except Exception:  # hostile or broken test file: promtool will say what is wrong
            return None
        listed = doc.get("rule_files") if isinstance(doc, dict) else None
        return listed if isinstance(listed, list) and all(isinstance(n, str) for n in listed) else None

    return cached(project, "rule-files", (test, Path(__file__).read_bytes()), read,
                  lambda v: v is None or (isinstance(v, list) and all(isinstance(n, str) for n in v)))


def _rule_parts(listed: list[str] | None, tested_files: dict[str, bytes]) -> list[bytes | str]:
    """What a test file's answer depends on besides itself: the rule files it names (so editing
    one group re-runs only the tests that load it), or every rule file when its `rule_files`
    are not all plain names of the project's rule files."""
    names = sorted(set(listed)) if listed is not None and all(n in tested_files for n in listed) else sorted(tested_files)
    return [x for name in names for x in (name, tested_files[name])]


def _promtool(binary: str, checked_files: dict[str, bytes], tested_files: dict[str, bytes],
              tests: dict[str, bytes], todo: list[str]) -> dict:
    """Run `promtool check rules` (when there are files to check) and `promtool test rules` on
    the test files `todo`, all at once: {'check': (rc, out, complete), 'tests': {name: (rc, out,
    complete)}}, `complete` False when promtool did not finish on its own (not to be cached)."""
    fresh: dict = {}
    with tempfile.TemporaryDirectory(prefix="dashgen-check-") as tmp:
        checked, tested = Path(tmp) / "check", Path(tmp) / "test"
        checked.mkdir()
        tested.mkdir()
        for name, data in checked_files.items():
            (checked / name).write_bytes(data)
        if todo:
            for name, data in tested_files.items():
                (tested / name).write_bytes(data)
            for name in todo:
                (tested / name).write_bytes(tests[name])
        # The test files in one batch per CPU, all batches and the check at once.
        procs = []
        if checked_files:
            procs.append(("check", (), subprocess.Popen(
                [binary, "check", "rules", *sorted(checked_files)], cwd=checked,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for batch in _batches([tested / t for t in todo], os.cpu_count() or 2):
            procs.append(("test", batch, subprocess.Popen(
                [binary, "test", "rules", *batch], cwd=tested,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        fresh["tests"] = {}
        for key, batch, proc in procs:
            try:
                out, _ = proc.communicate(timeout=TIMEOUT)
                rc = proc.returncode
                complete = rc >= 0  # not killed by a signal
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                out, rc, complete = f"promtool timed out after {TIMEOUT} s\n{out}", 1, False
            out = out.replace(str(checked) + "/", "").replace(str(tested) + "/", "")
            if key == "check":
                fresh["check"] = (rc, out, complete)
            elif rc == 0:
                fresh["tests"].update((name, (0, "", complete)) for name in batch)
            else:
                sections = _sections(out, "Unit Testing:")
                for name in batch:
                    text = sections.get(name, "")
                    failed = "FAILED" in text or name not in sections
                    # a file without its own section cannot be told apart: not cached
                    fresh["tests"][name] = (1 if failed else 0, text or out, complete and name in sections)
    return fresh


def _batches(paths: list[Path], n: int) -> list[list[str]]:
    """File names in at most `n` batches of about equal size (largest first, into the lightest)."""
    batches: list[list[str]] = [[] for _ in range(max(1, min(n, len(paths))))]
    load = [0] * len(batches)
    for p in sorted(paths, key=lambda p: p.stat().st_size, reverse=True):
        i = load.index(min(load))
        batches[i].append(p.name)
        load[i] += p.stat().st_size
    return [b for b in batches if b]


def _sections(output: str, marker: str) -> dict[str, str]:
    """promtool's output split per file, by its 'Checking X' / 'Unit Testing: X' headers."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in output.splitlines():
        if line.startswith(marker):
            current = line[len(marker):].strip()
            out.setdefault(current, [])
        else:
            out.setdefault(current, []).append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


@check("promtool/check-rules", external=True)
def check_rules(project):
    """`promtool check rules` accepts every rule file as rendered."""
    result = project.promtool_runs.check
    if result is None or result[0] == 0:
        return
    rc, output = result
    by_file = {rule_file_name(g): (rel, g) for rel, g in project.groups}
    sections = _sections(output, "Checking ")
    reported = False
    for name, text in sections.items():
        if name in by_file and ("FAILED" in text or "error" in text.lower()):
            rel, g = by_file[name]
            yield Issue(Location(file=rel, group=g.name), f"promtool check rules rejects {name}: {' '.join(text.split())}")
            reported = True
    if not reported:
        yield Issue(Location(), f"promtool check rules failed (exit {rc}): {' '.join(output.split())[:2000]}")


@check("promtool/test-rules", external=True)
def test_rules(project):
    """`promtool test rules` passes every rule unit test under tests/rules/ and those generated for the SLOs."""
    paths = {f.name: test_path(project, f) for f in test_files(project)}
    generated = {name: rel for rel, s in getattr(project, "slos", [])
                 for name in slo.unit_tests(project.cfg, s, "")}
    for name, rc, output in project.promtool_runs.test or []:
        if rc == 0:
            continue
        text = output.split("FAILED:", 1)[1] if "FAILED:" in output else output
        where = paths.get(name, f"tests/rules/{name}") if name not in generated else f"{generated[name]} (generated test {name})"
        yield Issue(Location(file=where), f"promtool test rules fails (exit {rc}):\n{text.strip()[:4000]}")


def _load_tests(project):
    for path in test_files(project):
        try:
            doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            yield path, None, str(exc)
            continue
        yield path, doc, None


def _summarise(path: Path) -> dict:
    """What test-coverage needs of one test file: the alerts it shows firing and silent."""
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        return {"error": str(exc), "fires": [], "silent": []}
    fires, silent = [], []
    for test in doc.get("tests") or []:
        for case in test.get("alert_rule_test") or []:
            name = case.get("alertname")
            if isinstance(name, str):  # alert names are strings; anything else matches none
                (fires if case.get("exp_alerts") else silent).append(name)
    return {"error": None, "fires": sorted(set(fires)), "silent": sorted(set(silent))}


def _summary_ok(value) -> bool:
    return (isinstance(value, dict) and set(value) == {"error", "fires", "silent"}
            and (value["error"] is None or isinstance(value["error"], str))
            and all(isinstance(v, list) and all(isinstance(x, str) for x in v)
                    for v in (value["fires"], value["silent"])))


def _test_summary(project, path: Path) -> dict:
    """`_summarise(path)`, cached by the file's bytes and this module's code (reading YAML in
    pure Python was a fifth of a warm check)."""
    return cached(project, "rule-tests", (path.read_bytes(), Path(__file__).read_bytes()),
                  lambda: _summarise(path), _summary_ok)


def _test_file_for(project, group) -> tuple[str, bool]:
    """(tests/rules/ file that tests `group`'s rule file, whether it exists already)."""
    wanted = rule_file_name(group)
    for path, doc, error in _load_tests(project):
        if not error and wanted in (doc.get("rule_files") or []):
            return test_path(project, path), True
    stem = group.name.removeprefix(project.cfg.uid_prefix) if project.cfg.uid_prefix else group.name
    return f"tests/rules/{stem}.test.yaml", False


def _input_series(expr: str) -> list[str]:
    """A series line per selector of `expr`, its equality matchers kept, the rest to fill in."""
    import promql_parser as pp

    from generator.checks.exprs import matchers, metric_name, op_text, selectors

    try:
        ast = pp.parse(expr)
    except Exception:
        return ["'TODO_metric{job=\"TODO\"}'"]
    out = []
    for vs, _parents in selectors(ast):
        name = metric_name(vs) or "TODO_metric"
        labels = [f'{m.name}="{m.value}"' if op_text(m) == "=" else f'{m.name}="TODO"  # {m.name}{op_text(m)}"{m.value}"'
                  for m in matchers(vs)]
        eq = [x for x in labels if "#" not in x]
        todo = [x.split("# ", 1)[1] for x in labels if "#" in x]
        line = f"'{name}{{{', '.join(eq)}}}'" if eq else f"'{name}'"
        if todo:
            line += f"  # also matching {', '.join(todo)}"
        if line not in out:
            out.append(line)
    return out or ["'TODO_metric{job=\"TODO\"}'"]


def skeleton(project, group, alert, firing: bool) -> str:
    """A ready-to-edit promtool test case for `alert`, and where it goes."""
    from generator.durations import duration, seconds

    path, exists = _test_file_for(project, group)
    wait = seconds(alert.for_) if alert.for_ not in rules.NO_FOR else 0
    eval_time = duration(wait + 5 * 60)
    labels = {"severity": alert.severity, **alert.labels}
    lines = [f"add under `tests:` in {path}:" if exists else
             f"create {path} with `rule_files: [{rule_file_name(group)}]`, `evaluation_interval: 1m` and `tests:` holding:"]
    lines += ["  - interval: 1m", "    input_series:"]
    for series in _input_series(alert.expr):
        lines += [f"      - series: {series}",
                  f"        values: '{'TODO' if firing else '0'}x{int((wait + 10 * 60) // 60)}'  # "
                  + ("values that make the expression true" if firing else "a healthy value")]
    lines += ["    alert_rule_test:", f"      - eval_time: {eval_time}" + (f"  # past for: {alert.for_}" if wait else ""),
              f"        alertname: {alert.name}"]
    if firing:
        lines += ["        exp_alerts:",
                  "          - exp_labels: {" + ", ".join(f"{k}: {v}" for k, v in labels.items())
                  + ", TODO: labels the series carry}"]
    else:
        lines += ["        exp_alerts: []"]
    return "\n".join(lines)


@check("promtool/test-coverage")
def test_coverage(project):
    """Every alert has a rule unit test where it fires and one where it stays silent."""
    alerts = [(rel, g, a) for rel, g, a in project.alerts()]
    if not alerts:
        return
    if not test_files(project):
        generated = {case.get("alertname") for doc in generated_tests(project).values()
                     for test in doc.get("tests") or [] for case in test.get("alert_rule_test") or []}
        untested = [a for _rel, _g, a in alerts if a.name not in generated]
        if untested:
            yield Issue(Location(file="tests/rules/"), f"no rule unit tests ({TEST_GLOB}): nothing proves "
                        f"that the {len(untested)} alerts fire", WARNING)
        return
    fires: set[str] = set()
    silent: set[str] = set()
    for path in test_files(project):
        summary = _test_summary(project, path)
        if summary["error"] is not None:
            yield Issue(Location(file=test_path(project, path)), f"not valid YAML: {summary['error']}")
            continue
        fires.update(summary["fires"])
        silent.update(summary["silent"])
    for doc in generated_tests(project).values():  # the SLOs' generated tests
        for test in doc.get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                (fires if case.get("exp_alerts") else silent).add(case.get("alertname"))
    for rel, g, a in alerts:
        loc = Location(file=rel, group=g.name, rule=a.name)
        if a.name not in fires:
            yield Issue(loc, ("no rule unit test shows this alert firing (alert_rule_test with exp_alerts); "
                        + skeleton(project, g, a, firing=True)))
        if a.name not in silent:
            yield Issue(loc, ("no rule unit test shows this alert silent (alert_rule_test with empty exp_alerts); "
                        + skeleton(project, g, a, firing=False)))
