"""A v2 layout laid out on the classic 24-column grid, as Grafana's own v2 -> v1 conversion does.

The classic model has one flat list of panels with `gridPos`, and row panels that group the
panels below them (an expanded row) or hold them (a collapsed row). So:

- GridLayout: each item keeps its x / y / width / height.
- RowsLayout: each row becomes a row panel one unit high; the row's own grid follows it, its
  item positions offset by the row's position; the next row starts below the lowest panel.
  A row with a hidden header gets no row panel (its panels join the row above, if any).
- AutoGridLayout: positions are computed: width 24 / maxColumnCount (default 3 columns),
  height 5 / 9 / 14 grid units for short / standard / tall rows, or ceil(rowHeight / 38 px)
  for custom ones, filled left to right, one line per maxColumnCount panels.
- TabsLayout: each tab becomes an expanded row panel titled like the tab.
- Rows or tabs inside a row or tab are flattened after their parent's row panel (classic rows
  do not nest); in a collapsed row they all become the row's panels.

What the grid cannot show (tabs, nesting, auto-grid sizing, conditional rendering, section
variables, fill-screen rows) is named in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.dashv2.report import Report, join
from generator.normalize import DashboardInputError

GRID_COLUMNS = 24
ROW_HEIGHT = 1  # a row panel is one grid unit high
AUTO_ROW_HEIGHTS = {"short": 5, "standard": 9, "tall": 14}  # grid units, Grafana's v2 -> v1 values
AUTO_DEFAULT_COLUMNS = 3
GRID_UNIT_PX = 30 + 8  # a grid cell's height and its vertical margin, in pixels

LAYOUT_KINDS = ("GridLayout", "RowsLayout", "AutoGridLayout", "TabsLayout")


@dataclass
class Placed:
    """One element placed on the grid."""

    name: str
    x: int
    y: int
    w: int
    h: int
    repeat: dict | None
    path: str  # the layout item, for messages

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass
class Row:
    """A classic row panel: expanded ones are followed by their panels, collapsed ones hold them."""

    title: str | None
    collapsed: bool
    repeat: str | None
    y: int
    path: str
    children: list[Placed] = field(default_factory=list)


def flatten(layout: Any, report: Report, path: str = "layout") -> list[Placed | Row]:
    """The classic panel sequence for a v2 `layout` (see the module docstring)."""
    out: list[Placed | Row] = []
    _place(layout, 0, out, report, path, top=True)
    return out


def _kind(layout: Any, path: str) -> tuple[str, dict]:
    if not isinstance(layout, dict) or layout.get("kind") not in LAYOUT_KINDS:
        raise DashboardInputError(path, f"a layout must be one of {', '.join(LAYOUT_KINDS)}")
    spec = layout.get("spec")
    if not isinstance(spec, dict):
        raise DashboardInputError(join(path, "spec"), f"{layout['kind']} has no spec object")
    return layout["kind"], spec


def _list(spec: dict, key: str, path: str) -> list:
    items = spec.get(key) or []
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        raise DashboardInputError(join(path, key), f"{key} must be a list of objects")
    return items


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DashboardInputError(path, "must be a number")
    return int(value)


def _element_name(spec: dict, path: str) -> str:
    ref = spec.get("element")
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        raise DashboardInputError(join(path, "element"), "an item must refer to an element by name")
    return ref["name"]


def _place(layout: Any, base: int, out: list, report: Report, path: str, top: bool = False) -> int:
    """Append `layout`'s panels (and row panels) to `out`, starting at grid line `base`;
    returns the grid line below them."""
    kind, spec = _kind(layout, path)
    spec_path = join(path, "spec")
    if kind == "GridLayout":
        bottom = base
        for i, item in enumerate(_list(spec, "items", spec_path)):
            ipath = join(spec_path, "items", i)
            s = item.get("spec") if isinstance(item.get("spec"), dict) else {}
            p = Placed(_element_name(s, join(ipath, "spec")), _int(s.get("x", 0), join(ipath, "spec", "x")),
                       base + _int(s.get("y", 0), join(ipath, "spec", "y")),
                       _int(s.get("width", 0), join(ipath, "spec", "width")),
                       _int(s.get("height", 0), join(ipath, "spec", "height")),
                       s.get("repeat") if isinstance(s.get("repeat"), dict) else None, ipath)
            out.append(p)
            bottom = max(bottom, p.bottom)
        return bottom
    if kind == "AutoGridLayout":
        return _auto_grid(spec, base, out, report, spec_path)
    if kind == "RowsLayout":
        y = base
        for i, row in enumerate(_list(spec, "rows", spec_path)):
            y = _row(row, y, out, report, join(spec_path, "rows", i), first=top and i == 0)
        return y
    report.changed(path, "layout", "tabs become expanded rows titled like the tabs: the classic model has no tabs")
    y = base
    for i, tab in enumerate(_list(spec, "tabs", spec_path)):
        y = _tab(tab, y, out, report, join(spec_path, "tabs", i))
    return y


def _auto_grid(spec: dict, base: int, out: list, report: Report, path: str) -> int:
    cols = spec.get("maxColumnCount", AUTO_DEFAULT_COLUMNS)
    cols = min(max(int(cols), 1), GRID_COLUMNS) if isinstance(cols, (int, float)) and not isinstance(
        cols, bool) else AUTO_DEFAULT_COLUMNS
    width = GRID_COLUMNS // cols
    mode = spec.get("rowHeightMode") if isinstance(spec.get("rowHeightMode"), str) else "standard"
    height = AUTO_ROW_HEIGHTS.get(mode, AUTO_ROW_HEIGHTS["standard"])
    row_px = spec.get("rowHeight")
    if mode == "custom" and isinstance(row_px, (int, float)) and not isinstance(row_px, bool) and row_px > 0:
        height = -(-int(row_px) // GRID_UNIT_PX)
    items = _list(spec, "items", path)
    report.changed(path.removesuffix(".spec"), "layout",
                   f"auto grid laid out as fixed positions: {cols} per line, {width} wide, {height} high")
    for key in ("columnWidthMode", "columnWidth", "fillScreen"):
        if key in spec and spec[key] not in ("standard", False):
            report.lost(join(path, key), "layout", "the classic grid has fixed positions only")
    for i, item in enumerate(items):
        ipath = join(path, "items", i)
        s = item.get("spec") if isinstance(item.get("spec"), dict) else {}
        repeat = None
        if isinstance(s.get("repeat"), dict):
            repeat = {**s["repeat"], "direction": "h", "maxPerRow": cols}
        if "conditionalRendering" in s:
            report.lost(join(ipath, "spec", "conditionalRendering"), "layout",
                        "conditional rendering: the classic model always shows a panel")
        out.append(Placed(_element_name(s, join(ipath, "spec")), (i % cols) * width,
                          base + (i // cols) * height, width, height, repeat, ipath))
    return base + -(-len(items) // cols) * height


def _section_losses(spec: dict, path: str, subject: str, report: Report) -> None:
    if "conditionalRendering" in spec:
        report.lost(join(path, "conditionalRendering"), subject,
                    "conditional rendering: the classic model always shows a row")
    if spec.get("variables"):
        report.lost(join(path, "variables"), subject,
                    "section variables: classic variables belong to the whole dashboard")
    if spec.get("fillScreen"):
        report.lost(join(path, "fillScreen"), subject, "fill screen: classic rows have no such setting")


def _row(row: dict, y: int, out: list, report: Report, path: str, first: bool) -> int:
    spec = row.get("spec")
    if not isinstance(spec, dict):
        raise DashboardInputError(join(path, "spec"), "a row has no spec object")
    spec_path = join(path, "spec")
    title = spec.get("title") if isinstance(spec.get("title"), str) else None
    subject = f"row {title!r}" if title else "row"
    _section_losses(spec, spec_path, subject, report)
    inner = spec.get("layout")
    inner_kind, _ = _kind(inner, join(spec_path, "layout"))
    if spec.get("hideHeader"):
        if not first:
            report.changed(spec_path, subject, "header hidden: with no row panel of their own its panels "
                                               "join the row above in the classic model")
        if spec.get("collapse"):
            report.changed(join(spec_path, "collapse"), subject, "a row without header is shown expanded")
        return max(y, _place(inner, y, out, report, join(spec_path, "layout")))
    repeat = spec.get("repeat")
    head = Row(title, bool(spec.get("collapse")), repeat.get("value") if isinstance(repeat, dict) else None,
               y, path)
    out.append(head)
    if inner_kind in ("RowsLayout", "TabsLayout"):
        report.changed(join(spec_path, "layout"), subject,
                       "rows or tabs inside a row are flattened after it: classic rows do not nest")
    content: list[Placed | Row] = []
    bottom = _place(inner, y + ROW_HEIGHT, content, report, join(spec_path, "layout"))
    if head.collapsed:
        head.children = [p for p in content if isinstance(p, Placed)]
        head.children += [c for r in content if isinstance(r, Row) for c in r.children]
        return y + ROW_HEIGHT
    out.extend(content)
    return max(y + ROW_HEIGHT, bottom)


def _tab(tab: dict, y: int, out: list, report: Report, path: str) -> int:
    spec = tab.get("spec")
    if not isinstance(spec, dict):
        raise DashboardInputError(join(path, "spec"), "a tab has no spec object")
    spec_path = join(path, "spec")
    title = spec.get("title") if isinstance(spec.get("title"), str) else None
    _section_losses(spec, spec_path, f"tab {title!r}" if title else "tab", report)
    repeat = spec.get("repeat")
    out.append(Row(title, False, repeat.get("value") if isinstance(repeat, dict) else None, y, path))
    return max(y + ROW_HEIGHT, _place(spec.get("layout"), y + ROW_HEIGHT, out, report, join(spec_path, "layout")))


__all__ = ["AUTO_DEFAULT_COLUMNS", "AUTO_ROW_HEIGHTS", "GRID_COLUMNS", "Placed", "Row", "flatten"]
