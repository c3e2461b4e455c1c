"""The toolchain floor: what the tool start-ups of a daily run cost on an empty day.

A daily run starts dlt (one load per source), dbt (the daily job's build of the project, on the
season so far with nothing new: bench/season_state.py) and the scoring process (Python with
catboost). On an empty day dlt and scoring do next to no work and dbt rebuilds what it rebuilds
every day, so their sum is the least a daily run can cost on this machine, the yardstick of issue
12's "at most 2x the floor".

Each step is a fresh process timed from outside (start-up is the point), against a warehouse and
dbt target that a first, untimed pass has already created: the steady state of a daily run, with
tables in place and dbt's partial parse warm. Run as a module, this file is those step processes;
they read `sys.argv` directly so that no argument-parsing import is counted in the floor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.core import Context, Figure
from bench.season_state import live_season, warehouse_of

REPO = Path(__file__).resolve().parents[2]


# --- the step processes (python -m bench.benchmarks.toolchain_floor dlt|dbt ...) -----------------


def _dlt_step(warehouse: str, pipelines_dir: str) -> dict:
    """One small merge load per source into one DuckDB connection, as extract holds it."""
    started = time.perf_counter()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    import duckdb

    from extract.config import DATASETS

    imported = time.perf_counter() - started
    loads = {}
    with duckdb.connect(warehouse) as connection:
        for source, dataset in DATASETS.items():
            t0 = time.perf_counter()
            # merge with a primary key: the write disposition that pays for dlt's staging dataset
            rows = dlt.resource(
                [{"id": 1, "value": "a"}, {"id": 2, "value": "b"}],
                name="floor_probe",
                write_disposition="merge",
                primary_key="id",
            )
            pipeline = dlt.pipeline(
                pipeline_name=f"floor_{source}",
                destination=dlt.destinations.duckdb(connection),
                dataset_name=dataset,
                pipelines_dir=pipelines_dir,
            )
            pipeline.run(rows)
            loads[source] = time.perf_counter() - t0
    return {"import": imported, "loads": loads}


def _dbt_step(warehouse: str, target_path: str) -> dict:
    """`dbt build` through dbtRunner in this process, as the daily job's pipeline/ will call it."""
    started = time.perf_counter()
    from dbt.cli.main import dbtRunner

    imported = time.perf_counter() - started
    os.environ["NBA_PROPS_DUCKDB_PATH"] = warehouse
    t0 = time.perf_counter()
    result = dbtRunner().invoke(dbt_args(target_path))
    built = time.perf_counter() - t0
    if not result.success:
        raise RuntimeError(f"dbt build failed on {warehouse}: {result.exception}")
    return {"import": imported, "build": built, "nodes": len(result.result.results)}


def dbt_args(target_path: str) -> list[str]:
    """The daily job's build (its vars; unit tests are CI's), on the dev target pointed at a copy
    of the season so far."""
    from pipeline.selection import DAILY_VARS

    return [
        "build",
        *DAILY_VARS,
        "--exclude", "test_type:unit",
        "--project-dir", str(REPO),
        "--profiles-dir", str(REPO),
        "--target", "dev",
        "--target-path", target_path,
        "--log-path", str(Path(target_path) / "logs"),
    ]  # fmt: skip


# --- the benchmark --------------------------------------------------------------------------------


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process, start to exit, and its stdout; a failure raises with stderr."""
    t0 = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our interpreter or dbt, with arguments we build
        command, cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        raise RuntimeError(f"{' '.join(command[:4])} exited {done.returncode}: {tail}")
    return wall, done.stdout


def _step(name: str, *args: str, env: dict[str, str]) -> tuple[float, dict]:
    command = [sys.executable, "-m", "bench.benchmarks.toolchain_floor", name, *args]
    wall, out = _timed(command, env)
    return wall, json.loads(out.strip().splitlines()[-1])


def run(ctx: Context) -> list[Figure]:
    """Prime dlt's tables, then time each start-up once in a fresh process."""
    warehouse = str(ctx.scratch / "floor_dlt.duckdb")
    pipelines = str(ctx.scratch / "dlt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBA_PROPS_", "DBT_"))}
    env |= {"RUNTIME__DLTHUB_TELEMETRY": "false"}

    _step("dlt", warehouse, pipelines, env=env)  # untimed: tables, state, staging dataset

    python_start, _ = _timed([sys.executable, "-c", "pass"], env)
    dlt_wall, dlt = _step("dlt", warehouse, pipelines, env=env)
    # dbt on an empty day: the season so far with nothing new (the staging views need the raw
    # layer, and the daily job rebuilds what it rebuilds whatever arrived). The copy is the steady
    # state of a second day: tables in place, dbt's partial parse warm (bench/season_state.py).
    with live_season() as state:
        dbt_env = env | {"NBA_PROPS_DUCKDB_PATH": str(warehouse_of(state))}
        dbt_wall, dbt = _step("dbt", str(warehouse_of(state)), str(state / "target"), env=dbt_env)
    catboost_wall, _ = _timed([sys.executable, "-c", "import catboost"], env)
    total = dlt_wall + dbt_wall + catboost_wall

    print(f"python start                       {python_start:6.2f} s")
    print(f"dlt: 3 loads in one process        {dlt_wall:6.2f} s  (import {dlt['import']:.2f} s)")
    for source, seconds in dlt["loads"].items():
        print(f"  load {source:28} {seconds:6.2f} s")
    print(f"dbt build, dbtRunner in a process  {dbt_wall:6.2f} s  (import {dbt['import']:.2f} s, "
          f"build {dbt['build']:.2f} s, {dbt['nodes']} nodes)")  # fmt: skip
    print(f"python + import catboost           {catboost_wall:6.2f} s")
    print(f"floor (dlt + dbtRunner + catboost) {total:6.2f} s")
    return [
        Figure("floor_total", total, "s"),
        Figure("dlt_process", dlt_wall, "s"),
        Figure("dlt_import", dlt["import"], "s"),
        *(Figure(f"dlt_load.{source}", s, "s") for source, s in dlt["loads"].items()),
        Figure("dbt_runner_process", dbt_wall, "s"),
        Figure("dbt_runner_build", dbt["build"], "s"),
        Figure("catboost_process", catboost_wall, "s"),
        Figure("python_start", python_start, "s"),
        Figure("dbt_nodes", dbt["nodes"], "nodes", better=None),
    ]


if __name__ == "__main__":
    steps = {"dlt": _dlt_step, "dbt": _dbt_step}
    print(json.dumps(steps[sys.argv[1]](*sys.argv[2:])))
