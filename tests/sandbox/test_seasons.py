"""Three seasons at once (issue 13): the same people and teams, ids that never meet, lazy loading.

The current season (2025-26) must stay exactly what the market figures and model benchmarks were
measured on: its fingerprint is pinned here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import pytest

from sandbox.apis.seasons import season_of
from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED, SEASONS
from sandbox.history import FORMER_KEY_BASE
from sandbox.league import load_league
from sandbox.server import SandboxServer

# League(seed=DEFAULT_SEED, season=2025).fingerprint() before issue 13 touched the generator.
FINGERPRINT_2025 = "4a016f1e72ebdbe99027de0bc47e3e441c17f5a302af0777387307be0e5121e1"
ESPN = "/espn/apis/site/v2/sports/basketball/nba"
DAY_2023 = date(2024, 1, 10)  # a mid-season day of 2023-24


@pytest.fixture(scope="module")
def leagues() -> dict[int, Any]:
    return {season: load_league(DEFAULT_SEED, season) for season in SEASONS}


@pytest.fixture(scope="module")
def server():
    with SandboxServer(quota=10**9) as running:
        yield running


def _get(server: SandboxServer, path: str, **params: Any) -> tuple[int, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    headers = {"authorization": server.balldontlie_key}
    target = path + ("?" + query if query else "")
    response, _ = server.handle("GET", target, headers, b"")
    return response.status, json.loads(response.encode())


def _odds(server: SandboxServer, path: str, **params: Any) -> tuple[int, Any]:
    return _get(server, "/odds-api" + path, apiKey=server.odds_api_key, **params)


def test_the_current_season_is_unchanged(leagues):
    assert leagues[DEFAULT_SEASON].fingerprint() == FINGERPRINT_2025


def test_default_server_loads_only_the_current_season_for_its_dates():
    """A daily job's calls about 2025-26 (and the all-time players list) load no other season."""
    with SandboxServer(quota=10**9) as fresh:
        yesterday = "2026-01-14"
        _, games = _get(fresh, "/balldontlie/v1/games", **{"dates[]": yesterday})
        _get(fresh, "/balldontlie/v1/stats", **{"dates[]": yesterday, "per_page": 100})
        teams = games["data"][0]["home_team"]["id"]
        _get(fresh, "/balldontlie/v1/players", **{"team_ids[]": teams, "per_page": 100})
        _get(fresh, "/balldontlie/v1/player_injuries")
        _, board = _get(fresh, ESPN + "/scoreboard", dates="20260114")
        _get(fresh, ESPN + "/summary", event=board["events"][0]["id"])
        _get(fresh, ESPN + "/injuries")
        _, events = _odds(fresh, "/v4/sports/basketball_nba/events")
        _odds(fresh, f"/v4/sports/basketball_nba/events/{events[0]['id']}/odds",
              regions="us", markets="player_points")  # fmt: skip
        _odds(fresh, "/v4/historical/sports/basketball_nba/events", date="2026-01-14T16:00:00Z")
        assert fresh.loaded_seasons == [DEFAULT_SEASON]


def test_earlier_seasons_are_complete_and_realistic(leagues):
    current = leagues[DEFAULT_SEASON].games
    current_pts = np.concatenate([current["home_score"], current["away_score"]]).mean()
    for season in SEASONS[:-1]:
        games = leagues[season].games
        per_team = games["home_team_key"].value_counts() + games["away_team_key"].value_counts()
        assert len(per_team) == 30
        assert (per_team == 82).all()
        assert {season_of(d) for d in games["game_date"]} == {season}
        pts = np.concatenate([games["home_score"], games["away_score"]]).mean()
        assert abs(pts - current_pts) < 3.0
        league = leagues[season]
        assert len(league.box) > 25 * len(games)
        assert len(league.props) > 1_000_000
        assert len(league.game_lines) > 10_000
        assert len(league.injuries) > 100


def test_people_persist_arrive_and_retire(leagues):
    ids = ["player_key", "bdl_id", "espn_id", "bdl_first_name", "bdl_last_name", "odds_name"]
    current = leagues[DEFAULT_SEASON].players.set_index("player_key")
    earliest = leagues[SEASONS[0]].players.set_index("player_key")
    shared = current.index.intersection(earliest.index)
    assert len(shared) > 350
    pd_cols = ids[1:]
    assert (current.loc[shared, pd_cols] == earliest.loc[shared, pd_cols]).all().all()
    rookies = current.index[current["draft_year"].fillna(0) > SEASONS[0]]
    assert len(rookies)
    assert not set(rookies) & set(earliest.index)
    former = earliest.index.difference(current.index)
    assert len(former)
    assert (former > FORMER_KEY_BASE).all()
    # teams differ for some: trades and free agency
    moved = (
        leagues[DEFAULT_SEASON].stints.groupby("player_key")["team_key"].first().loc[shared]
        != leagues[SEASONS[0]].stints.groupby("player_key")["team_key"].first().loc[shared]
    )
    assert 0.1 < moved.mean() < 0.6


