"""`dashgen query DASHBOARD PANEL`: a panel's queries as Prometheus receives them, ready to paste."""

from __future__ import annotations

import promql_parser

from checks_fixtures import ROOT, cli


def query_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line and not line.startswith("#")]


def test_variables_and_rate_interval_are_expanded():
    code, out = cli("--root", str(ROOT), "query", "raymontology-system-health", "Request rate by status",
                    "--var", "job=raymontology-worker")
    assert code == 0, out
    (expr,) = query_lines(out)
    assert 'job="raymontology-worker"' in expr and "[60s]" in expr and "$" not in expr
    promql_parser.parse(expr)  # valid PromQL as printed
    assert "# range 6h, scrape 15s: $__rate_interval=60s" in out and "# $job=raymontology-worker" in out
    # The whole output is PromQL too: the header lines are comments.
    promql_parser.parse(out)


def test_module_name_panel_title_case_and_range():
    code, out = cli("--root", str(ROOT), "query", "system_health", "request rate by status", "--range", "24h")
    assert code == 0, out
    (expr,) = query_lines(out)
    # 24 h over 1000 points: $__interval 87s, $__rate_interval 87s + 15s.
    assert "[102s]" in expr and 'job="raymontology-backend"' in expr


def test_unknown_names_are_usage_errors_that_list_the_choices():
    code, out = cli("--root", str(ROOT), "query", "nope", "CPU")
    assert code == 2 and "raymontology-business (business)" in out
    code, out = cli("--root", str(ROOT), "query", "system_health", "Nope")
    assert code == 2 and "'CPU'" in out
    code, out = cli("--root", str(ROOT), "query", "system_health", "CPU", "--var", "env=prod")
    assert code == 2 and "has no variable 'env'" in out and "job" in out
