"""Business: who uses Raymontology, what they search and analyse, and how fresh the DART data is.

docs/targets.md §7 lists these without targets; the high-risk line (0.8) comes from docs/targets.md §6 and the
DART freshness and success lines from the config.
"""

from generator import panels as p
from generator.config import Config
from generator.errors import DashgenError

from ..monitoring.catalog import CATALOG as C

RATE = "$__rate_interval"
WINDOWS = {"1d": "Daily", "7d": "Weekly", "30d": "Monthly"}


def build(cfg: Config):
    return p.dashboard(
        cfg,
        cfg.dashboards.business,
        "Raymontology / Business",
        "Active users, company searches, risk analyses and DART crawling (docs/targets.md §7 business metrics).",
        [
            p.row("Users", *users()),
            p.row("Company searches", *searches()),
            p.row("Risk analyses", *risk(cfg)),
            p.row("DART crawling", *dart(cfg)),
        ],
        tags=["business"],
    )


def users():
    stats = [
        p.stat(f"{label} active users", f"Distinct users active in the trailing {window}, computed by the app "
               "(no user ids in labels). Healthy: following the usual weekly pattern.",
               f"max({C.sel('raymontology_active_users', window=window)})", "short", p.neutral(), w=6, h=5)
        for window, label in WINDOWS.items()
    ]
    trend = p.timeseries("Active users", "Daily, weekly and monthly active users over time.",
                         p.target(f"max by (window) ({C.sel('raymontology_active_users')})", "{{window}}"),
                         "short", p.neutral(), w=6, h=5, legend_calcs=("lastNotNull",))
    return [*stats, trend]


def searches():
    s = "raymontology_company_searches_total"
    no_results = C.sel(s, result="no_results")
    return [
        p.stat("Company searches", "Searches in the dashboard range. Healthy: in line with active users.",
               f"round(sum(increase({C.sel(s)}[$__range])))", "short", p.neutral(), w=6, h=8, graph=False),
        p.timeseries("Searches per minute", "Company searches per minute by outcome (hit, no results, error). "
                     "Healthy: mostly hits, errors near zero.",
                     p.target(f"sum by (result) (rate({C.sel(s)}[{RATE}])) * 60", "{{result}}"),
                     "opm", p.neutral(), w=12, stacked=True, fill=30),
        p.stat("No-result share", "Share of searches in the last hour that found no company. A rise points at "
               "stale DART data or a broken index.",
               f"sum(rate({no_results}[1h])) / clamp_min(sum(rate({C.sel(s)}[1h])), 1e-9)",
               "percentunit", p.neutral(), w=6, h=8),
    ]


def risk(cfg: Config):
    t = cfg.thresholds
    hist = C.metric("risk_score_distribution_bucket")
    le = repr(float(t.high_risk_score))
    if le not in hist.le_values:
        raise DashgenError(f"high_risk_score {t.high_risk_score} is not a risk_score_distribution bucket "
                           f"bound ({', '.join(hist.le_values)}); the share above it cannot be computed")
    bucket = C.sel("risk_score_distribution_bucket", le=le)
    count = C.sel("risk_score_distribution_count")
    total = C.sel("risk_score_distribution_sum")
    return [
        p.stat("Risk analyses", "Risk analyses run in the dashboard range. Healthy: in line with searches.",
               f"round(sum(increase({C.sel('risk_analysis_total')}[$__range])))", "short", p.neutral(),
               w=6, h=8, graph=False),
        p.timeseries("Average risk score", f"Mean score of the analyses in each interval (rate of sum over rate "
                     f"of count). Scores above {t.high_risk_score:g} trigger the app's Slack warning (docs/targets.md §6).",
                     p.target(f"sum(rate({total}[{RATE}])) / sum(rate({count}[{RATE}]))", "average score"),
                     "none", p.bad_above(t.high_risk_score), w=9, min=0, max=1),
        p.timeseries(f"Share of scores above {t.high_risk_score:g}", "High-risk share of the analyses in the last "
                     "hour. A jump means many risky companies, or a scoring change.",
                     p.target(f"1 - sum(rate({bucket}[1h])) / clamp_min(sum(rate({count}[1h])), 1e-9)",
                              f"score > {t.high_risk_score:g}"),
                     "percentunit", p.neutral(), w=9, min=0),
        p.heatmap("Risk score distribution", "Analyses per second in each score bucket (0.1 wide); "
                  "a rate, so overlapping windows do not double-count. Healthy: a stable shape.",
                  p.target(f"sum by (le) (rate({C.sel('risk_score_distribution_bucket')}[{RATE}]))",
                           "{{le}}", fmt="heatmap"),
                  "none", w=24),
    ]


def dart(cfg: Config):
    t = cfg.thresholds
    crawls = "raymontology_dart_crawls_total"
    return [
        p.stat("DART crawl success rate", f"Successful share of DART crawl units in the dashboard range. "
               f"Healthy: at least {t.dart_success_target:.0%}.",
               f"sum(increase({C.sel(crawls, result='success')}[$__range])) / "
               f"clamp_min(sum(increase({C.sel(crawls)}[$__range])), 1e-9)",
               "percentunit", p.good_above(t.dart_success_target), w=6, h=8, graph=False),
        p.stat("Time since last successful crawl", f"Age of the newest DART data. Healthy: below "
               f"{t.dart_crawl_stale_seconds // 3600} h; DartCrawlStale fires above it.",
               f"time() - max({C.sel('raymontology_dart_last_success_timestamp_seconds')})",
               "s", p.bad_above(t.dart_crawl_stale_seconds), w=6, h=8, graph=False),
        p.timeseries("DART crawls", "Crawl units per minute by outcome. Healthy: steady successes, rare failures.",
                     p.target(f"sum by (result) (rate({C.sel(crawls)}[{RATE}])) * 60", "{{result}}"),
                     "opm", p.neutral(), w=12, stacked=True, fill=30),
    ]
