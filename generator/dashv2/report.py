"""What a conversion between the classic and the v2 dashboard model could not carry across.

Every entry names where it was in the input (a JSON path such as `panels[3].gridPos.y` or
`layout.spec.tabs[0].spec.conditionalRendering`), who it belongs to (`panel 4 'CPU'`,
`variable 'env'`, `dashboard`) and why. Three kinds:

- LOST: the other model has no place for it; it is gone after the conversion.
- CHANGED: carried, but it comes back in another form (a position recomputed, tabs shown as
  rows, a default written out or left out).
- KEPT: the other model has no field of its own for it, so it rides in the catch-all Grafana
  itself uses (a panel's `options.__angularMigration`, an annotation's `legacyOptions`) and is
  restored on the way back. Not a loss; listed so nothing is hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LOST = "lost"
CHANGED = "changed"
KEPT = "kept"

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def join(path: str, *keys: str | int) -> str:
    """`path` extended by object keys and list indexes, in the spelling every entry uses:
    `a.b`, `a[3]`, and `a["odd key"]` for keys that are not plain names."""
    for key in keys:
        if isinstance(key, int):
            path = f"{path}[{key}]"
        elif _PLAIN_KEY.match(key):
            path = f"{path}.{key}" if path else key
        else:
            path = f"{path}[{_quote(key)}]"
    return path


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Entry:
    kind: str
    path: str
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.path or '(top level)'}: {self.reason} [{self.kind}]"


@dataclass
class Report:
    """The entries of one conversion, in the order they were found."""

    direction: str
    entries: list[Entry] = field(default_factory=list)

    def add(self, kind: str, path: str, subject: str, reason: str) -> None:
        self.entries.append(Entry(kind, path, subject, reason))

    def lost(self, path: str, subject: str, reason: str) -> None:
        self.add(LOST, path, subject, reason)

    def changed(self, path: str, subject: str, reason: str) -> None:
        self.add(CHANGED, path, subject, reason)

    def kept(self, path: str, subject: str, reason: str) -> None:
        self.add(KEPT, path, subject, reason)

    @property
    def losses(self) -> list[Entry]:
        """The entries that make the result differ from the input (LOST and CHANGED)."""
        return [e for e in self.entries if e.kind != KEPT]

    def __bool__(self) -> bool:
        return bool(self.losses)

    def lines(self, kept: bool = False) -> list[str]:
        """One line per entry (KEPT ones only when asked), ready to print."""
        return [str(e) for e in self.entries if kept or e.kind != KEPT]


__all__ = ["CHANGED", "KEPT", "LOST", "Entry", "Report", "join"]
