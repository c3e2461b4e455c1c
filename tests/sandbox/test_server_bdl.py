"""The balldontlie imitation over HTTP, checked against the league's frames."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest
import requests

NOW = pd.Timestamp("2026-01-15T17:00:00Z")
TIMEOUT = 10


def get(sandbox, path: str, params=None, key: str | None = "default") -> requests.Response:
    headers = {}
    if key is not None:
        headers["Authorization"] = sandbox.balldontlie_key if key == "default" else key
    return requests.get(
        sandbox.balldontlie_url + path, params=params, headers=headers, timeout=TIMEOUT
    )


def walk(sandbox, path: str, params: dict) -> tuple[list[dict], list[dict]]:
    """Every row of a cursor-paginated listing, and the meta of each page."""
    rows, metas = [], []
    params = dict(params)
    while True:
        response = get(sandbox, path, params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        metas.append(body["meta"])
        if "next_cursor" not in body["meta"]:
            return rows, metas
        params["cursor"] = body["meta"]["next_cursor"]


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "Missing"), ("wrong", "Invalid"), ("Bearer sandbox-bdl-key", "Invalid")],
)
def test_auth_is_the_raw_key_in_authorization(sandbox, key, message):
    response = get(sandbox, "/v1/games", key=key)
    assert response.status_code == 401
    assert message in response.json()["error"]


def test_v1_and_nba_v1_prefixes_are_the_same(sandbox):
    params = {"dates[]": "2026-01-14"}
    assert (
        get(sandbox, "/v1/games", params).content == get(sandbox, "/nba/v1/games", params).content
    )


def test_games_on_a_date_are_that_new_york_date(sandbox, sandbox_league):
    games = sandbox_league.games
    day = date(2026, 1, 14)
    body = get(sandbox, "/v1/games", {"dates[]": day.isoformat(), "per_page": 100}).json()
    expected = games[games["game_date"] == day]
    assert {g["id"] for g in body["data"]} == set(expected["bdl_id"])
    assert "next_cursor" not in body["meta"]
    by_id = expected.set_index("bdl_id")
    for game in body["data"]:
        row = by_id.loc[game["id"]]
        assert game["date"] == "2026-01-14"
        assert game["season"] == 2025  # start year
        assert game["status"] == "Final"
        assert game["home_team_score"] == row["home_score"]
        assert game["visitor_team_score"] == row["away_score"]
        assert game["datetime"] == row["tipoff_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert game["home_team"]["abbreviation"] == row["home_team_key"]


def test_scheduled_and_in_progress_games_hide_the_result(sandbox, sandbox_league):
    games = sandbox_league.games
    today = games[games["game_date"] == date(2026, 1, 15)]
    first, last = today["tipoff_at"].min(), today["tipoff_at"].max()
    assert first < last, "the test needs staggered tip-offs"
    sandbox.set_now(first + timedelta(minutes=50))
    body = get(sandbox, "/v1/games", {"dates[]": "2026-01-15"}).json()
    by_id = today.set_index("bdl_id")
    statuses = set()
    for game in body["data"]:
        row = by_id.loc[game["id"]]
        if row["tipoff_at"] > sandbox.now:
            assert game["status"] == row["tipoff_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            assert game["period"] == 0
            assert game["time"] is None
            assert game["home_team_score"] == game["visitor_team_score"] == 0
            statuses.add("scheduled")
        else:
            assert re.fullmatch(r"[1-4](st|nd|rd|th) Qtr|\d?OT", game["status"])
            assert game["period"] >= 1
            assert re.fullmatch(r"\d{1,2}:\d\d", game["time"])
            assert game["home_team_score"] < row["home_score"]
            statuses.add("live")
    assert statuses == {"scheduled", "live"}
    stats = get(sandbox, "/v1/stats", {"dates[]": "2026-01-15"}).json()
    assert stats["data"] == []


def test_stats_pagination_covers_every_finished_row_once(sandbox, sandbox_league):
    days = ["2026-01-12", "2026-01-13"]
    rows, metas = walk(sandbox, "/v1/stats", {"dates[]": days, "per_page": 100})
    assert len(metas) > 1
    assert all(m["per_page"] == 100 for m in metas)
    assert all("next_cursor" in m for m in metas[:-1])
    assert "next_cursor" not in metas[-1]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    games = sandbox_league.games
    keys = games[games["game_date"].isin([date.fromisoformat(d) for d in days])]["game_key"]
    box = sandbox_league.box[sandbox_league.box["game_key"].isin(keys)]
    assert len(rows) == len(box)
    players = sandbox_league.players.set_index("bdl_id")["player_key"]
    bdl_game = games.set_index("bdl_id")["game_key"]
    got = {(bdl_game[r["game"]["id"]], players[r["player"]["id"]]): r["pts"] for r in rows}
    want = {
        (g, p): (None if dnp else pts)
        for g, p, pts, dnp in box[["game_key", "player_key", "pts", "did_not_play"]].itertuples(
            index=False
        )
    }
    assert got == want


def test_per_page_is_capped_at_100(sandbox):
    body = get(sandbox, "/v1/games", {"per_page": 1000}).json()
    assert body["meta"]["per_page"] == 100
    assert len(body["data"]) == 100


def test_unfiltered_games_page_through_the_whole_season(sandbox, sandbox_league):
    rows, metas = walk(sandbox, "/v1/games", {"per_page": 100})
    assert len(rows) == len(sandbox_league.games)
    assert len(metas) == -(-len(rows) // 100)


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "ten"},
        {"per_page": 0},
        {"cursor": "abc"},
        {"cursor": -5},
        {"dates[]": "2026/01/14"},
        {"seasons[]": "twenty"},
        {"team_ids[]": "LAL"},
        {"start_date": "yesterday"},
        {"postseason": "maybe"},
    ],
)
def test_bad_parameters_are_400(sandbox, params):
    response = get(sandbox, "/v1/games", params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_stats_bad_player_ids_are_400(sandbox):
    assert get(sandbox, "/v1/stats", {"player_ids[]": "x"}).status_code == 400
    assert get(sandbox, "/v1/players", {"team_ids[]": "x"}).status_code == 400


def test_filters_team_season_range_and_ignored_scalars(sandbox, sandbox_league):
    games = sandbox_league.games
    lal = sandbox_league.teams.set_index("team_key").loc["LAL", "bdl_id"]
    rows, _ = walk(sandbox, "/v1/games", {"team_ids[]": lal, "seasons[]": 2025, "per_page": 100})
    mine = games[(games["home_team_key"] == "LAL") | (games["away_team_key"] == "LAL")]
    assert {r["id"] for r in rows} == set(mine["bdl_id"])
    assert get(sandbox, "/v1/games", {"seasons[]": 2024}).json()["data"] == []
    ranged = get(
        sandbox,
        "/v1/games",
        {"start_date": "2026-01-10", "end_date": "2026-01-11", "per_page": 100},
    ).json()["data"]
    assert {r["date"] for r in ranged} == {"2026-01-10", "2026-01-11"}
    assert get(sandbox, "/v1/games", {"postseason": "true"}).json()["data"] == []
    # `dates=` without [] is not the array parameter: the real API ignores it
    scalar = get(sandbox, "/v1/games", {"dates": "2026-01-14"}).json()["data"]
    assert {r["date"] for r in scalar} != {"2026-01-14"}


def test_minutes_strings_and_did_not_play_rows(sandbox, sandbox_league):
    rows, _ = walk(sandbox, "/v1/stats", {"start_date": "2026-01-05", "end_date": "2026-01-12",
                                           "per_page": 100})  # fmt: skip
    played = [r for r in rows if r["pts"] is not None]
    dnp = [r for r in rows if r["pts"] is None]
    assert played
    assert dnp
    assert all(re.fullmatch(r"\d\d", r["min"]) for r in played)
    assert {r["min"] for r in dnp} == {None, ""}
    stat_fields = ["fgm", "fga", "fg_pct", "fg3m", "fg3a", "fg3_pct", "ftm", "fta", "ft_pct",
                   "oreb", "dreb", "reb", "ast", "stl", "blk", "turnover", "pf", "pts"]  # fmt: skip
    assert all(r[f] is None for r in dnp for f in stat_fields)
    for row in played:
        for made, tried, pct in (("fgm", "fga", "fg_pct"), ("fg3m", "fg3a", "fg3_pct")):
            assert 0.0 <= row[pct] <= 1.0
            if row[tried]:
                assert row[pct] == pytest.approx(row[made] / row[tried], abs=0.0006)
    early = get(sandbox, "/v1/stats", {"dates[]": "2025-10-22", "per_page": 100}).json()["data"]
    early_played = [r for r in early if r["pts"] is not None]
    assert early_played
    assert all(re.fullmatch(r"\d{1,2}:\d\d", r["min"]) for r in early_played)


def test_player_team_id_is_current_team_while_row_team_is_the_game_team(sandbox, sandbox_league):
    stints = sandbox_league.stints
    moved = stints[
        stints["start_date"].map(
            lambda d: d is not None and date(2025, 12, 1) < d < date(2026, 1, 10)
        )
    ]
    player_key = int(moved.iloc[0]["player_key"])
    new_team = moved.iloc[0]["team_key"]
    teams = sandbox_league.teams.set_index("team_key")["bdl_id"]
    bdl_id = int(sandbox_league.players.set_index("player_key").loc[player_key, "bdl_id"])
    rows, _ = walk(sandbox, "/v1/stats", {"player_ids[]": bdl_id, "per_page": 100})
    assert rows
    assert {r["player"]["team_id"] for r in rows} == {teams[new_team]}
    assert {r["player"]["id"] for r in rows} == {bdl_id}
    row_teams = {r["team"]["id"] for r in rows}
    assert teams[new_team] in row_teams
    assert len(row_teams) == 2
    before = [r for r in rows if r["game"]["date"] < moved.iloc[0]["start_date"].isoformat()]
    assert before
    assert all(r["team"]["id"] != teams[new_team] for r in before)
    game_id = rows[0]["game"]["id"]
    one = get(sandbox, "/v1/stats", {"player_ids[]": bdl_id, "game_ids[]": game_id}).json()
    assert [r["id"] for r in one["data"]] == [rows[0]["id"]]


def test_players_search_team_and_quirks(sandbox, sandbox_league):
    players = sandbox_league.players
    target = players.iloc[10]
    found = get(sandbox, "/v1/players", {"search": target["bdl_last_name"]}).json()["data"]
    assert target["bdl_id"] in {p["id"] for p in found}
    assert all(
        target["bdl_last_name"].lower() in (p["last_name"] + " " + p["first_name"]).lower()
        for p in found
    )
    everyone, _metas = walk(sandbox, "/v1/players", {"per_page": 100})
    # the all-time list: today's players and the retired ones (see test_shapes)
    assert {p["id"] for p in everyone} >= set(players["bdl_id"])
    assert len(everyone) > len(players)
    assert "" in {p["position"] for p in everyone}
    assert None in {p["height"] for p in everyone}
    bos = sandbox_league.teams.set_index("team_key").loc["BOS", "bdl_id"]
    roster = get(sandbox, "/v1/players", {"team_ids[]": bos, "per_page": 100}).json()["data"]
    assert roster
    assert all(p["team"]["id"] == bos for p in roster)
    one = get(sandbox, f"/v1/players/{target['bdl_id']}").json()["data"]
    assert one["first_name"] == target["bdl_first_name"]
    unknown = max(p["id"] for p in everyone) + 1
    assert get(sandbox, f"/v1/players/{unknown}").status_code == 404


def test_single_game_endpoint(sandbox, sandbox_league):
    game = sandbox_league.games.iloc[3]
    body = get(sandbox, f"/v1/games/{game['bdl_id']}").json()["data"]
    assert body["id"] == game["bdl_id"]
    assert body["visitor_team"]["abbreviation"] == game["away_team_key"]
    assert get(sandbox, "/v1/games/123").status_code == 404
    assert get(sandbox, "/v1/games/abc").status_code == 400
