"""Layout previews: well-formed, deterministic SVG holding every panel title."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator import diff, preview
from generator.diff import rows_and_panels
from generator.normalize import normalize_dashboard
from generator.render import render_project

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "diff"
SVG = "{http://www.w3.org/2000/svg}"
DASHBOARDS = sorted((REPO / "rendered" / "dashboards").glob("*.json"))


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode("utf-8"))  # raises on malformed XML
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_preview_is_well_formed_and_names_every_panel(path):
    d = json.loads(path.read_text())
    svg = preview.dashboard_svg(d)
    shown = texts(svg)
    rows, items = rows_and_panels(normalize_dashboard(d))
    for i in items:
        assert i.title in shown
    for r in rows:
        assert any(r["title"] in t for t in shown)
    assert svg == preview.dashboard_svg(json.loads(path.read_text()))  # deterministic


def test_units_and_thresholds_are_drawn():
    d = json.loads((REPO / "rendered" / "dashboards" / "raymontology-system-health.json").read_text())
    shown = texts(preview.dashboard_svg(d))
    assert "stat · percentunit · 1 query" in shown
    assert any("0.1 %" in t and "1 %" in t for t in shown)


def test_panels_sit_on_the_24_column_grid():
    d = json.loads((FIX / "dash_new.json").read_text())
    root = ET.fromstring(preview.dashboard_svg(d).encode())
    boxes = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "box"]
    cpu = [b for b in boxes if b.get("width") == str(24 * preview.COL_W - 4)]
    assert len(cpu) == 1  # CPU spans the full width
    lines = [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "grid"]
    assert len(lines) == 25


def test_titles_are_escaped():
    d = json.loads((FIX / "dash_old.json").read_text())
    d["title"] = 'Board <"one"> & more'
    d["panels"][1]["title"] = "a < b & c > d"
    shown = texts(preview.dashboard_svg(d))
    assert "a < b & c > d" in shown and 'Board <"one"> & more' in shown


def test_collapsed_rows_list_their_panels():
    d = json.loads((FIX / "dash_old.json").read_text())
    row, children = d["panels"][4], d["panels"][5:]
    row["collapsed"], row["panels"] = True, children
    d["panels"] = d["panels"][:5]
    shown = " ".join(texts(preview.dashboard_svg(d)))
    for c in children:
        assert c["title"] in shown


def test_rendered_docs_hold_one_current_svg_per_dashboard():
    files = render_project(REPO)
    for path in DASHBOARDS:
        name = f"docs/{path.stem}.svg"
        assert name in files
        assert files[name] == (REPO / "rendered" / name).read_bytes()


def test_comparison_outlines_the_changes():
    old, new = json.loads((FIX / "dash_old.json").read_text()), json.loads((FIX / "dash_new.json").read_text())
    changes = diff.diff_trees({"dashboards/x.json": old}, {"dashboards/x.json": new})
    svg = preview.comparison_svg(old, new, changes, "HEAD", "working tree")
    shown = texts(svg)
    assert "Fixture / Service: HEAD" in shown and "Fixture / Service: working tree" in shown
    root = ET.fromstring(svg.encode())
    marks = {}
    for g in root.iter(f"{SVG}g"):
        cls = (g.get("class") or "").split()
        title = g.find(f"{SVG}title")
        if len(cls) > 1 and title is not None:
            marks.setdefault(cls[1], set()).add(title.text.split(" (")[0])
    assert "Restarts" in marks["removed"]
    assert "Saturation" in marks["added"]
    assert {"5xx ratio", "Request rate", "Requests per second", "CPU"} <= marks["changed"]
    assert "row: Resources" in marks["added"]


def test_comparison_of_a_new_dashboard():
    new = json.loads((FIX / "dash_new.json").read_text())
    svg = preview.comparison_svg(None, copy.deepcopy(new))
    assert "(no such dashboard on this side)" in texts(svg)
