"""The Grafana client and environments.toml, each point against real HTTP where HTTP is involved."""

from __future__ import annotations

import sys
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from grafana_emulator.fixtures import TOKEN, emulator  # noqa: E402,F401

from generator.environments import check_url, load_environment  # noqa: E402
from generator.errors import ConfigError  # noqa: E402
from generator.grafana.client import GrafanaAPIError, GrafanaClient, GrafanaUnreachable, retry_after_seconds  # noqa: E402
from generator.grafana.folders import folder_uid  # noqa: E402

ENVS = """
[production]
grafana_url = "https://raymontology.grafana.net"
folder = "Raymontology/Production"
datasource_uid = "grafanacloud-prom"
alerting = "grafana"

[old]
grafana_url = "https://old.grafana.net"
folder = "Old"
alerting = "mimir"

[typo]
grafana_url = "https://x.grafana.net"
folder = "X"
alerting = "loki"
"""


@pytest.fixture
def root(tmp_path):
    (tmp_path / "environments.toml").write_text(ENVS)
    return tmp_path


# --- environments ------------------------------------------------------------------------------
def test_environment_reads_the_table_and_secrets_from_the_environment(root):
    env = load_environment(root, "production", {"GRAFANA_TOKEN": TOKEN})
    assert (env.grafana_url, env.folder_path, env.datasource_uid, env.alerting) == (
        "https://raymontology.grafana.net", ("Raymontology", "Production"), "grafanacloud-prom", "grafana")
    assert env.token == TOKEN and TOKEN not in repr(env)
    env = load_environment(root, "production", {"GRAFANA_TOKEN": TOKEN, "GRAFANA_URL": "http://127.0.0.1:3000/"})
    assert env.grafana_url == "http://127.0.0.1:3000"


def test_mimir_alertmanager_url_defaults_to_the_mimir_host(root):
    environ = {"GRAFANA_TOKEN": TOKEN, "MIMIR_URL": "https://prometheus-prod-1.grafana.net/api/prom",
               "MIMIR_USER": "42", "MIMIR_TOKEN": "glc_x"}
    assert load_environment(root, "old", environ).mimir_alertmanager_url == "https://prometheus-prod-1.grafana.net"
    env = load_environment(root, "old", {**environ, "MIMIR_ALERTMANAGER_URL": "https://alertmanager-1.grafana.net/"})
    assert env.mimir_alertmanager_url == "https://alertmanager-1.grafana.net"


@pytest.mark.parametrize("name,environ,fragment", [
    ("staging", {"GRAFANA_TOKEN": TOKEN}, "unknown environment 'staging' (known: old, production, typo)"),
    ("production", {}, "GRAFANA_TOKEN is not set"),
    ("production", {"GRAFANA_TOKEN": "  "}, "GRAFANA_TOKEN is not set"),
    ("old", {"GRAFANA_TOKEN": TOKEN}, "set MIMIR_URL, MIMIR_USER, MIMIR_TOKEN"),
    ("typo", {"GRAFANA_TOKEN": TOKEN}, "alerting must be one of grafana, mimir, not 'loki'"),
    ("production", {"GRAFANA_TOKEN": TOKEN, "GRAFANA_URL": "http://grafana.internal:3000"}, "plain http"),
    ("production", {"GRAFANA_TOKEN": TOKEN, "GRAFANA_URL": "ftp://x"}, "not an http(s) URL"),
])
def test_environment_errors_are_config_errors_naming_the_problem(root, name, environ, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        load_environment(root, name, environ)
    assert fragment in str(info.value)
    assert TOKEN not in str(info.value)


def test_a_missing_environments_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="environments.toml: not found"):
        load_environment(tmp_path, "production", {"GRAFANA_TOKEN": TOKEN})


@pytest.mark.parametrize("url,ok", [("http://127.0.0.1:1", True), ("http://localhost", True), ("http://[::1]:80", True),
                                    ("https://example.com", True), ("http://10.0.0.1", False),
                                    ("http://example.com", False)])
