"""The Odds API imitation over HTTP, checked against the league's own frames (not the renderer)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import requests

from sandbox.apis.odds_api import american

SPORT = "/v4/sports/basketball_nba"
HIST = "/v4/historical/sports/basketball_nba"
NOW = pd.Timestamp("2026-01-15T17:00:00Z")
PROPS = "player_points,player_rebounds,player_assists,player_threes"
TIMEOUT = 10


def get(sandbox, path: str, **params) -> requests.Response:
    params.setdefault("apiKey", sandbox.odds_api_key)
    return requests.get(sandbox.odds_api_url + path, params=params, timeout=TIMEOUT)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture(scope="module")
def first_line(sandbox_league) -> pd.Series:
    """Each game's opening snapshot, from the raw frames."""
    snaps = pd.concat(
        [
            sandbox_league.props[["game_key", "snapshot_at"]],
            sandbox_league.game_lines[["game_key", "snapshot_at"]],
        ]
    )
    return snaps.groupby("game_key")["snapshot_at"].min()


@pytest.fixture(scope="module")
def games(sandbox_league) -> pd.DataFrame:
    return sandbox_league.games.set_index("odds_event_id")


def listed_ids(games: pd.DataFrame, first_line: pd.Series, at: pd.Timestamp) -> set[str]:
    opened = (first_line.reindex(games["game_key"]) <= at).to_numpy()
    running = (games["final_at"] > at).to_numpy()
    return set(games.index[opened & running])


def test_events_are_the_games_listed_now_with_full_team_names(
    sandbox, games, first_line, sandbox_league
):
    response = get(sandbox, f"{SPORT}/events")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["x-requests-last"] == "0"  # events are free
    body = response.json()
    assert {e["id"] for e in body} == listed_ids(games, first_line, NOW)
    assert body, "the default now must have a listed slate"
    names = dict(
        zip(sandbox_league.teams["team_key"], sandbox_league.teams["full_name"], strict=True)
    )
    for event in body:
        game = games.loc[event["id"]]
        assert event["home_team"] == names[game["home_team_key"]]
        assert event["away_team"] == names[game["away_team_key"]]
        shift = ts(event["commence_time"]) - game["tipoff_at"]
        assert timedelta(0) <= shift < timedelta(minutes=3)
    starts = [ts(e["commence_time"]) for e in body]
    assert starts == sorted(starts)


def test_clippers_are_los_angeles_clippers(sandbox, sandbox_league):
    games = sandbox_league.games
    clippers = games[games["home_team_key"] == "LAC"].iloc[0]
    response = get(
        sandbox, f"{HIST}/events", date=(clippers["tipoff_at"] - timedelta(hours=1)).isoformat()
    )
    event = next(e for e in response.json()["data"] if e["id"] == clippers["odds_event_id"])
    assert event["home_team"] == "Los Angeles Clippers"


def test_commence_time_shifts_by_odd_seconds_between_snapshots(sandbox, games):
    seen: dict[str, set[str]] = {}
    for hours in range(0, 28, 2):
        at = NOW - timedelta(hours=hours)
        for event in get(sandbox, f"{HIST}/events", date=at.isoformat()).json()["data"]:
            seen.setdefault(event["id"], set()).add(event["commence_time"])
    shifting = [i for i, values in seen.items() if len(values) > 1]
    assert shifting, "some event's commence_time must move between snapshots"
    odd = [v for i in shifting for v in seen[i] if not v.endswith(":00Z")]
    assert odd


def test_featured_odds_match_latest_game_lines_and_cost_markets_times_regions(
    sandbox, sandbox_league
):
    response = get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h,spreads,totals")
    assert response.status_code == 200
    assert response.headers["x-requests-last"] == "3"
    assert response.headers["x-requests-used"] == "3"
    assert response.headers["x-requests-remaining"] == "497"
    body = response.json()
    lines = sandbox_league.game_lines
    games = sandbox_league.games.set_index("odds_event_id")
    checked = 0
    for event in body:
        game_key = games.loc[event["id"], "game_key"]
        mine = lines[(lines["game_key"] == game_key) & (lines["snapshot_at"] <= NOW)]
        latest = mine.sort_values("snapshot_at").groupby("bookmaker_key", observed=True).tail(1)
        assert {b["key"] for b in event["bookmakers"]} == set(latest["bookmaker_key"].astype(str))
        for book in event["bookmakers"]:
            row = latest[latest["bookmaker_key"] == book["key"]].iloc[0]
            markets = {m["key"]: m for m in book["markets"]}
            assert list(markets) == ["h2h", "spreads", "totals"]
            h2h = {o["name"]: o["price"] for o in markets["h2h"]["outcomes"]}
            assert h2h[event["home_team"]] == pytest.approx(row["h2h_home_price"])
            assert h2h[event["away_team"]] == pytest.approx(row["h2h_away_price"])
            spread = {o["name"]: o for o in markets["spreads"]["outcomes"]}
            assert spread[event["home_team"]]["point"] == row["spread_home_point"]
            assert spread[event["away_team"]]["point"] == -row["spread_home_point"]
            totals = {o["name"]: o for o in markets["totals"]["outcomes"]}
            assert set(totals) == {"Over", "Under"}
            assert totals["Over"]["point"] == row["total_point"]
            assert ts(markets["h2h"]["last_update"]) == row["snapshot_at"]
            checked += 1
    assert checked >= 5


