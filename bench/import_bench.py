"""Wall time and peak memory of `dashgen import` on a 50 MB dashboard (~21,000 panels).

Run by `make bench`. Figures to watch, not a timed test: the target is at most 15 s and
400 MB on the project's 2-core machine. The dashboard is generated here (not committed):
the modern node-exporter-full's panels (tests/fixtures/realworld) repeated under numbered
rows until the file is 50 MB. Each run is a fresh `python -m generator import` process, so
the peak resident size is that command's own (os.wait4); the median of three runs is printed
(DASHGEN_BENCH_RUNS changes how many), with the 10 MB case beside it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "tests" / "fixtures" / "realworld" / "dashboards" / "node-exporter-full.json"
TARGET_BYTES = 50 * 1024 * 1024
TARGET_SECONDS, TARGET_MB = 15.0, 400


def generated(target_bytes: int = TARGET_BYTES) -> tuple[bytes, int]:
    base = json.loads(BASE.read_text())
    leaves = [p for p in base["panels"] if p.get("type") != "row"]
    copy_size = len(json.dumps(leaves, indent=2))
    panels, y, n = [], 0, 0
    for copy in range(max(target_bytes // copy_size, 1)):
        panels.append({"type": "row", "title": f"Copy {copy}", "collapsed": False, "panels": [],
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}})
        y += 1
        bottom = y
        for p in leaves:
            grid = p.get("gridPos") or {}
            q = dict(p, gridPos={**grid, "y": y + grid.get("y", 0)})
            bottom = max(bottom, q["gridPos"]["y"] + grid.get("h", 8))
            panels.append(q)
            n += 1
        y = bottom
    doc = {**{k: v for k, v in base.items() if k != "panels"}, "uid": "bench-import", "panels": panels}
    return json.dumps(doc, indent=2).encode(), n


def _measure(src: Path) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s, peak MB) of one `dashgen import` process, from its own rusage (os.wait4),
    not the largest of every child this benchmark has waited for."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "generator", "--root", str(ROOT), "import", str(src)],
                                cwd=ROOT, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        # Not the module printed (100+ MB for the big case): kept here, it would swell this process
        # and with it the next child's peak, which counts the memory it was started from.
        done = subprocess.CompletedProcess(proc.args, proc.returncode, f"{out.tell()} bytes", err.read().decode())
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, done


def main() -> int:
    if sys.argv[1:2] == ["--write"]:  # in a process of its own (see below)
        data, n = generated(int(sys.argv[3]))
        Path(sys.argv[2]).write_bytes(data)
        print(n)
        return 0
    runs = int(os.environ.get("DASHGEN_BENCH_RUNS", "3"))
    for target in (TARGET_BYTES, 10 * 1024 * 1024):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "big.json"
            # Written by another process: a child's peak resident size counts the memory of the
            # process it was started from, so this one stays small.
            n = int(subprocess.run([sys.executable, __file__, "--write", str(src), str(target)], check=True,
                                   capture_output=True, text=True).stdout)
            size = src.stat().st_size
            results = [_measure(src) for _ in range(runs)]
        bad = [r for r in results if r[3].returncode != 0]
        if bad:
            print(bad[0][3].stderr[-2000:], file=sys.stderr)
            return 1
        wall, cpu, peak = (statistics.median(r[i] for r in results) for i in range(3))
        print(f"import of a {size / 2**20:.0f} MB dashboard ({n} panels), median of {runs}: {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU, peak {peak:.0f} MB" + (f" (targets {TARGET_SECONDS:.0f} s, {TARGET_MB} MB)"
                                                       if target == TARGET_BYTES else ""))
        print("  " + results[0][3].stderr.splitlines()[0][:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
