"""Latency of one day's extractor traffic against the sandbox, over real loopback HTTP.

League load and index build times, then per-endpoint latency (p50/p95/max, bytes) for the calls a
daily extract makes: yesterday's results and box scores from ESPN and balldontlie, today's slate,
featured odds, every event's props, and a historical props snapshot per event.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from datetime import date, datetime, timedelta

import requests

from bench.core import Context, Figure
from sandbox.apis.index import index_for
from sandbox.league import load_league
from sandbox.server import DEFAULT_SEASON, DEFAULT_SEED, SandboxServer

DAY = "2026-01-15"
ROUNDS = 3
PROPS = "player_points,player_rebounds,player_assists,player_threes"


def _day_calls(server: SandboxServer, day: date) -> list[tuple[str, str, dict, dict]]:
    """(label, url, params, headers) for one day, discovering ids with untimed lookups."""
    yesterday = day - timedelta(days=1)
    odds_key = {"apiKey": server.odds_api_key}
    bdl_auth = {"Authorization": server.balldontlie_key}
    espn = f"{server.espn_url}/apis/site/v2/sports/basketball/nba"
    calls = [
        ("espn.scoreboard", f"{espn}/scoreboard", {"dates": yesterday.strftime("%Y%m%d")}, {}),
        ("espn.scoreboard", f"{espn}/scoreboard", {"dates": day.strftime("%Y%m%d")}, {}),
        ("bdl.games", f"{server.balldontlie_url}/v1/games",
         {"dates[]": yesterday.isoformat(), "per_page": 100}, bdl_auth),
        ("odds.events", f"{server.odds_api_url}/v4/sports/basketball_nba/events", odds_key, {}),
        ("odds.odds", f"{server.odds_api_url}/v4/sports/basketball_nba/odds",
         {**odds_key, "regions": "us", "markets": "h2h,spreads,totals"}, {}),
    ]  # fmt: skip
    board = requests.get(calls[0][1], params=calls[0][2], timeout=30).json()
    for event in board["events"]:
        calls.append(("espn.summary", f"{espn}/summary", {"event": event["id"]}, {}))
    cursor: int | None = 0
    while cursor is not None:
        params = {"dates[]": yesterday.isoformat(), "per_page": 100, "cursor": cursor}
        calls.append(("bdl.stats", f"{server.balldontlie_url}/v1/stats", params, bdl_auth))
        page = requests.get(calls[-1][1], params=params, headers=bdl_auth, timeout=30).json()
        cursor = page["meta"].get("next_cursor")
    events = requests.get(calls[3][1], params=odds_key, timeout=30).json()
    snapshot = (server.now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for event in events:
        base = f"{server.odds_api_url}/v4"
        calls.append(("odds.event_odds", f"{base}/sports/basketball_nba/events/{event['id']}/odds",
                      {**odds_key, "regions": "us", "markets": PROPS}, {}))  # fmt: skip
        calls.append(
            ("odds.historical_event_odds",
             f"{base}/historical/sports/basketball_nba/events/{event['id']}/odds",
             {**odds_key, "regions": "us", "markets": PROPS, "date": snapshot}, {})
        )  # fmt: skip
    return calls


def _replay(
    server: SandboxServer, calls: list[tuple[str, str, dict, dict]], rounds: int
) -> tuple[float, dict[str, list[float]], dict[str, int]]:
    """Replay the day's calls `rounds` times: wall seconds, latencies (ms) and bytes per label."""
    timings: dict[str, list[float]] = defaultdict(list)
    sizes: dict[str, int] = defaultdict(int)
    session = requests.Session()
    wall = time.perf_counter()
    for _ in range(rounds):
        for label, url, params, headers in calls:
            t0 = time.perf_counter()
            response = session.get(url, params=params, headers=headers, timeout=30)
            timings[label].append((time.perf_counter() - t0) * 1000)
            sizes[label] += len(response.content)
            if response.status_code != 200:
                raise RuntimeError(f"{label} {url} answered {response.status_code}")
    return time.perf_counter() - wall, timings, sizes


def run(ctx: Context) -> list[Figure]:
    """Replay one day's requests and return league, index, per-day and per-endpoint figures."""
    started = time.perf_counter()
    league = load_league(DEFAULT_SEED, DEFAULT_SEASON)
    loaded = time.perf_counter()
    index_for(league)
    indexed = time.perf_counter()
    print(f"league load {loaded - started:.2f} s, index build {indexed - loaded:.2f} s")
    target = date.fromisoformat(DAY)
    now = datetime.fromisoformat(f"{DAY}T17:00:00+00:00")
    with SandboxServer(league, now=now, quota=10**9) as server:
        calls = _day_calls(server, target)
        wall, timings, sizes = _replay(server, calls, ROUNDS)
    day_ms = wall * 1000 / ROUNDS
    print(f"{len(calls)} requests per day x {ROUNDS} rounds in {wall * 1000:.0f} ms "
          f"({day_ms:.0f} ms per day)")  # fmt: skip
    print(f"{'endpoint':30} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'KiB/call':>9}")
    figures = [
        Figure("league_load", loaded - started, "s"),
        Figure("index_build", indexed - loaded, "s"),
        Figure("day_replay", day_ms, "ms"),
        Figure("requests_per_day", len(calls), "requests", better=None),
    ]
    for label in sorted(timings):
        values = sorted(timings[label])
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        p50 = statistics.median(values)
        print(
            f"{label:30} {len(values):6d} {p50:8.2f} {p95:8.2f} "
            f"{values[-1]:8.2f} {sizes[label] / len(values) / 1024:9.1f}"
        )
        figures.append(Figure(f"p50.{label}", p50, "ms"))
    return figures