def test_no_ids_collide_across_seasons(leagues, server):
    for column in ("game_key", "bdl_id", "espn_id", "odds_event_id"):
        seen = [set(leagues[s].games[column]) for s in SEASONS]
        assert sum(map(len, seen)) == len(set().union(*seen)), column
    people = server.people.players
    for column in ("bdl_id", "espn_id"):
        values = [p[column] for p in people.values()]
        assert len(values) == len(set(values)), column
    names = [(p["bdl_first_name"], p["bdl_last_name"]) for p in people.values()]
    assert len(names) == len(set(names))
    retired = server._bdl_people.retired
    assert not set(retired) & {p["bdl_id"] for p in people.values()}
    assert not {(r["first_name"], r["last_name"]) for r in retired.values()} & set(names)
    stat_ids = []
    for season in SEASONS:
        _, page = _get(server, "/balldontlie/v1/stats", **{"seasons[]": season, "per_page": 100})
        stat_ids.append({row["id"] for row in page["data"]})
    assert sum(map(len, stat_ids)) == len(set().union(*stat_ids))


def test_a_2023_24_date_is_served_from_that_season(leagues, server):
    league = leagues[SEASONS[0]]
    games = league.games_on(DAY_2023)
    assert len(games)
    _, page = _get(server, "/balldontlie/v1/games", **{"dates[]": DAY_2023.isoformat()})
    assert {g["id"] for g in page["data"]} == set(games["bdl_id"])
    assert {g["season"] for g in page["data"]} == {SEASONS[0]}
    _, board = _get(server, ESPN + "/scoreboard", dates=DAY_2023.strftime("%Y%m%d"))
    assert {e["id"] for e in board["events"]} == set(games["espn_id"])
    assert {e["season"]["year"] for e in board["events"]} == {SEASONS[0] + 1}
    _, events = _odds(
        server, "/v4/historical/sports/basketball_nba/events", date="2024-01-10T16:00:00Z"
    )
    assert {e["id"] for e in events["data"]} == set(games["odds_event_id"])
    event = games.iloc[0]["odds_event_id"]
    status, odds = _odds(
        server,
        f"/v4/historical/sports/basketball_nba/events/{event}/odds",
        date="2024-01-10T16:00:00Z",
        regions="us",
        markets="player_points,h2h",
    )
    assert status == 200
    assert odds["data"]["bookmakers"]


def test_a_player_keeps_his_ids_and_name_in_every_season(leagues, server):
    """A 2025-26 player who played in 2023-24: the same ids and names through all three APIs."""
    old, now = leagues[SEASONS[0]], leagues[DEFAULT_SEASON]
    played = old.box[~old.box["did_not_play"]]
    game_key = int(old.games_on(DAY_2023).iloc[0]["game_key"])
    veterans = played[(played["game_key"] == game_key) & (played["player_key"] <= 450)]
    person = now.player(int(veterans.iloc[0]["player_key"]))
    game = old.game(game_key)

    _, stats = _get(
        server, "/balldontlie/v1/stats", **{"game_ids[]": game["bdl_id"], "per_page": 100}
    )
    rows = [r for r in stats["data"] if r["player"]["id"] == person["bdl_id"]]
    assert len(rows) == 1
    assert (rows[0]["player"]["first_name"], rows[0]["player"]["last_name"]) == (
        person["bdl_first_name"],
        person["bdl_last_name"],
    )
    _, single = _get(server, f"/balldontlie/v1/players/{person['bdl_id']}")
    assert single["data"]["last_name"] == person["bdl_last_name"]

    _, summary = _get(server, ESPN + "/summary", event=game["espn_id"])
    athletes = {
        a["athlete"]["id"]: a["athlete"]["displayName"]
        for team in summary["boxscore"]["players"]
        for block in team["statistics"]
        for a in block["athletes"]
    }
    assert athletes[person["espn_id"]] == person["espn_display_name"]


def test_a_date_outside_the_seasons_is_an_empty_day(server):
    status, page = _get(server, "/balldontlie/v1/games", **{"dates[]": "2021-01-12"})
    assert (status, page["data"]) == (200, [])
    status, board = _get(server, ESPN + "/scoreboard", dates="20210112")
    assert (status, board["events"]) == (200, [])
    status, events = _odds(
        server, "/v4/historical/sports/basketball_nba/events", date="2021-01-12T16:00:00Z"
    )
    assert (status, events["data"]) == (200, [])


def test_a_balldontlie_range_runs_across_seasons_with_one_cursor(server):
    seen: list[int] = []
    cursor = 0
    while True:
        _, page = _get(
            server,
            "/balldontlie/v1/games",
            start_date="2024-04-01",
            end_date="2024-10-31",
            per_page=40,
            cursor=cursor,
        )
        seen.extend(g["id"] for g in page["data"])
        if "next_cursor" not in page["meta"]:
            break
        cursor = page["meta"]["next_cursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    games = "/balldontlie/v1/games"
    _, spring = _get(server, games, start_date="2024-04-01", end_date="2024-04-30", per_page=100)
    _, autumn = _get(server, games, start_date="2024-10-01", end_date="2024-10-31", per_page=100)
    assert len(seen) == len(spring["data"]) + len(autumn["data"])


def test_the_current_season_reads_the_same_from_one_season_or_three(leagues, server):
    """2025-26 players' teams, stats and scoreboards do not depend on the other seasons."""
    with SandboxServer(leagues[DEFAULT_SEASON], quota=10**9) as alone:
        for path, params in (
            ("/balldontlie/v1/stats", {"dates[]": "2026-01-14", "per_page": 100}),
            ("/balldontlie/v1/games", {"dates[]": "2026-01-15"}),
            (ESPN + "/scoreboard", {"dates": "20260114"}),
        ):
            assert _get(alone, path, **params) == _get(server, path, **params), path
        for key in leagues[DEFAULT_SEASON].players["player_key"]:
            assert server.people.team_of(key, date(2026, 1, 14)) == leagues[DEFAULT_SEASON].team_of(
                key, date(2026, 1, 14)
            )
