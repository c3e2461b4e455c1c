"""Runs the three sources for one or more dates, all-or-nothing per date.

Order for one date (the design choice behind "nothing half-loaded"):

1. extract every source (all HTTP happens here; every record is checked against the frozen schema
   and the table's rules as it is extracted);
2. decide: any drift, or more bad records than the threshold allows, fails the date;
3. normalize every source (dlt's frozen `schema_contract` re-checks columns and types);
4. only then load every source.

A failure in steps 1-3 aborts the pending dlt packages of *all* sources (`abort_packages`), so
nothing of that date reaches the warehouse and the next run does not silently find an old package
pending. A failure inside step 4 itself (the warehouse refusing a write) can leave the sources
loaded before it; each source's package is loaded atomically per table by dlt, and rerunning the
date is safe because every table merges on its keys.

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
from dlt.common.schema.exceptions import DataValidationError

from extract import balldontlie, espn, odds_api
from extract.config import DATASETS, LOG_DATASET, SOURCES, ExtractConfig
from extract.contracts import FROZEN_CONTRACT, ColumnChange, Issues, TableDef, wire_type
from extract.errors import ConfigError, ExtractError, SchemaDriftError
from extract.lock import exclusive_run
from extract.redact import redacted_logging
from extract.runtime import RunContext

log = logging.getLogger("extract")

SOURCE_MODULES: dict[str, Any] = {
    "odds_api": (odds_api.odds_api_source, odds_api.TABLES),
    "balldontlie": (balldontlie.balldontlie_source, balldontlie.TABLES),
    "espn": (espn.espn_source, espn.TABLES),
}


@dataclass
class DateReport:
    day: date
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class RunReport:
    run_id: str
    now: datetime
    dates: list[DateReport] = field(default_factory=list)
    status: str = "running"
    error: str = ""
    failed_day: date | None = None
    http_calls: int = 0
    retries: int = 0
    odds_credits_spent: int = 0
    odds_credits_remaining: int | None = None
    quarantine_files: list[str] = field(default_factory=list)


def quiet_dlt() -> None:
    """No anonymous dlt telemetry unless asked for: a run talks to the configured APIs only."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


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
        pending = sorted(set(ctx.frozen[source].tables[table.name]) - existing)
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


def run_day(
    ctx: RunContext,
    day: date,
    sources: Sequence[str],
    *,
    load: bool = True,
    step: Callable[[str], None] = lambda _msg: None,
) -> DateReport:
    started = time.monotonic()
    report = DateReport(day)
    ctx.issues = Issues(ctx.run_id, ctx.redactor)
    pipelines = {s: pipeline_for(ctx.config, s, DATASETS[s], ctx.warehouse) for s in sources}
    current = sources[0]
    try:
        for source in sources:
            current = source
            factory, tables = SOURCE_MODULES[source]
            pipeline = pipelines[source]
            if load:
                step(f"{source}: syncing state with the warehouse")
                if pipeline.has_pending_data:
                    # left by --no-load or a killed run: this run fetches the date afresh, and
                    # loading an old package first would mix two runs' data under one load
                    log.warning(
                        "run=%s %s: aborting package(s) left pending by an earlier run: %s",
                        ctx.run_id,
                        source,
                        ", ".join(
                            [*pipeline.list_extracted_load_packages(),
                             *pipeline.list_normalized_load_packages()]
                        ),
                    )  # fmt: skip
                    pipeline.abort_packages()
                pipeline.sync_destination()
            ctx.contracts.update(table_contracts(pipeline, source, tables, ctx))
            step(f"{source}: extracting {day}")
            pipeline.extract(factory(ctx, day))
        report.notes = list(ctx.issues.notes)
        quarantine_file = write_quarantine(ctx, ctx.issues)
        report.quarantined = len(ctx.issues.quarantined)
        ctx.issues.raise_if_blocking(
            tuple(sources),
            ctx.config.quarantine_threshold,
            ctx.frozen,
            ctx.config.dlt_dir,
            quarantine_file,
        )
        for source in sources:
            current = source
            step(f"{source}: normalizing")
            info = pipelines[source].normalize()
            report.rows[source] = {
                t: n
                for t, n in (info.row_counts if info else {}).items()
                if not t.startswith("_dlt")
            }
        if load:
            for source in sources:
                current = source
                step(f"{source}: loading into {DATASETS[source]}")
                pipelines[source].load()
    except BaseException as exc:
        _abort(pipelines, ctx)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise translate(exc, current, ctx) from exc
    finally:
        report.seconds = time.monotonic() - started
    return report


