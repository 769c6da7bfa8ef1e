"""Production and staging on one Grafana stack (environments.toml as shipped: the same
grafana_url, staging with `suffix = "-staging"`) never touch each other's objects, and
re-uploading either writes nothing; or each on its own stack. Against the Grafana emulator,
with the notification policy tree proven by Alertmanager's own router (amtool)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator, make_emulator  # noqa: E402,F401

from generator.cli import main  # noqa: E402
from generator.grafana.folders import folder_uid  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROD, STAGING = folder_uid(("Raymontology", "Production")), folder_uid(("Raymontology", "Staging"))
OWNER = "dashgen_owner"
SECRETS = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/SharedStackCanary",
           "RAYMONTOLOGY_ALERT_EMAILS": "oncall@raymontology.example",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example/hook?key=SharedStackSms"}


@pytest.fixture
def shipped(project):
    """The scratch project with the environments.toml this repository ships."""
    shutil.copyfile(ROOT / "environments.toml", project / "environments.toml")
    return project


def cli(project: Path, emu, *args, **env):
    base = {"GRAFANA_URL": emu.url, "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_BACKOFF": "0.01", **SECRETS}
    return CliRunner().invoke(main, ["--root", str(project), *args], env={**base, **env})


def set_environments(project: Path, toml: str) -> None:
    """Edit environments.toml as a user would: then `make dashboards` (they shape rendered/synthetics/)."""
    (project / "environments.toml").write_text(toml)
    r = CliRunner().invoke(main, ["--root", str(project), "render"])
    assert r.exit_code == 0, r.output


def upload(project, emu, env: str, *flags):
    r = cli(project, emu, "upload", "--env", env, *flags)
    assert r.exit_code == 0, r.output
    return r


def state(emu) -> dict:
    """Everything Grafana holds, for before/after comparisons."""
    return copy.deepcopy({"dashboards": {u: (d["version"], d["folderUid"], d["data"]) for u, d in emu.dashboards.items()},
                          "folders": emu.folders, "rules": emu.converted, "contact_points": emu.contact_points,
                          "templates": emu.templates, "policies": emu.policies})


def production_part(s: dict) -> dict:
    return {"dashboards": {u: v for u, v in s["dashboards"].items() if v[1] == PROD},
            "rules": s["rules"].get(PROD), "templates": s["templates"].get("raymontology"),
            "contact_points": {u: c for u, c in s["contact_points"].items() if "staging" not in u}}


def test_production_and_staging_share_a_stack_without_touching_each_other(shipped, emulator, amtool, tmp_path):
    rendered = sorted(p.stem for p in (shipped / "rendered" / "dashboards").glob("*.json"))
    upload(shipped, emulator, "production")
    after_production = state(emulator)
    emulator.clear_log()

    upload(shipped, emulator, "staging")
    production_paths = {f"/api/v1/provisioning/contact-points/{u}" for u in after_production["contact_points"]} | {
        "/api/v1/provisioning/templates/raymontology"} | {f"/api/dashboards/uid/{u}" for u in rendered}
    staging_writes = [(w["method"], w["path"], w["body"]) for w in emulator.writes()]
    assert len(staging_writes) > 10
    for method, path, body in staging_writes:  # nothing of production's was written to
        assert path not in production_paths and "/rules/Production" not in path, (method, path)
        if path == "/api/dashboards/db":
            sent = json.loads(body)
            assert sent["dashboard"]["uid"].endswith("-staging") and sent["folderUid"] == STAGING
        if path == "/api/v1/provisioning/contact-points":
            assert json.loads(body)["name"].endswith("-staging")
    now = state(emulator)
    assert production_part(now) == production_part(after_production)  # production untouched
    # staging: its own dashboards, in its own folder, with its own tags and links
    staging_uids = sorted(u for u, v in now["dashboards"].items() if v[1] == STAGING)
    assert staging_uids == [f"{u}-staging" for u in rendered]
    for uid in staging_uids:
        data = now["dashboards"][uid][2]
        assert all(t.endswith("-staging") for t in data["tags"])
        assert all(t.endswith("-staging") for link in data.get("links", []) for t in link.get("tags", []))
    # its own rule namespace, alerts labelled for its policy branch, links to its dashboards
    assert set(now["rules"][STAGING]) == set(now["rules"][PROD])
    for record in now["rules"][STAGING].values():
        for rule in record["group"]["rules"]:
            if "alert" in rule:
                assert rule["labels"][OWNER] == "Raymontology/Staging"
                assert rule["annotations"][OWNER] == "Raymontology/Staging"
                url = rule["annotations"].get("dashboard_url")
                assert url is None or url.split("/d/")[1] in staging_uids
    for record in now["rules"][PROD].values():
        for rule in record["group"]["rules"]:
            assert OWNER not in rule.get("labels", {})  # production's alerts are as before
            url = rule.get("annotations", {}).get("dashboard_url")
            assert url is None or url.startswith("https://raymontology.grafana.net/d/") and url.split("/d/")[1] in rendered
    # its own contact points and template (defining its own names)
    staging_cps = {c["name"] for c in now["contact_points"].values() if c["settings"].get(OWNER) == "Raymontology/Staging"}
    assert staging_cps == {"raymontology-email-staging", "raymontology-slack-staging", "raymontology-sms-staging"}
    template = now["templates"]["raymontology-staging"]["template"]
    assert '{{ define "raymontology-staging.slack.text" -}}' in template and '"raymontology.' not in template
    slack = next(c for c in now["contact_points"].values() if c["name"] == "raymontology-slack-staging")
    assert slack["settings"]["text"] == '{{ template "raymontology-staging.slack.text" . }}'
    # one policy tree: production's, with staging's branch first
    branch = now["policies"]["routes"][0]
    assert branch["object_matchers"] == [[OWNER, "=", "Raymontology/Staging"]]
    assert branch["receiver"] == "raymontology-slack-staging"
    assert now["policies"]["routes"][1:] == after_production["policies"]["routes"]
    route_check(amtool, tmp_path, now["policies"])

    # production again, then each once more: nothing to write, nothing of the other moved
    emulator.clear_log()
    r = upload(shipped, emulator, "production")
    assert emulator.writes() == [] and r.stdout.strip().splitlines()[-1].startswith("production: ")
    assert "unchanged" in r.stdout and "created" not in r.stdout and "updated" not in r.stdout
    upload(shipped, emulator, "staging")
    assert emulator.writes() == []
    for env in ("production", "staging"):  # --prune finds nothing of the other's to delete
        r = upload(shipped, emulator, env, "--prune")
        assert emulator.writes() == [] and "prune" not in r.stdout, r.stdout
    assert state(emulator) == now

    # reading back: pull gives rendered/'s file, diff --env finds no difference
    r = cli(shipped, emulator, "pull", "--env", "staging", "raymontology-business")
    assert r.exit_code == 0 and r.stdout == (shipped / "rendered/dashboards/raymontology-business.json").read_text()
    for env in ("production", "staging"):
        r = cli(shipped, emulator, "diff", "--env", env)
        assert r.exit_code == 0, r.output


def route_check(amtool: str, tmp_path: Path, tree: dict) -> None:
    """Grafana's tree as an Alertmanager config, routed by Alertmanager's own code: a staging
    alert reaches staging's receivers only, a production alert production's."""
    names: set[str] = set()

    def convert(route: dict) -> dict:
        names.add(route["receiver"])
        out = {k: v for k, v in route.items() if k not in ("object_matchers", "routes", "provenance")}
        if route.get("object_matchers"):
            out["matchers"] = [f"{k}{op}{json.dumps(v)}" for k, op, v in route["object_matchers"]]
        if route.get("routes"):
            out["routes"] = [convert(r) for r in route["routes"]]
        return out

    config = {"route": convert(tree), "receivers": []}
    config["receivers"] = [{"name": n} for n in sorted(names)]
    path = tmp_path / "tree.yml"
    path.write_text(yaml.safe_dump(config))

    def routed(**labels) -> list[str]:
        out = subprocess.run([amtool, "config", "routes", "test", f"--config.file={path}",
                              *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().split(",")

    down = {"alertname": "ServiceDown", "severity": "critical"}
    assert routed(**down) == ["raymontology-email", "raymontology-slack", "raymontology-sms"]
    assert routed(**down, **{OWNER: "Raymontology/Staging"}) == \
        ["raymontology-email-staging", "raymontology-slack-staging", "raymontology-sms-staging"]
    assert routed(alertname="X", severity="warning", **{OWNER: "Raymontology/Staging"}) == ["raymontology-slack-staging"]


def test_the_root_owner_keeps_every_other_environments_branch(shipped, emulator):
    """Staging first, then production (which owns the rest of the tree) and a third
    environment's branch someone else's dashgen put there."""
    upload(shipped, emulator, "staging")
    other = {"receiver": "grafana-default-email", "object_matchers": [[OWNER, "=", "Other/Team"]]}
    emulator.policies["routes"].append(other)
    upload(shipped, emulator, "production")
    routes = emulator.policies["routes"]
    assert [r.get("object_matchers") for r in routes[:2]] == [[[OWNER, "=", "Raymontology/Staging"]],
                                                               [[OWNER, "=", "Other/Team"]]]
    assert emulator.policies["receiver"] == "raymontology-slack"
    emulator.clear_log()
    upload(shipped, emulator, "staging")
    upload(shipped, emulator, "production")
    assert emulator.writes() == []


def test_each_environment_on_its_own_stack(project):
    """No suffix needed: the same uids on two stacks; alerts link to their own stack."""
    set_environments(
        project, '[production]\ngrafana_url = "https://raymontology.grafana.net"\nfolder = "Raymontology/Production"\n\n'
        '[staging]\ngrafana_url = "https://staging.grafana.example"\nfolder = "Raymontology/Staging"\n')
    prod, staging = make_emulator(), make_emulator()
    try:
        upload(project, prod, "production")
        upload(project, staging, "staging")
        assert set(prod.dashboards) == set(staging.dashboards)
        assert all(d["folderUid"] == STAGING for d in staging.dashboards.values())
        urls = {r["annotations"]["dashboard_url"] for rec in staging.converted[STAGING].values()
                for r in rec["group"]["rules"] if "dashboard_url" in r.get("annotations", {})}
        assert urls and all(u.startswith("https://staging.grafana.example/d/raymontology-") for u in urls)
        assert staging.policies["receiver"] == "raymontology-slack" and OWNER not in json.dumps(staging.policies["routes"])
        for emu, env in ((prod, "production"), (staging, "staging")):
            emu.clear_log()
            upload(project, emu, env)
            assert emu.writes() == []
    finally:
        prod.stop()
        staging.stop()


@pytest.mark.parametrize("toml, fragment", [
    ('[production]\ngrafana_url = "https://g.example"\nfolder = "R/P"\n'
     '[staging]\ngrafana_url = "https://G.example/"\nfolder = "R/S"\n',
     "environments 'production' and 'staging' in environments.toml both upload to https://g.example with the same "
     "dashboard uids, contact points and policy tree: give one of them its own suffix (e.g. suffix = \"-staging\" "
     "under [staging]), or its own stack"),
    ('[production]\ngrafana_url = "https://g.example"\nfolder = "R/P"\n'
     '[staging]\ngrafana_url = "https://g.example"\nsuffix = "-s"\nfolder = " R / P "\n',
     "environments 'production' and 'staging' in environments.toml both use folder 'R/P' on https://g.example"),
    ('[production]\ngrafana_url = "https://g.example"\nfolder = "R/P"\nsuffix = "../x"\n',
     "suffix '../x' must be 1 to 16 of A-Z a-z 0-9 _ -"),
    ('[production]\ngrafana_url = "https://g.example"\nfolder = "R/P"\nsuffix = "-s"\nalerting = "mimir"\n',
     'a suffix needs alerting = "grafana"'),
])
def test_environments_that_would_fight_are_refused_before_anything_is_sent(project, emulator, toml, fragment):
    (project / "environments.toml").write_text(toml)
    r = cli(project, emulator, "upload", "--env", "production")
    assert r.exit_code == 2 and fragment in r.stderr, r.output
    assert emulator.log == []


def test_a_uid_too_long_with_the_suffix_is_refused_naming_it(project, emulator):
    set_environments(
        project, '[staging]\ngrafana_url = "https://g.example"\nfolder = "R/S"\nsuffix = "-a-long-suffix16"\n')
    r = cli(project, emulator, "upload", "--env", "staging")
    assert r.exit_code == 2 and "uid 'raymontology-system-health-a-long-suffix16' (with [staging] suffix " \
        "'-a-long-suffix16') is 42 characters; Grafana allows 40" in r.stderr, r.output
    assert emulator.log == []
