"""promtool: `check rules` on the rule files as rendered, `test rules` on the project's rule tests.

The rule files are written from the loaded groups into a temporary folder, with the same
names as under rendered/alerts/, so promtool sees exactly what `dashgen render` writes.
The tests (`tests/rules/*.test.yaml`, which name their rule files by base name) run in a
second folder against the same files minus their annotations (see `without_annotations`).
The tests generated for the SLOs under slos/ (generator.slo.unit_tests) run beside them.
The two runs go in parallel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator import rules, slo, yamlio
from generator.checks import WARNING, Issue, Location, check
from generator.errors import ConfigError
from generator.safenames import check_name

TEST_GLOB = "*.test.yaml"
TIMEOUT = 60


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
    d = project.tests_dir
    return sorted(d.glob(TEST_GLOB)) if d is not None and d.is_dir() else []


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
    """The promtool runs of a project (`project.promtool_runs` runs them once)."""
    binary = promtool_path(project)
    results = Runs()
    with tempfile.TemporaryDirectory(prefix="dashgen-check-") as tmp:
        checked, tested = Path(tmp) / "check", Path(tmp) / "test"
        checked.mkdir()
        tested.mkdir()
        names = []
        for _rel, g in project.groups:
            name = rule_file_name(g)
            doc = rules.group_document(project.cfg, g)
            (checked / name).write_text(rules.dumps(doc), encoding="utf-8")
            test_doc = without_annotations(doc)
            if any(g.name == slo.group_name(project.cfg, x) for _r, x in getattr(project, "slos", [])):
                # generated SLO tests evaluate once per input step (slo.unit_tests): the file's
                # evaluation_interval must apply, and a group's own interval would win over it
                test_doc = {"groups": [{k: v for k, v in grp.items() if k != "interval"} for grp in test_doc["groups"]]}
            (tested / name).write_text(rules.dumps(test_doc), encoding="utf-8")
            names.append(name)
        tests = []
        for t in test_files(project):
            shutil.copyfile(t, tested / t.name)
            tests.append(t.name)
        for name, doc in generated_tests(project).items():
            check_name(name, "generated test file", "promtool test")
            (tested / name).write_text(rules.dumps(doc), encoding="utf-8")
            tests.append(name)
        # The test files in one batch per CPU, all batches and the check at once.
        procs = []
        if names:
            procs.append(("check", (), subprocess.Popen(
                [binary, "check", "rules", *names], cwd=checked,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for batch in _batches([tested / t for t in tests], os.cpu_count() or 2):
            procs.append(("test", batch, subprocess.Popen(
                [binary, "test", "rules", *batch], cwd=tested,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        results.test = [] if tests else None
        for key, batch, proc in procs:
            try:
                out, _ = proc.communicate(timeout=TIMEOUT)
                rc = proc.returncode
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                out, rc = f"promtool timed out after {TIMEOUT} s\n{out}", 1
            out = out.replace(str(checked) + "/", "").replace(str(tested) + "/", "")
            if key == "check":
                results.check = (rc, out)
            elif rc == 0:
                results.test.extend((name, 0, "") for name in batch)
            else:
                sections = _sections(out, "Unit Testing:")
                for name in batch:
                    text = sections.get(name, "")
                    failed = "FAILED" in text or name not in sections
                    results.test.append((name, 1 if failed else 0, text or out))
    return results


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


@check("promtool/check-rules")
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


@check("promtool/test-rules")
def test_rules(project):
    """`promtool test rules` passes every rule unit test under tests/rules/ and those generated for the SLOs."""
    generated = {name: rel for rel, s in getattr(project, "slos", [])
                 for name in slo.unit_tests(project.cfg, s, "")}
    for name, rc, output in project.promtool_runs.test or []:
        if rc == 0:
            continue
        text = output.split("FAILED:", 1)[1] if "FAILED:" in output else output
        where = f"tests/rules/{name}" if name not in generated else f"{generated[name]} (generated test {name})"
        yield Issue(Location(file=where), f"promtool test rules fails (exit {rc}):\n{text.strip()[:4000]}")


def _load_tests(project):
    for path in test_files(project):
        try:
            doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            yield path, None, str(exc)
            continue
        yield path, doc, None


def _test_file_for(project, group) -> tuple[str, bool]:
    """(tests/rules/ file that tests `group`'s rule file, whether it exists already)."""
    wanted = rule_file_name(group)
    for path, doc, error in _load_tests(project):
        if not error and wanted in (doc.get("rule_files") or []):
            return f"tests/rules/{path.name}", True
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
    docs = [(f"tests/rules/{path.name}", doc, error) for path, doc, error in _load_tests(project)]
    docs += [(name, doc, None) for name, doc in generated_tests(project).items()]
    for where, doc, error in docs:
        if error:
            yield Issue(Location(file=where), f"not valid YAML: {error}")
            continue
        for test in doc.get("tests") or []:
            for case in test.get("alert_rule_test") or []:
                name = case.get("alertname")
                (fires if case.get("exp_alerts") else silent).add(name)
    for rel, g, a in alerts:
        loc = Location(file=rel, group=g.name, rule=a.name)
        if a.name not in fires:
            yield Issue(loc, ("no rule unit test shows this alert firing (alert_rule_test with exp_alerts); "
                        + skeleton(project, g, a, firing=True)))
        if a.name not in silent:
            yield Issue(loc, ("no rule unit test shows this alert silent (alert_rule_test with empty exp_alerts); "
                        + skeleton(project, g, a, firing=False)))
