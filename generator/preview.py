"""Layout previews: an SVG per dashboard drawing Grafana's 24-column grid, without Grafana.

Each panel box shows its title, type, unit and thresholds (in the panel's unit, with the
threshold colours); rows are drawn as Grafana draws them. `render_previews()` gives
rendered/docs/<uid>.svg; `comparison_svg()` draws two versions side by side, outlining what
a diff reports as added, changed or removed. Output is byte-deterministic, well-formed XML
(every text goes through jinja2's XML escaping).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined

from generator.diff.layout import row_names, rows_and_panels
from generator.normalize import GRID_COLUMNS as COLUMNS  # Grafana's grid width, defined once
from generator.normalize import normalize_dashboard
from generator.safenames import check_uid
from generator.templatecache import use_cache
from generator.units import format_value

if TYPE_CHECKING:
    from generator.diff import Change

COL_W = 40  # px per grid column: the grid is 960 px wide
ROW_H = 22  # px per grid unit of height (Grafana uses 30; previews stay compact)
HEADER = 56  # px above the grid for the dashboard's title
GAP = 48  # px between the two boards of a comparison

TYPE_FILL = {
    "stat": "#eaf2fd", "gauge": "#eaf2fd", "bargauge": "#eaf2fd",
    "timeseries": "#edf7ea", "barchart": "#edf7ea",
    "table": "#fdf5e6", "heatmap": "#f8ecf4", "text": "#f4f4f4",
}
#: Grafana's named colours, as far as previews need them; other names show grey.
COLORS = {
    "green": "#73bf69", "red": "#f2495c", "orange": "#ff9830", "yellow": "#fade2a", "blue": "#5794f2",
    "purple": "#b877d9", "transparent": "#ffffff", "text": "#333333",
    "dark-green": "#37872d", "dark-red": "#c4162a", "dark-orange": "#fa6400", "dark-yellow": "#e0b400",
    "semi-dark-green": "#56a64b", "semi-dark-red": "#e02f44", "semi-dark-orange": "#ff780a",
    "semi-dark-yellow": "#f2cc0c", "light-green": "#96d98d", "light-red": "#ff7383",
    "light-orange": "#ffb357", "light-yellow": "#ffee52",
}
MARK = {"added": "added", "changed": "changed", "moved": "changed", "renamed": "changed", "removed": "removed"}

_env = Environment(
    loader=PackageLoader("generator", "templates"),
    undefined=StrictUndefined,
    autoescape=True,  # XML: titles and queries may hold < > & "
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _color(name: str | None) -> str:
    if not name:
        return "#999999"
    if name.startswith("#") or name.startswith("rgb"):
        return name
    return COLORS.get(name, "#999999")


def _board(d: dict | None, heading: str, sub: str, offset: int, marks: Mapping | None = None,
           normalized: bool = False) -> dict:
    """The drawing of one dashboard (None: a placeholder saying it does not exist)."""
    marks = marks or {}
    if d is None:
        return {"x": offset, "heading": heading, "sub": sub, "rows": [], "panels": [], "height": 4,
                "empty": "(no such dashboard on this side)"}
    if not normalized:
        d = normalize_dashboard(d)
    rows_l, items = rows_and_panels(d)
    rows, panels, bottom = [], [], 1
    for r, title in zip(rows_l, row_names(rows_l)):
        g = r.get("gridPos") or {}
        hidden = [c.get("title", "") for c in r.get("panels", [])] if r.get("collapsed") else []
        rows.append({"x": 0, "y": g.get("y", 0) * ROW_H, "w": COLUMNS * COL_W, "h": ROW_H, "title": title,
                     "collapsed": hidden, "mark": marks.get(("row", title), "")})
        bottom = max(bottom, g.get("y", 0) + 1)
    for n, i in enumerate(items):
        if i.row is not None and any(r["title"] == i.row and r["collapsed"] for r in rows):
            continue  # drawn as part of its collapsed row
        g = i.pos
        p = i.panel
        defaults = (p.get("fieldConfig") or {}).get("defaults") or {}
        unit = defaults.get("unit") or ""
        steps = ((defaults.get("thresholds") or {}).get("steps")) or []
        x, y, w, h = g.get("x", 0), g.get("y", 0), g.get("w", 1), g.get("h", 1)
        bottom = max(bottom, y + h)
        panels.append({
            "id": n + 1,
            "x": x * COL_W, "y": y * ROW_H, "w": w * COL_W, "h": h * ROW_H,
            "title": i.title, "type": p.get("type", ""), "unit": unit,
            "fill": TYPE_FILL.get(p.get("type", ""), "#f7f7f7"),
            "steps": [{"color": _color(s.get("color")), "text": format_value(s.get("value"), unit)} for s in steps],
            "queries": len(p.get("targets", [])),
            "mark": marks.get(("panel", i.title), ""),
        })
    return {"x": offset, "heading": heading, "sub": sub, "rows": rows, "panels": panels, "height": bottom,
            "empty": ""}


def _svg(boards: list[dict]) -> str:
    width = len(boards) * COLUMNS * COL_W + (len(boards) - 1) * GAP + 2
    height = HEADER + max(b["height"] for b in boards) * ROW_H + 2
    return _env.get_template("preview.svg.j2").render(
        boards=boards, width=width, height=height, header=HEADER, col_w=COL_W, columns=COLUMNS,
        grid_h=max(b["height"] for b in boards) * ROW_H,
    )


def dashboard_svg(d: dict, *, normalized: bool = False, cache=None) -> str:
    """The layout preview of one dashboard (`normalized`: `d` is normalize_dashboard's output
    already, as render's are, so it is not normalised a second time; `cache`, a
    generator.cache.ProjectCache, keeps the template's bytecode between runs)."""
    use_cache(_env, "preview", cache)
    return _svg([_board(d, d.get("title", ""), f"uid {d.get('uid', '')} - {COLUMNS}-column grid", 0,
                        normalized=normalized)])


def render_previews(dashboards: Iterable[tuple[str, dict]]) -> dict[str, str]:
    """rendered/docs/<uid>.svg for every dashboard (paths relative to rendered/)."""
    return {f"docs/{d['uid']}.svg": dashboard_svg(d) for _rel, d in dashboards}


def _marks(changes: Iterable[Change], side: str) -> dict:
    """(kind, title) -> mark class for the panels and rows a diff names, on one side."""
    out: dict = {}
    for c in changes:
        mark = MARK.get(c.kind)
        if not mark or (side == "old" and mark == "added") or (side == "new" and mark == "removed"):
            continue
        if c.target == "panel" and c.name:
            name = c.old if side == "old" and c.kind == "renamed" and c.field == "title" else c.name
            out.setdefault(("panel", name), mark)
        elif c.target == "row" and c.row:
            name = c.old if side == "old" and c.kind == "renamed" else c.row
            out.setdefault(("row", name), mark)
    return out


def comparison_svg(old: dict | None, new: dict | None, changes: Iterable[Change] = (),
                   before: str = "before", after: str = "after") -> str:
    """Two versions of a dashboard side by side; what `changes` name is outlined."""
    changes = list(changes)
    title = (new or old or {}).get("title", "")
    left = _board(old, f"{title}: {before}", "outlined: changed (orange), removed (red)", 0, _marks(changes, "old"))
    right = _board(new, f"{title}: {after}", "outlined: changed (orange), added (green)",
                   COLUMNS * COL_W + GAP, _marks(changes, "new"))
    return _svg([left, right])


def write_comparisons(old_tree: Mapping, new_tree: Mapping, changes: list[Change], out: Path,
                      before: str = "before", after: str = "after") -> list[Path]:
    """DIR/<uid>.svg (before | after) for every dashboard the changes touch; the paths written."""
    from generator.diff.trees import file_kind, parse_file

    def dashboards(tree: Mapping) -> dict[str, dict]:
        found = {}
        for path, data in tree.items():
            doc = parse_file(path, data)
            if file_kind(path, doc) == "dashboard":
                found[doc.get("uid") or path] = doc
        return found

    olds, news = dashboards(old_tree), dashboards(new_tree)
    uids = sorted({c.uid for c in changes if c.uid}, key=str)
    files = {c.uid: c.file for c in changes if c.uid}
    for uid in uids:  # each becomes DIR/<uid>.svg: all checked before anything is written
        check_uid(uid, "dashboard uid", f"rendered/{files[uid]}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for uid in uids:
        mine = [c for c in changes if c.uid == uid]
        path = out / f"{uid}.svg"
        path.write_text(comparison_svg(olds.get(uid), news.get(uid), mine, before, after), encoding="utf-8")
        written.append(path)
    return written
