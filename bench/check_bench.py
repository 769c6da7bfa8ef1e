"""`dashgen check` on the real set, cold and warm, against a render: whole-process CPU and wall.

Run by `make bench`. Figures to watch, not timed tests. Targets: a warm check (every answer in
the project cache, generator/cache.py) costs no more CPU than a render; a cold one (empty
cache) takes at most 2 s wall. Runs are paired (cold, warm, render in turn) so load from other
work on the machine hits all three alike; medians of RUNS.
"""

from __future__ import annotations

import shutil
import sys

from benchlib import DASHGEN, median, run, scratch, scratch_project

RUNS = 9
COLD_TARGET_SECONDS = 2.0


def main() -> int:
    folder = scratch("check")
    root = scratch_project(folder / "project")
    check = [*DASHGEN, "--root", str(root), "check"]
    render = [*DASHGEN, "--root", str(root), "render", "--out", str(folder / "rendered")]
    env = {"DASHGEN_CACHE": "on"}
    run(check, env)  # the file cache and the generator's own bytecode
    cold, warm, rendered = [], [], []
    for _ in range(RUNS):
        shutil.rmtree(root / ".cache", ignore_errors=True)
        cold.append(run(check, env))
        warm.append(run(check, env))
        rendered.append(run(render, env))
    c_cpu, c_wall = median([c for c, _ in cold]), median([w for _, w in cold])
    w_cpu, w_wall = median([c for c, _ in warm]), median([w for _, w in warm])
    r_cpu, r_wall = median([c for c, _ in rendered]), median([w for _, w in rendered])
    print(f"dashgen check, real set (promtool and amtool included), median of {RUNS} paired runs:")
    print(f"  cold check  {c_cpu:.2f} s CPU  {c_wall:.2f} s wall  (target <= {COLD_TARGET_SECONDS:g} s wall)")
    print(f"  warm check  {w_cpu:.2f} s CPU  {w_wall:.2f} s wall  = {w_cpu / r_cpu:.2f}x a render's CPU "
          "(target <= 1.0x)")
    print(f"  render      {r_cpu:.2f} s CPU  {r_wall:.2f} s wall  (cold check = {c_cpu / r_cpu:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
