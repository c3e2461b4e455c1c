"""The run log, `raw_pipeline.run_log`: one row per step per run, kept forever.

A step's row is written when it starts ('running') and updated when it ends, so the log is true even
when the process is killed: a row left 'running' by a dead job is marked 'abandoned' by the next job
(which holds the daily lock, so no live job owns it). The row of step `run` spans the whole run; its
status is the run's ('ok', 'failed', 'breach' when coverage missed its target).

The table is a dbt source (dbt_project/staging/pipeline/); pipeline health per day is a mart over
it. Each write commits at once (a row is in the file before the step's work starts). By default each
write opens the warehouse, writes and closes it again. The daily job keeps one connection open
between writes instead (`keep_open`): each open of a season's warehouse, and the checkpoint on its
close, costs tens of milliseconds. It `release()`s the file before a step hands it to extract, dbt
or the trainer, which open it with settings of their own (DuckDB allows one writer at a time, and
one configuration per file in a process); while the connection is kept, the job's own reads (checks,
scoring, coverage, publishing) open the file in the same configuration and share it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "raw_pipeline"
TABLE = f"{SCHEMA}.run_log"
# the chain, in order; `run` is the whole run
STEPS = (
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
)
STATUSES = ("running", "ok", "warning", "failed", "breach", "abandoned")

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {TABLE} (
    run_id varchar not null,
    step varchar not null,
    run_date date not null,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    rows_in bigint,
    rows_out bigint,
    error varchar,
    details json
);
"""


def utcnow() -> datetime:
    """UTC, naive: DuckDB's `timestamp` stores UTC by the house rule."""
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def _connect(warehouse: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(warehouse), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def _json(details: Mapping[str, Any] | None) -> str | None:
    return None if details is None else json.dumps(details, sort_keys=True, default=str)


@dataclass
class RunLog:
    """The log rows of one run."""

    warehouse: Path
    run_id: str
    run_date: date
    # keep the connection open between writes until `release()` (the daily job's choice)
    keep_open: bool = False
    _con: duckdb.DuckDBPyConnection | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @contextmanager
    def _session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection of one write: the kept one (opened on first use), or one of its own.
        Every statement commits as it returns (DuckDB's auto-commit)."""
        if not self.keep_open:
            with _connect(self.warehouse) as con:
                yield con
            return
        if self._con is None:
            self._con = duckdb.connect(str(self.warehouse))
        yield self._con

    def hold(self) -> None:
        """Open the kept connection now (keep_open): reads of the warehouse in this process, in
        DuckDB's default configuration, then share it instead of opening the file again."""
        if self.keep_open and self._con is None:
            self.warehouse.parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(self.warehouse))

    def release(self) -> None:
        """Close the kept connection, if any: before another configuration opens the file, and at
        the end of the run. The next write opens it again."""
        con, self._con = self._con, None
        if con is not None:
            con.close()

    def ensure(self) -> None:
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        with self._session() as con:
            con.execute(DDL)

    def abandon_stale(self) -> list[tuple[str, str, date]]:
        """Mark rows left 'running' by dead jobs as 'abandoned'; returns (run_id, step, date)."""
        with self._session() as con:
            rows = con.execute(
                f"update {TABLE} set status = 'abandoned', finished_at = ?, "
                "error = coalesce(error, ?) where status = 'running' and run_id <> ? "
                "returning run_id, step, run_date",
                [
                    utcnow(),
                    f"the job ended without finishing this step (killed?); found by run "
                    f"{self.run_id}",
                    self.run_id,
                ],
            ).fetchall()
        return sorted(rows, key=lambda r: (r[2], r[0], STEPS.index(r[1]) if r[1] in STEPS else 99))

    def start(self, step: str, details: Mapping[str, Any] | None = None) -> None:
        with self._session() as con:
            con.execute(
                f"insert into {TABLE} (run_id, step, run_date, started_at, status, details) "
                "values (?, ?, ?, ?, 'running', ?)",
                [self.run_id, step, self.run_date, utcnow(), _json(details)],
            )

    def finish(
        self,
        step: str,
        status: str,
        *,
        rows_in: int | None = None,
        rows_out: int | None = None,
        error: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if status not in STATUSES or status == "running":
            raise ValueError(f"run log: status {status!r} of step {step} is not a final status")
        with self._session() as con:
            con.execute(
                f"update {TABLE} set finished_at = ?, status = ?, rows_in = ?, rows_out = ?, "
                "error = ?, details = coalesce(?, details) "
                "where run_id = ? and step = ? and status = 'running'",
                [
                    utcnow(),
                    status,
                    rows_in,
                    rows_out,
                    error[:4000] if error else None,
                    _json(details),
                    self.run_id,
                    step,
                ],
            )


# --- reading it back: `python -m pipeline status [DATE]`


@dataclass(frozen=True)
class StepRow:
    step: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_in: int | None
    rows_out: int | None
    error: str | None
    details: dict[str, Any]

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RunStatus:
    """The latest run of a date, step by step, and how many runs the date had before it."""

    run_id: str
    run_date: date
    steps: list[StepRow] = field(default_factory=list)
    earlier_runs: int = 0

    @property
    def run(self) -> StepRow | None:
        return next((s for s in self.steps if s.step == "run"), None)

    @property
    def completed(self) -> bool:
        run = self.run
        return run is not None and run.status == "ok"

    @property
    def failed_steps(self) -> list[StepRow]:
        return [
            s
            for s in self.steps
            if s.step != "run" and s.status in ("failed", "breach", "abandoned")
        ]


class NoRunError(LookupError):
    """The run log has no run of the date asked for (or no run log at all)."""


def read_status(warehouse: Path, day: date | None = None) -> RunStatus:
    """The latest run of `day` (default: the latest run of any date)."""
    if not warehouse.exists():
        raise NoRunError(f"no warehouse at {warehouse}: no daily job has run there yet")
    with _connect(warehouse, read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = 'run_log'",
            [SCHEMA],
        ).fetchone()
        if not exists or not exists[0]:
            raise NoRunError(f"{warehouse} has no run log ({TABLE}): no daily job has run there")
        where, params = ("where run_date = ?", [day]) if day else ("", [])
        runs = con.execute(
            f"select run_id, run_date from {TABLE} {where} "
            "group by run_id, run_date order by min(started_at) desc, run_id desc",
            params,
        ).fetchall()
        if not runs:
            raise NoRunError(f"the run log of {warehouse} has no run of {day}")
        run_id, run_date = runs[0]
        rows = con.execute(
            "select step, status, started_at, finished_at, rows_in, rows_out, error, details "
            f"from {TABLE} where run_id = ? order by started_at, step",
            [run_id],
        ).fetchall()
    steps = [
        StepRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else {})
        for r in rows
    ]
    return RunStatus(run_id, run_date, steps, earlier_runs=len(runs) - 1 if day else 0)