def test_plain_http_only_on_loopback(url, ok):
    if ok:
        assert check_url(url, "u") == url
    else:
        with pytest.raises(ConfigError):
            check_url(url, "u")


# --- folder uids --------------------------------------------------------------------------------
def test_folder_uids_are_deterministic_valid_and_distinct():
    a = folder_uid(("Raymontology", "Production"))
    assert a == folder_uid(["Raymontology ", "Production"])
    assert a != folder_uid(("Raymontology", "Staging")) != folder_uid(("Raymontology",))
    import re

    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", a) and a.startswith("dashgen-")


# --- client ---------------------------------------------------------------------------------------
def test_retry_after_in_seconds_or_as_an_http_date():
    assert retry_after_seconds("3") == 3.0
    assert 8 <= retry_after_seconds(formatdate(time.time() + 10, usegmt=True)) <= 10
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


@pytest.mark.parametrize("body,ctype,status,expect", [
    ('{"message":"Dashboard not found"}', "application/json", 404, ("", "Dashboard not found")),
    ('{"status":"version-mismatch","message":"The dashboard has been changed by someone else"}', "application/json",
     412, ("version-mismatch", "The dashboard has been changed by someone else")),
    ('{"statusCode":400,"messageId":"folder.maximum-depth-reached","message":"Maximum nested folder depth reached",'
     '"traceID":"t1"}', "application/json", 400, ("folder.maximum-depth-reached", "Maximum nested folder depth reached")),
    ("group does not exist\n", "text/plain", 404, ("", "group does not exist")),
    ("", "text/plain", 404, ("", "Not Found")),
    ("<html><head><title>Grafana is loading</title></head><body>...</body></html>", "text/html", 400,
     ("", "Grafana is loading")),
])
def test_every_error_shape_becomes_a_typed_error(emulator, body, ctype, status, expect):
    from grafana_emulator.server import _Handler

    original = _Handler.route

    def canned(self, method, path, query, headers, raw):
        return status, body, ctype

    _Handler.route = canned
    try:
        client = GrafanaClient(emulator.url, TOKEN, retries=0)
        with pytest.raises(GrafanaAPIError) as info:
            client.request("GET", "/api/anything")
    finally:
        _Handler.route = original
    err = info.value
    assert (err.status, err.code, err.message) == (status, *expect)
    assert str(err).startswith(f"GET /api/anything: Grafana answered {status}")
    if "traceID" in body:
        assert err.trace_id == "t1" and "(traceID t1)" in str(err)


def test_errors_name_the_service_that_answered(emulator):
    """A client for another API (SM, Mimir) names it, also for a 200 that is not JSON."""
    client = GrafanaClient(emulator.url, TOKEN, retries=0, service="Synthetic Monitoring")
    emulator.set_faults(queue=["html200", "echo500"])
    with pytest.raises(GrafanaAPIError, match=r"^GET /api/org: Synthetic Monitoring answered 200: unexpected answer"):
        client.get_json("/api/org")
    with pytest.raises(GrafanaAPIError, match=r"^GET /api/org: Synthetic Monitoring answered 500"):
        client.get_json("/api/org")


@pytest.mark.parametrize("body", [b'{"uid": NaN}', b'{"n": Infinity}', b"[" * 5000])
def test_an_answer_that_is_not_strict_json_is_an_api_error(body):
    """Grafana's Go decoder writes no NaN or Infinity and no runaway nesting: a server that
    does is not Grafana, and its answer is refused rather than read as a float (or a crash)."""
    resp = requests.Response()
    resp.status_code, resp._content, resp.url = 200, body, "http://127.0.0.1:1/api/dashboards/uid/x"
    with pytest.raises(GrafanaAPIError, match="unexpected answer: not JSON"):
        GrafanaClient("http://127.0.0.1:1", TOKEN, retries=0).decode(resp)


