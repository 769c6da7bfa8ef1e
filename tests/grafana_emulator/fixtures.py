"""pytest fixtures for tests that talk to the emulator. Import them into a test module:

    from grafana_emulator.fixtures import emulator, TOKEN  # noqa: F401
"""

from __future__ import annotations

import pytest

from grafana_emulator.server import GrafanaEmulator, Token

#: A canary: a realistic-looking token that must never appear in output, logs or errors.
TOKEN = "glsa_CanaryCanaryCanaryCanaryCanary12_deadbeef"
VIEWER_TOKEN = "glsa_ViewerViewerViewerViewerViewer12_0badf00d"
EXPIRED_TOKEN = "glsa_ExpiredExpiredExpiredExpiredExp_feedface"
REVOKED_TOKEN = "glsa_RevokedRevokedRevokedRevokedRev_cafebabe"
NOROLE_TOKEN = "glsa_NoRoleNoRoleNoRoleNoRoleNoRole12_01234567"


def make_emulator(**kw) -> GrafanaEmulator:
    tokens = {
        TOKEN: Token("sa-dashgen", "Editor"),
        VIEWER_TOKEN: Token("sa-viewer", "Viewer"),
        EXPIRED_TOKEN: Token("sa-old", "Editor", state="expired"),
        REVOKED_TOKEN: Token("sa-gone", "Editor", state="revoked"),
        NOROLE_TOKEN: Token("sa-none", "None"),
    }
    return GrafanaEmulator(tokens, **kw).start()


@pytest.fixture
def emulator():
    emu = make_emulator()
    yield emu
    emu.stop()
