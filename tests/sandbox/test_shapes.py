"""Shape conformance per endpoint: fields and JSON types as the shared API_CONTRACTS.md states them.

The tables below are transcribed from the contract document, not from the sandbox's output: a field
the contract names must be there with its type; a key ending in "?" may be absent (the contract's
"sometimes absent" fields). Types are exact: a bool is not an int, an int is not a float.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

NULL = type(None)
TIMEOUT = 10
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ISO_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ")
DATE = re.compile(r"\d{4}-\d\d-\d\d")

# --- The Odds API ---------------------------------------------------------------------------------
ODDS_EVENT = {
    "id": str,
    "sport_key": str,
    "sport_title": str,
    "commence_time": str,
    "home_team": str,
    "away_team": str,
}
ODDS_EVENT_WITH_BOOKS = {**ODDS_EVENT, "bookmakers": list}
ODDS_BOOKMAKER = {"key": str, "title": str, "last_update?": str, "markets": list}
ODDS_MARKET = {"key": str, "last_update": str, "outcomes": list}
OUTCOME_H2H = {"name": str, "price": float}
OUTCOME_SPREADS = {"name": str, "price": float, "point": float}
OUTCOME_TOTALS = {"name": str, "price": float, "point": float}
OUTCOME_PROP = {"name": str, "description": str, "price": float, "point": float}
OUTCOME_PROP_AMERICAN = {"name": str, "description": str, "price": int, "point": float}
HISTORICAL_WRAPPER = {
    "timestamp": str,
    "previous_timestamp": str,
    "next_timestamp": (str, NULL),
    "data": (list, dict),
}
ODDS_ERROR = {"message": str, "error_code": str, "details_url": str}
QUOTA_HEADERS = ("x-requests-remaining", "x-requests-used", "x-requests-last")

# --- balldontlie ----------------------------------------------------------------------------------
BDL_PAGE = {"data": list, "meta": dict}
BDL_META = {"per_page": int, "next_cursor?": int}
BDL_TEAM = {
    "id": int,
    "conference": str,
    "division": str,
    "city": str,
    "name": str,
    "full_name": str,
    "abbreviation": str,
}
_BDL_GAME_CORE = {
    "id": int,
    "date": str,
    "season": int,
    "status": str,
    "period": int,
    "time": (str, NULL),
    "postseason": bool,
    "home_team_score": int,
    "visitor_team_score": int,
    "datetime": str,
}
BDL_GAME = {**_BDL_GAME_CORE, "home_team": dict, "visitor_team": dict}
BDL_STAT_GAME = {**_BDL_GAME_CORE, "home_team_id": int, "visitor_team_id": int}
_BDL_PLAYER_CORE = {
    "id": int,
    "first_name": str,
    "last_name": str,
    "position": str,
    "height": (str, NULL),
    "weight": (str, NULL),
    "jersey_number": (str, NULL),
    "college": (str, NULL),
    "country": (str, NULL),
    "draft_year": (int, NULL),
    "draft_round": (int, NULL),
    "draft_number": (int, NULL),
}
BDL_STAT_PLAYER = {**_BDL_PLAYER_CORE, "team_id": int}
BDL_PLAYER = {**_BDL_PLAYER_CORE, "team": dict}
_COUNT = (int, NULL)
_PCT = (float, NULL)
BDL_STAT = {
    "id": int,
    "min": (str, NULL),
    "fgm": _COUNT,
    "fga": _COUNT,
    "fg_pct": _PCT,
    "fg3m": _COUNT,
    "fg3a": _COUNT,
    "fg3_pct": _PCT,
    "ftm": _COUNT,
    "fta": _COUNT,
    "ft_pct": _PCT,
    "oreb": _COUNT,
    "dreb": _COUNT,
    "reb": _COUNT,
    "ast": _COUNT,
    "stl": _COUNT,
    "blk": _COUNT,
    "turnover": _COUNT,
    "pf": _COUNT,
    "pts": _COUNT,
    "player": dict,
    "team": dict,
    "game": dict,
}
BDL_ERROR = {"error": str}

# --- ESPN -----------------------------------------------------------------------------------------
ESPN_SCOREBOARD = {"events": list}
ESPN_EVENT = {
    "id": str,
    "date": str,
    "name": str,
    "shortName": str,
    "season": dict,
    "competitions": list,
    "status": dict,
}
ESPN_SEASON = {"year": int, "type": int}
ESPN_COMPETITION = {"id": str, "date": str, "competitors": list, "status": dict}
ESPN_COMPETITOR = {"id": str, "homeAway": str, "winner?": bool, "score": str, "team": dict}
ESPN_TEAM = {"id": str, "abbreviation": str, "displayName": str, "location": str, "name": str}
ESPN_STATUS = {"type": dict}
ESPN_STATUS_TYPE = {"state": str, "completed": bool, "name": str}
ESPN_SUMMARY = {"boxscore": dict}
ESPN_BOXSCORE = {"players": list}
ESPN_BOX_TEAM = {"team": dict, "statistics": list}
ESPN_STAT_BLOCK = {"names": list, "keys": list, "labels": list, "athletes": list}
ESPN_ATHLETE_ENTRY = {
    "starter": bool,
    "didNotPlay": bool,
    "reason?": str,
    "ejected": bool,
    "athlete": dict,
    "stats": list,
}
ESPN_ATHLETE = {"id": str, "displayName": str, "shortName": str, "jersey": str, "position": dict}
ESPN_KEYS = {
    "minutes",
    "points",
    "fieldGoalsMade-fieldGoalsAttempted",
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted",
    "freeThrowsMade-freeThrowsAttempted",
    "rebounds",
    "assists",
    "turnovers",
    "steals",
    "blocks",
    "offensiveRebounds",
    "defensiveRebounds",
    "fouls",
    "plusMinus",
}


def conform(value: Any, table: dict[str, Any], where: str) -> None:
    """Assert `value` is an object carrying every field of `table` with an allowed JSON type."""
    assert isinstance(value, dict), f"{where}: expected an object, got {type(value).__name__}"
    for spec, allowed in table.items():
        name = spec.rstrip("?")
        if name not in value:
            assert spec.endswith("?"), f"{where}: required field {name!r} missing"
            continue
        types = allowed if isinstance(allowed, tuple) else (allowed,)
        got = type(value[name])
        assert got in types, f"{where}.{name}: {got.__name__} not in {[t.__name__ for t in types]}"


def conform_all(values: list[Any], table: dict[str, Any], where: str) -> None:
    assert values, f"{where}: nothing to check"
    for i, value in enumerate(values):
        conform(value, table, f"{where}[{i}]")


def odds_get(sandbox, path: str, **params) -> requests.Response:
    params.setdefault("apiKey", sandbox.odds_api_key)
    response = requests.get(sandbox.odds_api_url + path, params=params, timeout=TIMEOUT)
    if params["apiKey"] == sandbox.odds_api_key:  # quota headers need an account behind the key
        for header in QUOTA_HEADERS:
            assert response.headers[header].isdigit(), header
    return response


def bdl_get(sandbox, path: str, **params) -> requests.Response:
    return requests.get(
        sandbox.balldontlie_url + path,
        params=params,
        headers={"Authorization": sandbox.balldontlie_key},
        timeout=TIMEOUT,
    )


def espn_get(sandbox, endpoint: str, **params) -> requests.Response:
    return requests.get(
        f"{sandbox.espn_url}/apis/site/v2/sports/basketball/nba/{endpoint}",
        params=params,
        timeout=TIMEOUT,
    )


def check_odds_event(event: dict, *, american: bool = False) -> None:
    conform(event, ODDS_EVENT_WITH_BOOKS, "event")
    assert re.fullmatch(r"[0-9a-f]{32}", event["id"])
    assert ISO_SECONDS.fullmatch(event["commence_time"])
    assert (event["sport_key"], event["sport_title"]) == ("basketball_nba", "NBA")
    prop_table = OUTCOME_PROP_AMERICAN if american else OUTCOME_PROP
    for book in event["bookmakers"]:
        conform(book, ODDS_BOOKMAKER, "bookmaker")
        for market in book["markets"]:
            conform(market, ODDS_MARKET, f"market {market.get('key')}")
            assert ISO_SECONDS.fullmatch(market["last_update"])
            table = {
                "h2h": OUTCOME_H2H,
                "spreads": OUTCOME_SPREADS,
                "totals": OUTCOME_TOTALS,
            }.get(market["key"], prop_table)
            conform_all(market["outcomes"], table, f"{market['key']}.outcomes")
            if market["key"] in ("totals",) or table is prop_table:
                assert {o["name"] for o in market["outcomes"]} <= {"Over", "Under"}


# --- The Odds API shapes --------------------------------------------------------------------------


def test_shape_odds_events(sandbox):
    body = odds_get(sandbox, "/v4/sports/basketball_nba/events").json()
    conform_all(body, ODDS_EVENT, "events")
    assert all(ISO_SECONDS.fullmatch(e["commence_time"]) for e in body)


def test_shape_odds_featured(sandbox):
    body = odds_get(
        sandbox, "/v4/sports/basketball_nba/odds", regions="us", markets="h2h,spreads,totals"
    ).json()
    assert body
    for event in body:
        check_odds_event(event)
    keys = {m["key"] for e in body for b in e["bookmakers"] for m in b["markets"]}
    assert keys == {"h2h", "spreads", "totals"}


@pytest.mark.parametrize("american", [False, True])
def test_shape_odds_event_props(sandbox, american):
    event_id = odds_get(sandbox, "/v4/sports/basketball_nba/events").json()[0]["id"]
    params = {
        "regions": "us",
        "markets": "player_points,player_rebounds,player_assists,player_threes",
    }
    if american:
        params["oddsFormat"] = "american"
    body = odds_get(sandbox, f"/v4/sports/basketball_nba/events/{event_id}/odds", **params).json()
    check_odds_event(body, american=american)
    assert body["bookmakers"]


def test_shape_odds_historical(sandbox):
    events = odds_get(
        sandbox, "/v4/historical/sports/basketball_nba/events", date="2026-01-15T15:00:00Z"
    ).json()
    conform(events, HISTORICAL_WRAPPER, "historical events")
    conform_all(events["data"], ODDS_EVENT, "historical events.data")
    for stamp in ("timestamp", "previous_timestamp", "next_timestamp"):
        assert ISO_SECONDS.fullmatch(events[stamp])
    odds = odds_get(
        sandbox,
        f"/v4/historical/sports/basketball_nba/events/{events['data'][0]['id']}/odds",
        date="2026-01-15T15:00:00Z",
        regions="us",
        markets="player_points,h2h",
    ).json()
    conform(odds, HISTORICAL_WRAPPER, "historical odds")
    check_odds_event(odds["data"])


def test_shape_odds_errors(sandbox):
    for response in (
        odds_get(sandbox, "/v4/sports/basketball_nba/odds", regions="us", markets="player_points"),
        odds_get(sandbox, "/v4/sports/basketball_nba/events", apiKey="wrong"),
        odds_get(sandbox, f"/v4/sports/basketball_nba/events/{'f' * 32}/odds", regions="us"),
    ):
        assert response.status_code in (401, 404, 422)
        conform(response.json(), ODDS_ERROR, f"odds error {response.status_code}")


# --- balldontlie shapes ---------------------------------------------------------------------------


def test_shape_bdl_games(sandbox):
    body = bdl_get(sandbox, "/v1/games", **{"dates[]": ["2026-01-14", "2026-01-15"]}).json()
    conform(body, BDL_PAGE, "games page")
    conform(body["meta"], BDL_META, "games meta")
    conform_all(body["data"], BDL_GAME, "games")
    for game in body["data"]:
        conform(game["home_team"], BDL_TEAM, "home_team")
        conform(game["visitor_team"], BDL_TEAM, "visitor_team")
        assert DATE.fullmatch(game["date"])
        assert ISO_MILLIS.fullmatch(game["datetime"])


def test_shape_bdl_stats(sandbox):
    body = bdl_get(sandbox, "/v1/stats", **{"dates[]": "2026-01-14", "per_page": 100}).json()
    conform(body, BDL_PAGE, "stats page")
    conform(body["meta"], BDL_META, "stats meta")
    conform_all(body["data"], BDL_STAT, "stats")
    for row in body["data"]:
        conform(row["player"], BDL_STAT_PLAYER, "stats.player")
        conform(row["team"], BDL_TEAM, "stats.team")
        conform(row["game"], BDL_STAT_GAME, "stats.game")


def test_shape_bdl_players(sandbox):
    body = bdl_get(sandbox, "/v1/players", per_page=50).json()
    conform(body, BDL_PAGE, "players page")
    conform(body["meta"], BDL_META, "players meta")
    assert type(body["meta"]["next_cursor"]) is int
    conform_all(body["data"], BDL_PLAYER, "players")
    for player in body["data"]:
        conform(player["team"], BDL_TEAM, "players.team")


def test_shape_bdl_errors(sandbox):
    unauthorized = requests.get(sandbox.balldontlie_url + "/v1/stats", timeout=TIMEOUT)
    assert unauthorized.status_code == 401
    conform(unauthorized.json(), BDL_ERROR, "bdl 401")
    bad = bdl_get(sandbox, "/v1/stats", per_page="many")
    assert bad.status_code == 400
    conform(bad.json(), BDL_ERROR, "bdl 400")


# --- ESPN shapes ----------------------------------------------------------------------------------


def test_shape_espn_scoreboard(sandbox):
    for dates in ("20260114", "20260115"):
        body = espn_get(sandbox, "scoreboard", dates=dates).json()
        conform(body, ESPN_SCOREBOARD, "scoreboard")
        conform_all(body["events"], ESPN_EVENT, "events")
        for event in body["events"]:
            assert event["id"].isdigit()
            assert ISO_MINUTE.fullmatch(event["date"])
            conform(event["season"], ESPN_SEASON, "event.season")
            conform(event["status"], ESPN_STATUS, "event.status")
            conform_all(event["competitions"], ESPN_COMPETITION, "competitions")
            competition = event["competitions"][0]
            conform(competition["status"]["type"], ESPN_STATUS_TYPE, "status.type")
            assert competition["status"]["type"]["state"] in ("pre", "in", "post")
            conform_all(competition["competitors"], ESPN_COMPETITOR, "competitors")
            assert {c["homeAway"] for c in competition["competitors"]} == {"home", "away"}
            for competitor in competition["competitors"]:
                conform(competitor["team"], ESPN_TEAM, "competitor.team")
                assert competitor["score"].isdigit()


def test_shape_espn_summary(sandbox):
    event_id = espn_get(sandbox, "scoreboard", dates="20260114").json()["events"][0]["id"]
    body = espn_get(sandbox, "summary", event=event_id).json()
    conform(body, ESPN_SUMMARY, "summary")
    conform(body["boxscore"], ESPN_BOXSCORE, "boxscore")
    conform_all(body["boxscore"]["players"], ESPN_BOX_TEAM, "boxscore.players")
    dnp = 0
    for team in body["boxscore"]["players"]:
        conform(team["team"], ESPN_TEAM, "players.team")
        conform_all(team["statistics"], ESPN_STAT_BLOCK, "statistics")
        block = team["statistics"][0]
        assert set(block["keys"]) == ESPN_KEYS
        assert all(type(k) is str for k in block["names"] + block["labels"])
        conform_all(block["athletes"], ESPN_ATHLETE_ENTRY, "athletes")
        for entry in block["athletes"]:
            conform(entry["athlete"], ESPN_ATHLETE, "athlete")
            if entry["didNotPlay"]:
                dnp += 1
                assert entry["stats"] == []
                assert type(entry["reason"]) is str
            else:
                assert len(entry["stats"]) == len(block["keys"])
                assert all(type(s) is str for s in entry["stats"])
    assert dnp > 0
