"""Run the emulator in the foreground: `python -m grafana_emulator --token T [--port 3000] [--latency 0.02]
[--grafana13 [--no-legacy-routes]]`.

Prints its URL on the first line of stdout, then serves until interrupted (Ctrl-C or
SIGTERM, both exit 0); stdin is not read, so it runs under nohup, in CI or from a script
alike. `--port 0` (the default) takes a free port. `GET /__emulator/log` and
`POST /__emulator/clear` read and reset the request log. The benchmark runs it in its own
process so the client under test does not share a GIL with the server.
"""

from __future__ import annotations

import argparse
import signal
import threading

from grafana_emulator.server import GrafanaEmulator, Profile, Token, grafana13


def main() -> None:
    ap = argparse.ArgumentParser(prog="grafana_emulator")
    ap.add_argument("--token", action="append", required=True, help="an Editor service-account token")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    ap.add_argument("--grafana13", action="store_true", help="serve the /apis resource API (Grafana 13)")
    ap.add_argument("--no-legacy-routes", action="store_true",
                    help="with --grafana13: no /api/dashboards and /api/folders (their announced removal)")
    args = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        profile = grafana13(legacy_dashboards=not args.no_legacy_routes) if args.grafana13 else Profile()
        emu = GrafanaEmulator({t: Token("dashgen") for t in args.token}, profile=profile,
                              latency=args.latency).start(args.port)
    except OSError as exc:
        ap.exit(2, f"grafana_emulator: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}\n")
    print(emu.url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emu.stop()


if __name__ == "__main__":
    main()
