"""The one validator for names that become paths: file names, folder names, URL path segments.

Names come from definitions (rule groups, check jobs, dashboard uids), from environments.toml
(environment names), from rendered/ (uids, group names, template names), from the command line
(`pull` uids) and from servers. Whatever the source, a name that becomes one component of a
file path, or one segment of a URL path, passes through here first:

    check_name(group.name, "rule group", "alerts/http.py")      # a file or folder name
    check_uid(uid, "dashboard uid", "rendered/dashboards/x.json")  # Grafana's uid rule
    url_segment(uid, "contact point uid")                     # percent-encoded, never '..'

Each raises UnsafeName (a ConfigError: exit 2) whose message names what the value is and
where it came from; `error=` swaps in another exception type taking (where, cause), such as
DefinitionError, for names found in definitions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Iterable
from urllib.parse import quote

from generator.errors import ConfigError

#: A file name may be 255 bytes on common file systems; dashgen adds suffixes such as
#: `.rules.yaml`, so a name itself keeps well below that.
MAX_NAME_BYTES = 150
#: Grafana's rule for uids (dashboards, folders, contact points): at most 40 of [a-zA-Z0-9_-].
MAX_UID = 40
UID_RE = re.compile(r"[a-zA-Z0-9_-]+")
#: Besides letters and digits (any script), the punctuation a name may hold.
NAME_PUNCTUATION = frozenset("-_. ")
SHOWN = 60  # characters of a refused value quoted in a message


class UnsafeName(ConfigError):
    """A name that cannot safely become a path component or a URL segment."""


def _unsafe(where: str, cause: str) -> UnsafeName:
    return UnsafeName(f"{where}: {cause}" if where else cause)


def shown(value: object) -> str:
    """`value` quoted for a message: repr (controls escaped), cut to SHOWN characters."""
    if isinstance(value, str) and len(value) > SHOWN:
        return repr(value[:SHOWN]) + f"... ({len(value)} characters)"
    return repr(value)


def _char_problem(ch: str) -> str | None:
    if ch == "\0":
        return "contains a NUL character"
    if ch in "/\\":
        return f"contains the path separator {ch!r}"
    category = unicodedata.category(ch)
    if category == "Cc":
        return f"contains the control character U+{ord(ch):04X}"
    if category in ("Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
        return f"contains the invisible or unassigned character U+{ord(ch):04X}"
    if not (ch.isalnum() or ch in NAME_PUNCTUATION):
        return f"contains {ch!r} (use letters, digits and {' '.join(sorted(NAME_PUNCTUATION - {' '}))} or spaces)"
    return None


def name_problem(value: object, max_bytes: int = MAX_NAME_BYTES) -> str | None:
    """Why `value` cannot be one path component, or None when it can."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not value:
        return "is empty"
    if value in (".", ".."):
        return "is '.' or '..'"
    for ch in value:
        why = _char_problem(ch)
        if why:
            return why
    if len(value.encode("utf-8")) > max_bytes:
        return f"is longer than {max_bytes} bytes"
    if value[0] in ".-":
        return f"starts with {value[0]!r}"
    if value != value.strip() or value.endswith("."):
        return "starts or ends with a space, or ends with '.'"
    return None


def check_name(value: object, what: str, where: str = "",
               error: Callable[[str, str], Exception] = _unsafe) -> str:
    """`value` if it can be one file or folder name; else raise `error(where, cause)`."""
    why = name_problem(value)
    if why:
        raise error(where, f"{what} {shown(value)} cannot be used as a file name: it {why}")
    return value  # type: ignore[return-value]


def uid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not value:
        return "is empty"
    if len(value) > MAX_UID or not UID_RE.fullmatch(value):
        return f"must be 1 to {MAX_UID} of [a-zA-Z0-9_-] (Grafana's uid rule)"
    return None


def check_uid(value: object, what: str, where: str = "",
              error: Callable[[str, str], Exception] = _unsafe) -> str:
    """`value` if it follows Grafana's uid rule; else raise `error(where, cause)`."""
    why = uid_problem(value)
    if why:
        raise error(where, f"{what} {shown(value)} {why}")
    return value  # type: ignore[return-value]


def url_segment(value: object, what: str, where: str = "") -> str:
    """`value` as one percent-encoded URL path segment. Refused: empty, '.' or '..' (a
    client or proxy resolves those and the request lands elsewhere), and control characters."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or text in ("", ".", "..") or any(unicodedata.category(c) == "Cc" for c in text):
        raise _unsafe(where, f"{what} {shown(value)} cannot be sent as part of a URL")
    return quote(text, safe="")


def path_problem(path: str) -> str | None:
    """Why `path` (relative, '/'-separated) is not a plain path of safe names, or None."""
    if not path or path.startswith("/"):
        return "is not a relative path"
    for part in path.split("/"):
        why = name_problem(part, max_bytes=255)
        if why:
            return f"has a part that {why}"
    return None


def check_tree(paths: Iterable[str], where: str = "") -> None:
    """Every path is relative and made of safe names, and no two differ only in case (they
    would be one file on macOS and Windows). Raises UnsafeName naming the first bad one."""
    tree = TreeNames(where)
    for path in paths:
        tree.add(path)


class TreeNames:
    """`check_tree` one path at a time, for output written as it is produced: `add(path)`
    raises UnsafeName before anything is written under a bad name."""

    def __init__(self, where: str = ""):
        self.where = where
        self._seen: dict[str, str] = {}

    def add(self, path: str) -> None:
        why = path_problem(path)
        if why:
            raise _unsafe(self.where, f"output file {shown(path)} {why}")
        key = unicodedata.normalize("NFC", path).casefold()
        if key in self._seen and self._seen[key] != path:
            raise _unsafe(self.where, f"output files {self._seen[key]!r} and {path!r} differ only in case")
        self._seen[key] = path
