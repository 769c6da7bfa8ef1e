"""`dashgen import`: Grafana dashboard JSON in, a readable dashgen module out.

The module has a `build(cfg)` and one function per row. Panels become house-style factory
calls (`p.timeseries`, `p.stat`, ...) where one reproduces them, queries go through the
metric catalog (`C.sel`) where it knows the metric, thresholds equal to a config value are
written as that value's name; anything else stays Grafana JSON handed to `p.raw`, so nothing
is lost. Our own dashboards keep the house frame (`p.dashboard`); others keep their own
settings (`p.imported_dashboard`).

The round trip is checked before anything is returned: the module is executed, its
dashboard rendered and normalised, and compared with the normalised input. A module that
would not give the same dashboard back is never handed out (ImportFailed).

The dashboard's text is hostile until proven otherwise: it reaches the module only through
`pysrc` (the one escaping path), and the module is checked by `guard` (parsed, only the
constructs the importer writes, only the comments it meant) before it is executed, here or
at any later `make dashboards`.
"""

from __future__ import annotations

import builtins
import gc
import json
import keyword
import re
import types
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

from generator.catalog import Catalog
from generator.config import Config
from generator.importer import factories as F
from generator.importer.migrate import migrate_dashboard
from generator.importer.guard import TAKEN, ImportFailed, UnsafeCode, run_module, safe_eval
from generator.importer.pysrc import Call, List, Star, comments, docstring, flat, is_identifier, lines
from generator.importer.pysrc import Unwritable, literal, name as code_name
from generator.normalize import normalize_dashboard
from generator.safenames import MAX_UID

__all__ = ["ImportFailed", "Imported", "PanelReport", "UnsafeCode", "derived_uid", "import_dashboard", "render_module"]

ROW_KEYS = {"type", "title", "collapsed", "gridPos", "id", "panels"}
RESERVED = {"build", "settings"} | TAKEN
#: The comment above the module's shared data source (constant text: no need of pysrc.comment).
SHARED_DS_COMMENT = "#: The data source most queries here name."


@dataclass
class PanelReport:
    row: str | None
    title: str
    factory: str  # "p.timeseries", ..., "p.timeseries + override" (p.override) or "p.raw"
    reason: str = ""


@dataclass
class Imported:
    source: str
    uid: str | None
    title: str
    frame: str  # "p.dashboard" (house) or "p.imported_dashboard"
    layout: str  # "flow", "fixed", or "flow, N of M rows fixed"
    panels: list[PanelReport] = field(default_factory=list)
    unknown_metrics: list[str] = field(default_factory=list)
    safe_mode: bool = False  # every panel raw and placed: nothing finer rendered back the same
    comments: list[str] = field(default_factory=list)  # the comment lines the importer wrote (guard checks them)
    uid_note: str = ""  # how a dashboard without a uid got one
    migrations: list = field(default_factory=list)  # legacy panels migrated (migrate.Migration), with what was lost

    @property
    def raw_panels(self) -> list[PanelReport]:
        return [r for r in self.panels if r.factory == "p.raw"]

    @property
    def overridden_panels(self) -> list[PanelReport]:
        """Factory calls with a few JSON keys changed (`p.override`)."""
        return [r for r in self.panels if r.factory.endswith(" + override")]


@dataclass
class _Group:
    row: dict | None  # the row panel (normalised), None for panels above the first row
    panels: list[dict]


def _groups(panels: list[dict]) -> list[_Group]:
    out: list[_Group] = []
    for p in panels:
        if p.get("type") == "row":
            out.append(_Group(p, list(p.get("panels") or []) if p.get("collapsed") else []))
        else:
            if not out:
                out.append(_Group(None, []))
            if out[-1].row is not None and out[-1].row.get("collapsed"):
                out.append(_Group(None, []))  # a panel below a collapsed row, outside it
            out[-1].panels.append(p)
    return out


