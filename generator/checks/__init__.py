"""`dashgen check`: named offline checks over the built dashboards and rule groups.

A check is a small function registered under a stable name (`family/what`, in the spirit
of pint and dashboard-linter); its docstring's first line is its documentation. It reads
a `CheckedProject` (everything built once; what several checks derive from it, such as the parsed
queries and their selectors, is a cached property) and yields `Issue`s, which the registry
turns into `Finding`s. Findings are data: the CLI decides how to show them.
Exclusions (`dashgen-check.toml`) are applied last; see `generator.checks.exclusions`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from generator.catalog import Catalog
from generator.config import Config
from generator.errors import ConfigError, DefinitionError
from generator.rules import Alert, Record, RuleGroup

if TYPE_CHECKING:
    from generator.checks.exprs import Query, SelectorUse
    from generator.checks.promtool import Runs

ERROR, WARNING = "error", "warning"  # a finding's severity (alert severities: rules.SEVERITIES)


@dataclass(frozen=True)
class Location:
    """Where a finding points: the definition file and, as known, dashboard, panel or rule."""

    file: str = ""
    dashboard: str = ""  # uid
    panel: str = ""  # title
    rule: str = ""  # alert or record name
    group: str = ""

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        if self.dashboard:
            parts.append(f"dashboard {self.dashboard}")
        if self.panel:
            parts.append(f'panel "{self.panel}"')
        if self.group and not self.rule:
            parts.append(f"group {self.group}")
        if self.rule:
            parts.append(f"rule {self.rule}")
        return ", ".join(parts) or "(project)"


@dataclass(frozen=True)
class Issue:
    """What a check yields: where, what, and a severity when it is not the check's own."""

    location: Location
    message: str
    severity: str | None = None  # None: the check's registered severity


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error | warning
    location: Location
    message: str

    def to_dict(self) -> dict:
        return {"check": self.check, "severity": self.severity, "location": asdict(self.location),
                "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity}: [{self.check}] {self.location}: {self.message}"


@dataclass(frozen=True)
class Check:
    name: str
    doc: str
    severity: str
    func: Callable[["CheckedProject"], Iterable]
    external: bool = False  # waits on a subprocess: run beside the others (in a thread)

    def run(self, project: "CheckedProject") -> Iterator[Finding]:
        for issue in self.func(project):
            if not isinstance(issue, Issue):
                raise TypeError(f"check {self.name} yielded {type(issue).__name__}, not an Issue")
            yield Finding(self.name, issue.severity or self.severity, issue.location, issue.message)


#: name -> Check, in registration order (which is the order findings are reported in).
CHECKS: dict[str, Check] = {}


def check(name: str, severity: str = ERROR, *, external: bool = False):
    """Register a check function; the first line of its docstring is its documentation.
    `external` marks a check that mostly waits on another program (promtool, amtool): those
    run concurrently with the rest."""

    def register(func):
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        CHECKS[name] = Check(name, doc, severity, func, external)
        return func

    return register


# --- the project as the checks see it ----------------------------------------------------


@dataclass
class CheckedProject:
    """The project as the checks read it, built once from a generator.project.Project:
    definitions, dashboards, rule groups, options."""

    root: Path
    cfg: Config
    catalog: Catalog
    dashboards: list[tuple[str, dict]]  # (definition file, normalised dashboard JSON)
    groups: list[tuple[str, RuleGroup]]  # (definition file, group)
    schema_dir: Path | None = None
    promtool: str | None = None
    tests_dir: Path | None = None
    routing: tuple | None = None  # (definition file, notifications.AlertRouting) or None
    slos: list = field(default_factory=list)  # (definition file, slo.SLO); their tests are generated
    result_cache: object = None  # generator.cache.ProjectCache, or None: no caching

    @functools.cached_property
    def recorded(self) -> set[str]:
        """Series names written by the project's recording rules (queryable like metrics)."""
        return {r.record for _rel, g in self.groups for r in g.records}

    @functools.cached_property
    def queries(self) -> list[Query]:
        """Every panel target and rule expression, panels' expanded as Grafana would."""
        from generator.checks.exprs import project_queries

        return project_queries(self)

    @functools.cached_property
    def parsed_texts(self) -> dict[str, tuple[object | None, str | None]]:
        """Expression text -> (AST, None) or (None, the parser's message), filled as parsed."""
        return {}

    @functools.cached_property
    def selector_uses(self) -> list[SelectorUse]:
        """Every vector selector of every query that parses, with its catalog entry: the one
        walk the catalog checks share."""
        from generator.checks.exprs import project_selectors

        return project_selectors(self)

    @functools.cached_property
    def promtool_runs(self) -> Runs:
        """`promtool check rules` and `test rules` over the project, run once."""
        from generator.checks.promtool import run

        return run(self)

    def alerts(self) -> Iterator[tuple[str, RuleGroup, Alert]]:
        for rel, g in self.groups:
            for a in g.alerts:
                yield rel, g, a

    def records(self) -> Iterator[tuple[str, RuleGroup, Record]]:
        for rel, g in self.groups:
            for r in g.records:
                yield rel, g, r


def cached(project: CheckedProject, kind: str, parts: Iterable[bytes | str], compute: Callable[[], object],
           valid: Callable[[object], bool]) -> object:
    """`compute()` (a JSON value), remembered in the project's result cache under a key over
    `parts` (exactly what the answer depends on: the input's bytes, the checking code's
    source, the tool's version). A cached value is used only if `valid(value)` holds, so a
    damaged or forged entry is recomputed, never believed."""
    import json

    from generator import cache

    store = project.result_cache
    if store is None:
        return compute()
    key = cache.digest(kind, *parts)
    data = store.get(kind, key)
    if data is not None:
        try:
            value = json.loads(data)
        except ValueError:
            value = None
        if value is not None and valid(value):
            return value
    value = compute()
    store.put(kind, key, json.dumps(value, ensure_ascii=False).encode("utf-8"))
    return value


def load_project(root, cfg: Config | None = None, **options) -> CheckedProject:
    """Import and build every definition of the project at `root` (a folder or a
    generator.project.Project; with `cfg` instead of its config if given); raises
    DefinitionError on the first failure.

    Unlike `render.build_outputs`, identity problems (a duplicate uid) are left to the
    checks, so they are reported as findings next to everything else.
    """
    from generator.project import project_of
    from generator.render import build_outputs

    project = project_of(root, cfg)
    loaded, dashboards = build_outputs(project, check_identity=False, cache=options.get("result_cache"))
    return CheckedProject(root=project.root, cfg=project.config, catalog=project.catalog, dashboards=dashboards,
                   groups=list(loaded.groups), routing=loaded.notifications, slos=list(loaded.slos), **options)


# --- running -------------------------------------------------------------------------------


@dataclass
class Report:
    findings: list[Finding]  # after exclusions, unused exclusions included
    excluded: list[Finding]  # findings an exclusion matched
    checks: list[str]  # names of the checks that ran

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def summary(self) -> str:
        return (f"{len(self.checks)} checks: {len(self.errors)} errors, {len(self.warnings)} warnings, "
                f"{len(self.excluded)} excluded.")

    def to_dict(self) -> dict:
        """The report as `dashgen check --format json` prints it."""
        return {"findings": [f.to_dict() for f in self.findings],
                "summary": {"errors": len(self.errors), "warnings": len(self.warnings),
                            "excluded": len(self.excluded), "checks": len(self.checks)}}


def _import_families() -> None:
    # Importing the modules registers their checks, in this order (done at the end of this file).
    from generator.checks import (  # noqa: F401
        promql, catalog_checks, dashboard_lint, rule_lint, promtool, amtool, schema,
    )


def select(names: Iterable[str] | None) -> list[Check]:
    """The checks to run: all, or those named (a family prefix like `rule/` selects the family)."""
    _import_families()
    if not names:
        return list(CHECKS.values())
    chosen = []
    for n in names:
        hits = [c for c in CHECKS.values() if c.name == n or (n.endswith("/") and c.name.startswith(n))]
        if not hits:
            raise ConfigError(f"unknown check {n!r} (see `dashgen check --list`)")
        chosen.extend(c for c in hits if c not in chosen)
    return chosen


LOAD_CHECK = "definitions/load"
#: Findings that come from the machinery rather than from a registered check.
META_CHECKS = {
    LOAD_CHECK: ("Every module under dashboards/, alerts/, synthetics/ and slos/ imports and builds, and every "
                 "SLO is valid (nothing else runs if one fails)."),
    "exclusions/unused": "Every exclusion in dashgen-check.toml still matches a finding of a check that ran.",
}


def find_schema_dir(explicit: Path | None = None, root: Path | None = None) -> Path | None:
    """An override schema folder from the option or $DASHGEN_SCHEMA_DIR; None: the shipped schemas."""
    from generator.checks.schema import schema_dir

    return schema_dir(explicit, root)


def run_report(root, cfg: Config | None = None, *, only: Iterable[str] | None = None,
               schema_dir: Path | None = None, exclusions_file: Path | None = None,
               promtool: str | None = None, tests_dir: Path | None = None, use_cache: bool = True) -> Report:
    """Run the checks on the project at `root` (a folder or a generator.project.Project);
    usage problems raise ConfigError.

    With `use_cache`, promtool's and amtool's answers, schema results and the definitions'
    bytecode are reused from the project's cache folder when the content is unchanged
    (generator.cache). Checks marked `external` run in threads beside the others; findings
    keep the order of the checks either way."""
    from generator.loader import snapshot
    from generator.project import project_of

    source_project = project_of(root, cfg)
    with snapshot(source_project.root):
        return _run_report(source_project, only, schema_dir, exclusions_file, promtool, tests_dir, use_cache)


def _run_report(source_project, only, schema_dir, exclusions_file, promtool, tests_dir, use_cache) -> Report:
    from generator import cache
    from generator.checks import exclusions as excl

    root = source_project.root
    chosen = select(only)
    exclusions_file = exclusions_file if exclusions_file is not None else root / excl.DEFAULT_FILE
    rules = excl.load_exclusions(exclusions_file)
    try:
        project = load_project(source_project, schema_dir=schema_dir, promtool=promtool,
                               tests_dir=tests_dir if tests_dir is not None else root / "tests" / "rules",
                               result_cache=cache.ProjectCache.for_root(root) if use_cache else None)
    except DefinitionError as exc:
        finding = Finding(LOAD_CHECK, ERROR, Location(file=exc.module), exc.cause)
        return Report([finding], [], [LOAD_CHECK])
    external = [c for c in chosen if c.external]
    results: dict[str, list[Finding]] = {}
    if external:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(external), thread_name_prefix="dashgen-check") as pool:
            futures = {c.name: pool.submit(_run_one, c, project) for c in external}
            for c in chosen:
                if not c.external:
                    results[c.name] = _run_one(c, project)
            for name, future in futures.items():
                results[name] = future.result()  # a ConfigError (no promtool) is raised here
    else:
        for c in chosen:
            results[c.name] = _run_one(c, project)
    raw = list(dict.fromkeys(f for c in chosen for f in results[c.name]))  # one finding per distinct (check, location, message)
    source = exclusions_file.name if exclusions_file.parent == root else str(exclusions_file)
    kept, excluded, unused = excl.apply(rules, raw, [c.name for c in chosen], source)
    return Report(kept + unused, excluded, [c.name for c in chosen])



def _run_one(c: Check, project: CheckedProject) -> list[Finding]:
    found: list[Finding] = []
    try:
        found.extend(c.run(project))
    except ConfigError:
        raise
    except Exception as exc:  # a crashing check must not hide the others' findings
        found.append(Finding(c.name, ERROR, Location(), f"the check itself failed: {type(exc).__name__}: {exc}"))
    return found


# Every family registers its checks on import, so CHECKS is complete once this package is.
_import_families()
