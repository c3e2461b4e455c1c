"""Whole days against the sandbox over loopback: a normal day, reruns, a past day, an empty day."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dlt
import duckdb
import pandas as pd
import pytest

from extract.config import DATASETS, LOG_DATASET, OddsSettings
from extract.errors import ExtractError
from extract.runner import run_extract
from tests.extract.conftest import (
    TODAY,
    YESTERDAY,
    fingerprint,
    make_config,
    query,
    run,
    table_names,
    warehouse_state,
)

EASTERN = ZoneInfo("America/New_York")
RAW_TABLES = {
    "raw_odds_api": ["events", "game_lines", "player_props"],
    "raw_balldontlie": ["games", "players", "stats"],
    "raw_espn": ["competitors", "events", "player_box_scores"],
    # balldontlie's injuries are a paid endpoint: the default (free) plan never asks for them
    "raw_injuries": ["espn_injuries"],
}


def test_a_normal_day_loads_every_raw_table(loaded_three_times: Any, sandbox_league: Any) -> None:
    config, reports, prints = loaded_three_times
    names = table_names(config.duckdb_path)
    for dataset, tables in RAW_TABLES.items():
        assert names[dataset] == tables
    assert {"runs", "odds_api_calls"} <= set(names[LOG_DATASET])
    first = prints[0]
    assert all(rows > 0 for rows, _ in first.values()), first
    yesterday_games = sandbox_league.games_on(YESTERDAY)
    today_games = sandbox_league.games_on(TODAY)
    box_rows = sum(len(sandbox_league.box_of(k)) for k in yesterday_games["game_key"])
    assert first["raw_balldontlie.stats"][0] == box_rows
    assert first["raw_espn.player_box_scores"][0] == box_rows
    assert first["raw_balldontlie.games"][0] == len(yesterday_games) + len(today_games)
    assert first["raw_espn.events"][0] == len(yesterday_games) + len(today_games)
    # live Odds API: today's games not yet started, with props and featured lines at `now`
    assert first["raw_odds_api.events"][0] == len(today_games)
    assert reports[0].dates[0].quarantined == 0
    assert reports[0].odds_credits_spent == 4 * len(today_games) + 3


RAW_SOURCES = ("odds_api", "balldontlie", "espn", "injuries")


def test_running_a_day_three_times_changes_nothing(loaded_three_times: Any) -> None:
    """Every raw data table: the same row count and checksum (over all its columns but dlt's
    `_dlt_load_id`/`_dlt_id`) after each run. dlt's own tables are not expected to stay the
    same: `_dlt_loads` records one load per run, and `extract_log` one set of rows per run."""
    config, reports, prints = loaded_three_times
    assert prints[0] == prints[1] == prints[2]
    assert set(prints[0]) == {f"{d}.{t}" for d, ts in RAW_TABLES.items() for t in ts}
    state = warehouse_state(config.duckdb_path)
    assert [state[f"{d}._dlt_loads"] for d in RAW_TABLES] == [3, 3, 3, 3]
    assert len({r.run_id for r in reports}) == 3
    runs = query(config.duckdb_path, f"select run_id, source, status from {LOG_DATASET}.runs")
    assert sorted(runs) == sorted((r.run_id, s, "ok") for r in reports for s in RAW_SOURCES)


def test_loaded_values_are_typed_and_in_utc(loaded_three_times: Any, sandbox_league: Any) -> None:
    config, _, _ = loaded_three_times
    path = config.duckdb_path
    types = dict(
        query(
            path,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_odds_api' and table_name = 'player_props'",
        )
    )
    assert types["snapshot_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["outcome__price"] == "DOUBLE"
    assert types["outcome__point"] == "DOUBLE"
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set timezone = 'UTC'")
        snapshot = con.execute(
            "select distinct snapshot_at from raw_odds_api.player_props"
        ).fetchall()
        kinds = con.execute("select distinct snapshot_kind from raw_odds_api.game_lines").fetchall()
        dates = con.execute("select min(date), max(date) from raw_balldontlie.games").fetchone()
        espn_dates = con.execute("select min(date) from raw_espn.events").fetchone()
    finally:
        con.close()
    assert [s[0].astimezone(UTC) for s in snapshot] == [datetime(2026, 1, 15, 17, 0, tzinfo=UTC)]
    assert kinds == [("live",)]
    assert dates == (YESTERDAY, TODAY)
    assert espn_dates[0].tzinfo is not None
    # quota headers were recorded per call in the run log
    calls = query(
        path,
        f"select endpoint, requests_remaining from {LOG_DATASET}.odds_api_calls order by seq",
    )
    assert calls
    assert {c[0] for c in calls} == {"odds.events", "odds.event_odds", "odds.odds"}
    assert all(c[1] is not None for c in calls)
    # one row per Odds API response of each run, the last one's balance as the run reported it
    _, reports, _ = loaded_three_times
    for report in reports:
        per_run = query(
            path,
            f"select requests_remaining, requests_last from {LOG_DATASET}.odds_api_calls "
            "where run_id = ? order by seq",
            [report.run_id],
        )
        assert len(per_run) == len(calls) // len(reports)
        # the Odds API's calls run several at once, so answers are recorded (seq) in the order
        # they came back, not the order the API counted them: the run keeps the latest balance
        assert min(r[0] for r in per_run) == report.odds_credits_remaining
        assert sum(last for _, last in per_run) == report.odds_credits_spent


def test_game_dates_stay_eastern_dates_and_instants_stay_utc(
    loaded_three_times: Any, sandbox_league: Any
) -> None:
    """Raw tables keep each source's own date; nothing turns a late tip-off into the next day."""
    config, _, _ = loaded_three_times
    path = config.duckdb_path
    games = pd.concat([sandbox_league.games_on(YESTERDAY), sandbox_league.games_on(TODAY)])
    by_bdl = {int(g.bdl_id): g.game_date for g in games.itertuples()}
    by_espn = {str(g.espn_id): g.game_date for g in games.itertuples()}
    by_odds = {str(g.odds_event_id): g.game_date for g in games.itertuples()}
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set timezone = 'UTC'")
        bdl = con.execute("select id, date, datetime from raw_balldontlie.games").fetchall()
        stats = con.execute("select distinct game__id, game__date from raw_balldontlie.stats")
        stat_dates = stats.fetchall()
        espn_rows = con.execute("select id, date from raw_espn.events").fetchall()
        odds = con.execute("select id, commence_time from raw_odds_api.events").fetchall()
    finally:
        con.close()
    assert min(len(bdl), len(stat_dates), len(espn_rows), len(odds)) > 0
    # a tip-off after 19:00 Eastern is the next day in UTC: the test must see such games
    assert any(tipoff.astimezone(UTC).date() != day for _, day, tipoff in bdl)
    for game_id, day, tipoff in bdl:
        assert day == as_date(by_bdl[game_id])  # balldontlie's own local date, kept
        assert tipoff.astimezone(EASTERN).date() == day  # and its UTC instant agrees
    for game_id, day in stat_dates:
        assert day == as_date(by_bdl[game_id])
    for event_id, start in espn_rows:
        assert start.utcoffset() is not None
        assert start.astimezone(EASTERN).date() == as_date(by_espn[event_id])
    for event_id, commence in odds:
        assert commence.astimezone(EASTERN).date() == as_date(by_odds[event_id]) == TODAY


def as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def test_a_run_log_that_cannot_be_written_fails_the_run(tmp_path: Path, sandbox: Any) -> None:
    """The data loaded, but the run's log (credits, quarantine) could not be: say so, exit 1."""
    config = make_config(tmp_path, sandbox)
    config.duckdb_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(config.duckdb_path))
    con.execute(f"create schema {LOG_DATASET}")
    con.execute(f"create table {LOG_DATASET}.runs (run_id varchar, day boolean)")
    con.close()
    with pytest.raises(ExtractError) as failure:
        run(config, sources=("espn",))
    assert failure.value.exit_code == 1
    assert f"{LOG_DATASET}: could not write the run log of run " in str(failure.value)
    assert "the run itself ended 'ok'" in str(failure.value)
    assert fingerprint(config.duckdb_path)["raw_espn.events"][0] > 0
    assert query(config.duckdb_path, f"select count(*) from {LOG_DATASET}.runs") == [(0,)]
    pipeline = dlt.pipeline(
        pipeline_name="nba_props_extract_log", pipelines_dir=str(config.dlt_dir)
    )
    assert not pipeline.has_pending_data


def test_a_past_day_uses_historical_snapshots_and_reruns_cleanly(
    tmp_path: Path, sandbox: Any, sandbox_league: Any
) -> None:
    sandbox.ledger.reset(100_000)
    # one bookmaker keeps the rows few (10 books or fewer cost as one region: the same credits)
    config = make_config(tmp_path, sandbox, odds=OddsSettings(bookmakers="draftkings"))
    report = run(config, YESTERDAY, sources=("odds_api",))  # only the Odds API knows past vs live
    before = fingerprint(config.duckdb_path)
    games = sandbox_league.games_on(YESTERDAY)
    assert before["raw_odds_api.events"][0] == len(games)
    rows = query(
        config.duckdb_path,
        "select event__id, count(distinct snapshot_at), min(snapshot_at), max(snapshot_at), "
        "min(event__commence_time), max(snapshot_kind) from raw_odds_api.player_props group by 1",
    )
    assert len(rows) == len(games)
    assert query(
        config.duckdb_path, "select distinct bookmaker__key from raw_odds_api.game_lines"
    ) == [("draftkings",)]
    for _event, snapshots, first, last, commence, kind in rows:
        assert snapshots == 2  # the pick-time line and the closing line
        assert kind == "historical"
        assert first < last < commence  # both pre-game
    # 2 historical calls of 7 markets per event, 10 credits per market, plus the events call
    assert report.odds_credits_spent == len(games) * 2 * 70 + 1
    run(config, YESTERDAY, sources=("odds_api",))
    assert fingerprint(config.duckdb_path) == before


def test_an_empty_day_loads_nothing_and_succeeds(tmp_path: Path, sandbox: Any) -> None:
    sandbox.faults.inject("empty_slate", None, times=None)
    config = make_config(tmp_path, sandbox)
    report = run(config)
    assert report.status == "ok"
    assert report.dates[0].quarantined == 0
    prints = fingerprint(config.duckdb_path)
    # a day without games still has an injury report (the All-Star break's is not empty)
    injuries = prints.pop("raw_injuries.espn_injuries")
    assert injuries[0] > 0
    assert all(rows == 0 for rows, _ in prints.values())
    assert report.odds_credits_spent == 0


def test_a_date_range_runs_each_date_under_one_run_id(tmp_path: Path, sandbox: Any) -> None:
    sandbox.ledger.reset(100_000)
    config = make_config(tmp_path, sandbox)
    days = [YESTERDAY - timedelta(days=1), YESTERDAY]
    report = run_extract(config, days, sources=("balldontlie",))
    assert [d.day for d in report.dates] == days
    runs = query(config.duckdb_path, f"select distinct run_id from {LOG_DATASET}.runs")
    assert runs == [(report.run_id,)]
    assert set(table_names(config.duckdb_path)) == {DATASETS["balldontlie"], LOG_DATASET}


@pytest.mark.parametrize("source", ["nope"])
def test_unknown_sources_are_refused(config: Any, source: str) -> None:
    from extract.errors import ExtractError

    with pytest.raises(ExtractError, match="unknown source"):
        run_extract(config, [TODAY], sources=(source,))


def test_packages_left_pending_by_an_earlier_run_are_aborted_first(
    tmp_path: Path, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path, sandbox)
    run(config, sources=("espn",), load=False)  # extracted and normalized, never loaded
    assert fingerprint(config.duckdb_path) == {}
    with caplog.at_level(logging.WARNING, logger="extract"):
        run(config, sources=("espn",))
    assert "espn: aborting package(s) left pending by an earlier run" in caplog.text
    loads = query(config.duckdb_path, "select count(*) from raw_espn._dlt_loads")
    assert loads == [(1,)]  # only this run's package reached the warehouse
