"""The dashgen command line: parses, calls the library, prints, sets exit codes.

Exit codes: 0 success; 1 a check failed, a diff was found, or an upload
item failed; 2 usage or configuration error. Only this module prints.

Library errors are turned into messages in one place, `Group.invoke`: a ConfigError
(bad input, unknown environment, missing token) exits 2, any other DashgenError exits 1,
each as one `error:` line on stderr. Commands just call the library.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import NoReturn

import click

from generator import __version__
from generator.errors import ConfigError, DashgenError
from generator.terminal import printable

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def echo(message: object = "", err: bool = False, nl: bool = True) -> None:
    """The one place the CLI writes text. Much of it comes from input (titles, names, uids,
    paths, server messages), so control characters and bidi overrides are escaped on the
    way out (generator.terminal.printable); newlines and tabs stay."""
    click.echo(printable(str(message)), err=err, nl=nl)


def fail(message: str, code: int) -> NoReturn:
    """The one place an error ends a command: `error: <message>` on stderr, exit `code`."""
    echo(f"error: {message}", err=True)
    sys.exit(code)


class Context:
    """What every command needs: the project root and the project, found once, when a command
    first asks (so `--help`, `init` and `textconv` work outside any project)."""

    def __init__(self, root: Path | None):
        self._root = root

    @functools.cached_property
    def root(self) -> Path:
        from generator.project import find_root

        return find_root(self._root)

    @functools.cached_property
    def project(self):
        from generator.project import Project

        return Project(self.root)


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """The dashgen group: every command's library errors end here."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        except DashgenError as exc:
            fail(str(exc), EXIT_FAIL)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dashgen")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DASHGEN_ROOT",
    help="Project root holding monitoring/, dashboards/ and alerts/ (default: found from the working directory).",
)
@click.pass_context
def main(click_ctx: click.Context, root: Path | None) -> None:
    """Dashboards, alert rules and synthetic checks as code: render, check, diff and ship a project."""
    click_ctx.obj = Context(root)


# --- init ------------------------------------------------------------------------------


@main.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--name", help="Project name: tag, uid, job and metric prefix (default: from FOLDER's name).")
@click.option("--title", help="Project title as people read it (default: from the name).")
def init_cmd(folder: Path, name: str | None, title: str | None) -> None:
    """Write a new, minimal project into FOLDER (absent or empty).

    The config, a metric catalog, one dashboard, one alert with its promtool test and
    environments.toml, ready for `dashgen --root FOLDER render` and `check`.
    """
    from generator.scaffold import init

    written = init(folder, name, title)
    echo(f"wrote a new dashgen project into {folder} ({len(written)} files):")
    for rel in written:
        echo(f"  {rel}")
    echo(f"next: cd {folder} && dashgen render && dashgen check")


# --- render (core) ----------------------------------------------------------------------


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: <root>/rendered).")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if the output folder is stale.")
@pass_ctx
def render(ctx: Context, out: Path | None, check_only: bool) -> None:
    """Render dashboards, rule files and docs into rendered/."""
    from generator import render as rendering
    from generator.cache import ProjectCache
    from generator.project import Project

    out = out or ctx.root / "rendered"
    # The project's cache keeps the definitions' and templates' bytecode between renders.
    project = Project(ctx.root, cache=ProjectCache.for_root(ctx.root))
    files = rendering.iter_files(project)  # one file at a time: memory stays flat
    if check_only:
        count = _exit_if_stale(files, out, "rendered/ is out of date: run `make dashboards` and commit the result.",
                               EXIT_FAIL)
        echo(f"{count} files in {out} are current.")
        return
    count, changed = rendering.write_stream(files, out)
    echo(f"rendered {count} files into {out} ({len(changed)} changed).")
    for name in changed:
        echo(f"  {name}")


# --- check ------------------------------------------------------------------------------


@main.command("check")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Findings as text lines, or as one JSON document for tools.")
@click.option("--schema-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder whose dashboard.jsonschema.json (and prometheus.jsonschema.json) replace the "
                   "schemas shipped with dashgen (default: $DASHGEN_SCHEMA_DIR, else the shipped ones).")
