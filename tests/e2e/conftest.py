"""The reference stack for the e2e tests (marker `e2e`, run by `make e2e`).

One stack per session: started once, warmed up, shared by every e2e test, stopped at
the end (and by atexit if pytest dies). The panel table and the scenario timings are
printed in pytest's terminal summary.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from stack.run import Stack  # noqa: E402

#: Seconds of traffic before the first assertion; rates need a few scrapes, and the
#: worker's first task failure (the 25th parse) arrives after about 15 s.
WARMUP_SECONDS = float(os.environ.get("DASHGEN_E2E_WARMUP", "30"))
RULES_DIR = REPO / "rendered" / "alerts"
DASHBOARDS_DIR = REPO / "rendered" / "dashboards"
REPORT_KEY = pytest.StashKey[dict]()


def pytest_configure(config):
    config.stash[REPORT_KEY] = {"panels": [], "selectors": [], "scenarios": [], "timings": {}}


def wait_for(predicate, timeout: float, interval: float = 1.0):
    """Poll until `predicate()` is truthy; return its value, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def load_rules() -> dict[str, dict]:
    """Alerting rules from rendered/alerts by alert name: {expr, for, group, file}."""
    rules = {}
    for path in sorted(RULES_DIR.glob("*.rules.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    rules[rule["alert"]] = {**rule, "group": group["name"], "file": path.name}
    return rules


@pytest.fixture(scope="session")
def report(request) -> dict:
    return request.config.stash[REPORT_KEY]


@pytest.fixture(scope="session")
def rules() -> dict[str, dict]:
    found = load_rules()
    if not found:
        pytest.fail(f"no alerting rules in {RULES_DIR}: run `make dashboards` first")
    return found


@pytest.fixture(scope="session")
def stack(report):
    t0 = time.monotonic()
    st = Stack()
    try:
        st.start()
        report["timings"]["stack start"] = time.monotonic() - t0
        want = set(vars(st.config.jobs).values())

        def all_up():
            targets = st.targets()
            return {t["labels"]["job"] for t in targets} >= want and all(t["health"] == "up" for t in targets)

        assert wait_for(all_up, timeout=30, interval=0.5), (
            f"targets not up: {[(t['labels']['job'], t['health'], t['lastError']) for t in st.targets()]}")
        remaining = WARMUP_SECONDS - (time.monotonic() - t0)
        if remaining > 0:
            time.sleep(remaining)
        report["timings"]["warm-up"] = time.monotonic() - t0
        yield st
    finally:
        t1 = time.monotonic()
        st.stop()
        report["timings"]["stack stop"] = time.monotonic() - t1
    left = st.leftovers()
    assert not left, "stopping the stack left these behind:\n  " + "\n  ".join(left)
    report["scenarios"].append(f"{'stack stopped':<28} -> no process, directory or port of the stack left")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    rep = config.stash.get(REPORT_KEY, None)
    if not rep or not (rep["panels"] or rep["selectors"] or rep["scenarios"]):
        return
    tr = terminalreporter
    if rep["panels"]:
        tr.section("reference stack: panel targets")
        w1 = max(len(r[0]) for r in rep["panels"])
        w2 = min(60, max(len(r[1]) for r in rep["panels"]))
        tr.write_line(f"{'dashboard':<{w1}} | {'panel':<{w2}} | ref | series")
        for dash, panel, ref, count, note in rep["panels"]:
            tr.write_line(f"{dash:<{w1}} | {panel[:w2]:<{w2}} | {ref:<3} | {count:>6}{'  ' + note if note else ''}")
        empty = sum(1 for r in rep["panels"] if not r[3])
        tr.write_line(f"{len(rep['panels'])} targets, {len(rep['panels']) - empty} non-empty, {empty} empty")
    if rep["selectors"]:
        tr.section("reference stack: vector selectors")
        for source, checked, missing in rep["selectors"]:
            tr.write_line(f"{source}: {checked} selectors, {len(missing)} matching nothing")
            for m in missing:
                tr.write_line(f"    {m}")
    if rep["scenarios"]:
        tr.section("reference stack: fault scenarios")
        for line in rep["scenarios"]:
            tr.write_line(line)
    if rep["timings"]:
        tr.write_line("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in rep["timings"].items()))
