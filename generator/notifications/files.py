"""Writing files that hold secrets (a filled-in Alertmanager configuration): owner-only,
all or nothing, never through a symbolic link.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from generator.errors import DashgenError


def write_private(files: Mapping[str, str], folder: Path) -> list[Path]:
    """Write {file name: text} into `folder`, each file readable by its owner only, since a
    filled-in Alertmanager configuration holds secrets; the paths written.

    Each file is written to a new temporary file (mode 0600, created exclusively) beside it
    and renamed over the old one once every file is written, so an old file's mode never
    carries over and a failure leaves the old files as they were. Symbolic links are refused,
    as the folder itself (name the folder it points to instead) and as a file in it: the
    secrets go exactly where named, not where a link leads. A new folder is made 0700."""
    folder = Path(folder)
    if folder.is_symlink():
        raise DashgenError(f"{folder} is a symbolic link: refused for files holding secrets "
                           f"(give the folder it points to, {os.path.realpath(folder)})")
    temps: list[tuple[str, Path]] = []
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in files:
            path = folder / name
            if path.is_symlink():
                raise DashgenError(f"{path} is a symbolic link: refused, the secrets would be written where "
                                   f"it points; remove it first")
            if path.exists() and not path.is_file():
                raise DashgenError(f"{path} exists and is not a regular file")
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".new")  # 0600, O_EXCL
            temps.append((tmp, folder / name))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)  # replaces a link put there meanwhile, never writes through it
    except OSError as exc:
        raise DashgenError(f"cannot write {folder}: {exc.strerror or exc}") from exc
    finally:
        for tmp, _path in temps:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    return [folder / name for name in files]
