"""`upload --prune` deletes only what carries the environment's ownership mark, kind by kind,
with foreign objects that share dashgen's folders and names (against the Grafana emulator).
Contact points: tests/test_upload.py (`seed_old_notifications`); SM checks:
tests/test_sm_upload.py; the policy tree's branches: tests/test_shared_stack.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401
from test_upload import FOLDER, LEAF, local_set, make_group, run  # noqa: E402

from generator.grafana import scope  # noqa: E402
from generator.grafana.upload import Local  # noqa: E402

CONVERT = "/api/convert/prometheus/config/v1/rules/Production"


def post_group(emu, group: dict) -> None:
    """Another team imports a group into dashgen's folder through the conversion API."""
    r = requests.post(emu.url + CONVERT, data=yaml.safe_dump(group), timeout=10,
                      headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/yaml",
                               "X-Grafana-Alerting-Datasource-UID": "grafanacloud-prom",
                               "X-Grafana-Alerting-Folder-UID": scope_parent()})
    assert r.status_code == 202, r.text


def scope_parent() -> str:
    from generator.grafana.folders import folder_uid

    return folder_uid(("Raymontology",))


def test_rule_groups_carry_the_mark_and_only_marked_ones_are_pruned(emulator):
    local = local_set(1, groups=("api", "db"))
    run(emulator, local)
    stored = emulator.converted[LEAF]
    assert all(scope.group_owner(rec["group"]) == FOLDER for rec in stored.values())
    theirs = make_group("payments")  # another team's group, in dashgen's folder
    post_group(emulator, theirs)
    staging = scope.mark_group(make_group("batch"), "Raymontology/Staging")  # another environment's mark
    post_group(emulator, staging)
    del local.groups["db"]
    emulator.clear_log()
    report = run(emulator, local, prune=True)
    assert not report.failed, [i.detail for i in report.items if i.failed]
    actions = {i.key: (i.action, i.detail) for i in report.items if i.kind == "rule-group"}
    assert actions["db"][0] == "prune" and actions["api"][0] == "unchanged"
    assert actions["payments"] == ("foreign", "in folder 'Production' but carries no dashgen mark: not dashgen's here, "
                                              "left alone")
    assert actions["batch"][0] == "foreign" and "marked for 'Raymontology/Staging'" in actions["batch"][1]
    assert set(emulator.converted[LEAF]) == {"api", "payments", "batch"}
    assert emulator.converted[LEAF]["payments"]["group"] == theirs
    assert [(w["method"], w["path"]) for w in emulator.writes()] == [("DELETE", CONVERT + "/db")]


def test_a_group_of_codes_name_without_the_mark_is_taken_over_and_marked(emulator):
    """A dashgen before marks wrote it (or someone used dashgen's name): code decides the
    group's content, as before, and the line says so; from then on it carries the mark."""
    run(emulator, local_set(1, groups=()))
    post_group(emulator, make_group("api"))
    report = run(emulator, local_set(1, groups=("api",)))
    (item,) = [i for i in report.items if i.kind == "rule-group"]
    assert item.action == "update" and item.done and "taken over" in item.detail
    assert scope.group_owner(emulator.converted[LEAF]["api"]["group"]) == FOLDER
    emulator.clear_log()
    assert run(emulator, local_set(1, groups=("api",))).count("unchanged", "rule-group") == 1
    assert emulator.writes() == []


def test_a_recording_only_group_is_marked_by_a_label_on_each_rule(emulator):
    group = {"name": "recorded", "interval": "1m", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"}]}
    run(emulator, Local({}, {"recorded": group}))
    stored = emulator.converted[LEAF]["recorded"]["group"]
    assert stored["rules"][0]["labels"] == {"dashgen_owner": FOLDER} and "annotations" not in stored["rules"][0]
    report = run(emulator, Local({}, {}), prune=True)
    assert report.count("prune", "rule-group") == 1 and "recorded" not in emulator.converted[LEAF]


def test_the_mimir_namespace_keeps_another_teams_group():
    from grafana_emulator.fixtures import make_emulator

    from generator.environments import Environment
    from generator.grafana.upload import upload

    emu = make_emulator(ruler_tokens={"4242": "glc_ruler"})
    try:
        env = Environment("old", emu.url, FOLDER, token=TOKEN, alerting="mimir", mimir_url=emu.url,
                          mimir_user="4242", mimir_token="glc_ruler")
        opts = {"backoff": 0.01, "timeout": 2.0}
        upload(env, local_set(0, groups=("api",)), client_options=opts)
        emu.ruler["4242"]["dashgen-old"]["theirs"] = make_group("theirs")
        report = upload(env, Local({}, {}), prune=True, client_options=opts)
        assert report.count("prune", "rule-group") == 1 and report.count("foreign", "rule-group") == 1
        assert list(emu.ruler["4242"]["dashgen-old"]) == ["theirs"]
    finally:
        emu.stop()


def test_templates_carry_the_mark_and_only_marked_retired_ones_are_pruned(emulator):
    templates = {"raymontology": '{{ define "raymontology.title" }}t{{ end }}'}
    local = Local({}, None, templates=templates)
    run(emulator, local, only=("alerting",))
    stored = emulator.templates["raymontology"]["template"]
    assert stored == scope.mark_template(templates["raymontology"], FOLDER)
    assert scope.template_owner(stored) == FOLDER
    for name, owner in (("raymontology-old", FOLDER), ("team-x", None), ("raymontology-staging", "Raymontology/Staging")):
        text = '{{ define "%s.x" }}x{{ end }}' % name
        emulator.templates[name] = {"name": name, "template": scope.mark_template(text, owner) if owner else text,
                                    "provenance": "api", "version": "1"}
    report = run(emulator, local, only=("alerting",))
    assert [(i.key, i.action, i.done) for i in report.items if i.action == "prune"] == [("raymontology-old", "prune", False)]
    assert "raymontology-old" in emulator.templates
    report = run(emulator, local, only=("alerting",), prune=True)
    assert report.count("prune", "template") == 1 and not report.failed
    assert set(emulator.templates) == {"raymontology", "team-x", "raymontology-staging"}


@pytest.mark.parametrize("owner", ["Raymontology/Production", 'odd "*/}} {{ end', "Ünïcode / \\ path"])
def test_the_template_mark_survives_any_owner_and_stays_one_comment(owner):
    text = scope.mark_template('{{ define "x" }}y{{ end }}', owner)
    first, rest = text.split("\n", 1)
    assert first.startswith("{{/* ") and first.endswith(" */}}") and first.count("*/") == 1
    assert rest == '{{ define "x" }}y{{ end }}' and scope.template_owner(text) == owner


def test_a_dashboard_in_dashgens_folder_it_did_not_write_is_never_pruned(emulator):
    local = local_set(2, groups=())
    run(emulator, local)
    emulator.save_dashboard({"dashboard": {"uid": "carols", "title": "Carol's"}, "folderUid": LEAF}, "carol")
    report = run(emulator, Local({}, {}), prune=True)
    assert report.count("prune", "dashboard") == 2 and report.count("foreign", "dashboard") == 1
    assert set(emulator.dashboards) == {"carols"}
    assert not [w for w in emulator.writes() if w["path"].startswith("/api/folders") and w["method"] == "DELETE"]