@click.option("--exclusions", type=click.Path(dir_okay=False, path_type=Path),
              help="Exclusions file (default: <root>/dashgen-check.toml).")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Run only this check (repeatable; a family prefix such as `rule/` selects the family).")
@click.option("--list", "list_checks", is_flag=True, help="List the checks with their one-line docs and exit.")
@click.option("--all", "show_all", is_flag=True,
              help="Print every finding (text format; otherwise the first few of one check on one dashboard, "
                   "then how many more).")
@click.option("--no-cache", is_flag=True,
              help="Ask promtool and amtool again and compile every module, ignoring the project's cache "
                   "(.cache/dashgen; DASHGEN_CACHE=off does the same).")
@click.option("--baseline", is_flag=True,
              help="Accept today's error findings: append one exclusion per check and dashboard, rule or file "
                   "to the exclusions file (each says how many findings it covers), so only new ones fail.")
@pass_ctx
def check_cmd(ctx: Context, fmt: str, schema_dir: Path | None, exclusions: Path | None, only: tuple[str, ...],
              list_checks: bool, show_all: bool, no_cache: bool, baseline: bool) -> None:
    """Every offline check: PromQL, metric catalog, dashboard and rule lint, promtool, schema.

    Exit 0 when no error-level finding remains after exclusions, 1 otherwise, 2 on usage errors.
    """
    import json

    from generator import checks

    if list_checks:
        for c in checks.select(None):
            echo(f"{c.name:30} {c.severity:8} {c.doc}")
        for name, doc in checks.META_CHECKS.items():
            echo(f"{name:30} {'error':8} {doc}")
        return
    report = checks.run_report(ctx.project, only=only or None, exclusions_file=exclusions,
                               schema_dir=checks.find_schema_dir(schema_dir, ctx.root), use_cache=not no_cache)
    if baseline:
        _write_baseline(ctx, report, exclusions)
        return
    if fmt == "json":
        echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        from generator.checks.summary import FIRST, summarise

        for f in summarise(report.findings, first=0 if show_all else FIRST):
            echo(str(f))
        echo(report.summary())
    sys.exit(EXIT_FAIL if report.errors else EXIT_OK)


def _write_baseline(ctx: Context, report, exclusions: Path | None) -> None:
    from generator.checks import LOAD_CHECK
    from generator.checks import exclusions as excl

    path = exclusions if exclusions is not None else ctx.root / excl.DEFAULT_FILE
    if any(f.check == LOAD_CHECK for f in report.findings):
        for f in report.findings:
            echo(str(f))
        fail(f"a definition does not load, so nothing else was checked: fix it before taking a baseline "
             f"({path} unchanged)", EXIT_FAIL)
    written, covered = excl.append_baseline(path, report.findings)
    left = [f for f in report.findings if f.severity == "error" and f.check in excl.NOT_BASELINED]
    for f in left:
        echo(str(f))
    if written:
        echo(f"{path}: {written} exclusion{'s' if written != 1 else ''} added, covering {covered} "
             f"finding{'s' if covered != 1 else ''}; fix them over time and delete each entry when it is "
             "reported unused.")
    else:
        echo(f"no error findings to accept: {path} unchanged")
    sys.exit(EXIT_FAIL if left else EXIT_OK)


# --- query ------------------------------------------------------------------------------


@main.command("query")
@click.argument("dashboard")
@click.argument("panel")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="A template variable's value (repeat a name for several values); default: the dashboard's.")
@click.option("--range", "range_", metavar="DURATION", help="Time range the macros are computed for "
              "(default: the dashboard's, e.g. 6h).")
