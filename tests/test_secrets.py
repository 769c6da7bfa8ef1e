"""Secrets stay secret under hostile input: echoes in any encoding, malformed tokens, URLs
with credentials, proxies, the files `dashgen alertmanager` writes, and `$VAR` references
outside secret fields. Against the Grafana emulator over real HTTP where HTTP is involved."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401

from generator.cli import main  # noqa: E402
from generator.environments import load_environment  # noqa: E402
from generator.errors import ConfigError  # noqa: E402
from generator.grafana.client import AuthError, GrafanaClient, GrafanaUnreachable  # noqa: E402
from generator.grafana.redact import Scrubber, redact_url  # noqa: E402

#: Realistic secrets whose significant parts (CANARIES) read the same in every encoding.
SECRETS = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0CANARY1/B0CANARY2/CanarySlackToken24chars",
    "RAYMONTOLOGY_ALERT_EMAILS": "oncall-canary@raymontology.example,cto-canary@raymontology.example",
    "RAYMONTOLOGY_SMS_WEBHOOK_URL": "https://sms.example/api/send?to=+821055501234&key=CanarySmsKey77&x=a",
}
CANARIES = ("CanarySlackToken24chars", "T0CANARY1", "B0CANARY2", "821055501234", "CanarySmsKey77",
            "oncall-canary", "cto-canary")
ECHOES = ("echo500", "echo500_url", "echo500_bare", "echo500_go")

ENV_TOML = """
[production]
grafana_url = "https://raymontology.grafana.net"
folder = "Raymontology/Production"

