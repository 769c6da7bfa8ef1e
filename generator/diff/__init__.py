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


from generator.diff.dashboards import (
    diff_dashboard, diff_dashboard_sets, query_text, row_names, rows_and_panels, steps_text,
)
from generator.diff.model import Change, leaves, marked_html, marked_text, show, word_diff
from generator.diff.render import FORMATTERS, format_json, format_markdown, format_text, grouped, summary
from generator.diff.rules import diff_rule_groups
from generator.diff.trees import DERIVED, diff_files, diff_trees, file_kind, parse_file, tree_from_dir, tree_from_git

__all__ = [
    "DERIVED", "FORMATTERS", "Change", "diff_dashboard", "diff_files", "diff_dashboard_sets", "diff_rule_groups", "diff_trees",
    "file_kind", "format_json", "format_markdown", "format_text", "grouped", "leaves", "marked_html",
    "marked_text", "parse_file", "query_text", "row_names", "rows_and_panels", "show", "steps_text", "summary", "tree_from_dir",
    "tree_from_git", "word_diff",
]
