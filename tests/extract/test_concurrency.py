"""Two runs at once: the second fails clearly, the first finishes intact; DuckDB's own lock too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.config import DATASETS, REPO_ROOT
from extract.errors import ExtractError, RunLockedError
from extract.lock import duckdb_lock_path, file_lock, open_warehouse
from tests.extract.conftest import (
    TODAY,
    cli_env,
    copy_preloaded,
    fingerprint,
    make_config,
    query,
    run,
    warehouse_state,
)


def espn_tables(prints: dict) -> dict:
    return {k: v for k, v in prints.items() if k.startswith(DATASETS["espn"] + ".")}


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_second_run_on_the_same_warehouse_fails_clearly_and_the_first_completes(
    tmp_path: Path, sandbox: Any, invoke: Any, monkeypatch: pytest.MonkeyPatch,
    loaded_three_times: Any,
) -> None:  # fmt: skip
    _, _, baseline = loaded_three_times
    # the first run, a separate process, is held inside its extraction by a slow box score
    sandbox.faults.inject("slow", "espn.summary", times=1, seconds=2.0)
    env = {**os.environ, **cli_env(tmp_path, sandbox), "NBA_PROPS_HTTP_READ_TIMEOUT": "20"}
    first = subprocess.Popen(
        [sys.executable, "-m", "extract", "--date", TODAY.isoformat(), "--source", "espn"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: sandbox.faults.active() == [] or first.poll() is not None, "run 1")
        assert first.poll() is None, first.communicate()
        # same warehouse, own pipelines folder: refused by the lock beside the DuckDB file
        monkeypatch.setenv("NBA_PROPS_DLT_DIR", str(tmp_path / "dlt-second"))
        second = invoke("--date", TODAY.isoformat(), "--source", "espn")
        assert first.poll() is None, "the first run ended before the second was refused"
        # same pipelines folder, another warehouse: refused by the pipelines folder's lock
        monkeypatch.setenv("NBA_PROPS_DLT_DIR", str(tmp_path / "dlt"))
        monkeypatch.setenv("NBA_PROPS_DUCKDB_PATH", str(tmp_path / "other.duckdb"))
        third = invoke("--date", TODAY.isoformat(), "--source", "espn")
        assert first.poll() is None, "the first run ended before the third was refused"
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.exit_code == RunLockedError.exit_code, second.output
    lock_file = duckdb_lock_path(tmp_path / "warehouse" / "raw.duckdb")
    assert f"the DuckDB file {tmp_path / 'warehouse' / 'raw.duckdb'} is in use" in second.output
    assert f"pid {first.pid}, run " in second.output
    assert str(lock_file) in second.output
    assert third.exit_code == RunLockedError.exit_code, third.output
    assert f"the dlt pipelines folder {tmp_path / 'dlt'} is in use" in third.output
    assert not (tmp_path / "other.duckdb").exists()
    # the first run was not disturbed: a complete day, the same rows as a clean load
    assert first.returncode == 0, err
    warehouse = tmp_path / "warehouse" / "raw.duckdb"
    assert espn_tables(fingerprint(warehouse)) == espn_tables(baseline[0])
    assert query(warehouse, "select count(*), min(status) from extract_log.runs") == [(1, "ok")]


def test_a_warehouse_held_by_another_process_fails_the_run_before_any_call(
    tmp_path: Path, sandbox: Any, preloaded: Any
) -> None:
    before = copy_preloaded(preloaded, tmp_path)
    config = make_config(tmp_path, sandbox)
    holder = subprocess.Popen(  # a stand-in for a DuckDB shell holding the file
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
         "time.sleep(120)", str(config.duckdb_path)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError) as failure:
            run(config)
    finally:
        holder.kill()
        holder.wait()
    message = str(failure.value)
    assert f"the DuckDB file {config.duckdb_path} is in use by another process" in message
    assert f"(PID {holder.pid})" in message  # DuckDB's own words, kept
    assert "Nothing was fetched or loaded" in message
    assert not config.landing_dir.exists()  # not a single call was made
    assert warehouse_state(config.duckdb_path) == before
    # and the lock files were released: the next run goes through
    assert run(config, sources=("espn",)).status == "ok"


def test_the_file_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with file_lock(path, "the thing", "run-a"):
        assert path.read_text().startswith(f"pid {os.getpid()}, run run-a, since ")
        refused = pytest.raises(RunLockedError, match=r"the thing is in use by another extract run")
        with refused, file_lock(path, "the thing", "run-b"):
            pass
    assert path.read_text() == ""
    with file_lock(path, "the thing", "run-c"):
        assert "run run-c" in path.read_text()


def test_opening_the_warehouse_says_what_is_wrong(tmp_path: Path) -> None:
    held = tmp_path / "held.duckdb"
    reader = duckdb.connect(str(held), read_only=False)
    reader.close()
    reader = duckdb.connect(str(held), read_only=True)
    try:
        with pytest.raises(RunLockedError, match="already open in this process"):
            open_warehouse(held)
    finally:
        reader.close()
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("not a database" * 100)
    with pytest.raises(ExtractError, match="cannot open the DuckDB file") as failure:
        open_warehouse(not_duckdb)
    assert not isinstance(failure.value, RunLockedError)
    conn = open_warehouse(tmp_path / "fresh" / "w.duckdb")
    try:
        assert conn.execute("select current_setting('TimeZone')").fetchone() == ("UTC",)
    finally:
        conn.close()
