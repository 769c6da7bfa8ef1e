"""Webhook sinks standing in for e-mail, Slack and SMS: they record what Alertmanager sends.

    python -m stack.sinks --port 9000

POST /email, /slack or /sms (any body) is recorded with its arrival time and answered 200;
GET /received returns every record, oldest first: [{"sink", "time", "body"}] (time in Unix
seconds, body parsed as JSON where it is JSON). DELETE /received forgets them.
GET / answers a small HTML page with 200: the stack has no React frontend, so this page stands
in for it as the target of the frontend probe (FrontendDown, the "Frontend uptime" panel).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SINKS = ("email", "slack", "sms")
FRONTEND_PAGE = b"<!doctype html><title>Raymontology</title><div id=root></div>\n"


class Sinks(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address):
        super().__init__(address, _Handler)
        self.records: list[dict] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: Sinks

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        sink = self.path.strip("/").split("/")[0]
        if sink not in SINKS:
            return self._answer(404, b"unknown sink\n", "text/plain")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        with self.server.lock:
            self.server.records.append({"sink": sink, "time": time.time(), "body": body})
        self._answer(200, b"ok", "text/plain")

    def do_GET(self):
        if self.path == "/":
            return self._answer(200, FRONTEND_PAGE, "text/html; charset=utf-8")
        if self.path != "/received":
            return self._answer(404, b"not found\n", "text/plain")
        with self.server.lock:
            data = json.dumps(self.server.records).encode()
        self._answer(200, data)

    def do_DELETE(self):
        with self.server.lock:
            self.server.records.clear()
        self._answer(200, b"[]")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    Sinks(("127.0.0.1", args.port)).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
