"""`dashgen init DIR`: a second, unrelated project that renders, checks and tests green.

It proves the tool carries no Raymontology assumption: the new project has its own name,
tag, job names, metric prefix and uids, and the whole flow (init, render, check with the
promtool rule test, upload --dry-run against the Grafana emulator) runs on it. One test
runs dashgen as `pip install .` ships it (the wheel built from this checkout, imported from
its unpacked folder in a fresh interpreter away from the checkout); the others in process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.project import Project
from generator.scaffold import FILES, files
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(main, list(args), env={"DASHGEN_ROOT": "", **(env or {})})
    return result.exit_code, result.output


def _no_raymontology(root: Path) -> None:
    hits = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
            and "__pycache__" not in p.parts and "raymontology" in p.read_text(errors="replace").lower()]
    assert not hits, hits


def test_init_writes_a_project_that_renders_and_checks_green(tmp_path, emulator):  # noqa: F811
    root = tmp_path / "acme-shop"
    code, out = cli("init", str(root))
    assert code == 0, out
    assert sorted(FILES.values()) == sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    project = Project(root)
    assert (project.config.name, project.config.tag, project.config.jobs.api) == ("Acme Shop", "acme-shop",
                                                                                  "acme-shop-api")
    assert project.catalog.lookup("acme_shop_requests_total") is not None

    code, out = cli("--root", str(root), "render")
    assert code == 0, out
    board = json.loads((root / "rendered" / "dashboards" / "acme-shop-overview.json").read_text())
    assert board["tags"] == ["acme-shop"] and board["links"][0]["title"] == "Acme Shop"
    assert 'acme_shop_requests_total{job="acme-shop-api"}' in json.dumps(board).replace('\\"', '"')
    assert (root / "rendered" / "alerts" / "acme-shop-service.rules.yaml").is_file()
    code, out = cli("--root", str(root), "render", "--check")
    assert code == 0, out

    code, out = cli("--root", str(root), "check", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["summary"]["errors"] == 0, out
    assert not [f for f in report["findings"] if f["check"] != "schema/dashboard"], out  # schema: shipped elsewhere

    code, out = cli("--root", str(root), "upload", "--env", "production", "--dry-run",
                    env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN})
    assert code == 0, out
    assert "acme-shop-overview" in out and TOKEN not in out
    _no_raymontology(root)


def test_the_promtool_test_of_the_new_project_fails_when_the_alert_would_not_fire(tmp_path):
    """The scaffold's rule test is real: break the alert's threshold and `check` reports it."""
    root = tmp_path / "shop"
    assert cli("init", str(root), "--name", "shop")[0] == 0
    config = root / "monitoring" / "config.py"
    config.write_text(config.read_text().replace("error_ratio_alert: float = 0.05", "error_ratio_alert: float = 0.5"))
    code, out = cli("--root", str(root), "check", "--only", "promtool/test-rules")
    assert code == 1 and "tests/rules/service.test.yaml" in out and "HighErrorRate" in out, out


@pytest.mark.parametrize("name", ["Acme", "1shop", "a--b", "shop-", "a" * 21, "acme/../x"])
def test_init_refuses_a_bad_name(name):
    with pytest.raises(Exception, match="project name"):
        files(name)


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine\n")
    code, out = cli("init", str(tmp_path))
    assert code == 2 and "not an empty folder" in out
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_plain_install_runs_the_whole_flow_on_a_new_project(tmp_path, wheel_dir, emulator):  # noqa: F811
    """dashgen from the wheel (`pip install .`), run from the new project's folder: nothing of
    this checkout (its generator/, monitoring/ or definitions) is on the path."""
    runner = (f"import sys; sys.path.insert(0, {str(wheel_dir)!r}); import generator;"
              f"assert generator.__file__.startswith({str(wheel_dir)!r}), generator.__file__;"
              "from generator.cli import main; sys.argv[0] = 'dashgen'; main()")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHGEN_") and k != "PYTHONPATH"}
    env.update(GRAFANA_URL=emulator.url, GRAFANA_TOKEN=TOKEN, PYTHONDONTWRITEBYTECODE="1")

    def dashgen(*args: str, cwd: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", runner, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    made = dashgen("init", "ledger", "--name", "ledger", "--title", "Ledger", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "ledger"
    for args in (("render",), ("render", "--check"), ("check",), ("upload", "--env", "production", "--dry-run")):
        proc = dashgen(*args, cwd=root)
        assert proc.returncode == 0, (args, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "ledger-overview" in proc.stdout
    assert (root / "rendered" / "dashboards" / "ledger-overview.json").is_file()
    _no_raymontology(root)


@pytest.mark.parametrize("name", ["ab", "payments-gateway", "a" * 20])
def test_the_new_project_is_formatted_and_lint_clean(tmp_path, name):
    """What init writes is what `ruff format` (120 columns) would write, and has no unused names,
    whatever the name's length."""
    root = tmp_path / name
    assert cli("init", str(root))[0] == 0
    for args in (["format", "--check", "--line-length", "120"], ["check", "--select", "F,E9,I"]):
        r = subprocess.run([sys.executable, "-m", "ruff", *args, "--no-cache", str(root)], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr
