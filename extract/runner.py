"""Runs the sources for one or more dates, all-or-nothing per source and date.

Order for one (source, date), the design choice behind "nothing half-loaded":

1. extract (all HTTP happens here; every record is checked against the frozen schema and the
   table's rules as it is extracted);
2. decide: drift in a contracted column, or more bad records than the threshold allows, fails it;
3. normalize (dlt's frozen `schema_contract` re-checks columns and types);
4. only then load.

A failure in any step aborts that source's pending dlt packages (`abort_packages`), so nothing of
that source and date reaches the warehouse and the next run does not silently find an old package
pending. The other sources of the date go on: one failing source never sinks the others. What the
day can still do without it is for the daily job's dependency checks to decide. After the last
date the run raises `SourcesFailedError` naming every failed source, date and reason (exit
non-zero), once the run log (which records both the loads and the failures) is written.

A run holds the locks of extract/lock.py from start to end (and, loading into DuckDB, one
connection to the file), so a second run cannot interleave with it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.schema.exceptions import DataValidationError

from extract.atomic import RestorePoint
from extract.config import LOG_DATASET, SOURCES, ExtractConfig
from extract.contracts import (
    EXTRA_COLUMN,
    FROZEN_CONTRACT,
    ColumnChange,
    Issues,
    TableDef,
    wire_type,
)
from extract.errors import (
    ConfigError,
    ExtractError,
    LoadRefusedError,
    RunLockedError,
    SchemaDriftError,
    SourceFailure,
    SourcesFailedError,
)
from extract.findings import slate_notes
from extract.lock import exclusive_run
from extract.redact import redacted_logging
from extract.runtime import RunContext
from extract.sources import REGISTRY
from extract.window import Window

log = logging.getLogger("extract")

# DuckDB loads parquet files in bulk; dlt's default for it (INSERT ... VALUES statements) spent
# 12 s loading one week of line snapshots, parquet about a second. BigQuery keeps dlt's default.
LOADER_FILE_FORMAT: dict[str, Any] = {"duckdb": "parquet"}

# failures that no other source or date could escape: the run stops at once
FATAL = (ConfigError, RunLockedError)


@dataclass
class DateReport:
    """One date: what each source loaded, or why it did not."""

    day: date
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    last: date | None = None  # a backfill chunk's last date; None for a single date
    quarantined: int = 0
    quarantined_by_source: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # each source's own notes (what it skipped and why), kept in `extract_log.runs.notes`
    notes_by_source: dict[str, list[str]] = field(default_factory=dict)
    # schema changes of columns nobody reads yet: loaded (values kept in `_extra`), reported
    changes: list[ColumnChange] = field(default_factory=list)
    failures: dict[str, ExtractError] = field(default_factory=dict)
    seconds_by_source: dict[str, float] = field(default_factory=dict)
    # where each source's time went: http (waiting on the API), validate (extract minus http:
    # shaping and checking records), normalize, load
    steps_by_source: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0
    issues: list[Issues] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def window(self) -> Window:
        return Window(self.day, self.last or self.day)


@dataclass
class RunReport:
    run_id: str
    now: datetime
    dates: list[DateReport] = field(default_factory=list)
    status: str = "running"
    error: str = ""
    http_calls: int = 0
    retries: int = 0
    odds_credits_spent: int = 0
    odds_credits_remaining: int | None = None
    quarantine_files: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[SourceFailure]:
        return [
            SourceFailure(d.day, source, error)
            for d in self.dates
            for source, error in d.failures.items()
        ]


def quiet_dlt() -> None:
    """No anonymous dlt telemetry unless asked for: a run talks to the configured APIs only.
    Arrow rows get dlt's load id and row id like dict rows do (freshness reads `_dlt_load_id`)."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    # Arrow's default allocator (mimalloc) keeps freed batches for reuse; over a season's
    # backfill that held hundreds of MB the run no longer used. The system allocator gives it back.
    pa.set_memory_pool(pa.system_memory_pool())
    # JSON columns (`_extra`, ESPN's lists) travel as JSON text in Arrow by design; dlt warns
    # about that difference on every table of every run, which would drown real warnings
    dlt_log = logging.getLogger("dlt")
    if not any(isinstance(f, _ArrowJsonHintFilter) for f in dlt_log.filters):
        dlt_log.addFilter(_ArrowJsonHintFilter())


class _ArrowJsonHintFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


