"""A project's result cache: what promtool, amtool and the compiler said about exact content.

`dashgen check` runs again and again on unchanged input, and most of its time went to
external tools and to compiling the definition modules. Each answer is stored under
`<root>/.cache/dashgen/` (git-ignored), keyed by a SHA-256 of exactly the bytes that were
checked plus what did the checking (the tool binary's identity, Python's bytecode magic),
so any change to the input or the tool is a different key, never a stale hit:

    cache = ProjectCache.for_root(root)          # None when caching is off or impossible
    hit = cache.get("promtool-check", key)       # bytes or None
    cache.put("promtool-check", key, data)

The cache folder is input like any other: a checkout may carry a copied folder, a CI job may
restore one made by another branch, a crash may leave half a file. So every entry carries
an HMAC-SHA256 over its kind, key and data under a secret kept outside the project
(`$XDG_CACHE_HOME/dashgen/key`, else `~/.cache/dashgen/key`, created 0600): an entry that is
too large, truncated, unreadable, a symlink or not signed by this user's key is ignored and
the answer is recomputed. Callers still validate what they decode. Any failure to read or
write the cache is silent and costs only the speed-up; `DASHGEN_CACHE=off` turns it off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import time
from pathlib import Path

FOLDER = Path(".cache") / "dashgen"  # under the project root; .gitignore lists /.cache/
ENV = "DASHGEN_CACHE"  # "off" (or 0/no/false) turns the cache off
# Another folder for the entries, e.g. one a CI job restores for every checkout: entries are
# keyed by content (and, for bytecode, by the module's path), so several projects may share it.
DIR_ENV = "DASHGEN_CACHE_DIR"
MAX_ENTRY = 8 * 1024 * 1024  # bytes: a larger file is not read at all
#: Entries of one kind kept at most: a new entry beyond it removes the least recently used
#: ones (an entry read is marked used at most once a day) down to KEEP_ENTRIES.
MAX_ENTRIES, KEEP_ENTRIES = 2000, 1600
_TOUCH_AFTER = 86400  # seconds
_MAC = 32
_KEY_BYTES = 32


def digest(*parts: bytes | str) -> str:
    """A SHA-256 over `parts`, each length-prefixed (so ("ab", "c") != ("a", "bc"))."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def tool_identity(path: str) -> str:
    """Who answered: the tool's resolved path, size and modification time (a package upgrade
    changes them), without running it for its version on every check."""
    real = os.path.realpath(path)
    st = os.stat(real)
    return f"{real}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


def package_identity(package: str, files: tuple[str, ...]) -> str:
    """Which release of an installed Python package would answer, without importing it (or
    reading its metadata, which costs more than the cached work): the identity of some of its
    files, which an upgrade changes. Empty when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    folder = os.path.dirname(spec.origin) if spec is not None and spec.origin else None
    if folder is None:
        return ""
    return "\0".join(tool_identity(os.path.join(folder, name)) for name in files
                      if os.path.isfile(os.path.join(folder, name)))


def encode_run(rc: int, out: str) -> bytes:
    """A program's answer (exit code, output) as stored."""
    return json.dumps({"rc": rc, "out": out}).encode("utf-8")


def decode_run(data: bytes | None) -> tuple[int, str] | None:
    """A stored (exit code, output), or None when `data` is absent or not exactly that."""
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if isinstance(value, dict) and type(value.get("rc")) is int and isinstance(value.get("out"), str):
        return value["rc"], value["out"]
    return None


def compiled(store: "ProjectCache", kind: str, path: str, source: bytes, compile_source):
    """The code object for `source` at `path`: from the cache when a signed entry for exactly
    this source, path and Python bytecode version unmarshals to code for `path`, else
    `compile_source(source, path)`, which is then stored."""
    import importlib.util
    import marshal
    import types

    key = digest(kind, importlib.util.MAGIC_NUMBER, path, source)
    data = store.get(kind, key)
    if data is not None:
        try:
            code = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            code = None
        if isinstance(code, types.CodeType) and code.co_filename == path:
            return code
    code = compile_source(source, path)
    store.put(kind, key, marshal.dumps(code))
    return code


