"""How long does the warehouse take to build? Issue 10: a season in 60 s, a day in 2x an empty day.

The state is what a fresh clone's first `make daily` leaves (bench/season_state.py: the season so
far, 2025-10-01 to the demo day 2026-01-15, backfilled from the sandbox and built; cached once per
code version, untimed here), and the next date's extract (results of the 15th, the 16th's slate
and lines: `python -m extract --date 2026-01-16`) is loaded once into a copy of it, untimed. Then,
each round on a fresh copy, in-process through dbt's Python entry point as the daily job runs it,
with the dbt target's partial parse warm:

- `full_build`: `dbt build --full-refresh` of every model, seed and test: the season from its raw
  layer, as if nothing had been built;
- `day_build`: the next date's raw tables swapped in and the incremental `dbt build` that follows,
  touching only the new dates (`day_rows_merged`: the feature rows it added or changed);
- `empty_day_build`: the same build again with nothing new arrived: what a day costs at least.

`day_to_empty_ratio` is the issue's second target (under 2). Each figure: the median of its rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.core import Context, Figure
from bench.season_state import daily_env, season_cache, warehouse_of
from pipeline.dbt import _release_warehouse

REPO = Path(__file__).resolve().parents[2]
NEXT_DAY = "2026-01-16"
FULL_TARGET_S = 60.0
RATIO_TARGET = 2.0
FEATURES = "features.fct_player_prop_features"


def _dbt(args: list[str], warehouse: Path, target_path: Path) -> float:
    """One in-process dbt invocation (failing on any failed node): its wall time."""
    from dbt.cli.main import dbtRunner

    os.environ["DBT_PROFILES_DIR"] = str(REPO)
    os.environ["NBA_PROPS_DUCKDB_PATH"] = str(warehouse)
    started = time.perf_counter()
    result = dbtRunner().invoke(
        [
            *args,
            *("--project-dir", str(REPO), "--target", "dev"),
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


def _extract_day(state: Path) -> None:
    """The next date's extract into `state`, as the daily job's extract step loads it."""
    command = [sys.executable, "-m", "extract", "--date", NEXT_DAY]
    done = subprocess.run(  # noqa: S603 - our interpreter, arguments we build
        command, cwd=REPO, env=daily_env(state), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"extract --date {NEXT_DAY} exited {done.returncode}: {done.stdout}")


def run(ctx: Context) -> list[Figure]:
    started = time.perf_counter()
    state = season_cache()  # read-only: each round works on a copy of its warehouse
    day_state = ctx.scratch / "day"
    shutil.copytree(state, day_state, symlinks=True)
    _extract_day(day_state)
    setup = time.perf_counter() - started
    print(f"state and the {NEXT_DAY} extract: {setup:.0f} s (untimed setup)")

    full, day_builds, empty, merged = [], [], [], []
    work = ctx.scratch / "work"
    warehouse = work / "nba_props.duckdb"  # the same path every round: dbt's partial parse holds
    target = ctx.scratch / "target"
    for n in range(ctx.rounds(3, 1)):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        shutil.copyfile(warehouse_of(state), warehouse)
        if n == 0:
            _dbt(["parse"], warehouse, target)
        full.append(_dbt(["build", "--full-refresh"], warehouse, target))
        # the day's extract: the raw tables of the day's copy replace the season's
        _swap_raw(warehouse_of(day_state), warehouse)
        _keep_features(warehouse)
        day_builds.append(_dbt(["build"], warehouse, target))
        merged.append(_features_changed(warehouse))
        empty.append(_dbt(["build"], warehouse, target))
        print(
            f"round {n + 1}: full {full[-1]:.1f} s, day {day_builds[-1]:.1f} s "
            f"({merged[-1]:,.0f} feature rows merged), empty day {empty[-1]:.1f} s"
        )

    median = statistics.median
    return [
        Figure("full_build", median(full), "s", target=FULL_TARGET_S),
        Figure("day_build", median(day_builds), "s"),
        Figure("empty_day_build", median(empty), "s"),
        Figure("day_to_empty_ratio", median(day_builds) / median(empty), "x", target=RATIO_TARGET),
        Figure("day_rows_merged", median(merged), "rows", better=None),
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
