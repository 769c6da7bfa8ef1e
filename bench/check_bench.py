"""Wall time of `dashgen check` on the real set (promtool included): several runs, the median.

Run by `make bench`. A figure to watch, not a timed test: the target is under 2 seconds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
TARGET_SECONDS = 2.0


def main() -> int:
    command = [sys.executable, "-m", "generator", "--root", str(ROOT), "check"]
    env = {**os.environ}
    subprocess.run(command, env=env, capture_output=True)  # warm the file cache
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            print(f"dashgen check failed (exit {result.returncode}):\n{result.stdout}{result.stderr}", file=sys.stderr)
            return 1
    median = statistics.median(times)
    schema = "with" if env.get("DASHGEN_SCHEMA_DIR") else "without"
    print(f"dashgen check (real set, promtool included, {schema} schema): median {median:.2f} s wall over "
          f"{RUNS} runs (min {min(times):.2f} s, max {max(times):.2f} s; target < {TARGET_SECONDS:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
