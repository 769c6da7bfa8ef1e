"""raymontology-metrics (appmetrics/) installs on its own, with prometheus-client its only dependency.

The backend installs it instead of dashgen, so the test is a real install: a fresh virtual
environment, `pip install appmetrics/` (from a copy, leaving no build output in the
checkout), then an import from elsewhere. dashgen's catalog reads the same objects.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("appmetrics")
    shutil.copytree(ROOT / "appmetrics", tmp / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    # No pip inside (ensurepip took half the fixture): this interpreter's pip installs into it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "v")], check=True, capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(tmp / "v" / "bin" / "python"), "install",
                           "--quiet", "--disable-pip-version-check", str(tmp / "src")],
                          capture_output=True, text=True, cwd=tmp)
    if proc.returncode != 0:
        pytest.fail(f"pip install appmetrics/ failed:\n{proc.stderr[-3000:]}")
    return tmp / "v"


def test_installs_alone_with_prometheus_client_only(venv):
    out = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "list", "--format",
                          "json", "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(out)} - {"pip", "setuptools"}
    assert installed == {"prometheus-client", "raymontology-metrics"}


def test_imports_and_exports_from_the_installed_copy(venv, tmp_path):
    code = (
        "import importlib.util, prometheus_client, raymontology_metrics as m\n"
        "assert importlib.util.find_spec('generator') is None\n"
        "assert all(hasattr(m, n) for n in m.__all__), [n for n in m.__all__ if not hasattr(m, n)]\n"
        "m.risk_scores.observe(0.75)\n"
        "print(m.__file__)\n"
        "print(prometheus_client.generate_latest().decode())\n"
    )
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, exposition = proc.stdout.split("\n", 1)
    assert where.startswith(str(venv)), where
    assert 'risk_score_distribution_bucket{le="0.8"} 1.0' in exposition
    assert 'raymontology_company_searches_total{result="error"} 0.0' in exposition


def test_the_catalog_reads_exactly_these_objects():
    import raymontology_metrics

    from repo_project import CATALOG

    app = {name for name, m in CATALOG.metrics.items() if m.source == "Raymontology backend (raymontology_metrics)"}
    assert len(raymontology_metrics.ALL) == 11
    assert app == {m._name + ("_total" if m._type == "counter" else "") for m in raymontology_metrics.ALL}
