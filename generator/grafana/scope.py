"""One environment's footprint on a stack: its names, and the marks that say what dashgen owns.

rendered/ is the same for every environment. An environment with a `suffix` (two of them
share a stack, see environments.py) gets its own copy of every name Grafana keys by:

    dashboard(d, env, uids)         uid + suffix; tags + suffix (so tag links list its own
                                    dashboards); `/d/<uid>` in any `url` field + suffix
    rule_group(g, env, uids)        alerts' dashboard_url -> the environment's stack and uids;
                                    an owner label on each alert (routes it to its branch)
    receivers(rs, env), templates(ts, env), policy_tree(t, env)
                                    contact-point names and uids, template names and the
                                    names they define, + suffix, and every reference to them
    policy_branch(tree, env)        the tree as one branch matched on the owner label

Without a suffix each is the identity (production's names are rendered/'s), except
dashboard_url's host, which follows the environment's grafana_url.

Ownership marks, for prune (only what carries this environment's mark is ever deleted) and
for telling environments apart on a shared stack. The mark is `dashgen_owner: <owner>`, the
owner being the environment's folder path (unique per stack), wherever the API keeps it:

    dashboards      dashgen's hash in the version message and JSON (dashboards.py), in the
                    environment's own folder
    folders         uids derived from the path (folders.py); never deleted
    rule groups     an annotation on every alerting rule (a group of recording rules only:
                    a label on each, the one field a recording rule has); the conversion
                    API answers groups as posted, the Mimir ruler keeps annotations
    contact points  a `dashgen_owner` setting (Grafana stores settings as posted and answers
                    them back, only secure ones redacted), plus provenance `api`
    templates       a Go template comment on the first line
    policy tree     an environment with a suffix owns only the branch whose one matcher is
                    `dashgen_owner = <owner>`; one without owns the rest of the tree and keeps
                    the other environments' branches (first, so they see their alerts first)
    SM checks       labels `dashgen=<hash>` and `env=<name>` (smchecks.py)
"""

from __future__ import annotations

import copy
import json
import re

from generator.errors import ConfigError

OWNER_KEY = "dashgen_owner"
UID_MAX = 40  # Grafana's limit for dashboard and contact-point uids


# --- names ---------------------------------------------------------------------------------------


def dashboard_uid(uid: str, env) -> str:
    return f"{uid}{env.suffix}"


def check_uid(uid: str, what: str, env) -> str:
    if len(uid) > UID_MAX:
        raise ConfigError(f"{what} uid {uid!r} (with [{env.name}] suffix {env.suffix!r}) is {len(uid)} characters; "
                          f"Grafana allows {UID_MAX}: shorten the suffix")
    return uid


def _dash_link(uids, env, base: str | None = None):
    """A function rewriting `.../d/<uid>` (a rendered uid) to the environment's uid, and the
    part before `/d/` to `base` when given."""
    if not uids:
        return lambda url: url
    pattern = re.compile(r"^(?P<base>.*?)/d/(?P<uid>" + "|".join(map(re.escape, sorted(uids, key=len, reverse=True)))
                         + r")(?=$|[/?#])")

    def rewrite(url: str) -> str:
        return pattern.sub(lambda m: f"{m['base'] if base is None else base}/d/{dashboard_uid(m['uid'], env)}", url)
    return rewrite


def _map_urls(value, rewrite):
    """`value` with every string under a `url` key rewritten."""
    if isinstance(value, dict):
        return {k: (rewrite(v) if k == "url" and isinstance(v, str) else _map_urls(v, rewrite)) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_urls(v, rewrite) for v in value]
    return value


def dashboard(d: dict, env, uids) -> dict:
    """The environment's copy of rendered dashboard `d` (`uids`: every rendered dashboard uid)."""
    if not env.suffix:
        return d
    out = _map_urls(d, _dash_link(uids, env))
    out["uid"] = check_uid(dashboard_uid(d["uid"], env), f"dashboard {d.get('title', d['uid'])!r}", env)
    if isinstance(out.get("tags"), list):
        out["tags"] = [f"{t}{env.suffix}" for t in out["tags"]]
    for link in out.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("tags"), list):
            link["tags"] = [f"{t}{env.suffix}" for t in link["tags"]]
    return out


def unscoped_dashboard(d: dict, env) -> dict:
    """The rendered form of the environment's copy `d` (for pull and diff): the inverse of
    `dashboard` for uid, tags and `/d/<uid>` links."""
    if not env.suffix:
        return d
    cut = len(env.suffix)

    def plain(name: str) -> str:
        return name[:-cut] if name.endswith(env.suffix) else name

    out = _map_urls(d, lambda url: re.sub(r"(/d/[A-Za-z0-9_-]+?)" + re.escape(env.suffix) + r"(?=$|[/?#])",
                                          r"\1", url))
    out["uid"] = plain(d.get("uid", ""))
    if isinstance(out.get("tags"), list):
        out["tags"] = [plain(t) for t in out["tags"]]
    for link in out.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("tags"), list):
            link["tags"] = [plain(t) for t in link["tags"]]
    return out


def rule_group(g: dict, env, uids) -> dict:
    """The environment's copy of rule group `g`: dashboard_url on its stack and uids; with a
    suffix, the owner label on every alert so that the policy branch routes it."""
    link = _dash_link(uids, env, base=env.public_url or env.grafana_url)
    out = copy.deepcopy(g)
    for rule in out.get("rules") or []:
        if not isinstance(rule, dict) or "alert" not in rule:
            continue
        annotations = rule.get("annotations") or {}
        if isinstance(annotations.get("dashboard_url"), str):
            annotations["dashboard_url"] = link(annotations["dashboard_url"])
        if env.suffix:
            rule["labels"] = {**(rule.get("labels") or {}), OWNER_KEY: env.owner}
    return out


