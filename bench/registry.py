"""The registered benchmarks, in the order `python -m bench run` runs them.

Adding one is a function in bench/benchmarks/ and one line here (see bench/README.md). What does
not exist yet (three seasons of history: the sandbox serves one) has no line: an unregistered
benchmark is absent from the results, never a made-up figure.
"""

from __future__ import annotations

from bench.core import Benchmark, Derived

REGISTRY: tuple[Benchmark, ...] = (
    Benchmark(
        "toolchain_floor",
        "bench.benchmarks.toolchain_floor:run",
        "tool start-ups of a daily run on an empty day: 3 dlt loads, dbt build, catboost import",
        runs=3,  # about 55 s a run (a season's dbt build, twice): 5 runs cost 2 more minutes
    ),
    Benchmark(
        "extract_day",
        "bench.benchmarks.extract_day:run",
        "extract of the demo day from the sandbox: cold, warm reruns, a past date",
    ),
    Benchmark(
        "backfill_season",
        "bench.benchmarks.backfill_season:run",
        "the 2025-26 sandbox season into the raw layer in week chunks (quick: two weeks)",
        runs=1,
        timeout_s=900.0,
    ),
    Benchmark(
        "dbt_warehouse",
        "bench.benchmarks.dbt_warehouse:run",
        "dbt: full build of the season so far, a day's incremental build, an empty day's build",
        runs=1,
        timeout_s=900.0,
    ),
    Benchmark(
        "daily_run",
        "bench.benchmarks.daily_run:run",
        "the next date's `make daily` on the season so far, and on three seasons of history",
        runs=1,
        timeout_s=2400.0,  # a cold cache first backfills two seasons of history (about 6 min)
    ),
    Benchmark(
        "models",
        "bench.benchmarks.models:run",
        "the walk-forward backtest against the oracle and the closing line; scoring throughput",
        runs=1,
        timeout_s=1200.0,
    ),
    Benchmark(
        "sandbox_league",
        "bench.benchmarks.sandbox_league:run",
        "simulated season: cold build, cache load, generation, memory",
    ),
    Benchmark(
        "sandbox_server",
        "bench.benchmarks.sandbox_server:run",
        "one day's extractor traffic against the sandbox over loopback HTTP",
    ),
    Benchmark(
        "sandbox_backfill_reads",
        "bench.benchmarks.sandbox_backfill_reads:run",
        "a season's backfill range reads against the sandbox: per-kind req/s, season total",
        runs=3,
    ),
    Benchmark(
        "sandbox_market",
        "bench.benchmarks.sandbox_market:run",
        "the sandbox market's efficiency figures (issue 9's report) and the report's time",
        runs=3,
    ),
)


# Figures the runner computes from two others of the same run (bench/runner.py, `derive`).
DERIVED: tuple[Derived, ...] = (
    # issue 12: a day at most 2x the least a daily run can cost here
    Derived("floor_ratio", "daily_run.next_day", "toolchain_floor.floor_total", target=2.0),
)


def by_name(names: list[str] | None) -> tuple[Benchmark, ...]:
    """The registered benchmarks named (all when `names` is empty); unknown names raise KeyError."""
    if not names:
        return REGISTRY
    known = {b.name: b for b in REGISTRY}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown benchmark(s) {unknown}; registered: {', '.join(known)}")
    return tuple(known[n] for n in names)
