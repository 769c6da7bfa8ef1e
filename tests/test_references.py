"""The repository explains itself: code, runbooks, rules and errors cite docs/ pages that exist
in it (docs/targets.md, docs/metrics.md), never notes outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so this file does not match itself.
OUTSIDE = re.compile("|".join([
    r"\b[Ss]eed " + "\u00a7",                               # the original guide's sections
    r"(?<![\w/])(?:reference/)?metrics\.md " + "\u00a7",  # the shared metric reference
    r"seed-summary\.md", r"shared/reference/metrics\.md",
]))
CITATION = re.compile(r"docs/(targets|metrics)\.md \u00a7(\d+(?:\.\d+)?)")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    out = []
    for name in names.decode().split("\0"):
        path = ROOT / name
        if name and not name.startswith("docs/") and path.is_file():
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            out.append(path)
    return out


def test_no_citation_points_outside_the_repository():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
             for p in tracked_text_files() for n, line in enumerate(p.read_text().splitlines(), 1)
             if OUTSIDE.search(line)]
    assert not found, "cite docs/targets.md or docs/metrics.md instead:\n" + "\n".join(found)


def test_every_cited_section_exists():
    sections = {}
    for page in ("targets", "metrics"):
        text = (ROOT / "docs" / f"{page}.md").read_text()
        sections[page] = set(re.findall(r"^#+ \u00a7(\d+(?:\.\d+)?)", text, re.M))
        # §0.N cites decision N of §0, a numbered list
        if page == "metrics":
            decisions = text.split("## \u00a70", 1)[1].split("\n## ", 1)[0]
            sections[page] |= {f"0.{n}" for n in re.findall(r"^(\d+)\. ", decisions, re.M)}
    cited = {(m.group(1), m.group(2), str(p.relative_to(ROOT)))
             for p in tracked_text_files() for m in CITATION.finditer(p.read_text())}
    assert len(cited) > 50
    missing = sorted(f"{f}: docs/{page}.md \u00a7{n}" for page, n, f in cited if n not in sections[page])
    assert not missing, missing
