"""Wall time of textconv and diff on big dashboards: the largest real one and a generated 5 MB one.

Run by `make bench`. Figures to watch, not timed tests: the target is under 1 second each.
The real dashboard is node-exporter-full in its old rows layout (tests/fixtures/realworld, ~170
panels; migrated to the grid on every run); the 5 MB one is built here from the corpus's panels,
and the diff compares it with a copy where every tenth panel's query changed.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.diff import diff_trees  # noqa: E402
from generator.textconv import textconv  # noqa: E402

REAL = ROOT / "tests" / "fixtures" / "realworld" / "dashboards" / "node-exporter-full-old.json"
RUNS = 5
TARGET_SECONDS = 1.0
GENERATED_BYTES = 5 * 1024 * 1024
PATH = "dashboards/bench.json"


def generated() -> bytes:
    """A ~5 MB dashboard: the modern node-exporter-full's panels repeated under numbered rows."""
    base = json.loads((REAL.parent / "node-exporter-full.json").read_text())
    leaves = [p for p in base["panels"] if p.get("type") != "row"]
    copy_size = len(json.dumps(leaves, indent=2))
    panels, y = [], 0
    for n in range(max(GENERATED_BYTES // copy_size, 1)):
        panels.append({"type": "row", "title": f"Copy {n}", "collapsed": False, "panels": [],
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}})
        y += 1
        for p in leaves:
            panels.append({**p, "gridPos": {**p["gridPos"], "y": y + p["gridPos"]["y"]}})
        y += 200
    return json.dumps({**base, "panels": panels}, indent=2).encode()


def edited(data: bytes) -> bytes:
    d = json.loads(data)
    for i, p in enumerate(d["panels"]):
        if i % 10 == 0:
            for t in p.get("targets") or []:
                t["expr"] = t.get("expr", "") + " * 2"
    return json.dumps(d, indent=2).encode()


def timed(fn) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> int:
    real = REAL.read_bytes()
    big = generated()
    big2 = edited(big)
    real_panels = sum(len(r.get("panels", [])) for r in json.loads(real).get("rows", []))
    big_panels = len(json.loads(big)["panels"])
    n_changes = len(diff_trees({PATH: big}, {PATH: big2}))
    cases = [
        (f"textconv  node-exporter-full (rows layout, {real_panels} panels, {len(real) // 1024} KB)",
         lambda: textconv(real)),
        (f"diff      node-exporter-full vs itself re-indented ({real_panels} panels)",
         lambda: diff_trees({PATH: real}, {PATH: json.dumps(json.loads(real), indent=1).encode()})),
        (f"textconv  generated ({big_panels} panels, {len(big) / 1024 / 1024:.1f} MB)", lambda: textconv(big)),
        (f"diff      generated ({big_panels} panels, {len(big) / 1024 / 1024:.1f} MB, {n_changes} changes)",
         lambda: diff_trees({PATH: big}, {PATH: big2})),
    ]
    slow = False
    for label, fn in cases:
        median, worst = timed(fn)
        slow |= median >= TARGET_SECONDS
        print(f"{label}: median {median:.2f} s over {RUNS} runs (max {worst:.2f} s; target < {TARGET_SECONDS:g} s)")
    if slow:
        print("note: over the target on this machine", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
