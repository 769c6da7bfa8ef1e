"""Every code example in README.md runs as written, in README order, on a scratch copy.

How each fenced block is run (a new README section is picked up without changing this file):

* `sh`/`bash`: one bash process per block, in the scratch project, with `.venv/bin` reachable
  (`source .venv/bin/activate` works), a Grafana emulator as GRAFANA_URL that accepts the
  README's token, and the contact-point secrets set, as a user's shell or CI would have them.
  Every command must exit 0; `dashgen diff` / `make diff` may exit 1 (there are differences).
  The few commands that cannot run inside a test (NOT_RUN, each with its reason) are checked
  to be real make targets instead.
* `python` starting with `# <file>, in <function>(...)`: the snippet is added as the last
  element of the list that function returns (the list inside `RuleGroup(...)` included);
  `# <file>, in class <Name>`: added after the class's last field. Other `python` blocks
  run as scripts in the project root.
* `yaml` starting with `# <file>, under <key>:`: appended to that file, whose last top-level
  key must be <key>; other `yaml` blocks must parse. `toml`: must parse, and an exclusions
  example must load as `dashgen-check.toml`.
* Blocks without a language are output, not code.

Blocks share the scratch copy, so the README's steps build on each other (add a panel, then
render and check it) exactly as a reader following it would.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import make_targets  # noqa: E402
from grafana_emulator.server import GrafanaEmulator, Token  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
EDIT = re.compile(r"^# (?P<path>[\w./-]+), in (?:(?P<cls>class) )?(?P<name>\w+)")
APPEND = re.compile(r"^# (?P<path>[\w./-]+), under (?P<key>\w+):")

#: Commands a test cannot run inside itself; the target must exist instead.
NOT_RUN = {
    "make test": "is the test suite this test belongs to",
    "make e2e": "starts the reference stack (run by make e2e itself)",
    "make stack": "runs until Ctrl-C",
    "make emulator": "runs until Ctrl-C",
    "make bench": "timings belong in make bench, not in tests",
}
#: What the README's examples expect a user to have: the token it shows, and CI's secrets.
TOKEN = "glsa_..."
SECRETS = {"SLACK_WEBHOOK_URL": "https://hooks.slack.invalid/T000/B000/readme",
           "RAYMONTOLOGY_ALERT_EMAILS": "oncall@example.invalid",
           "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example.invalid/hook"}
COPIED = ("monitoring", "appmetrics", "dashboards", "alerts", "synthetics", "slos", "generator", "rendered", "scripts", "Makefile", "environments.toml",
          "dashgen-check.toml", ".gitattributes", "tests/rules", "tests/fixtures/realworld/dashboards")


def blocks() -> list[tuple[int, str, str]]:
    """(line number, language, body) of every fenced block, in order."""
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=readme", "-c", "user.email=readme@example.invalid", *args],
                   cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A copy of the project (a git repository with `main` and `origin/main`), its env, an emulator."""
    root = tmp_path_factory.mktemp("readme") / "project"
    for name in COPIED:
        src, dst = ROOT / name, root / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    # The project's virtual environment, never reinstalled from here: pyproject.toml is
    # older than its install stamp, so make's $(STAMP) rule is satisfied.
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    os.utime(root / "pyproject.toml", (0, 0))
    os.utime(root / "appmetrics" / "pyproject.toml", (0, 0))
    (root / ".venv").symlink_to(ROOT / ".venv")
    (root / ".gitignore").write_text(".venv\n__pycache__/\npulled/\nout/\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "the project as in the README")
    _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    emu = GrafanaEmulator({TOKEN: Token("dashgen")}).start()
    env = {**os.environ, **SECRETS, "GRAFANA_URL": emu.url, "GRAFANA_TOKEN": TOKEN,
           # the scratch copy's generator/ (which the README edits) before the installed one
           "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("DASHGEN_ROOT", "DASHGEN_SCHEMA_DIR", "VIRTUAL_ENV"):
        env.pop(name, None)
    # As in the shell the Quick start activated: dashgen on PATH (the scratch copy's .venv link).
    env["PATH"] = os.pathsep.join([str(root / ".venv" / "bin"), *(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT)))])
    yield root, env
    emu.stop()


def shell_lines(body: str) -> list[str]:
    """Commands, with `\\` continuations joined and blank or comment-only lines dropped."""
    out, pending = [], ""
    for line in body.splitlines():
        line = pending + line
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line.strip())
    return out


def run_shell(body: str, root: Path, env: dict) -> None:
    script, commands = ["cd " + shlex_quote(str(root))], []
    for i, line in enumerate(shell_lines(body)):
        skip = next((cmd for cmd in NOT_RUN if re.match(re.escape(cmd) + r"(\s|$)", line)), None)
        if skip:
            assert skip.split()[1] in make_targets(), f"{line!r}: no such make target"
            continue
        commands.append(line)
        script += [line, f'echo "__rc__ {i} $?" >&2']
    if not commands:
        return
    proc = subprocess.run(["bash", "-c", "\n".join(script)], env=env, capture_output=True, text=True,
                          timeout=600)
    codes = dict(re.findall(r"^__rc__ (\d+) (\d+)$", proc.stderr, re.M))
    lines = shell_lines(body)
    for i, line in enumerate(lines):
        if line not in commands:
            continue
        assert str(i) in codes, f"{line!r} did not finish:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        allowed = {"0", "1"} if re.match(r"(dashgen|\S*/dashgen|make) diff\b", line) else {"0"}
        assert codes[str(i)] in allowed, (f"{line!r} exited {codes[str(i)]}:\n{proc.stdout[-3000:]}\n"
                                           f"{proc.stderr[-3000:]}")


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def applied(text: str, snippet: str) -> bool:
    """Whether `snippet` is in `text` already (indentation and line breaks aside): a reader who
    followed the README, then runs `make test`, must not get the example twice."""
    return " ".join(snippet.split()) in " ".join(text.split())


