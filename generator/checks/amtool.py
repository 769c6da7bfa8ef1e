"""amtool: `amtool check-config` on the Alertmanager configuration as rendered.

The rendered file holds `$VARIABLE` references where secrets go, which Alertmanager cannot
parse (a URL must have a scheme); the check fills each with a placeholder of the right shape
(`generator.notifications.secrets`) in a temporary folder, beside the template file, so
amtool also parses the template.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from generator import notifications
from generator.checks import Issue, Location, check
from generator.errors import ConfigError

TIMEOUT = 60


def amtool_path() -> str:
    path = shutil.which("amtool")
    if not path:
        raise ConfigError("amtool is not installed: install Debian's 'prometheus-alertmanager' package "
                          "(`make tools` does it as root), or leave out the amtool/ checks")
    return path


def write_config(cfg, routing, folder: Path) -> Path:
    """alertmanager.yml (+ template) in `folder`, secrets filled with placeholders."""
    files = notifications.alertmanager_files(cfg, routing, notifications.placeholders(cfg))
    notifications.write_private(files, folder)
    return folder / "alertmanager.yml"


@check("amtool/check-config")
def check_config(project):
    """`amtool check-config` accepts the rendered Alertmanager configuration and its template."""
    if project.routing is None:
        return
    rel, routing = project.routing
    binary = amtool_path()
    with tempfile.TemporaryDirectory(prefix="dashgen-amtool-") as tmp:
        path = write_config(project.cfg, routing, Path(tmp))
        try:
            out = subprocess.run([binary, "check-config", path.name], cwd=tmp, capture_output=True, text=True,
                                 timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            yield Issue(Location(file=rel), f"amtool check-config timed out after {TIMEOUT} s")
            return
    if out.returncode != 0:
        text = " ".join((out.stdout + out.stderr).replace(tmp + "/", "").split())
        yield Issue(Location(file=rel), f"amtool check-config rejects rendered/alerting/alertmanager.yaml: {text[:2000]}")