def test_prop_market_on_featured_endpoint_is_422_and_free(sandbox):
    response = get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h,player_points")
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "INVALID_MARKET"
    assert "player_points" in body["message"]
    assert body["details_url"].startswith("https://")
    assert response.headers["x-requests-used"] == "0"


def _props_event(sandbox) -> dict:
    return get(sandbox, f"{SPORT}/events").json()[0]


def test_event_odds_props_use_odds_names_and_latest_lines(sandbox, sandbox_league):
    event = _props_event(sandbox)
    response = get(sandbox, f"{SPORT}/events/{event['id']}/odds", regions="us", markets=PROPS)
    assert response.status_code == 200
    body = response.json()
    markets_returned = {m["key"] for b in body["bookmakers"] for m in b["markets"]}
    assert markets_returned == set(PROPS.split(","))
    assert response.headers["x-requests-last"] == str(len(markets_returned))

    game_key = sandbox_league.games.set_index("odds_event_id").loc[event["id"], "game_key"]
    props = sandbox_league.props
    props = props[(props["game_key"] == game_key) & (props["snapshot_at"] <= NOW)]
    latest = (
        props.sort_values("snapshot_at")
        .groupby(["bookmaker_key", "market", "player_key"], observed=True)
        .tail(1)
    )
    names = sandbox_league.players.set_index("player_key")["odds_name"]
    expected = {
        (r.bookmaker_key, r.market, names[r.player_key]): (r.point, r.over_price, r.under_price)
        for r in latest.itertuples()
    }
    got = {}
    orders = set()
    for book in body["bookmakers"]:
        for market in book["markets"]:
            outcomes = market["outcomes"]
            for first, second in zip(outcomes[::2], outcomes[1::2], strict=True):
                assert first["description"] == second["description"]
                orders.add((first["name"], second["name"]))
                pair = {first["name"]: first, second["name"]: second}
                got[(book["key"], market["key"], first["description"])] = (
                    pair["Over"]["point"],
                    pair["Over"]["price"],
                    pair["Under"]["price"],
                )
    assert got.keys() == expected.keys()
    for key, (point, over, under) in expected.items():
        assert got[key] == (point, pytest.approx(over), pytest.approx(under))
    assert orders == {("Over", "Under"), ("Under", "Over")}, "Over/Under order must vary"


def test_bookmaker_last_update_is_sometimes_absent(sandbox):
    present = absent = 0
    for event in get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h").json():
        for book in event["bookmakers"]:
            if "last_update" in book:
                present += 1
            else:
                absent += 1
            assert all("last_update" in m for m in book["markets"])
    for hours in (2, 6, 12, 20):
        at = (NOW - timedelta(hours=hours)).isoformat()
        for event in get(sandbox, f"{HIST}/events", date=at).json()["data"]:
            odds = get(sandbox, f"{HIST}/events/{event['id']}/odds", date=at, regions="us").json()
            for book in odds["data"]["bookmakers"]:
                present += "last_update" in book
                absent += "last_update" not in book
    assert present > absent > 0


def test_american_odds_are_ints_converted_from_decimal(sandbox):
    event = _props_event(sandbox)
    path = f"{SPORT}/events/{event['id']}/odds"
    dec = get(sandbox, path, regions="us", markets="player_points,h2h").json()
    us = get(sandbox, path, regions="us", markets="player_points,h2h", oddsFormat="american").json()
    pairs = 0
    for book_d, book_a in zip(dec["bookmakers"], us["bookmakers"], strict=True):
        for market_d, market_a in zip(book_d["markets"], book_a["markets"], strict=True):
            for out_d, out_a in zip(market_d["outcomes"], market_a["outcomes"], strict=True):
                assert isinstance(out_d["price"], float)
                assert type(out_a["price"]) is int
                assert out_a["price"] == american(out_d["price"])
                assert abs(out_a["price"]) >= 100
                pairs += 1
    assert pairs > 20
    assert american(2.5) == 150
    assert american(1.8) == -125
    assert american(2.0) == 100


