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

Where a state is used matters to dbt: its partial parse is keyed by the profile, which holds the
warehouse's path. A state is therefore built at one fixed place per kind (`bench/.cache/live/
season`, `.../history`) and every copy that runs the daily job or dbt on it goes back to that same
place (`live_season`, `live_history`, one holder at a time): the demo day's run left dbt's parse
warm for exactly that path and the daily job's vars, as a user's warehouse is warm on its second
day, so no copy pays (or is handed, untimed) a reparse. A benchmark that only reads a state opens
the cached one read-only (`season_cache`).
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "bench" / ".cache"
NEW_YORK = ZoneInfo("America/New_York")
LIVE = CACHE / "live"  # where states are built and used: one fixed path per kind (module doc)
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
RECIPE = "2"  # 2: built at the live path


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


def _run(
    command: list[str], state: Path, what: str, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """One process with the state's environment (and `env` on top): wall seconds and peak RSS
    in MiB. A failure raises with the output's tail."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our interpreter, arguments we build
        command,
        cwd=REPO,
        env=daily_env(state) | (env or {}),
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
    """`python -m extract backfill` of a date range into the state, from the sandbox at its
    clock of noon the day after the range, as the extract CLI sets it. The sandbox runs in a
    process of its own (bench/upstream.py): the same answers as the in-process one, on the other
    core, so a cold cache's setup takes about two thirds of the time."""
    from bench.upstream import extract_env, sandbox_process

    noon = datetime.combine(date.fromisoformat(last) + timedelta(days=1), dt_time(12), NEW_YORK)
    now = noon.astimezone(UTC)
    command = [sys.executable, "-m", "extract", "backfill", "--start", first, "--end", last]
    with sandbox_process(now) as url:
        wall, _ = _run(command, state, f"extract backfill {first}..{last}", extract_env(url, now))
    return wall


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


@contextmanager
def _live_lock(name: str) -> Iterator[Path]:
    """The live path of a kind of state, held by this process alone until the block ends."""
    LIVE.mkdir(parents=True, exist_ok=True)
    with (LIVE / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield LIVE / name


def _demo_day_on(name: str, raw: Callable[[], Path]) -> Callable[[Path], str]:
    """A builder: the raw layer copied to the live path, the demo day's daily run there (dbt,
    training, publishing), then moved into the cache."""

    def build(into: Path) -> str:
        layer = raw()
        with _live_lock(name) as live:
            shutil.rmtree(live, ignore_errors=True)
            shutil.copytree(layer, live, symlinks=True)
            (live / "DONE").unlink()
            wall, _ = run_daily(DEMO_DATE, live)
            into.rmdir()
            live.rename(into)
        return f"the demo day's daily run on the raw layer: {wall:.0f} s"

    return build


def season_cache() -> Path:
    """The cached demo-day state on the season so far (built when missing): to read, never write."""
    return _cached("season", code_key(), _demo_day_on("season", _season_raw))


def history_cache() -> Path:
    """The same with two earlier full seasons of history (2023-24, 2024-25) under it."""
    return _cached("history", code_key(), _demo_day_on("history", _history_raw))


@contextmanager
def _live(name: str, cached: Callable[[], Path]) -> Iterator[Path]:
    source = cached()  # built first: the build takes the live lock itself
    with _live_lock(name) as live:
        shutil.rmtree(live, ignore_errors=True)  # a killed holder's leftovers
        shutil.copytree(source, live, symlinks=True)
        try:
            yield live
        finally:
            shutil.rmtree(live, ignore_errors=True)


@contextmanager
def live_season() -> Iterator[Path]:
    """A fresh copy of the season state at its live path, dbt's parse warm; removed after."""
    with _live("season", season_cache) as state:
        yield state


@contextmanager
def live_history() -> Iterator[Path]:
    """A fresh copy of the history state at its live path, dbt's parse warm; removed after."""
    with _live("history", history_cache) as state:
        yield state


CACHES: dict[str, Callable[[], Path]] = {"season": season_cache, "history": history_cache}


def prepare(names: tuple[str, ...], echo: Callable[[str], None] = print) -> dict[str, object]:
    """Build the named states that are not cached yet (the runner's setup, before any timing):
    what was asked, what had to be built, and the seconds it took."""
    started = time.perf_counter()
    built = []
    for name in names:
        key = code_key()
        hit = (CACHE / f"{name}-{key}" / "DONE").exists()
        echo(f"state {name}-{key}: " + ("cached" if hit else "building (minutes on a cold cache)"))
        CACHES[name]()
        if not hit:
            built.append(name)
    seconds = round(time.perf_counter() - started, 1)
    return {"states": list(names), "built": built, "seconds": seconds}
