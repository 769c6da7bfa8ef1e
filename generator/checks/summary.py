"""How `dashgen check` shows many findings: the first few of one kind on one dashboard, then a count.

A 10,000-panel dashboard can make tens of thousands of findings of one check, and a wall of
identical lines hides the rest. `summarise` keeps the findings' order and, per (check,
dashboard) (per (check, file) for findings outside a dashboard), lets the first `first`
through and puts one line with the count of the others where the next one would have been:

    for item in summarise(report.findings, first=5):
        print(item)        # a Finding, or a str such as "... and 9995 more ..."

The report itself (and `--format json`) keeps every finding; this is presentation only.
"""

from __future__ import annotations

from typing import Iterable

FIRST = 5  # findings of one check shown per dashboard before the rest are counted


def _group(f) -> tuple[str, str, str]:
    if f.location.dashboard:
        return f.check, "dashboard", f.location.dashboard
    return f.check, "file", f.location.file or "(project)"


def summarise(findings: Iterable, first: int = FIRST) -> list:
    """The findings to show, and in place of the rest of each group one counting line (str).
    `first` <= 0 shows everything."""
    findings = list(findings)
    if first <= 0:
        return findings
    totals: dict[tuple[str, str, str], int] = {}
    for f in findings:
        key = _group(f)
        totals[key] = totals.get(key, 0) + 1
    shown: dict[tuple[str, str, str], int] = {}
    out: list = []
    for f in findings:
        key = _group(f)
        n = shown.get(key, 0)
        shown[key] = n + 1
        if n < first:
            out.append(f)
        elif n == first:
            check, kind, where = key
            rest = totals[key] - first
            out.append(f"{f.severity}: [{check}] {kind} {where}: ... and {rest} more finding"
                       f"{'s' if rest != 1 else ''} of this check here (--all shows every one)")
    return out
