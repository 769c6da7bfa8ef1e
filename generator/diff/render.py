"""A list of changes as a terminal report, a pull-request comment or JSON."""

from __future__ import annotations

import html
import json
from typing import Iterable

from generator.diff.model import Change, marked_html

def _heading(c: Change) -> tuple:
    if c.uid or c.file.startswith("dashboards/"):
        return (0, c.parent, f'dashboard "{c.parent}" ({c.uid or c.file})')
    if c.target in ("group", "alert", "record"):
        return (1, c.parent, f"rule group {c.parent} ({c.file})")
    if c.target == "check":
        return (2, c.file, f"check {c.parent} ({c.file})")
    return (3, c.file, f"file {c.file}")


def grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    """Changes under one heading per dashboard, rule group or file, in a stable order."""
    heads: dict[tuple, list[Change]] = {}
    for c in changes:
        heads.setdefault(_heading(c), []).append(c)
    return [(h[2], cs) for h, cs in sorted(heads.items(), key=lambda kv: kv[0][:2])]


def summary(changes: list[Change]) -> str:
    if not changes:
        return "no differences"
    n_heads = len(grouped(changes))
    return f"{len(changes)} change{'s' * (len(changes) != 1)} in {n_heads} item{'s' * (n_heads != 1)}"


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def format_text(changes: list[Change]) -> str:
    if not changes:
        return "no differences\n"
    lines = []
    for head, cs in grouped(changes):
        lines.append(head)
        for c in cs:
            where = f"{c.location}: " if c.location else ""
            lines.append("  " + _indent(f"{where}{c.message}", "      "))
        lines.append("")
    lines.append(summary(changes))
    return "\n".join(lines) + "\n"


def _md_message(c: Change) -> str:
    if c.marked:
        label = c.message.split(" changed: ", 1)[0]
        body = marked_html(c.marked).replace("\n", "<br/>")
        if (c.field or "").endswith("expr"):  # queries read as code; prose stays prose
            body = f"<code>{body}</code>"
        return f"{html.escape(label, quote=False)} changed: {body}"
    return html.escape(c.message, quote=False).replace("\n", "<br/>")


def format_markdown(changes: list[Change], title: str = "dashgen diff") -> str:
    """A pull-request comment: a summary line and one collapsible section per item."""
    if not changes:
        return f"### {title}\n\nNo differences in dashboards or alert rules.\n"
    out = [f"### {title}", "", f"{summary(changes)}.", ""]
    for head, cs in grouped(changes):
        out.append("<details>")
        out.append(f"<summary><b>{html.escape(head, quote=False)}</b>: {len(cs)} change{'s' * (len(cs) != 1)}</summary>")
        out.append("")
        for c in cs:
            where = f"<b>{html.escape(c.location, quote=False)}</b>: " if c.location else ""
            out.append(f"- {where}{_md_message(c)}")
        out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


def format_json(changes: list[Change]) -> str:
    doc = {"summary": summary(changes), "count": len(changes), "changes": [c.as_dict() for c in changes]}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


FORMATTERS = {"text": format_text, "markdown": format_markdown, "json": format_json}
