"""The settable clock: only what existed at `now` is served, and nothing from later leaks.

The proof is differential: a second league whose future (results of unfinished games, box scores,
lines after `now`, trades after `now`, injury news released after `now` and the actual return of
players out at `now`) is rewritten must serve byte-identical payloads at `now`.
A control at a later `now` shows the rewrite is visible once it is the past, so the test can fail.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest
import requests

from sandbox.league import League
from sandbox.server import SandboxServer

T = pd.Timestamp("2026-01-16T01:00:00Z")  # evening of 2026-01-15 in New York: games in progress
SPORT = "/v4/sports/basketball_nba"
HIST = "/v4/historical/sports/basketball_nba"
ESPN = "/apis/site/v2/sports/basketball/nba"
DAYS = ["2026-01-14", "2026-01-15", "2026-01-16", "2026-01-17"]
TIMEOUT = 10
QUOTA = 10**7  # historical prop snapshots cost 10 x markets each


def rewrite_future(league: League, at: pd.Timestamp) -> League:
    """The same league up to `at`; everything not yet known at `at` changed."""
    games = league.games.copy()
    unstarted = games["tipoff_at"] > at
    games.loc[unstarted, "home_score"] += 11
    games.loc[unstarted, "away_score"] += 4
    games.loc[unstarted, "final_at"] += pd.Timedelta(minutes=17)
    unfinished = set(league.games.loc[league.games["final_at"] > at, "game_key"])
    box = league.box.copy()
    hidden = box["game_key"].isin(unfinished)
    for column in ("pts", "reb", "ast", "fg3m", "fgm", "seconds_played"):
        box.loc[hidden, column] += 2
    box.loc[hidden, "plus_minus"] = -box.loc[hidden, "plus_minus"]
    props = league.props.copy()
    later = props["snapshot_at"] > at
    props.loc[later, "point"] += 1.0
    props.loc[later, "over_price"] += 0.07
    lines = league.game_lines.copy()
    later = lines["snapshot_at"] > at
    lines.loc[later, "h2h_home_price"] += 0.2
    lines.loc[later, "total_point"] += 3.0
    stints = league.stints.copy()
    future = stints["start_date"].map(lambda d: d is not None and d > at.date())
    stints.loc[future, "team_key"] = stints.loc[future, "team_key"].map(
        lambda t: "BOS" if t != "BOS" else "ATL"
    )
    injuries = league.injuries.copy()
    # News released later is different news; and for news already out, how long the player is
    # really out (his actual return) is still to come: only the team's estimate is known.
    later = injuries["released_at"] > at
    injuries.loc[later, "reason"] = "Right Hip Flexor Strain"
    injuries.loc[later, "status"] = injuries.loc[later, "status"].map(
        {"Out": "Day-To-Day", "Day-To-Day": "Out"}
    )
    injuries.loc[later, "expected_games_missed"] += 4
    injuries.loc[later, "expected_return_at"] += pd.Timedelta(days=9)
    injuries.loc[later, "released_at"] -= (injuries.loc[later, "released_at"] - at) / 2
    pending = injuries["cleared_at"] > at
    injuries.loc[pending, "cleared_at"] += pd.Timedelta(days=6)
    injuries.loc[pending | later, "games_missed"] += 3
    return League(
        seed=league.seed,
        season=league.season,
        teams=league.teams,
        players=league.players,
        stints=stints,
        games=games,
        box=box,
        truth=league.truth,
        bookmakers=league.bookmakers,
        props=props,
        game_lines=lines,
        injuries=injuries,
    )


class Crawler:
    """Requests a server with the platform's usual calls, discovering ids as it goes."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers["Authorization"] = server.balldontlie_key

    def get(self, base: str, path: str, **params) -> bytes:
        response = self.session.get(base + path, params=params, timeout=TIMEOUT)
        assert response.status_code in (200, 404), (path, response.status_code, response.text)
        return response.content

    def odds(self, path: str, **params) -> bytes:
        return self.get(self.server.odds_api_url, path, apiKey=self.server.odds_api_key, **params)

    def crawl(self, traded_bdl_ids: list[int]) -> list[bytes]:
        out = []
        s = self.server
        for day in DAYS:
            board = self.get(s.espn_url, f"{ESPN}/scoreboard", dates=day.replace("-", ""))
            out.append(board)
            for event in json.loads(board)["events"]:
                out.append(self.get(s.espn_url, f"{ESPN}/summary", event=event["id"]))
            out.append(self.get(s.balldontlie_url, "/v1/games", **{"dates[]": day}))
            out.append(
                self.get(s.balldontlie_url, "/v1/stats", **{"dates[]": day, "per_page": 100})
            )
        for cursor in (0, 1000000):
            out.append(self.get(s.balldontlie_url, "/v1/players", per_page=100, cursor=cursor))
        out.append(self.get(s.espn_url, f"{ESPN}/injuries"))
        for cursor in (0, 25, 50):
            out.append(
                self.get(s.balldontlie_url, "/v1/player_injuries", per_page=25, cursor=cursor)
            )
        for bdl_id in traded_bdl_ids:
            out.append(self.get(s.balldontlie_url, "/v1/stats", **{"player_ids[]": bdl_id}))
        events = self.odds(f"{SPORT}/events")
        out.append(events)
        out.append(self.odds(f"{SPORT}/odds", regions="us", markets="h2h,spreads,totals"))
        markets = "h2h,spreads,totals,player_points,player_rebounds,player_assists,player_threes"
        for event in json.loads(events):
            out.append(
                self.odds(f"{SPORT}/events/{event['id']}/odds", regions="us", markets=markets)
            )
            for when in (T - timedelta(hours=3), T, T + timedelta(days=1)):
                out.append(
                    self.odds(f"{HIST}/events/{event['id']}/odds", regions="us", markets=markets,
                              date=when.isoformat())
                )  # fmt: skip
        for when in (T - timedelta(hours=6), T, T + timedelta(days=2)):
            out.append(self.odds(f"{HIST}/events", date=when.isoformat()))
        return out