def destination_for(config: ExtractConfig, warehouse: Any = None) -> Any:
    """dlt's destination; a loading DuckDB run passes the connection it holds for the run."""
    if config.target == "bigquery":
        from dlt.destinations import bigquery

        kwargs: dict[str, Any] = {}
        if config.bigquery_location:
            kwargs["location"] = config.bigquery_location
        if config.bigquery_project:
            kwargs["project_id"] = config.bigquery_project
        # credentials: Google's default chain (GOOGLE_APPLICATION_CREDENTIALS) or dlt's own config
        return bigquery(**kwargs)
    if warehouse is not None:
        return dlt.destinations.duckdb(warehouse)
    config.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(str(config.duckdb_path))


def pipeline_for(
    config: ExtractConfig, name: str, dataset: str, warehouse: Any = None
) -> dlt.Pipeline:
    suffix = "" if config.target == "duckdb" else f"_{config.target}"
    return dlt.pipeline(
        pipeline_name=f"nba_props_{name}{suffix}",
        pipelines_dir=str(config.dlt_dir),
        destination=destination_for(config, warehouse),
        dataset_name=dataset,
    )


def table_contracts(
    pipeline: dlt.Pipeline, source: str, tables: Iterable[TableDef], ctx: RunContext
) -> dict[tuple[str, str], dict[str, str]]:
    """Frozen columns and types, except where a reviewed schema change is still to be applied.

    A column accepted into extract/schemas/ but not yet in the warehouse table would trip dlt's
    `columns: freeze`; for that table and that run only, columns may evolve (the gate has already
    refused every column the reviewed file does not list).
    """
    stored = pipeline.schemas[source].tables if source in pipeline.schema_names else {}
    out = {}
    for table in tables:
        existing = set((stored.get(table.name) or {}).get("columns", {}))
        pending = sorted({*ctx.frozen[source].tables[table.name], EXTRA_COLUMN} - existing)
        contract = dict(FROZEN_CONTRACT)
        if table.name in stored and pending:
            contract["columns"] = "evolve"
            log.info(
                "run=%s %s.%s: applying accepted column(s) %s",
                ctx.run_id,
                source,
                table.name,
                pending,
            )
        out[(source, table.name)] = contract
    return out


def translate(exc: BaseException, source: str, ctx: RunContext) -> ExtractError:
    """The most useful error in a dlt exception chain, with the key redacted."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ExtractError):
            return current
        if isinstance(current, DataValidationError):
            return drift_from_dlt(current, source, ctx)
        current = current.__cause__ or current.__context__
    return ExtractError(f"{source}: {type(exc).__name__}: {ctx.redactor.text(str(exc))}")


def drift_from_dlt(err: DataValidationError, source: str, ctx: RunContext) -> SchemaDriftError:
    """dlt's contract caught what the gate did not (e.g. a hand edit of a column's type in the
    frozen file): report it in the same words, with the warehouse's type as the old one."""
    table = err.table_name or "?"
    column = err.column_name or "?"
    item = err.data_item if isinstance(err.data_item, dict) else {}
    stored = err.table_schema.get("columns", {}) if isinstance(err.table_schema, dict) else {}
    frozen = ctx.frozen[source].tables.get(table, {})
    if "__v_" in column:  # dlt names a variant column <column>__v_<type>
        column, _, new_type = column.rpartition("__v_")
    elif column in frozen:
        new_type = frozen[column].data_type
    else:
        new_type = wire_type(item.get(column))
    old = (stored.get(column) or {}).get("data_type")
    kind = "changed type" if old else "new column"
    said = ctx.redactor.text(str(err)).replace("\n", " ")[:400]
    change = ColumnChange(source, table, column, kind, old, new_type, 0, "dlt's contract", said)
    hint = (
        "none: dlt refused a change that extract/schemas/ allows; compare the frozen file with "
        "the warehouse table (a type change needs a migration, see extract/README.md)"
    )
    return SchemaDriftError([change], {source: hint})


def _abort(pipelines: dict[str, dlt.Pipeline], ctx: RunContext) -> None:
    for name, pipeline in pipelines.items():
        try:
            if pipeline.has_pending_data:
                pipeline.abort_packages()
                log.warning("run=%s %s: aborted the pending dlt package(s)", ctx.run_id, name)
        except Exception as exc:  # keep the original failure; say the abort did not finish
            log.error(
                "run=%s %s: could not abort pending packages (%s); the next run's load() will "
                "finish the abort, or run `dlt pipeline %s drop-pending-packages`",
                ctx.run_id,
                name,
                ctx.redactor.text(str(exc)),
                pipeline.pipeline_name,
            )


