"""One daily job per warehouse: a second one refuses naming the holder, and a dead holder's lock
is taken over (and said so), never waited on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import DailyLockHeldError
from pipeline.lock import daily_lock, read_holder
from tests.pipeline.conftest import REPO, daily_env

HOLD = """
import sys, time
from pathlib import Path
from pipeline.lock import daily_lock
with daily_lock(Path(sys.argv[1]), sys.argv[2]) as lock:
    lock.step("dbt_features")
    print("held", flush=True)
    if sys.argv[3] == "die":
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
"""


def _holder(path: Path, run_id: str, mode: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), run_id, mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_job_refuses_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "nba_props.duckdb.daily.lock"
    holder = _holder(path, "run-holding", "hold")
    try:
        with pytest.raises(DailyLockHeldError) as refused, daily_lock(path, "run-second"):
            pytest.fail("the second job got the lock")
        said = str(refused.value)
        assert "another daily job holds" in said
        assert "run run-holding" in said
        assert f"pid {holder.pid}" in said
        assert "at step dbt_features" in said
        assert refused.value.exit_code == 75
        assert read_holder(path).run_id == "run-holding", "the refused job rewrote the file"
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holder_is_taken_over_and_named(tmp_path: Path) -> None:
    path = tmp_path / "nba_props.duckdb.daily.lock"
    dead = _holder(path, "run-killed", "die")
    assert dead.wait(timeout=10) == -signal.SIGKILL
    left = read_holder(path)
    assert left is not None
    assert left.pid == dead.pid
    assert left.alive is False
    with daily_lock(path, "run-next") as lock:
        assert lock.took_over is not None
        assert lock.took_over.run_id == "run-killed"
        assert lock.took_over.step == "dbt_features"
        assert read_holder(path).run_id == "run-next"
        assert read_holder(path).pid == os.getpid()
    assert read_holder(path) is None, "a clean end leaves no holder behind"


def test_make_daily_refuses_at_once_while_a_job_holds_the_warehouse(tmp_path: Path) -> None:
    env = daily_env(tmp_path)
    warehouse = Path(env["NBA_PROPS_DUCKDB_PATH"])
    holder = _holder(warehouse.with_name(warehouse.name + ".daily.lock"), "run-holding", "hold")
    try:
        started = time.monotonic()
        blocked = subprocess.run(
            ["make", "daily"], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert blocked.returncode != 0
    assert "another daily job holds" in blocked.stderr
    assert "run run-holding" in blocked.stderr
    assert elapsed < 15, "it waited for the lock instead of refusing"
    assert not warehouse.exists(), "it touched the warehouse anyway"
