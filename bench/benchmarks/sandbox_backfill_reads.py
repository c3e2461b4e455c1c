"""A season's backfill reads against the sandbox: is the sandbox the bottleneck? (issue 8.7)

The range requests a season backfill makes, a week a chunk: balldontlie `/v1/games` and
`/v1/stats` with `start_date`/`end_date`, `per_page=100` and the cursor; ESPN's scoreboard with
`dates=YYYYMMDD-YYYYMMDD&limit=1000`; and per game one Odds API historical event-odds call (a
snapshot an hour before tip-off) plus one historical events call per date, those sent by 8
concurrent clients. Two figures per endpoint kind:

- `server_ms.<kind>`: the sandbox's own time per request (`SandboxServer.handle` plus encoding,
  in process, no sockets): what the sandbox costs, whoever the client is;
- `rps.<kind>`: requests per second over loopback HTTP with 8 client threads, client included.

`season_http` is the wall time of the whole season's reads over HTTP, `season_http_again` the same
reads a second time (what a rerun or a resumed backfill sees; full runs only), `season_server` the
sandbox's own total.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from bench.core import Context, Figure
from sandbox.league import load_league
from sandbox.server import DEFAULT_SEASON, DEFAULT_SEED, SandboxServer

NOW = datetime.fromisoformat("2026-04-20T16:00:00+00:00")  # the season is over
CHUNK_DAYS = 7
CLIENTS = 8
PROPS = "player_points,player_rebounds,player_assists,player_threes"
ESPN = "/espn/apis/site/v2/sports/basketball/nba"


def _chunks(first: date, last: date) -> list[tuple[date, date]]:
    out, start = [], first
    while start <= last:
        end = min(start + timedelta(days=CHUNK_DAYS - 1), last)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out


def _get(server: SandboxServer, target: str, headers: dict[str, str]) -> Any:
    response, _ = server.handle("GET", target, headers, b"")
    if response.status != 200:
        raise RuntimeError(f"{target} answered {response.status}: {response.encode()[:200]!r}")
    return response


def _season_requests(server: SandboxServer, league: Any) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, path with query, headers) of every read of the season (cursors followed here)."""
    games = league.games
    bdl = {"Authorization": server.balldontlie_key}
    out: list[tuple[str, str, dict[str, str]]] = []
    for start, end in _chunks(games["game_date"].min(), games["game_date"].max()):
        for kind in ("bdl.games", "bdl.stats"):
            cursor: Any = None
            while True:
                query = {"start_date": start.isoformat(), "end_date": end.isoformat()}
                query["per_page"] = "100"
                if cursor is not None:
                    query["cursor"] = str(cursor)
                target = f"/balldontlie/v1/{kind.split('.')[1]}?{urlencode(query)}"
                out.append((kind, target, bdl))
                page = json.loads(_get(server, target, bdl).encode())
                cursor = page["meta"].get("next_cursor")
                if cursor is None:
                    break
        dates = f"{start:%Y%m%d}-{end:%Y%m%d}"
        out.append(("espn.scoreboard", f"{ESPN}/scoreboard?dates={dates}&limit=1000", {}))
    key = server.odds_api_key
    for day in sorted(set(games["game_date"])):
        stamp = f"{day.isoformat()}T16:00:00Z"
        query = urlencode({"apiKey": key, "date": stamp})
        out.append(
            ("odds.historical_events",
             f"/odds-api/v4/historical/sports/basketball_nba/events?{query}", {})
        )  # fmt: skip
    for event, tip in zip(games["odds_event_id"], games["tipoff_at"], strict=True):
        stamp = (tip - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = urlencode({"apiKey": key, "regions": "us", "markets": PROPS, "date": stamp})
        out.append(
            ("odds.historical_event_odds",
             f"/odds-api/v4/historical/sports/basketball_nba/events/{event}/odds?{query}", {})
        )  # fmt: skip
    return out


def _in_process(
    server: SandboxServer, calls: list[tuple[str, str, dict[str, str]]]
) -> tuple[float, dict[str, list[float]]]:
    """The sandbox's own time per request: handle() and encoding, one thread, no sockets."""
    per_kind: dict[str, list[float]] = defaultdict(list)
    total = time.perf_counter()
    for kind, target, headers in calls:
        started = time.perf_counter()
        response = _get(server, target, headers)
        response.encode()
        per_kind[kind].append(time.perf_counter() - started)
    return time.perf_counter() - total, per_kind


def _over_http(
    server: SandboxServer, calls: list[tuple[str, str, dict[str, str]]]
) -> tuple[float, dict[str, float], int]:
    """Every call over loopback HTTP, CLIENTS at a time: wall seconds, seconds per kind, bytes."""
    local = threading.local()
    busy: dict[str, float] = defaultdict(float)
    lock = threading.Lock()

    def fetch(call: tuple[str, str, dict[str, str]]) -> int:
        kind, target, headers = call
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(server.url + target, headers=headers, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"{target} answered {response.status_code}")
        with lock:
            busy[kind] += time.perf_counter() - started
        return len(response.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        size = sum(pool.map(fetch, calls))
    return time.perf_counter() - started, busy, size


def run(ctx: Context) -> list[Figure]:
    """Serve a season's backfill reads in process and over HTTP; per-kind and total figures."""
    league = load_league(DEFAULT_SEED, DEFAULT_SEASON)
    # one server to discover the cursors, then fresh ones (empty response caches) to measure
    with SandboxServer(league, now=NOW, quota=10**9) as server:
        calls = _season_requests(server, league)
    with SandboxServer(league, now=NOW, quota=10**9) as server:
        server_wall, per_kind = _in_process(server, calls)
    with SandboxServer(league, now=NOW, quota=10**9) as server:
        http_wall, busy, size = _over_http(server, calls)
        # a quick run keeps the first pass only (a rerun's figure is the longest to wait for)
        http_again = None if ctx.quick else _over_http(server, calls)[0]
    counts: dict[str, int] = defaultdict(int)
    for kind, _, _ in calls:
        counts[kind] += 1
    print(
        f"{len(calls)} requests, {size / 2**20:.0f} MiB: over HTTP ({CLIENTS} clients) "
        f"{http_wall:.1f} s, again {'-' if http_again is None else f'{http_again:.1f}'} s; "
        f"in process {server_wall:.1f} s"
    )
    header = ("kind", "calls", "server ms p50", "server ms mean", "HTTP req/s")
    print(f"{header[0]:28} {header[1]:>6} {header[2]:>14} {header[3]:>15} {header[4]:>11}")
    figures = [
        Figure("season_http", http_wall, "s"),
        Figure("season_server", server_wall, "s"),
        Figure("requests", len(calls), "requests", better=None),
        Figure("mib_served", size / 2**20, "MiB", better=None),
    ]
    if http_again is not None:
        figures.append(Figure("season_http_again", http_again, "s"))
    for kind in sorted(per_kind):
        values = per_kind[kind]
        # the HTTP pool interleaves kinds: a kind's rate is its calls over its clients' time
        rate = counts[kind] / (busy[kind] / CLIENTS) if busy[kind] else float("nan")
        p50 = statistics.median(values) * 1000
        mean = statistics.fmean(values) * 1000
        print(f"{kind:28} {counts[kind]:6d} {p50:14.2f} {mean:15.2f} {rate:11.0f}")
        figures.append(Figure(f"server_ms.{kind}", mean, "ms"))
        figures.append(Figure(f"rps.{kind}", rate, "req/s", better="higher"))
    return figures
