"""An error-budget burn in the reference stack pages the escalation's first receiver.

The stack runs the SLO groups on a compressed clock (stack.run.SLO_TIME_SCALE: the page's
1 h + 5 min windows become 2 min + 10 s, `for: 2m` becomes 4 s; record and alert names are
the rendered ones). Runs after the fault scenarios (file order), once their short windows are
clear. That a healthy run pages nothing is test_scenarios' normal-traffic test: no page is
active or even true there (the stack's baseline of about 0.2 % 5xx is above the plan's 0.1 %
budget, so the availability ticket may be: a steady burn the old 1 % HighErrorRate never saw).
"""

from __future__ import annotations

import time

import pytest

from .conftest import wait_for

pytestmark = pytest.mark.e2e
PAGE = "ApiAvailabilityBudgetBurn"
#: Share of /api/ requests answered 500: about ten times the fastest page tier's error ratio
#: (14.4 x 0.1 %), so the compressed 2-minute window crosses it within seconds.
ERROR_RATE = 0.15


def _active(stack, name: str) -> set[str]:
    return {a["state"] for a in stack.alerts() if a["labels"].get("alertname") == name}


def test_availability_burn_pages_the_first_receiver(stack, rules, report):
    assert PAGE in rules, f"no {PAGE} in rendered/alerts"
    tier = stack.config.slo.page_tiers[0]
    threshold = tier.factor * stack.config.thresholds.error_ratio_target  # budget: 1 - objective
    # Earlier faults (5 % 5xx, outages) burn too: wait for the short windows to clear.
    assert wait_for(lambda: not stack.query(rules[PAGE]["expr"]), timeout=120, interval=2), (
        f"{PAGE} still true long after the last fault")
    assert wait_for(lambda: not _active(stack, PAGE), timeout=30, interval=1)
    started, started_wall = time.monotonic(), time.time()
    stack.set_faults(error_rate=ERROR_RATE)
    try:
        firing = wait_for(lambda: "firing" in _active(stack, PAGE), timeout=90, interval=1)
        t_firing = time.monotonic() - started
        ratio = stack.query('raymontology:slo_error:ratio_rate1h{slo="api-availability"}')
        assert firing, (f"{ERROR_RATE:.0%} 5xx never fired {PAGE} within 90 s; alerts: {_active(stack, PAGE)}, "
                        f"1h-window ratio (compressed): {ratio}")
        mailed = wait_for(lambda: [r for r in stack.received() if r["sink"] == "email" and r["time"] > started_wall
                                   and r["body"].get("status") == "firing"
                                   and any(a["labels"].get("alertname") == PAGE for a in r["body"].get("alerts", []))],
                          timeout=30, interval=0.5)
        assert mailed, f"the firing {PAGE} never reached the e-mail receiver (the escalation's first step)"
        alert = next(a for a in mailed[0]["body"]["alerts"] if a["labels"].get("alertname") == PAGE)
        assert alert["labels"]["severity"] == "critical" and alert["labels"]["slo_tier"] == "page"
        report["scenarios"].append(
            f"{f'{ERROR_RATE:.0%} 5xx (budget burn)':<28} -> {PAGE:<25} firing after {t_firing:5.1f}s "
            f"(compressed 1h ratio {float(ratio[0]['value'][1]):.3f} > {threshold:g}); e-mailed "
            f"{mailed[0]['time'] - started_wall:.1f}s after the fault")
    finally:
        stack.set_faults()
