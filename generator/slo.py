"""Service level objectives as code: the definition kind under slos/, and what is generated from it.

    # slos/api_availability.py
    def build(cfg) -> SLO | list[SLO]: ...

An SLO names an objective over a period and an SLI as good and total events. From it and
the config's `SLOConfig` (windows, burn-rate tiers, severities) this module generates:

- one rule group per SLO: the SLI's error ratio over every window and the period
  (`<level>:slo_error:ratio_rate<window>{slo="<name>"}`), then multi-window, multi-burn-rate
  alerts, one per severity, each tier a clause `ratio[long] > factor x budget and
  ratio[short] > factor x budget`, ORed (SRE workbook, "Alerting on SLOs");
- promtool unit tests for every SLO and tier (`unit_tests`): the tier fires within its long
  window at 1.1x its burn rate, stays silent at 0.9x and within budget, and nothing pages
  without traffic;
- one dashboard over all SLOs (`dashboard`).

The error ratio is `1 - good / total`, with `or vector(0)` on good (no good events is 100 %
errors, not no data) and `total > 0` (no traffic is no data, never a division by zero and
never a page). This module holds no project data: the SLOs and their numbers come from the
project's slos/ and config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from generator import panels as p
from generator.config import BurnTier, Config
from generator.durations import duration, is_duration, seconds
from generator.errors import DefinitionError
from generator.rules import Alert, Record, RuleGroup
from generator.safenames import check_name

#: Roles of a request SLI's test series: which events its counter counts.
ROLES = ("good", "bad", "all")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
_ALERT = re.compile(r"^[A-Z][A-Za-z0-9]{1,40}$")
#: Generated tests: the burn rate that must fire and the one that must not, as a share of the
#: tier's factor (as far above as below it), and the error ratio "within budget" as a share of
#: the budget.
FIRE_SHARE = 1.1
BELOW_SHARE = 2 - FIRE_SHARE
WITHIN_SHARE = 0.5
#: While a test proves one tier, the alert's other tiers stay below this share of their threshold
#: (the share at which the silent tests burn).
HEADROOM = BELOW_SHARE
#: Evaluations of a quiet test (it checks only the end).
QUIET_EVALUATIONS = 4
#: Test traffic: events per input step (the ratio is what matters, not the volume).
TEST_EVENTS = 1000


@dataclass(frozen=True)
class RequestSLI:
    """Events counted by counters: good / total, each `sum(rate(selector[window]))`.

    `test_series` are concrete series for the generated tests, each with the events its
    counter counts: "good" (only good events), "bad" (only bad ones) or "all".
    """

    good: str
    total: str
    test_series: tuple[tuple[str, str], ...] = ()

    def good_expr(self, window: str) -> str:
        return f"sum(rate({self.good}[{window}]))"

    def total_expr(self, window: str) -> str:
        return f"sum(rate({self.total}[{window}]))"


@dataclass(frozen=True)
class ProbeSLI:
    """A 0/1 success gauge (a probe): good = successful results, total = all results over the
    window, summed over every location (`sum_over_time` / `count_over_time`).

    `test_series` are concrete probe series; the tests give each sample the share of
    successful results of its step (the average of many locations), so small error ratios
    are exact at any step.
    """

    success: str
    test_series: tuple[str, ...] = ()

    def good_expr(self, window: str) -> str:
        return f"sum(sum_over_time({self.success}[{window}]))"

    def total_expr(self, window: str) -> str:
        return f"sum(count_over_time({self.success}[{window}]))"


@dataclass(frozen=True)
class SLO:
    """One objective: `objective` of the SLI's events are good over `period`."""

    name: str  # lower-case-with-dashes: the `slo` label and the rule group's suffix
    alert_name: str  # CamelCase stem: <stem>BudgetBurn (page), <stem>BudgetBurnSlow (ticket)
    title: str
    description: str  # what counts as good, and why this objective (shown on the dashboard)
    objective: float
    sli: RequestSLI | ProbeSLI
    period: str = "30d"
    runbook: str = ""  # Markdown steps: what to look at when the budget burns
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def budget(self) -> float:
        return 1 - self.objective