def prune_landing(ctx: RunContext) -> int:
    """Delete landing day-folders older than the retention; returns how many were removed."""
    root = ctx.config.landing_dir
    if not root.is_dir():
        return 0
    cutoff = datetime.now(UTC).date() - timedelta(days=ctx.config.landing_retention_days)
    removed = 0
    for folder in root.glob("*/*"):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_dir() and day < cutoff:
            shutil.rmtree(folder)
            removed += 1
    if removed:
        log.info("run=%s landing: removed %d folder(s) older than %s", ctx.run_id, removed, cutoff)
    return removed


def write_quarantine(ctx: RunContext, issues: Issues) -> Path | None:
    if not issues.quarantined:
        return None
    folder = ctx.config.landing_dir / "quarantine" / datetime.now(UTC).date().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ctx.run_id}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        for q in issues.quarantined:
            line = {
                "run_id": q.run_id,
                "source": q.source,
                "endpoint": q.endpoint,
                "table": q.table,
                "reason": q.reason,
                "record": q.record,
            }
            handle.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    return path


def run_source_day(
    ctx: RunContext,
    source: str,
    window: Window,
    report: DateReport,
    *,
    load: bool = True,
    step: Callable[[str], None] = lambda _msg: None,
) -> None:
    """Extract, check, normalize and load one source for one date (or a backfill chunk's
    window, in one load): all of it, or nothing.

    Raises the source's `ExtractError` after aborting its pending package; `report` gets the rows,
    quarantine counts, notes and non-blocking schema changes either way.
    """
    spec = REGISTRY[source]
    ctx.issues = Issues(ctx.run_id, ctx.redactor)
    report.issues.append(ctx.issues)
    pipeline = pipeline_for(ctx.config, source, spec.dataset, ctx.warehouse)
    try:
        if load:
            step(f"{source}: syncing state with the warehouse")
            _abort_left_over(pipeline, source, ctx)
            pipeline.sync_destination()
        ctx.contracts.update(table_contracts(pipeline, source, spec.tables, ctx))
        step(f"{source}: extracting {window}")
        steps = report.steps_by_source.setdefault(source, {})
        http_before = ctx.http_seconds(source)
        clock = time.monotonic()
        pipeline.extract(
            spec.factory(ctx, window),
            loader_file_format=LOADER_FILE_FORMAT.get(ctx.config.target),
        )
        steps["http"] = ctx.http_seconds(source) - http_before
        steps["validate"] = time.monotonic() - clock - steps["http"]
        _record_findings(ctx, source, report)
        quarantine_file = write_quarantine(ctx, ctx.issues)
        ctx.issues.raise_if_blocking(
            (source,),
            ctx.config.quarantine_threshold,
            ctx.frozen,
            ctx.config.dlt_dir,
            quarantine_file,
        )
        if report.changes and any(c.source == source for c in report.changes):
            ctx.issues.write_proposals((source,), ctx.frozen, ctx.config.dlt_dir)
        step(f"{source}: normalizing")
        clock = time.monotonic()
        info = pipeline.normalize()
        steps["normalize"] = time.monotonic() - clock
        rows = {
            t: n for t, n in (info.row_counts if info else {}).items() if not t.startswith("_dlt")
        }
        if load:
            step(f"{source}: loading into {spec.dataset}")
            clock = time.monotonic()
            _load_all_or_nothing(ctx, pipeline, source, spec.dataset, spec.tables, window)
            steps["load"] = time.monotonic() - clock
        report.rows[source] = rows
    except BaseException as exc:
        _abort({source: pipeline}, ctx)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise translate(exc, source, ctx) from exc


def _load_all_or_nothing(
    ctx: RunContext,
    pipeline: dlt.Pipeline,
    source: str,
    dataset: str,
    tables: Sequence[TableDef],
    window: Window,
) -> None:
    """`pipeline.load()`, undone whole if any table of it fails (extract/atomic.py): the tables
    merged before the failing one do not stay."""
    point = RestorePoint.take(ctx.warehouse, pipeline, dataset, tables)
    try:
        pipeline.load()
    except BaseException as exc:
        if point is None:
            raise
        try:
            removed = point.restore()
        except Exception as undo:
            log.error(
                "run=%s %s: the load failed and could not be rolled back (%s): rows of load(s) "
                "%s may remain in %s; rerun the window to merge it whole",
                ctx.run_id,
                source,
                ctx.redactor.text(str(undo)),
                ", ".join(point.load_ids),
                dataset,
            )
            removed = None
        if removed is None:
            raise  # the load's own failure, as dlt raised it
        log.warning(
            "run=%s %s %s: the load failed; rolled back the rows it had already merged: %s",
            ctx.run_id,
            source,
            window,
            json.dumps(removed, sort_keys=True),
        )
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise _load_refused(exc, source, window, ctx) from exc
    finally:
        if point is not None:
            point.drop()


