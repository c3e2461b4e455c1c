"""Shaping the three APIs' payloads into rows, and the small pure helpers around it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from extract import balldontlie, espn, odds_api
from extract.cli import dates_from
from extract.config import REPO_ROOT, ExtractConfig
from extract.errors import ConfigError
from extract.redact import MASK, Redactor, redacted_logging

EVENT = {
    "id": "0123456789abcdef0123456789abcdef",
    "sport_key": "basketball_nba",
    "commence_time": "2026-01-16T00:00:13Z",
    "home_team": "Atlanta Hawks",
    "away_team": "Los Angeles Clippers",
    "bookmakers": [
        {
            "key": "draftkings",
            "title": "DraftKings",
            "markets": [
                {
                    "key": "player_points",
                    "last_update": "2026-01-15T12:31:37Z",
                    "outcomes": [
                        {"name": "Under", "description": "Scotty Pippen Jr", "price": 1.8,
                         "point": 11.5},
                        {"name": "Over", "description": "Scotty Pippen Jr", "price": 2.0,
                         "point": 11.5},
                    ],
                },
                {
                    "key": "h2h",
                    "last_update": "2026-01-15T12:31:37Z",
                    "outcomes": [{"name": "Atlanta Hawks", "price": 1.5}],
                },
            ],
        }
    ],
}  # fmt: skip


def test_explode_keeps_every_level_and_filters_markets() -> None:
    at = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    props = list(odds_api.explode(EVENT, at, "live", frozenset({"player_points"})))
    assert [p["outcome__name"] for p in props] == ["Under", "Over"]
    row = props[0]
    assert row["event__id"] == EVENT["id"]
    assert row["event__away_team"] == "Los Angeles Clippers"
    assert row["bookmaker__key"] == "draftkings"
    assert "bookmaker__last_update" not in row  # absent upstream: stays absent (optional column)
    assert row["market__last_update"] == "2026-01-15T12:31:37Z"
    assert row["outcome__description"] == "Scotty Pippen Jr"
    assert row["snapshot_at"] == "2026-01-15T17:00:00Z"
    assert row["snapshot_kind"] == "live"
    lines = list(odds_api.explode(EVENT, at, "live", frozenset({"h2h"})))
    assert len(lines) == 1
    assert "outcome__point" not in lines[0]


def test_live_or_historical_is_decided_in_new_york() -> None:
    late_evening = datetime(2026, 1, 16, 3, 0, tzinfo=UTC)  # 22:00 on the 15th in New York
    assert odds_api.is_live(date(2026, 1, 15), late_evening)
    assert not odds_api.is_live(date(2026, 1, 14), late_evening)
    start, end = odds_api.eastern_day_bounds(date(2026, 1, 15))
    assert (start.isoformat(), end.isoformat()) == (
        "2026-01-15T05:00:00+00:00",
        "2026-01-16T05:00:00+00:00",
    )


def test_snapshot_anchors_stay_before_tip_off_and_now() -> None:
    day = date(2026, 1, 14)
    commence = datetime(2026, 1, 15, 0, 0, 14, tzinfo=UTC)
    now = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    anchors = odds_api.snapshot_anchors(("pick", "close"), day, commence, now, 12)
    assert anchors == [
        datetime(2026, 1, 14, 17, 0, tzinfo=UTC),
        datetime(2026, 1, 14, 23, 55, 14, tzinfo=UTC),
    ]
    noon_game = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)
    assert odds_api.snapshot_anchors(("pick", "close"), day, noon_game, now, 12) == [
        datetime(2026, 1, 14, 16, 55, tzinfo=UTC)
    ]
    early_now = datetime(2026, 1, 14, 20, 0, tzinfo=UTC)
    assert max(odds_api.snapshot_anchors(("close",), day, commence, early_now, 12)) == early_now


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [("38", 38.0), ("06", 6.0), ("33:30", 33.5), ("0:00", 0.0), ("", None), (None, None)],
)
def test_balldontlie_minutes_formats(raw: str | None, minutes: float | None) -> None:
    assert balldontlie.parse_minutes(raw) == minutes


def test_balldontlie_stat_rules() -> None:
    rules = balldontlie.STATS.rules
    bad = {"min": "81", "fgm": 9, "fga": 4, "pts": 20}
    problems = [p for rule in rules for p in rule.problems(bad)]
    assert any("outside [0, 75] minutes" in p for p in problems)
    assert any("`fgm`=9 is more than `fga`=4" in p for p in problems)
    fine = {"min": None, "fgm": None, "fga": None, "pts": None, "player__last_name": "Doe"}
    assert [p for rule in rules for p in rule.problems(fine)] == []


def summary(keys: list[str], stats: list[str]) -> dict:
    return {
        "boxscore": {
            "players": [
                {
                    "team": {"id": "12", "abbreviation": "LAC"},
                    "statistics": [
                        {
                            "keys": keys,
                            "athletes": [
                                {"athlete": {"id": "7", "displayName": "A B"}, "starter": True,
                                 "didNotPlay": False, "stats": stats},
                                {"athlete": {"id": "8", "displayName": "C D"}, "starter": False,
                                 "didNotPlay": True, "reason": "COACH'S DECISION", "stats": []},
                            ],
                        }
                    ],
                }
            ]
        }
    }  # fmt: skip


def test_espn_stats_are_mapped_by_keys_whatever_the_column_order() -> None:
    rejected: list[tuple] = []
    old = summary(["minutes", "plusMinus", "points"], ["30", "+5", "21"])
    new = summary(["minutes", "points", "plusMinus"], ["30", "21", "+5"])
    old_rows = list(espn.athlete_rows("401", old, lambda *a: rejected.append(a)))
    new_rows = list(espn.athlete_rows("401", new, lambda *a: rejected.append(a)))
    assert old_rows == new_rows
    played, dnp = old_rows
    assert played["stats__points"] == "21"
    assert played["stats__plus_minus"] == "+5"
    assert played["athlete__id"] == "7"
    assert played["team__abbreviation"] == "LAC"
    assert played["event_id"] == "401"
    assert dnp["stats__points"] is None  # did not play: nulls, not a shifted row
    assert dnp["reason"] == "COACH'S DECISION"
    assert rejected == []


def test_espn_rows_that_cannot_be_mapped_are_rejected_not_shifted() -> None:
    rejected: list[tuple] = []
    rows = list(
        espn.athlete_rows(
            "401", summary(["minutes", "points"], ["30"]), lambda *a: rejected.append(a)
        )
    )
    assert [r["athlete__id"] for r in rows] == ["8"]
    assert rejected[0][2] == "1 stats for 2 keys"
    event = {"id": "401", "competitions": [{"id": "a"}, {"id": "b"}]}
    row, competitors = espn.event_rows(event, lambda *a: rejected.append(a))
    assert row is None
    assert competitors == []
    assert rejected[1][2] == "expected exactly one competition, got 2"


def test_espn_box_score_rules() -> None:
    rules = espn.PLAYER_BOX_SCORES.rules
    row = {
        espn.stat_column("minutes"): "30",
        espn.stat_column("points"): "x",
        espn.stat_column("plusMinus"): "-7",
        espn.stat_column("fieldGoalsMade-fieldGoalsAttempted"): "9-4",
    }
    problems = [p for rule in rules for p in rule.problems(row)]
    assert any("stats__points" in p and "not an integer" in p for p in problems)
    assert any("made is more than attempted" in p for p in problems)
    assert not any("plus_minus" in p for p in problems)
    row[espn.stat_column("fieldGoalsMade-fieldGoalsAttempted")] = "nine"
    assert any("is not made-attempted" in p for rule in rules for p in rule.problems(row))


def test_odds_line_points() -> None:
    check = odds_api.GAME_LINES.rules[1]
    assert check.problems({"market__key": "totals", "outcome__point": 40.0})
    assert check.problems({"market__key": "spreads", "outcome__point": 99.5})
    assert check.problems({"market__key": "spreads"})
    assert not check.problems({"market__key": "h2h"})
    assert not check.problems({"market__key": "totals", "outcome__point": 221.5})


def test_config_from_env_defaults_and_overrides(tmp_path: Path) -> None:
    config = ExtractConfig.from_env({})
    assert config.odds_api_base_url == "https://api.the-odds-api.com"
    assert config.balldontlie_base_url == "https://api.balldontlie.io"
    assert config.espn_base_url == "https://site.api.espn.com"
    assert config.duckdb_path == REPO_ROOT / "warehouse" / "nba_props.duckdb"
    assert config.dlt_dir == REPO_ROOT / ".dlt_pipelines"
    assert config.landing_dir == REPO_ROOT / "landing"
    assert not config.has_upstream
    env = {
        "ODDS_API_KEY": "k1",
        "BALLDONTLIE_API_KEY": "k2",
        "NBA_PROPS_TARGET": "test",
        "NBA_PROPS_TEST_DUCKDB_PATH": str(tmp_path / "t.duckdb"),
        "NBA_PROPS_DLT_DIR": "relative/dlt",
        "NBA_PROPS_NOW": "2026-01-15T17:00:00Z",
        "ODDS_API_HISTORICAL_SNAPSHOTS": "close",
        "NBA_PROPS_HTTP_READ_TIMEOUT": "2.5",
        "NBA_PROPS_QUARANTINE_THRESHOLD": "0.01",
    }
    config = ExtractConfig.from_env(env)
    assert config.has_upstream
    assert config.secrets() == ["k1", "k2"]
    assert config.duckdb_path == tmp_path / "t.duckdb"
    assert config.dlt_dir == REPO_ROOT / "relative" / "dlt"
    assert config.now == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert config.odds.historical_anchors == ("close",)
    assert config.http.read_timeout == 2.5
    assert config.quarantine_threshold == 0.01
    assert ExtractConfig.from_env({"NBA_PROPS_TARGET": "bigquery"}).target == "bigquery"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NBA_PROPS_TARGET": "postgres"}, "extract loads into"),
        ({"NBA_PROPS_QUARANTINE_THRESHOLD": "1.5"}, "share in"),
        ({"NBA_PROPS_HTTP_READ_TIMEOUT": "fast"}, "is not a number"),
        ({"ODDS_API_HISTORICAL_SNAPSHOTS": "dawn"}, "use one or more of"),
        ({"NBA_PROPS_NOW": "2026-01-15T17:00:00"}, "needs a timezone"),
        ({"NBA_PROPS_NOW": "tomorrow"}, "not an ISO timestamp"),
        ({"NBA_PROPS_LANDING_RETENTION_DAYS": "0"}, "at least 1 day"),
        ({"NBA_PROPS_HTTP_MAX_ATTEMPTS": "0"}, "max attempts"),
    ],
)
def test_config_refuses_bad_settings(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExtractConfig.from_env(env)


def test_config_refuses_capture_with_replay(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be combined"):
        ExtractConfig().with_changes(capture_dir=tmp_path, replay_dir=tmp_path)
    with pytest.raises(ConfigError, match="timezone-aware"):
        ExtractConfig().with_changes(now=datetime(2026, 1, 1))


def test_dates_from_the_command_line() -> None:
    assert dates_from("2026-01-15", None, None) == [date(2026, 1, 15)]
    assert dates_from(None, "2026-01-14", "2026-01-16") == [
        date(2026, 1, 14),
        date(2026, 1, 15),
        date(2026, 1, 16),
    ]
    for args, message in [
        (("2026-01-15", "2026-01-14", None), "not both"),
        ((None, "2026-01-16", "2026-01-14"), "is before"),
        ((None, None, None), "give --date"),
        (("15/01/2026", None, None), "YYYY-MM-DD"),
    ]:
        with pytest.raises(ConfigError, match=message):
            dates_from(*args)


def test_redactor_masks_values_params_and_headers() -> None:
    redactor = Redactor(["s3cret-odds", "abc", None])
    assert redactor.secrets == ["s3cret-odds"]  # too short to mask by value: "abc"
    url = redactor.url("http://h/v4/x?apiKey=anything&dates[]=2026-01-15&b=s3cret-odds")
    assert "apiKey=***" in url
    assert "anything" not in url
    assert "s3cret-odds" not in url
    assert "dates[]=2026-01-15" in url
    assert redactor.headers({"Authorization": "k", "X-Other": "s3cret-odds"}) == {
        "Authorization": MASK,
        "X-Other": MASK,
    }
    assert redactor.value({"a": ["s3cret-odds", 1]}) == {"a": [MASK, 1]}


def test_redacted_logging_masks_every_handler(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("some.library")
    with caplog.at_level(logging.INFO), redacted_logging(Redactor(["s3cret-odds"])):
        logger.info("calling %s", "http://h/?apiKey=s3cret-odds")
        try:
            raise ValueError("boom s3cret-odds")
        except ValueError:
            logger.exception("failed")
    assert "s3cret-odds" not in caplog.text
    assert caplog.text.count(MASK) >= 2
    logger.warning("after the block: %s", "plain")
    assert caplog.records[-1].args == ("plain",)  # the factory is restored


def _page(cursor: object, url: str = "http://h/v1/stats?cursor=7") -> requests.Response:
    response = requests.Response()
    meta = {"per_page": 100} if cursor is None else {"per_page": 100, "next_cursor": cursor}
    response._content = json.dumps({"data": [{"id": 1}], "meta": meta}).encode()
    response.url = url
    return response


def test_a_cursor_that_loops_or_never_ends_stops_the_source() -> None:
    paginator = balldontlie.GuardedCursorPaginator()
    paginator.update_state(_page(7), [{"id": 1}])
    paginator.update_state(_page(8), [{"id": 2}])
    with pytest.raises(balldontlie.EndlessCursorError, match=r"next_cursor 7 was already followed"):
        paginator.update_state(_page(7), [{"id": 3}])
    bounded = balldontlie.GuardedCursorPaginator(max_pages=3)
    bounded.update_state(_page(1), [{"id": 1}])
    bounded.update_state(_page(2), [{"id": 2}])
    with pytest.raises(balldontlie.EndlessCursorError, match=r"more than 3 pages"):
        bounded.update_state(_page(3), [{"id": 3}])
    last = balldontlie.GuardedCursorPaginator(max_pages=1)
    last.update_state(_page(None), [{"id": 1}])  # no next_cursor: the last page, no error
    assert not last.has_next_page


def test_the_warehouse_connection_bounds_duckdbs_memory(tmp_path: Path) -> None:
    from extract.lock import open_warehouse

    conn = open_warehouse(tmp_path / "w.duckdb", "256MB")
    try:
        [(limit,)] = conn.execute("select current_setting('memory_limit')").fetchall()
    finally:
        conn.close()
    assert limit == "244.1 MiB"  # 256 MB as DuckDB prints it (MiB); its default is 80% of RAM
    with pytest.raises(ConfigError, match="NBA_PROPS_DUCKDB_MEMORY_LIMIT='lots'"):
        ExtractConfig.from_env({"NBA_PROPS_DUCKDB_MEMORY_LIMIT": "lots"})
    assert ExtractConfig.from_env({}).duckdb_memory_limit == "512MB"
