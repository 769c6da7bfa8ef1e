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

`dashgen check --baseline` appends an entry for each check on each dashboard, rule or file
that has error findings now (`baseline`): adopting dashboards written elsewhere keeps the
gate green for what is there, and still fails on anything new. The text is appended, so
the file's own entries and comments stay as written.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ConfigError, DashgenError

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


# --- baseline ------------------------------------------------------------------------------

#: Checks a baseline never covers: exclusions/unused is about this file itself, and a module
#: that does not load has no other findings to judge.
NOT_BASELINED = (UNUSED_CHECK, "definitions/load")
BASELINE_KEYS = ("file", "dashboard", "group", "rule")  # an entry's scope (panels are not named)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: quotes, backslashes and every control character escaped
    (TOML allows no raw control character but tab, and \\u escapes only Unicode scalars, so
    json.dumps' surrogate pairs would not do); everything else is written as it is."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _place(finding) -> str:
    loc = finding.location
    return f"panel {loc.panel!r}: " if loc.panel else ""


def baseline(findings: list) -> list[tuple[dict, str]]:
    """The entries that accept `findings` (error level, any check but NOT_BASELINED): one per
    check and location (file, dashboard or group and rule; panels are left out so an entry
    stays readable), in the findings' order, each with a reason that counts what it covers and
    quotes the first."""
    groups: dict[tuple, list] = {}
    for f in findings:
        if f.severity != "error" or f.check in NOT_BASELINED:
            continue
        key = (f.check, *(getattr(f.location, k) or "" for k in BASELINE_KEYS))
        groups.setdefault(key, []).append(f)
    entries = []
    for (check, *where), found in groups.items():
        table = {"check": check, **{k: v for k, v in zip(BASELINE_KEYS, where) if v}}
        first = " ".join(f"{_place(found[0])}{found[0].message}".split())
        first = first if len(first) <= 160 else first[:157] + "..."
        many = f"{len(found)} findings (the first: {first})" if len(found) > 1 else f"1 finding ({first})"
        reason = (f"Baseline taken by `dashgen check --baseline`: {many}. "
                  f"Fix {'them' if len(found) > 1 else 'it'}, then delete this entry.")
        entries.append((table, reason))
    return entries


def baseline_text(entries: list[tuple[dict, str]]) -> str:
    """TOML for `entries`, to append to an exclusions file."""
    blocks = []
    for table, reason in entries:
        lines = ["[[exclude]]", *(f"{k} = {toml_string(v)}" for k, v in table.items()),
                 f"reason = {toml_string(reason)}"]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def append_baseline(path: Path, findings: list) -> tuple[int, int]:
    """Append the baseline of `findings` to the exclusions file at `path` (created if absent):
    (entries written, findings they cover). The new text must read back as exclusions before the
    file is replaced (a temporary file renamed into place: never half-written)."""
    import os
    import tempfile

    entries = baseline(findings)
    if not entries:
        return 0, 0
    covered = sum(1 for f in findings if f.severity == "error" and f.check not in NOT_BASELINED)
    if path.is_symlink():
        raise ConfigError(f"{path} is a symbolic link: write the exclusions file itself")
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    head = old if not old or old.endswith("\n") else old + "\n"
    text = head + ("\n" if head else "") + baseline_text(entries)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # a bug here, never the user's file: it parsed before
        raise DashgenError(f"{path}: the baseline would not be valid TOML ({exc}); nothing written") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        load_exclusions(Path(tmp))  # reads back as exclusions before it replaces anything
        os.replace(tmp, path)
    except OSError as exc:
        raise DashgenError(f"cannot write {path}: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return len(entries), covered
