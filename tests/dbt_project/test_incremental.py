"""Incremental models built day by day, with late and corrected data, equal a full refresh.

The raw weeks are loaded as the daily job meets them: the season so far, then the line snapshots
of later days in loads of their own (each with a later dlt load id), a book's snapshots of an old
game that arrive days late, a moved tip-off, and a new spelling of a player that an override
row later maps to him. After each load an incremental build; at the end every incremental table
must hold exactly the rows a `--full-refresh` build gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.dbt_project.conftest import DbtBuild, copy_built, copy_raw, run_dbt

# the raw tables of the odds feed, insert-only like every snapshot table
ODDS = ("player_props", "game_lines")
# The incremental models: those built from the line snapshots, and the feature store
# (test_warehouse.py also corrects a box score under it).
FEATURES = "features.fct_player_prop_features"
INCREMENTAL = (
    "staging.stg_odds_api__player_props",
    "analytics.fct_prop_lines",
    "analytics.fct_prop_line_consensus",
    "staging.stg_odds_api__game_lines",
    "analytics.fct_game_lines",
    FEATURES,
)
# Columns that differ from a full refresh by design: a feature row records the loads the run that
# computed it had seen, and a row computed days ago saw fewer than a rebuild does.
RUN_COLUMNS = {FEATURES: ("inputs_loaded_at",)}
HELD_FROM = "2025-11-08"
LATE_DAY = "2025-11-01"
# a game of this day has its tip-off corrected alone, after every other load
ALONE_DAY = "2025-11-05"
NO_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")


def _hashes(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse)) as con:
        hashes = {}
        for table in INCREMENTAL:
            excluded = RUN_COLUMNS.get(table)
            rows = f"(select * exclude ({', '.join(excluded)}) from {table})" if excluded else table
            hashes[table] = con.sql(f"select count(*), sum(hash(t)) from {rows} as t").fetchone()
        return hashes


def _execute(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def _release(warehouse: Path, where: str) -> int:
    """Move held-back snapshots into the raw tables as one new load, a day after the last."""
    released = 0
    with duckdb.connect(str(warehouse)) as con:
        (load_id,) = con.sql(
            "select cast(max(cast(_dlt_load_id as double)) + 86400 as varchar)"
            " from raw_odds_api.player_props"
        ).fetchone()
        for table in ODDS:
            (count,) = con.sql(f"select count(*) from held_{table} where {where}").fetchone()
            con.execute(
                f"insert into raw_odds_api.{table} by name select * replace"
                f" ('{load_id}' as _dlt_load_id) from held_{table} where {where}"
            )
            con.execute(f"delete from held_{table} where {where}")
            released += count
    return released


def _next_load_id(warehouse: Path) -> str:
    """A dlt load id a day after every load of every raw table so far."""
    with duckdb.connect(str(warehouse)) as con:
        tables = con.sql(
            "select distinct table_schema, table_name from information_schema.columns"
            " where column_name = '_dlt_load_id' and table_schema like 'raw%'"
        ).fetchall()
        (load_id,) = con.sql(
            "select cast(max(cast(_dlt_load_id as double)) + 86400 as varchar) from ("
            + " union all ".join(f"select _dlt_load_id from {s}.{t}" for s, t in tables)
            + ")"
        ).fetchone()
        return load_id


def _rename_a_player(warehouse: Path) -> tuple[str, str]:
    """A late load spells a player anew; then an override row maps that spelling to him."""
    with duckdb.connect(str(warehouse)) as con:
        name, key = con.sql(
            "select source_player_ref, player_name_key from analytics.int_player_crosswalk"
            " where source = 'odds_api' order by all limit 1"
        ).fetchone()
        alias = "Zed " + key.split(" ", 1)[1].title()
        con.execute(
            "insert into raw_odds_api.player_props select * replace ("
            f" '{alias}' as outcome__description, 'z' || _dlt_id as _dlt_id,"
            " cast(cast(_dlt_load_id as double) + 90 * 86400 as varchar) as _dlt_load_id)"
            f" from raw_odds_api.player_props where outcome__description = '{name}'"
        )
        return alias, key


@pytest.fixture(scope="module")
def day_by_day(raw_weeks: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("incremental")
    warehouse = copy_raw(raw_weeks, workdir)
    target = workdir / "target"

    def dbt(*args: str) -> Any:
        return run_dbt(list(args), warehouse=warehouse, target_path=target)

    # the games of LATE_DAY tip off between noon UTC that day and noon UTC the next
    late = (
        f"event__commence_time >= timestamptz '{LATE_DAY} 12:00:00+00'"
        f" and event__commence_time < timestamptz '{LATE_DAY} 12:00:00+00' + interval 1 day"
        " and bookmaker__key = 'draftkings'"
    )
    held = f"snapshot_at >= date '{HELD_FROM}' or ({late})"
    for table in ODDS:
        # every snapshot from HELD_FROM on, and one book's snapshots of an old day, held back
        _execute(
            warehouse,
            f"create table held_{table} as select * from raw_odds_api.{table} where {held}",
            f"delete from raw_odds_api.{table} where {held}",
        )
    dbt("build", *NO_TESTS)
    released = []
    for day in ("2025-11-08", "2025-11-10", "2025-11-12"):
        released.append(_release(warehouse, f"snapshot_at < date '{day}' + 2 and not ({late})"))
        dbt("build", *NO_TESTS)
    # a book's snapshots of a game two weeks old arrive late, then the rest
    released.append(_release(warehouse, late))
    dbt("build", *NO_TESTS)
    released.append(_release(warehouse, "true"))
    # a game's tip-off is corrected in a later load: its lines' pre-game flags may move
    _execute(
        warehouse,
        "update raw_balldontlie.games set datetime = datetime - interval 2 hour,"
        " _dlt_load_id = cast(cast(_dlt_load_id as double) + 30 * 86400 as varchar)"
        " where id = (select min(id) from raw_balldontlie.games where date = date '2025-11-03')",
    )
    dbt("build", *NO_TESTS)
    # a new spelling arrives unmatched, then an override row (as the seed would load it) maps it:
    # `run`, not `build`, from here on, which would reload the seed from its file
    alias, key = _rename_a_player(warehouse)
    dbt("run")
    _execute(
        warehouse,
        "insert into reference.player_name_overrides"
        f" values ('odds_api', '{alias}', '{key}', 'test')",
    )
    dbt("run")
    # A tip-off correction arrives alone on a later day: the game's new listing, and no line, box
    # score or injury report of it (two hours earlier, still after pick time).
    _execute(
        warehouse,
        "update raw_balldontlie.games set datetime = datetime - interval 2 hour,"
        f" _dlt_load_id = '{_next_load_id(warehouse)}'"
        f" where id = (select max(id) from raw_balldontlie.games where date = date '{ALONE_DAY}')",
    )
    dbt("run")
    incremental = _hashes(warehouse)
    dbt("run", "--full-refresh")
    with duckdb.connect(str(warehouse)) as con:
        renamed = con.sql(
            f"select count(*) from analytics.fct_prop_lines where player_name = '{alias}'"
            " and player_id is not null"
        ).fetchone()[0]
        # two spellings of one player in one event (the new one mapped) give him one feature row
        (duplicates,) = con.sql(
            f"select count(*) - count(distinct (player_id, game_id, market)) from {FEATURES}"
        ).fetchone()
        # the corrected game's feature rows, at its corrected tip-off
        corrected = con.sql(
            f"select count(*) from {FEATURES} as f"
            " inner join analytics.dim_games as g using (game_id)"
            " inner join raw_balldontlie.games as r on g.bdl_game_id = r.id"
            " where f.tipoff_at = cast(timezone('UTC', r.datetime) as timestamp)"
            " and r.id = (select max(id) from raw_balldontlie.games"
            f" where date = date '{ALONE_DAY}')"
        ).fetchone()[0]
    return {
        "released": released,
        "renamed": renamed,
        "duplicates": duplicates,
        "corrected": corrected,
        "incremental": incremental,
        "full": _hashes(warehouse),
    }


def test_every_held_back_load_arrived_and_the_new_spelling_was_matched(
    day_by_day: dict[str, Any],
) -> None:
    assert all(count > 0 for count in day_by_day["released"]), day_by_day["released"]
    assert day_by_day["renamed"] > 0
    assert day_by_day["duplicates"] == 0
    # the lone tip-off correction reached the features of its game
    assert day_by_day["corrected"] > 0


@pytest.mark.parametrize("table", sorted(INCREMENTAL))
def test_day_by_day_incremental_equals_full_refresh(day_by_day: dict[str, Any], table: str) -> None:
    assert day_by_day["incremental"][table] == day_by_day["full"][table]


# --- the daily job's tests of new rows -----------------------------------------------------------

GRAIN_TEST = "test_name:unique_combination_of_columns,stg_odds_api__player_props"


def _grain_test(warehouse: Path, target: Path, *vars_: str) -> str:
    args = ["test", "--select", GRAIN_TEST, *vars_]
    result = run_dbt(args, warehouse=warehouse, target_path=target, check=False)
    (status,) = {str(r.status) for r in result.result.results}
    return status


def test_the_daily_job_checks_the_rows_loaded_since_its_last_build(
    dbt_build: DbtBuild, tmp_path: Path
) -> None:
    """With the daily job's var a grain test reads the rows loaded since the last `dbt_features`
    step that passed; without it (make test, a full build) every row."""
    warehouse = copy_built(dbt_build.warehouse, tmp_path / dbt_build.warehouse.name)
    daily = ("--vars", "{tests_on_new_loads_only: true}")
    table = "staging.stg_odds_api__player_props"
    _execute(
        warehouse,
        "create schema raw_pipeline",
        "create table raw_pipeline.run_log (step varchar, status varchar, started_at timestamp)",
        # the last good build started after every staged load; a failed one started later still
        "insert into raw_pipeline.run_log select 'dbt_features', 'ok', max(loaded_at)"
        f" + interval 1 minute from {table}",
        "insert into raw_pipeline.run_log select 'dbt_features', 'failed', max(loaded_at)"
        f" + interval 1 hour from {table}",
        # an old row twice: a repeat a full check finds and the daily job's does not read
        f"insert into {table} select * from {table} where loaded_at = (select min(loaded_at)"
        f" from {table}) limit 1",
    )
    assert _grain_test(warehouse, tmp_path / "daily", *daily) == "pass"
    assert _grain_test(warehouse, tmp_path / "full") == "fail"
    # a row loaded since, twice: the daily job's check finds it
    _execute(
        warehouse,
        "create temp table twice as select * replace (loaded_at + interval 1 day as loaded_at)"
        f" from {table} where loaded_at = (select max(loaded_at) from {table}) limit 1",
        f"insert into {table} select * from twice",
        f"insert into {table} select * from twice",
    )
    assert _grain_test(warehouse, tmp_path / "daily", *daily) == "fail"
