"""The warehouse on a few real weeks of the sandbox: names matched against the league's truth,
the fallback source, a stat correction, point-in-time features and incremental = full rebuild.

Each test that changes data works on its own copy of the built warehouse and runs real dbt on it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.dbt_project.conftest import DbtBuild, copy_built, run_dbt

FEATURES = "features.fct_player_prop_features"


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path)) as con:
        return con.sql(sql).fetchall()


def frame(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path)) as con:
        return con.sql(sql).df()


def execute(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


@pytest.fixture
def copy_of(dbt_build: DbtBuild, tmp_path: Path) -> Any:
    """A private copy of the built warehouse and a dbt runner for it."""
    # the same file name: DuckDB names the catalog after it, and dbt's views refer to it
    warehouse = tmp_path / dbt_build.warehouse.name
    copy_built(dbt_build.warehouse, warehouse)
    target = tmp_path / "target"

    def dbt(*args: str, check: bool = True) -> Any:
        return run_dbt(list(args), warehouse=warehouse, target_path=target, check=check)

    return warehouse, dbt


# --- names ---------------------------------------------------------------------------------------


def test_the_crosswalk_agrees_with_the_sandbox_truth(
    dbt_build: DbtBuild, sandbox_league: Any
) -> None:
    """Every ESPN id and every odds-feed spelling maps to the player the sandbox says it is."""
    truth = sandbox_league.players
    espn = dict(zip(truth["espn_id"].astype(str), truth["bdl_id"].astype(int), strict=True))
    odds = dict(zip(truth["odds_name"], truth["bdl_id"].astype(int), strict=True))
    walk = frame(
        dbt_build.warehouse,
        "select source, source_player_ref, player_id, match_method"
        " from analytics.int_player_crosswalk where source in ('espn', 'odds_api')",
    )
    assert len(walk) > 400
    wrong = [
        (r.source, r.source_player_ref, r.player_id)
        for r in walk.itertuples()
        if (espn if r.source == "espn" else odds)[r.source_player_ref] != r.player_id
    ]
    assert wrong == []
    # the quirks were there to be matched: nicknames only by the fuzzy rule, the rest by key
    quirks = truth.set_index("odds_name")["name_quirk"]
    by_quirk = walk[walk.source == "odds_api"].assign(
        quirk=lambda d: d.source_player_ref.map(quirks)
    )
    methods = by_quirk.groupby("quirk")["match_method"].agg(set).to_dict()
    assert methods["nickname"] == {"fuzzy"}
    for quirk in ("accent", "jr", "numeral", "initials", "particle", "shared_surname"):
        assert methods.get(quirk) == {"exact_key"}, quirk


def test_no_name_is_left_unmatched(dbt_build: DbtBuild) -> None:
    assert rows(dbt_build.warehouse, "select * from analytics.int_player_names_unmatched") == []


# a later dlt load than any in the table, as every new row arrives (the staging of the odds feed
# is incremental by load)
LATER_LOAD = (
    "cast((select max(cast(_dlt_load_id as double)) from raw_odds_api.player_props) + 3600"
    " as varchar) as _dlt_load_id"
)


# the name matching and all it feeds, and the odds feed's staging (a table) that takes the rows in
STAGED_NAMES_ON = ("stg_odds_api__player_props", "int_player_names_matched+")


def _insert_prop_names(warehouse: Path, names: list[str]) -> None:
    """Copy one real prop row per name, spelt as no player is (a name the sandbox never sent)."""
    for name in names:
        execute(
            warehouse,
            "insert into raw_odds_api.player_props select * replace"
            f" ('{name}' as outcome__description, 'x' || _dlt_id as _dlt_id, {LATER_LOAD})"
            " from raw_odds_api.player_props limit 1",
        )


def test_a_name_nobody_sent_is_reported_by_name_then_fails_past_the_threshold(copy_of: Any) -> None:
    warehouse, dbt = copy_of
    _insert_prop_names(warehouse, ["Zebulon Quixote"])
    result = dbt(
        "build",
        "--select",
        *STAGED_NAMES_ON,
        "--exclude",
        "fct_player_prop_features",
    )
    assert rows(
        warehouse, "select source, player_name from analytics.int_player_names_unmatched"
    ) == [("odds_api", "Zebulon Quixote")]
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert any(s == "warn" for n, s in statuses.items() if n.startswith("row_count_at_most"))

    _insert_prop_names(warehouse, [f"Nobody Number{i}" for i in range(6)])
    result = dbt(
        "build",
        "--select",
        *STAGED_NAMES_ON,
        "--exclude",
        "fct_player_prop_features",
        check=False,
    )
    assert not result.success
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    assert any(s == "fail" for n, s in statuses.items() if n.startswith("row_count_at_most"))


def test_an_override_row_fixes_a_name(copy_of: Any) -> None:
    """The override seed maps a spelling no rule would (a different given name, same person)."""
    warehouse, dbt = copy_of
    # a real odds-feed row under a name that shares nothing with the player's but the surname
    player = rows(
        warehouse,
        "select p.outcome__description, k.player_name_key from raw_odds_api.player_props as p"
        " join analytics.int_player_crosswalk as k on k.source = 'odds_api'"
        " and k.source_player_ref = p.outcome__description limit 1",
    )[0]
    surname = player[1].split(" ", 1)[1]
    alias = f"Zed {surname.title()}"
    execute(
        warehouse,
        "insert into raw_odds_api.player_props select * replace"
        f" ('{alias}' as outcome__description, 'y' || _dlt_id as _dlt_id, {LATER_LOAD})"
        f" from raw_odds_api.player_props where outcome__description = '{player[0]}'",
    )
    dbt("run", "--select", *STAGED_NAMES_ON, "--exclude", "fct_player_prop_features")
    assert rows(
        warehouse,
        f"select count(*) from analytics.int_player_names_unmatched where player_name = '{alias}'",
    ) == [(1,)]
    # a row of seeds/player_name_overrides.csv, as the seed would load it
    execute(
        warehouse,
        "insert into reference.player_name_overrides"
        f" values ('odds_api', '{alias}', '{player[1]}', 'test')",
    )
    dbt("run", "--select", *STAGED_NAMES_ON, "--exclude", "fct_player_prop_features")
    assert rows(
        warehouse,
        "select match_method from analytics.int_player_crosswalk"
        f" where source = 'odds_api' and source_player_ref = '{alias}'",
    ) == [("override",)]


# --- facts ---------------------------------------------------------------------------------------


def test_a_game_balldontlie_lacks_comes_from_espn_and_says_so(copy_of: Any) -> None:
    warehouse, dbt = copy_of
    game_id, bdl_game_id = rows(
        warehouse,
        "select game_id, bdl_game_id from analytics.dim_games"
        " where is_final order by game_id limit 1",
    )[0]
    before = frame(
        warehouse,
        "select player_id, points, rebounds, assists, threes_made, did_not_play"
        f" from analytics.fct_player_games where game_id = '{game_id}' order by player_id",
    )
    execute(warehouse, f"delete from raw_balldontlie.stats where game__id = {bdl_game_id}")
    dbt("run", "--select", "fct_player_games")
    after = frame(
        warehouse,
        "select player_id, points, rebounds, assists, threes_made, did_not_play, stat_source"
        f" from analytics.fct_player_games where game_id = '{game_id}' order by player_id",
    )
    assert set(after["stat_source"]) == {"espn"}
    pd.testing.assert_frame_equal(after.drop(columns="stat_source"), before, check_dtype=False)


def test_dim_games_reconciles_all_three_sources(dbt_build: DbtBuild) -> None:
    [(loaded,)] = rows(dbt_build.warehouse, "select count(*) from raw_balldontlie.games")
    assert rows(
        dbt_build.warehouse,
        "select count(*), count(*) filter (where n_sources = 3),"
        " count(*) filter (where has_score_conflict or has_status_conflict or has_date_conflict)"
        " from analytics.dim_games where game_date <= date '2025-11-16'",
    ) == [(loaded, loaded, 0)]


# --- the feature store ---------------------------------------------------------------------------

PIT_DATE = date(2025, 11, 10)


def _features_of(warehouse: Path, day: date) -> pd.DataFrame:
    return frame(
        warehouse,
        f"select * exclude (inputs_loaded_at) from {FEATURES} where game_date = date '{day}'"
        " order by player_id, game_id, market",
    )


def test_features_of_a_date_do_not_move_when_everything_after_pick_time_changes(
    copy_of: Any,
) -> None:
    warehouse, dbt = copy_of
    before = _features_of(warehouse, PIT_DATE)
    later = date(2025, 11, 12)
    later_before = _features_of(warehouse, later)
    assert len(before) > 100
    pick = f"timezone('UTC', timezone('America/New_York', timestamp '{PIT_DATE} 12:00:00'))"
    execute(
        warehouse,
        # every box score from that date on: doubled, and minutes halved
        "update raw_balldontlie.stats set pts = pts * 2 + 7, reb = reb + 5, ast = ast + 3,"
        f" fg3m = fg3m + 1, fga = fga + 4, min = '12' where game__date >= date '{PIT_DATE}'",
        "update raw_espn.player_box_scores set stats__points = '99' where event_id in"
        f" (select id from raw_espn.events where date >= {pick})",
        # every line snapshot taken after pick time that day, and every later day's
        "update raw_odds_api.player_props set outcome__point = outcome__point + 6.5,"
        f" outcome__price = 1.5 where snapshot_at > {pick}",
    )
    dbt("build", "--full-refresh", "--exclude", "resource_type:test", "resource_type:unit_test")
    after = _features_of(warehouse, PIT_DATE)
    pd.testing.assert_frame_equal(after, before)
    # while a later date's features, built on the changed games, did move
    assert not _features_of(warehouse, later).equals(later_before)


def test_a_stat_correction_moves_the_features_built_on_it_and_incremental_equals_full(
    copy_of: Any,
) -> None:
    warehouse, dbt = copy_of
    player_id, bdl_game_id, game_date = rows(
        warehouse,
        "select s.player__id, s.game__id, s.game__date from raw_balldontlie.stats as s"
        " where s.min not in ('', '00') and s.min is not null"
        " and s.game__date = date '2025-11-01' order by s.pts desc limit 1",
    )[0]
    next_game = f"""
        select stat_avg_5 from {FEATURES}
        where player_id = {player_id} and market = 'points' and game_date > date '{game_date}'
        order by game_date limit 1"""
    earlier = f"""
        select stat_avg_5 from {FEATURES}
        where player_id = {player_id} and market = 'points' and game_date <= date '{game_date}'
        order by game_date"""
    before_next, before_earlier = rows(warehouse, next_game), rows(warehouse, earlier)
    # the correction arrives in a later load: ten more points for that game
    execute(
        warehouse,
        "update raw_balldontlie.stats set pts = pts + 10,"
        " _dlt_load_id = cast(cast(_dlt_load_id as double) + 86400 as varchar)"
        f" where player__id = {player_id} and game__id = {bdl_game_id}",
    )
    dbt("build", "--exclude", "resource_type:test", "resource_type:unit_test")
    assert rows(warehouse, next_game)[0][0] == pytest.approx(before_next[0][0] + 2.0)
    assert rows(warehouse, earlier) == before_earlier

    incremental = frame(
        warehouse, f"select * exclude (inputs_loaded_at) from {FEATURES} order by all"
    )
    dbt("run", "--full-refresh", "--select", "fct_player_prop_features")
    full = frame(warehouse, f"select * exclude (inputs_loaded_at) from {FEATURES} order by all")
    pd.testing.assert_frame_equal(incremental, full)


def test_every_line_has_a_feature_row_and_rotation_players_do_too(dbt_build: DbtBuild) -> None:
    missing = rows(
        dbt_build.warehouse,
        "select count(*) from analytics.fct_prop_line_consensus as l"
        f" left join {FEATURES} as f using (player_id, game_id, market)"
        " where l.player_id is not null and l.pick_line is not null and f.player_id is null",
    )
    assert missing == [(0,)]
    no_line = rows(
        dbt_build.warehouse,
        f"select count(*) from {FEATURES} where pick_line is null and minutes_played_avg_10 >= 12",
    )
    assert no_line[0][0] > 0
