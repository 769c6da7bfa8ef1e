"""Share of panels `dashgen import` writes as plain factory calls over the real-world corpus.

Run by `make bench`. A figure to watch (the goal is at least three in four), with the rest
counted by reason: factory calls with `p.override`, and panels kept as Grafana JSON (`p.raw`)
grouped by why. The corpus is tests/fixtures/realworld/dashboards (public dashboards, see
its PROVENANCE.md); the dashboards its "Held out" section lists were added after the factories
were written, so their share is reported apart: how the importer does on panels it was not
tuned on.
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
PROVENANCE = ROOT / "tests" / "fixtures" / "realworld" / "PROVENANCE.md"
GOAL = 0.75


def held_out() -> dict[str, set[str]]:
    """File names listed under each of PROVENANCE.md's "Held out" headings, by heading."""
    sets: dict[str, set[str]] = {}
    for section in PROVENANCE.read_text(encoding="utf-8").split("\n## ")[1:]:
        heading, _, body = section.partition("\n")
        if heading.startswith("Held out"):
            sets[heading.lower()] = {ln.split(" | ")[0].removeprefix("dashboards/") for ln in body.splitlines()
                                     if ln.startswith("dashboards/")}
    return sets


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


def report(label: str, paths: list[Path]) -> None:
    start = time.perf_counter()
    kinds, reasons, total = share(paths)
    seconds = time.perf_counter() - start
    print(f"{label}: {len(paths)} real-world dashboards, {total} panels ({seconds:.1f} s):")
    print(f"  plain factory calls   {kinds['plain']:5d}  {kinds['plain'] / total:6.1%}  (goal {GOAL:.0%})")
    print(f"  with p.override       {kinds['override']:5d}  {kinds['override'] / total:6.1%}")
    print(f"  kept as Grafana JSON  {kinds['raw']:5d}  {kinds['raw'] / total:6.1%}")
    for reason, n in reasons.most_common(15):
        print(f"    {n:5d}  {reason}")


def main() -> int:
    paths = sorted(CORPUS.glob("*.json"))
    later = held_out()
    print("import factory share")
    report("overall", paths)
    report("tuned on", [p for p in paths if not any(p.name in names for names in later.values())])
    for heading, names in later.items():
        report(heading, [p for p in paths if p.name in names])
    return 0


if __name__ == "__main__":
    sys.exit(main())
