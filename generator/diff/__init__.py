"""Semantic diff of rendered trees: what a reviewer needs to know, in a reviewer's words.

Both sides are trees of rendered files (`{"dashboards/<uid>.json": bytes | dict, ...}`,
paths relative to rendered/), whether they come from the current code, a git ref, the files
on disk or a Grafana stack. Every dashboard goes through `normalize_dashboard` first, so ids,
versions, panel id renumbering and key order can never show up as a change.

Changes are keyed by names, never by array index:

- dashboards by uid (falling back to title when a uid changes), rows by title, panels by
  (row, title) - a panel whose title changed is recognised by its queries or its place;
- rule groups by name, rules by alert or record name (plus severity when a name repeats).

`diff_trees()` returns a list of `Change` records; `format_text`, `format_markdown` and
`format_json` turn them into a terminal report, a pull-request comment and data for tools.
"""


# The names below are loaded on first use (PEP 562), so a module that needs one part (the
# layout preview needs rows_and_panels) does not import the whole package: render stays light.
_WHERE = {
    "diff_dashboard": "dashboards", "diff_dashboard_sets": "dashboards", "query_text": "layout",
    "row_names": "layout", "rows_and_panels": "layout", "steps_text": "dashboards",
    "Change": "model", "leaves": "model", "marked_html": "model", "marked_text": "model", "show": "model",
    "word_diff": "model",
    "FORMATTERS": "render", "format_json": "render", "format_markdown": "render", "format_text": "render",
    "grouped": "render", "summary": "render",
    "diff_rule_groups": "rules",
    "DERIVED": "trees", "diff_files": "trees", "diff_trees": "trees", "file_kind": "trees", "parse_file": "trees",
    "tree_from_dir": "trees", "tree_from_git": "trees",
}


def __getattr__(name: str):
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "DERIVED", "FORMATTERS", "Change", "diff_dashboard", "diff_files", "diff_dashboard_sets", "diff_rule_groups", "diff_trees",
    "file_kind", "format_json", "format_markdown", "format_text", "grouped", "leaves", "marked_html",
    "marked_text", "parse_file", "query_text", "row_names", "rows_and_panels", "show", "steps_text", "summary", "tree_from_dir",
    "tree_from_git", "word_diff",
]
