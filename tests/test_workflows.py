"""The GitHub workflows users copy (.github/workflows/) only use make targets and dashgen
flags that exist, upload with a dry run first and never twice at once, and pass every
secret the rendered contact points reference, to the upload job only. zizmor (offline)
finds nothing of medium severity or above: actions pinned to commits, no credentials left
behind by checkout, least-privilege permissions per job."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import make_targets

from generator.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads a bare `on` key as true
    return doc


def steps(doc: dict) -> list[dict]:
    return [s for job in doc["jobs"].values() for s in job["steps"]]


def commands(doc: dict) -> list[list[str]]:
    """Every shell command of every `run:` step, as words (pipes and `;` split)."""
    out = []
    for step in steps(doc):
        for line in step.get("run", "").splitlines():
            line = line.split(" #", 1)[0].strip()
            for part in re.split(r"\s*(?:\|\||&&|\||;)\s*", line):
                if part:
                    out.append(shlex.split(part))
    return out


def dashgen_flags(words: list[str]) -> tuple[str, list[str]]:
    sub, flags = words[0], [w.split("=", 1)[0] for w in words[1:] if w.startswith("--")]
    return sub, flags


def check_dashgen(sub: str, flags: list[str]) -> None:
    assert sub in main.commands, f"dashgen has no command {sub!r}"
    known = {o for p in main.commands[sub].params for o in p.opts}
    assert set(flags) <= known, f"dashgen {sub}: unknown flags {set(flags) - known}"


@pytest.mark.parametrize("name", ["pull-request.yml", "upload.yml"])
def test_every_make_target_and_dashgen_flag_exists(name):
    makefile = (ROOT / "Makefile").read_text()
    used = 0
    for words in commands(load(name)):
        if words[0] == "make":
            targets = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert targets and set(targets) <= make_targets(), words
            for var, value in (w.split("=", 1) for w in words[1:] if "=" in w):
                assert f"$({var})" in makefile, f"the Makefile does not read {var}"
                if var == "FLAGS":  # passed to `dashgen upload`
                    check_dashgen("upload", [f.split("=", 1)[0] for f in value.split()])
            used += 1
        elif words[0].endswith("dashgen"):
            check_dashgen(*dashgen_flags(words[1:]))
            used += 1
    assert used >= 2


def test_pull_requests_run_the_gate_and_post_one_diff_comment():
    doc = load("pull-request.yml")
    assert "pull_request" in doc["on"]
    cmds = commands(doc)
    assert ["make", "check"] in cmds
    diff = next(c for c in cmds if c[0].endswith("dashgen") and c[1] == "diff")
    assert "--format" in diff and diff[diff.index("--format") + 1] == "markdown"
    (job,) = doc["jobs"].values()
    assert job["permissions"]["pull-requests"] == "write"
    script = next(s for s in steps(doc) if "github-script" in s.get("uses", ""))["with"]["script"]
    assert "updateComment" in script and "createComment" in script and "<!-- dashgen-diff -->" in script


def test_main_uploads_after_a_dry_run_and_never_concurrently():
    doc = load("upload.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["concurrency"]["group"] and doc["concurrency"]["cancel-in-progress"] is False
    uploads = [c for c in commands(doc) if c[:2] == ["make", "upload"]]
    assert uploads == [["make", "upload", "ENV=production", "FLAGS=--dry-run"], ["make", "upload", "ENV=production"]]


def test_every_secret_comes_from_repository_secrets():
    """Each variable the rendered notifications refer to, and every token the upload reads."""
    from repo_project import CONFIG
    from generator.notifications import secrets

    jobs = load("upload.yml")["jobs"]
    (job,) = [j for j in jobs.values() if any("make upload" in s.get("run", "") for s in j["steps"])]
    env = job["env"]
    for other in jobs.values():  # the gate runs without them
        assert other is job or not any("secrets." in str(v) for v in (other.get("env") or {}).values())
    refs = set()
    for path in (ROOT / "rendered" / "alerting").iterdir():
        body = "\n".join(ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#"))
        refs |= set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)\b", body))
    refs -= {"VARIABLE"}  # the header's own wording
    assert refs and refs <= set(secrets(CONFIG)), refs
    for name in set(secrets(CONFIG)) | {"GRAFANA_TOKEN", "SM_TOKEN", "MIMIR_USER", "MIMIR_TOKEN"}:
        assert env.get(name) == f"${{{{ secrets.{name} }}}}", name


@pytest.mark.parametrize("name", ["pull-request.yml", "upload.yml"])
def test_the_tools_make_check_needs_are_installed_first(name):
    """`make check` runs scripts/ensure-tools, which fails (it cannot sudo) unless every
    Debian package it looks for was installed by an earlier step."""
    needed = set(re.findall(r"missing\+=\(([\w-]+)\)", (ROOT / "scripts" / "ensure-tools").read_text()))
    assert needed >= {"prometheus", "prometheus-alertmanager"}
    installed, gate = set(), None
    for i, words in enumerate(commands(load(name))):
        if words[:2] == ["make", "check"]:
            gate = i
            break
        if "apt-get" in words and "install" in words:
            installed |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    assert gate is not None and needed <= installed, needed - installed


ZIZMOR_FAILS = {"Medium", "High"}


def zizmor() -> str:
    """zizmor from the test extras (pyproject.toml), beside this Python."""
    path = Path(sys.executable).with_name("zizmor")
    found = str(path) if path.exists() else shutil.which("zizmor")
    if not found:
        pytest.fail("zizmor is missing: `make test` installs it with the test extras (pyproject.toml)")
    return found


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    """Offline (no GitHub API), every persona's audits, no ignore comments or config honoured."""
    out = subprocess.run([zizmor(), "--offline", "--no-config", "--no-ignores", "--persona=auditor",
                          "--format=json", str(WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 10, 11, 12, 13, 14), out.stderr  # 1x: findings (judged below)
    findings = json.loads(out.stdout)
    bad = [f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}"
           for f in findings if f["determinations"]["severity"] in ZIZMOR_FAILS]
    assert not bad, "\n".join(bad)


def test_zizmor_would_catch_an_unpinned_action(tmp_path):
    """The check above can fail: the workflows as they were (tag refs, persisted credentials)."""
    (tmp_path / "w.yml").write_text(
        "name: x\non: push\npermissions: {}\njobs:\n  a:\n    name: a\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n")
    out = subprocess.run([zizmor(), "--offline", "--no-config", "--format=json", str(tmp_path / "w.yml")],
                         capture_output=True, text=True, timeout=120)
    idents = {f["ident"] for f in json.loads(out.stdout)
              if f["determinations"]["severity"] in ZIZMOR_FAILS}
    assert {"unpinned-uses", "artipacked"} <= idents
