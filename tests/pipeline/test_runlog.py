"""The run log: a row per step written as it starts and ends, rows a dead job left 'running'
marked 'abandoned' by the next one, and `python -m pipeline status` reading it back."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.runlog import RunLog, read_status
from tests.pipeline.conftest import daily_env

DAY = date(2025, 11, 5)


def _rows(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "select run_id, step, status, error, rows_out, details from raw_pipeline.run_log "
            "order by started_at, step"
        ).fetchall()
    finally:
        con.close()


def test_a_step_is_running_while_it_runs_and_final_after(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "w.duckdb", "run-1", DAY)
    log.ensure()
    log.start("run")
    log.start("extract")
    assert [(r[1], r[2]) for r in _rows(log.warehouse)] == [
        ("run", "running"),
        ("extract", "running"),
    ]
    log.finish("extract", "ok", rows_out=12, details={"load_ids": {"raw_espn": ["1.2"]}})
    [_, extract] = _rows(log.warehouse)
    assert extract[1:5] == ("extract", "ok", None, 12)
    assert json.loads(extract[5]) == {"load_ids": {"raw_espn": ["1.2"]}}


def test_rows_a_dead_job_left_running_are_abandoned_by_the_next(tmp_path: Path) -> None:
    dead = RunLog(tmp_path / "w.duckdb", "run-dead", DAY)
    dead.ensure()
    dead.start("run")
    dead.start("extract")
    dead.finish("extract", "ok")
    dead.start("dbt_features")  # SIGKILL here: nothing ends these two rows
    nxt = RunLog(dead.warehouse, "run-next", DAY)
    nxt.ensure()
    nxt.start("run")
    assert nxt.abandon_stale() == [("run-dead", "run", DAY), ("run-dead", "dbt_features", DAY)]
    statuses = {(r[0], r[1]): r[2] for r in _rows(dead.warehouse)}
    assert statuses == {
        ("run-dead", "run"): "abandoned",
        ("run-dead", "extract"): "ok",
        ("run-dead", "dbt_features"): "abandoned",
        ("run-next", "run"): "running",  # its own row is left alone
    }
    assert nxt.abandon_stale() == []


def _log_of_two_runs(warehouse: Path) -> None:
    first = RunLog(warehouse, "20251105T170000Z-aaaaaa", DAY)
    first.ensure()
    first.start("run")
    first.start("extract")
    first.finish("extract", "ok", rows_out=5000)
    first.start("dbt_features")
    first.finish("dbt_features", "failed", error="1 dbt node(s) failed: model.x: error")
    first.finish("run", "failed", error="step dbt_features failed")
    second = RunLog(warehouse, "20251105T180000Z-bbbbbb", DAY)
    second.start("run")
    for step in ("extract", "dbt_features", "checks", "score", "dbt_predictions", "publish"):
        second.start(step)
        second.finish(step, "ok")
    second.start("coverage")
    second.finish("coverage", "breach", error="catboost 90.0% (90 of 100 lines)")
    second.finish("run", "breach")


def test_status_names_the_latest_run_and_what_failed(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "daily.duckdb"
    warehouse.parent.mkdir()
    _log_of_two_runs(warehouse)
    status = read_status(warehouse, DAY)
    assert status.run_id == "20251105T180000Z-bbbbbb"
    assert status.earlier_runs == 1
    assert not status.completed
    assert [s.step for s in status.failed_steps] == ["coverage"]

    runner = CliRunner()
    env = daily_env(tmp_path)
    said = runner.invoke(app, ["status", DAY.isoformat()], env=env)
    assert said.exit_code == 1
    assert "published, but coverage missed its target" in said.output
    assert "catboost 90.0% (90 of 100 lines)" in said.output
    assert "1 earlier run(s)" in said.output

    # the earlier run, seen alone: it stopped at dbt_features and says why
    con = duckdb.connect(str(warehouse))
    con.execute("delete from raw_pipeline.run_log where run_id = '20251105T180000Z-bbbbbb'")
    con.close()
    said = runner.invoke(app, ["status", DAY.isoformat()], env=env)
    assert said.exit_code == 1
    assert "did NOT complete: step dbt_features failed: 1 dbt node(s) failed" in said.output

    said = runner.invoke(app, ["status", "2025-11-06"], env=env)
    assert said.exit_code == 1
    assert "has no run of 2025-11-06" in said.output


def test_status_says_completed(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "daily.duckdb"
    log = RunLog(warehouse, "20251105T190000Z-cccccc", DAY)
    log.ensure()
    log.start("run")
    log.finish("run", "ok")
    said = CliRunner().invoke(app, ["status"], env=daily_env(tmp_path))
    assert said.exit_code == 0, said.output
    assert "run 20251105T190000Z-cccccc of 2025-11-05: completed" in said.output


def test_a_kept_connection_commits_each_row_before_the_step_runs(tmp_path: Path) -> None:
    """The daily job keeps the run log's connection open between writes: a job killed with it
    open still leaves its 'running' rows in the file for the next job to mark 'abandoned'."""
    warehouse = tmp_path / "w.duckdb"
    code = (
        "import os, sys, datetime\n"
        "from pathlib import Path\n"
        "from pipeline.runlog import RunLog\n"
        f"log = RunLog(Path({str(warehouse)!r}), 'run-killed', datetime.date(2025, 11, 5),"
        " keep_open=True)\n"
        "log.ensure()\n"
        "log.start('run')\n"
        "log.start('extract')\n"
        "log.finish('extract', 'ok')\n"
        "log.start('dbt_features')\n"
        "os._exit(9)  # no close, no checkpoint: as a SIGKILL leaves it\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], check=False)
    assert killed.returncode == 9
    nxt = RunLog(warehouse, "run-next", DAY, keep_open=True)
    nxt.ensure()
    assert nxt.abandon_stale() == [("run-killed", "run", DAY), ("run-killed", "dbt_features", DAY)]
    nxt.start("run")
    # while kept, the job's own reads in DuckDB's default configuration share the connection
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute("select count(*) from raw_pipeline.run_log").fetchone() == (4,)
    finally:
        con.close()
    nxt.release()
    statuses = {(r[0], r[1]): r[2] for r in _rows(warehouse)}  # read-only: released
    assert statuses == {
        ("run-killed", "run"): "abandoned",
        ("run-killed", "extract"): "ok",
        ("run-killed", "dbt_features"): "abandoned",
        ("run-next", "run"): "running",
    }
