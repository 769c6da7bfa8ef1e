"""`make help` lists every target the Makefile declares, each with its description."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import make_targets

ROOT = Path(__file__).resolve().parents[1]


def test_every_target_is_phony_declared_and_listed_by_help():
    text = (ROOT / "Makefile").read_text()
    defined = set(re.findall(r"^([a-z0-9][a-z0-9-]*):", text, re.M))
    phony = make_targets()
    assert {"e2e", "test", "check", "upload", "help"} <= set(phony)
    assert set(phony) == defined, "declare every target in .PHONY (and only targets)"
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    listed = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines() if line.strip()}
    assert set(listed) == set(phony)
    assert all(desc.strip() for desc in listed.values())


def test_update_golden_rewrites_every_golden_file():
    """Every test that reads --update-golden is marked `golden`, which `make update-golden` runs."""
    import ast

    assert "-m golden --update-golden" in (ROOT / "Makefile").read_text()
    needle = "getoption(" + "'--update-golden')"  # as ast.unparse writes the call
    readers = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and needle in ast.unparse(node):
                marks = {ast.unparse(d) for d in node.decorator_list}
                assert "pytest.mark.golden" in marks, f"{path.name}::{node.name} is not marked golden"
                readers.append(node.name)
    assert len(readers) >= 2, readers
