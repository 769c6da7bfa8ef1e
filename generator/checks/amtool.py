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
    store = project.result_cache
    placeholders = notifications.placeholders(project.cfg)
    key = _key(project.cfg, routing, placeholders, binary, store) if store is not None else ""
    answer = cache.decode_run(store.get("amtool", key)) if store is not None else None
    if answer is None:
        files = notifications.alertmanager_files(project.cfg, routing, placeholders, cache=store)
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


def _key(cfg, routing, placeholders, binary: str, store) -> str:
    """The cache key of amtool's answer: everything the files it reads are made from (the
    configuration before its placeholders are filled in, the placeholders, the template's
    text, the code and PyYAML release that write them) and the amtool binary. Computed
    without writing the YAML (PyYAML's emitter cost more than the rest of a warm check)."""
    import json

    from generator import rules
    from generator.notifications import alertmanager

    doc = notifications.alertmanager_document(cfg, routing)
    return cache.digest("amtool", cache.tool_identity(binary),
                        json.dumps(doc, ensure_ascii=False, default=repr),
                        json.dumps(sorted(placeholders.items()), ensure_ascii=False),
                        notifications.template_text(cfg, store),
                        Path(alertmanager.__file__).read_bytes(), Path(rules.__file__).read_bytes(),
                        cache.package_identity("yaml", ("__init__.py", "emitter.py", "representer.py")))
