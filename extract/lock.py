"""One extract run at a time per warehouse and per pipelines folder.

Two runs at once would share dlt's working folders (each aborts the other's pending packages at
start) and interleave their loads into one DuckDB file. So a run first takes an exclusive
`fcntl.flock` on `<NBA_PROPS_DLT_DIR>/.extract.lock` and, for DuckDB, on `<duckdb file>.lock`
next to the warehouse; a second run fails at once with `RunLockedError`, naming the file and the
holder (pid, run id, start time). A loading run then opens the DuckDB file once and hands that
connection to dlt for the whole run: DuckDB's own lock is held from the first step to the last, so
nothing else (dbt, a shell) can take the file between two sources' loads, and a file already held
by another process fails the run before anything is fetched, with a clear message.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from os import getpid
from pathlib import Path

import duckdb

from extract.config import ExtractConfig
from extract.errors import ExtractError, RunLockedError

DLT_LOCK_NAME = ".extract.lock"


def duckdb_lock_path(duckdb_path: Path) -> Path:
    """The lock file beside the DuckDB file (`warehouse/nba_props.duckdb.lock`)."""
    return duckdb_path.with_name(duckdb_path.name + ".lock")


def dlt_lock_path(dlt_dir: Path) -> Path:
    return dlt_dir / DLT_LOCK_NAME


@contextmanager
def file_lock(path: Path, what: str, run_id: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking flock on `path`; the kernel drops it if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a run that has not written its name yet"
            raise RunLockedError(
                f"{what} is in use by another extract run ({holder}; lock file {path}). "
                "Nothing was fetched or loaded by this run; wait for the other run to finish, "
                "then run again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {getpid()}, run {run_id}, since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()  # no stale holder shown to whoever locks next
    finally:
        handle.close()  # closing the descriptor releases the lock


def open_warehouse(path: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """The DuckDB file opened read-write for one run, or a clear error if someone else has it.

    `memory_limit` bounds DuckDB's buffer pool for the run: a season's backfill otherwise keeps
    every page it merged against in memory (measured: the process grew about 100 MB a week)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise ExtractError(f"cannot open the DuckDB file {path}: {exc}") from exc
        raise RunLockedError(
            f"the DuckDB file {path} is in use by another process (a dbt run, a duckdb shell, a "
            f"notebook?): {exc}. DuckDB allows one writer or several readers, never both. Nothing "
            "was fetched or loaded; close the other process, then run again."
        ) from exc
    except duckdb.ConnectionException as exc:
        raise RunLockedError(
            f"the DuckDB file {path} is already open in this process with other settings (a "
            f"read-only connection?): {exc}. Close it, then run again."
        ) from exc
    # what dlt sets on the connections it opens itself: sessions read and write in UTC
    conn.execute("set global TimeZone = 'UTC'")
    if memory_limit:
        conn.execute(f"set memory_limit = '{memory_limit}'")  # checked by ExtractConfig.check
    return conn


@contextmanager
def exclusive_run(
    config: ExtractConfig, run_id: str, *, load: bool
) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The locks of one run, and the warehouse connection a loading DuckDB run uses throughout."""
    with ExitStack() as stack:
        stack.enter_context(
            file_lock(
                dlt_lock_path(config.dlt_dir), f"the dlt pipelines folder {config.dlt_dir}", run_id
            )
        )
        if config.target != "duckdb":
            yield None
            return
        stack.enter_context(
            file_lock(
                duckdb_lock_path(config.duckdb_path),
                f"the DuckDB file {config.duckdb_path}",
                run_id,
            )
        )
        if not load:
            yield None
            return
        conn = open_warehouse(config.duckdb_path, config.duckdb_memory_limit)
        stack.callback(conn.close)
        yield conn
