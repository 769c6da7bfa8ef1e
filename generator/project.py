"""A project: the folder holding monitoring/, dashboards/ and alerts/, and what it defines.

The tool holds no project data. `Project(root)` loads the project's config
(`monitoring/config.py`, `CONFIG`), its metric catalog (`monitoring/catalog.py`,
`CATALOG`), its environments (`environments.toml`) and its definitions, each once, on
first use, and hands them to render, the checks and upload. `dashgen init DIR` writes a
minimal project to start from.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from generator.catalog import Catalog
from generator.config import Config
from generator.errors import ConfigError, DefinitionError

#: Folders a project root must hold.
MARKERS = ("monitoring", "dashboards", "alerts")
#: (module, name, type) of the values the project's monitoring/ package defines.
CONFIG_MODULE, CATALOG_MODULE = "monitoring/config.py", "monitoring/catalog.py"
WHAT_A_ROOT_HOLDS = (f"a project root holds {CONFIG_MODULE} (defining CONFIG), {CATALOG_MODULE} "
                     "(defining CATALOG), and dashboards/ and alerts/ folders of definition modules; "
                     "`dashgen init DIR` writes one to start from")


def is_root(path: Path) -> bool:
    return all((path / m).is_dir() for m in MARKERS)


def find_root(explicit: Path | None = None, start: Path | None = None) -> Path:
    """The explicit root, else the nearest folder upward from `start` (the working
    directory) holding a project."""
    if explicit is not None:
        root = explicit.resolve()
        if not is_root(root):
            raise ConfigError(f"{root} is not a dashgen project: {WHAT_A_ROOT_HOLDS}")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if is_root(candidate):
            return candidate
    raise ConfigError(f"no dashgen project found in {here} or above it: {WHAT_A_ROOT_HOLDS}. "
                      "Run inside one, or pass --root DIR (or set DASHGEN_ROOT)")


def _value(root: Path, rel: str, name: str, kind: type, cache=None):
    from generator.loader import import_module

    if not (root / rel).is_file():
        raise DefinitionError(rel, f"is missing: {WHAT_A_ROOT_HOLDS}")
    module = import_module(root, rel.removesuffix(".py").replace("/", "."), rel, cache)
    value = getattr(module, name, None)
    if not isinstance(value, kind):
        raise DefinitionError(rel, f"must define {name} as a generator.{kind.__module__.split('.')[-1]}."
                                   f"{kind.__name__}, not {type(value).__name__}")
    return value


class Project:
    """One project root and what it defines, each loaded once, on first use.

    `config` may be given (a variant of the project's own, as tests and `dashgen check`'s
    moved-number checks build); the definitions are then built with it. `cache` (a
    generator.cache.ProjectCache, as `dashgen render` passes) keeps the project modules'
    bytecode between runs.
    """

    def __init__(self, root: Path, config: Config | None = None, cache=None):
        self.root = Path(root)
        self.cache = cache
        if config is not None:
            self.__dict__["config"] = config

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    @functools.cached_property
    def config(self) -> Config:
        """`CONFIG` of monitoring/config.py."""
        return _value(self.root, CONFIG_MODULE, "CONFIG", Config, self.cache)

    @functools.cached_property
    def catalog(self) -> Catalog:
        """`CATALOG` of monitoring/catalog.py."""
        return _value(self.root, CATALOG_MODULE, "CATALOG", Catalog, self.cache)

    @functools.cached_property
    def environments(self) -> dict:
        """environments.toml's environments by name ({} when the file is absent)."""
        from generator.environments import ENV_FILE, load_environments

        return load_environments(self.root) if (self.root / ENV_FILE).exists() else {}

    @functools.cached_property
    def definitions(self):
        """Every definition built with `config` (generator.loader.Loaded)."""
        from generator.loader import load

        return load(self.root, self.config, cache=self.cache)

    def with_config(self, config: Config) -> "Project":
        """The same root with another config (its catalog already loaded is shared)."""
        other = Project(self.root, config, self.cache)
        if "catalog" in self.__dict__:
            other.__dict__["catalog"] = self.catalog
        return other

    def with_thresholds(self, **changes) -> "Project":
        return self.with_config(self.config.with_thresholds(**changes))

    def replace_config(self, **changes) -> "Project":
        return self.with_config(replace(self.config, **changes))


def project_of(where: "Path | Project", config: Config | None = None) -> Project:
    """`where` as a Project (a root folder or a Project), with `config` instead of its own if given."""
    project = where if isinstance(where, Project) else Project(Path(where))
    return project if config is None else project.with_config(config)
