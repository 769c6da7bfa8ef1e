"""A normalised dashboard's rows and panels by name, as the diff and the layout preview see
them. Kept apart from the diff itself so a render (which draws previews) does not import it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

#: Target keys holding the query itself, by data source (Prometheus/Loki, OpenSearch/Elasticsearch
#: Lucene or PPL, SQL, Graphite, InfluxQL, Flux...).
QUERY_KEYS = ("expr", "query", "rawSql", "target", "rawQuery", "queryText")


def query_text(t: dict) -> str:
    """What a target asks for, whatever its data source: its query key, or its settings as JSON."""
    for k in QUERY_KEYS:
        if isinstance(t.get(k), str) and t[k]:
            return t[k]
    rest = {k: v for k, v in t.items() if k not in ("refId", "datasource", "hide", "key")}
    return json.dumps(rest, sort_keys=True, ensure_ascii=False) if rest else ""


def _query_key(t: dict) -> str:
    return next((k for k in QUERY_KEYS if isinstance(t.get(k), str) and t[k]), "")


@dataclass
class _Panel:
    row: str | None
    title: str
    panel: dict
    row_y: int

    @property
    def pos(self) -> dict:
        return self.panel.get("gridPos") or {}

    @property
    def rel(self) -> tuple:
        """Position inside its row: moving a row or resizing one above moves nothing here."""
        p = self.pos
        return p.get("x", 0), p.get("y", 0) - self.row_y

    @property
    def size(self) -> tuple:
        return self.pos.get("w", 0), self.pos.get("h", 0)

    @property
    def exprs(self) -> tuple:
        return tuple(query_text(t) for t in self.panel.get("targets", []))


def _title(p: dict) -> str:
    t = (p.get("title") or "").strip()
    return t or f"(untitled {p.get('type', 'panel')})"


def row_names(rows: list[dict]) -> list[str]:
    """Each row's name: its trimmed title ("(untitled row)" when empty), then " #2", " #3" for
    rows repeating a title, in reading order (the same names `_keyed` gives)."""
    seen: Counter = Counter()
    out = []
    for r in rows:
        t = _title(r)
        seen[t] += 1
        out.append(t if seen[t] == 1 else f"{t} #{seen[t]}")
    return out


def rows_and_panels(d: dict) -> tuple[list[dict], list[_Panel]]:
    """The rows and the panels of a normalised dashboard, each panel with its row's name."""
    rows: list[dict] = [p for p in d.get("panels", []) if p.get("type") == "row"]
    names = iter(row_names(rows))
    items: list[_Panel] = []
    row, row_y = None, 0
    for p in d.get("panels", []):
        if p.get("type") == "row":
            row, row_y = next(names), (p.get("gridPos") or {}).get("y", 0)
            for c in p.get("panels", []):
                items.append(_Panel(row, _title(c), c, row_y))
            continue
        items.append(_Panel(row, _title(p), p, row_y))
    return rows, items
