"""The wheel a CI image installs (`pip install .`, not editable) holds every subpackage.

The wheel is built from this checkout, unpacked into a temporary folder (conftest's
`wheel_dir`) and imported from there in a fresh interpreter whose working directory is
elsewhere, so neither the checkout nor the editable install can stand in for a module the
wheel lacks.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def source_modules() -> list[str]:
    """Every module of the generator package as it is in the checkout."""
    names = ["generator"]
    for info in pkgutil.walk_packages([str(ROOT / "generator")], prefix="generator."):
        names.append(info.name)
    return sorted(names)


def test_wheel_holds_every_subpackage_template_and_schema(wheel_dir):
    modules = source_modules()
    assert "generator.grafana.upload" in modules and "generator.checks.promtool" in modules
    code = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(wheel_dir)!r})\n"
        f"for name in {modules!r}:\n"
        "    mod = importlib.import_module(name)\n"
        f"    assert mod.__file__.startswith({str(wheel_dir)!r}), (name, mod.__file__)\n"
        "print(len(sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=wheel_dir.parent)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for data in ("templates", "templates/init", "schemas"):  # package data: Jinja templates (init: dashgen init), JSON schemas + PROVENANCE
        files = {p.name: p.read_bytes() for p in (ROOT / "generator" / data).iterdir() if p.is_file()}
        shipped = {p.name: p.read_bytes() for p in (wheel_dir / "generator" / data).iterdir() if p.is_file()}
        assert files and files == shipped, data


def test_declared_dependencies_cover_third_party_imports():
    """Every third-party package the generator imports is declared in pyproject.toml."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower().replace("_", "-") for d in declared}
    import_to_dist = {"attr": "attrs", "yaml": "pyyaml", "promql_parser": "promql-parser",
                      "prometheus_client": "prometheus-client"}
    imported = set()
    for path in (ROOT / "generator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported
                   if m not in sys.stdlib_module_names and m not in ("generator", "__future__")}
    missing = {m for m in third_party if import_to_dist.get(m, m).lower() not in names}
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def test_the_wheel_holds_the_tool_only(wheel_dir):
    """No project code ships with the tool: not the app's metrics, config, catalog or definitions."""
    top = {p.name for p in wheel_dir.iterdir() if not p.name.endswith(".dist-info")}
    assert top == {"generator"}, top
