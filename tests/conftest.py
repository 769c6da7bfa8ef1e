"""Shared fixtures: the project root, a scratch copy of it, and the golden-file flag."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The result cache (generator.cache) lives in one folder per test run, outside every project
# copy (DASHGEN_CACHE_DIR), with its own signing key and dashgen's own bytecode beside it
# (XDG_CACHE_HOME): nothing is written into fixture folders or the user's cache. Its entries
# are keyed by exactly the content checked, so a test still sees promtool's and amtool's
# real answers; the many tests that check a copy of the project share the answers for the
# files they did not change (the SLOs' generated rule tests above all). xdist's workers share
# the run's folder; the controller removes it at the end. tests/test_cache.py sets its own.
RUN_CACHE = Path(tempfile.gettempdir()) / f"dashgen-tests-{os.environ.setdefault('DASHGEN_TEST_RUN', uuid.uuid4().hex)}"
os.environ["DASHGEN_CACHE"] = "on"
os.environ["DASHGEN_CACHE_DIR"] = str(RUN_CACHE / "results")
os.environ["XDG_CACHE_HOME"] = str(RUN_CACHE / "user")


def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        shutil.rmtree(RUN_CACHE, ignore_errors=True)
        prune_pycache(sys.pycache_prefix, ROOT)


def prune_pycache(prefix: str | None, root: Path) -> None:
    """`make test` keeps the tests' bytecode under the project's .cache/pycache
    (PYTHONPYCACHEPREFIX), which mirrors absolute paths. Only the checkout's own (its
    sources and its .venv) is of use to the next run; the bytecode of files in temporary
    folders (pytest's, pip's build environments) would pile up run after run, so it goes."""
    if not prefix or Path(prefix).resolve() != (root / ".cache" / "pycache").resolve():
        return  # somebody else's prefix (or none): not ours to tidy
    folder, keep = Path(prefix).resolve(), root.resolve().parts[1:]
    for i, part in enumerate(keep):
        if not folder.is_dir():
            return
        for child in folder.iterdir():
            if child.name != part:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        folder = folder / part


def make_targets() -> set[str]:
    """The targets the Makefile declares in .PHONY (every target; test_makefile checks)."""
    (line,) = re.findall(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M)
    return set(line.split())


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite rendered/ from the current code instead of comparing (review the diff!)")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project's definitions and rendered output."""
    dst = tmp_path / "project"
    for name in ("monitoring", "dashboards", "alerts", "synthetics", "slos", "rendered"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "environments.toml", dst / "environments.toml")  # synthetics' targets
    return dst


def dashgen(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    """The Grafana dashboard schemas shipped with the tool (generator/schemas/)."""
    folder = ROOT / "generator" / "schemas"
    assert (folder / "dashboard.jsonschema.json").is_file(), "generator/schemas/ lacks the dashboard schema"
    return folder


def debian_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is missing: install Debian's '{package}' package (make test does it as root)")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return debian_tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    return debian_tool("amtool", "prometheus-alertmanager")


@pytest.fixture(scope="session")
def wheel_dir(tmp_path_factory) -> Path:
    """dashgen as `pip install .` ships it: the wheel built from this checkout, unpacked.
    Built once per run: pytest-xdist's workers share the run's base folder, and the first to
    take the lock builds it there (a build took 3 s; test_init and test_packaging both need it)."""
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    out = shared / "wheel-shared"
    with open(shared / "wheel-shared.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (out / "unpacked").is_dir():
            return out / "unpacked"
        if out.exists():
            shutil.rmtree(out)  # a build that failed half-way
        out.mkdir()
        return _build_wheel(out)


def _build_wheel(out: Path) -> Path:
    # Build from a copy, so setuptools' build/ and egg-info never land in the checkout.
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("generator",):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
         "-w", str(out), str(src)],
        capture_output=True, text=True, cwd=out)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{proc.stderr[-3000:]}")
    wheels = list(out.glob("dashgen-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        zf.extractall(out / "unpacking")
    (out / "unpacking").rename(out / "unpacked")  # whole, or not there
    return out / "unpacked"
