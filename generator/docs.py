"""Reference docs rendered with jinja2 into rendered/docs/: runbooks and the catalog.

Every alert's runbook_url points at an anchor in runbooks.md, so the links in
notifications always resolve to a section that exists.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from generator.catalog import Catalog
from generator.config import Config
from generator.rules import RuleGroup, dashboard_url, rule_document
from generator.templatecache import use_cache

_env = Environment(
    loader=PackageLoader("generator", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _panels(d: dict) -> list[dict]:
    out, row = [], ""
    for p in d.get("panels", []):
        if p.get("type") == "row":
            row = p.get("title", "")
            continue
        defaults = p.get("fieldConfig", {}).get("defaults", {})
        out.append({
            "row": row,
            "title": p.get("title", ""),
            "type": p.get("type", ""),
            "unit": defaults.get("unit", ""),
            "description": p.get("description", ""),
            "exprs": [t.get("expr", "") for t in p.get("targets", [])],
        })
    return out


def board_entry(rel: str, d: dict) -> dict:
    """What the docs say about one dashboard: small, so a render of many dashboards can keep
    these instead of every dashboard's JSON."""
    return {"module": rel, "uid": d["uid"], "title": d.get("title", ""), "description": d.get("description", ""),
            "panels": _panels(d)}


def render_docs(cfg: Config, catalog: Catalog, dashboards: list[tuple[str, dict]], groups: list[tuple[str, RuleGroup]],
                slos: list = ()) -> dict[str, str]:
    return render_docs_from(cfg, catalog, [board_entry(rel, d) for rel, d in dashboards], groups, slos)


def render_docs_from(cfg: Config, catalog: Catalog, boards: list[dict], groups: list[tuple[str, RuleGroup]],
                     slos: list = (), cache=None) -> dict[str, str]:
    """`render_docs` from `board_entry` summaries; `cache` (generator.cache.ProjectCache)
    keeps the templates' bytecode between runs."""
    use_cache(_env, "docs", cache)
    alerts = [
        {"group": grp.name, "module": rel, "alert": a, "doc": rule_document(cfg, a),
         "dashboard_url": dashboard_url(cfg, a.dashboard) if a.dashboard else ""}
        for rel, grp in groups
        for a in grp.alerts
    ]
    records = [{"group": grp.name, "record": r} for _rel, grp in groups for r in grp.records]
    metrics = sorted(catalog.metrics.values(), key=lambda m: (m.source, m.name))
    slo_rows = [{"module": rel, "slo": s, "objective": f"{s.objective * 100:.6g} %",
                 "good": s.sli.good_expr("<window>").replace("|", "\\|"),
                 "total": s.sli.total_expr("<window>").replace("|", "\\|")} for rel, s in slos]
    return {
        "docs/runbooks.md": _env.get_template("runbooks.md.j2").render(alerts=alerts, cfg=cfg),
        "docs/catalog.md": _env.get_template("catalog.md.j2").render(
            dashboards=boards, alerts=alerts, records=records, metrics=metrics, cfg=cfg, slos=slo_rows
        ),
    }