class _Sized:
    """A panel's gridPos as `panels._flow` reads it."""

    def __init__(self, grid: dict):
        self.grid = grid
        self.bad = not all(isinstance(grid.get(k), int) and not isinstance(grid.get(k), bool) for k in "xywh")
        self.gridPos = types.SimpleNamespace(w=grid.get("w", 0), h=grid.get("h", 0))


@dataclass(frozen=True)
class _Plan:
    """Which rows keep fixed positions: their row panel (`row_fixed`) and/or their panels."""

    row_fixed: tuple[bool, ...]
    panels_fixed: tuple[bool, ...]

    @property
    def flows(self) -> bool:
        return not any(self.row_fixed) and not any(self.panels_fixed)

    def describe(self) -> str:
        n = sum(1 for r, q in zip(self.row_fixed, self.panels_fixed) if r or q)
        return "flow" if n == 0 else "fixed" if n == len(self.row_fixed) else f"flow, {n} of {len(self.row_fixed)} rows fixed"


def _plan(groups: list[_Group], everything_fixed: bool = False) -> _Plan:
    """Per row: does `panels._flow` put the row panel and its panels where the dashboard has
    them? Rows where it does not keep their positions; the flow goes on below them."""
    from generator.panels import GRID_COLUMNS as _W, _flow, at

    rows, panels, y = [], [], 0
    for grp in groups:
        row_fixed = False
        if grp.row is not None:
            grid = grp.row.get("gridPos")
            row_fixed = everything_fixed or grid != {"h": 1, "w": _W, "x": 0, "y": y}
            y = (grid or {}).get("y", y) + 1 if row_fixed and isinstance((grid or {}).get("y", y), int) else y + 1
        sized = [_Sized(p.get("gridPos") or {}) for p in grp.panels]
        flowed, bottom = _flow(sized, y)
        fixed = everything_fixed or any(s.bad for s in sized) or any(
            (s.grid.get("x"), s.grid.get("y")) != (x, py) for s, x, py in flowed)
        if fixed and not any(s.bad for s in sized):
            _placed, bottom = _flow([at(s.grid["x"], s.grid["y"], s) for s in sized], y)
        rows.append(row_fixed)
        panels.append(fixed)
        if not (grp.row is not None and grp.row.get("collapsed")):
            y = bottom
    return _Plan(tuple(rows), tuple(panels))


