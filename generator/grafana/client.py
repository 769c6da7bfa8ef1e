"""A small Grafana HTTP client: auth header, timeouts, retries, typed errors.

    client = GrafanaClient("https://stack.grafana.net", token, session=requests.Session())
    client.check_token()                       # GET /api/org; AuthError says what is wrong
    resp = client.request("GET", "/api/dashboards/uid/abc", ok=(200, 404))

Every attempt runs under an overall deadline (`deadline`, seconds; deadline.py): a server that
trickles its answer a byte at a time, never tripping the read timeout, is cut off when the
deadline passes and the attempt counts as timed out. Paths are checked before anything is
sent: no '.' or '..' segment (resolved on the way, it would send the token elsewhere), no
control characters, no query or fragment; callers build them with safenames.url_segment.

Retries (Grafana answers 429 with Retry-After, and 502/503/504 behind its proxy) use our own loop rather than urllib3's Retry: we need
Retry-After (seconds or HTTP date) *and* jitter on every wait, the decision per call of
whether it is idempotent, and errors that name the request and never carry the token.
Only connection errors, timeouts, 429 and 502/503/504 are retried; other 4xx never are.

The token lives in one attribute and in the Authorization header of each request. Every
message built from a server answer or a transport exception passes through `scrub()`, so
a 500 whose body echoes the request cannot leak it into an exception, a log or a file, in
any encoding (redact.py). A token that cannot be a header value (a line break, a space, a
non-ASCII character) is refused before anything is sent, without being shown. Messages show
the base URL without any `user:password@` in it.

Proxies: a plain-http target (only loopback is allowed, see environments.check_url) is
always reached directly, never through HTTP_PROXY/ALL_PROXY, which would receive the token
in clear. An https target may go through any proxy: requests tunnels it (CONNECT), so the
proxy sees the host name, never a header or a body.
"""

from __future__ import annotations

import base64
import email.utils
import random
import re
import threading
import time
from collections import Counter
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urlsplit

import requests
import requests.auth

from generator.errors import ConfigError, DashgenError
from generator.normalize import loads as strict_loads
from generator.grafana.deadline import Deadline, DeadlineAdapter
from generator.grafana.redact import Scrubber, check_credential, redact_url, url_userinfo

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read: slow Grafana answers (a big dashboard, a busy stack) get 30 s
DEFAULT_DEADLINE = 120.0  # one attempt, start to last byte of the answer
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: What a plain-http (loopback) request passes as `proxies`: every environment proxy off.
NO_PROXIES = {"http": None, "https": None, "all": None}


def path_problem(path: str) -> str | None:
    """Why `path` is not a plain absolute API path, or None (see the module doc)."""
    if not path.startswith("/"):
        return "does not start with '/'"
    if any(c in path for c in "?#\\") or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in path):
        return "holds '?', '#', a backslash or a control character"
    if any(unquote(part) in (".", "..") for part in path.split("/")):
        return "has a '.' or '..' segment"
    return None


class GrafanaAPIError(DashgenError):
    """Grafana (or the network on the way) refused a request. Never holds a secret."""

    def __init__(self, method: str, path: str, status: int | None, message: str,
                 code: str = "", trace_id: str = "", service: str = "Grafana"):
        self.method, self.path, self.status = method, path, status
        self.message, self.code, self.trace_id = message, code, trace_id
        where = f"{method} {path}"
        if status is None:
            text = f"{where}: {message}"
        else:
            text = f"{where}: {service} answered {status}" + (f" {code}" if code else "") + f": {message}"
        if trace_id:
            text += f" (traceID {trace_id})"
        super().__init__(text)

    @property
    def permission(self) -> str:
        """The permission an RBAC 403 names ("dashboards:write"), else ""."""
        m = re.search(r"Permissions needed:\s*(.+?)\s*$", self.message)
        return m.group(1) if m else ""

    @property
    def conflict(self) -> bool:
        """409 (newer servers) and 412 (older ones) both mean "changed by someone else", except a
        pre-11.3 duplicate title and a plugin's dashboard, which are plain failures."""
        return self.status in (409, 412) and self.code not in ("name-exists", "plugin-dashboard")


class GrafanaUnreachable(GrafanaAPIError):
    """Connection refused or reset, or a timeout, after every retry."""


class AuthError(ConfigError):
    """The token is missing, invalid, expired or revoked, or lacks a permission (exit 2)."""


