"""Upload benchmark: 200 generated dashboards against the Grafana emulator with 20 ms
added to every request. Prints wall time and requests by method for a first upload, a no-op
re-upload and a one-change re-upload, against a legacy-only Grafana (11) and a Grafana 13
serving the /apis resource API (`--mode` picks one); exits 1 if a target is missed:
no-op = 0 writes, one change = 1 write, no-op re-upload of 200 dashboards < 1.5 s.

The emulator runs in its own process (as Grafana would), so the client under test does not
share a GIL with the server; requests are counted from the emulator's log.

    .venv/bin/python bench/upload_bench.py [--dashboards 200] [--latency 0.02] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.environments import Environment  # noqa: E402
from generator.grafana.upload import Local, upload  # noqa: E402
from generator.normalize import normalize_dashboard  # noqa: E402

TOKEN = "glsa_benchbenchbenchbenchbenchbench12_00000000"
WRITES = {"POST", "PUT", "DELETE", "PATCH"}


def dashboard(i: int) -> dict:
    panels = [{"id": p, "type": "timeseries", "title": f"Panel {p}",
               "gridPos": {"h": 8, "w": 12, "x": 12 * (p % 2), "y": 8 * (p // 2)},
               "datasource": {"type": "prometheus", "uid": "${datasource}"},
               "fieldConfig": {"defaults": {"unit": "reqps"}, "overrides": []},
               "targets": [{"refId": "A", "expr": f'sum by (handler) (rate(http_requests_total{{job="svc-{i}"}}[$__rate_interval]))'}]}
              for p in range(12)]
    return {"uid": f"raymontology-bench-{i:03d}", "title": f"Bench {i}", "tags": ["raymontology", "bench"],
            "schemaVersion": 41, "time": {"from": "now-6h", "to": "now"}, "refresh": "1m",
            "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
            "panels": panels}


def group(name: str) -> dict:
    return {"name": name, "interval": "1m", "rules": [
        {"alert": f"{name}Down", "expr": f'up{{job="{name}"}} == 0', "for": "5m", "labels": {"severity": "critical"}}]}


MODES = {  # label -> emulator flags
    "legacy routes (Grafana 11)": [],
    "resource API (Grafana 13)": ["--grafana13"],
    "resource API, legacy routes removed": ["--grafana13", "--no-legacy-routes"],
}


def start_emulator(latency: float, flags: list[str] = ()) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    proc = subprocess.Popen([sys.executable, "-m", "grafana_emulator", "--token", TOKEN, "--latency", str(latency),
                             *flags],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env)
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"the emulator did not start (said {url!r})")
    return proc, url


def measure(label: str, url: str, env: Environment, local: Local, concurrency: int) -> tuple[float, int]:
    requests.post(url + "/__emulator/clear", timeout=10)
    t0 = time.perf_counter()
    report = upload(env, local, concurrency=concurrency, commit="bench", client_options={})
    wall = time.perf_counter() - t0
    log = requests.get(url + "/__emulator/log", timeout=10).json()
    by_method = Counter(e["method"] for e in log)
    writes = sum(1 for e in log if e["method"] in WRITES and not e["fault"])
    status = "FAILED ITEMS" if report.failed else "ok"
    print(f"  {label:<22} {wall:6.3f} s   {len(log):4d} requests "
          f"({', '.join(f'{m} {n}' for m, n in sorted(by_method.items()))})   {writes} writes   {status}")
    return wall, writes


def run_mode(args, flags: list[str]) -> list[str]:
    proc, url = start_emulator(args.latency, flags)
    try:
        env = Environment("bench", url, "Raymontology/Bench", token=TOKEN)
        # as `load_local` returns them: normalised once, like the files in rendered/
        local = Local({d["uid"]: normalize_dashboard(d) for d in map(dashboard, range(args.dashboards))},
                      {g: group(g) for g in ("api", "db", "worker", "redis")}, normalised=True)
        measure("first upload", url, env, local, args.concurrency)
        noop_wall, noop_writes = measure("no-op re-upload", url, env, local, args.concurrency)
        uid = "raymontology-bench-007"
        local.dashboards[uid] = {**local.dashboards[uid], "title": "Bench 7 (changed)"}
        _, one_writes = measure("one-change re-upload", url, env, local, args.concurrency)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    misses = []
    if noop_writes != 0:
        misses.append(f"no-op made {noop_writes} writes (target 0)")
    if one_writes != 1:
        misses.append(f"one change made {one_writes} writes (target 1)")
    if args.dashboards >= 200 and noop_wall >= 1.5:
        misses.append(f"no-op re-upload took {noop_wall:.2f} s (target < 1.5 s)")
    return misses


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dashboards", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--mode", choices=["both", "legacy", "resource"], default="both")
    args = ap.parse_args()
    print(f"upload bench: {args.dashboards} dashboards, 4 rule groups, {args.latency * 1000:.0f} ms per request, "
          f"concurrency {args.concurrency}")
    misses = []
    for label, flags in MODES.items():
        if args.mode != "both" and ("--grafana13" in flags) != (args.mode == "resource"):
            continue
        print(f" {label}")
        misses += [f"{label}: {m}" for m in run_mode(args, flags)]
    for m in misses:
        print(f"  target missed: {m}")
    if not misses:
        print("  targets met: no-op 0 writes, one change 1 write, no-op < 1.5 s")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
