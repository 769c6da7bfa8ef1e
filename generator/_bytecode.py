"""dashgen's own bytecode, kept in the user's signed cache when Python is told not to write it.

Where PYTHONDONTWRITEBYTECODE is set (the Makefile sets it: no `.pyc` files beside the
sources) and no `__pycache__` file exists, Python compiles every module of an unpacked
checkout in every process: about 40 ms of each `dashgen render`. Then the generator
package's modules are found as usual but loaded by `_Loader`, which keeps their code in
`$XDG_CACHE_HOME/dashgen/` (else `~/.cache/dashgen/`) under the same HMAC-signed entries as
the project cache (generator.cache), keyed by a SHA-256 of the module's path, its source and
Python's bytecode magic: an edited file is a new key, an entry that is not signed by this
user's key or does not load as code is ignored and the source compiled. An existing
`__pycache__` file is used as Python would; `DASHGEN_CACHE=off` turns this off too.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

KIND = "bytecode"


class _Loader(importlib.machinery.SourceFileLoader):
    store = None  # generator.cache.ProjectCache over the user's cache folder

    def get_code(self, fullname):
        try:
            cached = importlib.util.cache_from_source(self.path)
        except (NotImplementedError, ValueError):
            cached = None
        if cached is None or os.path.exists(cached):
            return super().get_code(fullname)  # Python's own rules for its own files
        from generator.cache import compiled

        return compiled(self.store, KIND, self.path, self.get_data(self.path), self.source_to_code)


class _Finder:
    """Finds `generator.*` as the path finder does, then loads it with `_Loader`."""

    def __init__(self, store):
        self.store = store

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("generator.") or path is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec
        loader = _Loader(fullname, spec.origin)
        loader.store = self.store
        spec.loader = loader
        return spec

    def invalidate_caches(self):
        pass


def install() -> None:
    """Put the finder in front when Python writes no bytecode and the cache can be had."""
    if not sys.dont_write_bytecode or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    from pathlib import Path

    from generator import cache

    if not cache.enabled():
        return
    key = cache._user_key()
    if key is None:
        return
    sys.meta_path.insert(0, _Finder(cache.ProjectCache(Path(cache.user_folder()), key)))
