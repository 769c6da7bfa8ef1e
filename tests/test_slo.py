"""SLOs as code (slos/, generator/slo.py): the rules generated from them, the promtool tests
generated for them (and that those tests catch wrong rules), validation, and routing."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import promql_parser as pp
import pytest

from generator import rules, slo
from generator.checks import run_report
from generator.checks.amtool import write_config
from generator.checks.promtool import without_annotations
from generator.config import BurnTier
from generator.durations import seconds
from generator.errors import DefinitionError
from generator.loader import load
from repo_project import CONFIG as DEFAULT

ROOT = Path(__file__).resolve().parent.parent
EMAIL, SLACK = "raymontology-email", "raymontology-slack"


@pytest.fixture(scope="module")
def loaded():
    return load(ROOT, DEFAULT)


def _slo(loaded, name):
    return next(s for _rel, s in loaded.slos if s.name == name)


def test_the_plan_slos_are_defined(loaded):
    objectives = {s.name: (s.objective, s.period) for _rel, s in loaded.slos}
    assert objectives == {"api-availability": (0.999, "30d"), "api-latency": (0.99, "30d"), "uptime": (0.999, "30d")}


def test_records_cover_every_window_and_the_period(loaded):
    for _rel, s in loaded.slos:
        grp = slo.rule_group(DEFAULT, s)
        names = [r.record for r in grp.records]
        assert names == [f"raymontology:slo_error:ratio_rate{w}" for w in
                         ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")]
        for r in grp.records:
            assert r.labels == {"slo": s.name}
            pp.parse(r.expr)  # valid PromQL
            assert "or vector(0)" in r.expr and "> 0" in r.expr  # 100 % errors without good; nothing without traffic


def test_burn_alerts_follow_the_workbook(loaded):
    s = _slo(loaded, "api-availability")
    page, ticket = slo.rule_group(DEFAULT, s).alerts
    assert (page.name, page.severity, page.labels["slo_tier"]) == ("ApiAvailabilityBudgetBurn", "critical", "page")
    assert (ticket.name, ticket.severity, ticket.labels["slo_tier"]) == ("ApiAvailabilityBudgetBurnSlow", "warning",
                                                                         "ticket")
    # 14.4 x 0.1 % and 6 x 0.1 %, each on the long and the short window
    assert 'ratio_rate1h{slo="api-availability"} > 0.0144' in page.expr
    assert 'ratio_rate5m{slo="api-availability"} > 0.0144' in page.expr
    assert 'ratio_rate6h{slo="api-availability"} > 0.006' in page.expr
    assert 'ratio_rate30m{slo="api-availability"} > 0.006' in page.expr
    assert 'ratio_rate3d{slo="api-availability"} > 0.001' in ticket.expr
    assert 'ratio_rate6h{slo="api-availability"} > 0.001' in ticket.expr
    assert "2 % of the budget in 1h" in page.description and "5 % of the budget in 6h" in page.description


def test_latency_threshold_is_an_exposed_bucket(loaded):
    s = _slo(loaded, "api-latency")
    assert 'le="0.1"' in s.sli.good and "http_request_duration_seconds_bucket" in s.sli.good
    with pytest.raises(DefinitionError, match="not a bucket bound"):
        load(ROOT, DEFAULT.with_thresholds(slo_latency_threshold_seconds=0.2))


def _promtool_run(folder: Path, cfg_rules, cfg_tests, s, pattern: str, mutate=None) -> subprocess.CompletedProcess:
    grp = slo.rule_group(cfg_rules, s)
    doc = without_annotations(rules.group_document(cfg_rules, grp))
    doc["groups"][0].pop("interval")
    if mutate is not None:
        for rule in doc["groups"][0]["rules"]:
            if "alert" in rule:
                rule["expr"] = mutate(rule["expr"])
    (folder / f"{grp.name}.rules.yaml").write_text(rules.dumps(doc))
    names = []
    for name, test in slo.unit_tests(cfg_tests, s, f"{grp.name}.rules.yaml").items():
        if pattern in name:
            (folder / name).write_text(rules.dumps(test))
            names.append(name)
    assert names
    return subprocess.run(["promtool", "test", "rules", *names], cwd=folder, capture_output=True, text=True,
                          timeout=120)


def test_dashgen_check_runs_the_generated_tests(tmp_path):
    """Test series that the SLI does not select make the generated "fires" tests fail, and
    dashgen check reports it at the SLO's file. (The real project's run is in test_check_project.)"""
    import shutil

    for d in ("monitoring", "dashboards", "alerts", "slos"):
        shutil.copytree(ROOT / d, tmp_path / d)
    for other in ("api_availability.py", "api_latency.py"):
        (tmp_path / "slos" / other).unlink()
    path = tmp_path / "slos" / "uptime.py"
    path.write_text(path.read_text().replace('f\'probe_success{{job="{job}", ', 'f\'probe_success{{job="elsewhere", '))
    (tmp_path / "rules").mkdir()
    report = run_report(tmp_path, DEFAULT, only=["promtool/test-rules"], tests_dir=tmp_path / "rules")
    files = sorted(f.location.file for f in report.errors)
    assert files == [f"slos/uptime.py (generated test raymontology-slo-uptime.{t}.test.yaml)"
                     for t in ("page-1h", "page-6h", "ticket-3d")], files


@pytest.mark.parametrize("factor", [20.0, 11.0])
def test_generated_tests_catch_a_wrong_page_factor(loaded, tmp_path, factor):
    """Rules generated with another burn factor than the tests expect fail them: 20x fires too
    late at 1.1 x 14.4, 11x already fires at 0.9 x 14.4."""
    s = _slo(loaded, "api-availability")
    tiers = (BurnTier(factor, "1h", "5m"), *DEFAULT.slo.page_tiers[1:])
    wrong = replace(DEFAULT, slo=replace(DEFAULT.slo, page_tiers=tiers))
    assert _promtool_run(tmp_path, DEFAULT, DEFAULT, s, "page-1h").returncode == 0
    out = _promtool_run(tmp_path, wrong, DEFAULT, s, "page-1h")
    assert out.returncode != 0 and "FAILED" in out.stdout + out.stderr


def test_generated_tests_catch_a_missing_traffic_guard(loaded, tmp_path, monkeypatch):
    """Without `total > 0` the ratio of no traffic is recorded (1 - 0/0 = NaN): the quiet test fails."""
    s = _slo(loaded, "api-latency")
    real = slo.error_ratio
    monkeypatch.setattr(slo, "error_ratio", lambda x, w: real(x, w).replace("\n  > 0\n", "\n"))
    out = _promtool_run(tmp_path, DEFAULT, DEFAULT, s, "page-quiet")
    assert out.returncode != 0 and "NaN" in out.stdout + out.stderr


def test_generated_tests_catch_a_ticket_that_never_fires(loaded, tmp_path):
    s = _slo(loaded, "uptime")
    wrong = replace(DEFAULT, slo=replace(DEFAULT.slo, ticket_tiers=(BurnTier(1, "3d", "6h"),), ticket_for="4d"))
    out = _promtool_run(tmp_path, wrong, DEFAULT, s, "ticket-3d")
    assert out.returncode != 0


@pytest.mark.parametrize("change,message", [
    ({"objective": 1.0}, "strictly between 0 and 1"),
    ({"objective": 0.0}, "strictly between 0 and 1"),
    ({"name": "API Availability"}, "lower-case"),
    ({"alert_name": "api"}, "CamelCase"),
    ({"period": "a month"}, "not a Prometheus duration"),
    ({"period": "2d"}, "shorter than the period"),
    ({"objective": 0.9}, "could never fire"),  # 14.4 x 10 % > 100 %
])
def test_bad_definitions_are_refused(loaded, change, message):
    s = replace(_slo(loaded, "api-availability"), **change)
    with pytest.raises(DefinitionError, match=message) as err:
        slo.validate(s, DEFAULT, "slos/api_availability.py")
    assert "slos/api_availability.py" in str(err.value)


@pytest.mark.parametrize("slo_changes,message", [
    ({"windows": ("30m", "5m", "1h", "2h", "6h", "1d", "3d")}, "ordered from short to long"),
    ({"page_tiers": (BurnTier(14.4, "90m", "5m"),)}, "not among config slo.windows"),
    ({"page_tiers": (BurnTier(14.4, "5m", "1h"),)}, "short window must be shorter"),
])
def test_bad_windows_are_refused(loaded, slo_changes, message):
    cfg = replace(DEFAULT, slo=replace(DEFAULT.slo, **slo_changes))
    with pytest.raises(DefinitionError, match=message):
        slo.validate(_slo(loaded, "uptime"), cfg, "slos/uptime.py")


def test_dashgen_check_reports_a_bad_slo(tmp_path):
    """A broken SLO definition is a definitions/load finding naming the file."""
    import shutil

    for d in ("monitoring", "dashboards", "alerts", "slos"):
        shutil.copytree(ROOT / d, tmp_path / d)
    text = (tmp_path / "slos" / "uptime.py").read_text()
    (tmp_path / "slos" / "uptime.py").write_text(text.replace("objective=cfg.thresholds.uptime_target", "objective=1.5"))
    report = run_report(tmp_path, DEFAULT, only=["rule/severity"])
    assert [(f.check, f.location.file) for f in report.errors] == [("definitions/load", "slos/uptime.py")]
    assert "strictly between 0 and 1" in report.errors[0].message


def test_slo_dashboard_is_generated_once(loaded):
    boards = [(rel, d) for rel, d in loaded.dashboards if rel == "slos/"]
    assert len(boards) == 1 and boards[0][1].uid == DEFAULT.slo.dashboard_uid


def test_burn_alerts_route_like_their_severity(loaded, amtool, tmp_path):
    """Pages climb the critical escalation (e-mail, then Slack); tickets go to Slack only."""
    config = write_config(DEFAULT, loaded.notifications[1], tmp_path)
    for _rel, s in loaded.slos:
        for alert in slo.rule_group(DEFAULT, s).alerts:
            labels = {"alertname": alert.name, "severity": alert.severity, **alert.labels}
            out = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}",
                                  *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True,
                                 timeout=60)
            assert out.returncode == 0, out.stderr
            expected = [EMAIL, SLACK] if alert.labels["slo_tier"] == "page" else [SLACK]
            assert out.stdout.strip().split(",") == expected, alert.name


def test_compressed_clock_keeps_names_and_divides_windows(loaded):
    """The reference stack's copy (stack.run.SLO_TIME_SCALE): same record and alert names,
    windows and `for` divided."""
    s = _slo(loaded, "api-availability")
    normal, fast = slo.rule_group(DEFAULT, s), slo.rule_group(DEFAULT, s, time_scale=30)
    assert [r.record for r in fast.records] == [r.record for r in normal.records]
    assert [a.name for a in fast.alerts] == [a.name for a in normal.alerts]
    assert "[10s]" in fast.records[0].expr and "[5m]" in normal.records[0].expr
    assert "[1d]" in fast.records[-1].expr and "[30d]" in normal.records[-1].expr
    assert [a.for_ for a in fast.alerts] == ["4s", "30s"]
    assert [a.expr for a in fast.alerts] == [a.expr for a in normal.alerts]


def _tier_cfg(kind: str, index: int, factor_scale: float):
    """DEFAULT with one tier's burn factor scaled."""
    field_ = f"{kind}_tiers"
    tiers = list(getattr(DEFAULT.slo, field_))
    t = tiers[index]
    tiers[index] = BurnTier(t.factor * factor_scale, t.long_window, t.short_window)
    return replace(DEFAULT, slo=replace(DEFAULT.slo, **{field_: tuple(tiers)}))


