"""Grafana Cloud stacks per environment: environments.toml plus secrets from the environment.

    env = load_environment(root, "production")        # reads <root>/environments.toml
    env.grafana_url, env.folder_path, env.datasource_uid, env.alerting

Secrets come only from process environment variables, never from files in git:
`GRAFANA_TOKEN` (service-account token), `GRAFANA_URL` (overrides `grafana_url`), and for
`alerting = "mimir"` also `MIMIR_URL`, `MIMIR_USER`, `MIMIR_TOKEN`, and optionally
`MIMIR_ALERTMANAGER_URL` (overrides `mimir_alertmanager_url`; default: MIMIR_URL's host); for
the Synthetic Monitoring checks (optional: upload skips them with a note when unset) `SM_URL`
(overrides `sm_url`) and `SM_TOKEN`. Tokens are kept out of
`repr()` so a traceback or a debug print of an Environment never shows them.

Two environments may share one Grafana stack (the same `grafana_url`) when each has its own
`folder` and all but one have a `suffix` (say `suffix = "-staging"`): the suffix goes onto
their dashboard uids, contact-point and template names, and such an environment owns one
branch of the notification policy tree instead of the whole tree (grafana/scope.py). Two
environments on one stack that would share uids or a folder are refused here, before
either can overwrite the other; so is a `suffix` with `alerting = "mimir"` (Mimir's
Alertmanager holds one configuration per tenant, which cannot be shared).

Plain http:// is refused for anything but loopback: a token must not cross a network in clear
(nor through a proxy: the client reaches a plain-http URL directly, see grafana/client.py).
A URL carrying `user:password@` is refused, and every message shows URLs without it; a
token holding a character an HTTP header cannot carry (a line break) is refused by name.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from generator.errors import ConfigError
from generator.grafana.redact import check_credential, redact_url
from generator.safenames import check_name

ENV_FILE = "environments.toml"
ALERTING_MODES = ("grafana", "mimir")
KNOWN_KEYS = {"grafana_url", "folder", "datasource_uid", "alerting", "mimir_url", "mimir_namespace",
              "mimir_alertmanager_url", "suffix",
              "health_url", "sm_url",  # the SM check's target; the SM API base (SM_URL overrides)
              "dashboard_format", "allow_ui_edits"}  # what upload sends (grafana/apis.py)
DASHBOARD_FORMATS = ("classic", "v2")
#: Further keys an environment may set: targets the project's synthetics/ checks name as `target_key` (`<service>_url`).
TARGET_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,40}_url")
SUFFIX_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")  # goes into uids: Grafana's uid alphabet, kept short


@dataclass(frozen=True)
class Environment:
    name: str
    grafana_url: str
    folder: str  # "Acme/Production": nested folders, outermost first
    datasource_uid: str = "grafanacloud-prom"
    alerting: str = "grafana"
    token: str = field(default="", repr=False)
    mimir_url: str = ""
    mimir_user: str = ""
    mimir_token: str = field(default="", repr=False)
    mimir_namespace: str = ""
    #: Mimir's Alertmanager (Grafana Cloud: its own alertmanager-... host); "" = MIMIR_URL's host.
    mimir_alertmanager_url: str = ""
    sm_url: str = ""  # Synthetic Monitoring API base; "" with sm_token: SM checks are skipped
    sm_token: str = field(default="", repr=False)
    #: Appended to dashboard uids, contact-point and template names ("" keeps rendered/'s);
    #: with one, the environment owns a branch of the policy tree, not the whole tree.
    suffix: str = ""
    #: The stack's address as people open it (environments.toml's grafana_url, not a
    #: GRAFANA_URL override): alerts' dashboard links point there. "" = grafana_url.
    public_url: str = ""
    #: What upload sends through Grafana's resource API: "classic" (v1) or "v2" (Grafana 13's
    #: dynamic dashboards model; needs /apis/dashboard.grafana.app/v2). rendered/ stays classic.
    dashboard_format: str = "classic"
    #: grafana.app/managerAllowsEdits on uploaded dashboards: may people save them in the UI?
    allow_ui_edits: bool = True

    @property
    def owner(self) -> str:
        """What dashgen marks this environment's objects with: its folder path, unique per
        stack (grafana/scope.py)."""
        return "/".join(self.folder_path)

    @property
    def owns_policy_root(self) -> bool:
        """True: the whole notification policy tree is this environment's; False (a suffix):
        only the branch matched on its owner label."""
        return not self.suffix

    @property
    def sm_missing(self) -> list[str]:
        """The SM variables that are not set (empty: Synthetic Monitoring can be synced)."""
        return [n for n, v in (("SM_URL", self.sm_url), ("SM_TOKEN", self.sm_token)) if not v]

    @property
    def folder_path(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.folder.split("/") if p.strip())


def check_url(url: str, what: str) -> str:
    """Return `url` without a trailing slash; refuse anything but https, or http on loopback,
    and credentials inside the URL. Messages show the URL with its credentials redacted."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # "http://[::1": not even parseable
        raise ConfigError(f"{what} {shown!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not hostname or any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigError(f"{what} {shown!r} is not an http(s) URL")
    if "@" in parts.netloc:
        raise ConfigError(f"{what} {shown!r} carries a user name or password: remove it (the token is the "
                          f"credential, and a URL is shown in messages)")
    if parts.scheme == "http" and not is_loopback(hostname):
        raise ConfigError(
            f"{what} {shown!r} uses plain http: refused for anything but loopback (use https://)"
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def credential(environ: Mapping[str, str], name: str) -> str:
    """Environment variable `name`, surrounding whitespace stripped (a trailing newline from
    `$(cat file)`), "" when unset; ConfigError if it cannot be an HTTP header value."""
    return check_credential(name, environ.get(name, "").strip())


def load_environments(root: Path) -> dict[str, dict]:
    path = Path(root) / ENV_FILE
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    envs = {k: v for k, v in data.items() if isinstance(v, dict)}
    for name in envs:  # a name becomes rendered/synthetics/<name>/ and part of rule namespaces
        check_name(name, "environment", str(path))
    return envs


def load_environment(root: Path, name: str, environ: Mapping[str, str] | None = None) -> Environment:
    """The environment `name`, validated, with secrets and overrides from `environ`."""
    environ = os.environ if environ is None else environ
    envs = load_environments(root)
    if name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise ConfigError(f"unknown environment {name!r} (known: {known}) in {ENV_FILE}")
    table = envs[name]
    # `<name>_url` keys beyond the known ones are check targets a synthetics/ check names as its
    # `target_key`: render reads them, upload needs none.
    unknown = {k for k in set(table) - KNOWN_KEYS if not TARGET_KEY_RE.fullmatch(k)}
    if unknown:
        raise ConfigError(f"[{name}] in {ENV_FILE}: unknown keys {', '.join(sorted(unknown))}")
    url = environ.get("GRAFANA_URL") or table.get("grafana_url", "")
    if not url:
        raise ConfigError(f"[{name}] in {ENV_FILE}: grafana_url is missing (or set GRAFANA_URL)")
    url = check_url(url, "GRAFANA_URL" if environ.get("GRAFANA_URL") else f"[{name}] grafana_url")
    folder = str(table.get("folder", "")).strip()
    if not [p for p in folder.split("/") if p.strip()]:
        raise ConfigError(f"[{name}] in {ENV_FILE}: folder is missing or empty")
    alerting = table.get("alerting", "grafana")
    if alerting not in ALERTING_MODES:
        raise ConfigError(f"[{name}] in {ENV_FILE}: alerting must be one of {', '.join(ALERTING_MODES)}, not {alerting!r}")
    suffix = str(table.get("suffix", ""))
    if suffix and not SUFFIX_RE.fullmatch(suffix):
        raise ConfigError(f"[{name}] in {ENV_FILE}: suffix {suffix!r} must be 1 to 16 of A-Z a-z 0-9 _ - "
                          f"(it goes into dashboard uids)")
    if suffix and alerting == "mimir":
        raise ConfigError(f"[{name}] in {ENV_FILE}: a suffix needs alerting = \"grafana\": Mimir's Alertmanager "
                          f"holds one configuration per tenant, which two environments would overwrite")
    dashboard_format = table.get("dashboard_format", "classic")
    if dashboard_format not in DASHBOARD_FORMATS:
        raise ConfigError(f"[{name}] in {ENV_FILE}: dashboard_format must be one of {', '.join(DASHBOARD_FORMATS)}, "
                          f"not {dashboard_format!r}")
    allow_ui_edits = table.get("allow_ui_edits", True)
    if not isinstance(allow_ui_edits, bool):
        raise ConfigError(f"[{name}] in {ENV_FILE}: allow_ui_edits must be true or false, not {allow_ui_edits!r}")
    check_shared_stack(envs, name)
    token = credential(environ, "GRAFANA_TOKEN")
    if not token:
        raise ConfigError(
            f"GRAFANA_TOKEN is not set: export a Grafana service-account token for environment {name!r}"
        )
    mimir_url = mimir_user = mimir_token = am_url = ""
    if alerting == "mimir":
        mimir_url = environ.get("MIMIR_URL") or table.get("mimir_url", "")
        mimir_user = credential(environ, "MIMIR_USER")
        mimir_token = credential(environ, "MIMIR_TOKEN")
        missing = [n for n, v in (("MIMIR_URL", mimir_url), ("MIMIR_USER", mimir_user), ("MIMIR_TOKEN", mimir_token)) if not v]
        if missing:
            raise ConfigError(f"environment {name!r} uses alerting = \"mimir\": set {', '.join(missing)}")
        mimir_url = check_url(mimir_url, "MIMIR_URL")
        am_url = environ.get("MIMIR_ALERTMANAGER_URL") or table.get("mimir_alertmanager_url", "")
        if am_url:
            am_url = check_url(am_url, "MIMIR_ALERTMANAGER_URL")
        else:
            parts = urlsplit(mimir_url)
            am_url = f"{parts.scheme}://{parts.netloc}"
    sm_url = environ.get("SM_URL") or table.get("sm_url", "")
    sm_url = check_url(sm_url, "SM_URL" if environ.get("SM_URL") else f"[{name}] sm_url") if sm_url else ""
    return Environment(
        name=name,
        grafana_url=url,
        folder=folder,
        datasource_uid=table.get("datasource_uid", "grafanacloud-prom"),
        alerting=alerting,
        token=token,
        mimir_url=mimir_url,
        mimir_user=mimir_user,
        mimir_token=mimir_token,
        mimir_namespace=table.get("mimir_namespace", ""),
        mimir_alertmanager_url=am_url,
        sm_url=sm_url,
        sm_token=credential(environ, "SM_TOKEN"),
        suffix=suffix,
        public_url=str(table.get("grafana_url") or url).rstrip("/"),
        dashboard_format=dashboard_format,
        allow_ui_edits=allow_ui_edits,
    )


def stack_key(url: str) -> str:
    """Two spellings of one stack's URL give one key (case of scheme and host, a trailing /)."""
    try:
        parts = urlsplit(str(url).strip())
    except ValueError:
        return str(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def check_shared_stack(envs: dict[str, dict], name: str) -> None:
    """Refuse environment `name` if another one in `envs` shares its stack (the same
    grafana_url) and they would overwrite each other: the same suffix (so the same dashboard
    uids, contact points and policy tree) or the same folder (the same rule namespace and
    prune candidates)."""
    mine = envs[name]
    if not mine.get("grafana_url"):
        return
    for other, table in envs.items():
        if other == name or stack_key(table.get("grafana_url", "")) != stack_key(mine["grafana_url"]):
            continue
        first, second = sorted((name, other))
        url = redact_url(mine["grafana_url"])
        if str(mine.get("suffix", "")) == str(table.get("suffix", "")):
            raise ConfigError(
                f"environments {first!r} and {second!r} in {ENV_FILE} both upload to {url} with the same "
                f"dashboard uids, contact points and policy tree: give one of them its own suffix "
                f"(e.g. suffix = \"-{other}\" under [{other}]), or its own stack")
        if folder_key(mine) == folder_key(table):
            raise ConfigError(f"environments {first!r} and {second!r} in {ENV_FILE} both use folder "
                              f"{'/'.join(folder_key(mine))!r} on {url}: give each its own folder")


def folder_key(table: dict) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(table.get("folder", "")).split("/") if p.strip())
