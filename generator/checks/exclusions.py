"""Exclusions: findings the project has decided to accept, each with a reason.

`dashgen-check.toml` at the project root:

    [[exclude]]
    check = "dashboard/rate-interval"          # a check name; "family/*" matches a family
    dashboard = "acme-business"        # optional: file, dashboard, panel, rule, group
    panel = "No-result share"
    reason = "The stat shows the last hour on purpose, whatever the time picker says."

An entry matches a finding when the check matches and every location field it gives is
equal. An entry without a reason is a usage error; an entry that matches nothing is
reported (`exclusions/unused`), so stale exclusions cannot pile up and hide regressions.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ConfigError

DEFAULT_FILE = "dashgen-check.toml"
LOCATION_KEYS = ("file", "dashboard", "panel", "rule", "group")
UNUSED_CHECK = "exclusions/unused"


@dataclass(frozen=True)
class Exclusion:
    check: str
    reason: str
    where: tuple[tuple[str, str], ...]  # (location field, value)
    index: int  # position in the file, for messages

    def matches(self, finding) -> bool:
        if not fnmatch.fnmatchcase(finding.check, self.check):
            return False
        return all(getattr(finding.location, k) == v for k, v in self.where)

    def describe(self) -> str:
        where = ", ".join(f"{k}={v!r}" for k, v in self.where)
        return f"exclusion #{self.index} (check={self.check!r}{', ' + where if where else ''})"


def load_exclusions(path: Path) -> list[Exclusion]:
    """The exclusions in `path` (none when it does not exist); a bad file is a ConfigError."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"exclude"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; only [[exclude]] tables are allowed")
    entries = data.get("exclude", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: `exclude` must be an array of tables ([[exclude]])")
    out = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: exclusion #{i} is not a table")
        bad = set(entry) - {"check", "reason", *LOCATION_KEYS}
        if bad:
            raise ConfigError(f"{path}: exclusion #{i} has unknown keys {sorted(bad)}")
        check = entry.get("check")
        if not isinstance(check, str) or not check.strip():
            raise ConfigError(f"{path}: exclusion #{i} names no check")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{path}: exclusion #{i} ({check}) gives no reason; every exclusion must say why")
        where = tuple((k, str(entry[k])) for k in LOCATION_KEYS if k in entry)
        out.append(Exclusion(check, reason.strip(), where, i))
    return out


def apply(exclusions: list[Exclusion], findings: list, ran: list[str], source: str = DEFAULT_FILE):
    """(kept, excluded, unused-exclusion findings). Only exclusions for checks that ran can be unused."""
    from generator.checks import ERROR, Finding, Location

    used: set[int] = set()
    kept, excluded = [], []
    for f in findings:
        hit = next((e for e in exclusions if e.matches(f)), None)
        if hit is None:
            kept.append(f)
        else:
            used.add(hit.index)
            excluded.append(f)
    unused = [
        Finding(UNUSED_CHECK, ERROR, Location(file=source),
                f"{e.describe()} matches no finding any more: remove it")
        for e in exclusions
        if e.index not in used and any(fnmatch.fnmatchcase(name, e.check) for name in ran)
    ]
    return kept, excluded, unused
