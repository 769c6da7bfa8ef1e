"""The wheel a CI image installs (`pip install .`, not editable) holds every subpackage.

The wheel is built from this checkout, unpacked into a temporary folder and imported from
there in a fresh interpreter whose working directory is elsewhere, so neither the checkout
nor the editable install can stand in for a module the wheel lacks.
"""

from __future__ import annotations

import ast
import os
import pkgutil
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def source_modules() -> list[str]:
    """Every module of the generator package as it is in the checkout."""
    names = ["generator", "raymontology_metrics"]
    for info in pkgutil.walk_packages([str(ROOT / "generator")], prefix="generator."):
        names.append(info.name)
    return sorted(names)


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so setuptools' build/ and egg-info never land in the checkout.
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("generator", "appmetrics"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
         "-w", str(out), str(src)],
        capture_output=True, text=True, cwd=out)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{proc.stderr[-3000:]}")
    wheels = list(out.glob("dashgen-*.whl"))
    assert len(wheels) == 1, wheels
    unpacked = out / "unpacked"
    with zipfile.ZipFile(wheels[0]) as zf:
        zf.extractall(unpacked)
    return unpacked


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
    for data in ("templates", "schemas"):  # package data: Jinja templates, JSON schemas + PROVENANCE
        files = {p.name: p.read_bytes() for p in (ROOT / "generator" / data).iterdir() if p.is_file()}
        shipped = {p.name: p.read_bytes() for p in (wheel_dir / "generator" / data).iterdir() if p.is_file()}
        assert files and files == shipped, data
    # The schema check needs no folder beside the project: the wheel carries Grafana's schemas.
    assert {"dashboard.jsonschema.json", "prometheus.jsonschema.json", "PROVENANCE"} <= set(
        p.name for p in (wheel_dir / "generator" / "schemas").iterdir())
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(wheel_dir)!r})\n"
        "from generator.checks import schema\n"
        f"assert schema.__file__.startswith({str(wheel_dir)!r})\n"
        "assert schema.schema_dir() is None\n"
        "assert schema._schema(None, schema.DASHBOARD_SCHEMA)['$ref'] == '#/definitions/Dashboard'\n"
        "assert schema._schema(None, schema.PROMETHEUS_SCHEMA)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=wheel_dir.parent,
                          env={k: v for k, v in os.environ.items() if k != "DASHGEN_SCHEMA_DIR"})
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_declared_dependencies_cover_third_party_imports():
    """Every third-party package the generator imports is declared in pyproject.toml."""
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower().replace("_", "-") for d in declared}
    import_to_dist = {"attr": "attrs", "yaml": "pyyaml", "promql_parser": "promql-parser",
                      "prometheus_client": "prometheus-client"}
    imported = set()
    for path in [*(ROOT / "generator").rglob("*.py"), *(ROOT / "appmetrics").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported
                   if m not in sys.stdlib_module_names and m not in ("generator", "raymontology_metrics", "__future__")}
    missing = {m for m in third_party if import_to_dist.get(m, m).lower() not in names}
    assert not missing, f"imported but not declared in pyproject.toml: {sorted(missing)}"


def test_the_old_appmetrics_spelling_hands_out_the_same_objects():
    import raymontology_metrics

    from generator import appmetrics

    assert appmetrics.__all__ == raymontology_metrics.__all__ and appmetrics.__all__
    for name in raymontology_metrics.__all__:
        assert getattr(appmetrics, name) is getattr(raymontology_metrics, name), name