TIERS = [("page", 0, "page-1h"), ("page", 1, "page-6h"), ("ticket", 0, "ticket-3d")]


@pytest.mark.parametrize("kind,index,pattern", TIERS)
@pytest.mark.parametrize("scale,why", [(1.2, "fires too late"), (0.85, "fires at 0.9x")])
def test_every_tier_test_catches_a_wrong_factor(loaded, tmp_path, kind, index, pattern, scale, why):
    """Each tier's test, not only the first: a factor 20 % too high never fires at 1.1x the
    right one; 15 % too low already fires at 0.9x."""
    s = _slo(loaded, "api-latency")
    out = _promtool_run(tmp_path, _tier_cfg(kind, index, scale), DEFAULT, s, pattern)
    assert out.returncode != 0 and "FAILED" in out.stdout + out.stderr, why


@pytest.mark.parametrize("pattern", ["page-1h", "page-6h", "ticket-3d"])
def test_the_tests_need_both_windows(loaded, tmp_path, pattern):
    """A tier that fires on either window instead of both (`or` for `and`) fires minutes into
    the burn, on the short window alone: the "silent before the long window crosses" check fails."""
    s = _slo(loaded, "uptime")
    out = _promtool_run(tmp_path, DEFAULT, DEFAULT, s, pattern, mutate=lambda e: e.replace("\n  and\n", "\n  or\n"))
    assert out.returncode != 0 and "FAILED" in out.stdout + out.stderr


