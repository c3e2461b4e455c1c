"""The warehouse a fresh clone's first `make daily` leaves, built once and shared by benchmarks.

Three benchmarks (the daily run, scoring throughput, the backtest) start from the same state: the
sandbox season so far backfilled, the models trained, the demo day run. Building it costs a few
minutes, so it is built once per code version into `bench/.cache/season-<key>/` (git-ignored) and
copied by each benchmark into its own scratch folder. The key hashes every file that shapes that
state (the sandbox, extract, dbt, models_ml, pipeline), so a change to any of them builds it anew;
the cache never hands out a state made by other code.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / ".cache"
DEMO_DATE = "2026-01-15"
SHAPING = ("sandbox", "extract", "dbt_project", "macros", "seeds", "models_ml", "pipeline")
SHAPING_FILES = ("dbt_project.yml", "profiles.yml", "pyproject.toml")


def code_key() -> str:
    """A digest of every file that shapes the state (contents, not times)."""
    digest = hashlib.sha256()
    paths = [REPO / name for name in SHAPING_FILES]
    for folder in SHAPING:
        paths += sorted(p for p in (REPO / folder).rglob("*") if p.is_file())
    for path in paths:
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(str(path.relative_to(REPO)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def daily_env(state: Path) -> dict[str, str]:
    """A daily job whose every file lives under `state`, talking to the in-process sandbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBA_PROPS_", "DBT_"))}
    for key in ("ODDS_API_KEY", "BALLDONTLIE_API_KEY"):
        env.pop(key, None)
    return env | {
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "NBA_PROPS_DUCKDB_PATH": str(warehouse_of(state)),
        "NBA_PROPS_DLT_DIR": str(state / "dlt"),
        "NBA_PROPS_LANDING_DIR": str(state / "landing"),
        "NBA_PROPS_PUBLIC_DIR": str(state / "public"),
        "DBT_TARGET_PATH": str(state / "target"),
        "DBT_LOG_PATH": str(state / "logs"),
        "DBT_PROFILES_DIR": str(REPO),
    }


def warehouse_of(state: Path) -> Path:
    return state / "warehouse" / "nba_props.duckdb"


def run_daily(day: str, state: Path) -> tuple[float, float]:
    """One `python -m pipeline daily --date day` in a fresh process, as `make daily` runs it:
    wall seconds and the process's peak RSS in MiB. A failure raises with the output's tail."""
    command = [sys.executable, "-m", "pipeline", "daily", "--date", day]
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our interpreter, arguments we build
        command,
        cwd=REPO,
        env=daily_env(state),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise RuntimeError(f"pipeline daily --date {day} exited {code}:\n{tail}")
    return wall, usage.ru_maxrss / 1024


def season_state(into: Path) -> Path:
    """Copy the demo day's state (built first if this code has none cached) to `into`."""
    cached = CACHE / f"season-{code_key()}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two bench runs at once build it once
        if not (cached / "DONE").exists():
            for stale in CACHE.glob("season-*"):
                shutil.rmtree(stale)
            building = CACHE / "building"
            shutil.rmtree(building, ignore_errors=True)
            wall, _ = run_daily(DEMO_DATE, building)
            (building / "DONE").write_text(f"first daily run from empty: {wall:.1f} s\n")
            building.rename(cached)
            print(f"season state built: {wall:.0f} s (first `make daily` from empty)")
    shutil.copytree(cached, into, symlinks=True)
    return into