@click.option("--scrape-interval", metavar="DURATION", help="Prometheus scrape interval (default: 15s).")
@pass_ctx
def query_cmd(ctx: Context, dashboard: str, panel: str, variables: tuple[str, ...], range_: str | None,
              scrape_interval: str | None) -> None:
    """Print PANEL's queries with variables and $__rate_interval expanded, ready to paste into Prometheus.

    DASHBOARD is a uid, title or module name (system_health); PANEL a title or panel id.
    The output is valid PromQL: `#` lines are comments saying which values were used.
    """
    from generator import panelquery as pq
    from generator.render import build_outputs

    _loaded, dashboards = build_outputs(ctx.project)
    d = pq.find_dashboard(dashboards, dashboard)
    p = pq.find_panel(d, panel)
    overrides = pq.parse_vars(variables, d)
    time = pq.time_context(d, range_, scrape_interval)
    for line in pq.header(d, p, overrides, time):
        echo(line)
    for q in pq.panel_queries(d, p, overrides, time):
        echo(f"# {q.ref_id}" + (f": {q.legend}" if q.legend else ""))
        echo(q.expr)


# --- diff, textconv ---------------------------------------------------------------------


@main.command("diff")
@click.option("--against", "ref", metavar="GITREF",
              help="Compare with rendered/ as committed at GITREF (the default, with HEAD).")
@click.option("--env", "env_name", metavar="ENV", help="Compare with what Grafana holds in ENV (needs GRAFANA_TOKEN).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown: a pull-request comment; json: for tools.")
@click.option("--on-disk", is_flag=True,
              help="Use the rendered/ files in the working tree as the new side instead of rendering the code.")
