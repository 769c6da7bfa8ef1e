"""Wall time and peak memory of `dashgen import` on a 50 MB dashboard (~21,000 panels).

Run by `make bench`. Figures to watch, not a timed test: the target is at most 15 s and
400 MB on the project's 2-core machine. The dashboard is generated here (not committed):
the modern node-exporter-full's panels (tests/fixtures/realworld) repeated under numbered
rows until the file is 50 MB. Each run is a fresh `python -m generator import` process, so
the peak resident size is the whole command's (getrusage of the child).
"""

from __future__ import annotations

import json
import resource
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


def main() -> int:
    data, n = generated()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.json"
        src.write_bytes(data)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "generator", "--root", str(ROOT), "import", str(src)],
                              cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"import of a {len(data) / 2**20:.0f} MB dashboard ({n} panels): {seconds:.1f} s, peak {peak_mb:.0f} MB "
          f"(targets {TARGET_SECONDS:.0f} s, {TARGET_MB} MB)")
    print("  " + proc.stderr.splitlines()[0][:200])
    return 0


if __name__ == "__main__":
    sys.exit(main())
