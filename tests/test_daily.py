"""`make daily`, the first command a newcomer runs: it works end to end, reruns add nothing, and a
second job cannot start while one holds the lock."""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.extract.conftest import fingerprint

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("raw_odds_api", "raw_balldontlie", "raw_espn", "raw_injuries", "analytics", "features")


def _daily(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "NBA_PROPS_DUCKDB_PATH": str(tmp / "daily.duckdb"),
        "NBA_PROPS_DLT_DIR": str(tmp / "dlt"),
        "NBA_PROPS_LANDING_DIR": str(tmp / "landing"),
    }
    for name in (
        "ODDS_API_KEY",
        "BALLDONTLIE_API_KEY",
        "ODDS_API_BASE_URL",
        "BALLDONTLIE_BASE_URL",
        "ESPN_BASE_URL",
        "NBA_PROPS_TARGET",
    ):
        env.pop(name, None)
    return subprocess.run(
        ["make", "daily"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_daily_runs_the_demo_day_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    first = _daily(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    after_first = fingerprint(tmp_path / "daily.duckdb", DATASETS)
    assert after_first["analytics.dim_teams"][0] == 30
    for table in ("raw_odds_api.player_props", "raw_balldontlie.stats", "raw_espn.events"):
        assert after_first[table][0] > 0, table

    second = _daily(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert fingerprint(tmp_path / "daily.duckdb", DATASETS) == after_first


def test_a_second_daily_job_does_not_start_while_one_holds_the_lock(tmp_path: Path) -> None:
    # The lock sits beside the warehouse it guards (here a throwaway one).
    lock_path = tmp_path / "daily.duckdb.daily.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        started = time.monotonic()
        blocked = _daily(tmp_path)
        elapsed = time.monotonic() - started
    assert blocked.returncode != 0
    assert "another daily job holds" in blocked.stderr
    assert elapsed < 10, "it waited for the lock instead of refusing"
    assert not (tmp_path / "daily.duckdb").exists(), "it touched the warehouse anyway"
