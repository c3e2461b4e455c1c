"""The warehouses the daily-run benchmarks start from, built once per code version and shared.

Three benchmarks (the daily run, the toolchain floor, the backtest) start from what a fresh clone's
first `make daily` leaves: the sandbox season so far backfilled, the models trained, the demo day
run. The history benchmark starts from the same with two earlier seasons under it. Building them
costs minutes, so each is built once into `bench/.cache/` (git-ignored) and copied by every
benchmark into its own scratch folder. Two levels, each keyed by a digest of the files that shape
it, so the cache never hands out a state made by other code:

- the raw layer (`raw-<key>`, `history-raw-<key>`): the backfill, keyed by the sandbox and extract;
  the longest part (a season's backfill over loopback HTTP) survives a change to dbt or the models;
- the state (`season-<key>`, `history-<key>`): a copy of the raw layer plus the demo day's
  `python -m pipeline daily` (extract of the day, the whole dbt build, training, scoring,
  publishing), keyed by everything.

A copy is not yet the steady state of a user's second day: dbt's partial parse is keyed by the
profile, which holds the warehouse's path, so every copy is parsed once, untimed (`warm_parse`),
as a user's warehouse always is after its first run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / ".cache"
DEMO_DATE = "2026-01-15"
SEASON_FIRST = "2025-10-01"  # the daily job's default backfill start for the 2025-26 season
HISTORY_FIRST = "2023-10-01"  # two earlier seasons: 2023-24 and 2024-25
HISTORY_LAST = "2025-09-30"
RAW_SHAPING = ("sandbox", "extract")
SHAPING = (*RAW_SHAPING, "dbt_project", "macros", "seeds", "models_ml", "pipeline")
SHAPING_FILES = ("dbt_project.yml", "profiles.yml", "pyproject.toml")
# How a state is built (the commands below), in the key by version rather than by this file's
# digest, so that an edit elsewhere in this module (how copies are parsed, say) keeps the cache:
# bump it when a change here alters what a build leaves. The dates are in the key themselves.
RECIPE = "1"


def code_key(folders: tuple[str, ...] = SHAPING) -> str:
    """A digest of every file in `folders` (and the project files) that shapes a state."""
    digest = hashlib.sha256()
    digest.update(" ".join((RECIPE, DEMO_DATE, SEASON_FIRST, HISTORY_FIRST, HISTORY_LAST)).encode())
    paths = [REPO / name for name in SHAPING_FILES]
    for folder in folders:
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


def _run(command: list[str], state: Path, what: str) -> tuple[float, float]:
    """One process with the state's environment: wall seconds and peak RSS in MiB. A failure
    raises with the output's tail."""
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
        raise RuntimeError(f"{what} exited {code}:\n{tail}")
    return wall, usage.ru_maxrss / 1024


def run_daily(day: str, state: Path) -> tuple[float, float]:
    """One `python -m pipeline daily --date day` in a fresh process, as `make daily` runs it:
    wall seconds and the process's peak RSS in MiB."""
    command = [sys.executable, "-m", "pipeline", "daily", "--date", day]
    return _run(command, state, f"pipeline daily --date {day}")


def backfill(first: str, last: str, state: Path) -> float:
    """`python -m extract backfill` of a date range into the state, from the in-process sandbox
    (its clock at noon the day after the range, as the daily job's backfill step runs it)."""
    command = [sys.executable, "-m", "extract", "backfill", "--start", first, "--end", last]
    wall, _ = _run(command, state, f"extract backfill {first}..{last}")
    return wall


def warm_parse(state: Path) -> None:
    """dbt's parse of the project for this state's profile and the daily job's vars (a change of
    either is a full reparse), as its first daily run leaves it."""
    from pipeline.selection import DAILY_VARS

    dbt = str(Path(sys.executable).with_name("dbt"))
    command = [dbt, "parse", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target", "dev", "--target-path", str(state / "target")]
    command += ["--log-path", str(state / "logs"), "--quiet", *DAILY_VARS]
    _run(command, state, "dbt parse")


def _cached(name: str, key: str, build: Callable[[Path], str]) -> Path:
    """`bench/.cache/<name>-<key>/`, built by `build(folder)` when missing (older keys of the
    same name are dropped); two bench runs at once build it once."""
    cached = CACHE / f"{name}-{key}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cached / "DONE").exists():
            for stale in CACHE.iterdir():  # this name's older keys ("history-<key>" only:
                if re.fullmatch(rf"{name}-[0-9a-f]{{16}}", stale.name):  # not "history-raw-...")
                    shutil.rmtree(stale)
            building = CACHE / f"{name}.building"
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            said = build(building)
            (building / "DONE").write_text(said + "\n")
            building.rename(cached)
            print(f"{name} built: {said}")
    return cached


def _season_raw() -> Path:
    """The raw layer of the season so far: 2025-10-01 to the eve of the demo day."""
    day_before = "2026-01-14"
    return _cached(
        "raw",
        code_key(RAW_SHAPING),
        lambda into: (
            f"backfill {SEASON_FIRST}..{day_before}: "
            f"{backfill(SEASON_FIRST, day_before, into):.0f} s"
        ),
    )


def _history_raw() -> Path:
    """The season-so-far raw layer with the 2023-24 and 2024-25 seasons loaded under it."""

    def build(into: Path) -> str:
        shutil.rmtree(into)
        shutil.copytree(_season_raw(), into, symlinks=True)
        (into / "DONE").unlink()
        wall = backfill(HISTORY_FIRST, HISTORY_LAST, into)
        games = _games_by_season(warehouse_of(into))
        if any(games.get(season, 0) < 1000 for season in (2023, 2024)):
            # a sandbox serving one season answers earlier dates with empty slates: a "history"
            # of nothing would measure nothing, so it is refused rather than timed
            raise RuntimeError(f"history backfill: games by season {games}, not full seasons")
        return f"backfill {HISTORY_FIRST}..{HISTORY_LAST}: {wall:.0f} s, games {games}"

    return _cached("history-raw", code_key(RAW_SHAPING), build)


def _games_by_season(warehouse: Path) -> dict[int, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        sql = "select season, count(*) from raw_balldontlie.games group by 1"
        rows = con.execute(sql).fetchall()
    return {int(season): int(n) for season, n in rows}


def _demo_day_on(raw: Callable[[], Path]) -> Callable[[Path], str]:
    """A builder: copy the raw layer, then the demo day's daily run (dbt, training, publishing)."""

    def build(into: Path) -> str:
        shutil.rmtree(into)
        shutil.copytree(raw(), into, symlinks=True)
        (into / "DONE").unlink()
        wall, _ = run_daily(DEMO_DATE, into)
        return f"the demo day's daily run on the raw layer: {wall:.0f} s"

    return build


def _copy(cached: Path, into: Path) -> Path:
    shutil.copytree(cached, into, symlinks=True)
    warm_parse(into)
    return into


def season_state(into: Path) -> Path:
    """A copy at `into` of the demo day's state on the season so far, dbt's parse warm."""
    return _copy(_cached("season", code_key(), _demo_day_on(_season_raw)), into)


def history_state(into: Path) -> Path:
    """The same with two earlier full seasons of history (2023-24, 2024-25) under it."""
    return _copy(_cached("history", code_key(), _demo_day_on(_history_raw)), into)