def _load_refused(exc: BaseException, source: str, window: Window, ctx: RunContext) -> Exception:
    """A failed load in words a person can act on: which table, what the warehouse said."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ExtractError | DataValidationError):
            return current  # translate() reports these as it always has
        job = getattr(current, "job_id", None)
        if isinstance(job, str):
            cause = getattr(current, "client_exception", None)
            text = str(cause) if cause is not None else str(getattr(current, "failed_message", ""))
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            said = lines[0] if cause is not None and lines else (lines[-1] if lines else "?")
            return LoadRefusedError(
                f"{source}: the warehouse refused the load of table {job.split('.')[0]} "
                f"({ctx.redactor.text(said)[:300]}); the tables this load had already merged "
                f"were rolled back, so nothing of {source} {window} is loaded. Fix the table "
                "(a constraint or a column type changed by hand?), then rerun the window"
            )
        current = current.__cause__ or current.__context__
    return exc if isinstance(exc, Exception) else ExtractError(str(exc))


def _abort_left_over(pipeline: dlt.Pipeline, source: str, ctx: RunContext) -> None:
    """Packages left by --no-load or a killed run: this run fetches the date afresh, and loading
    an old package first would mix two runs' data under one load."""
    if not pipeline.has_pending_data:
        return
    log.warning(
        "run=%s %s: aborting package(s) left pending by an earlier run: %s",
        ctx.run_id,
        source,
        ", ".join(
            [*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()]
        ),
    )
    pipeline.abort_packages()


def _record_findings(ctx: RunContext, source: str, report: DateReport) -> None:
    """Notes, quarantine counts and non-blocking schema changes: said on screen and logged."""
    issues = ctx.issues
    report.notes.extend(issues.notes)
    report.notes_by_source.setdefault(source, []).extend(issues.notes)
    bad = sum(1 for q in issues.quarantined if q.source == source)
    report.quarantined_by_source[source] = bad
    report.quarantined += bad
    for change in issues.evolutions(source):
        report.changes.append(change)
        log.warning(
            "run=%s %s %s: schema change kept in %s (not a contracted column): %s",
            ctx.run_id,
            source,
            report.day,
            EXTRA_COLUMN,
            change.describe(),
        )


def run_day(
    ctx: RunContext,
    day: date,
    sources: Sequence[str],
    report: DateReport | None = None,
    *,
    load: bool = True,
    step: Callable[[str], None] = lambda _msg: None,
) -> DateReport:
    """Every source for one date, each on its own: a failing source does not stop the others."""
    report = report if report is not None else DateReport(day)
    started = time.monotonic()
    for source in sources:
        source_started = time.monotonic()
        try:
            run_source_day(ctx, source, report.window, report, load=load, step=step)
        except FATAL:
            raise
        except ExtractError as exc:
            report.failures[source] = exc
            log.error("run=%s %s %s failed: %s", ctx.run_id, source, report.window, exc)
        finally:
            report.seconds_by_source[source] = round(time.monotonic() - source_started, 3)
    # --- issue 14: the slate of the date across sources (extract/findings.py); a note, logged
    report.notes.extend(slate_notes(ctx.run_id, report, ctx.redactor))
    # --- end issue 14
    report.seconds = time.monotonic() - started
    return report


