"""Run the emulator in its own process: `python -m grafana_emulator --token T [--latency 0.02]`.

Prints its URL on the first line of stdout, then serves until stdin closes or it is killed.
`GET /__emulator/log` and `POST /__emulator/clear` read and reset the request log. The
benchmark uses this so the client under test does not share a GIL with the server.
"""

from __future__ import annotations

import argparse
import sys

from grafana_emulator.server import GrafanaEmulator, Token


def main() -> None:
    ap = argparse.ArgumentParser(prog="grafana_emulator")
    ap.add_argument("--token", action="append", required=True, help="an Editor service-account token")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = ap.parse_args()
    emu = GrafanaEmulator({t: Token("dashgen") for t in args.token}, latency=args.latency).start()
    print(emu.url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    emu.stop()


if __name__ == "__main__":
    main()
