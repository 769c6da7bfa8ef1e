"""`dashgen init DIR`: a new, minimal project that renders, checks and tests green.

It writes the config (`monitoring/config.py`), the metric catalog (`monitoring/catalog.py`),
one dashboard, one alert with its promtool unit test and `environments.toml`, for a
service named after the folder (or `--name`): its job names, metric prefix, tag and uids
all derive from that name, so nothing of any other project comes along. The files are
written all at once (a sibling folder renamed into place), into a folder that is absent or
empty; anything else is refused.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from generator.errors import ConfigError, DashgenError

#: Template (generator/templates/init/) -> the file it becomes in the project.
FILES = {
    "monitoring.__init__.py.j2": "monitoring/__init__.py",
    "monitoring.config.py.j2": "monitoring/config.py",
    "monitoring.catalog.py.j2": "monitoring/catalog.py",
    "dashboards.__init__.py.j2": "dashboards/__init__.py",
    "dashboards.overview.py.j2": "dashboards/overview.py",
    "alerts.__init__.py.j2": "alerts/__init__.py",
    "alerts.service.py.j2": "alerts/service.py",
    "tests.rules.service.test.yaml.j2": "tests/rules/service.test.yaml",
    "environments.toml.j2": "environments.toml",
    "gitignore.j2": ".gitignore",
}
#: The project name: a tag, a uid prefix, a job-name prefix and (with _ for -) a metric prefix.
NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")

_env = Environment(loader=PackageLoader("generator", "templates/init"), undefined=StrictUndefined,
                   keep_trailing_newline=True, variable_start_string="[[", variable_end_string="]]",
                   block_start_string="[%", block_end_string="%]", comment_start_string="[#",
                   comment_end_string="#]")


def name_for(folder: Path) -> str:
    """A project name from a folder name: lower case, other characters as dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return name if name[:1].isalpha() else f"p-{name}".strip("-")


def files(name: str, title: str | None = None) -> dict[str, str]:
    """The new project's files, relative path -> text."""
    if not NAME.match(name) or name.endswith("-") or "--" in name:
        raise ConfigError(f"project name {name!r}: use 1-20 lower-case letters, digits and single dashes, "
                          "starting with a letter (it becomes the tag, uid, job and metric prefix)")
    title = title or " ".join(w.capitalize() for w in name.split("-"))
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9 ._'-]{0,63}$", title):
        raise ConfigError(f"project title {title!r}: use letters, digits, spaces and . _ ' - (at most 64)")
    values = {"name": name, "title": title, "prefix": name.replace("-", "_"),
              "env": name.replace("-", "_").upper(), "alert": "HighErrorRate"}
    return {path: _env.get_template(template).render(**values) for template, path in FILES.items()}


def init(folder: Path, name: str | None = None, title: str | None = None) -> list[str]:
    """Write a new project into `folder` (absent or empty); the written paths, sorted."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"{folder} already exists and is not an empty folder: dashgen init writes a new project")
    texts = files(name or name_for(folder), title)
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ConfigError(f"cannot create {folder}: {parent} is not a folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.init-", dir=parent))
    try:
        for rel, text in texts.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.rename(staging, folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DashgenError(f"cannot write {folder}: {exc}") from exc
    return sorted(texts)
