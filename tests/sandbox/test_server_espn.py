"""The ESPN imitation over HTTP, checked against the league's frames."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import pytest
import requests

BASE = "/apis/site/v2/sports/basketball/nba"
TIMEOUT = 10


def get(sandbox, endpoint: str, **params) -> requests.Response:
    return requests.get(f"{sandbox.espn_url}{BASE}/{endpoint}", params=params, timeout=TIMEOUT)


def test_scoreboard_day_matches_the_league(sandbox, sandbox_league):
    games = sandbox_league.games
    teams = sandbox_league.teams.set_index("team_key")
    response = get(sandbox, "scoreboard", dates="20260114")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    expected = games[games["game_date"] == date(2026, 1, 14)].set_index("espn_id")
    assert {e["id"] for e in body["events"]} == set(expected.index)
    for event in body["events"]:
        game = expected.loc[event["id"]]
        assert event["date"] == game["tipoff_at"].strftime("%Y-%m-%dT%H:%MZ")
        assert event["season"]["year"] == 2026  # END year
        home, away = teams.loc[game["home_team_key"]], teams.loc[game["away_team_key"]]
        assert event["shortName"] == f"{away['espn_abbreviation']} @ {home['espn_abbreviation']}"
        competition = event["competitions"][0]
        sides = {c["homeAway"]: c for c in competition["competitors"]}
        assert sides["home"]["id"] == home["espn_id"]
        assert sides["away"]["id"] == away["espn_id"]
        assert sides["home"]["score"] == str(game["home_score"])
        assert sides["away"]["score"] == str(game["away_score"])
        assert sides["home"]["winner"] == (game["home_score"] > game["away_score"])
        assert competition["status"]["type"]["state"] == "post"
        assert competition["status"]["type"]["completed"] is True


def test_espn_abbreviations_differ_from_balldontlie(sandbox):
    body = get(sandbox, "scoreboard", dates="20251101-20251130", limit=1000).json()
    abbreviations = {
        c["team"]["abbreviation"]
        for e in body["events"]
        for c in e["competitions"][0]["competitors"]
    }
    assert {"NY", "NO", "GS", "SA", "UTAH", "WSH"} <= abbreviations
    assert not {"NYK", "NOP", "GSW", "SAS", "UTA", "WAS"} & abbreviations


def test_empty_day_is_an_empty_events_list(sandbox, sandbox_league):
    played = set(sandbox_league.games["game_date"])
    day = next(
        date(2025, 12, 1) + timedelta(days=i)
        for i in range(120)
        if date(2025, 12, 1) + timedelta(days=i) not in played
    )
    response = get(sandbox, "scoreboard", dates=day.strftime("%Y%m%d"))
    assert response.status_code == 200
    assert response.json()["events"] == []


def test_range_with_limit_and_default_today(sandbox, sandbox_league):
    games = sandbox_league.games
    window = games[
        (games["game_date"] >= date(2026, 1, 1)) & (games["game_date"] <= date(2026, 1, 7))
    ]
    body = get(sandbox, "scoreboard", dates="20260101-20260107", limit=500).json()
    assert len(body["events"]) == len(window)
    limited = get(sandbox, "scoreboard", dates="20260101-20260107", limit=5).json()
    assert [e["id"] for e in limited["events"]] == [e["id"] for e in body["events"][:5]]
    today = get(sandbox, "scoreboard").json()
    assert today["day"]["date"] == "2026-01-15"
    ids = set(games[games["game_date"] == date(2026, 1, 15)]["espn_id"])
    assert {e["id"] for e in today["events"]} == ids
    assert {e["competitions"][0]["status"]["type"]["state"] for e in today["events"]} == {"pre"}
    assert all(
        c["score"] == "0" and "winner" not in c
        for e in today["events"]
        for c in e["competitions"][0]["competitors"]
    )


@pytest.mark.parametrize(
    "params",
    [{"dates": "2026-01-14"}, {"dates": "202601"}, {"dates": "20260114-20260110"},
     {"dates": "20260101-20260107", "limit": "many"}, {"dates": "20260101", "limit": "0"}],
)  # fmt: skip
def test_bad_scoreboard_parameters_are_400(sandbox, params):
    response = get(sandbox, "scoreboard", **params)
    assert response.status_code == 400
    assert response.json()["code"] == 400


def _summary_for(sandbox, game) -> dict:
    response = get(sandbox, "summary", event=game["espn_id"])
    assert response.status_code == 200
    return response.json()


def _check_box_against_league(body, game, sandbox_league, expected_keys: list[str]) -> None:
    box = sandbox_league.box[sandbox_league.box["game_key"] == game["game_key"]]
    players = sandbox_league.players.set_index("espn_id")
    by_player = box.set_index("player_key")
    seen = set()
    for team in body["boxscore"]["players"]:
        block = team["statistics"][0]
        assert block["keys"] == expected_keys
        assert block["names"] == block["labels"]
        starters = 0
        for entry in block["athletes"]:
            player = players.loc[entry["athlete"]["id"]]
            assert entry["athlete"]["displayName"] == player["espn_display_name"]
            row = by_player.loc[player["player_key"]]
            seen.add(player["player_key"])
            assert entry["starter"] == bool(row["is_starter"])
            starters += entry["starter"]
            if row["did_not_play"]:
                assert entry["didNotPlay"] is True
                assert entry["stats"] == []
                assert entry["reason"] == str(row["dnp_reason"]).upper()
                continue
            assert entry["didNotPlay"] is False
            # a player who played can still carry a reason (real ESPN does): never a DNP one
            assert entry.get("reason", "COACH'S DECISION") == "COACH'S DECISION"
            assert not row["is_starter"] or "reason" not in entry
            stats = dict(zip(block["keys"], entry["stats"], strict=True))
            assert all(isinstance(v, str) for v in stats.values())
            assert stats["points"] == str(row["pts"])
            assert stats["fieldGoalsMade-fieldGoalsAttempted"] == f"{row['fgm']}-{row['fga']}"
            assert stats["rebounds"] == str(row["reb"])
            pm = int(row["plus_minus"])
            assert stats["plusMinus"] == (f"+{pm}" if pm > 0 else str(pm))
        assert starters == 5
    assert seen == set(box["player_key"])


def test_summary_old_column_order_before_december(sandbox, sandbox_league):
    games = sandbox_league.games
    game = games[games["game_date"] == date(2025, 11, 20)].iloc[0]
    body = _summary_for(sandbox, game)
    keys = body["boxscore"]["players"][0]["statistics"][0]["keys"]
    assert keys[-1] == "points"
    assert keys[1] != "points"
    _check_box_against_league(body, game, sandbox_league, keys)


def test_summary_current_column_order_later(sandbox, sandbox_league):
    games = sandbox_league.games
    game = games[games["game_date"] == date(2026, 1, 10)].iloc[0]
    body = _summary_for(sandbox, game)
    keys = body["boxscore"]["players"][0]["statistics"][0]["keys"]
    assert keys[1] == "points"
    assert keys[-1] == "plusMinus"
    _check_box_against_league(body, game, sandbox_league, keys)
    assert body["header"]["season"]["year"] == 2026
    assert body["header"]["competitions"][0]["status"]["type"]["state"] == "post"


def test_plus_minus_signs_and_dnp_appear_over_a_week(sandbox, sandbox_league):
    games = sandbox_league.games
    week = games[
        (games["game_date"] >= date(2026, 1, 5)) & (games["game_date"] <= date(2026, 1, 8))
    ]
    signs, dnp = set(), 0
    for espn_id in week["espn_id"]:
        body = get(sandbox, "summary", event=espn_id).json()
        for team in body["boxscore"]["players"]:
            block = team["statistics"][0]
            position = block["keys"].index("plusMinus")
            for entry in block["athletes"]:
                if entry["didNotPlay"]:
                    dnp += 1
                    continue
                value = entry["stats"][position]
                assert re.fullmatch(r"\+[1-9]\d*|-[1-9]\d*|0", value)
                signs.add(value[0] if value != "0" else "0")
    assert signs == {"+", "-", "0"}
    assert dnp > 0


def test_summary_hides_box_until_final(sandbox, sandbox_league):
    games = sandbox_league.games
    game = games[games["game_date"] == date(2026, 1, 15)].iloc[0]
    pre = _summary_for(sandbox, game)
    assert "players" not in pre["boxscore"]
    assert pre["header"]["competitions"][0]["status"]["type"]["state"] == "pre"
    sandbox.set_now(game["tipoff_at"] + timedelta(minutes=30))
    live = _summary_for(sandbox, game)
    assert "players" not in live["boxscore"]
    status = live["header"]["competitions"][0]["status"]
    assert status["type"]["state"] == "in"
    assert status["period"] >= 1
    scores = {
        c["homeAway"]: int(c["score"]) for c in live["header"]["competitions"][0]["competitors"]
    }
    assert scores["home"] < game["home_score"]
    assert scores["away"] < game["away_score"]
    sandbox.set_now(game["final_at"])
    final = _summary_for(sandbox, game)
    assert len(final["boxscore"]["players"]) == 2
    assert final["header"]["competitions"][0]["status"]["type"]["state"] == "post"


def test_overtime_games_say_so(sandbox, sandbox_league):
    games = sandbox_league.games
    ot = games[(games["periods"] > 4) & (games["final_at"] < pd.Timestamp("2026-01-15", tz="UTC"))]
    game = ot.iloc[0]
    body = _summary_for(sandbox, game)
    status = body["header"]["competitions"][0]["status"]
    assert status["type"]["detail"].startswith("Final/")
    assert "OT" in status["type"]["detail"]
    assert status["period"] == game["periods"]


def test_summary_errors(sandbox):
    missing = get(sandbox, "summary")
    assert missing.status_code == 400
    unknown = get(sandbox, "summary", event="123")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == 404