def insert_python(root: Path, header: re.Match, snippet: str) -> None:
    path = root / header["path"]
    source = path.read_text()
    if applied(source, snippet):
        return
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    if header["cls"]:
        cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == header["name"])
        last = [n for n in cls.body if isinstance(n, ast.AnnAssign)][-1]
        at, indent = last.end_lineno, " " * last.col_offset
    else:
        func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == header["name"])
        ret = [n for n in func.body if isinstance(n, ast.Return)][-1]
        value = ret.value
        if isinstance(value, ast.Call):
            value = next(a for a in value.args if isinstance(a, ast.List))
        assert isinstance(value, ast.List) and value.elts, f"{header['name']}() returns no list literal"
        last = value.elts[-1]
        line = lines[last.end_lineno - 1]
        if not line[last.end_col_offset:].lstrip().startswith(","):
            lines[last.end_lineno - 1] = line[: last.end_col_offset] + "," + line[last.end_col_offset:]
        at, indent = last.end_lineno, " " * last.col_offset
    added = textwrap.indent(textwrap.dedent(snippet).rstrip("\n") + "\n", indent)
    path.write_text("".join(lines[:at]) + added + "".join(lines[at:]))
    ast.parse(path.read_text())  # still Python


def append_yaml(root: Path, header: re.Match, snippet: str) -> None:
    path = root / header["path"]
    text = path.read_text()
    if applied(text, snippet):
        return
    keys = re.findall(r"^([A-Za-z_]\w*):", text, re.M)
    assert keys and keys[-1] == header["key"], f"{path.name}: {header['key']}: is not its last top-level key"
    before = len(yaml.safe_load(text)[header["key"]] or [])
    path.write_text(text.rstrip("\n") + "\n" + snippet.rstrip("\n") + "\n")
    assert len(yaml.safe_load(path.read_text())[header["key"]]) > before


BLOCKS = blocks()


def test_the_readme_has_examples_of_each_kind():
    langs = {lang for _n, lang, _b in BLOCKS}
    assert {"sh", "python", "yaml", "toml"} <= langs
    assert sum(1 for _n, lang, b in BLOCKS if lang == "python" and EDIT.match(b)) >= 3


@pytest.mark.parametrize("line, lang, body", BLOCKS, ids=[f"README.md:{n}:{lang or 'output'}" for n, lang, _b in BLOCKS])
def test_example_runs_as_written(scratch, line, lang, body):
    root, env = scratch
    first, _, rest = body.partition("\n")
    if lang in ("sh", "bash", "shell", "console"):
        run_shell(body, root, env)
    elif lang == "python":
        header = EDIT.match(first)
        if header:
            insert_python(root, header, rest)
        else:
            proc = subprocess.run([sys.executable, "-c", body], cwd=root, env=env, capture_output=True, text=True,
                                  timeout=300)
            assert proc.returncode == 0, proc.stderr[-3000:]
    elif lang == "yaml":
        header = APPEND.match(first)
        if header:
            append_yaml(root, header, rest)
        else:
            yaml.safe_load(body)
    elif lang == "toml":
        data = tomllib.loads(body)
        if "exclude" in data:
            from generator.checks.exclusions import load_exclusions

            example = root.parent / "exclusions-example.toml"
            example.write_text(body)
            assert load_exclusions(example)
    else:
        assert lang in ("", "text", "diff"), f"README.md:{line}: no runner for ```{lang} blocks"


def test_the_examples_changed_what_they_say(scratch):
    """The README's edits landed in the rendered output (so the checks above saw them)."""
    root, _env = scratch
    # "Add a panel" and "Add an alert" are edit examples; losing them must fail, not skip.
    assert any(EDIT.match(b) for _n, lang, b in BLOCKS if lang == "python"), "README has no edit examples"
    dashboard = (root / "rendered" / "dashboards" / "raymontology-system-health.json").read_text()
    rules = (root / "rendered" / "alerts" / "raymontology-database.rules.yaml").read_text()
    assert '"Open file descriptors"' in dashboard and "alert: PostgresDeadlocks" in rules


def test_following_the_readme_then_make_test_applies_each_edit_once(scratch):
    """The scratch copy now holds every edit, as a reader's project does after following the
    README: applying the examples again (what this module does on that project under `make
    test`) changes nothing."""
    root, _env = scratch
    edits = 0
    for _n, lang, body in BLOCKS:
        first, _, rest = body.partition("\n")
        header = (EDIT if lang == "python" else APPEND if lang == "yaml" else None)
        match = header.match(first) if header else None
        if not match:
            continue
        path = root / match["path"]
        before = path.read_text()
        (insert_python if lang == "python" else append_yaml)(root, match, rest)
        assert path.read_text() == before, f"{match['path']}: the README example was applied twice"
        edits += 1
    assert edits >= 4
