"""`python -m sandbox`: help, refusals, and a real run in a separate process.

The separate process also proves "same seed, same bytes" end to end: it regenerates the league from
the seed in an empty cache directory, under a different PYTHONHASHSEED, and must serve exactly the
bytes the in-process session server serves.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from typer.testing import CliRunner

from sandbox.__main__ import app

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-01-16T02:30:00Z"
TIMEOUT = 10


def test_help_lists_the_options():
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in ("--seed", "--season", "--now", "--port", "--fault", "--host", "--quota"):
        assert option in result.output


def test_write_truth_writes_the_file_and_serves_nothing(tmp_path, sandbox_league):
    target = tmp_path / "truth" / "expectations.parquet"
    result = CliRunner().invoke(app, ["--write-truth", str(target)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    assert "sandbox on" not in result.output
    truth = pd.read_parquet(target)
    assert len(truth) == len(sandbox_league.truth)
    assert {"game_key", "player_key", "exp_pts", "game_date"} <= set(truth.columns)


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "0.0.0.0"],  # noqa: S104 - refused, never bound
        ["--host", "10.1.2.3"],
        ["--fault", "meteor:bdl.games"],
        ["--fault", "slow:bdl.games:many"],
        ["--now", "next tuesday"],
    ],
)
def test_bad_options_are_refused_before_serving(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "building/loading league" not in result.output


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A sandbox started by the CLI in its own process, with a fresh league cache."""
    env = {
        **os.environ,
        "PYTHONHASHSEED": "4242",
        "PYTHONUNBUFFERED": "1",
        "NBA_PROPS_SANDBOX_CACHE": str(tmp_path_factory.mktemp("league-cache")),
        "COLUMNS": "80",  # what a pipe gets: the banner must not wrap a key over two lines
    }
    command = [sys.executable, "-m", "sandbox", "--port", "0", "--now", NOW,
               "--fault", "rate_limit:bdl.games:1:retry_after=3"]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    url = None
    deadline = time.monotonic() + 90
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"sandbox\s+on\s+(http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1)
        if "Ctrl-C" in line:
            break
    assert url, "".join(lines)
    try:
        yield url, "".join(lines)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0


def test_cli_prints_urls_and_keys_and_arms_faults(cli_server):
    url, banner = cli_server
    assert f"{url}/odds-api" in banner
    assert f"{url}/balldontlie" in banner
    assert f"{url}/espn" in banner
    lines = banner.splitlines()
    assert any(f"{url}/odds-api" in line and "apiKey=sandbox-odds-key" in line for line in lines)
    assert any(
        f"{url}/balldontlie" in line and "Authorization: sandbox-bdl-key" in line for line in lines
    )
    headers = {"Authorization": "sandbox-bdl-key"}
    # a date of the served season: an unfiltered list would start at 2023-24's first game, and
    # generating that season on a cold cache is not what this test is about
    games = f"{url}/balldontlie/v1/games?dates[]=2026-01-14"
    limited = requests.get(games, headers=headers, timeout=TIMEOUT)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    again = requests.get(games, headers=headers, timeout=TIMEOUT)
    assert again.status_code == 200
    state = requests.get(f"{url}/_sandbox/state", timeout=TIMEOUT).json()
    assert state["now"] == NOW


def _payloads(base: str, event_ids: dict[str, str]) -> list[tuple[str, bytes]]:
    """A day's worth of calls to all three APIs; returns (label, body bytes)."""
    session = requests.Session()
    odds = {"apiKey": "sandbox-odds-key"}
    props = "player_points,player_rebounds,player_assists,player_threes"
    calls = [
        ("espn board", f"{base}/espn/apis/site/v2/sports/basketball/nba/scoreboard",
         {"dates": "20260115"}),
        ("espn range", f"{base}/espn/apis/site/v2/sports/basketball/nba/scoreboard",
         {"dates": "20251101-20251105", "limit": 100}),
        ("espn summary", f"{base}/espn/apis/site/v2/sports/basketball/nba/summary",
         {"event": event_ids["espn"]}),
        ("bdl games", f"{base}/balldontlie/v1/games", {"dates[]": "2026-01-15"}),
        ("bdl stats", f"{base}/balldontlie/v1/stats", {"dates[]": "2026-01-14", "per_page": 100}),
        ("bdl players", f"{base}/balldontlie/v1/players", {"per_page": 100}),
        ("odds events", f"{base}/odds-api/v4/sports/basketball_nba/events", odds),
        ("odds featured", f"{base}/odds-api/v4/sports/basketball_nba/odds",
         {**odds, "regions": "us", "markets": "h2h,spreads,totals"}),
        ("odds props", f"{base}/odds-api/v4/sports/basketball_nba/events/{event_ids['odds']}/odds",
         {**odds, "regions": "us", "markets": props, "oddsFormat": "american"}),
        ("odds historical",
         f"{base}/odds-api/v4/historical/sports/basketball_nba/events/{event_ids['odds']}/odds",
         {**odds, "regions": "us", "markets": props, "date": "2026-01-15T20:00:00Z"}),
    ]  # fmt: skip
    out = []
    for label, url, params in calls:
        response = session.get(url, params=params, headers={"Authorization": "sandbox-bdl-key"},
                               timeout=TIMEOUT)  # fmt: skip
        assert response.status_code == 200, (base, label, response.text[:200])
        out.append((label, response.content))
    return out


def test_same_seed_same_bytes_across_processes(cli_server, sandbox, sandbox_league):
    url, _ = cli_server
    # The fixture armed a one-shot 429 for the fault test; clear it so the order of tests is free.
    requests.delete(f"{url}/_sandbox/faults", timeout=TIMEOUT).raise_for_status()
    sandbox.set_now(NOW)
    games = sandbox_league.games
    day = games[games["game_date"].astype(str) == "2026-01-15"]
    # a game not yet final at NOW (in progress or still to come) has a live event-odds endpoint
    running = day[day["final_at"] > NOW]
    assert not running.empty, "NOW must fall before the end of some 2026-01-15 game"
    live = running.iloc[0]
    finished = games[games["game_date"].astype(str) == "2026-01-14"].iloc[0]
    ids = {"odds": live["odds_event_id"], "espn": finished["espn_id"]}
    mine = _payloads(sandbox.url, ids)
    theirs = _payloads(url, ids)
    for (label, a), (_, b) in zip(mine, theirs, strict=True):
        assert a == b, f"{label}: the two servers disagree"
    assert sum(len(body) for _, body in mine) > 50_000
