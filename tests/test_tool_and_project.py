"""The tool (generator/) holds no Raymontology data and never imports the project.

Every Raymontology name and number lives in the project tree (monitoring/, dashboards/,
alerts/, synthetics/); the tool receives them as values from `generator.project.Project`.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.config import Config, Notifications, Plan, Uptime
from generator.errors import ConfigError
from generator.project import Project, find_root
from repo_project import CONFIG

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "generator"
#: Folders and modules of the project (and the app's metrics) the tool must never import.
PROJECT_MODULES = {"monitoring", "dashboards", "alerts", "synthetics", "stack", "raymontology_metrics", "tests"}
#: Numbers that mean something on their own (units, shares, common windows), not a project's choice.
GENERIC_NUMBERS = {0, 0.1, 0.5, 1, 2, 3, 5, 7, 10, 30, 60, 100, 300, 86400}


def tool_files(*suffixes: str) -> list[Path]:
    """The tool's source and templates (schemas/ is Grafana's data, not ours)."""
    return [p for p in TOOL.rglob("*") if p.is_file() and p.suffix in suffixes and "schemas" not in p.parts
            and "__pycache__" not in p.parts]


def test_no_raymontology_name_in_the_tool():
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in tool_files(".py", ".j2") for n, line in
            enumerate(p.read_text().splitlines(), 1) if "raymontology" in line.lower()]
    assert not hits, hits


def test_no_project_number_in_the_tool():
    """No threshold or plan limit of the project's config is written anywhere in the tool."""
    numbers = set()
    for group in (CONFIG.thresholds, CONFIG.plan):
        for f in dataclasses.fields(group):
            v = getattr(group, f.name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                numbers.add(float(v))
    seed = numbers - {float(n) for n in GENERIC_NUMBERS}
    assert {0.01, 0.999, 0.85, float(512 * 1024 * 1024)} <= seed  # the check has teeth
    hits = [f"{p.relative_to(ROOT)}:{node.lineno} {node.value!r}" for p in tool_files(".py")
            for node in ast.walk(ast.parse(p.read_text()))
            if isinstance(node, ast.Constant) and type(node.value) in (int, float) and float(node.value) in seed]
    assert not hits, hits


def test_the_config_types_carry_no_project_values():
    """Config and its tool-known groups cannot be built without the project's values."""
    for kind in (Config, Plan, Notifications, Uptime):
        with pytest.raises(TypeError):
            kind()
    assert {f.name for f in dataclasses.fields(Config) if f.default is dataclasses.MISSING} >= {
        "name", "tag", "thresholds", "jobs", "plan", "notifications", "uptime", "grafana_url"}


def test_the_tool_never_imports_the_project():
    found = []
    for p in tool_files(".py"):
        for node in ast.walk(ast.parse(p.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            found += [f"{p.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in PROJECT_MODULES]
    assert not found, found


def test_importing_the_tool_loads_no_project_module():
    code = ("import sys, generator.cli, generator.render, generator.checks, generator.importer\n"
            f"bad = [m for m in sys.modules if m.split('.')[0] in {sorted(PROJECT_MODULES)!r}]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_project_hands_over_its_config_and_catalog():
    project = Project(ROOT)
    assert project.config is project.config and project.config.tag == "raymontology"
    assert project.catalog.lookup("risk_score_distribution_bucket") is not None
    assert set(project.environments) >= {"production"}
    assert {rel for rel, _d in project.definitions.dashboards} >= {"dashboards/system_health.py"}


def test_a_missing_project_says_what_a_root_holds(tmp_path):
    with pytest.raises(ConfigError, match="monitoring/config.py .*CONFIG.*monitoring/catalog.py.*dashboards/ and "
                                          "alerts/.*dashgen init"):
        find_root(start=tmp_path)
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "alerts").mkdir()
    with pytest.raises(ConfigError, match="is not a dashgen project: a project root holds monitoring/config.py"):
        find_root(tmp_path)


def _dashgen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DASHGEN_ROOT"}
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True, cwd=cwd,
                          env={**env, "PYTHONPATH": str(ROOT)})


def test_render_works_from_any_folder_and_help_needs_no_project(tmp_path):
    help_ = _dashgen("render", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "--check" in help_.stdout, help_.stderr
    ok = _dashgen("--root", str(ROOT), "render", "--check", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    missing = _dashgen("render", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no dashgen project found" in missing.stderr and "monitoring/config.py" in missing.stderr
    assert "dashgen init" in missing.stderr and "Traceback" not in missing.stderr


def test_a_project_without_its_config_is_a_clear_error(tmp_path):
    for name in ("monitoring", "dashboards", "alerts"):
        (tmp_path / name).mkdir()
    proc = _dashgen("--root", str(tmp_path), "render", cwd=tmp_path)
    assert proc.returncode == 1 and "monitoring/config.py: is missing" in proc.stderr, proc.stderr
    (tmp_path / "monitoring" / "config.py").write_text("CONFIG = {'thresholds': 1}\n")
    (tmp_path / "monitoring" / "catalog.py").write_text("")
    proc = _dashgen("--root", str(tmp_path), "render", cwd=tmp_path)
    assert proc.returncode == 1 and "monitoring/config.py: must define CONFIG as a generator.config.Config, not dict" \
        in proc.stderr, proc.stderr
    assert not (tmp_path / "rendered").exists()
