"""How long does one date's extraction of all three sources take, end to end?

Against the sandbox on loopback (started in-process, not counted), into a throw-away DuckDB file:
a cold run (empty warehouse), warm reruns of the same date (what the daily job pays), a past date
(historical Odds API snapshots), and the split of one warm run into its steps (printed).
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from pathlib import Path

from bench.core import Context, Figure
from extract.config import ExtractConfig, RateLimits
from extract.runner import run_extract
from sandbox.server import SandboxServer

TODAY = date(2026, 1, 15)  # the demo day
PAST = date(2026, 1, 14)
# Issue 8: the daily extract of the demo day must be no slower than it was (3.4 s warm).
WARM_TARGET_S = 3.4


def _config(server: SandboxServer, root: Path) -> ExtractConfig:
    return ExtractConfig(
        odds_api_key=server.odds_api_key,
        odds_api_base_url=server.odds_api_url,
        balldontlie_key=server.balldontlie_key,
        balldontlie_base_url=server.balldontlie_url,
        espn_base_url=server.espn_url,
        now=server.now,
        duckdb_path=root / "warehouse.duckdb",
        dlt_dir=root / "dlt",
        landing_dir=root / "landing",
        rates=RateLimits(odds_api=0, balldontlie=0, espn=0),  # loopback: no plan to respect
    )


def _timed(config: ExtractConfig, day: date) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = run_extract(config, [day])
    rows = sum(n for tables in report.dates[0].rows.values() for n in tables.values())
    return time.perf_counter() - started, rows, report.http_calls


def _print_steps(config: ExtractConfig) -> None:
    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    run_extract(config, [TODAY], step=lambda msg: marks.append((time.perf_counter(), msg)))
    marks.append((time.perf_counter(), "end"))
    print("one warm run, step by step (the last step includes writing the run log):")
    previous = t0
    labels = ["setup", *(m for _, m in marks[:-1])]
    for (at, _), label in zip(marks, labels, strict=True):
        print(f"  {at - previous:6.2f} s  {label}")
        previous = at


def run(ctx: Context) -> list[Figure]:
    """Cold, warm and past-date figures for the demo day."""
    rounds = ctx.rounds(3)
    started = time.perf_counter()
    with SandboxServer(quota=10_000_000) as server:
        sandbox_start = time.perf_counter() - started
        print(f"sandbox start (league load + index): {sandbox_start:.2f} s")
        config = _config(server, ctx.scratch)
        cold, cold_rows, cold_calls = _timed(config, TODAY)
        print(f"cold run {TODAY}: {cold:.2f} s, {cold_rows} rows, {cold_calls} HTTP calls")
        warm = [_timed(config, TODAY)[0] for _ in range(rounds)]
        print(
            f"warm rerun {TODAY} x{rounds}: median {statistics.median(warm):.2f} s, "
            f"max {max(warm):.2f} s"
        )
        past, past_rows, past_calls = _timed(config, PAST)
        print(f"past date {PAST} (historical): {past:.2f} s, {past_rows} rows, {past_calls} calls")
        _print_steps(config)
    return [
        Figure("sandbox_start", sandbox_start, "s"),
        Figure("cold", cold, "s"),
        Figure("warm_rerun", statistics.median(warm), "s", target=WARM_TARGET_S),
        Figure("past_date", past, "s"),
        Figure("cold_rows", cold_rows, "rows", better=None),
        Figure("cold_http_calls", cold_calls, "calls", better=None),
        Figure("past_rows", past_rows, "rows", better=None),
        Figure("past_http_calls", past_calls, "calls", better=None),
    ]
