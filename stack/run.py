"""The reference stack: real PostgreSQL, Redis, exporters and Prometheus on loopback.

    python -m stack.run            start everything, print the URLs, run until Ctrl-C
    python -m stack.run stop       stop a stack started from this checkout (state in .stack/)

Every process gets a free port on 127.0.0.1 and its own process group; data lives in a
temporary directory removed on stop. Stopping (Ctrl-C, SIGTERM, `stop`, or the end of
the e2e session) ends every process group it started, so nothing is left behind.

Scrape job names come from the project's config (monitoring/config.py, CONFIG.jobs), the
PostgreSQL database is named CONFIG.selectors.database, and Prometheus loads rendered/alerts/*.rules.yaml,
each group's `interval` shortened to the stack's evaluation interval (the only change, but
for the SLO groups, whose windows and `for` run on a clock `slo_time_scale` times faster).

Prometheus sends its alerts to an Alertmanager running the configuration dashgen renders
(rendered/alerting/alertmanager.yaml, from the same definitions), with every wait and
interval divided by `notify_time_scale` (30: Slack's 5 minutes become 10 s) and webhook
sinks (stack/sinks.py) standing in for e-mail, Slack and SMS. The stack's copy also groups
by an `e2e_case` label, so test alerts never share a group with real ones.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from generator import yamlio
from generator import notifications
from generator.config import Config
from generator.project import Project
from stack.timescale import scaled

REPO = Path(__file__).resolve().parent.parent
CONFIG = Project(REPO).config  # monitoring/config.py
STATE_FILE = REPO / ".stack" / "state.json"
PG_BIN = Path(os.environ.get("DASHGEN_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The seed's health-check body match (docs/targets.md §3), as a blackbox regexp (docs/metrics.md §7).
HEALTH_BODY_REGEXP = CONFIG.uptime.body_regexp
#: Notification waits divided by this in the stack (docs/targets.md §3's 5 and 15 minutes -> 10 s, 30 s).
NOTIFY_TIME_SCALE = 30
#: SLO windows and `for` divided by this in the stack (a page's 1 h + 5 min become 2 min + 10 s).
SLO_TIME_SCALE = 30
E2E_CASE_LABEL = "e2e_case"


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Child side of Popen: SIGKILL this process if the stack's process dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen | None = None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def terminate_group(pgid: int, sig: int = signal.SIGTERM, timeout: float = 8.0,
                    proc: subprocess.Popen | None = None) -> None:
    """Signal a whole process group, wait for it to empty, SIGKILL what is left.

    `proc`, the group's leader when we started it, is reaped while waiting: a zombie
    leader still counts as a member of its group.
    """
    if not _group_alive(pgid):
        return
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            proc.poll()
        if not _group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class Stack:
    """Start, fault and stop the reference stack. Usable as a context manager."""

    def __init__(self, config: Config = CONFIG, *, scrape_interval: int = 2, traffic_rate: float = 20.0,
                 rules_dir: Path = REPO / "rendered" / "alerts", traffic: bool = True, quiet: bool = False,
                 notify_time_scale: float = NOTIFY_TIME_SCALE, slo_time_scale: float = SLO_TIME_SCALE):
        self.config = config
        self.notify_time_scale = notify_time_scale
        self.slo_time_scale = slo_time_scale
        self.scrape_interval = scrape_interval
        self.traffic_rate = traffic_rate
        self.rules_dir = Path(rules_dir)
        self.with_traffic = traffic
        self.quiet = quiet
        self.root: Path | None = None
        self.ports: dict[str, int] = {}
        self.services: dict[str, Service] = {}
        self.rule_files: list[Path] = []
        self._stopped = False

    # ------------------------------------------------------------------ helpers
    def log(self, msg: str) -> None:
        if not self.quiet:
            print(f"[stack] {msg}", file=sys.stderr, flush=True)

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['prometheus']}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['alertmanager']}"

    @property
    def sinks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sinks']}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['app']}"

    @property
    def health_url(self) -> str:
        return f"{self.app_url}/health"

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        raise StackError("running as root, but neither user 'postgres' nor 'nobody' exists for PostgreSQL")

    def _spawn(self, svc: Service) -> None:
        logf = open(self.root / "logs" / f"{svc.name}.log", "ab")
        env = {**os.environ, **svc.env}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        svc.proc = subprocess.Popen(
            svc.argv, env=env, cwd=self.root, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True, user=svc.user, preexec_fn=_die_with_parent,
        )
        logf.close()
        self.services[svc.name] = svc
        self._save_state()

    def _stop_service(self, name: str, timeout: float = 8.0) -> None:
        svc = self.services.get(name)
        if svc is None or svc.proc is None:
            return
        terminate_group(svc.proc.pid, svc.stop_signal, timeout, proc=svc.proc)

    def _wait(self, what: str, check, timeout: float = 30.0, service: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if service and self.services[service].proc.poll() is not None:
                raise StackError(f"{service} exited (code {self.services[service].proc.returncode}); "
                                 f"see {self.root}/logs/{service}.log:\n{self.tail(service)}")
            try:
                if check():
                    return
            except Exception as exc:  # noqa: BLE001 - readiness probes fail in many ways
                last = exc
            time.sleep(0.2)
        raise StackError(f"{what} not ready after {timeout:.0f}s ({last}); logs in {self.root}/logs"
                         + (f":\n{self.tail(service)}" if service else ""))

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            return "\n".join((self.root / "logs" / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _save_state(self) -> None:
        STATE_FILE.parent.mkdir(exist_ok=True)
        STATE_FILE.write_text(json.dumps({
            "root": str(self.root), "owner_pid": os.getpid(),
            "groups": {n: [s.proc.pid, s.argv[0]] for n, s in self.services.items() if s.proc is not None},
        }))

    def _http_ok(self, url: str) -> bool:
        return requests.get(url, timeout=1).status_code == 200

    # ------------------------------------------------------------------ services
    def _postgres_service(self) -> Service:
        return Service(
            "postgres",
            [str(PG_BIN / "postgres"), "-D", str(self.root / "pgdata"), "-p", str(self.ports["postgres"]),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.root / 'pgsock'}",
             "-c", "max_connections=50", "-c", "shared_buffers=32MB", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            user=self._run_as(), stop_signal=signal.SIGINT,  # SIGINT = fast shutdown
        )

    def _init_postgres(self) -> None:
        pgdata, sock = self.root / "pgdata", self.root / "pgsock"
        user = self._run_as()
        for d in (pgdata, sock):
            d.mkdir()
            if user:
                shutil.chown(d, user)
        subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"],
            check=True, user=user, cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def start_postgres(self) -> None:
        import psycopg

        self._spawn(self._postgres_service())
        admin = f"host=127.0.0.1 port={self.ports['postgres']} user=postgres dbname=postgres connect_timeout=2"
        self._wait("postgres", lambda: psycopg.connect(admin).close() or True, service="postgres")

    def stop_postgres(self) -> None:
        self._stop_service("postgres")

    def start_redis(self) -> None:
        (self.root / "redis").mkdir(exist_ok=True)
        self._spawn(Service("redis", [
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.ports["redis"]), "--dir",
            str(self.root / "redis"), "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--protected-mode", "yes", "--loglevel", "warning",
            # A Celery broker wants a memory cap that never evicts; it also gives
            # redis_memory_max_bytes a value, as a configured production Redis has.
            "--maxmemory", "64mb", "--maxmemory-policy", "noeviction",
        ]))
        import redis

        client = redis.Redis(port=self.ports["redis"], socket_timeout=1)
        self._wait("redis", client.ping, service="redis")

    def stop_redis(self) -> None:
        self._stop_service("redis")

    def _app_env(self) -> dict[str, str]:
        return {
            "RAYMON_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{self.ports['postgres']}/"
                                   f"{self.config.selectors.database}",
            "RAYMON_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "RAYMON_WORKER_METRICS_PORT": str(self.ports["worker"]),
            "RAYMON_FAULTS_DIR": str(self.root / "faults"),
        }

    def start_app(self) -> None:
        self._spawn(Service("app", [
            sys.executable, "-m", "uvicorn", "stack.app.api:app", "--host", "127.0.0.1",
            "--port", str(self.ports["app"]), "--no-access-log", "--log-level", "warning",
        ], env=self._app_env()))
        self._wait("app", lambda: self._http_ok(self.health_url), service="app")

    def stop_app(self) -> None:
        self._stop_service("app")

    def start_worker(self) -> None:
        self._spawn(Service("worker", [sys.executable, "-m", "stack.app.worker"], env=self._app_env()))
        self._wait("worker", lambda: self._http_ok(f"http://127.0.0.1:{self.ports['worker']}/metrics"),
                   service="worker")

    def stop_worker(self) -> None:
        self._stop_service("worker")

    def _write_configs(self) -> None:
        cfg = self.root / "config"
        cfg.mkdir()
        blackbox = {"modules": {"http_health": {
            "prober": "http",
            "timeout": f"{self.config.thresholds.health_check_timeout_seconds}s",
            "http": {
                "method": "GET",
                "valid_status_codes": [200],
                "fail_if_body_not_matches_regexp": [self.config.uptime.body_regexp],
                "preferred_ip_protocol": "ip4",
                "ip_protocol_fallback": False,
            },
        }}}
        (cfg / "blackbox.yml").write_text(yaml.safe_dump(blackbox, sort_keys=False))

        rules = self.root / "rules"
        rules.mkdir()
        self.rule_files = []
        for src in sorted(self.rules_dir.glob("*.rules.yaml")):
            doc = yamlio.safe_load(src.read_text()) or {}
            for group in doc.get("groups", []):
                group["interval"] = f"{self.scrape_interval}s"
            dst = rules / src.name
            dst.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
            self.rule_files.append(dst)
        self._write_slo_rules(rules)

        jobs = self.config.jobs
        interval = f"{self.scrape_interval}s"

        def static(job: str, port: int, **extra) -> dict:
            return {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}], **extra}

        def probe(job: str, targets: list[dict]) -> dict:
            return {
                "job_name": job,
                "metrics_path": "/probe",
                "params": {"module": ["http_health"]},
                "static_configs": targets,
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": f"127.0.0.1:{self.ports['blackbox']}"},
                ],
            }

        prom = {
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "rule_files": [str(rules / "*.rules.yaml")],
            "scrape_configs": [
                static(jobs.backend, self.ports["app"]),
                static(jobs.worker, self.ports["worker"]),
                static(jobs.postgres, self.ports["postgres_exporter"]),
                static(jobs.redis, self.ports["redis_exporter"]),
                probe(jobs.blackbox, [{"targets": [self.health_url]}]),
                # Issue 11: the same probe labelled like a Synthetic Monitoring check (job = the
                # check's job, instance = its target, one `probe` per location), so the SM-shaped
                # ServiceDown and uptime panel are proven on real data.
                probe(self.config.uptime.check_job, [{"targets": [self.health_url], "labels": {"probe": name}}
                                                     for name in self.config.uptime.probes]),
            ],
        }
        prom["alerting"] = {"alertmanagers": [{"static_configs": [
            {"targets": [f"127.0.0.1:{self.ports['alertmanager']}"]}]}]}
        (cfg / "prometheus.yml").write_text(yaml.safe_dump(prom, sort_keys=False))
        self._write_alertmanager_config(cfg)

    def _write_slo_rules(self, folder: Path) -> None:
        """The SLO groups on the stack's compressed clock (`slo_time_scale`): the rendered files
        with every window and `for` divided, record and alert names unchanged (generator.slo)."""
        from generator import rules as rules_lib
        from generator import slo

        for _rel, s in Project(REPO, self.config).definitions.slos:
            grp = slo.rule_group(self.config, s, time_scale=self.slo_time_scale)
            dst = folder / f"{grp.name}.rules.yaml"
            if dst not in self.rule_files:  # only what rendered/ holds: the stack runs the rendered set
                continue
            doc = rules_lib.group_document(self.config, grp)
            for group in doc["groups"]:
                group["interval"] = f"{self.scrape_interval}s"
            dst.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))

    def _write_alertmanager_config(self, folder: Path) -> None:
        """The rendered Alertmanager configuration, scaled in time, secrets pointing at the sinks.

        Built from the same definitions and code as rendered/alerting/alertmanager.yaml; the
        stack's changes: waits / NOTIFY_TIME_SCALE, the e2e_case grouping label, and e-mail
        sent as a webhook to the e-mail sink (there is no SMTP server here)."""
        cfg = scaled(self.config, self.notify_time_scale)
        loaded = Project(REPO, cfg).definitions
        if loaded.notifications is None:
            raise StackError("alerts/ defines no routing (alerts/routing.py): nothing for Alertmanager to run")
        n = cfg.notifications
        env = {**notifications.placeholders(cfg), n.slack_webhook_env: f"{self.sinks_url}/slack",
               n.sms_webhook_env: f"{self.sinks_url}/sms"}
        files = notifications.alertmanager_files(cfg, loaded.notifications[1], env)
        doc = yamlio.safe_load(files["alertmanager.yml"])
        doc["route"]["group_by"] = [*doc["route"].get("group_by", []), E2E_CASE_LABEL]
        for receiver in doc["receivers"]:
            if receiver.pop("email_configs", None) is not None:
                receiver.setdefault("webhook_configs", []).append({"url": f"{self.sinks_url}/email",
                                                                   "send_resolved": True})
        files["alertmanager.yml"] = yaml.safe_dump(doc, sort_keys=False)
        for name, text in files.items():
            (folder / name).write_text(text)
        amtool = shutil.which("amtool")
        if amtool:
            res = subprocess.run([amtool, "check-config", str(folder / "alertmanager.yml")],
                                 capture_output=True, text=True)
            if res.returncode:
                raise StackError(f"amtool rejects the stack's Alertmanager configuration:\n{res.stdout}{res.stderr}")

    def _check_rules(self) -> None:
        promtool = shutil.which("promtool")
        if promtool and self.rule_files:
            res = subprocess.run([promtool, "check", "rules", *map(str, self.rule_files)],
                                 capture_output=True, text=True)
            if res.returncode:
                raise StackError(f"promtool rejects the rule files:\n{res.stdout}{res.stderr}")

    # ------------------------------------------------------------------ lifecycle
    @staticmethod
    def missing_tools() -> list[str]:
        """Debian packages whose programs the stack needs and cannot find."""
        needs = {
            "postgresql": [str(PG_BIN / "postgres"), str(PG_BIN / "initdb")],
            "redis-server": ["redis-server"],
            "prometheus": ["prometheus"],
            "prometheus-postgres-exporter": ["prometheus-postgres-exporter"],
            "prometheus-redis-exporter": ["prometheus-redis-exporter"],
            "prometheus-blackbox-exporter": ["prometheus-blackbox-exporter"],
            "prometheus-alertmanager": ["prometheus-alertmanager"],
        }
        return [pkg for pkg, progs in needs.items() if not all(shutil.which(p) for p in progs)]

    def start(self) -> "Stack":
        missing = self.missing_tools()
        if missing:
            raise StackError(f"missing Debian packages: {' '.join(missing)} "
                             f"(apt-get install {' '.join(missing)}; .ci/run does it)")
        t0 = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="dashgen-stack-"))
        os.chmod(self.root, 0o755)  # PostgreSQL runs as another user and must reach its data dir
        (self.root / "logs").mkdir()
        (self.root / "faults").mkdir()
        for name in ("postgres", "redis", "app", "worker", "postgres_exporter", "redis_exporter", "blackbox",
                     "prometheus", "alertmanager", "sinks"):
            self.ports[name] = free_port()
        atexit.register(self.stop)
        self._save_state()
        self._write_configs()
        self._check_rules()
        self.log(f"data in {self.root}")

        self._init_postgres()
        self.start_postgres()
        self.start_redis()
        import psycopg

        admin = f"host=127.0.0.1 port={self.ports['postgres']} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.config.selectors.database}"')
        from sqlalchemy import create_engine

        from stack.app import db

        eng = create_engine(self._app_env()["RAYMON_DATABASE_URL"])
        db.create_schema_and_seed(eng)
        eng.dispose()

        pg_dsn = (f"postgresql://postgres@127.0.0.1:{self.ports['postgres']}/{self.config.selectors.database}"
                  "?sslmode=disable")
        self._spawn(Service("postgres_exporter", [
            "prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{self.ports['postgres_exporter']}",
        ], env={"DATA_SOURCE_NAME": pg_dsn}))
        self._spawn(Service("redis_exporter", [
            "prometheus-redis-exporter", f"--redis.addr=redis://127.0.0.1:{self.ports['redis']}",
            f"--web.listen-address=127.0.0.1:{self.ports['redis_exporter']}",
        ]))
        self._spawn(Service("blackbox", [
            "prometheus-blackbox-exporter", f"--config.file={self.root / 'config' / 'blackbox.yml'}",
            f"--web.listen-address=127.0.0.1:{self.ports['blackbox']}",
        ]))
        self.start_app()
        self.start_worker()
        self.start_notifications()
        self._spawn(Service("prometheus", [
            "prometheus", f"--config.file={self.root / 'config' / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.root / 'prometheus'}", "--storage.tsdb.retention.time=1d",
            f"--web.listen-address=127.0.0.1:{self.ports['prometheus']}", "--log.level=warn",
        ]))
        for name in ("postgres_exporter", "redis_exporter", "blackbox"):
            port = self.ports[name]
            self._wait(name, lambda port=port: self._http_ok(f"http://127.0.0.1:{port}/metrics"), service=name)
        self._wait("prometheus", lambda: self._http_ok(f"{self.prometheus_url}/-/ready"), service="prometheus")
        if self.with_traffic:
            self.start_traffic()
        self.log(f"up in {time.monotonic() - t0:.1f}s")
        return self

    def start_notifications(self) -> None:
        """The webhook sinks, then Alertmanager (no clustering) sending to them."""
        self._spawn(Service("sinks", [sys.executable, "-m", "stack.sinks", "--port", str(self.ports["sinks"])]))
        self._wait("sinks", lambda: self._http_ok(f"{self.sinks_url}/received"), service="sinks")
        (self.root / "alertmanager").mkdir(exist_ok=True)
        self._spawn(Service("alertmanager", [
            "prometheus-alertmanager", f"--config.file={self.root / 'config' / 'alertmanager.yml'}",
            f"--storage.path={self.root / 'alertmanager'}",
            f"--web.listen-address=127.0.0.1:{self.ports['alertmanager']}", "--cluster.listen-address=",
            "--log.level=warn",
        ]))
        self._wait("alertmanager", lambda: self._http_ok(f"{self.alertmanager_url}/-/ready"), service="alertmanager")

    def post_alerts(self, alerts: list[dict]) -> None:
        """Send alerts to Alertmanager as Prometheus does (API v2: labels, annotations, startsAt, endsAt)."""
        r = requests.post(f"{self.alertmanager_url}/api/v2/alerts", json=alerts, timeout=10)
        r.raise_for_status()

    def received(self) -> list[dict]:
        """What the e-mail, Slack and SMS sinks have received: [{"sink", "time", "body"}]."""
        return requests.get(f"{self.sinks_url}/received", timeout=10).json()

    def start_traffic(self) -> None:
        self._spawn(Service("traffic", [
            sys.executable, "-m", "stack.traffic", "--url", self.app_url, "--rate", str(self.traffic_rate),
            "--workers", "12",
        ]))

    def stop(self) -> None:
        if self._stopped or self.root is None:
            return
        self._stopped = True
        order = ["traffic", "prometheus", "alertmanager", "sinks", "blackbox", "worker", "app", "redis_exporter",
                 "postgres_exporter", "redis", "postgres"]
        for name in order + [n for n in self.services if n not in order]:
            self._stop_service(name)
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            if json.loads(STATE_FILE.read_text()).get("root") == str(self.root):
                STATE_FILE.unlink()
        except (OSError, ValueError):
            pass
        self.log("stopped; no process left")

    def leftovers(self) -> list[str]:
        """After stop(): anything of ours still alive (a process in one of our groups, one
        naming our directory, or a listener on one of our ports). Empty when clean."""
        pgids = {s.proc.pid for s in self.services.values() if s.proc is not None}
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            state, pgid = fields[0], int(fields[2])
            if state != "Z" and (pgid in pgids or (self.root and str(self.root) in cmd)):
                found.append(f"pid {entry.name} (group {pgid}): {cmd[:120]}")
        for name, port in self.ports.items():
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    found.append(f"port {port} ({name}) still accepts connections")
        return found

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ e2e helpers
    def set_faults(self, error_rate: float = 0.0, extra_latency: float = 0.0, hold_memory_mb: int = 0,
                   hold_connections: int = 0) -> dict:
        """Switch the app's faults; called with no arguments, everything back to normal."""
        r = requests.post(f"{self.app_url}/admin/faults", json={
            "error_rate": error_rate, "extra_latency": extra_latency, "hold_memory_mb": hold_memory_mb,
            "hold_connections": hold_connections,
        }, timeout=30)
        r.raise_for_status()
        return r.json()

    def set_worker_faults(self, parse_fail_rate: float = 0.0) -> None:
        """The worker reads its fault switches from files at each task."""
        (self.root / "faults" / "parse_fail_rate").write_text(str(parse_fail_rate))

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        r = requests.get(f"{self.prometheus_url}/api/v1/query", params=params, timeout=10)
        body = r.json()
        if body.get("status") != "success":
            raise StackError(f"query failed: {expr}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        r = requests.get(f"{self.prometheus_url}/api/v1/query_range",
                         params={"query": expr, "start": start, "end": end, "step": step}, timeout=20)
        body = r.json()
        if body.get("status") != "success":
            raise StackError(f"query failed: {expr}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    def label_values(self, label: str, selector: str | None = None) -> list[str]:
        params = {"match[]": selector} if selector else {}
        r = requests.get(f"{self.prometheus_url}/api/v1/label/{label}/values", params=params, timeout=10)
        return r.json()["data"]

    def rules(self) -> list[dict]:
        """Every loaded rule with its group, health and lastError (/api/v1/rules)."""
        groups = requests.get(f"{self.prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
        return [{**r, "group": g["name"]} for g in groups for r in g["rules"]]

    def alerts(self) -> list[dict]:
        return requests.get(f"{self.prometheus_url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]

    def targets(self) -> list[dict]:
        return requests.get(f"{self.prometheus_url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]

    def banner(self) -> str:
        p = self.ports
        return "\n".join([
            "reference stack is up (Ctrl-C or `python -m stack.run stop` stops it)",
            f"  Prometheus         {self.prometheus_url}   <- Grafana datasource URL (type prometheus)",
            f"  Prometheus UI      {self.prometheus_url}/graph   alerts: {self.prometheus_url}/alerts",
            f"  backend (FastAPI)  {self.app_url}   /health /metrics /docs, faults: POST /admin/faults",
            f"  worker metrics     http://127.0.0.1:{p['worker']}/metrics",
            f"  postgres           127.0.0.1:{p['postgres']} db {self.config.selectors.database} (user postgres)"
            f"   exporter :{p['postgres_exporter']}",
            f"  redis              127.0.0.1:{p['redis']}   exporter :{p['redis_exporter']}",
            f"  blackbox           http://127.0.0.1:{p['blackbox']}/probe?module=http_health&target={self.health_url}",
            f"  Alertmanager       {self.alertmanager_url}   (waits / {self.notify_time_scale:g})"
            f"   sinks: {self.sinks_url}/received",
            f"  data and logs      {self.root}",
        ])


def _is_ours(pid: int, needle: str) -> bool:
    """The process `pid` still runs what we started (guards against reused pids)."""
    try:
        return needle in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def stop_from_state() -> int:
    """`python -m stack.run stop`: end the process groups a stack recorded in .stack/state.json."""
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        print("no running stack recorded in", STATE_FILE, file=sys.stderr)
        return 0
    owner = state.get("owner_pid")
    if owner and owner != os.getpid() and _is_ours(owner, "stack"):
        os.kill(owner, signal.SIGTERM)  # the owner stops its own services in order
        for _ in range(150):
            if not _is_ours(owner, "stack"):
                break
            time.sleep(0.1)
    for name, (pgid, argv0) in state.get("groups", {}).items():
        if _is_ours(pgid, argv0):
            terminate_group(pgid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
    if state.get("root"):
        shutil.rmtree(state["root"], ignore_errors=True)
    STATE_FILE.unlink(missing_ok=True)
    print("stack stopped", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stop"]:
        return stop_from_state()
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    stack = Stack()

    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while True:
            time.sleep(5)
            dead = [n for n, s in stack.services.items() if s.proc.poll() is not None]
            if dead:
                print(f"[stack] exited: {', '.join(dead)}; stopping", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
