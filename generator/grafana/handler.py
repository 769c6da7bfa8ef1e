"""The `Handler` protocol: what upload needs to know about one Grafana resource kind.

`upload.py` knows no kinds. For each handler, in order, it runs one loop:

    remote = handler.remote_keys()                 # one listing of dashgen's namespace
    for key in local_keys + remote-only keys:      # concurrently, results in this order
        step = handler.plan(key)                   # read and compare; never writes
        item = step.item if dry run or step.write is None else step.write()

A failed listing fails every local key of that kind (nothing of it is written); a
`DashgenError` from `plan` or `write` fails that one item. A remote-only key is a prune
candidate: its plan says PRUNE with the delete as `write`, which runs only with --prune.

Adding a kind (say mute timings) is one class in its own module plus one line in
`upload.handlers()`:

    class MuteTimings:
        kind = "mute-timing"                       # the report's kind column
        where = "Grafana alerting"                 # names the namespace in messages

        def __init__(self, run: Run, local: dict[str, dict]):
            self.run, self.local, self.api = run, local, MuteTimingAPI(run.client)

        def local_keys(self) -> list[str]:
            return sorted(self.local)

        def remote_keys(self) -> list[str]:        # [] for a kind dashgen never prunes
            self.remote = self.api.fetch_all()
            return sorted(self.remote)

        def plan(self, key: str) -> Step:
            body, current = self.local.get(key), self.remote.get(key)
            if body is None:
                return prune(self.kind, key, "no longer in code", lambda: self.api.delete(key))
            if current == body:
                return Step(Item(self.kind, key, UNCHANGED, done=True))
            action = CREATE if current is None else UPDATE
            return Step(Item(self.kind, key, action), lambda: done(Item(self.kind, key, action), self.api.put(body)))

A key changed outside dashgen since it wrote it is `drifted(...)` (refused unless --force).
Writes must be keyed (a repeat cannot duplicate) and never delete-then-create: see the
retry note in upload.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Protocol

from generator.environments import Environment
from generator.grafana.client import GrafanaClient

# actions
CREATE, UPDATE, UNCHANGED, DRIFTED, PRUNE, FOREIGN, FAILED = (
    "create", "update", "unchanged", "drifted", "prune", "foreign", "failed")


@dataclass
class Item:
    kind: str  # a handler's kind, or "folder"
    key: str  # uid, group name, contact point name/uid or folder path
    action: str  # create | update | unchanged | drifted | prune | foreign | failed
    done: bool = False  # the write happened (False in a dry run, or when refused)
    detail: str = ""
    diff: str = ""
    forced: bool = False  # drifted, and overwritten (or to be, in a dry run) because of --force

    @property
    def failed(self) -> bool:
        return not self.done and (self.action == FAILED or (self.action == DRIFTED and not self.forced))

    @property
    def label(self) -> str:
        """How the summary counts this item."""
        if self.action == DRIFTED:
            if self.forced:
                return "overwritten (--force)" if self.done else "to overwrite (--force)"
            return "drifted (refused)"
        done, planned = {CREATE: ("created", "to create"), UPDATE: ("updated", "to update"),
                         PRUNE: ("pruned", "to prune"), FOREIGN: ("not managed by dashgen",) * 2,
                         }.get(self.action, (self.action, self.action))
        return done if self.done else planned


def done(item: Item, _written=None) -> Item:
    """`item` marked as written (use after the write call: `done(item, api.put(body))`)."""
    return replace(item, done=True)


@dataclass
class Step:
    """One key's plan: what to report if nothing is written, and the write, if one is due."""
    item: Item
    write: Callable[[], Item] | None = None  # performs the write, returns the final item


def drifted(kind: str, key: str, why: str, diff: str, force: bool, write: Callable[[Item], Item],
            hint: str = "use --force") -> Step:
    """The step for a key changed outside dashgen since it wrote it: refused (a failed item
    with the remote-vs-local diff) unless --force, then overwritten by `write(item)`."""
    if not force:
        return Step(Item(kind, key, DRIFTED, detail=f"{why}; not overwritten ({hint})", diff=diff))
    item = Item(kind, key, DRIFTED, detail=f"{why}; overwritten (--force)", diff=diff, forced=True)
    return Step(item, lambda: write(item))


def prune(kind: str, key: str, detail: str, delete: Callable[[], object]) -> Step:
    """The step for a prune candidate: listed with `detail`, deleted by `delete()` (run only
    with --prune), then reported as `<detail>: deleted`."""
    item = Item(kind, key, PRUNE, detail=detail)
    return Step(item, lambda: done(replace(item, detail=f"{detail}: deleted"), delete()))


@dataclass
class Run:
    """What every handler of one upload shares."""
    env: Environment
    client: GrafanaClient
    dry_run: bool
    force: bool
    prune: bool
    commit: str = "unknown"
    environ: Mapping[str, str] | None = None
    folder_uid: str = ""  # dashgen's innermost folder, once it exists
    folder_missing: bool = False  # a dry run found the folder absent: nothing of dashgen's exists yet
    apis: object = None  # apis.ApiMode: the resource API or the legacy routes (None: legacy)


class Handler(Protocol):
    kind: str
    where: str

    def local_keys(self) -> list[str]:
        """What code holds, in report order. No I/O."""

    def remote_keys(self) -> list[str]:
        """List the server once (before any plan) and return the keys there: the ones not in
        code are visited as prune candidates, so a kind that is never pruned returns []."""

    def plan(self, key: str) -> Step:
        """Fetch and compare one key; no writes."""