@click.option("--preview", "preview_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write DIR/<uid>.svg, the layout before and after side by side, for each changed dashboard.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path), metavar="[A B]")
@pass_ctx
def diff_cmd(ctx: Context, ref: str | None, env_name: str | None, fmt: str, on_disk: bool,
             preview_dir: Path | None, files: tuple[Path, ...] = ()) -> None:
    """Semantic diff of dashboards and alert rules; exit 1 when anything differs.

    With two files A and B: compare them (dashboards, classic or v2 or a Grafana export; or
    Prometheus rule files) instead of the project.

    The new side is what the current code renders (edits not yet rendered included), or
    rendered/ as it is on disk with --on-disk. The old side is rendered/ at GITREF
    (--against, default HEAD) or the dashboards and rule groups in Grafana (--env), with the
    Synthetic Monitoring checks when SM_URL and SM_TOKEN are set (else a note says so).
    Changes are named by dashboard, row and panel title, by rule group and alert, by check job;
    ids, versions and key order never show. Exit codes: 0 no differences, 1 differences,
    2 usage or configuration error.
    """
    from generator import diff as differ
    from generator import render as rendering

    if files:
        if len(files) != 2:
            raise ConfigError("diff takes two files (A B), or none to compare the project")
        if ref or env_name or on_disk or preview_dir:
            raise ConfigError("diff A B compares two files: --against, --env, --on-disk and --preview do not apply")
        a, b = files
        changes = differ.diff_files(str(a), _read_file(str(a)), str(b), _read_file(str(b)))
        if fmt == "markdown":
            echo(differ.format_markdown(changes, title=f"dashgen diff ({a} -> {b})"), nl=False)
        else:
            echo(differ.FORMATTERS[fmt](changes), nl=False)
        sys.exit(EXIT_FAIL if changes else EXIT_OK)
    if ref and env_name:
        raise ConfigError("use either --against or --env, not both")
    if preview_dir and env_name:
        raise ConfigError("--preview works with --against only")
    new = (differ.tree_from_dir(ctx.root / "rendered") if on_disk else rendering.render_project(ctx.project))
    # Compare with rendered/ before --env turns `new` into parsed objects.
    stale = [] if on_disk else rendering.stale_files(new, ctx.root / "rendered")
    if env_name:
        old, new, label, notes = _remote_tree(ctx, env_name, new)
    else:
        ref = ref or "HEAD"
        old = differ.tree_from_git(ctx.root, ref)
        label, notes = f"{ref} -> {'rendered/ on disk' if on_disk else 'working tree'}", []
    changes = differ.diff_trees(old, new)
    if preview_dir:
        from generator import preview

        written = preview.write_comparisons(old, new, changes, preview_dir, before=ref,
                                             after="rendered/ on disk" if on_disk else "working tree")
    if fmt == "markdown":
        echo(differ.format_markdown(changes, title=f"dashgen diff ({label})"), nl=False)
    else:
        echo(differ.FORMATTERS[fmt](changes), nl=False)
    if preview_dir:
        for path in written:
            echo(f"preview: {path}", err=True)
    for note in notes:
        echo(f"note: {note}", err=True)
    if stale:
        echo(f"note: rendered/ on disk is not what the code renders ({len(stale)} files): "
                   "run `make dashboards` and commit the result.", err=True)
    sys.exit(EXIT_FAIL if changes else EXIT_OK)


def _remote_tree(ctx: Context, env_name: str, local: dict) -> tuple[dict, dict, str, list[str]]:
    """(remote tree, local tree, label, notes) for `diff --env`."""
    from generator.environments import load_environment
    from generator.grafana.remote import remote_and_local_trees

    remote, new, notes = remote_and_local_trees(load_environment(ctx.root, env_name), local)
    return remote, new, f"Grafana {env_name} -> working tree", notes


@main.command()
@click.argument("file", type=click.File("rb"))
def textconv(file) -> None:
    """Print FILE (a rendered dashboard or rule file) in the semantic form `git diff` shows.

    Set up with `make git-setup`: .gitattributes maps rendered/ to the `dashgen` diff
    driver, and `git config diff.dashgen.textconv` points that driver at this command.
    Other files are printed unchanged.
    """
    from generator.textconv import textconv as convert

    text = convert(file.read(), file.name)  # never fails: what it cannot model comes back raw, under a warning
    sys.stdout.buffer.write(text)
    sys.stdout.buffer.flush()


# --- upload, pull -----------------------------------------------------------------------


def _exit_if_stale(files, out: Path, message: str, code: int) -> int:
    """Name every file of `out` that differs from `files` (what the code renders, (name, bytes)
    one at a time), then exit with `code` after `message`; when `out` is current, return how
    many files it holds."""
    from generator import render as rendering

    count, stale = rendering.check_stream(files, out)
    if not stale:
        return count
    for name, why in stale:
        echo(f"stale: {out.name}/{name} ({why})", err=True)
    echo(message, err=True)
    sys.exit(code)


ACTION_LABELS = {"create": "create", "update": "update", "unchanged": "unchanged", "drifted": "DRIFTED",
                 "prune": "prune", "foreign": "foreign", "failed": "FAILED"}


@main.command()
@click.option("--env", "env_name", required=True, help="Environment in environments.toml (e.g. production).")
@click.option("--dry-run", is_flag=True, help="Print the plan (create, update, unchanged, drifted, to prune); write nothing.")
@click.option("--force", is_flag=True, help="Overwrite dashboards changed in Grafana since dashgen wrote them.")
@click.option("--prune", is_flag=True, help="Delete dashboards and rule groups dashgen manages that are gone from code.")
@click.option("--concurrency", type=click.IntRange(1, 32), default=8, show_default=True, help="Requests in flight.")
@click.option("--only", "only", multiple=True, metavar="KINDS",
              help="Upload only these kinds, comma-separated: dashboards, rules, alerting, synthetics (default: all).")
@click.option("--as-rendered", is_flag=True,
              help="Upload rendered/ as it is, without first checking that it matches what the code renders "
                   "(for a rendered/ built elsewhere, e.g. a CI artefact); dashboards then name their rendered "
                   "file, not their definition module, as their source in Grafana (grafana.app/sourcePath).")
@pass_ctx
def upload(ctx: Context, env_name: str, dry_run: bool, force: bool, prune: bool, concurrency: int,
           only: tuple[str, ...], as_rendered: bool) -> None:
    """Make a Grafana stack match rendered/ (needs GRAFANA_TOKEN).

    rendered/ must be what the code renders (as `dashgen render --check` says): a stale one is
    refused with exit 2, naming the stale files, before anything is read from or sent to Grafana.
    A real run first checks that every secret the notifications need is set (exit 2,
    nothing written, if one is missing); --dry-run lists them instead.
    """
    from generator import render as rendering
    from generator.environments import load_environment
    from generator.grafana import upload as uploading
    from generator.notifications import secrets

    kinds = uploading.parse_only(only)
    env = load_environment(ctx.root, env_name)
    sources: dict[str, str] | None = None  # uid -> definition module, for grafana.app/sourcePath
    if not as_rendered and (ctx.root / "rendered").is_dir():
        sources = {}
        _exit_if_stale(rendering.iter_files(ctx.project, sources=sources), ctx.root / "rendered",
                       "refusing to upload: rendered/ is not what the code renders; run `make dashboards` "
                       "(and commit the result), then upload again.", EXIT_USAGE)
    local = uploading.load_local(ctx.root / "rendered", sources)  # --as-rendered: the rendered files
    report = uploading.upload(env, local, dry_run=dry_run, force=force, prune=prune,
                              concurrency=concurrency, commit=uploading.git_commit(ctx.root), only=kinds)
    if report.api:
        echo(f"{env_name}: dashboards and folders through {report.api}", err=True)
    for item in report.items:
        line = f"{ACTION_LABELS.get(item.action, item.action):<9} {item.kind:<13} {item.key}"
        if item.detail:
            line += f"  {item.detail}"
        echo(line, err=item.failed)
        if item.diff:
            echo(item.diff.rstrip("\n"), err=item.failed)
    for warning in report.warnings:
        echo(f"warning: {warning}", err=True)
    if dry_run and report.secrets:
        formats = {name: s.format for name, s in secrets(ctx.project.config).items()}
        echo("a real run reads these secrets from the environment:")
        for name, is_set in report.secrets:
            echo(f"  {name:<30} {'set' if is_set else 'NOT SET':<8} {formats.get(name, '')}".rstrip())
    echo(report.summary())
    sys.exit(EXIT_FAIL if report.failed else EXIT_OK)


@main.command("alertmanager")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for alertmanager.yml and its template files.")
@click.option("--placeholders", is_flag=True,
              help="Fill secrets with placeholders of the right shape (for amtool), not from the environment.")
@pass_ctx
def alertmanager_cmd(ctx: Context, out: Path, placeholders: bool) -> None:
    """Write a deployable Alertmanager configuration from rendered/alerting/.

    Secrets come from the environment (README "Secrets"); the file is written readable by
    its owner only. Exit 2 naming the variable when one is not set.
    """
    import os

    from generator.grafana.contactpoints import deployable_alertmanager
    from generator.notifications import placeholders as stand_ins
    from generator.notifications import write_private

    files = deployable_alertmanager(ctx.root / "rendered" / "alerting",
                                    stand_ins(ctx.project.config) if placeholders else os.environ)
    for path in write_private(files, out):
        echo(f"wrote {path}")


@main.command()
@click.option("--env", "env_name", required=True, help="Environment in environments.toml.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write <out>/<uid>.json (default: print to stdout).")
@click.argument("uids", nargs=-1, required=True)
@pass_ctx
def pull(ctx: Context, env_name: str, out: Path | None, uids: tuple[str, ...]) -> None:
    """Fetch dashboards from Grafana, normalised exactly like rendered output."""
    from generator.environments import load_environment
    from generator.normalize import dumps
    from generator.grafana.remote import fetch_remote_dashboards
    from generator.importer.adopt import pull_hint
    from generator.safenames import check_uid

    for uid in uids:  # each goes into a URL and becomes <out>/<uid>.json: refused before any request
        check_uid(uid, "dashboard uid", "pull")
    env = load_environment(ctx.root, env_name)
    found = fetch_remote_dashboards(env, uids)
    if out:
        out.mkdir(parents=True, exist_ok=True)
    for uid in dict.fromkeys(uids):
        if uid not in found:
            echo(f"error: dashboard {uid!r} not found in {env_name}", err=True)
            continue
        text = dumps(found[uid])
        hint = pull_hint(ctx.root, env_name, uid, text)
        if hint:
            echo(f"note: {hint}", err=True)
        if out:
            (out / f"{uid}.json").write_text(text)
            echo(f"wrote {out / (uid + '.json')}")
        else:
            echo(text, nl=False)
    sys.exit(EXIT_OK if all(u in found for u in uids) else EXIT_FAIL)


# --- import ------------------------------------------------------------------------------


@main.command("import")
@click.argument("source", metavar="FILE|UID")
@click.option("--env", "env_name", metavar="ENV",
              help="Read dashboard UID from Grafana in ENV (needs GRAFANA_TOKEN) instead of a JSON file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="dashboards/NAME.py",
              help="Write the module here (default: print it).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--keep-legacy", is_flag=True,
              help="Keep legacy panels (graph, singlestat, Angular table, heatmap and text settings, pre-7.0 "
                   "field options) as they are (default: migrate them as Grafana does on load).")
@click.option("--dry-run", is_flag=True, help="Print the change to --out as a unified diff; write nothing.")
@pass_ctx
def import_cmd(ctx: Context, source: str, env_name: str | None, out: Path | None, force: bool,
               keep_legacy: bool = False, dry_run: bool = False) -> None:
    """Turn Grafana dashboard JSON (a file, `-` for stdin, or a UID in Grafana with --env) into a
    dashgen module with build(cfg), checked to render the same dashboard back.

    Exit codes: 0 written; 1 the dashboard could not be imported faithfully or was not found;
    2 usage error, unreadable JSON, or --out exists without --force.
    """
    from collections import Counter

    from generator.importer import import_dashboard
    from generator.importer.adopt import module_for_uid, recorded_series, write_module
    from generator.normalize import DashboardInputError, load_dashboard

    if env_name:
        from generator.environments import load_environment
        from generator.grafana.remote import fetch_remote_dashboards
        from generator.safenames import check_uid

        check_uid(source, "dashboard uid", "import --env")
        found = fetch_remote_dashboards(load_environment(ctx.root, env_name), [source])
        if source not in found:
            raise DashgenError(f"dashboard {source!r} not found in {env_name}")
        dashboard, name = found.pop(source), f"Grafana {env_name} (uid {source})"
    else:
        data = sys.stdin.buffer.read() if source == "-" else _read_file(source)
        name = "stdin" if source == "-" else Path(source).name
        losses: list = []  # a v2 dashboard (Grafana 13 export) is converted to the classic model first
        dashboard = load_dashboard(data, file=name, losses=losses)
        del data  # a big file's text is not kept beside its JSON
        for entry in losses:
            echo(f"  v2 -> classic: {entry}", err=True)
    if out and out.exists() and not force:
        _reimport(ctx, out, dashboard, name, dry_run)  # exits
    try:  # the dashboard is handed over (consume): the importer empties it as it normalises it
        result = import_dashboard(dashboard, ctx.project.config, ctx.project.catalog, source_name=name,
                                  known_series=recorded_series(ctx.root),
                                  file_name=None if env_name or source == "-" else name, migrate=not keep_legacy,
                                  consume=True)
    except DashboardInputError as exc:
        raise exc.in_file(name) from None
    if out and dry_run:
        from generator.importer.reimport import unified

        before = out.read_text(encoding="utf-8") if out.exists() else ""
        echo(unified(before, result.source, out.name), nl=False)
    elif out:
        write_module(out, result.source, force=force)
    else:
        echo(result.source, nl=False)
    n, raw = len(result.panels), len(result.raw_panels)
    echo(f"imported {result.title!r} (uid {result.uid}): {n} panels, {n - raw} from factories "
               f"({len(result.overridden_panels)} with p.override), {raw} kept as Grafana JSON; "
               f"layout {result.layout}, frame {result.frame}", err=True)
    if result.migrations:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(Counter(f"{m.old_type} -> {m.new_type}"
                                                                 for m in result.migrations).items()))
        echo(f"  migrated as Grafana does on load: {kinds}", err=True)
        for m in result.migrations:
            for lost in m.lost:
                echo(f"  not kept: {m.row + ' / ' if m.row else ''}{m.title or '(untitled)'}: {lost}", err=True)
    for r in result.raw_panels:
        echo(f"  raw: {r.row + ' / ' if r.row else ''}{r.title or '(untitled)'}: {r.reason}", err=True)
    if result.unknown_metrics:
        echo(f"  not in the catalog (TODO in the module): {', '.join(result.unknown_metrics)}", err=True)
    if result.uid_note:
        echo(f"note: {result.uid_note}; change it in the module if you prefer another", err=True)
    owner = module_for_uid(ctx.root, result.uid) if result.uid else None
    if owner and (not out or (ctx.root / owner).resolve() != out.resolve()):
        echo(f"warning: {owner} already renders uid {result.uid}: replace it (--out {owner} --force) "
                   "or change one of the uids", err=True)
    if out and not dry_run:
        echo(f"wrote {out}; next: `make dashboards`, `dashgen check`, review and commit.", err=True)


