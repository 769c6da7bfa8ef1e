"""`dashgen render` against grafanalib's own `generate-dashboards` on the same three dashboards,
and `dashgen --help`: whole-process CPU, paired runs, medians.

Run by `make bench`. Figures to watch, not timed tests. Targets: render at most 1.2x the CPU of
generate-dashboards (which only writes the three dashboard JSON files; render also writes the
rule files, alerting files, synthetics, docs and previews), and `dashgen --help` under 0.1 s.
Each round runs both commands back to back, so load from other work hits them alike.
"""

from __future__ import annotations

import sys

from benchlib import DASHGEN, ROOT, median, run, scratch

RUNS = 9
RATIO_TARGET = 1.2
HELP_TARGET_SECONDS = 0.1
WRAPPER = """# generate-dashboards input: the project's {name} dashboard, built as dashgen builds it
from pathlib import Path

from generator.loader import build_module
from generator.project import Project

ROOT = Path({root!r})
dashboard = build_module(ROOT, "dashboards", ROOT / "dashboards" / "{name}.py", Project(ROOT).config)[1]
"""


def main() -> int:
    folder = scratch("render")
    names = sorted(p.stem for p in (ROOT / "dashboards").glob("*.py") if not p.name.startswith("_"))
    wrappers = []
    for name in names:
        path = folder / f"{name}.dashboard.py"
        path.write_text(WRAPPER.format(name=name, root=str(ROOT)))
        wrappers.append(str(path))
    gen = [str(ROOT / ".venv" / "bin" / "generate-dashboards"), *wrappers]
    if not (ROOT / ".venv" / "bin" / "generate-dashboards").exists():
        gen = [sys.executable, "-c", "import sys; from grafanalib._gen import generate_dashboards_script as m; "
               "sys.argv[0] = 'generate-dashboards'; sys.exit(m())", *wrappers]
    render = [*DASHGEN, "--root", str(ROOT), "render", "--out", str(folder / "rendered")]
    env = {"PYTHONPATH": str(ROOT)}
    run(gen, env)
    run(render)  # writes the whole tree once; later runs find it current and rewrite nothing
    ours, theirs, ratios = [], [], []
    for _ in range(RUNS):
        g_cpu, _ = run(gen, env)
        r_cpu, _ = run(render)
        ours.append(r_cpu)
        theirs.append(g_cpu)
        ratios.append(r_cpu / g_cpu)
    print(f"render vs grafanalib generate-dashboards ({len(names)} dashboards), median of {RUNS} paired runs:")
    print(f"  dashgen render        {median(ours):.3f} s CPU")
    print(f"  generate-dashboards   {median(theirs):.3f} s CPU")
    print(f"  ratio                 {median(ratios):.2f}x (target <= {RATIO_TARGET:g}x)")
    helps = [run([*DASHGEN, "--help"]) for _ in range(RUNS)]
    print(f"dashgen --help: median {median([w for _, w in helps]):.3f} s wall, {median([c for c, _ in helps]):.3f} s CPU "
          f"(target < {HELP_TARGET_SECONDS:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
