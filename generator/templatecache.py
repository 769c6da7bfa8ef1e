"""The compiled form of dashgen's jinja2 templates, kept in a project's result cache.

jinja2 compiles every template it loads to Python source and then to bytecode; in a
`dashgen render` of a small project that was about a tenth of the CPU. Given the project's
cache (generator.cache.ProjectCache, signed entries), the bytecode of each template is
stored there, keyed by the template's name and file, its source, the settings of the
environment that compiled it, jinja2's bytecode header (its version and Python's) and
Python's bytecode magic; an entry that does not load as code is ignored and the template
compiled afresh. Without a cache jinja2 compiles as it always does.

    use_cache(env, "docs", cache)     # before env.get_template(...); cache may be None
"""

from __future__ import annotations

import importlib.util
import types

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache, bc_magic

from generator.cache import digest

KIND = "template"  # the cache folder (generator.cache) the entries live in


class _Store(BytecodeCache):
    def __init__(self, cache, settings: str):
        self.cache = cache
        self.settings = settings

    def _key(self, bucket: Bucket) -> str:
        return digest(KIND, self.settings, bc_magic, importlib.util.MAGIC_NUMBER, bucket.key, bucket.checksum)

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self.cache.get(KIND, self._key(bucket))
        if data is None:
            return
        try:
            bucket.bytecode_from_string(data)
        except (ValueError, EOFError, TypeError):
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, types.CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.cache.put(KIND, self._key(bucket), bucket.bytecode_to_string())


def use_cache(env: Environment, name: str, cache) -> None:
    """Let `env` (named `name`: one environment's code is never another's) keep its templates'
    bytecode in `cache`, or compile them afresh when `cache` is None."""
    if cache is None:
        env.bytecode_cache = None
        return
    settings = repr((name, env.autoescape, env.trim_blocks, env.lstrip_blocks, env.keep_trailing_newline,
                     env.undefined.__name__, env.block_start_string, env.variable_start_string,
                     env.comment_start_string, sorted(env.filters), sorted(env.tests)))
    current = env.bytecode_cache
    if not (isinstance(current, _Store) and current.cache is cache and current.settings == settings):
        env.bytecode_cache = _Store(cache, settings)