def test_the_tests_catch_a_page_that_waits_too_long(loaded, tmp_path):
    s = _slo(loaded, "api-availability")
    slow = replace(DEFAULT, slo=replace(DEFAULT.slo, page_for="20m"))
    assert _promtool_run(tmp_path, slow, DEFAULT, s, "page-1h").returncode != 0


OTHER_CONFIGS = {
    "two-hour page": dict(windows=("5m", "10m", "30m", "2h", "6h", "1d", "3d"),
                          page_tiers=(BurnTier(10, "2h", "10m"), BurnTier(6, "6h", "30m")), page_for="5m"),
    "one page tier, fast ticket": dict(page_tiers=(BurnTier(14.4, "1h", "5m"),),
                                       ticket_tiers=(BurnTier(3, "1d", "2h"), BurnTier(1, "3d", "6h")),
                                       windows=("5m", "1h", "2h", "6h", "1d", "3d"), ticket_for="1h"),
    "close tiers": dict(page_tiers=(BurnTier(14.4, "1h", "5m"), BurnTier(9, "6h", "30m"))),
    "7-day period": dict(period="7d", page_tiers=(BurnTier(14.4, "1h", "5m"),), windows=("5m", "1h", "2h", "6h", "1d"),
                         ticket_tiers=(BurnTier(2, "1d", "2h"),)),
}