# --- validation ------------------------------------------------------------------------------


def _tiers(cfg: Config) -> list[tuple[str, BurnTier]]:
    return [("page", t) for t in cfg.slo.page_tiers] + [("ticket", t) for t in cfg.slo.ticket_tiers]


def validate(slo: SLO, cfg: Config, where: str) -> None:
    """Raise DefinitionError naming `where` and the SLO when the definition cannot work."""

    def bad(why: str):
        raise DefinitionError(where, f"SLO {slo.name!r}: {why}")

    if not isinstance(slo.name, str) or not _NAME.match(slo.name):
        bad("name must be 2-40 lower-case letters, digits and dashes")
    check_name(f"slo-{slo.name}", "SLO name", where, error=DefinitionError)
    if not isinstance(slo.alert_name, str) or not _ALERT.match(slo.alert_name):
        bad(f"alert_name {slo.alert_name!r} must be CamelCase (like ApiAvailability)")
    if not isinstance(slo.objective, float) or not 0 < slo.objective < 1:
        bad(f"objective {slo.objective!r} must be a number strictly between 0 and 1 (0.999 for 99.9 %)")
    if not isinstance(slo.sli, (RequestSLI, ProbeSLI)):
        bad(f"sli must be a RequestSLI or a ProbeSLI, not {type(slo.sli).__name__}")
    if not is_duration(str(slo.period)):
        bad(f"period {slo.period!r} is not a Prometheus duration")
    period = seconds(slo.period)
    windows = [*cfg.slo.windows]
    if any(not is_duration(w) for w in windows):
        bad(f"config slo.windows {windows!r} holds a value that is not a Prometheus duration")
    if [seconds(w) for w in windows] != sorted({seconds(w) for w in windows}):
        bad(f"config slo.windows {windows!r} must be ordered from short to long, without repeats")
    if seconds(windows[-1]) >= period:
        bad(f"the longest window {windows[-1]} must be shorter than the period {slo.period}")
    for kind, t in _tiers(cfg):
        name = f"{kind} tier {t.factor:g}x {t.long_window} + {t.short_window}"
        for w in (t.long_window, t.short_window):
            if w not in windows:
                bad(f"{name}: window {w} is not among config slo.windows {windows!r}")
        if seconds(t.short_window) >= seconds(t.long_window):
            bad(f"{name}: the short window must be shorter than the long one")
        if not t.factor > 0:
            bad(f"{name}: the burn-rate factor must be above 0")
        if FIRE_SHARE * t.factor * slo.budget >= 1:
            bad(f"{name}: {t.factor:g}x the budget {slo.budget:.4g} is an error ratio of 100 % or more; "
                "the tier could never fire: lower the objective's budget factor or drop the tier")
    if isinstance(slo.sli, RequestSLI):
        roles = {r for _s, r in slo.sli.test_series}
        if not roles <= set(ROLES):
            bad(f"test_series roles {sorted(roles - set(ROLES))} are not among {ROLES}")
        if not ({"good", "all"} <= roles or {"good", "bad"} <= roles):
            bad("test_series need a good counter and either a bad or an all counter, so the generated "
                "tests can make errors")
    elif not slo.sli.test_series:
        bad("test_series need at least one probe series for the generated tests")


# --- rules -------------------------------------------------------------------------------


def group_name(cfg: Config, slo: SLO) -> str:
    """The SLO's rule group (and rule file) name: `<project tag>-slo-<name>`."""
    return f"{cfg.tag}-slo-{slo.name}"


def record_name(cfg: Config, window: str) -> str:
    return f"{cfg.slo.record_level}:slo_error:ratio_rate{window}"


def recorded(cfg: Config, slo: SLO, window: str) -> str:
    return f'{record_name(cfg, window)}{{slo="{slo.name}"}}'


def windows(cfg: Config, slo: SLO) -> list[str]:
    """The recorded windows: the config's, then the period."""
    return [*cfg.slo.windows, slo.period]


