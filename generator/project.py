"""Where the project lives: the folder holding dashboards/ and alerts/."""

from __future__ import annotations

from pathlib import Path

from generator.errors import ConfigError

MARKERS = ("dashboards", "alerts")


def is_root(path: Path) -> bool:
    return all((path / m).is_dir() for m in MARKERS)


def find_root(explicit: Path | None = None, start: Path | None = None) -> Path:
    """The explicit root, else the nearest folder upward from `start` (the working
    directory) holding dashboards/ and alerts/, else the checkout this package runs from."""
    if explicit is not None:
        root = explicit.resolve()
        if not is_root(root):
            raise ConfigError(f"{root} is not a dashgen project: it needs dashboards/ and alerts/ folders")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if is_root(candidate):
            return candidate
    installed = Path(__file__).resolve().parent.parent
    if is_root(installed):
        return installed
    raise ConfigError(
        f"no dashgen project found from {here}: run inside a checkout or pass --root (or DASHGEN_ROOT)"
    )
