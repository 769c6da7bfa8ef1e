"""`dashgen diff`: git refs, exit codes, formats and previews, on a throwaway copy of the project."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import diff
from generator.cli import main
from generator.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "commit.gpgsign=false",
                           *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_project(tmp_path_factory) -> Path:
    """The project's definitions and rendered/ committed in a fresh repository, one level down."""
    top = tmp_path_factory.mktemp("repo")
    root = top / "monitoring"  # the project need not be the repository's top level
    for name in ("monitoring", "dashboards", "alerts", "synthetics", "slos", "rendered"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "environments.toml", root / "environments.toml")
    git(top, "init", "-q")
    git(top, "add", "-A")
    git(top, "commit", "-qm", "initial")
    return root


@pytest.fixture(scope="module")
def repo_project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory)


def run(root: Path, *args: str):
    return CliRunner().invoke(main, ["--root", str(root), "diff", *args])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_no_changes_exit_0(repo_project):
    res = run(repo_project)
    assert res.exit_code == 0, res.output
    assert res.output == "no differences\n"
    res = run(repo_project, "--against", "HEAD", "--format", "json")
    assert res.exit_code == 0 and json.loads(res.output)["count"] == 0


def test_unknown_ref_and_conflicting_options_exit_2(repo_project):
    res = run(repo_project, "--against", "no-such-ref")
    assert res.exit_code == 2 and "unknown git ref 'no-such-ref'" in res.output
    res = run(repo_project, "--against", "HEAD", "--env", "production")
    assert res.exit_code == 2 and "either --against or --env" in res.output


def test_env_unknown_environment_exit_2(repo_project, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_not_used")
    res = run(repo_project, "--env", "nowhere")
    assert res.exit_code == 2
    assert "nowhere" in res.output


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """Code edits, not rendered: a panel renamed and an alert summary reworded.

    A project of its own: definitions are imported once per root and process.
    """
    project = make_project(tmp_path_factory)
    edit(project / "dashboards" / "business.py", '"1d": "Daily"', '"1d": "Daily (DAU)"')
    edit(project / "alerts" / "database.py", 'summary="PostgreSQL cannot be reached."',
         'summary="PostgreSQL is unreachable."')
    return project


def test_code_changes_show_and_exit_1(edited):
    res = run(edited, "--against", "HEAD")
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert 'dashboard "Raymontology / Business" (raymontology-business)' in lines
    assert '  Users / Daily (DAU) active users: panel renamed "Daily active users" -> "Daily (DAU) active users"' in lines
    assert "rule group raymontology-database (alerts/raymontology-database.rules.yaml)" in lines
    assert ("  DatabaseConnectionFailed: annotation summary changed: "
            "PostgreSQL [-cannot be reached-]{+is unreachable+}.") in lines
    # the rendered files on disk are untouched, so --on-disk sees nothing; the default run says so
    assert run(edited, "--on-disk").exit_code == 0
    assert "note: rendered/ on disk is not what the code renders" in res.output
    assert "note:" not in run(edited, "--on-disk").output


def test_markdown_and_json_formats(edited):
    res = run(edited, "--format", "markdown")
    assert res.exit_code == 1
    assert res.stdout.startswith("### dashgen diff (HEAD -> working tree)\n")
    assert res.stdout.count("<details>") == 3  # business dashboard, database group, runbooks.md
    doc = json.loads(run(edited, "--format", "json").stdout)
    assert {c["target"] for c in doc["changes"]} == {"panel", "alert", "file"}


def test_preview_writes_before_and_after(edited, tmp_path):
    res = run(edited, "--preview", str(tmp_path / "preview"))
    assert res.exit_code == 1
    files = sorted(p.name for p in (tmp_path / "preview").iterdir())
    assert files == ["raymontology-business.svg"]
    svg = (tmp_path / "preview" / "raymontology-business.svg").read_text()
    root = ET.fromstring(svg.encode())
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Raymontology / Business: HEAD" in texts and "Raymontology / Business: working tree" in texts
    assert "Daily active users" in texts and "Daily (DAU) active users" in texts
    assert 'class="panel changed"' in svg


def test_tree_from_git_reads_a_ref(repo_project):
    committed = diff.tree_from_git(repo_project, "HEAD")
    assert committed == diff.tree_from_dir(repo_project / "rendered")
    git(repo_project.parent, "tag", "-f", "before-nothing")
    assert diff.tree_from_git(repo_project, "before-nothing") == committed
    with pytest.raises(ConfigError):
        diff.tree_from_git(repo_project, "--output=/tmp/x")


def test_ref_without_rendered_is_all_added(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("x\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "empty")
    assert diff.tree_from_git(tmp_path, "HEAD") == {}


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"null", "got null"),
    (b'{"title": "t", "panels": [{"type": "stat", "targets": "up"}]}', "panels[0].targets: targets must be array"),
])
def test_unreadable_dashboard_is_one_line_exit_2(tmp_path_factory, content, message):
    root = make_project(tmp_path_factory)
    (root / "rendered" / "dashboards" / "raymontology-business.json").write_bytes(content)
    res = run(root, "--on-disk")
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: dashboards/raymontology-business.json (new side): ")
    assert message in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.output