def _run_rows(ctx: RunContext, report: RunReport) -> list[dict[str, Any]]:
    """One row per (date, source) tried, ok or failed, and one for a run-wide failure."""
    finished = datetime.now(UTC)
    rows = []
    for d in report.dates:
        for source in d.seconds_by_source:
            error = d.failures.get(source)
            rows.append(
                {
                    "run_id": ctx.run_id,
                    "day": d.day,
                    "last_day": d.last or d.day,
                    "source": source,
                    "status": "failed" if error else "ok",
                    "error": ctx.redactor.text(str(error))[:4000] if error else "",
                    "error_kind": type(error).__name__ if error else "",
                    "now": ctx.now,
                    "rows": json.dumps(d.rows.get(source, {}), sort_keys=True),
                    "quarantined": d.quarantined_by_source.get(source, 0),
                    "notes": ctx.redactor.text("\n".join(d.notes_by_source.get(source, [])))[:4000],
                    "seconds": d.seconds_by_source[source],
                    "steps": json.dumps(
                        {k: round(v, 3) for k, v in d.steps_by_source.get(source, {}).items()}
                    ),
                    "finished_at": finished,
                }
            )
    if report.error:  # a run-wide failure (a lock, an interrupt, a bug) after the rows above
        rows.append(
            {
                "run_id": ctx.run_id,
                "day": None,
                "last_day": None,
                "source": "",
                "status": report.status,
                "error": report.error[:4000],
                "error_kind": "run",
                "now": ctx.now,
                "rows": "{}",
                "quarantined": 0,
                "notes": "",
                "seconds": 0.0,
                "steps": "{}",
                "finished_at": finished,
            }
        )
    return rows


def _change_rows(ctx: RunContext, report: RunReport) -> list[dict[str, Any]]:
    """Every schema change seen: the blocking ones (drift) and the ones kept in `_extra`."""
    rows = []
    for d in report.dates:
        blocking = [
            c
            for error in d.failures.values()
            if isinstance(error, SchemaDriftError)
            for c in error.changes
        ]
        for change, is_blocking in [
            *((c, True) for c in blocking),
            *((c, False) for c in d.changes),
        ]:
            rows.append(
                {
                    "run_id": ctx.run_id,
                    "day": d.day,
                    "source": change.source,
                    "table_name": change.table,
                    "column_name": change.column,
                    "kind": change.kind,
                    "old_type": change.old_type,
                    "new_type": change.new_type,
                    "records": change.records,
                    "endpoint": change.endpoint,
                    "example": ctx.redactor.text(change.example),
                    "is_blocking": is_blocking,
                }
            )
    return rows


def write_run_log(ctx: RunContext, report: RunReport) -> None:
    """Run metadata into the `extract_log` dataset (kept forever, append only): one row per
    (date, source) with its outcome, quarantined records, schema changes, Odds API credits."""
    runs = _run_rows(ctx, report)
    changes = _change_rows(ctx, report)
    issues = [i for d in report.dates for i in d.issues]
    quarantined = [
        {
            "run_id": q.run_id,
            "source": q.source,
            "endpoint": q.endpoint,
            "table_name": q.table,
            "reason": q.reason,
            "record": json.dumps(q.record, ensure_ascii=False, default=str),
        }
        for i in issues
        for q in i.quarantined
    ]
    calls = [
        {
            "run_id": ctx.run_id,
            "seq": c.seq,
            "endpoint": c.endpoint,
            "status": c.status,
            "requests_remaining": c.remaining,
            "requests_used": c.used,
            "requests_last": c.last,
            "estimated_cost": c.estimated_cost,
        }
        for c in ctx.quota.calls[ctx.calls_logged :]  # a backfill logs after every chunk
    ]
    pipeline = pipeline_for(ctx.config, "extract_log", LOG_DATASET, ctx.warehouse)
    resources = [
        dlt.resource(runs, name="runs", write_disposition="append",
                     columns={"day": {"data_type": "date"}, "error": {"data_type": "text"},
                              "last_day": {"data_type": "date"},
                              "source": {"data_type": "text"},
                              "error_kind": {"data_type": "text"},
                              "notes": {"data_type": "text"}}),
        dlt.resource(changes, name="schema_changes", write_disposition="append",
                     columns={"day": {"data_type": "date"}, "old_type": {"data_type": "text"},
                              "new_type": {"data_type": "text"},
                              "is_blocking": {"data_type": "bool"}}),
        dlt.resource(quarantined, name="quarantine", write_disposition="append",
                     columns={"record": {"data_type": "text"}, "reason": {"data_type": "text"}}),
        dlt.resource(calls, name="odds_api_calls", write_disposition="append",
                     columns={"requests_remaining": {"data_type": "bigint"},
                              "requests_used": {"data_type": "bigint"},
                              "requests_last": {"data_type": "bigint"}}),
    ]  # fmt: skip
    try:
        pipeline.run(resources)
        ctx.calls_logged = len(ctx.quota.calls)
    except Exception as exc:
        if pipeline.has_pending_data:
            pipeline.abort_packages()  # a half-written log must not be loaded by the next run
        raise ExtractError(
            f"{LOG_DATASET}: could not write the run log of run {ctx.run_id} "
            f"({type(exc).__name__}: {ctx.redactor.text(str(exc))[:500]}); "
            f"the run itself ended {report.status!r}"
        ) from exc