def parse_error(resp: requests.Response, scrub: Callable[[str], str] = lambda t: t) -> tuple[str, str, str]:
    """(code, message, traceID) from any of Grafana's error shapes (JSON or plain text).

    `scrub` runs on every string before anything is shortened (a secret cut in half is no
    longer recognisable) and after JSON decoding (Go escapes `&`, `<`, `>` as `\\u0026`...,
    so a secret echoed in JSON only matches once decoded)."""
    text = resp.text or ""
    try:
        body = strict_loads(text) if text.strip() else None
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        if body.get("kind") == "Status":  # the /apis routes: a Kubernetes Status ("reason": "Conflict")
            code = scrub(str(body.get("reason") or ""))
        else:
            code = scrub(str(body.get("status") or body.get("messageId") or body.get("errorType") or ""))
        if body.get("accessErrorId"):
            code = code or "access-denied"
        # "msg": the Synthetic Monitoring API's shape ({"code", "msg", "err"})
        message = scrub(str(body.get("message") or body.get("msg") or body.get("error") or body.get("title")
                            or scrub(text)))
        detail = body.get("error")
        if detail and scrub(str(detail)) != message:  # the internal error, outside production
            message += f" ({' '.join(scrub(str(detail)).split())[:300]})"
        return code, message, scrub(str(body.get("traceID") or ""))
    text = scrub(text)
    if not text.strip():
        return "", resp.reason or "empty response", ""
    if "<html" in text.lower():  # a proxy's or a waking stack's HTML page: keep it short
        title = re.search(r"<title>(.*?)</title>", text, re.I | re.S)
        text = title.group(1).strip() if title else re.sub(r"<[^>]+>", " ", text)
    return "", " ".join(text.split())[:300], ""


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _HeaderAuth(requests.auth.AuthBase):
    """Sets Authorization per request. Passed as `auth=`, so requests never substitutes
    credentials from ~/.netrc (which it does when no `auth` is given)."""

    def __init__(self, value: str):
        self._value = value

    def __call__(self, r):
        r.headers["Authorization"] = self._value
        return r

    def __repr__(self) -> str:
        return "_HeaderAuth([REDACTED])"