def receivers(rs: list[dict], env) -> list[dict]:
    """Contact-point names and uids + suffix; template references renamed (`templates`)."""
    if not env.suffix:
        return rs
    return [{**r, "name": f"{r['name']}{env.suffix}",
             "uid": check_uid(f"{r['uid']}{env.suffix}", f"contact point {r['name']!r}", env)} for r in rs]


def rename_references(value, names, env):
    """Every `{{ define|template|block "<name>...` of a template in `names`, in every string of
    `value`, renamed to the environment's template name."""
    if not env.suffix or not names:
        return value
    pattern = re.compile(r'(\{\{-?\s*(?:define|template|block)\s+")(' + "|".join(map(re.escape, names)) + r')(?=[."])')
    if isinstance(value, dict):
        return {k: rename_references(v, names, env) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_references(v, names, env) for v in value]
    if isinstance(value, str):
        return pattern.sub(lambda m: f"{m[1]}{m[2]}{env.suffix}", value)
    return value


def templates(ts: dict[str, str], env) -> dict[str, str]:
    """Template names + suffix, and the names they define with them (Grafana has one name
    space of definitions per organisation: two environments must not define the same)."""
    if not env.suffix:
        return ts
    return {f"{name}{env.suffix}": rename_references(text, list(ts), env) for name, text in ts.items()}


def policy_tree(tree: dict, rs: list[dict], env) -> dict:
    """The tree naming the environment's contact points (`rs`: the rendered receivers)."""
    if not env.suffix:
        return tree
    names = {r["name"] for r in rs}

    def walk(route: dict) -> dict:
        out = dict(route)
        if out.get("receiver") in names:
            out["receiver"] = f"{out['receiver']}{env.suffix}"
        if isinstance(out.get("routes"), list):
            out["routes"] = [walk(r) for r in out["routes"]]
        return out

    return walk(tree)


# --- marks ---------------------------------------------------------------------------------------


def mark_group(g: dict, owner: str) -> dict:
    """`g` with `dashgen_owner: owner` on every alert's annotations (or, in a group of
    recording rules only, every rule's labels)."""
    out = copy.deepcopy(g)
    rules = [r for r in out.get("rules") or [] if isinstance(r, dict)]
    alerts = [r for r in rules if "alert" in r]
    for rule in alerts or rules:
        field = "annotations" if alerts else "labels"
        rule[field] = {**(rule.get(field) or {}), OWNER_KEY: owner}
    return out


def group_owner(g: dict) -> str | None:
    """The owner every marked rule of `g` names, or None (no mark, or marks that disagree)."""
    rules = [r for r in g.get("rules") or [] if isinstance(r, dict)]
    alerts = [r for r in rules if "alert" in r]
    field = "annotations" if alerts else "labels"
    owners = {str((r.get(field) or {}).get(OWNER_KEY)) if (r.get(field) or {}).get(OWNER_KEY) else None
              for r in alerts or rules}
    return owners.pop() if len(owners) == 1 else None


def unmarked_group(g: dict, owner: str) -> dict:
    """`g` without `owner`'s mark (and without its routing label): what was rendered."""
    out = copy.deepcopy(g)
    for rule in out.get("rules") or []:
        if not isinstance(rule, dict):
            continue
        for field in ("annotations", "labels"):
            values = rule.get(field)
            if isinstance(values, dict) and values.get(OWNER_KEY) == owner:
                del values[OWNER_KEY]
                if not values:
                    del rule[field]
    return out


def mark_settings(settings: dict, owner: str) -> dict:
    return {**settings, OWNER_KEY: owner}


def settings_owner(cp: dict) -> str | None:
    value = (cp.get("settings") or {}).get(OWNER_KEY)
    return value if isinstance(value, str) else None


_TEMPLATE_MARK = re.compile(r'\A\{\{/\* ' + OWNER_KEY + r' ("(?:[^"\\]|\\.)*") \*/\}\}\n')


def mark_template(text: str, owner: str) -> str:
    """`text` with a first line `{{/* dashgen_owner "<owner>" */}}` (a Go template comment;
    `/` written `\\/`, so no owner can end the comment early)."""
    return "{{/* %s %s */}}\n" % (OWNER_KEY, json.dumps(owner).replace("/", "\\/")) + text


def template_owner(text: str) -> str | None:
    m = _TEMPLATE_MARK.match(text or "")
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def owner_matcher(owner: str) -> list:
    return [OWNER_KEY, "=", owner]


def route_owner(route: dict) -> str | None:
    """The owner a policy branch belongs to: its one matcher is `dashgen_owner = <owner>`."""
    matchers = route.get("object_matchers") if isinstance(route, dict) else None
    if isinstance(matchers, list) and len(matchers) == 1 and isinstance(matchers[0], list) and \
            len(matchers[0]) == 3 and matchers[0][0] == OWNER_KEY and matchers[0][1] == "=":
        return str(matchers[0][2])
    return None


def policy_branch(tree: dict, owner: str) -> dict:
    """The environment's whole tree as one branch, matched on its owner label: its receiver,
    grouping and timings become the branch's, its routes the branch's children."""
    branch = {k: v for k, v in tree.items() if k not in ("object_matchers", "matchers", "continue")}
    return {**branch, "object_matchers": [owner_matcher(owner)]}
