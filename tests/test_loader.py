"""The loader imports a project's definitions afresh whenever their files changed, within one process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from repo_project import CONFIG
from generator.loader import PREFIX, load
from generator.render import render_project

MODULE = '''from generator import panels as p


def build(cfg):
    return p.dashboard(cfg, "zz-probe", "{title}", "Loader probe.", [])
'''


def titles(root: Path) -> dict[str, str]:
    return {rel: (d["title"] if isinstance(d, dict) else d.title) for rel, d in load(root, CONFIG).dashboards}


def test_a_rewritten_module_is_rendered_anew_in_the_same_process(project):
    probe = project / "dashboards" / "zz_probe.py"
    probe.write_text(MODULE.format(title="Probe one"))
    first = render_project(project)
    assert json.loads(first["dashboards/zz-probe.json"])["title"] == "Probe one"
    probe.write_text(MODULE.format(title="Probe two"))  # same size, same second: mtime can't tell
    second = render_project(project)
    assert json.loads(second["dashboards/zz-probe.json"])["title"] == "Probe two"
    assert second == {k: v.replace(b"Probe one", b"Probe two") for k, v in first.items()}  # nothing else moved
    probe.unlink()
    assert "dashboards/zz-probe.json" not in render_project(project)


def test_a_changed_helper_and_a_new_module_are_seen(tmp_path):
    root = tmp_path / "p"
    (root / "dashboards").mkdir(parents=True)
    (root / "dashboards" / "__init__.py").write_text("")
    (root / "dashboards" / "_names.py").write_text('TITLE = "A"\n')
    (root / "dashboards" / "one.py").write_text(
        "from ._names import TITLE\n\n\ndef build(cfg):\n    return {'uid': 'one', 'title': TITLE}\n")
    assert titles(root) == {"dashboards/one.py": "A"}
    assert titles(root) == {"dashboards/one.py": "A"}  # unchanged: the same modules
    (root / "dashboards" / "_names.py").write_text('TITLE = "B"\n')
    (root / "dashboards" / "two.py").write_text("def build(cfg):\n    return {'uid': 'two', 'title': 'C'}\n")
    assert titles(root) == {"dashboards/one.py": "B", "dashboards/two.py": "C"}
    assert sum(1 for m in sys.modules if m.startswith(PREFIX) and m.endswith(".dashboards._names")) >= 1


def test_an_unchanged_root_is_not_imported_again(tmp_path):
    root = tmp_path / "p"
    (root / "dashboards").mkdir(parents=True)
    (root / "dashboards" / "__init__.py").write_text("")
    (root / "dashboards" / "one.py").write_text(
        "import itertools\nCOUNT = itertools.count()\n\n\ndef build(cfg):\n"
        "    return {'uid': 'one', 'title': str(next(COUNT))}\n")
    assert [titles(root)["dashboards/one.py"] for _ in range(3)] == ["0", "1", "2"]  # one module, kept


def test_a_changed_slo_is_seen_in_the_same_process(project):
    """slos/ is one of the loader's folders: an edited objective is imported afresh."""
    def objectives():
        return {s.name: s.title for _rel, s in load(project, CONFIG).slos}

    assert objectives()["uptime"] == "Uptime"
    path = project / "slos" / "uptime.py"
    path.write_text(path.read_text().replace('title="Uptime"', 'title="Uptime (edited)"'))
    assert objectives()["uptime"] == "Uptime (edited)"