def _name(title: str | None, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", (title or "top panels").lower()).strip("_") or "row"
    if base[0].isdigit():
        base = f"row_{base}"
    if keyword.iskeyword(base) or hasattr(builtins, base) or base in RESERVED:
        base = f"{base}_row"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    if not is_identifier(name):  # the pattern above makes one; the check keeps it so
        raise ValueError(f"not a function name: {name!r}")
    return name


def _module_docstring(title: str, source: str, result: Imported) -> list[str]:
    n, raw = len(result.panels), len(result.raw_panels)
    tuned = len(result.overridden_panels)
    text = ["", f"{n - raw} of {n} panels use house-style factories ({tuned} with a few keys changed by "
                f"p.override); {raw} are kept as Grafana JSON (p.raw)."]
    if result.unknown_metrics:
        text.append("Metrics not in the catalog are marked `# TODO: add to the catalog`.")
    return docstring(f"{title}: imported from {source} by `dashgen import`.", text)


class _Builder:
    def __init__(self, norm: dict, cfg: Config, catalog: Catalog, *, house: bool, plan: _Plan, all_raw: bool,
                 known_series: frozenset):
        self.norm, self.cfg = norm, cfg
        self.house, self.plan, self.all_raw = house, plan, all_raw
        self.ctx = F.Context(cfg, catalog, norm, house, known_series, shared_ds=F.shared_datasource(norm))
        self.reports: list[PanelReport] = []
        self.comments: list[str] = []  # the rows' comment lines, in order
        self.memo: dict[str, tuple] = {}  # panel JSON -> (match, what it recorded in ctx)

    def _match(self, p: dict) -> F.Match:
        """`F.match`, once per distinct panel (its JSON but for id and place): big dashboards
        repeat panels (per instance, per copy), and trying factories is most of an import.
        A repeat replays what the first one recorded in the context (metrics, helpers, flags)."""
        key = json.dumps({k: v for k, v in p.items() if k not in ("id", "gridPos")}, sort_keys=True) + \
            json.dumps({k: v for k, v in (p.get("gridPos") or {}).items() if k not in ("x", "y")}, sort_keys=True)
        ctx = self.ctx
        hit = self.memo.get(key)
        if hit is None:
            before = (set(ctx.unknown), set(ctx.helpers))
            used_t = ctx.uses_thresholds
            ctx.uses_thresholds = False
            m = F.match(p, ctx)
            hit = (m, [u for u in ctx.unknown if u not in before[0]], ctx.helpers - before[1],
                   ctx.uses_catalog, ctx.uses_thresholds, ctx.uses_shared_ds)
            ctx.uses_thresholds = used_t or ctx.uses_thresholds
            self.memo[key] = hit
            return m
        m, unknown, helpers, catalog, uses_t, shared = hit
        for u in unknown:
            ctx.unknown[u] = None
        ctx.helpers |= helpers
        ctx.uses_catalog |= catalog
        ctx.uses_thresholds |= uses_t
        ctx.uses_shared_ds |= shared
        return m

    def panel(self, p: dict, row_title: str | None, fixed: bool):
        if self.all_raw:
            m = F.Match(Call("p.raw", [F.raw(p, self.ctx)]), "p.raw", "kept whole (safe mode)")
        else:
            m = self._match(p)
        self.reports.append(PanelReport(row_title, str(p.get("title", "")), m.factory, m.reason))
        node = m.node
        if fixed and m.factory == "p.raw":  # x and y stay in its gridPos: p.raw keeps them
            node = Call("p.raw", [F.raw(p, self.ctx, drop_position=False)])
        elif fixed:
            grid = p.get("gridPos") or {}
            node = Call("p.at", [literal(grid.get("x", 0)), literal(grid.get("y", 0)), node])
        return node

    def functions(self, groups: list[_Group]) -> tuple[list, list[str]]:
        """(row calls for build, source of one function per row, each one string)."""
        taken = set(RESERVED)
        calls, out = [], []
        for i, grp in enumerate(groups):
            title = grp.row.get("title", "") if grp.row is not None else None
            name = _name(title, taken)
            self.ctx.uses_thresholds = False
            body = [self.panel(p, title, self.plan.panels_fixed[i]) for p in grp.panels]
            src = ["", "", f"def {name}(cfg: Config):"]
            if self.ctx.uses_thresholds:
                src.append("    t = cfg.thresholds")
            src += lines(List(body), "    ", "return ")
            out.append("\n".join(src))  # one string per function: a big module's lines are not kept one by one
            kwargs = []
            if grp.row is not None:
                if grp.row.get("collapsed"):
                    kwargs.append(("collapsed", literal(True)))
                extra = {k: v for k, v in grp.row.items() if k not in ROW_KEYS}
                if grp.row.get("panels") and not grp.row.get("collapsed"):
                    extra["panels"] = grp.row["panels"]
                if self.plan.row_fixed[i]:
                    extra["gridPos"] = grp.row.get("gridPos")
                kwargs += [(k, literal(v)) for k, v in extra.items()]
            # A key that is not a name is written `**{"key": value}` (pysrc), before the names.
            kwargs.sort(key=lambda kv: is_identifier(kv[0]))
            rows = Star(Call(name, [code_name("cfg")]))
            calls.append(Call("p.row", [literal(title), rows], kwargs))
            self.comments += comments(List(body))
        return calls, out

    def frame(self, rows: list) -> tuple[Call, list[str]]:
        """(the dashboard call, extra source) for the house frame or the imported one."""
        if self.house:
            return _house_call(self.norm, self.cfg, rows), []
        settings = {k: v for k, v in self.norm.items() if k != "panels"}
        uid_field = _dashboard_field(self.cfg, settings.get("uid"))
        node = literal(settings)
        if uid_field:
            node.items = [(k, code_name("cfg", "dashboards", uid_field) if flat(k) == '"uid"' else v)
                          for k, v in node.items]
        src = ["", "", "def settings(cfg: Config) -> dict:",
               '    """Everything but the panels, as the dashboard had it."""']
        src += lines(node, "    ", "return ")
        return Call("p.imported_dashboard", [Call("settings", [code_name("cfg")]), List(rows)]), src

    def module(self, source_name: str) -> Imported:
        groups = _groups(self.norm["panels"])
        rows, functions = self.functions(groups)
        call, extra = self.frame(rows)
        result = Imported("", self.norm.get("uid"), str(self.norm.get("title", "")),
                          call.func, self.plan.describe(), self.reports,
                          list(self.ctx.unknown))
        head = _module_docstring(result.title, source_name, result) + ["", "from generator import panels as p"]
        if self.ctx.helpers:
            head.append(f"from generator.catalog import {', '.join(code_name(h).text for h in sorted(self.ctx.helpers))}")
        head.append("from generator.config import Config")
        if self.ctx.uses_catalog:  # the project's catalog, beside the definitions (guard.PROJECT_IMPORT)
            head += ["", "from ..monitoring.catalog import CATALOG as C"]
        shared = []
        if self.ctx.uses_shared_ds:
            shared = [SHARED_DS_COMMENT]
            head += ["", SHARED_DS_COMMENT, *lines(literal(self.ctx.shared_ds), "", f"{F.SHARED_DS} = ")]
        body = ["", "", "def build(cfg: Config):"] + lines(call, "    ", "return ")
        result.source = "\n".join(head + body + extra + functions) + "\n"
        # In the order written: the shared data source's, the frame's (none), each row's.
        result.comments = shared + comments(call) + self.comments
        return result


def _dashboard_field(cfg: Config, uid) -> str | None:
    hits = [f.name for f in fields(cfg.dashboards) if getattr(cfg.dashboards, f.name) == uid]
    return hits[0] if len(hits) == 1 else None


def _selector_field(cfg: Config, value) -> str | None:
    hits = [f.name for f in fields(cfg.selectors) if getattr(cfg.selectors, f.name) == value]
    return hits[0] if len(hits) == 1 and isinstance(value, str) else None


def _house_args(norm: dict, cfg: Config) -> tuple[list, list] | None:
    """(args, kwargs) of `p.dashboard` for the frame, when the dashboard might be ours."""
    tags = norm.get("tags") if isinstance(norm.get("tags"), list) else []
    templating = norm.get("templating") if isinstance(norm.get("templating"), dict) else {}
    variables = [v for v in templating.get("list") or [] if isinstance(v, dict)] \
        if isinstance(templating.get("list"), list) else []
    if not tags or tags[0] != cfg.tag or not variables or variables[0].get("name") != "datasource":
        return None
    var_calls = []
    for v in variables[1:]:
        current = (v.get("current") or {}).get("value")
        multi = bool(v.get("multi"))
        field_name = _selector_field(cfg, current)
        default = code_name("cfg", "selectors", field_name) if field_name else literal("" if multi else current or "")
        kwargs = [("multi", literal(True))] if multi else []
        var_calls.append(Call("p.query_variable", [literal(v.get("name", "")), literal(v.get("label", "")),
                                                   literal(v.get("query", "")), default], kwargs))
    uid_field = _dashboard_field(cfg, norm.get("uid"))
    uid = code_name("cfg", "dashboards", uid_field) if uid_field else literal(norm.get("uid", ""))
    kwargs = []
    if var_calls:
        kwargs.append(("variables", List(var_calls)))
    if tags[1:]:
        kwargs.append(("tags", literal(tags[1:])))
    args = [code_name("cfg"), uid, literal(norm.get("title", "")), literal(norm.get("description", ""))]
    return args, kwargs


def _house_call(norm: dict, cfg: Config, rows: list) -> Call:
    args, kwargs = _house_args(norm, cfg)
    return Call("p.dashboard", args + [List(rows)], kwargs)


def _house_frame_matches(norm: dict, cfg: Config, groups: list[_Group]) -> bool:
    """Whether `p.dashboard` gives this dashboard's settings and row panels."""
    from generator import panels as P
    from generator.render import dashboard_json

    found = _house_args(norm, cfg)
    if found is None or any(g.row is None or g.row.get("collapsed") for g in groups):
        return False
    if any(set(g.row) - ROW_KEYS for g in groups):
        return False
    args, kwargs = found
    call = Call("p.dashboard", args + [List([Call("p.row", [literal(g.row.get("title", ""))]) for g in groups])],
                kwargs)
    try:
        got = dashboard_json(safe_eval(flat(call), {"p": P, "cfg": cfg}, cfg))
    except UnsafeCode:
        raise
    except Exception:  # not our frame after all
        return False
    want = {k: v for k, v in norm.items() if k != "panels"}
    rows_want = [{k: v for k, v in g.row.items() if k not in ("id", "gridPos", "panels")} for g in groups]
    rows_got = [{k: v for k, v in r.items() if k not in ("id", "gridPos", "panels")} for r in got["panels"]]
    return {k: v for k, v in got.items() if k != "panels"} == want and rows_got == rows_want


def render_module(source: str, cfg: Config, catalog: Catalog, comments: list[str] | None = None) -> dict:
    """Check a generated module (`guard.check_module`: UnsafeCode, and nothing runs, when it
    holds anything the importer does not write or, given `comments`, other comments), then
    execute it and return its dashboard as normalised JSON."""
    from generator.render import dashboard_json

    return dashboard_json(run_module(source, comments, cfg, catalog).build(cfg), consume=True)  # built here: ours


def _slug(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", text.lower()))[:MAX_UID].strip("-_")


def derived_uid(dashboard: dict, file_name: str | None) -> tuple[str, str]:
    """(uid, where it came from) for a dashboard without one: the file's name, else the title,
    made to follow Grafana's uid rule and checked by the one name validator (ImportFailed if
    neither gives one)."""
    from generator.safenames import name_problem, uid_problem

    candidates = []
    if file_name:
        stem = re.sub(r"\.json$", "", file_name.rsplit("/", 1)[-1], flags=re.I)
        candidates.append((_slug(stem), f"the file name {file_name!r}"))
    title = dashboard.get("title")
    if isinstance(title, str):
        candidates.append((_slug(title), f"the title {title.strip()!r}"))
    for uid, how in candidates:
        if uid and not uid_problem(uid) and not name_problem(uid):
            return uid, how
    raise ImportFailed("the dashboard has no uid and neither its file name nor its title gives one: "
                       "add a \"uid\" (at most 40 of a-z, A-Z, 0-9, - and _) to the JSON")


def import_dashboard(dashboard: dict, cfg: Config, catalog: Catalog, *, source_name: str = "Grafana JSON",
                     known_series: frozenset = frozenset(), file_name: str | None = None,
                     migrate: bool = True, consume: bool = False) -> Imported:
    """The dashboard as a dashgen module (see the module docstring); ImportFailed if no
    module this importer can write renders it back.

    A dashboard without a uid gets one (`derived_uid`, from `file_name` or the title), so the
    module renders; `Imported.uid_note` says which. `consume`: the caller hands `dashboard`
    over (the CLI does) and its panel list is emptied as it is normalised: a big one is not
    held twice."""
    with _cycle_collection_paused():
        return _import_dashboard(dashboard, cfg, catalog, source_name, known_series, file_name, migrate, consume)


@contextmanager
def _cycle_collection_paused():
    """Python's cyclic garbage collector paused for the duration: an import builds millions of
    small acyclic objects (freed by reference counting all the same), and the collector's
    passes over them were a quarter of a big import's time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _import_dashboard(dashboard, cfg: Config, catalog: Catalog, source_name: str, known_series: frozenset,
                      file_name: str | None, migrate: bool, consume: bool) -> Imported:
    uid_note = ""
    if isinstance(dashboard, dict) and dashboard.get("uid") in (None, ""):
        uid, how = derived_uid(dashboard, file_name)
        dashboard = {**dashboard, "uid": uid}
        uid_note = f"the dashboard has no uid: it is {uid!r}, made from {how}"
    norm = normalize_dashboard(dashboard, consume=consume)
    title = norm.get("title") or norm.get("uid") or source_name
    migrations: list = []
    if migrate:  # legacy graph and singlestat panels, as Grafana itself migrates them on load
        norm, migrations = migrate_dashboard(norm)
    box = [norm]  # handed over: _import lets go of it while a candidate module renders
    del norm
    try:
        result = _import(box, cfg, catalog, source_name, known_series)
        result.uid_note = uid_note
        result.migrations = migrations
        return result
    except UnsafeCode as exc:
        raise UnsafeCode(f"dashboard {title!r}: {exc}") from None
    except Unwritable as exc:
        raise ImportFailed(f"dashboard {title!r}: {exc}") from None


class _Packed:
    """A normalised dashboard held as compact JSON text, one text per top-level panel and one
    for the rest, while a candidate module renders: as dicts, it and the rendered copy were
    most of a big import's peak. Compared panel by panel (each parsed back on its own), with
    the same equality as the dicts; `unpack` gives the dashboard back, key order and all."""

    def __init__(self, d: dict):
        self.head = _compact({k: v for k, v in d.items() if k != "panels"})
        self.panels = [_compact(p) for p in d.get("panels", [])]
        self.has_panels = "panels" in d

    def equals(self, other: dict) -> bool:
        if not isinstance(other, dict) or ("panels" in other) != self.has_panels:
            return False
        if json.loads(self.head) != {k: v for k, v in other.items() if k != "panels"}:
            return False
        got = other.get("panels", [])
        return len(got) == len(self.panels) and all(json.loads(t) == q for t, q in zip(self.panels, got))

    def unpack(self) -> dict:
        d = json.loads(self.head)
        return {**d, "panels": [json.loads(t) for t in self.panels]} if self.has_panels else d


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _import(box: list, cfg: Config, catalog: Catalog, source_name: str, known_series: frozenset) -> Imported:
    """The module for the normalised dashboard in `box` (handed over: it is taken out, and
    held packed (`_Packed`) while each candidate module runs and renders)."""
    norm = box.pop()
    groups = _groups(norm["panels"])
    plan, fixed = _plan(groups), _plan(groups, everything_fixed=True)
    # The house frame flows its rows; a panel inside one may still keep its place (p.at).
    house = not any(plan.row_fixed) and _house_frame_matches(norm, cfg, groups)
    del groups  # it holds the panels
    attempts = [(house, plan, False), (False, plan, False), (False, fixed, True)]
    title = norm.get("title") or norm.get("uid") or source_name
    problem, packed = "", None
    for house_, plan_, all_raw in dict.fromkeys(attempts):
        if norm is None:
            norm = packed.unpack()
        result = _Builder(norm, cfg, catalog, house=house_, plan=plan_, all_raw=all_raw,
                          known_series=known_series).module(source_name)
        if packed is None:
            packed = _Packed(norm)
        norm = None
        try:
            got = render_module(result.source, cfg, catalog, result.comments)
        except UnsafeCode:  # the escaping failed somewhere: stop, never try to run a variant
            raise
        except Exception as exc:  # a module that does not even run is a failed attempt
            problem = f"the module does not run: {type(exc).__name__}: {exc}"
            continue
        if packed.equals(got):
            result.safe_mode = all_raw
            return result
        norm = packed.unpack()
        problem = "it renders differently at " + ", ".join(F.differences(got, norm))
        del got
    raise ImportFailed(f"dashboard {title!r}: cannot write a module that renders it back: {problem}")
