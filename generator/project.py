"""Finding the project root (placeholder on branch `upload` until the core's version lands on main)."""

from __future__ import annotations

from pathlib import Path

from generator.errors import ConfigError


def find_root(root: Path | None = None) -> Path:
    if root is not None:
        return Path(root).resolve()
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "pyproject.toml").exists() and (d / "environments.toml").exists():
            return d
    raise ConfigError("no dashgen project here: run from the repository or pass --root")
