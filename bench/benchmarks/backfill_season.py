"""How long does a whole season take to reach the raw layer (issue 8: under 3 minutes, 1.5 GB)?

`run_backfill` over the sandbox's 2025-26 regular season in week chunks into a throw-away DuckDB
file, against the sandbox served by a process of its own (as a real API would be: the sandbox's
league and response cache are not the extractor's memory, and it serves on the other core). The
split sums each source's steps over the chunks: http (waiting on the API), validate (shaping and
checking records), normalize, load. `extract_peak_rss` is the extracting process alone; the
benchmark's `peak_rss` is its largest process, the sandbox included. A quick run does two weeks.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from bench.core import Context, Figure
from bench.upstream import BDL_KEY, ODDS_KEY, sandbox_process
from extract.backfill import run_backfill
from extract.config import ExtractConfig, RateLimits
from sandbox.server import PREFIXES

SEASON = (date(2025, 10, 21), date(2026, 4, 12))
QUICK = (date(2025, 11, 3), date(2025, 11, 16))
NOW = datetime(2026, 4, 13, 16, 0, tzinfo=UTC)  # the morning after the last regular-season day
TARGET_S = 180.0


def own_peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _config(url: str, root: Path) -> ExtractConfig:
    return ExtractConfig(
        odds_api_key=ODDS_KEY,
        odds_api_base_url=url + PREFIXES["odds"],
        balldontlie_key=BDL_KEY,
        balldontlie_base_url=url + PREFIXES["bdl"],
        espn_base_url=url + PREFIXES["espn"],
        now=NOW,
        duckdb_path=root / "warehouse.duckdb",
        dlt_dir=root / "dlt",
        landing_dir=root / "landing",
        rates=RateLimits(odds_api=0, balldontlie=0, espn=0),  # loopback: no plan to respect
    )


def run(ctx: Context) -> list[Figure]:
    first, last = QUICK if ctx.quick else SEASON
    with sandbox_process(NOW) as url:
        config = _config(url, ctx.scratch)
        config = config.with_changes(odds=replace(config.odds, credit_budget=100_000_000))
        started = time.perf_counter()
        report = run_backfill(config, first, last)
        wall = time.perf_counter() - started
    rows = sum(n for d in report.dates for t in d.rows.values() for n in t.values())
    split = {"http": 0.0, "validate": 0.0, "normalize": 0.0, "load": 0.0}
    for d in report.dates:
        for steps in d.steps_by_source.values():
            for step, seconds in steps.items():
                split[step] += seconds
    days = (last - first).days + 1
    print(f"backfill {first}..{last} ({days} dates, {len(report.dates)} chunks): {wall:.1f} s")
    print(f"  {rows:,} rows ({rows / wall:,.0f} a second), {report.http_calls:,} HTTP calls")
    print("  split: " + ", ".join(f"{k} {v:.1f} s" for k, v in split.items()))
    return [
        Figure("wall", wall, "s", target=None if ctx.quick else TARGET_S),
        Figure("rows_per_second", rows / wall, "rows/s", better="higher"),
        Figure("extract_peak_rss", own_peak_rss_mib(), "MiB", target=1536.0),
        Figure("rows", rows, "rows", better=None),
        Figure("http_calls", report.http_calls, "calls", better=None),
        *(Figure(f"split.{k}", v, "s") for k, v in split.items()),
    ]