def error_ratio(slo: SLO, window: str) -> str:
    """Share of bad events over `window`; no data without events (never a division by zero)."""
    return (f"1 - (\n  {slo.sli.good_expr(window)}\n  or vector(0)\n)\n/ (\n"
            f"  {slo.sli.total_expr(window)}\n  > 0\n)")


def _scaled(window: str, time_scale: float) -> str:
    """`window` divided by `time_scale`, in whole seconds (at least 1 s)."""
    return window if time_scale == 1 else duration(max(1, round(seconds(window) / time_scale)))


def _threshold(slo: SLO, tier: BurnTier) -> str:
    return f"{tier.factor * slo.budget:.6g}"


def _alert_name(slo: SLO, kind: str) -> str:
    return f"{slo.alert_name}BudgetBurn" + ("" if kind == "page" else "Slow")


def _percent(x: float) -> str:
    return f"{x * 100:.6g} %"


def _burn_alert(cfg: Config, slo: SLO, kind: str, tiers: tuple[BurnTier, ...], time_scale: float = 1) -> Alert:
    s = cfg.slo
    clauses = [f"(\n  {recorded(cfg, slo, t.long_window)} > {_threshold(slo, t)}\n  and\n"
               f"  {recorded(cfg, slo, t.short_window)} > {_threshold(slo, t)}\n)" for t in tiers]
    share = "; ".join(f"{_percent(t.factor * seconds(t.long_window) / seconds(slo.period))} of the budget in "
                      f"{t.long_window} ({t.factor:g}x, confirmed over {t.short_window})" for t in tiers)
    page = kind == "page"
    return Alert(
        _alert_name(slo, kind),
        "\nor\n".join(clauses),
        severity=s.page_severity if page else s.ticket_severity,
        for_=_scaled(s.page_for if page else s.ticket_for, time_scale),
        labels={"slo": slo.name, "slo_tier": kind, **slo.labels},
        summary=f"{slo.title} burns its error budget {'fast' if page else 'steadily'}.",
        description=(f"{slo.title}: {{{{ $value | humanizePercentage }}}} of events were bad over the long "
                     f"window, against a budget of {_percent(slo.budget)} over {slo.period} (objective "
                     f"{_percent(slo.objective)}). Fires on {share}."),
        dashboard=s.dashboard_uid,
        runbook=(f"""
A {'page' if page else 'ticket'} means the {slo.period} error budget of "{slo.title}" ({_percent(slo.budget)} of
events may be bad) is being spent faster than it lasts: {share}. At a burn rate of 1 the budget lasts exactly
{slo.period}; at {tiers[0].factor:g} it is gone in {duration(seconds(slo.period) / tiers[0].factor)}.
{'Act now: users feel it.' if page else 'No one needs to wake up; plan the fix this week.'}

1. On the SLO dashboard, "Burn rate per window" shows whether the burn is still going on (the short windows)
   or already over (only the long ones are high); "Error budget remaining" shows what is left.
""" + slo.runbook.strip("\n") + "\n"),
    )


def rule_group(cfg: Config, slo: SLO, time_scale: float = 1) -> RuleGroup:
    """The SLO's records and burn alerts. With `time_scale` (the reference stack's compressed
    clock) every window and `for` is divided by it while the record names stay the same, so
    dashboards and alerts read the same series: 1h becomes 2m at 30."""
    rules: list = [Record(record_name(cfg, w), error_ratio(slo, _scaled(w, time_scale)), labels={"slo": slo.name})
                   for w in windows(cfg, slo)]
    if cfg.slo.page_tiers:
        rules.append(_burn_alert(cfg, slo, "page", cfg.slo.page_tiers, time_scale))
    if cfg.slo.ticket_tiers:
        rules.append(_burn_alert(cfg, slo, "ticket", cfg.slo.ticket_tiers, time_scale))
    return RuleGroup(group_name(cfg, slo), rules)


