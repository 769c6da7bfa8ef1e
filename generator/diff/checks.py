"""Synthetic Monitoring checks (rendered/synthetics/<env>/<job>.json) compared by job.

Both sides go through `synthetics.comparable`, the form upload compares, so the fields the
SM API adds (id, tenantId, created, defaults) and dashgen's mark label never show.
"""

from __future__ import annotations

from typing import Any, Mapping

from generator import synthetics as sm
from generator.diff.model import Change, _text_change, leaves


def is_check_path(path: str) -> bool:
    return path.startswith("synthetics/") and path.endswith(".json") and path.count("/") == 2


def _job(path: str, doc: dict) -> str:
    return str(doc.get("job") or path.rsplit("/", 1)[-1][: -len(".json")])


def _where(doc: dict) -> str:
    return (f"{doc.get('target')}, every {_seconds(doc.get('frequency'))} from "
            f"{len(doc.get('probes') or [])} probes")


def _seconds(ms: Any) -> str:
    return f"{ms // 1000} s" if isinstance(ms, int) else "(unset)"


def diff_checks(old: Mapping[str, dict], new: Mapping[str, dict]) -> list[Change]:
    """Checks by path (one per job and environment): added, removed, or field by field."""
    out: list[Change] = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        job = _job(path, b if b is not None else a)
        if a is None:
            out.append(Change("added", "check", path, job, f"check added ({_where(b)})", new=b.get("target")))
            continue
        if b is None:
            out.append(Change("removed", "check", path, job, f"check removed ({_where(a)})", old=a.get("target")))
            continue
        for p, o, n in leaves(sm.comparable(a), sm.comparable(b)):
            out.append(Change("changed", "check", path, job, _text_change(p, o, n)[0], field=p, old=o, new=n))
    return out
