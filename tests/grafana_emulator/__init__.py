"""A Grafana HTTP API emulator on loopback, for the upload tests and the benchmark."""

from grafana_emulator.server import Faults, GrafanaEmulator, Profile, Token, grafana13  # noqa: F401