# --- generated promtool tests ----------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:.12g}"


def _series_values(slo: SLO, phases: list[tuple[int, float]], role: str) -> str:
    """promtool expanding notation for one series over `phases` of (steps, error ratio).

    Counters start at 0 and grow by the events of their role per step; a probe's samples are
    the share of successful results. One sample at step 0, then `steps` samples per phase.
    """
    if isinstance(slo.sli, ProbeSLI):
        parts = [_num(1 - phases[0][1])]
        parts += [f"{_num(1 - r)}x{n - 1}" if n > 1 else _num(1 - r) for n, r in phases]
        return " ".join(parts)
    parts, value = ["0"], 0.0
    for n, r in phases:
        inc = {"good": TEST_EVENTS * (1 - r), "bad": TEST_EVENTS * r, "all": TEST_EVENTS}[role]
        start = value + inc
        parts.append(f"{_num(start)}+{_num(inc)}x{n - 1}" if n > 1 else _num(start))
        value += inc * n
    return " ".join(parts)


def _input_series(slo: SLO, phases: list[tuple[int, float]]) -> list[dict]:
    if isinstance(slo.sli, ProbeSLI):
        return [{"series": s, "values": _series_values(slo, phases, "probe")} for s in slo.sli.test_series]
    return [{"series": s, "values": _series_values(slo, phases, role)} for s, role in slo.sli.test_series]


