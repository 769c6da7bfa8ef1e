"""Golden files: rendered/ is exactly what the code produces (refresh with --update-golden)."""

from __future__ import annotations

import difflib

import pytest

from generator.render import render_project, stale_files, write_tree


@pytest.mark.golden
def test_rendered_matches_code(root, request):
    files = render_project(root)
    out = root / "rendered"
    if request.config.getoption("--update-golden"):
        write_tree(files, out)
    stale = stale_files(files, out)
    if stale:
        name, why = stale[0]
        detail = ""
        if why == "differs":
            old = (out / name).read_text().splitlines()
            new = files[name].decode().splitlines()
            detail = "\n".join(list(difflib.unified_diff(old, new, f"rendered/{name}", "code", lineterm=""))[:60])
        raise AssertionError(
            f"rendered/ is stale ({len(stale)} files; first: {name}, {why}). "
            f"Run `make dashboards` or `make update-golden`, review and commit.\n{detail}"
        )


def test_expected_outputs_exist(root):
    files = render_project(root)
    for uid in ("raymontology-system-health", "raymontology-business", "raymontology-database"):
        assert f"dashboards/{uid}.json" in files
    assert any(n.startswith("alerts/") and n.endswith(".rules.yaml") for n in files)
    assert "docs/runbooks.md" in files
