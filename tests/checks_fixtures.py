"""Helpers shared by the dashgen check tests: small projects built in memory, and the CLI in-process."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import CliRunner

from generator.checks import CHECKS, CheckedProject, select
from generator.cli import main
from generator.rules import Alert, RuleGroup
from repo_project import CATALOG, CONFIG
from repo_project import QUERIES as queries

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "broken"


def real_dashboard(uid: str = "raymontology-system-health") -> dict:
    return json.loads((ROOT / "rendered" / "dashboards" / f"{uid}.json").read_text())


def alert(expr: str = 'up{job="x"} == 0', name: str = "TestAlert", **kw) -> Alert:
    base = dict(severity="warning", summary="Something is wrong.", description="It is wrong.",
                runbook="1. Fix it.")
    base.update(kw)
    return Alert(name, expr, **base)


def project(dashboards=(), rules=(), *, groups=None, cfg=CONFIG) -> CheckedProject:
    """A CheckedProject with the given dashboard dicts and rules (plus the real recording rules)."""
    if groups is None:
        groups = [("alerts/test.py", RuleGroup("test", [*queries.records(cfg), *rules]))]
    return CheckedProject(root=ROOT, cfg=cfg, catalog=CATALOG, dashboards=[(f"dashboards/d{i}.py", copy.deepcopy(d))
                                                   for i, d in enumerate(dashboards)],
                   groups=list(groups))


def findings(name: str, proj: CheckedProject) -> list:
    select(None)  # registers every check
    return list(CHECKS[name].run(proj))


def cli(*args: str, env: dict | None = None):
    """`dashgen ARGS` in-process: (exit code, stdout)."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output