[old]
grafana_url = "https://old.grafana.net"
folder = "Raymontology/Old"
alerting = "mimir"
"""


def cli(project: Path, emu, *args, **env):
    base = {"GRAFANA_URL": emu.url if emu else "", "GRAFANA_TOKEN": TOKEN, "DASHGEN_HTTP_BACKOFF": "0.01",
            "DASHGEN_HTTP_RETRIES": "0", **SECRETS}
    return CliRunner().invoke(main, ["--root", str(project), *args], env={**base, **env})


@pytest.fixture
def proj(project):
    (project / "environments.toml").write_text(ENV_TOML)
    assert cli(project, None, "render").exit_code == 0  # the environments shape rendered/synthetics/
    return project


def shown(result) -> str:
    return result.stdout + result.stderr + repr(result.exception)


# --- every encoding of every secret is scrubbed ------------------------------------------------
@pytest.mark.parametrize("fault", ECHOES)
def test_an_echo_in_any_encoding_is_scrubbed_from_the_whole_answer(emulator, fault):
    """The raw 500 really carries the secrets in that encoding; once scrubbed, no part is left."""
    client = GrafanaClient(emulator.url, TOKEN, retries=0)
    for value in SECRETS.values():
        client.add_secret(value)
    body = {"uid": "raymontology-slack-0-slack", "name": "raymontology-slack", "type": "slack",
            "settings": {k.lower(): v for k, v in SECRETS.items()}}
    emulator.set_faults(queue=[fault])
    raw = requests.post(emulator.url + "/api/v1/provisioning/contact-points", json=body,
                        headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert all(c in raw for c in CANARIES), raw  # the echo is there (in its encoding)
    if fault == "echo500_url":
        assert "hooks.slack.com%2Fservices%2FT0CANARY1" in raw
    elif fault == "echo500_go":
        assert "\\u0026key=CanarySmsKey77" in raw and "\\/services\\/" in raw
    elif fault == "echo500_bare":
        assert "https://hooks" not in raw and "hooks.slack.com/services/T0CANARY1" in raw
    scrubbed = client.scrub(raw)
    assert [c for c in CANARIES if c in scrubbed] == [] and TOKEN not in scrubbed
    assert "[REDACTED]" in scrubbed


@pytest.mark.parametrize("fault", ECHOES[1:])
def test_upload_errors_show_no_part_of_a_secret_however_it_was_echoed(proj, emulator, fault):
    # the listing passes, then each of the three creates is echoed, its secret setting in view
    emulator.set_faults(paths=r"^/api/v1/provisioning/contact-points$", queue=["ok"] + [fault] * 3)
    r = cli(proj, emulator, "upload", "--env", "production", "--only", "alerting")
    assert r.exit_code == 1 and r.stderr.count("[REDACTED]") >= 3, r.output
    assert r.stderr.count("request was POST /api/v1/provisioning/contact-points body=") == 3
    assert [c for c in CANARIES if c in shown(r)] == []


@pytest.mark.parametrize("text", [
    "T0CANARY1/B0CANARY2/CanarySlackToken24chars",                       # the path token alone
    "CanarySlackToken24chars",                                          # its last segment
    "hooks.slack.com/services/T0CANARY1/B0CANARY2/CanarySlackToken24chars",  # no scheme
    "https%3A%2F%2Fhooks.slack.com%2Fservices%2FT0CANARY1%2FB0CANARY2%2FCanarySlackToken24chars",
    "https%253A%252F%252Fhooks.slack.com%252Fservices%252FT0CANARY1%252FB0CANARY2%252FCanarySlackToken24chars",
    "https:\\/\\/hooks.slack.com\\/services\\/T0CANARY1\\/B0CANARY2\\/CanarySlackToken24chars",
    "to=+821055501234\\u0026key=CanarySmsKey77",                         # Go's JSON
    "to=%2B821055501234&amp;key=CanarySmsKey77",                         # form-encoded, then HTML
    "+821055501234", "%2b821055501234",
    "oncall-canary%40raymontology.example", "cto-canary@raymontology.example",
])
def test_the_scrubber_knows_the_significant_parts_in_every_encoding(text):
    scrub = Scrubber(SECRETS.values())
    out = scrub(f"error: {text} (end)")
    assert out.startswith("error: ") and out.endswith(" (end)") and "[REDACTED]" in out
    assert [c for c in CANARIES if c in out] == []


def test_short_or_common_parts_are_left_alone():
    scrub = Scrubber(["https://sms.example/hook?id=1&key=CanarySmsKey77"])
    assert scrub("POST /hook failed: id=1 is unknown") == "POST /hook failed: id=1 is unknown"


# --- tokens that cannot be a header -------------------------------------------------------------
@pytest.mark.parametrize("name, value, kind", [
    ("GRAFANA_TOKEN", "glsa_Canary\nX-Injected: 1", "a line break"),
    ("GRAFANA_TOKEN", "glsa_Canary\rCanary", "a line break"),
    ("GRAFANA_TOKEN", "glsa_Canary Canary", "a space"),
    ("GRAFANA_TOKEN", "glsa_Canary\x00Canary", "a control character"),
    ("GRAFANA_TOKEN", "glsa_Canäry", "a non-ASCII character"),
    ("SM_TOKEN", "sm_Canary\nCanary", "a line break"),
    ("MIMIR_TOKEN", "glc_Canary\nCanary", "a line break"),
    ("MIMIR_USER", "42\n43", "a line break"),
])
def test_a_credential_that_cannot_be_a_header_is_refused_by_name_never_shown(proj, name, value, kind):
    environ = {"GRAFANA_TOKEN": TOKEN, "MIMIR_URL": "https://mimir.example", "MIMIR_USER": "42",
               "MIMIR_TOKEN": "glc_ok", name: value}
    with pytest.raises(ConfigError) as info:
        load_environment(proj, "old" if name.startswith("MIMIR") else "production", environ)
    message = str(info.value)
    assert message.startswith(f"{name} holds {kind} at position ") and "nothing was sent" in message
    assert "Canary" not in message and "Injected" not in message and "43" not in message


def test_the_cli_exits_2_on_a_token_with_a_line_break_without_a_traceback(proj, emulator):
    r = cli(proj, emulator, "upload", "--env", "production", GRAFANA_TOKEN="glsa_Canary\nCanary")
    assert r.exit_code == 2 and r.stderr.startswith("error: GRAFANA_TOKEN holds a line break"), r.output
    assert "Canary" not in shown(r) and "Traceback" not in shown(r)
    assert emulator.log == []  # nothing was sent
    r = cli(proj, emulator, "upload", "--env", "production", GRAFANA_TOKEN=TOKEN + "\n")  # $(cat file): fine
    assert r.exit_code == 0, r.output


def test_the_client_itself_refuses_such_a_token(emulator):
    with pytest.raises(ConfigError, match="the token holds a line break") as info:
        GrafanaClient(emulator.url, "glsa_Canary\nCanary")
    assert "Canary" not in str(info.value)


# --- credentials inside URLs --------------------------------------------------------------------
@pytest.mark.parametrize("var, url", [
    ("GRAFANA_URL", "https://bob:hunter2secret@grafana.example"),
    ("GRAFANA_URL", "http://bob:hunter2secret@grafana.example"),          # plain http too
    ("GRAFANA_URL", "https://bob:hunter2secret@[::1"),                     # not even parseable
    ("GRAFANA_URL", "ftp://bob:hunter2secret@grafana.example"),            # not http(s)
    ("SM_URL", "https://bob:hunter2secret@synthetic-monitoring-api.example"),
    ("MIMIR_URL", "https://42:hunter2secret@prometheus.example/api/prom"),
    ("MIMIR_ALERTMANAGER_URL", "http://42:hunter2secret@alertmanager.example"),
])
def test_a_url_with_credentials_is_refused_and_shown_without_them(proj, var, url):
    environ = {"GRAFANA_TOKEN": TOKEN, "MIMIR_URL": "https://mimir.example", "MIMIR_USER": "42",
               "MIMIR_TOKEN": "glc_ok", var: url}
    with pytest.raises(ConfigError) as info:
        load_environment(proj, "old" if var.startswith("MIMIR") else "production", environ)
    assert "hunter2secret" not in str(info.value) and "bob" not in str(info.value)
    assert var in str(info.value) and "[REDACTED]@" in str(info.value)


def test_the_client_never_shows_url_credentials_in_a_401_or_a_failure(emulator):
    url = emulator.url.replace("http://", "http://bob:hunter2secret@")
    client = GrafanaClient(url, "glsa_UnknownUnknownUnknownUnknownUnkn_00000000", retries=0)
    with pytest.raises(AuthError, match="GRAFANA_TOKEN is invalid") as info:
        client.check_token()
    assert "hunter2secret" not in str(info.value) and "[REDACTED]@127.0.0.1" in str(info.value)
    assert "hunter2secret" not in repr(client)
    emulator.set_faults(queue=["echo500_bare"])
    with pytest.raises(Exception) as info:
        GrafanaClient(url, TOKEN, retries=0).request("GET", "/api/org")
    assert "hunter2secret" not in str(info.value)
    dead = GrafanaClient("http://bob:hunter2secret@127.0.0.1:9", TOKEN, retries=0)
    with pytest.raises(GrafanaUnreachable) as info:
        dead.request("GET", "/api/org")
    assert "hunter2secret" not in str(info.value)


def test_redact_url():
    assert redact_url("https://u:p@h.example:8443/x?y=1") == "https://[REDACTED]@h.example:8443/x?y=1"
    assert redact_url("https://h.example/a@b") == "https://h.example/a@b"  # an @ in the path is no userinfo
    assert redact_url("not a url") == "not a url"


# --- proxies -------------------------------------------------------------------------------------
class RecordingProxy:
    """A 'proxy' on loopback that records what it is sent and answers 403."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.received: list[bytes] = []
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.received.append(data)  # before answering: the client may look at once
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        """Stop listening for good: shutdown wakes the blocked accept (a bare close would leave
        it listening on the port), then the thread ends."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()


@pytest.fixture
def proxy(monkeypatch):
    p = RecordingProxy()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, p.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield p
    p.close()


def test_a_plain_http_target_never_goes_through_an_environment_proxy(proj, emulator, proxy):
    """requests would hand the request, bearer token in clear, to HTTP_PROXY/ALL_PROXY."""
    assert requests.utils.get_environ_proxies(emulator.url)  # requests itself would use the proxy
    r = CliRunner().invoke(main, ["--root", str(proj), "upload", "--env", "production", "--only", "dashboards"],
                           env={"GRAFANA_URL": emulator.url, "GRAFANA_TOKEN": TOKEN, **os.environ})
    assert r.exit_code == 0, r.output
    assert proxy.received == [] and emulator.dashboards


def test_an_https_target_is_tunnelled_so_the_proxy_never_sees_the_token(proxy):
    client = GrafanaClient("https://grafana.invalid", TOKEN, retries=0)
    with pytest.raises(GrafanaUnreachable) as info:
        client.request("GET", "/api/org")
    assert TOKEN not in str(info.value)
    (sent,) = proxy.received
    assert sent.startswith(b"CONNECT grafana.invalid:443 ") and TOKEN.encode() not in sent
    assert b"Authorization" not in sent


# --- dashgen alertmanager --out ----------------------------------------------------------------
SMTP = {"RAYMONTOLOGY_SMTP_SMARTHOST": "smtp.example:587", "RAYMONTOLOGY_SMTP_FROM": "alerts@example.invalid",
        "RAYMONTOLOGY_SMTP_USERNAME": "alerts", "RAYMONTOLOGY_SMTP_PASSWORD": "CanarySmtpPassword"}


def am(proj, out: Path):
    return cli(proj, None, "alertmanager", "--out", str(out), **SMTP)


def world_readable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_an_existing_world_readable_file_is_replaced_by_an_owner_only_one(proj, tmp_path):
    out = tmp_path / "am"
    out.mkdir()
    old = world_readable(out / "alertmanager.yml", "old\n")
    hard = tmp_path / "hardlink"
    os.link(old, hard)  # another name for the old file: it must not receive the secrets
    r = am(proj, out)
    assert r.exit_code == 0, r.output
    assert (old.stat().st_mode & 0o777) == 0o600 and "CanarySmtpPassword" in old.read_text()
    assert hard.read_text() == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["alertmanager.yml", "raymontology.tmpl"]  # no temp left


def test_a_symlinked_file_is_refused_and_its_target_untouched(proj, tmp_path):
    out = tmp_path / "am"
    out.mkdir()
    target = world_readable(tmp_path / "elsewhere.txt", "someone else's\n")
    (out / "alertmanager.yml").symlink_to(target)
    r = am(proj, out)
    assert r.exit_code == 1 and "is a symbolic link" in r.stderr, r.output
    assert target.read_text() == "someone else's\n" and (out / "alertmanager.yml").is_symlink()
    assert "CanarySmtpPassword" not in shown(r)
    assert [p.name for p in out.iterdir()] == ["alertmanager.yml"]  # nothing else written


def test_a_symlinked_folder_is_refused(proj, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "am").symlink_to(real)
    r = am(proj, tmp_path / "am")
    assert r.exit_code == 1 and "is a symbolic link" in r.stderr and str(real) in r.stderr
    assert list(real.iterdir()) == []


def test_a_failure_leaves_the_old_files_and_no_temporary_file(proj, tmp_path):
    out = tmp_path / "am"
    out.mkdir()
    (out / "alertmanager.yml").write_text("old\n")
    (out / "raymontology.tmpl").mkdir()  # the second file cannot be replaced
    r = am(proj, out)
    assert r.exit_code == 1, r.output
    assert (out / "alertmanager.yml").read_text() == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["alertmanager.yml", "raymontology.tmpl"]


def test_a_new_folder_is_owner_only(proj, tmp_path):
    r = am(proj, tmp_path / "new" / "am")
    assert r.exit_code == 0, r.output
    assert ((tmp_path / "new" / "am").stat().st_mode & 0o777) == 0o700


# --- $VAR only in secret fields ------------------------------------------------------------------
def test_a_receiver_name_cannot_pull_a_secret_into_the_alertmanager_config(proj, tmp_path):
    path = proj / "rendered" / "alerting" / "alertmanager.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["receivers"][0]["name"] = "$SLACK_WEBHOOK_URL"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = am(proj, tmp_path / "am")
    assert r.exit_code == 2, r.output
    assert "alertmanager.yaml: receivers[0].name refers to $SLACK_WEBHOOK_URL" in r.stderr
    assert "only secret fields" in r.stderr and not (tmp_path / "am").exists()
    assert [c for c in CANARIES if c in shown(r)] == []


def test_a_contact_point_name_or_title_cannot_refer_to_a_secret(proj, emulator):
    path = proj / "rendered" / "alerting" / "contact-points.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["contactPoints"][1]["receivers"][0]["settings"]["title"] = "see ${RAYMONTOLOGY_SMS_WEBHOOK_URL}"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = cli(proj, emulator, "upload", "--env", "production", "--as-rendered")  # a hand-edited rendered/
    assert r.exit_code == 2 and "settings.title refers to $RAYMONTOLOGY_SMS_WEBHOOK_URL" in r.stderr, r.output
    assert emulator.log == [] and [c for c in CANARIES if c in shown(r)] == []


def test_secret_fields_are_filled_and_go_template_variables_are_not_references():
    from generator.notifications import fill, references

    doc = {"receivers": [{"name": "r", "webhook_configs": [{"url": "$HOOK"}],
                          "email_configs": [{"to": "${MAILS}", "text": "{{ $labels.x }} {{ $value }}"}]}]}
    assert references(doc) == ["HOOK", "MAILS"]
    filled = fill(doc, {"HOOK": "https://h/x", "MAILS": "a@b"}, "here")
    assert filled["receivers"][0]["webhook_configs"][0]["url"] == "https://h/x"
    assert filled["receivers"][0]["email_configs"][0] == {"to": "a@b", "text": "{{ $labels.x }} {{ $value }}"}
    assert json.dumps(doc).count("$HOOK") == 1  # the input is not changed