def folder_for(root: Path, environ=os.environ) -> Path:
    """Where a project's entries go: $DASHGEN_CACHE_DIR when set (an absolute path), else
    <root>/.cache/dashgen."""
    value = environ.get(DIR_ENV, "")
    if not value:
        return Path(root) / FOLDER
    if "\0" in value or not os.path.isabs(value):
        from generator.errors import ConfigError

        raise ConfigError(f"{DIR_ENV}={value!r}: must be an absolute path to a folder for dashgen's cache")
    return Path(value)


def enabled(environ=os.environ) -> bool:
    return environ.get(ENV, "").strip().lower() not in {"off", "0", "no", "false"}


def user_folder() -> str:
    """The user's dashgen cache folder: the signing key, and dashgen's own bytecode."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dashgen")


def _user_key() -> bytes | None:
    """This user's signing key, made on first use; None when it cannot be had safely."""
    folder = Path(user_folder())
    path = folder / "key"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            import secrets  # here: only the first run on a machine makes a key
            import tempfile

            key = secrets.token_bytes(_KEY_BYTES)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".key-")
            try:
                os.write(fd, key)
                os.close(fd)
                os.link(tmp, path)  # fails if another process made one meanwhile: use theirs
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
                return None  # someone else's, or readable by others: not a secret
            key = os.read(fd, _KEY_BYTES + 1)
        finally:
            os.close(fd)
    except OSError:
        return None
    return key if len(key) == _KEY_BYTES else None


class ProjectCache:
    """Signed entries under one folder; see the module docstring."""

    def __init__(self, folder: Path, key: bytes):
        self.folder = folder
        self._key = key

    @classmethod
    def for_root(cls, root: Path) -> "ProjectCache | None":
        if not enabled():
            return None
        key = _user_key()
        return cls(folder_for(root), key) if key else None

    def _path(self, kind: str, key: str) -> Path:
        if not (kind.replace("-", "").isalnum() and len(key) == 64 and all(c in "0123456789abcdef" for c in key)):
            raise ValueError(f"bad cache kind or key: {kind!r} {key!r}")
        return self.folder / kind / f"{key}.bin"

    def _mac(self, kind: str, key: str, data: bytes) -> bytes:
        return hmac.new(self._key, digest(kind, key, data).encode(), hashlib.sha256).digest()

    def get(self, kind: str, key: str) -> bytes | None:
        """The data stored for (kind, key), or None when absent or not to be trusted."""
        path = self._path(kind, key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or not _MAC <= st.st_size <= MAX_ENTRY:
                return None
            raw = b""
            while len(raw) < st.st_size:
                chunk = os.read(fd, st.st_size - len(raw))
                if not chunk:
                    break
                raw += chunk
        except OSError:
            return None
        finally:
            os.close(fd)
        mac, data = raw[:_MAC], raw[_MAC:]
        if not hmac.compare_digest(mac, self._mac(kind, key, data)):
            return None
        if time.time() - st.st_mtime > _TOUCH_AFTER:  # used: kept when old entries are pruned
            try:
                os.utime(path)
            except OSError:
                pass
        return data

    def put(self, kind: str, key: str, data: bytes) -> None:
        """Store `data`, atomically (a reader sees the old entry, the new one, or none)."""
        if len(data) + _MAC > MAX_ENTRY:
            return
        path = self._path(kind, key)
        try:
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
                ignore = self.folder / ".gitignore"  # ignored in any project, whatever its .gitignore says
                if not ignore.exists():
                    ignore.write_text("# written by dashgen: a cache, never committed\n*\n", encoding="utf-8")
            new = not path.exists()
            import tempfile  # here: a warm run writes nothing (tempfile imports shutil, random, ...)

            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".new-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(self._mac(kind, key, data) + data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
            if new:
                self._prune(path.parent)
        except OSError:
            pass

    @staticmethod
    def _prune(folder: Path) -> None:
        """Keep a kind's folder to MAX_ENTRIES: beyond it, the least recently used entries go
        (down to KEEP_ENTRIES), so a cache that sees ever new content does not grow forever."""
        with os.scandir(folder) as it:
            entries = [e for e in it if e.name.endswith(".bin") and e.is_file(follow_symlinks=False)]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime)
        for e in entries[:len(entries) - KEEP_ENTRIES]:
            try:
                os.unlink(e.path)
            except OSError:
                pass
