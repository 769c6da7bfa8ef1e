"""A hostile corpus: names that would escape their folder, YAML alias bombs, servers that
trickle, nonsense in DASHGEN_* variables and terminal escape sequences, each through the
command a user (or an attacker who edited a file or a server) would reach it by.

Every case asserts the refusal and what it leaves behind: rendered/ byte-identical, no
staging folder, nothing written outside the output folder, no request sent.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401
from loopback import loopback_server  # noqa: E402

from generator import render, safenames, terminal, yamlio  # noqa: E402
from generator.cli import main  # noqa: E402
from generator.errors import DashgenError  # noqa: E402
from generator.grafana.client import GrafanaAPIError, GrafanaClient  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

#: Names that must never become a path component as they are.
ESCAPING = ["../../../x", "../x", "..", ".", "a/b", "a\\b", "x\0y", "", "/abs"]
ODD = ["\x1b]0;owned\x07", "tab\there", "\u202egnp.exe", " lead", "trail.", "-rf", ".hidden", "x" * 200,
       "semi;colon", "new\nline"]


def cli(root: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--root", str(root), *args], env=env or {})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def listing(top: Path) -> set[str]:
    return {p.relative_to(top).as_posix() for p in top.rglob("*")}


def assert_untouched(project: Path, before: dict[str, bytes], tree_before: set[str]) -> None:
    """rendered/ as it was, no staging folder beside it, no file anywhere new."""
    assert snapshot(project / "rendered") == before
    assert not [p.name for p in project.parent.rglob(".rendered*")]
    assert listing(project.parent) == tree_before


# --- names that escape the output folder ------------------------------------------------------


def render_refused(project: Path, *fragments: str, code: int = 1) -> None:
    before, tree = snapshot(project / "rendered"), listing(project.parent)
    r = cli(project, "render")
    assert r.exit_code == code, r.output
    assert isinstance(r.exception, SystemExit)  # an error line, not a traceback
    for fragment in fragments:
        assert fragment in r.stderr
    assert_untouched(project, before, tree)


@pytest.mark.parametrize("name", ESCAPING + ODD, ids=repr)
def test_a_rule_group_name_never_becomes_a_path(project, name):
    (project / "alerts" / "zz_hostile.py").write_text(
        f"from generator.rules import RuleGroup\n\ndef build(cfg):\n    return RuleGroup({name!r}, [])\n")
    render_refused(project, "alerts/zz_hostile.py: rule group", "cannot be used as a file name")


@pytest.mark.parametrize("name", ["../../x", "..", "x\0y", "a/b", "\x1b[2J"], ids=repr)
def test_a_check_job_never_becomes_a_path(project, name):
    (project / "synthetics" / "zz_hostile.py").write_text(
        "from generator.synthetics import HttpCheck\n\ndef build(cfg):\n"
        f"    return HttpCheck(job={name!r}, target_key='health_url', frequency_seconds=60,\n"
        "                     timeout_seconds=30, probes=('Frankfurt',))\n")
    render_refused(project, "synthetics/zz_hostile.py: check job", "cannot be used as a file name")


@pytest.mark.parametrize("key", ['"../x"', '"a/b"', '".."', '"x\\u0000y"', '"\\u001b]0;t\\u0007"'])
def test_an_environment_name_never_becomes_a_folder(project, key):
    with open(project / "environments.toml", "a") as fh:
        fh.write(f'\n[{key}]\nfolder = "X"\nhealth_url = "https://example.org/health"\n')
    render_refused(project, "environments.toml: environment", code=2)


def test_a_dashboard_uid_that_is_a_path_is_refused(project):
    (project / "dashboards" / "zz_hostile.py").write_text(
        "def build(cfg):\n    return {'uid': '../../x', 'title': 'T', 'panels': [], 'schemaVersion': 41}\n")
    render_refused(project, "dashboards/zz_hostile.py: dashboard uid '../../x'")


def test_check_reports_a_hostile_group_name_as_a_finding_and_writes_nothing(project, tmp_path):
    (project / "alerts" / "zz_hostile.py").write_text(
        "from generator.rules import RuleGroup\n\ndef build(cfg):\n    return RuleGroup('../../../escaped', [])\n")
    tree = listing(tmp_path)
    r = cli(project, "check", "--only", "rule/")
    assert r.exit_code == 1 and "definitions/load" in r.stdout and "rule group '../../../escaped'" in r.stdout
    assert listing(tmp_path) == tree


def test_write_tree_leaves_nothing_behind_on_any_failure(tmp_path, monkeypatch):
    out = tmp_path / "rendered"
    render.write_tree({"a/one.json": b"1", "b/two.json": b"2"}, out)
    before = snapshot(out)
    original = Path.write_bytes
    calls = []

    def failing(self, data):
        calls.append(self)
        if len(calls) == 2:
            raise ValueError("embedded null byte")  # what the OS layer raises for a NUL
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(DashgenError, match="cannot write"):
        render.write_tree({"a/one.json": b"new", "b/two.json": b"new"}, out)
    calls.clear()

    def interrupted(self, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        render.write_tree({"a/one.json": b"newer"}, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rendered"]


@pytest.mark.parametrize("paths, fragment", [
    (["../x.json"], "part that is '.' or '..'"),
    (["/etc/x"], "not a relative path"),
    (["a//b"], "is empty"),
    (["a/x\0.json"], "NUL"),
    (["docs/A.svg", "docs/a.svg"], "differ only in case"),
])
def test_the_output_tree_is_checked_as_a_whole(tmp_path, paths, fragment):
    with pytest.raises(safenames.UnsafeName, match=fragment):
        render.write_tree({p: b"x" for p in paths}, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("uid", ["../uid", "../../../tmp/x", "..", "a/b", "x" * 41, "bad uid"])
def test_pull_refuses_a_uid_that_is_a_path_before_any_request(project, emulator, tmp_path, uid):
    out = tmp_path / "pulled"
    r = cli(project, "pull", "--env", "production", "--out", str(out), uid,
            env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN})
    assert r.exit_code == 2 and "pull: dashboard uid" in r.stderr
    assert emulator.requests() == [] and not out.exists()


def test_import_env_refuses_a_uid_that_is_a_path_before_any_request(project, emulator):
    r = cli(project, "import", "--env", "production", "../../api/admin/settings",
            env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN})
    assert r.exit_code == 2 and "dashboard uid '../../api/admin/settings'" in r.stderr
    assert emulator.requests() == []


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-c", "commit.gpgsign=false",
                    *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(project) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "initial")
    return project


def set_in_json(path: Path, **fields) -> None:
    doc = json.loads(path.read_text())
    doc.update(fields)
    path.write_text(json.dumps(doc, indent=2))


def test_diff_preview_refuses_a_uid_that_is_a_path(repo, tmp_path):
    set_in_json(repo / "rendered" / "dashboards" / "raymontology-business.json", uid="../../escaped")
    out = tmp_path / "preview"
    tree = listing(tmp_path)
    r = cli(repo, "diff", "--on-disk", "--preview", str(out))
    assert r.exit_code == 2 and "dashboards/raymontology-business.json: dashboard uid '../../escaped'" in r.stderr
    assert listing(tmp_path) == tree and not list(tmp_path.rglob("escaped*"))


HOSTILE_RENDERED = {
    "dashboard uid": ("dashboards/raymontology-business.json", None, "../../../api/admin/settings"),
    "contact point 'raymontology-email' uid": ("alerting/contact-points.yaml", "uid: raymontology-email-0-email",
                          "uid: ../../../api/admin/settings"),
    "rule group": ("alerts/raymontology-http.rules.yaml", "name: raymontology-http", "name: '..'"),
    "check job": ("synthetics/production/raymontology-health.json", None, "../../x"),
    "template file": ("alerting/alertmanager.yaml", "- raymontology.tmpl", "- '..'"),
}


@pytest.mark.parametrize("what", HOSTILE_RENDERED)
def test_upload_refuses_a_hostile_rendered_name_before_any_request(project, emulator, what):
    rel, old, new = HOSTILE_RENDERED[what]
    path = project / "rendered" / rel
    if old is None:
        set_in_json(path, **({"uid": new} if what == "dashboard uid" else {"job": new}))
    else:
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    r = cli(project, "upload", "--env", "production", "--dry-run", "--as-rendered",  # rendered/ itself is hostile
            env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN})
    assert r.exit_code == 2, r.output
    assert rel in r.stderr and what in r.stderr
    assert emulator.requests() == []


def test_alertmanager_out_refuses_a_template_name_that_is_a_path(project, tmp_path):
    path = project / "rendered" / "alerting" / "alertmanager.yaml"
    path.write_text(path.read_text().replace("- raymontology.tmpl", "- ../../../tmp/evil.tmpl"))
    r = cli(project, "alertmanager", "--out", str(tmp_path / "am"), "--placeholders")
    assert r.exit_code == 2 and "template file '../../../tmp/evil.tmpl'" in r.stderr
    assert not (tmp_path / "am").exists()


def test_the_client_never_sends_a_path_with_dot_segments(emulator):
    client = GrafanaClient(emulator.url, TOKEN, retries=0)
    for path in ("/api/dashboards/uid/../../../api/admin/settings", "/api/folders/%2e%2e/x", "/api/x?y=1",
                 "/api/x\r\nHost: evil", "api/x"):
        with pytest.raises(GrafanaAPIError, match="refused before sending"):
            client.request("GET", path)
    assert emulator.requests() == []


def test_url_segments_are_one_segment_each():
    assert safenames.url_segment("../../api/admin/settings", "uid") == "..%2F..%2Fapi%2Fadmin%2Fsettings"
    assert safenames.url_segment("a b?#", "uid") == "a%20b%3F%23"
    assert safenames.url_segment(42, "check id") == "42"
    for bad in ("..", ".", "", "x\ny", None):
        with pytest.raises(safenames.UnsafeName):
            safenames.url_segment(bad, "uid")


def test_a_server_listed_uid_goes_out_as_one_encoded_segment(emulator):
    from generator.grafana.dashboards import DashboardAPI

    DashboardAPI(GrafanaClient(emulator.url, TOKEN, retries=0)).delete("../../../api/admin/settings")
    assert [r["path"] for r in emulator.requests()] == ["/api/dashboards/uid/..%2F..%2F..%2Fapi%2Fadmin%2Fsettings"]


@pytest.mark.parametrize("name, fragment", [
    ("ok-name_1.2", None), ("한국어 규칙", None), ("..", "'.' or '..'"), ("a/b", "path separator"),
    ("x\0", "NUL"), ("\x1b[0m", "control character"), ("\u202eabc", "invisible"), ("x" * 151, "longer than"),
    ("-x", "starts with '-'"), ("a:b", "contains ':'"),
])
def test_name_rules(name, fragment):
    assert safenames.name_problem(name) is None if fragment is None else fragment in safenames.name_problem(name)


# --- YAML without alias expansion -----------------------------------------------------------

BOMB = "groups:\n- name: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  r{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def test_the_bomb_is_small_and_would_expand_beyond_reason():
    assert len(BOMB.encode()) < 1024
    assert BOMB.count("*") == 72  # 9 ** 9 leaves once expanded: hundreds of MB to GBs


def test_textconv_refuses_an_alias_bomb(project):
    path = project / "rendered" / "alerts" / "bomb.rules.yaml"
    path.write_text(BOMB)
    r = cli(project, "textconv", str(path))
    # git aborts the whole diff when a textconv fails: the raw text, never expanded, under a warning
    assert r.exit_code == 0, r.output
    head, _, rest = r.stdout.partition("\n")
    assert head.startswith("# dashgen textconv:") and "bomb.rules.yaml" in head and "aliases are not accepted" in head
    assert rest == BOMB


@pytest.mark.parametrize("rel", ["alerts/bomb.rules.yaml", "alerting/contact-points.yaml", "alerting/policies.yaml"])
def test_upload_dry_run_refuses_an_alias_bomb_naming_the_file(project, emulator, rel):
    (project / "rendered" / rel).write_text(BOMB)
    r = cli(project, "upload", "--env", "production", "--dry-run", "--as-rendered",  # rendered/ itself is hostile
            env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN})
    assert r.exit_code == 1 and rel in r.stderr and "aliases are not accepted" in r.stderr
    assert emulator.requests() == []


def test_diff_refuses_an_alias_bomb(repo):
    (repo / "rendered" / "alerts" / "bomb.rules.yaml").write_text(BOMB)
    r = cli(repo, "diff", "--on-disk")
    assert r.exit_code == 2 and "alerts/bomb.rules.yaml" in r.stderr and "aliases are not accepted" in r.stderr


@pytest.mark.parametrize("text", ["a: &x 1\nb: 2\n", "a: 1\nb: *x\n", "base: &b {x: 1}\nc:\n  <<: *b\n"])
def test_the_loader_refuses_anchors_aliases_and_merge_keys(text):
    with pytest.raises(yamlio.NotAccepted):
        yamlio.safe_load(text)


def test_the_loader_reads_what_dashgen_writes():
    for path in sorted((REPO / "rendered").rglob("*.yaml")):
        assert yamlio.safe_load(path.read_text()) == yaml.safe_load(path.read_text())
    with pytest.raises(yamlio.YAMLError):
        yamlio.safe_load("[" * 5000 + "]" * 5000)


def yaml_readers(tree: ast.AST) -> list[int]:
    readers = {"safe_load", "load", "full_load", "unsafe_load", "safe_load_all", "load_all", "compose", "parse"}
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in readers
            and isinstance(n.value, ast.Name) and n.value.id == "yaml"]


def test_yaml_is_read_through_one_loader_only():
    offenders = []
    for folder in ("generator", "stack", "scripts", "bench"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path == REPO / "generator" / "yamlio.py":
                continue
            lines = yaml_readers(ast.parse(path.read_text(), str(path)))
            offenders += [f"{path.relative_to(REPO)}:{n}" for n in lines]
    assert offenders == [], "read YAML with generator.yamlio.safe_load"


# --- an overall deadline per request, and DASHGEN_* variables --------------------------------


@contextmanager
def trickling_server(where: str, steps: int = 40, every: float = 0.25):
    """A loopback HTTP server that answers one byte every `every` seconds, never tripping a
    read timeout: in the body (`where="body"`) or in the headers. It stops after `steps`
    bytes, so a client without a deadline gets a truncated answer, not a hung test."""
    stop = threading.Event()

    def answer(conn):
        conn.recv(65536)
        if where == "body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(steps):
            if stop.is_set():
                return
            conn.sendall(b" ")
            time.sleep(every)

    try:
        with loopback_server(answer) as url:
            yield url
    finally:
        stop.set()


@pytest.mark.parametrize("where", ["body", "headers"])
@pytest.mark.parametrize("command", [("upload", "--env", "production", "--dry-run"),
                                     ("pull", "--env", "production", "raymontology-business")])
def test_a_trickling_server_is_cut_off_at_the_deadline(project, where, command):
    with trickling_server(where) as url:
        r = cli(project, *command, env={"GRAFANA_URL": url, "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_TIMEOUT": "0.5",
                                        "DASHGEN_HTTP_RETRIES": "0"})
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), r.output
    assert "no complete answer within 0.5 s" in r.stderr


@pytest.mark.parametrize("name, value", [
    *[("DASHGEN_HTTP_TIMEOUT", v) for v in ("0", "-1", "nan", "inf", "-inf", "abc", "1e999", "99999")],
    *[("DASHGEN_HTTP_RETRIES", v) for v in ("-1", "1.5", "abc", "1000", "nan")],
    *[("DASHGEN_HTTP_BACKOFF", v) for v in ("-1", "nan", "inf", "abc")],
])
def test_a_nonsense_dashgen_variable_is_a_usage_error_naming_it(project, emulator, name, value):
    for command in (("upload", "--env", "production", "--dry-run"), ("pull", "--env", "production", "x")):
        r = cli(project, *command, env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN, name: value})
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
        assert r.stderr.startswith(f"error: {name}=") and "Traceback" not in r.output
    assert emulator.requests() == []


def test_sane_dashgen_variables_are_taken():
    from generator.grafana.upload import client_options_from_env

    opts = client_options_from_env({"DASHGEN_HTTP_TIMEOUT": " 2.5 ", "DASHGEN_HTTP_RETRIES": "0",
                                    "DASHGEN_HTTP_BACKOFF": "0"})
    assert opts == {"timeout": (2.5, 2.5), "deadline": 2.5, "retries": 0, "backoff": 0.0}
    assert client_options_from_env({"DASHGEN_HTTP_TIMEOUT": ""}) == {}


# --- terminal escape sequences ------------------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\r\x9b31m\u202e\u2066"


def test_printable_escapes_what_a_terminal_obeys_and_keeps_newlines_and_tabs():
    assert terminal.printable("a\tb\nc") == "a\tb\nc"
    shown = terminal.printable(ESCAPES)
    assert not terminal.UNSAFE.search(shown)
    assert shown.startswith("\\u001b]0;owned\\u0007")
    doc = {"title": ESCAPES}
    assert json.loads(terminal.printable(json.dumps(doc, ensure_ascii=False))) == doc  # JSON stays JSON


def assert_inert(*texts: str) -> None:
    for text in texts:
        assert not terminal.UNSAFE.search(text), repr(text)


def test_a_title_with_escape_sequences_is_shown_inert_by_diff_and_textconv(repo):
    path = repo / "rendered" / "dashboards" / "raymontology-business.json"
    set_in_json(path, title=f"Business {ESCAPES}")
    r = cli(repo, "diff", "--on-disk")
    assert r.exit_code == 1 and "\\u001b]0;owned\\u0007" in r.stdout
    assert_inert(r.stdout, r.stderr)
    r = cli(repo, "textconv", str(path))
    assert r.exit_code == 0 and "\\u001b]0;owned" in r.stdout
    assert_inert(r.stdout)


def test_a_server_message_with_escape_sequences_is_shown_inert(project):
    body = json.dumps({"message": f"boom {ESCAPES}"}).encode()
    def answer(conn):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))

    with loopback_server(answer) as url:
        r = cli(project, "pull", "--env", "production", "raymontology-business",
                env={"GRAFANA_URL": url, "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_RETRIES": "0"})
    assert r.exit_code == 1 and "boom \\u001b]0;owned" in r.stderr
    assert_inert(r.stdout, r.stderr)


def test_an_error_naming_a_hostile_path_is_shown_inert(tmp_path):
    r = CliRunner().invoke(main, ["--root", str(tmp_path / "x\x1b]0;owned\x07"), "render"])
    assert r.exit_code == 2 and "\\u001b]0;owned" in r.stderr
    assert_inert(r.stderr)


def test_the_cli_writes_only_through_its_sanitising_echo():
    """textconv's raw write is the one exception: it passes git the bytes of files it does not
    convert, and its converted text is made printable by generator.textconv itself."""
    tree = ast.parse((REPO / "generator" / "cli.py").read_text())
    writers = {"click.echo", "click.secho", "print", "sys.stdout.write", "sys.stderr.write",
               "sys.stdout.buffer.write", "sys.stderr.buffer.write"}
    allowed = {id(n) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in ("echo", "textconv")
               for n in ast.walk(f)}
    writes = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call)
              and ast.unparse(n.func) in writers and id(n) not in allowed]
    assert writes == []
