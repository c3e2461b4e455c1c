"""`make daily` end to end on the sandbox: from an empty warehouse to published picks, the same
date again after a SIGKILL in the middle of a step, and the warehouse and files it ends with.

A short season keeps it quick: the daily job of 2025-11-05 backfills 2025-10-01..11-04 (two weeks
of games), trains, then runs the day.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.lock import read_holder
from tests.pipeline.conftest import REPO, daily_env, warehouse_fingerprint

DAY = "2025-11-05"
STEPS = [
    "run",
    "backfill",
    "extract",
    "dbt_features",
    "train",
    "checks",
    "score",
    "dbt_predictions",
    "coverage",
    "publish",
]
PER_RUN_FIELDS = frozenset({"run_id", "scoring_run_id", "generated_at"})


def _make_daily(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "daily", f"DATE={DAY}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _without_run_fields(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_run_fields(v) for k, v in value.items() if k not in PER_RUN_FIELDS}
    if isinstance(value, list):
        return [_without_run_fields(v) for v in value]
    return value


def _published(folder: Path) -> dict[str, Any]:
    """Every published file by name; the JSON documents without their run id and timestamp."""
    return {
        path.name: _without_run_fields(json.loads(path.read_text()))
        if path.suffix == ".json"
        else None
        for path in sorted(folder.iterdir())
    }


def _kill_during(step: str, env: dict[str, str], lock: Path) -> None:
    """Start the daily job, SIGKILL it a moment into `step` (the lock file names the step)."""
    job = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "daily", "--date", DAY],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and job.poll() is None:
            holder = read_holder(lock)
            if holder is not None and holder.step == step:
                time.sleep(2.0)  # into the step's work, not its first line
                break
            time.sleep(0.1)
        assert job.poll() is None, f"the job ended before step {step}"
        os.kill(job.pid, signal.SIGKILL)
    finally:
        job.wait()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 2-3 minutes on 2 idle cores; 15 on a shared, busy one
def test_daily_from_nothing_then_killed_and_rerun_ends_in_the_same_warehouse(
    tmp_path: Path,
) -> None:
    env = daily_env(tmp_path)
    warehouse = Path(env["NBA_PROPS_DUCKDB_PATH"])
    lock = warehouse.with_name(warehouse.name + ".daily.lock")
    public = tmp_path / "public" / DAY

    # --- from an empty warehouse: backfill, train, the day, published
    first = _make_daily(env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "backfill 2025-10-01..2025-11-04 first (an empty warehouse)" in first.stderr
    assert f"warehouse  {warehouse}" in first.stderr
    assert f"report     {public / 'report.html'}" in first.stderr
    [(run_id,)] = _query(warehouse, "select distinct run_id from raw_pipeline.run_log")
    steps = _query(
        warehouse, "select step, status from raw_pipeline.run_log order by started_at, step"
    )
    assert steps == [(step, "ok") for step in STEPS]
    after_first = warehouse_fingerprint(warehouse)
    assert after_first["analytics.dim_teams"][0] == 30
    for table in ("raw_odds_api.player_props", "raw_balldontlie.stats", "raw_espn.events"):
        assert after_first[table][0] > 0, table
    assert after_first["raw_models_ml.predictions"][0] > 0

    # --- the run id threads extract's log, dbt's invocation, the predictions and the files
    assert _query(warehouse, "select distinct run_id from extract_log.runs") == [(run_id,)]
    predictions = f"select distinct run_id from raw_models_ml.predictions where game_date = '{DAY}'"
    assert _query(warehouse, predictions) == [(run_id,)]
    [(details,)] = _query(
        warehouse, "select details from raw_pipeline.run_log where step = 'dbt_predictions'"
    )
    dbt_run = json.loads((tmp_path / "target" / "run_results.json").read_text())["metadata"]
    assert dbt_run["invocation_id"] == json.loads(details)["invocation_id"]
    assert dbt_run["env"]["NBA_PROPS_RUN_ID"] == run_id
    [(details,)] = _query(
        warehouse, "select details from raw_pipeline.run_log where step = 'extract'"
    )
    load_ids = json.loads(details)["load_ids"]["raw_odds_api"]
    assert (
        _query(
            warehouse,
            "select count(*) from raw_odds_api.player_props "
            f"where _dlt_load_id in ({', '.join(repr(i) for i in load_ids)})",
        )[0][0]
        > 0
    )
    for name in ("predictions.json", "picks.json", "grades.json", "performance.json"):
        assert json.loads((public / name).read_text())["run_id"] == run_id, name
    published = _published(public)
    _trace_a_published_pick(warehouse, public)

    # --- the same date, killed in the middle of the dbt build, then run again
    _kill_during("dbt_features", env, lock)
    rerun = _make_daily(env)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "took over the daily lock" in rerun.stderr
    assert "abandoned" in rerun.stderr
    assert "backfill" not in rerun.stderr, "a loaded warehouse was backfilled again"
    assert warehouse_fingerprint(warehouse) == after_first
    assert _published(public) == published
    statuses = _query(
        warehouse,
        "select status, count(distinct run_id) from raw_pipeline.run_log where step = 'run' "
        "group by status order by status",
    )
    assert statuses == [("abandoned", 1), ("ok", 2)]
    status = subprocess.run(
        [sys.executable, "-m", "pipeline", "status", DAY],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert "completed (2 earlier run(s) of that date)" in status.stdout


def _trace_a_published_pick(warehouse: Path, public: Path) -> None:
    """The README's trace query, given a pick from picks.json, reaches its raw lines and box
    scores, each with the dlt load that brought it."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- trace-query", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    pick = json.loads((public / "picks.json").read_text())["picks"][0]
    head, rest = block.split("with params as (\n", 1)
    run_id = json.loads((public / "picks.json").read_text())["run_id"]
    values = (
        f"    select '{run_id}' as run_id, '{pick['system']}' as system,"
        f" '{pick['game_id']}' as game_id, {int(pick['player_id'])} as player_id,"
        f" '{pick['market']}' as market\n"
    )
    sql = head + "with params as (\n" + values + "),\n" + rest.split("\n),\n", 1)[1]
    rows = _query(warehouse, sql.rstrip().rstrip(";"))
    kinds = {row[1] for row in rows}
    assert kinds == {"line", "box score"}, kinds
    assert all(row[4] is not None and row[5] is not None for row in rows), "a row without its load"
    assert all(row[0].startswith(pick["recommendation"]) for row in rows)