def run_extract(
    config: ExtractConfig,
    days: Sequence[date],
    *,
    sources: Sequence[str] = SOURCES,
    load: bool = True,
    run_id: str | None = None,
    step: Callable[[str], None] = lambda _msg: None,
) -> RunReport:
    """Extract and load each date in turn, each source on its own.

    Returns the report when everything loaded; raises `SourcesFailedError` (with `.report`) after
    the last date when any (source, date) failed, and a fatal error (a lock, the configuration)
    at once. The whole run holds the locks of extract/lock.py: a second run on the same warehouse or
    pipelines folder fails at once with `RunLockedError` instead of interleaving with this one.
    """
    quiet_dlt()
    unknown = [s for s in sources if s not in REGISTRY]
    if unknown or not sources:
        raise ConfigError(f"unknown source(s) {unknown}; choose from {', '.join(SOURCES)}")
    ctx = RunContext.create(config, run_id)  # refuses a bad replay folder before any lock
    try:
        with exclusive_run(config, ctx.run_id, load=load) as warehouse:
            ctx.warehouse = warehouse
            with redacted_logging(ctx.redactor):
                return _run_days(ctx, days, sources, load=load, step=step)
    finally:
        ctx.close()


def _run_days(
    ctx: RunContext,
    days: Sequence[date],
    sources: Sequence[str],
    *,
    load: bool,
    step: Callable[[str], None],
) -> RunReport:
    config = ctx.config
    report = RunReport(ctx.run_id, ctx.now)
    log.info(
        "run=%s start: dates %s, sources %s, now %s, target %s%s",
        ctx.run_id,
        ", ".join(d.isoformat() for d in days),
        ", ".join(sources),
        ctx.now.isoformat(),
        config.target,
        f" ({config.duckdb_path})" if config.target == "duckdb" else "",
    )
    prune_landing(ctx)
    if config.capture_dir is not None:
        config.capture_dir.mkdir(parents=True, exist_ok=True)
        manifest = {
            "run_id": ctx.run_id,
            "now": ctx.now.isoformat(),
            "dates": [d.isoformat() for d in days],
            "sources": list(sources),
        }
        (config.capture_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    try:
        for day in days:
            day_report = DateReport(day)
            report.dates.append(day_report)  # before the work, so a fatal error still logs it
            run_day(ctx, day, sources, day_report, load=load, step=step)
            path = ctx.config.landing_dir / "quarantine"
            report.quarantine_files = sorted(str(p) for p in path.glob(f"*/{ctx.run_id}.jsonl"))
            log.info("run=%s %s loaded: %s", ctx.run_id, day, json.dumps(day_report.rows))
    except BaseException as exc:
        report.status = "failed"
        report.error = ctx.redactor.text(str(exc)) or type(exc).__name__
        log.error("run=%s failed: %s", ctx.run_id, report.error)
        _finish(ctx, report, load=load, failed=True)
        raise
    failures = report.failures
    report.status = "failed" if failures else "ok"
    _finish(ctx, report, load=load, failed=bool(failures))
    if failures:
        loaded = [(d.day, source) for d in report.dates for source in d.rows]
        error = SourcesFailedError(failures, loaded)
        error.report = report  # type: ignore[attr-defined]
        raise error
    return report


def _finish(ctx: RunContext, report: RunReport, *, load: bool, failed: bool) -> None:
    """Totals into the report, and the run log into the warehouse.

    A run log that cannot be written fails an otherwise good run (its credits and quarantined
    records would be lost silently); after a failed run it is only logged, so that the run's own
    error is the one reported.
    """
    report.http_calls = sum(s.attempts for s in ctx.sessions.values())
    report.retries = sum(s.retries for s in ctx.sessions.values())
    report.odds_credits_spent = ctx.quota.spent
    report.odds_credits_remaining = ctx.quota.remaining
    if not load:
        return
    try:
        write_run_log(ctx, report)
    except ExtractError as exc:
        if not failed:
            raise
        log.error("run=%s %s", ctx.run_id, exc)