@pytest.mark.parametrize("name", sorted(OTHER_CONFIGS))
@pytest.mark.parametrize("slo_name", ["api-availability", "uptime"])
def test_generated_tests_pass_on_the_right_rules_for_other_configs(loaded, tmp_path, name, slo_name):
    """The test derivation (history, steps, evaluation interval) is not tuned to the default
    tiers: for other windows, tiers, periods and `for`s, the right rules pass every test."""
    cfg = replace(DEFAULT, slo=replace(DEFAULT.slo, **OTHER_CONFIGS[name]))
    s = replace(_slo(loaded, slo_name), period=cfg.slo.period)
    slo.validate(s, cfg, "slos/x.py")
    out = _promtool_run(tmp_path, cfg, cfg, s, ".")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("name", ["default", *sorted(OTHER_CONFIGS)])
def test_generated_tests_stay_cheap_and_check_fresh_evaluations(loaded, name):
    """Every file evaluates its rules at most 120 times (each evaluation reads every window,
    the period's too: the cost of `dashgen check`), and every checked time of a quiet test is
    an evaluation (so "nothing recorded" is not passed on a stale series)."""
    cfg = DEFAULT if name == "default" else replace(DEFAULT, slo=replace(DEFAULT.slo, **OTHER_CONFIGS[name]))
    for _rel, s in loaded.slos:
        s = replace(s, period=cfg.slo.period)
        for file, doc in slo.unit_tests(cfg, s, "x.rules.yaml").items():
            every = seconds(doc["evaluation_interval"])
            times = [seconds(c["eval_time"]) for t in doc["tests"]
                     for c in t.get("alert_rule_test", []) + t.get("promql_expr_test", [])]
            assert max(times) / every <= 120, (file, max(times) / every)
            if "quiet" in file:
                assert all(t % every == 0 for t in times), file
