"""Share of panels `dashgen import` writes as plain factory calls over the real-world corpus.

Run by `make bench`. A figure to watch (the goal is at least three in four), with the rest
counted by reason: factory calls with `p.override`, and panels kept as Grafana JSON (`p.raw`)
grouped by why. The corpus is tests/fixtures/realworld/dashboards (public dashboards, see
its PROVENANCE.md).
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.importer import import_dashboard  # noqa: E402
from generator.normalize import load_dashboard  # noqa: E402
from generator.project import Project  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "realworld" / "dashboards"
GOAL = 0.75


def reason_kind(reason: str) -> str:
    """A raw panel's reason without its particulars (titles, refIds, JSON paths)."""
    reason = re.sub(r"query \S+ ", "query ", reason)
    return re.sub(r" (differs at|fails:) .*", r" \1 ...", reason)


def share(paths) -> tuple[Counter, Counter, int]:
    kinds, reasons, total = Counter(), Counter(), 0
    project = Project(ROOT)
    for path in paths:
        result = import_dashboard(load_dashboard(path.read_bytes(), file=path.name), project.config, project.catalog,
                                  source_name=path.name, file_name=path.name)
        for r in result.panels:
            total += 1
            kind = "raw" if r.factory == "p.raw" else "override" if r.factory.endswith(" + override") else "plain"
            kinds[kind] += 1
            if kind == "raw":
                reasons[reason_kind(r.reason)] += 1
    return kinds, reasons, total


def main() -> int:
    start = time.perf_counter()
    kinds, reasons, total = share(sorted(CORPUS.glob("*.json")))
    seconds = time.perf_counter() - start
    print(f"import factory share over {len(list(CORPUS.glob('*.json')))} real-world dashboards, {total} panels "
          f"({seconds:.1f} s):")
    print(f"  plain factory calls   {kinds['plain']:5d}  {kinds['plain'] / total:6.1%}  (goal {GOAL:.0%})")
    print(f"  with p.override       {kinds['override']:5d}  {kinds['override'] / total:6.1%}")
    print(f"  kept as Grafana JSON  {kinds['raw']:5d}  {kinds['raw'] / total:6.1%}")
    for reason, n in reasons.most_common(15):
        print(f"    {n:5d}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
