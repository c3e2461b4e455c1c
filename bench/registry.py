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
        runs=3,  # about 15 s a run; the floor ratio's denominator, so never fewer
        states=("season",),
    ),
    Benchmark(
        "extract_day",
        "bench.benchmarks.extract_day:run",
        "extract of the demo day from the sandbox: cold, warm reruns, a past date",
        runs=3,  # each run already takes three warm reruns' median
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
        states=("season",),
    ),
    Benchmark(
        "daily_run",
        "bench.benchmarks.daily_run:run",
        "the next date's `make daily` on the season so far, and on three seasons of history",
        runs=1,
        timeout_s=900.0,
        states=("season", "history"),
        quick_states=("season",),  # a quick run has no history rounds
    ),
    Benchmark(
        "models",
        "bench.benchmarks.models:run",
        "the walk-forward backtest against the oracle and the closing line; scoring throughput",
        runs=1,
        timeout_s=1200.0,
        states=("season",),
    ),
    Benchmark(
        "sandbox_league",
        "bench.benchmarks.sandbox_league:run",
        "simulated season: cold build, cache load, generation, memory",
        runs=3,
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
        runs=1,  # about 20 s; the sandbox's own speed, with a narrow spread over runs
    ),
    Benchmark(
        "sandbox_market",
        "bench.benchmarks.sandbox_market:run",
        "the sandbox market's efficiency figures (issue 9's report) and the report's time",
        runs=1,  # the figures are deterministic (a seed's market); only the report's time varies
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