class GrafanaClient:
    """Requests against one Grafana stack (or one Mimir ruler) with one credential."""

    def __init__(self, base_url: str, token: str, *, session: requests.Session | None = None,
                 basic_user: str | None = None, extra_headers: dict[str, str] | None = None,
                 timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, deadline: float = DEFAULT_DEADLINE,
                 retries: int = 4,
                 backoff: float = 0.5, backoff_cap: float = 30.0, retry_after_cap: float = 120.0,
                 pool_size: int = 16, service: str = "Grafana",
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self.display_url = redact_url(self.base_url)  # what messages show
        self.service = service  # who answers, in error messages ("Synthetic Monitoring")
        self._token = token
        if basic_user is None:
            self._auth = f"Bearer {check_credential('the token', token)}"
        else:
            check_credential("the user", basic_user)
            self._auth = "Basic " + base64.b64encode(f"{basic_user}:{check_credential('the token', token)}".encode()).decode()
        self._scrubber = Scrubber([token, self._auth.split(" ", 1)[1], *url_userinfo(self.base_url)])
        self._proxies = NO_PROXIES if urlsplit(self.base_url).scheme == "http" else None
        self._header_auth = _HeaderAuth(self._auth)
        if session is None:
            session = requests.Session()
            adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_size)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        session.verify = True  # TLS is always verified
        self.session = session
        self.extra_headers = dict(extra_headers or {})
        self.timeout, self.deadline, self.retries = timeout, deadline, retries
        self.backoff, self.backoff_cap, self._sleep = backoff, backoff_cap, sleep
        self.retry_after_cap = retry_after_cap
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()  # requests actually sent, by method (retries included)
        self.retried = 0

    def __repr__(self) -> str:
        return f"GrafanaClient({self.display_url!r})"

    def add_secret(self, value: str) -> None:
        """Also keep `value` (a contact-point secret sent in a body) out of every error, in
        every encoding and by its significant parts (redact.py)."""
        self._scrubber.add(value)

    def scrub(self, text: str) -> str:
        return self._scrubber(text)

    def request(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
                data: str | bytes | None = None, headers: dict[str, str] | None = None,
                ok: Iterable[int] = (200,), idempotent: bool = True) -> requests.Response:
        """Send, retrying what may be retried; return the response if its status is in `ok`."""
        ok = tuple(ok)
        why = path_problem(path)
        if why:
            raise GrafanaAPIError(method, repr(path), None, f"refused before sending: the path {why}")
        hdrs = {"Accept": "application/json", **self.extra_headers, **(headers or {})}
        url = self.base_url + path
        attempt = 0
        while True:
            wait: float | None = None
            try:
                with self._lock:
                    self.sent[method] += 1
                with Deadline(self.deadline) as deadline:  # the body is read inside (stream=False)
                    resp = self.session.request(method, url, params=params, json=json_body, data=data, headers=hdrs,
                                                auth=self._header_auth, timeout=self.timeout, allow_redirects=False,
                                                proxies=dict(self._proxies) if self._proxies else None)  # requests adds to it
                if deadline.expired:  # cut off, yet parsed as an answer: it may be truncated
                    resp.close()
                    raise requests.Timeout("deadline passed")
            except requests.RequestException as exc:
                if deadline.expired:
                    kind, name = "timed out", f"no complete answer within {self.deadline:g} s"
                elif isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                    name = type(exc).__name__
                else:
                    raise GrafanaUnreachable(method, path, None,
                                             redact_url(self.scrub(f"{type(exc).__name__}: {exc}"))) from None
                if not idempotent or attempt >= self.retries:
                    raise GrafanaUnreachable(method, path, None,
                                             f"{kind} after {attempt + 1} attempts: {self.scrub(name)}") from None
            else:
                if resp.status_code in ok:
                    return resp
                if resp.status_code in RETRY_STATUSES and idempotent and attempt < self.retries:
                    wait = retry_after_seconds(resp.headers.get("Retry-After"))
                    resp.close()
                else:
                    code, message, trace = parse_error(resp, self.scrub)
                    raise GrafanaAPIError(method, path, resp.status_code, message, code, trace, self.service)
            delay = min(self.backoff_cap, self.backoff * 2 ** attempt)
            delay = random.uniform(delay / 2, delay)  # "equal jitter": never 0, never synchronised
            if wait is not None:
                delay = min(self.retry_after_cap, wait) + random.uniform(0, 0.1 + wait / 10)
            with self._lock:
                self.retried += 1
            self._sleep(delay)
            attempt += 1

    def decode(self, resp: requests.Response, kind: type = dict) -> Any:
        """The JSON body of a successful answer, of the expected `kind` (dict or list), else a
        GrafanaAPIError (a proxy's HTML page with status 200 must not crash the run)."""
        try:
            body = strict_loads(resp.content) if resp.content else None
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, kind):
            method = resp.request.method if resp.request is not None else "?"
            path = urlsplit(resp.url).path if resp.url else "?"
            got = "not JSON" if body is None else f"a JSON {type(body).__name__}"
            raise GrafanaAPIError(method, path, resp.status_code, f"unexpected answer: {got}, "
                                  f"expected a JSON {'object' if kind is dict else 'array'}", service=self.service)
        return body

    def get_json(self, path: str, kind: type = dict, **kw) -> Any:
        return self.decode(self.request("GET", path, **kw), kind)

    def check_token(self) -> dict:
        """GET /api/org; an AuthError names what is wrong (missing, invalid, expired, permission)."""
        try:
            return self.get_json("/api/org")
        except GrafanaAPIError as exc:
            raise auth_error(exc, self.display_url) from None


def auth_error(exc: GrafanaAPIError, where: str) -> AuthError | GrafanaAPIError:
    if exc.status == 401:
        reasons = {
            "auth.unauthorized": "no credentials reached Grafana (is GRAFANA_TOKEN empty or malformed?)",
            "api-key.invalid": "GRAFANA_TOKEN is invalid: Grafana does not know this token",
            "api-key.expired": "GRAFANA_TOKEN has expired: create a new service-account token",
            "api-key.revoked": "GRAFANA_TOKEN has been revoked: create a new service-account token",
            "api-key.organization-mismatch": "GRAFANA_TOKEN belongs to another organization",
        }
        why = reasons.get(exc.code, f"GRAFANA_TOKEN was refused ({exc.code or 'unauthorized'}: {exc.message})")
        return AuthError(f"{where}: {why}")
    if exc.status == 403:
        need = exc.permission or "a role of Viewer or above"
        return AuthError(f"{where}: GRAFANA_TOKEN lacks a permission: {need}")
    return exc
