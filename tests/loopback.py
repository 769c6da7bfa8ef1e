"""A raw TCP server on loopback for tests that need a misbehaving peer (a trickling answer, a
hostile message, a recording proxy).

Stopping it is the part that matters: a bare ``close()`` while the serving thread waits in
``accept()`` leaves that thread polling a file descriptor number the kernel hands to the next
socket the process opens, often a later test's Grafana emulator, whose connections it then
steals (a wrong answer there, and the emulator's own ``accept()`` waits for ever). So ``stop``
shuts the socket down, which wakes ``accept()``, and joins the thread before closing.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def loopback_server(handle: Callable[[socket.socket], None], backlog: int = 8) -> Iterator[str]:
    """Serve each connection with ``handle(conn)`` on its own thread; yield the base URL."""
    server = socket.create_server(("127.0.0.1", 0), backlog=backlog)
    stopping = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                handle(conn)
            except OSError:
                pass

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stopping.set()
        try:
            server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        thread.join(timeout=5)
        server.close()
        assert not thread.is_alive(), "the loopback server's thread did not stop"
