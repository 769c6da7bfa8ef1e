"""`dashgen render`: --check, determinism, atomic failure, errors that name the module."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import dashgen


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_render_check_passes_on_the_committed_tree(root):
    result = dashgen("render", "--check")
    assert result.returncode == 0, result.stderr


def test_render_check_names_stale_files_and_writes_nothing(project):
    target = project / "rendered" / "dashboards" / "raymontology-business.json"
    target.write_text("{}\n")
    (project / "rendered" / "alerts" / "leftover.rules.yaml").write_text("groups: []\n")
    before = tree_digest(project / "rendered")
    result = dashgen("--root", str(project), "render", "--check")
    assert result.returncode == 1
    assert "rendered/dashboards/raymontology-business.json (differs)" in result.stderr
    assert "rendered/alerts/leftover.rules.yaml (no longer produced)" in result.stderr
    assert tree_digest(project / "rendered") == before


def test_render_repairs_a_stale_tree(project):
    (project / "rendered" / "dashboards" / "raymontology-business.json").write_text("{}\n")
    assert dashgen("--root", str(project), "render").returncode == 0
    assert dashgen("--root", str(project), "render", "--check").returncode == 0


def test_byte_identical_across_hash_seeds_and_working_directories(project, tmp_path):
    outs = []
    for seed, cwd in (("0", project), ("12345", tmp_path), ("random", Path("/"))):
        out = tmp_path / f"out-{seed}"
        result = dashgen("--root", str(project), "render", "--out", str(out), cwd=cwd,
                         env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        outs.append(tree_digest(out))
    assert outs[0] == outs[1] == outs[2]
    assert outs[0] == tree_digest(project / "rendered")


def test_a_failing_module_leaves_rendered_untouched(project):
    (project / "dashboards" / "zz_broken.py").write_text(
        "def build(cfg):\n    return {}['missing']\n"
    )
    before = tree_digest(project / "rendered")
    result = dashgen("--root", str(project), "render")
    assert result.returncode == 1
    assert "dashboards/zz_broken.py" in result.stderr
    assert "line 2" in result.stderr and "KeyError" in result.stderr
    assert tree_digest(project / "rendered") == before
    assert not [p for p in project.iterdir() if p.name.startswith(".rendered")], "staging folder left behind"


def test_import_errors_name_the_module(project):
    (project / "alerts" / "typo.py").write_text("from generator.rules import Alertt\n")
    result = dashgen("--root", str(project), "render")
    assert result.returncode == 1
    assert "alerts/typo.py" in result.stderr and "import failed" in result.stderr


def test_duplicate_uid_is_refused(project):
    src = (project / "dashboards" / "business.py").read_text()
    (project / "dashboards" / "business_copy.py").write_text(src)
    result = dashgen("--root", str(project), "render")
    assert result.returncode == 1
    assert "raymontology-business" in result.stderr and "already used" in result.stderr


def test_unknown_metric_fails_at_render_time(project):
    path = project / "dashboards" / "database.py"
    path.write_text(path.read_text().replace("'redis_connected_clients'", "'redis_connected_clientz'"))
    result = dashgen("--root", str(project), "render")
    assert result.returncode == 1
    assert "dashboards/database.py" in result.stderr and "redis_connected_clientz" in result.stderr


def test_not_a_project_is_a_usage_error(tmp_path):
    result = dashgen("--root", str(tmp_path), "render")
    assert result.returncode == 2
    assert "dashboards/ and alerts/" in result.stderr


def test_python_dash_m_and_version():
    result = dashgen("--version")
    assert result.returncode == 0 and "dashgen" in result.stdout
