"""What real responses carry beyond the fields the platform reads, served over loopback.

Each test states one fact of the shared API_CONTRACTS.md section "What real responses carry that a
narrow imitation misses", transcribed from the document rather than from the sandbox's output: a
frozen schema exported from the sandbox must already know every one of them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pandas as pd
import pytest
import requests

from sandbox.apis.balldontlie import BalldontlieApi, retired_players
from sandbox.apis.index import index_for

TIMEOUT = 10
ESPN = "/apis/site/v2/sports/basketball/nba"
FINAL_DAY = "20260114"  # every game final at the default now
ISO_MINUTE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ")
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BULLETS = {
    "id": 45,
    "conference": "    ",
    "division": "",
    "city": "",
    "full_name": "Baltimore Bullets",
}


def espn(sandbox, endpoint: str, **params) -> dict:
    response = requests.get(f"{sandbox.espn_url}{ESPN}/{endpoint}", params=params, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def bdl(sandbox, path: str, **params) -> dict:
    response = requests.get(
        sandbox.balldontlie_url + path,
        params=params,
        headers={"Authorization": sandbox.balldontlie_key},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def bdl_walk(sandbox, path: str, **params) -> tuple[list[dict], int]:
    """Every row of a cursor-paged listing and the number of pages it took."""
    rows, pages, cursor = [], 0, None
    while True:
        page = bdl(sandbox, path, **params, **({"cursor": cursor} if cursor else {}))
        rows.extend(page["data"])
        pages += 1
        cursor = page["meta"].get("next_cursor")
        if cursor is None:
            return rows, pages


def summaries(sandbox, day: str = FINAL_DAY) -> list[dict]:
    return [
        espn(sandbox, "summary", event=e["id"])
        for e in espn(sandbox, "scoreboard", dates=day)["events"]
    ]


def ymd(ts: pd.Timestamp) -> str:
    return ts.tz_convert("America/New_York").strftime("%Y%m%d")


# --- ESPN scoreboard ------------------------------------------------------------------------------


def test_scoreboard_event_and_competition_carry_the_real_extras(sandbox):
    events = espn(sandbox, "scoreboard", dates=FINAL_DAY)["events"]
    assert events
    for event in events:
        # links sit on the event; everything else on its competition, as real ESPN puts them
        assert type(event["links"]) is list
        assert event["links"]
        assert all(type(link["href"]) is str for link in event["links"])
        competition = event["competitions"][0]
        assert "links" not in competition
        for name in ("venue", "attendance", "broadcasts", "geoBroadcasts", "headlines", "notes",
                     "format", "startDate", "broadcast", "highlights"):  # fmt: skip
            assert name in competition, name
            assert name not in event, name
        assert type(competition["attendance"]) is int
        assert competition["attendance"] > 0
        venue = competition["venue"]
        assert type(venue["id"]) is str
        assert venue["id"].isdigit()
        assert type(venue["fullName"]) is str
        assert venue["fullName"]
        assert type(venue["address"]["city"]) is str
        assert venue["address"]["city"]
        assert type(venue["address"]["state"]) is str
        assert venue["address"]["state"]
        assert type(venue["indoor"]) is bool
        assert type(competition["broadcast"]) is str
        for name in ("broadcasts", "geoBroadcasts", "headlines", "highlights", "notes"):
            assert type(competition[name]) is list, name
        assert type(competition["format"]["regulation"]["periods"]) is int
        assert competition["format"]["regulation"]["periods"] == 4
        assert ISO_MINUTE.fullmatch(competition["startDate"])
        assert competition["headlines"], "a final game has its recap"


def test_broadcast_is_text_and_often_empty(sandbox):
    texts = []
    for day in ("20260110", "20260111", "20260112", "20260113", FINAL_DAY):
        for event in espn(sandbox, "scoreboard", dates=day)["events"]:
            competition = event["competitions"][0]
            texts.append(competition["broadcast"])
            names = {n for b in competition["broadcasts"] for n in b["names"]}
            assert competition["broadcast"] == "" or competition["broadcast"] in names
            assert len(competition["geoBroadcasts"]) == len(competition["broadcasts"])
    assert "" in texts, "local-only games send an empty broadcast"
    assert any(texts), "national games name their network"


def test_scheduled_game_has_the_extras_with_nothing_played(sandbox):
    events = espn(sandbox, "scoreboard", dates="20260115")["events"]
    assert events
    for event in events:
        competition = event["competitions"][0]
        assert competition["status"]["type"]["state"] == "pre"
        assert competition["attendance"] == 0
        assert competition["headlines"] == []
        for competitor in competition["competitors"]:
            assert competitor["linescores"] == []
            assert competitor["statistics"] == []
            assert competitor["leaders"] == []
            assert type(competitor["records"]) is list
            assert competitor["records"]


def test_overtime_final_has_alt_detail(sandbox, sandbox_league):
    games = sandbox_league.games
    done = games[games["final_at"] <= pd.Timestamp(sandbox.now)]
    seen = set()
    for periods in (5, 6):
        overtime = done[done["periods"] == periods]
        if overtime.empty:
            continue
        game = overtime.iloc[-1]
        board = espn(sandbox, "scoreboard", dates=ymd(game["tipoff_at"]))
        event = next(e for e in board["events"] if e["id"] == game["espn_id"])
        kind = event["competitions"][0]["status"]["type"]
        assert kind["altDetail"] == ("OT" if periods == 5 else "2OT")
        assert event["status"]["type"]["altDetail"] == kind["altDetail"]
        seen.add(periods)
    assert 5 in seen, "the season to date has overtime games"
    regulation = done[done["periods"] == 4].iloc[-1]
    board = espn(sandbox, "scoreboard", dates=ymd(regulation["tipoff_at"]))
    event = next(e for e in board["events"] if e["id"] == regulation["espn_id"])
    assert "altDetail" not in event["competitions"][0]["status"]["type"]


def test_competitors_carry_linescores_statistics_leaders_records(sandbox):
    for event in espn(sandbox, "scoreboard", dates=FINAL_DAY)["events"]:
        competition = event["competitions"][0]
        periods = competition["status"]["period"]
        for competitor in competition["competitors"]:
            for name in ("linescores", "statistics", "leaders", "records"):
                assert type(competitor[name]) is list, name
                assert competitor[name], name
            lines = competitor["linescores"]
            assert len(lines) == periods
            assert sum(int(line["displayValue"]) for line in lines) == int(competitor["score"])
            assert sum(line["value"] for line in lines) == int(competitor["score"])
            team = competitor["team"]
            assert type(team["links"]) is list
            assert team["links"]
            assert type(team["venue"]["id"]) is str
            assert team["isActive"] is True
            leaders = {c["name"]: c["leaders"][0] for c in competitor["leaders"]}
            assert {"points", "rebounds", "assists"} <= set(leaders)
            # the scoreboard's leader headshot is a URL string, the summary's an object
            assert type(leaders["points"]["athlete"]["headshot"]) is str
            record = {r["type"]: r["summary"] for r in competitor["records"]}
            wins, losses = (int(x) for x in record["total"].split("-"))
            home = [int(x) for x in record["home"].split("-")]
            road = [int(x) for x in record["road"].split("-")]
            assert (wins, losses) == (home[0] + road[0], home[1] + road[1])
        home = next(c for c in competition["competitors"] if c["homeAway"] == "home")
        assert home["team"]["venue"]["id"] == competition["venue"]["id"]


def test_live_linescores_sum_to_the_live_score(sandbox, sandbox_league):
    game = sandbox_league.games.iloc[600]
    at = game["tipoff_at"] + (game["final_at"] - game["tipoff_at"]) * 0.6
    sandbox.set_now(at.to_pydatetime())
    board = espn(sandbox, "scoreboard", dates=ymd(game["tipoff_at"]))
    event = next(e for e in board["events"] if e["id"] == game["espn_id"])
    competition = event["competitions"][0]
    assert competition["status"]["type"]["state"] == "in"
    for competitor in competition["competitors"]:
        lines = competitor["linescores"]
        assert len(lines) == competition["status"]["period"]
        assert sum(int(line["displayValue"]) for line in lines) == int(competitor["score"])
        assert all(int(line["displayValue"]) >= 0 for line in lines)


# --- ESPN summary ---------------------------------------------------------------------------------


def test_summary_athletes_have_guid_links_headshot_object(sandbox):
    body = summaries(sandbox)[0]
    for team in body["boxscore"]["players"]:
        for entry in team["statistics"][0]["athletes"]:
            athlete = entry["athlete"]
            assert GUID.fullmatch(athlete["guid"])
            assert type(athlete["links"]) is list
            assert athlete["links"]
            assert type(athlete["headshot"]) is dict
            assert type(athlete["headshot"]["href"]) is str
            assert type(athlete["headshot"]["alt"]) is str


def test_summary_team_has_slug_and_no_is_active(sandbox):
    body = summaries(sandbox)[0]
    teams = [t["team"] for t in body["boxscore"]["players"]]
    teams += [t["team"] for t in body["boxscore"]["teams"]]
    teams += [c["team"] for c in body["header"]["competitions"][0]["competitors"]]
    for team in teams:
        assert type(team["slug"]) is str
        assert team["slug"]
        assert "isActive" not in team


def test_reason_on_players_who_played_and_active_both_ways(sandbox):
    played_with_reason, active = 0, set()
    for body in summaries(sandbox):
        for team in body["boxscore"]["players"]:
            for entry in team["statistics"][0]["athletes"]:
                assert type(entry["active"]) is bool
                active.add(entry["active"])
                if entry["didNotPlay"]:
                    assert entry["stats"] == []
                    continue
                assert entry["stats"], "only didNotPlay says a player did not play"
                if "reason" in entry:
                    assert type(entry["reason"]) is str
                    played_with_reason += 1
    assert active == {True, False}
    assert played_with_reason > 0


# --- balldontlie ----------------------------------------------------------------------------------


def test_players_is_the_all_time_list(sandbox, sandbox_league):
    everyone, _ = bdl_walk(sandbox, "/v1/players", per_page=100)
    current = set(sandbox_league.players["bdl_id"])
    retired = [p for p in everyone if p["id"] not in current]
    assert len(retired) >= 300
    assert all(type(p["team"]["id"]) is int for p in retired)
    team_ids = set(sandbox_league.teams["bdl_id"])
    assert sum(p["team"]["id"] in team_ids for p in retired) > len(retired) // 2
    defunct = [p for p in retired if p["team"]["id"] == 45]
    assert defunct
    for player in defunct:
        assert {k: player["team"][k] for k in BULLETS} == BULLETS
    blank = sum(p["position"] == "" for p in everyone)
    assert blank / len(everyone) > 0.2, "position is often empty"
    ids = [p["id"] for p in everyone]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    one = bdl(sandbox, f"/v1/players/{defunct[0]['id']}")["data"]
    assert one == defunct[0]


def test_team_filter_pages_through_current_and_retired(sandbox, sandbox_league):
    bos = int(sandbox_league.teams.set_index("team_key").loc["BOS", "bdl_id"])
    rows, pages = bdl_walk(sandbox, "/v1/players", **{"team_ids[]": bos, "per_page": 10})
    assert all(p["team"]["id"] == bos for p in rows)
    current = set(sandbox_league.players["bdl_id"])
    today = [p for p in rows if p["id"] in current]
    assert today
    assert len(rows) > len(today), "retired Celtics come back too"
    assert pages > (len(today) + 9) // 10
    bullets, _ = bdl_walk(sandbox, "/v1/players", **{"team_ids[]": 45, "per_page": 100})
    assert bullets
    assert all(p["team"]["id"] == 45 for p in bullets)


def test_retired_players_come_from_the_seed_alone(sandbox_league):
    index = index_for(sandbox_league)
    again = BalldontlieApi(index, "key").retired
    assert BalldontlieApi(index, "key").retired == again
    teams = {1: {"id": 1}}
    a = retired_players(1, set(), set(), teams)
    assert a == retired_players(1, set(), set(), teams)
    assert a != retired_players(2, set(), set(), teams)


# --- The Odds API ---------------------------------------------------------------------------------


def test_historical_events_include_games_under_way(sandbox, sandbox_league):
    games = sandbox_league.games
    game = games[games["tipoff_at"] < pd.Timestamp(sandbox.now)].iloc[-1]
    at = game["tipoff_at"] + timedelta(minutes=40)
    response = requests.get(
        sandbox.odds_api_url + "/v4/historical/sports/basketball_nba/events",
        params={"apiKey": sandbox.odds_api_key, "date": at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    body = response.json()
    stamp = pd.Timestamp(body["timestamp"])
    event = next(e for e in body["data"] if e["id"] == game["odds_event_id"])
    assert ISO_SECONDS.fullmatch(event["commence_time"])
    started = pd.Timestamp(event["commence_time"])
    assert started < stamp, "a game under way is listed with a start before the snapshot"
    assert not event["commence_time"].endswith(":00Z"), "the actual start, to the second"
    assert timedelta(0) < started - game["tipoff_at"] < timedelta(minutes=3)


# --- faults keep working on the richer shapes -----------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "nested"), [("espn.scoreboard", "team"), ("espn.summary", "athlete")]
)
def test_record_faults_leave_the_shared_parts_alone(sandbox, endpoint, nested):
    """The nested objects rendered once (teams, athletes) survive every record fault."""
    params = {"dates": FINAL_DAY}
    if endpoint == "espn.summary":
        params = {"event": espn(sandbox, "scoreboard", dates=FINAL_DAY)["events"][0]["id"]}
    name = endpoint.split(".")[1]
    clean = espn(sandbox, name, **params)
    for kind, extra in (
        ("new_field", {}),
        ("new_field", {"field": nested}),
        ("changed_type", {"field": nested}),
        ("missing_field", {"field": nested}),
    ):
        sandbox.faults.inject(kind, endpoint, 1, **extra)
        assert espn(sandbox, name, **params) != clean, kind
        assert espn(sandbox, name, **params) == clean, f"{kind} {extra} leaked into later responses"
