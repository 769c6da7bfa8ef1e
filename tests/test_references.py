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
    r"seed-summary\.md", r"shared" + r"/reference/metrics\.md",
    # the team's notes beside the project (not in a clone): the design note, the API and
    # alerting references, the style notes, and the folder itself
    r"\bDESIGN" + r"\.md", r"grafana-api" + r"\.md", r"peers" + r"\.md", r"STYLE" + r"\.md",
    r"alerting-and-synthetics" + r"\.md", r"grafana13-and-slos" + r"\.md",
    r"\.\./sha" + r"red\b", r"(?<![\w-])sha" + r"red/(?:schemas|reference)\b",
]))
CITATION = re.compile(r"docs/(targets|metrics)\.md \u00a7(\d+(?:\.\d+)?)")


def tracked_text_files(*, docs: bool = False) -> list[Path]:
    """Every text file of the repository (code, README, workflows, rule tests, ...), docs/ too
    when asked: a clone has none of the notes OUTSIDE names."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    out = []
    for name in names.decode().split("\0"):
        path = ROOT / name
        if name and (docs or not name.startswith("docs/")) and path.is_file():
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            out.append(path)
    return out


def test_no_citation_points_outside_the_repository():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
             for p in tracked_text_files(docs=True) for n, line in enumerate(p.read_text().splitlines(), 1)
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


def test_the_pattern_catches_each_outside_name():
    """The names above are caught however they are cited (so a clone never meets one)."""
    for text in ["see DESIGN" + ".md", "(grafana-api" + ".md §4.7)", "../sha" + "red/schemas",
                 "in sha" + "red/reference/peers" + ".md", "STYLE" + ".md", "seed-summary" + ".md"]:
        assert OUTSIDE.search(text), text
    for text in ["docs/targets.md §3", "shared by panels and rules", "a shared stack", "DESIGN of the tool"]:
        assert not OUTSIDE.search(text), text


def test_every_section_sign_in_code_names_its_docs_page():
    """A bare "§N" in code cites a document the reader cannot find: name the docs/ page."""
    found = []
    for p in tracked_text_files():
        if p.suffix != ".py" or p.name == "test_references.py":
            continue
        for n, line in enumerate(p.read_text().splitlines(), 1):
            for m in re.finditer("\u00a7", line):
                if not re.search(r"docs/(targets|metrics)\.md", line[:m.start()]):
                    found.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not found, "\n".join(found)
