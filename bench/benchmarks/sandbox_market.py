"""How efficient is the sandbox's market? The market-report figures of the default season.

Issue 9's report (over rate at the close, closing-line MAE, always-over/under ROI, ...): figures
that describe the simulated market, kept for context and never judged (their bounds are asserted
in tests/sandbox/), plus the time the report takes. Text-valued rows are printed only.
"""

from __future__ import annotations

import time

from bench.core import Context, Figure
from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED
from sandbox.league import load_league
from sandbox.market_report import market_report


def run(ctx: Context) -> list[Figure]:
    """Every numeric figure of the report (unjudged) and the report's own time."""
    league = load_league(DEFAULT_SEED, DEFAULT_SEASON)
    started = time.perf_counter()
    report = market_report(league)
    elapsed = time.perf_counter() - started
    for name, value in report.as_rows():
        print(f"{name:<32} {value}")
    print(f"{'report_seconds':<32} {elapsed:.2f}")
    numeric = {
        name: value
        for name, value in report.figures.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return [
        Figure("report", elapsed, "s"),
        *(Figure(f"market.{name}", value, "", better=None) for name, value in numeric.items()),
    ]