def test_retries_stop_and_report_after_the_budget(emulator):
    emulator.set_faults(queue=["503"] * 10)
    client = GrafanaClient(emulator.url, TOKEN, retries=2, backoff=0.01)
    with pytest.raises(GrafanaAPIError, match="503: Grafana is loading"):
        client.request("GET", "/api/org")
    assert len(emulator.log) == 3 and client.retried == 2


def test_connection_refused_is_unreachable_without_secrets():
    client = GrafanaClient("http://127.0.0.1:9", TOKEN, retries=1, backoff=0.01)
    with pytest.raises(GrafanaUnreachable, match="connection failed after 2 attempts") as info:
        client.request("GET", "/api/org")
    assert TOKEN not in str(info.value) and info.value.status is None


def test_backoff_grows_and_is_jittered(emulator):
    sleeps = []
    emulator.set_faults(queue=["502"] * 4)
    client = GrafanaClient(emulator.url, TOKEN, retries=4, backoff=0.1, backoff_cap=10, sleep=sleeps.append)
    client.request("GET", "/api/org")
    assert len(sleeps) == 4
    for i, s in enumerate(sleeps):  # equal jitter: between half and all of base * 2^i
        assert 0.1 * 2 ** i / 2 <= s <= 0.1 * 2 ** i
    assert len({round(s, 6) for s in sleeps}) == 4


def test_basic_auth_credentials_are_scrubbed_too(emulator):
    client = GrafanaClient(emulator.url, "secret-pw", basic_user="12345", retries=0)
    emulator.set_faults(queue=["echo500"])
    with pytest.raises(GrafanaAPIError) as info:
        client.request("GET", "/api/org")
    assert "[REDACTED]" in str(info.value)
    assert "secret-pw" not in str(info.value) and "MTIzNDU6c2VjcmV0LXB3" not in str(info.value)


@pytest.mark.parametrize("given,canonical", [("90s", "1m30s"), ("60m", "1h"), ("7d", "1w"), ("90d", "90d"),
                                             ("1h30m", "1h30m"), ("1500ms", "1s500ms"), ("0s", "0s"), ("x", "x")])
def test_rule_durations_are_written_the_way_prometheus_prints_them(given, canonical):
    from generator.durations import canonical as printed
    from generator.grafana.rulegroups import normalize_group

    assert printed(given) == canonical
    g = normalize_group({"name": "g", "interval": "60s", "limit": 3,
                         "rules": [{"alert": "A", "expr": "up", "for": "0s", "labels": {}}]})
    assert g == {"name": "g", "interval": "1m", "rules": [{"alert": "A", "expr": "up"}]}


def test_a_netrc_entry_never_replaces_the_token(emulator, tmp_path, monkeypatch):
    host = emulator.url.split("//")[1].split(":")[0]
    (tmp_path / ".netrc").write_text(f"machine {host} login someone password other\n")
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert GrafanaClient(emulator.url, TOKEN, retries=0).request("GET", "/api/org").status_code == 200
    assert TOKEN not in repr(GrafanaClient(emulator.url, TOKEN))


@pytest.mark.parametrize("body", [
    '{"message":"Internal Server Error","error":"settings: {\\"url\\":\\"https://h/x?a=1\\u0026key=S3cr3t\\"}"}',
    "plain echo https://h/x?a=1&key=S3cr3t " + "x" * 400,
    '{"message":"' + "y" * 290 + ' https://h/x?a=1&key=S3cr3t"}',
])
def test_secrets_are_scrubbed_before_truncation_and_after_json_decoding(body):
    import requests as rq

    from generator.grafana.client import parse_error

    resp = rq.Response()
    resp.status_code, resp._content, resp.encoding = 500, body.encode(), "utf-8"
    secret = "https://h/x?a=1&key=S3cr3t"
    code, message, trace = parse_error(resp, lambda t: t.replace(secret, "[REDACTED]"))
    assert "S3cr3t" not in message and "[REDACTED]" in message