def _reimport(ctx: Context, out: Path, dashboard: dict, name: str, dry_run: bool) -> NoReturn:
    """`import --out` onto an existing module: patch only what changed (importer.reimport), or
    refuse with the semantic diff. Exit 0 patched (or nothing to do), 1 patched but config
    fields to change by hand, 2 refused."""
    from generator import diff as differ
    from generator.importer.reimport import _changes, plan_patch, render_candidate, unified
    from generator.loader import build_module
    from generator.normalize import normalize_dashboard
    from generator.render import dashboard_json

    cfg = ctx.project.config
    folder = (ctx.root / "dashboards").resolve()
    if out.suffix != ".py" or out.resolve().parent != folder:
        raise ConfigError(f"{out} exists: pass --force to replace it")
    try:
        current = dashboard_json(build_module(ctx.root, "dashboards", out.resolve(), cfg)[1])
    except DashgenError as exc:
        raise ConfigError(f"{out} exists and does not build ({exc}): pass --force to replace it") from None
    incoming = normalize_dashboard(dashboard)
    source = out.read_text(encoding="utf-8")
    patch = plan_patch(source, current, incoming, cfg)
    if not patch.edits and not patch.config and not patch.blocked:
        echo(f"{out} already renders {name}: nothing to change", err=True)
        sys.exit(EXIT_OK)
    if patch.edits and not patch.blocked:
        got = dashboard_json(render_candidate(ctx.root, out.resolve(), patch.source, cfg))
        left, structure = _changes(got, incoming)
        if structure or any(p not in patch.config_paths for p, _o, _n in left):
            patch.blocked.append("the patched module does not render the dashboard (the values are built by code)")
    if patch.blocked:
        echo(differ.format_text(differ.diff_dashboard(current, incoming, str(out))), nl=False)
        echo(f"error: {out} is a dashgen module; these changes cannot be made in place:", err=True)
        for b in patch.blocked:
            echo(f"  {b}", err=True)
        for c in patch.config:
            echo(f"  note: {c}", err=True)
        echo("Edit the module by hand, or pass --force to rewrite it whole (loops, docstrings and config "
             "references are lost).", err=True)
        sys.exit(EXIT_USAGE)
    if dry_run:
        echo(unified(source, patch.source, out.name), nl=False)
    elif patch.edits:
        from generator.importer.adopt import write_module

        write_module(out, patch.source, force=True)
    for e in patch.edits:
        echo(f"  {'would rewrite' if dry_run else 'rewrote'} in place: {e}", err=True)
    for c in patch.config:
        echo(f"  note: {c}", err=True)
    if patch.edits and not dry_run:
        echo(f"patched {out} ({len(patch.edits)} values); next: `make dashboards`, `dashgen check`, review and commit.",
             err=True)
    sys.exit(EXIT_FAIL if patch.config else EXIT_OK)


def _read_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc


if __name__ == "__main__":
    main()
