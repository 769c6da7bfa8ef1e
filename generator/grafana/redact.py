"""Keeping secrets out of messages: every spelling a server may echo, and URL credentials.

    scrubber = Scrubber()
    scrubber.add("https://hooks.slack.com/services/T0/B0/xyz")   # a secret dashgen sends
    scrubber("...hooks.slack.com%2Fservices%2FT0%2FB0%2Fxyz...")  # -> "...[REDACTED]..."
    redact_url("https://bob:pw@grafana.example")                  # -> "https://[REDACTED]@grafana.example"

A server that echoes a request body rarely echoes it byte for byte: it URL-encodes it (a form
or a query string), drops the scheme, or JSON-escapes it (Go writes `&` as `\\u0026` and may
write `/` as `\\/`). So each secret is registered with its significant parts (for a URL: the
URL without its scheme, the host and path, the path, the path below its first segment, the
last segment, every query value; for a list of addresses: each address), and each of those
with every encoding below. Parts shorter than MIN_PART are not registered on their own (they
are not secret on their own, and would blank out ordinary words); the whole value always is.

`check_credential` refuses a token that cannot travel in an HTTP header (requests would put
it, escaped, into an exception message) without ever showing it.
"""

from __future__ import annotations

import html
import json
import re
import threading
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from generator.errors import ConfigError

REDACTED = "[REDACTED]"
MIN_PART = 6
_USERINFO = re.compile(r"(?<=//)[^/?#@\s]*@")
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


def check_credential(name: str, value: str) -> str:
    """`value` if it can travel in an HTTP header; else a ConfigError naming `name` and the
    first bad character's position and kind, never the value."""
    if not value or _HEADER_SAFE.fullmatch(value):  # "": the server says no credentials reached it
        return value
    pos, ch = next((i, c) for i, c in enumerate(value) if not _HEADER_SAFE.fullmatch(c))
    kind = ("a line break" if ch in "\r\n" else "a space" if ch.isspace() else
            "a control character" if ord(ch) < 32 or ord(ch) == 127 else "a non-ASCII character")
    raise ConfigError(f"{name} holds {kind} at position {pos + 1} of {len(value)}: a credential must be "
                      f"printable ASCII without spaces (was it pasted with a line break?); nothing was sent")


def redact_url(url: str) -> str:
    """`url` with any `user:password@` replaced by `[REDACTED]@`; works on unparseable text."""
    return _USERINFO.sub(REDACTED + "@", str(url))


def url_userinfo(url: str) -> list[str]:
    """The user name and password inside `url` (to scrub them), or []."""
    m = _USERINFO.search(str(url))
    if not m:
        return []
    user, _, password = m.group(0)[:-1].partition(":")
    return [p for p in (m.group(0)[:-1], user, password) if p]


def parts(secret: str) -> list[str]:
    """The secret and the pieces of it that are secret on their own."""
    secret = secret.strip()
    found = [secret]
    items = [s.strip() for s in re.split(r"[,;]", secret)] if re.search(r"[,;]", secret) else []
    found += items  # a list of addresses: each one
    for value in [secret, *items]:
        try:
            u = urlsplit(value)
        except ValueError:
            continue
        if not (u.scheme and u.netloc):
            continue
        rest = value.split("://", 1)[-1]
        segments = [s for s in u.path.split("/") if s]
        found += [rest, u.netloc + u.path, u.path, u.path.lstrip("/"), u.query, u.fragment,
                  "/".join(segments[1:]), segments[-1] if segments else ""]
        found += url_userinfo(value)
        for key, val in parse_qsl(u.query, keep_blank_values=True):  # decoded ('+' is a space) ...
            found += [val, f"{key}={val}"]
        found += [pair.partition("=")[2] for pair in u.query.split("&")]  # ... and as written
    whole, rest = found[0], found[1:]
    return list(dict.fromkeys([whole] + [p for p in rest if len(p) >= MIN_PART]))


def encodings(text: str) -> set[str]:
    """`text` as a server may echo it: raw, URL-encoded (either hex case, once or twice),
    JSON-escaped (Python's and Go's `\\u0026`/`\\u003c`/`\\u003e`, with and without `\\/`),
    HTML-escaped."""
    out = {text}
    for safe in ("", "/", ":/"):
        out.add(quote(text, safe=safe))
    out.add(quote_plus(text))
    out.add(quote(quote(text, safe=""), safe=""))
    out |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in list(out)}
    escaped = json.dumps(text)[1:-1]
    go = escaped.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    out |= {escaped, go, escaped.replace("/", "\\/"), go.replace("/", "\\/")}
    out |= {html.escape(text), html.escape(text, quote=False)}
    return {e for e in out if e}


class Scrubber:
    """Replaces every registered secret, in every form, with [REDACTED]. Thread-safe."""

    def __init__(self, secrets=()):
        self._forms: set[str] = set()
        self._pattern: re.Pattern | None = None
        self._lock = threading.Lock()
        for s in secrets:
            self.add(s)

    def add(self, secret: str) -> None:
        if not secret or not secret.strip():
            return
        forms = {e for p in parts(secret) for e in encodings(p)}
        with self._lock:
            if forms <= self._forms:
                return
            self._forms |= forms
            # longest first: a secret's whole form wins over its parts (no half-scrubbed leftovers)
            ordered = sorted(self._forms, key=lambda f: (-len(f), f))
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None and text else text