def test_unix_date_format(sandbox):
    iso = get(sandbox, f"{SPORT}/odds", regions="us").json()
    unix = get(sandbox, f"{SPORT}/odds", regions="us", dateFormat="unix").json()
    for a, b in zip(iso, unix, strict=True):
        assert type(b["commence_time"]) is int
        assert pd.Timestamp(b["commence_time"], unit="s", tz="UTC") == ts(a["commence_time"])
        for book in b["bookmakers"]:
            assert type(book["markets"][0]["last_update"]) is int


def test_commence_time_window_filters(sandbox):
    events = get(sandbox, f"{SPORT}/events").json()
    cut = events[len(events) // 2]["commence_time"]
    later = get(sandbox, f"{SPORT}/events", commenceTimeFrom=cut).json()
    earlier = get(sandbox, f"{SPORT}/events", commenceTimeTo=cut).json()
    assert all(ts(e["commence_time"]) >= ts(cut) for e in later)
    assert all(ts(e["commence_time"]) <= ts(cut) for e in earlier)
    assert {e["id"] for e in later} | {e["id"] for e in earlier} == {e["id"] for e in events}
    only = get(sandbox, f"{SPORT}/events", eventIds=events[0]["id"]).json()
    assert [e["id"] for e in only] == [events[0]["id"]]


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (
            f"{SPORT}/odds",
            {"regions": "us", "oddsFormat": "fractional"},
            422,
            "INVALID_ODDS_FORMAT",
        ),
        (f"{SPORT}/odds", {"regions": "us", "dateFormat": "rfc"}, 422, "INVALID_DATE_FORMAT"),
        (f"{SPORT}/odds", {}, 422, "MISSING_REGION"),
        (f"{SPORT}/odds", {"regions": "mars"}, 422, "INVALID_REGION"),
        (f"{SPORT}/events", {"commenceTimeFrom": "soon"}, 422, "INVALID_COMMENCE_TIME_FROM"),
        (f"{SPORT}/events", {"commenceTimeTo": "later"}, 422, "INVALID_COMMENCE_TIME_TO"),
        (f"{HIST}/events", {}, 422, "MISSING_HISTORICAL_TIMESTAMP"),
        (f"{HIST}/events", {"date": "last tuesday"}, 422, "INVALID_HISTORICAL_TIMESTAMP"),
        ("/v4/sports/soccer_epl/events", {}, 404, "UNKNOWN_SPORT"),
        (f"{SPORT}/events/{'0' * 32}/odds", {"regions": "us"}, 404, "EVENT_NOT_FOUND"),
    ],
)
def test_bad_parameters_get_the_real_errors(sandbox, path, params, status, code):
    response = get(sandbox, path, **params)
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert response.headers["x-requests-used"] == "0"


def test_garbage_market_is_422_but_an_unsimulated_prop_is_just_absent(sandbox):
    event = _props_event(sandbox)
    path = f"{SPORT}/events/{event['id']}/odds"
    bad = get(sandbox, path, regions="us", markets="player_points,not_a_market")
    assert bad.status_code == 422
    assert bad.json()["error_code"] == "INVALID_MARKET"
    blocks = get(sandbox, path, regions="us", markets="player_blocks,player_points")
    assert blocks.status_code == 200
    keys = {m["key"] for b in blocks.json()["bookmakers"] for m in b["markets"]}
    assert keys == {"player_points"}
    assert blocks.headers["x-requests-last"] == "1"


def test_regions_and_bookmakers_select_books_and_cost(sandbox):
    event = _props_event(sandbox)
    path = f"{SPORT}/events/{event['id']}/odds"
    uk = get(sandbox, path, regions="uk", markets="player_points")
    assert uk.status_code == 200
    assert uk.json()["bookmakers"] == []
    assert uk.headers["x-requests-last"] == "0"  # empty results cost nothing
    two = get(sandbox, path, regions="us,uk", markets="player_points")
    assert two.headers["x-requests-last"] == "2"
    picked = get(
        sandbox, path, bookmakers="fanduel,draftkings,nosuchbook", regions="uk", markets="h2h"
    )
    assert [b["key"] for b in picked.json()["bookmakers"]] == ["draftkings", "fanduel"]
    assert picked.headers["x-requests-last"] == "1"


