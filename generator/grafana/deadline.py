"""An overall deadline for one HTTP request: connect, send, headers and the whole body.

requests and urllib3 only bound each socket operation (connect, one read), so a server that
answers one byte every half second never trips the read timeout and keeps a request alive
for ever. Here every request runs under a `Deadline`: a timer that, when the time is up,
shuts down the sockets the request uses; the blocked read returns at once, requests raises,
and the client reports the deadline (GrafanaClient checks `expired`).

    session.mount("https://", DeadlineAdapter())
    with Deadline(30.0) as deadline:
        resp = session.get(url, timeout=(5, 30))   # the body is read inside the block
    deadline.expired                               # True when the timer cut the request

The adapter's connections hand their socket to the deadline of the thread that uses them
(a thread-local), so concurrent requests on a pool of threads each keep their own.
"""

from __future__ import annotations

import socket
import threading

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


def _raw_socket(sock) -> socket.socket | None:
    """The OS socket under `sock` (a TLS socket, or urllib3's TLS-in-TLS transport)."""
    for _ in range(4):
        if isinstance(sock, socket.socket):
            return sock
        sock = getattr(sock, "socket", None)
    return None


def _cut(sock) -> None:
    raw = _raw_socket(sock)
    if raw is None:
        return
    try:
        # The plain socket's shutdown, also for a TLS socket: it wakes a read blocked in
        # another thread without touching the TLS object that read is using.
        socket.socket.shutdown(raw, socket.SHUT_RDWR)
    except OSError:
        pass


class Deadline:
    """At most `seconds` for what runs inside `with`; sockets attached meanwhile are cut then."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._done = False
        self._socks: list = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True
            self._socks.clear()
        _current.deadline = self._outer

    def attach(self, sock) -> None:
        if sock is None:
            return
        with self._lock:
            if self._done:
                return
            if self.expired:
                _cut(sock)
            elif not any(s is sock for s in self._socks):
                self._socks.append(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            for sock in self._socks:
                _cut(sock)


def _attach(conn) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(getattr(conn, "sock", None))


class _DeadlineMixin:
    """Hands the connection's socket to the current thread's Deadline at every step."""

    def connect(self, *args, **kwargs):
        result = super().connect(*args, **kwargs)
        _attach(self)
        return result

    def request(self, *args, **kwargs):
        _attach(self)  # a kept-alive connection is not connected again
        return super().request(*args, **kwargs)

    def getresponse(self, *args, **kwargs):
        _attach(self)
        return super().getresponse(*args, **kwargs)


class _HTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections obey the current thread's Deadline (TLS is
    verified as by any adapter: nothing about certificates changes here)."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(POOLS)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = dict(POOLS)
        return manager