@pytest.fixture(scope="module")
def traded_after_t(sandbox_league) -> list[int]:
    stints = sandbox_league.stints
    later = stints[stints["start_date"].map(lambda d: d is not None and d > T.date())]
    keys = set(later["player_key"])
    players = sandbox_league.players
    return [int(b) for b in players[players["player_key"].isin(keys)]["bdl_id"].head(3)]


def test_rewriting_the_future_changes_no_byte_served_now(sandbox_league, traded_after_t):
    assert traded_after_t, "the league must have a trade after T for this test to bite"
    altered = rewrite_future(sandbox_league, T)
    with (
        SandboxServer(sandbox_league, now=T.to_pydatetime(), quota=QUOTA) as real,
        SandboxServer(altered, now=T.to_pydatetime(), quota=QUOTA) as rewritten,
    ):
        served = Crawler(real).crawl(traded_after_t)
        served_rewritten = Crawler(rewritten).crawl(traded_after_t)
        assert len(served) > 60
        assert served == served_rewritten

        # control: once the rewritten facts are in the past they do show, so the test can fail
        later = (T + timedelta(days=3)).to_pydatetime()
        real.set_now(later)
        rewritten.set_now(later)
        after = Crawler(real).crawl(traded_after_t)
        after_rewritten = Crawler(rewritten).crawl(traded_after_t)
        differing = sum(a != b for a, b in zip(after, after_rewritten, strict=True))
        assert differing > 10


def test_nothing_after_now_is_visible(sandbox, sandbox_league):
    sandbox.set_now(T.to_pydatetime())
    sandbox.ledger.reset(QUOTA)
    games = sandbox_league.games
    crawler = Crawler(sandbox)
    payloads = crawler.crawl([])
    stamps = []
    for raw in payloads:
        body = json.loads(raw)
        if isinstance(body, dict) and "timestamp" in body:
            assert pd.Timestamp(body["timestamp"]) <= T
            assert body["next_timestamp"] is None or pd.Timestamp(body["next_timestamp"]) <= T
            body = body["data"]
        for event in body if isinstance(body, list) else [body]:
            if isinstance(event, dict):
                for book in event.get("bookmakers", []):
                    stamps.extend(pd.Timestamp(m["last_update"]) for m in book["markets"])
    assert stamps
    assert max(stamps) <= T

    final_at = games.set_index("bdl_id")["final_at"]
    for day in DAYS:
        rows = requests.get(
            sandbox.balldontlie_url + "/v1/stats",
            params={"dates[]": day, "per_page": 100},
            headers={"Authorization": sandbox.balldontlie_key},
            timeout=TIMEOUT,
        ).json()["data"]
        assert all(final_at[r["game"]["id"]] <= T for r in rows)

    # no closing line before tip-off: games still to come show only lines from before T
    lines = sandbox_league.game_lines.merge(games[["game_key", "tipoff_at"]], on="game_key")
    pre_tip = lines[lines["snapshot_at"] < lines["tipoff_at"]]
    closing = pre_tip.groupby("game_key")["snapshot_at"].max()
    upcoming = games[(games["tipoff_at"] > T) & games["game_key"].map(closing).gt(T)]
    assert len(upcoming) > 0
    for event_id in upcoming["odds_event_id"].head(3):
        response = requests.get(
            f"{sandbox.odds_api_url}{SPORT}/events/{event_id}/odds",
            params={"apiKey": sandbox.odds_api_key, "regions": "us", "markets": "h2h"},
            timeout=TIMEOUT,
        )
        if response.status_code == 404:  # not listed yet at T: nothing leaks either
            continue
        game_key = games.set_index("odds_event_id").loc[event_id, "game_key"]
        for book in response.json()["bookmakers"]:
            assert pd.Timestamp(book["markets"][0]["last_update"]) < closing[game_key]


def test_live_scores_do_not_give_away_the_final(sandbox, sandbox_league):
    """Mid-game a real score says the final only roughly; one scaled from the final by the clock
    would hand a client the result before it exists."""
    games = sandbox_league.games
    day = games[games["game_date"].astype(str).isin(DAYS[:2])]
    misses = []
    for game in day.itertuples():
        seen = []
        for fraction in (0.25, 0.5, 0.75):
            sandbox.set_now(game.tipoff_at + fraction * (game.final_at - game.tipoff_at))
            row = requests.get(
                f"{sandbox.balldontlie_url}/v1/games/{game.bdl_id}",
                headers={"Authorization": sandbox.balldontlie_key},
                timeout=TIMEOUT,
            ).json()["data"]
            seen.append((row["home_team_score"], row["visitor_team_score"]))
            if fraction == 0.5:
                misses.append(abs(2 * row["home_team_score"] - game.home_score))
                misses.append(abs(2 * row["visitor_team_score"] - game.away_score))
        assert seen == sorted(seen, key=lambda s: s[0]) == sorted(seen, key=lambda s: s[1])
        assert all(h < game.home_score and a < game.away_score for h, a in seen)
    assert len(misses) >= 20
    # doubling a halftime score misses the final by several points, as it does in real games
    assert sorted(misses)[len(misses) // 2] >= 3