def _step(tier: BurnTier) -> int:
    """Input sample step in seconds: five samples per short window, at least a minute."""
    return max(60, int(seconds(tier.short_window) // 5) // 60 * 60)


def _ceil(x: float, step: int) -> int:
    """`x` rounded up to a whole number of `step`s."""
    return int(-(-x // step)) * step


def _history(cfg: Config, slo: SLO, kind: str, tier: BurnTier, burn: float, until: float) -> float:
    """Seconds of healthy traffic before a burn at error ratio `burn`, so that the test sees
    `tier` alone for the first `until` seconds of the burn:

    - the tier's own long window is full of traffic when the burn crosses its threshold (at
      long / FIRE_SHARE): history of long - long / FIRE_SHARE;
    - every other tier of the same alert stays below HEADROOM of its threshold: its long window
      then holds history and burn, an error ratio of burn x until / (history + until).

    (Tiers too close to tell apart, whose long window cannot hold enough history, make the
    generated test fail in promtool, which names it.)
    """
    need = seconds(tier.long_window) * (1 - 1 / FIRE_SHARE)
    for k, other in _tiers(cfg):
        limit = HEADROOM * other.factor * slo.budget
        if k == kind and other != tier and burn > limit:
            need = max(need, until * (burn / limit - 1))
    return need


def _expected(cfg: Config, slo: SLO, kind: str) -> dict:
    s = cfg.slo
    return {"severity": s.page_severity if kind == "page" else s.ticket_severity,
            "slo": slo.name, "slo_tier": kind, **slo.labels}


def _minutes(secs: float) -> str:
    return duration(int(secs // 60) * 60)


def tier_test(cfg: Config, slo: SLO, kind: str, tier: BurnTier) -> dict:
    """Healthy traffic, then a burn. At 1.1x the tier's rate the long window crosses the
    threshold after long / 1.1: the alert is silent two steps before that and fires by the long
    window plus `for`, a step and a minute. At 0.9x it is still silent then (its long window has
    reached the plateau of 0.9x: it never crosses).

    The cost is in promtool's evaluations, each reading every recorded window (the period's
    too), so the file evaluates as seldom as the timing allows: the alert turns pending at the
    first evaluation after the crossing and fires at the first one `for` later, at most two
    intervals after crossing + `for`; the interval is the longest whole number of steps that
    still lands inside the slack the fire check allows. The healthy history is as short as
    `_history` allows, per test.
    """
    step, long_ = _step(tier), seconds(tier.long_window)
    wait = seconds(cfg.slo.page_for if kind == "page" else cfg.slo.ticket_for)
    name = _alert_name(slo, kind)
    fire, below = FIRE_SHARE * tier.factor * slo.budget, BELOW_SHARE * tier.factor * slo.budget
    check = long_ + wait + step + 60  # seconds into the burn: fired at 1.1x, silent at 0.9x
    quiet = long_ / FIRE_SHARE - 2 * step  # seconds into the burn: still silent at 1.1x
    cases = []
    for ratio, until in ((fire, quiet), (below, check)):
        healthy = _ceil(_history(cfg, slo, kind, tier, ratio, until), step) // step
        cases.append((healthy, healthy * step, int(-(-check // step)) + 1))
    (h_fire, s_fire, n_fire), (h_below, s_below, n_below) = cases
    # the fire check is at a whole minute: the slack runs from crossing + `for` to that minute
    slack = int((s_fire + check) // 60) * 60 - (s_fire + long_ / FIRE_SHARE + wait)
    interval = max(step, int(slack // 2 // step) * step)
    header = f"{kind} tier {tier.factor:g}x over {tier.long_window} + {tier.short_window}"
    return {"evaluation_interval": duration(interval), "tests": [
        {"name": f"{header}: fires at {FIRE_SHARE:g}x within {tier.long_window}",
         "interval": duration(step),
         "input_series": _input_series(slo, [(h_fire, 0.0), (n_fire, fire)]),
         "alert_rule_test": [
             {"eval_time": _minutes(s_fire + quiet), "alertname": name, "exp_alerts": []},
             {"eval_time": _minutes(s_fire + check), "alertname": name,
              "exp_alerts": [{"exp_labels": _expected(cfg, slo, kind)}]},
         ]},
        {"name": f"{header}: silent at {BELOW_SHARE:g}x",
         "interval": duration(step),
         "input_series": _input_series(slo, [(h_below, 0.0), (n_below, below)]),
         "alert_rule_test": [
             {"eval_time": _minutes(s_below + check), "alertname": name, "exp_alerts": []},
         ]},
    ]}


def quiet_test(cfg: Config, slo: SLO, kind: str) -> dict:
    """Within budget the alert of `kind` stays silent over three of its longest windows; for
    pages also: without traffic nothing is recorded and nothing fires (a probe SLI: without
    results, there is nothing to record).

    Only the end is checked, so the file evaluates QUIET_EVALUATIONS times, the last exactly at
    the checked time (a recorded series must be fresh there, or "nothing recorded" would pass
    on staleness alone)."""
    tiers = [t for k, t in _tiers(cfg) if k == kind]
    step = _step(max(tiers, key=lambda t: seconds(t.long_window)))
    per_eval = _ceil(3 * max(seconds(t.long_window) for t in tiers) / QUIET_EVALUATIONS, step) // step
    n = per_eval * QUIET_EVALUATIONS
    name = _alert_name(slo, kind)
    tests = [{"name": f"{kind}: within budget, {WITHIN_SHARE:g}x the budget for {duration(n * step)}",
              "interval": duration(step),
              "input_series": _input_series(slo, [(n, WITHIN_SHARE * slo.budget)]),
              "alert_rule_test": [{"eval_time": duration(n * step), "alertname": name, "exp_alerts": []}]}]
    if kind == "page" and isinstance(slo.sli, RequestSLI):  # counters that never move: no traffic
        flat = [{"series": s, "values": f"0x{n}"} for s, _role in slo.sli.test_series]
        tests.append({"name": "no traffic: no error ratio, no page", "interval": duration(step),
                      "input_series": flat,
                      "promql_expr_test": [{"expr": recorded(cfg, slo, w), "eval_time": duration(n * step),
                                            "exp_samples": []} for w in windows(cfg, slo)],
                      "alert_rule_test": [{"eval_time": duration(n * step), "alertname": name, "exp_alerts": []}]})
    return {"evaluation_interval": duration(per_eval * step), "tests": tests}


def unit_tests(cfg: Config, slo: SLO, rule_file: str) -> dict[str, dict]:
    """promtool test files for `slo`: file name -> document (rule_files: [rule_file]).

    Each file sets its own `evaluation_interval`, derived from what it checks (tier_test,
    quiet_test): a few dozen evaluations per file, a three-day tier as few as a one-hour one.
    The rule file they read must leave the group's interval out (generator.checks.promtool
    does), or it would win.
    """
    docs = {}
    for kind, tier in _tiers(cfg):
        docs[f"{group_name(cfg, slo)}.{kind}-{tier.long_window}.test.yaml"] = tier_test(cfg, slo, kind, tier)
    for kind in dict.fromkeys(k for k, _t in _tiers(cfg)):
        docs[f"{group_name(cfg, slo)}.{kind}-quiet.test.yaml"] = quiet_test(cfg, slo, kind)
    return {name: {"rule_files": [rule_file], **doc} for name, doc in docs.items()}


# --- the SLO dashboard -----------------------------------------------------------------------


def _row(cfg: Config, slo: SLO):
    budget = f"{_num(slo.budget)}"
    period = recorded(cfg, slo, slo.period)
    burn_window = cfg.slo.page_tiers[0].long_window if cfg.slo.page_tiers else cfg.slo.windows[0]
    burn_now = f"{recorded(cfg, slo, burn_window)} / {budget}"
    remaining = f"1 - {period} / {budget}"
    factors = sorted({t.factor for _k, t in _tiers(cfg)})
    return p.row(
        f"{slo.title} ({_percent(slo.objective)} over {slo.period})",
        p.stat("Objective", slo.description, f"vector({_num(slo.objective)})", "percentunit",
               p.neutral(), decimals=3, graph=False, w=4),
        p.stat(f"SLI over {slo.period}", f"Share of good events over the last {slo.period} (recorded "
               f"{record_name(cfg, slo.period)}). Healthy: at least {_percent(slo.objective)}.",
               f"1 - {period}", "percentunit", p.good_above(slo.objective), decimals=3, w=6),
        p.stat("Error budget remaining", f"Share of the {slo.period} error budget ({_percent(slo.budget)} "
               f"of events) not yet spent; red below {cfg.slo.budget_remaining_warn:.0%}, below 0 the objective is "
               "missed.", remaining, "percentunit", p.good_above(cfg.slo.budget_remaining_warn), decimals=1, w=7),
        p.stat("Time until budget exhausted", f"How long the remaining budget lasts at the burn rate of "
               f"the last {burn_window}; years mean no burn to speak of. Red below "
               f"{duration(cfg.slo.exhaustion_warn_seconds)}.",
               f"clamp_min({remaining}, 0) * {int(seconds(slo.period))}\n/\nclamp_min({burn_now}, 1e-9)",
               "s", p.good_above(float(cfg.slo.exhaustion_warn_seconds)), graph=False, w=7),
        p.timeseries("Burn rate per window", "Error ratio over each window divided by the budget: 1 spends "
                     f"the budget in exactly {slo.period}. Pages above "
                     + ", ".join(f"{t.factor:g}x ({t.long_window} and {t.short_window})"
                                 for t in cfg.slo.page_tiers)
                     + "; tickets above "
                     + ", ".join(f"{t.factor:g}x ({t.long_window} and {t.short_window})"
                                 for t in cfg.slo.ticket_tiers) + ".",
                     [p.target(f"{recorded(cfg, slo, w)} / {budget}", w) for w in windows(cfg, slo)],
                     "none", p.bad_above(factors[0], factors[-1]), w=24, h=8,
                     legend_calcs=("lastNotNull", "max"), fill=0),
    )


def dashboard(cfg: Config, slos: list[SLO]):
    return p.dashboard(
        replace(cfg, time_from=cfg.slo.dashboard_time_from), cfg.slo.dashboard_uid, f"{cfg.name} / SLOs",
        "Service level objectives and their error budgets: objective, SLI over the period, budget left, "
        "burn rate per alert window and time until the budget is gone (generated from slos/).",
        [_row(cfg, slo) for slo in slos], tags=["slo"])
