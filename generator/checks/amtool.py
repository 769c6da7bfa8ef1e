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

from generator import cache, notifications
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


@check("amtool/check-config", external=True)
def check_config(project):
    """`amtool check-config` accepts the rendered Alertmanager configuration and its template."""
    if project.routing is None:
        return
    rel, routing = project.routing
    binary = amtool_path()
    files = notifications.alertmanager_files(project.cfg, routing, notifications.placeholders(project.cfg))
    store = project.result_cache
    key = cache.digest("amtool", cache.tool_identity(binary),
                       *[x for name in sorted(files) for x in (name, files[name])]) if store is not None else ""
    answer = cache.decode_run(store.get("amtool", key)) if store is not None else None
    if answer is None:
        with tempfile.TemporaryDirectory(prefix="dashgen-amtool-") as tmp:
            notifications.write_private(files, Path(tmp))
            try:
                out = subprocess.run([binary, "check-config", "alertmanager.yml"], cwd=tmp, capture_output=True,
                                     text=True, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                yield Issue(Location(file=rel), f"amtool check-config timed out after {TIMEOUT} s")
                return
        answer = (out.returncode, " ".join((out.stdout + out.stderr).replace(tmp + "/", "").split()))
        if store is not None and out.returncode >= 0:
            store.put("amtool", key, cache.encode_run(*answer))
    rc, text = answer
    if rc != 0:
        yield Issue(Location(file=rel), f"amtool check-config rejects rendered/alerting/alertmanager.yaml: {text[:2000]}")