def write_run_log(ctx: RunContext, report: RunReport, issues: list[Issues]) -> None:
    """Run metadata into the `extract_log` dataset: runs, quarantined records, Odds API credits."""
    runs = [
        {
            "run_id": ctx.run_id,
            "day": d.day,
            "status": "ok",
            "error": "",
            "now": ctx.now,
            "rows": json.dumps(d.rows, sort_keys=True),
            "quarantined": d.quarantined,
            "seconds": round(d.seconds, 3),
            "finished_at": datetime.now(UTC),
        }
        for d in report.dates
    ]
    if report.failed_day is not None:
        runs.append(
            {
                "run_id": ctx.run_id,
                "day": report.failed_day,
                "status": report.status,
                "error": report.error[:2000],
                "now": ctx.now,
                "rows": "{}",
                "quarantined": sum(len(i.quarantined) for i in issues[len(report.dates) :]),
                "seconds": 0.0,
                "finished_at": datetime.now(UTC),
            }
        )
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
        for c in ctx.quota.calls
    ]
    pipeline = pipeline_for(ctx.config, "extract_log", LOG_DATASET, ctx.warehouse)
    resources = [
        dlt.resource(runs, name="runs", write_disposition="append",
                     columns={"day": {"data_type": "date"}, "error": {"data_type": "text"}}),
        dlt.resource(quarantined, name="quarantine", write_disposition="append",
                     columns={"record": {"data_type": "text"}, "reason": {"data_type": "text"}}),
        dlt.resource(calls, name="odds_api_calls", write_disposition="append",
                     columns={"requests_remaining": {"data_type": "bigint"},
                              "requests_used": {"data_type": "bigint"},
                              "requests_last": {"data_type": "bigint"}}),
    ]  # fmt: skip
    try:
        pipeline.run(resources)
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
    """Extract and load each date in turn; raises `ExtractError` at the first date that fails.

    The whole run holds the locks of extract/lock.py: a second run on the same warehouse or
    pipelines folder fails at once with `RunLockedError` instead of interleaving with this one.
    """
    quiet_dlt()
    unknown = [s for s in sources if s not in SOURCE_MODULES]
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
    all_issues: list[Issues] = []
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
            report.failed_day = day
            try:
                report.dates.append(run_day(ctx, day, sources, load=load, step=step))
                report.failed_day = None
            finally:
                all_issues.append(ctx.issues)
                path = ctx.config.landing_dir / "quarantine"
                report.quarantine_files = sorted(str(p) for p in path.glob(f"*/{ctx.run_id}.jsonl"))
            log.info("run=%s %s loaded: %s", ctx.run_id, day, json.dumps(report.dates[-1].rows))
        report.status = "ok"
    except BaseException as exc:
        report.status = "failed"
        report.error = ctx.redactor.text(str(exc)) or type(exc).__name__
        log.error("run=%s failed: %s", ctx.run_id, report.error)
        _finish(ctx, report, all_issues, load=load, failed=True)
        raise
    _finish(ctx, report, all_issues, load=load, failed=False)
    return report


def _finish(
    ctx: RunContext, report: RunReport, issues: list[Issues], *, load: bool, failed: bool
) -> None:
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
        write_run_log(ctx, report, issues)
    except ExtractError as exc:
        if not failed:
            raise
        log.error("run=%s %s", ctx.run_id, exc)
