"""Helpers the benchmarks share: whole-process CPU and wall time of a command, paired runs,
and a scratch copy of the project. Running this file on its own (as `make bench` does with
every bench/*.py) prints nothing."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHGEN = [sys.executable, "-m", "generator"]


def run(command: list[str], env: dict | None = None, cwd: Path | None = None, check: bool = True) -> tuple[float, float]:
    """(CPU seconds of the process and everything it waited for, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, env={**os.environ, **(env or {})}, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed (exit {result.returncode}):\n"
                         f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def peak_rss_mb(command: list[str], env: dict | None = None, ok: tuple[int, ...] = (0,)) -> tuple[float, float, float]:
    """(CPU s, wall s, peak resident MB) of one run, measured by a fresh child of its own."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.perf_counter()\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "w = time.perf_counter() - t\n"
             "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
             "print(u.ru_utime + u.ru_stime, w, u.ru_maxrss / 1024, r.returncode)\n"
             "sys.stderr.buffer.write(r.stderr[-3000:])\n")
    out = subprocess.run([sys.executable, "-c", probe, *command], env={**os.environ, **(env or {})},
                         capture_output=True, text=True)
    cpu, wall, rss, rc = out.stdout.split()
    if int(rc) not in ok:
        raise SystemExit(f"{' '.join(map(str, command))} failed (exit {rc}):\n{out.stderr}")
    return float(cpu), float(wall), float(rss)


def median(values: list[float]) -> float:
    return statistics.median(values)


def scratch_project(dst: Path) -> Path:
    """A copy of the project's definitions, rule tests and config (no rendered/, no cache)."""
    if dst.exists():
        shutil.rmtree(dst)
    from generator.loader import PROJECT_DIRS  # every folder the loader reads, slos/ included

    for name in PROJECT_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "rules", dst / "tests" / "rules")
    for name in ("environments.toml", "dashgen-check.toml"):
        shutil.copyfile(ROOT / name, dst / name)
    return dst


def scratch(name: str) -> Path:
    """A folder for a benchmark's files under the git-ignored .bench/, emptied."""
    folder = ROOT / ".bench" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder
