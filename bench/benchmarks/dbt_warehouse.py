"""How long does the warehouse take to build? Issue 10: a season in 60 s, a day in 2x an empty day.

The raw layer is the sandbox's season so far as the demo day's run finds it (2025-10-01 to the eve
of the demo day, the default backfill of `make daily`; quick: four weeks), backfilled over loopback
HTTP and kept untimed. Then, each in-process through dbt's Python entry point as the daily job runs
it, with the dbt target's partial parse warm:

- `full_build`: `dbt build` of every model, seed and test on a fresh copy of that raw layer;
- `day_build`: the next date extracted (results of the day before, its slate and lines) and the
  incremental `dbt build` that follows, touching only the new dates (`day_rows_merged`: the
  feature rows it added or changed);
- `empty_day_build`: the same build again with nothing new arrived: what a day costs at least.

`day_to_empty_ratio` is the issue's second target (under 2). Each figure: the median of its rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.benchmarks.backfill_season import _config, sandbox_process
from bench.core import Context, Figure
from extract.backfill import run_backfill
from pipeline.dbt import _release_warehouse

REPO = Path(__file__).resolve().parents[2]
SEASON_FIRST = date(2025, 10, 1)
DEMO_DATE = date(2026, 1, 15)
QUICK_FIRST, QUICK_DAY = date(2025, 10, 21), date(2025, 11, 17)
FULL_TARGET_S = 60.0
RATIO_TARGET = 2.0
FEATURES = "features.fct_player_prop_features"


def _now(day: date) -> datetime:
    """Noon in New York on `day` (17:00 UTC in winter): the daily job's morning."""
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC)


def _dbt(args: list[str], warehouse: Path, target_path: Path) -> float:
    """One in-process dbt invocation (failing on any failed node): its wall time."""
    from dbt.cli.main import dbtRunner

    os.environ["DBT_PROFILES_DIR"] = str(REPO)
    os.environ["NBA_PROPS_TEST_DUCKDB_PATH"] = str(warehouse)
    started = time.perf_counter()
    result = dbtRunner().invoke(
        [
            *args,
            *("--project-dir", str(REPO), "--target", "test"),
            *("--target-path", str(target_path), "--log-path", str(target_path / "logs")),
            "--quiet",
        ]
    )
    wall = time.perf_counter() - started
    _release_warehouse()  # dbt-duckdb keeps the file open: the next round's fresh copy must be read
    if result.exception is not None:
        raise result.exception
    results = getattr(result.result, "results", [])  # `parse` returns a manifest, no results
    failed = [
        f"{r.node.unique_id}: {r.status}"
        for r in results
        if str(r.status) not in {"success", "pass"}
    ]
    if failed:
        raise RuntimeError("dbt " + " ".join(args) + " failed: " + "; ".join(failed[:5]))
    return wall


def run(ctx: Context) -> list[Figure]:
    first, day = (QUICK_FIRST, QUICK_DAY) if ctx.quick else (SEASON_FIRST, DEMO_DATE)
    rounds = ctx.rounds(3, 1)
    raw_dir, work = ctx.scratch / "raw", ctx.scratch / "work"
    with sandbox_process() as url:
        config = _config(url, raw_dir)
        config = config.with_changes(
            odds=replace(config.odds, credit_budget=100_000_000), now=_now(day - timedelta(days=1))
        )
        started = time.perf_counter()
        run_backfill(config, first, day - timedelta(days=1))
        backfill_s = time.perf_counter() - started
        print(f"raw layer {first}..{day - timedelta(days=1)}: {backfill_s:.0f} s (untimed setup)")
        # the next date's extract lands in its own raw copy, once: each round replays it
        day_raw = ctx.scratch / "day_raw"
        shutil.copytree(raw_dir, day_raw)
        day_config = _config(url, day_raw).with_changes(
            odds=replace(config.odds, credit_budget=100_000_000), now=_now(day)
        )
        run_backfill(day_config, day, day)

    full, day_builds, empty, merged = [], [], [], []
    for n in range(rounds):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir()
        warehouse = work / "nba_props_test.duckdb"
        target = ctx.scratch / "target"  # shared across rounds: partial parse stays warm
        shutil.copyfile(raw_dir / "warehouse.duckdb", warehouse)
        if n == 0:
            _dbt(["parse"], warehouse, target)
        seconds = _dbt(["build"], warehouse, target)
        full.append(seconds)
        # the day's extract: the raw tables of the day's copy replace the season's
        _swap_raw(day_raw / "warehouse.duckdb", warehouse)
        _keep_features(warehouse)
        seconds = _dbt(["build"], warehouse, target)
        day_builds.append(seconds)
        merged.append(_features_changed(warehouse))
        seconds = _dbt(["build"], warehouse, target)
        empty.append(seconds)
        print(
            f"round {n + 1}: full {full[-1]:.1f} s, day {day_builds[-1]:.1f} s "
            f"({merged[-1]:,.0f} feature rows merged), empty day {empty[-1]:.1f} s"
        )

    median = statistics.median
    return [
        Figure("full_build", median(full), "s", target=None if ctx.quick else FULL_TARGET_S),
        Figure("day_build", median(day_builds), "s"),
        Figure("empty_day_build", median(empty), "s"),
        Figure(
            "day_to_empty_ratio",
            median(day_builds) / median(empty),
            "x",
            target=None if ctx.quick else RATIO_TARGET,
        ),
        Figure("day_rows_merged", median(merged), "rows", better=None),
        Figure("raw_backfill_setup", backfill_s, "s", better=None),
    ]


def _keep_features(warehouse: Path) -> None:
    """A copy of the feature store before the day's build, in a schema of the benchmark's own."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists bench")
        con.execute(
            f"create or replace table bench.features_before as"
            f" select * exclude (inputs_loaded_at) from {FEATURES}"
        )


def _features_changed(warehouse: Path) -> float:
    """Feature rows the day's build added or changed: what its merge really wrote."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        (changed,) = con.execute(
            f"select count(*) from (select * exclude (inputs_loaded_at) from {FEATURES}"
            " except all select * from bench.features_before)"
        ).fetchone()
        con.execute("drop schema bench cascade")
    return float(changed)


def _swap_raw(source: Path, warehouse: Path) -> None:
    """Replace every raw_* schema of `warehouse` with `source`'s: the day's extract, as loaded."""
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{source}' as day_raw (read_only)")
        schemas = [
            row[0]
            for row in con.execute(
                "select distinct schema_name from duckdb_tables()"
                " where database_name = 'day_raw' and schema_name like 'raw%'"
            ).fetchall()
        ]
        for schema in schemas:
            tables = con.execute(
                "select table_name from duckdb_tables()"
                " where database_name = 'day_raw' and schema_name = ?",
                [schema],
            ).fetchall()
            con.execute(f'create schema if not exists "{schema}"')
            for (table,) in tables:
                con.execute(
                    f'create or replace table "{schema}"."{table}" as'
                    f' select * from day_raw."{schema}"."{table}"'
                )
        con.execute("detach day_raw")
    print(f"  day extract swapped in: {len(schemas)} raw schemas")
