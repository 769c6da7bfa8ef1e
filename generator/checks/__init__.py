"""`dashgen check`: named offline checks over the built dashboards and rule groups.

A check is a small function registered under a stable name (`family/what`, in the spirit
of pint and dashboard-linter); its docstring's first line is its documentation. It reads
a `Project` (everything built once) and yields `(Location, message)` pairs, which the
registry turns into `Finding`s. Findings are data: the CLI decides how to show them.
Exclusions (`dashgen-check.toml`) are applied last; see `generator.checks.exclusions`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from generator.config import DEFAULT, Config
from generator.errors import ConfigError, DefinitionError
from generator.rules import Alert, Record, RuleGroup

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
    func: Callable[["Project"], Iterable]

    def run(self, project: "Project") -> Iterator[Finding]:
        for item in self.func(project):
            loc, message, *rest = item
            yield Finding(self.name, rest[0] if rest else self.severity, loc, message)


#: name -> Check, in registration order (which is the order findings are reported in).
CHECKS: dict[str, Check] = {}


def check(name: str, severity: str = ERROR):
    """Register a check function; the first line of its docstring is its documentation."""

    def register(func):
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        CHECKS[name] = Check(name, doc, severity, func)
        return func

    return register


# --- the project as the checks see it ----------------------------------------------------


@dataclass
class Project:
    """Everything the checks read, built once: definitions, dashboards, rule groups, options."""

    root: Path
    cfg: Config
    dashboards: list[tuple[str, dict]]  # (definition file, normalised dashboard JSON)
    groups: list[tuple[str, RuleGroup]]  # (definition file, group)
    schema_dir: Path | None = None
    promtool: str | None = None
    tests_dir: Path | None = None
    routing: tuple | None = None  # (definition file, notifications.AlertRouting) or None
    slos: list = field(default_factory=list)  # (definition file, slo.SLO); their tests are generated
    _cache: dict = field(default_factory=dict, repr=False)

    @functools.cached_property
    def recorded(self) -> set[str]:
        """Series names written by the project's recording rules (queryable like metrics)."""
        return {r.record for _rel, g in self.groups for r in g.records}

    def alerts(self) -> Iterator[tuple[str, RuleGroup, Alert]]:
        for rel, g in self.groups:
            for a in g.alerts:
                yield rel, g, a

    def records(self) -> Iterator[tuple[str, RuleGroup, Record]]:
        for rel, g in self.groups:
            for r in g.records:
                yield rel, g, r


def load_project(root: Path, cfg: Config = DEFAULT, **options) -> Project:
    """Import and build every definition (raises DefinitionError on the first failure).

    Unlike `render.build_outputs`, identity problems (a duplicate uid) are left to the
    checks, so they are reported as findings next to everything else.
    """
    from generator.render import build_outputs

    loaded, dashboards = build_outputs(root, cfg, check_identity=False)
    return Project(root=root, cfg=cfg, dashboards=dashboards, groups=list(loaded.groups),
                   routing=loaded.notifications, slos=list(loaded.slos), **options)


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
    """The schema folder from the option, $DASHGEN_SCHEMA_DIR or beside `root` (see generator.checks.schema)."""
    from generator.checks.schema import schema_dir

    return schema_dir(explicit, root)


def run_report(root: Path, cfg: Config = DEFAULT, *, only: Iterable[str] | None = None,
               schema_dir: Path | None = None, exclusions_file: Path | None = None,
               promtool: str | None = None, tests_dir: Path | None = None) -> Report:
    """Run the checks on the project at `root`; usage problems raise ConfigError."""
    from generator.checks import exclusions as excl

    chosen = select(only)
    exclusions_file = exclusions_file if exclusions_file is not None else root / excl.DEFAULT_FILE
    rules = excl.load_exclusions(exclusions_file)
    try:
        project = load_project(root, cfg, schema_dir=schema_dir, promtool=promtool,
                               tests_dir=tests_dir if tests_dir is not None else root / "tests" / "rules")
    except DefinitionError as exc:
        finding = Finding(LOAD_CHECK, ERROR, Location(file=exc.module), exc.cause)
        return Report([finding], [], [LOAD_CHECK])
    raw: list[Finding] = []
    for c in chosen:
        try:
            raw.extend(c.run(project))
        except ConfigError:
            raise
        except Exception as exc:  # a crashing check must not hide the others' findings
            raw.append(Finding(c.name, ERROR, Location(), f"the check itself failed: {type(exc).__name__}: {exc}"))
    raw = list(dict.fromkeys(raw))  # one finding per distinct (check, location, message)
    source = exclusions_file.name if exclusions_file.parent == root else str(exclusions_file)
    kept, excluded, unused = excl.apply(rules, raw, [c.name for c in chosen], source)
    return Report(kept + unused, excluded, [c.name for c in chosen])



# Every family registers its checks on import, so CHECKS is complete once this package is.
_import_families()