def test_concluded_event_is_404_on_live_endpoint_but_served_historically(sandbox, sandbox_league):
    games = sandbox_league.games
    done = games[games["final_at"] < NOW - timedelta(hours=3)].iloc[-1]
    live = get(sandbox, f"{SPORT}/events/{done['odds_event_id']}/odds", regions="us")
    assert live.status_code == 404
    assert live.json()["error_code"] == "EVENT_NOT_FOUND"
    before_tip = (done["tipoff_at"] - timedelta(minutes=30)).isoformat()
    past = get(
        sandbox, f"{HIST}/events/{done['odds_event_id']}/odds", regions="us", date=before_tip
    )
    assert past.status_code == 200
    assert past.json()["data"]["id"] == done["odds_event_id"]


def test_historical_wrapper_returns_closest_snapshot_at_or_before_date(sandbox, sandbox_league):
    games = sandbox_league.games
    game = games[games["tipoff_at"] < NOW - timedelta(days=2)].iloc[-1]
    lines = sandbox_league.game_lines
    snaps = sorted(lines[lines["game_key"] == game["game_key"]]["snapshot_at"].unique())
    pre_tip = [s for s in snaps if s < game["tipoff_at"]]
    target = pd.Timestamp(pre_tip[1]) + timedelta(minutes=7)
    response = get(
        sandbox, f"{HIST}/events/{game['odds_event_id']}/odds", regions="us", markets="h2h,totals",
        date=target.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["x-requests-last"] == "20"  # 10 x 2 markets x 1 region
    body = response.json()
    stamp = ts(body["timestamp"])
    assert stamp <= target
    assert target - stamp < timedelta(minutes=5)
    assert ts(body["previous_timestamp"]) < stamp < ts(body["next_timestamp"])
    expected = max(s for s in snaps if s <= stamp)
    for book in body["data"]["bookmakers"]:
        for market in book["markets"]:
            assert ts(market["last_update"]) == expected


def test_historical_events_after_now_are_clamped_to_now(sandbox):
    response = get(sandbox, f"{HIST}/events", date="2026-03-01T00:00:00Z")
    body = response.json()
    assert ts(body["timestamp"]) <= NOW
    assert body["next_timestamp"] is None
    assert response.headers["x-requests-last"] == "1"
    summer = get(sandbox, f"{HIST}/events", date="2025-07-01T00:00:00Z")
    assert summer.json()["data"] == []
    assert summer.headers["x-requests-last"] == "0"


def test_in_game_snapshot_after_tipoff_is_served_historically(sandbox, sandbox_league):
    lines = sandbox_league.game_lines.merge(
        sandbox_league.games[["game_key", "tipoff_at", "odds_event_id", "final_at"]], on="game_key"
    )
    late = lines[(lines["snapshot_at"] > lines["tipoff_at"]) & (lines["final_at"] < NOW)].iloc[0]
    at = late["snapshot_at"].ceil("5min")
    body = get(
        sandbox, f"{HIST}/events/{late['odds_event_id']}/odds", regions="us", date=at.isoformat()
    ).json()
    stamps = {ts(m["last_update"]) for b in body["data"]["bookmakers"] for m in b["markets"]}
    assert late["snapshot_at"] in stamps
    assert max(stamps) > late["tipoff_at"]


def test_keys_are_checked_before_anything_else(sandbox):
    missing = requests.get(sandbox.odds_api_url + f"{SPORT}/events", timeout=TIMEOUT)
    assert missing.status_code == 401
    assert missing.json()["error_code"] == "MISSING_KEY"
    assert "x-requests-remaining" not in missing.headers
    wrong = get(sandbox, f"{SPORT}/odds", apiKey="nope", regions="mars")
    assert wrong.status_code == 401
    assert wrong.json()["error_code"] == "INVALID_KEY"


def test_quota_runs_out_with_out_of_usage_credits(sandbox):
    requests.post(sandbox.url + "/_sandbox/quota", json={"quota": 4}, timeout=TIMEOUT)
    first = get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h,spreads,totals")
    assert first.status_code == 200
    assert first.headers["x-requests-remaining"] == "1"
    refused = get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h,spreads")
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "OUT_OF_USAGE_CREDITS"
    assert refused.headers["x-requests-remaining"] == "1"
    assert refused.headers["x-requests-last"] == "0"
    cheap = get(sandbox, f"{SPORT}/odds", regions="us", markets="h2h")
    assert cheap.status_code == 200
    assert cheap.headers["x-requests-remaining"] == "0"
    free = get(sandbox, f"{SPORT}/events")
    assert free.status_code == 200
    assert free.headers["x-requests-remaining"] == "0"
