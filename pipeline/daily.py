"""The daily job for one date, step by step, in one process.

    [backfill] -> extract -> dbt_features -> [train] -> checks -> score -> dbt_predictions
      -> coverage -> publish

A date D means what it means to extract: results of D-1, slate and lines of D. When the raw layer
lacks dates before D (an empty warehouse: the whole season so far; a missed day: that gap), the
backfill step loads them first, in extract's resumable week chunks, and an empty warehouse (or an
empty model registry) trains the models through D before scoring.

Each step writes its run-log row as it starts and as it ends (pipeline/runlog.py). A step that
fails stops the run: its row says why, the screen says which step and why, and no later step runs
on what it left. The coverage step is the one exception by design: a breach is recorded, the files
are published, and only then does the run exit non-zero.

The run id is extract's own format (sortable UTC start plus a random suffix) and threads every step:
extract's run log (`extract_log.runs.run_id`), landing folders and dlt load ids (recorded in the
extract step's details), dbt's invocation (pipeline/dbt.py), each prediction row and each published
file.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from rich.console import Console
from rich.text import Text

from extract.config import DATASETS, LOG_DATASET, SOURCES, ExtractConfig
from extract.errors import ExtractError, SourcesFailedError
from pipeline import coverage as coverage_check
from pipeline.checks import Check, run_checks
from pipeline.errors import CoverageBreachError, DependencyCheckError, StepFailedError
from pipeline.lock import DailyLock, daily_lock
from pipeline.runlog import RunLog, utcnow
from pipeline.selection import FEATURES, PREDICTIONS
from pipeline.settings import Settings

if TYPE_CHECKING:
    from extract.runner import RunReport

# dlt, dbt and models_ml load in seconds (tens on a busy machine): they are imported by the steps
# that use them, after the lock is taken, so that a job refused by the lock says so at once


def new_run_id() -> str:
    """extract's run id format (extract/runtime.py): sortable UTC start, a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class StepRecord:
    """What a step reports into its run-log row; the step's code fills it in."""

    name: str
    status: str = "ok"
    rows_in: int | None = None
    rows_out: int | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DailyResult:
    run_id: str
    day: date
    status: str = "running"
    published: list[Path] = field(default_factory=list)
    out_dir: Path | None = None
    coverage: list[coverage_check.SystemCoverage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def first_season_date(day: date) -> date:
    """October 1st of the season `day` is in (extract's backfill default)."""
    from extract.cli import season_start

    return season_start(day)


def last_loaded_date(warehouse: Path) -> date | None:
    """The last date every source loaded (extract's run log); None for an empty warehouse."""
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse))
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = 'runs'",
            [LOG_DATASET],
        ).fetchone()
        if not exists or not exists[0]:
            return None
        rows = con.execute(
            f"select source, max(coalesce(last_day, day)) from {LOG_DATASET}.runs "
            "where status = 'ok' and day is not null group by source"
        ).fetchall()
    finally:
        con.close()
    latest = dict(rows)
    if any(source not in latest for source in SOURCES):
        return None
    return min(latest[source] for source in SOURCES)


def needs_training(settings: Settings, day: date) -> bool:
    """True when some system has no model that may score `day` (an empty registry). Reads the
    models' metadata only: the score step loads the models themselves."""
    from models_ml.config import SYSTEMS, default_registry
    from models_ml.errors import NoModelError
    from models_ml.registry import latest_folder

    registry = default_registry(settings.warehouse)
    for system in SYSTEMS:
        try:
            latest_folder(registry, system, day)
        except NoModelError:
            return True
    return False


class DailyRun:
    """One run of the daily job: holds the lock and the run log for its steps."""

    def __init__(
        self,
        settings: Settings,
        day: date,
        *,
        force: bool = False,
        run_id: str | None = None,
        console: Console | None = None,
        start_sandbox: bool = True,
    ) -> None:
        self.settings = settings
        self.day = day
        self.force = force
        self.run_id = run_id or new_run_id()
        self.console = console or Console(stderr=True)
        # the command line starts the sandbox in-process when no API is configured, as extract's
        # CLI does; tests hand a config already aimed at their session's sandbox
        self.start_sandbox = start_sandbox
        # one connection kept between the run log's writes, released while extract, dbt or the
        # trainer have the file (pipeline/runlog.py)
        self.log = RunLog(settings.warehouse, self.run_id, day, keep_open=True)
        self.result = DailyResult(self.run_id, day)
        self.lock: DailyLock | None = None
        self.bootstrap = False
        self.extract_now: datetime | None = None
        self.failed_sources: dict[str, str] = {}
        self.loaded_sources: list[str] = []

    # --- the frame: lock, run row, one context per step

    def run(self) -> DailyResult:
        started = time.monotonic()
        with daily_lock(self.settings.lock_path, self.run_id) as lock, self._log_released():
            self.lock = lock
            if lock.took_over is not None:
                self.say(
                    f"[yellow]took over the daily lock[/] from {lock.took_over.describe()}: "
                    "that job died without releasing it"
                )
            self.log.ensure()
            for run_id, step, run_date in self.log.abandon_stale():
                self.say(
                    f"[yellow]abandoned[/]: step {step} of run {run_id} ({run_date}) was left "
                    "running by a job that died; marked in the run log"
                )
            self.log.start("run", {"force": self.force, "pid_host": lock.holder.describe()})
            self.say(
                f"daily job {self.day}: run {self.run_id}, warehouse {self.settings.warehouse}"
            )
            status, error = "failed", None
            try:
                self._chain()
                status = "breach" if self._breaches() else "ok"
            except BaseException as exc:
                error = str(exc) or type(exc).__name__
                raise
            finally:
                self.result.seconds = round(time.monotonic() - started, 1)
                self.result.status = status
                self.log.finish(
                    "run",
                    status,
                    error=error,
                    details={"seconds": self.result.seconds, "warnings": self.result.warnings},
                )
        if self.result.status == "breach":
            worst = ", ".join(self._describe_coverage(c) for c in self._breaches())
            breach = CoverageBreachError(
                f"coverage below the target of {self.settings.coverage_target:.0%}: {worst}; "
                f"the files were published ({self.result.out_dir})"
            )
            breach.result = self.result
            raise breach
        return self.result

    @contextmanager
    def _log_released(self) -> Iterator[None]:
        """The run log's kept connection closed when the run ends, however it ends."""
        try:
            yield
        finally:
            self.log.release()

    def say(self, message: str, plain: str = "") -> None:
        """`message` in rich markup, then `plain` as it is (reasons quote upstream text, whose
        brackets are not markup)."""
        line = Text.from_markup(message)
        line.append(plain)
        self.console.print(line, soft_wrap=True, highlight=False)

    @contextmanager
    def step(
        self, name: str, *, spinner: bool = True, hands_off: bool = False
    ) -> Iterator[StepRecord]:
        """The run-log row of one step, 'running' before it and final after; a failure stops the
        run as `StepFailedError` naming the step. `hands_off`: the step's work opens the
        warehouse with settings of its own (extract, dbt, the trainer), so the run log's kept
        connection is closed once the 'running' row is committed."""
        assert self.lock is not None
        self.lock.step(name)
        record = StepRecord(name)
        self.log.start(name)
        if hands_off:
            self.log.release()
        started = time.monotonic()
        try:
            with self.console.status(f"{name} ...") if spinner else nullcontext():
                yield record
        except BaseException as exc:
            reason = exc.reason if isinstance(exc, StepFailedError) else _reason(exc)
            record.details["seconds"] = round(time.monotonic() - started, 3)
            self.log.finish(
                name,
                "failed",
                rows_in=record.rows_in,
                rows_out=record.rows_out,
                error=reason,
                details=record.details,
            )
            self.say(f"[bold red]✗ {name} failed[/]: ", reason)
            if isinstance(exc, StepFailedError) or not isinstance(exc, Exception):
                raise
            raise StepFailedError(name, reason) from exc
        record.details["seconds"] = round(time.monotonic() - started, 3)
        self.log.finish(
            name,
            record.status,
            rows_in=record.rows_in,
            rows_out=record.rows_out,
            error=record.error,
            details=record.details,
        )
        mark = {"ok": "[green]✓[/]", "warning": "[yellow]![/]", "breach": "[red]✗[/]"}
        said = f" ({record.error})" if record.error else ""
        self.say(f"{mark.get(record.status, '?')} {name} {record.details['seconds']:.1f} s", said)

    # --- the chain

    def _chain(self) -> None:
        with self._upstream() as live:
            last = last_loaded_date(self.settings.warehouse)
            self.bootstrap = last is None
            first = (
                first_season_date(self.day - timedelta(days=1))
                if last is None
                else last + timedelta(days=1)
            )
            if first <= self.day - timedelta(days=1):
                self._backfill(live, first, self.day - timedelta(days=1))
            self._extract(live)
        self._dbt("dbt_features", FEATURES)
        if self.bootstrap or needs_training(self.settings, self.day):
            self._train()
        self._checks()
        self._score()
        self._dbt("dbt_predictions", PREDICTIONS)
        self._coverage()
        self._publish()

    def _upstream(self) -> AbstractContextManager[ExtractConfig]:
        config = self.settings.extract
        if not self.start_sandbox:
            return nullcontext(config)
        from extract.cli import upstream  # the CLI face that may start the sandbox

        return _then_release_sandbox(upstream(config, [self.day]))

    def _backfill(self, config: ExtractConfig, first: date, last: date) -> None:
        from extract.backfill import BackfillReport, run_backfill
        from extract.cli import _Progress as BackfillProgress

        why = "an empty warehouse" if self.bootstrap else f"dates missing since {first}"
        self.say(f"backfill {first}..{last} first ({why})")
        # the progress bar is the display, not a spinner
        with self.step("backfill", spinner=False, hands_off=True) as record:
            since = utcnow()
            report: BackfillReport | RunReport
            with BackfillProgress((last - first).days + 1) as bar:
                try:
                    report = run_backfill(
                        config, first, last, run_id=self.run_id, on_progress=bar.update
                    )
                except SourcesFailedError as exc:
                    report = exc.report  # type: ignore[attr-defined]
                    record.status, record.error = "warning", _reason(exc)
                    self.result.warnings.append(f"backfill: {_reason(exc)}")
            record.rows_out = _rows(report)
            self.log.hold()  # extract closed the file: the run log's connection serves the read
            record.details.update(
                first=first, last=last, http_calls=report.http_calls, load_ids=self._load_ids(since)
            )

    def _extract(self, config: ExtractConfig) -> None:
        from extract.runner import run_extract

        with self.step("extract", hands_off=True) as record:
            since = utcnow()
            try:
                report = run_extract(config, [self.day], run_id=self.run_id)
            except SourcesFailedError as exc:
                # what loaded stays loaded; the checks decide whether the day can still be scored
                report = exc.report  # type: ignore[attr-defined]
                self.failed_sources = {f.source: _reason(f.error) for f in exc.failures}
                record.status, record.error = "warning", f"failed: {', '.join(self.failed_sources)}"
            self.loaded_sources = sorted({s for d in report.dates for s in d.rows})
            self.extract_now = report.now.astimezone(UTC).replace(tzinfo=None)
            record.rows_out = _rows(report)
            self.log.hold()  # extract closed the file: the run log's connection serves the read
            record.details.update(
                now=self.extract_now,
                rows={s: r for d in report.dates for s, r in d.rows.items()},
                failed_sources=self.failed_sources,
                http_calls=report.http_calls,
                odds_credits_spent=report.odds_credits_spent,
                load_ids=self._load_ids(since),
            )

    def _load_ids(self, since: datetime) -> dict[str, list[str]]:
        """The dlt loads this run made, per raw dataset: the run id's link to `_dlt_load_id`."""
        con = duckdb.connect(str(self.settings.warehouse))
        try:
            out = {}
            for dataset in (*DATASETS.values(), LOG_DATASET):
                try:
                    rows = con.execute(
                        f"select load_id from {dataset}._dlt_loads where inserted_at >= ? "
                        "order by load_id",
                        [since.replace(tzinfo=UTC)],
                    ).fetchall()
                except duckdb.CatalogException:
                    continue
                if rows:
                    out[dataset] = [r[0] for r in rows]
            return out
        finally:
            con.close()

    def _dbt(self, name: str, selection: tuple[str, ...]) -> None:
        from pipeline import dbt

        with self.step(name, hands_off=True) as record:
            outcome = dbt.build(self.settings, selection, self.run_id)
            record.rows_out = outcome.nodes
            record.details.update(
                invocation_id=outcome.invocation_id,
                selection=list(selection),
                counts=outcome.counts,
                warnings=outcome.warnings[:50],
            )
            if not outcome.ok:
                shown = "; ".join(outcome.failures[:5])
                more = (
                    f" (and {len(outcome.failures) - 5} more)" if len(outcome.failures) > 5 else ""
                )
                raise StepFailedError(
                    name, f"{len(outcome.failures)} dbt node(s) failed: {shown}{more}"
                )

    def _train(self) -> None:
        from models_ml.api import train

        with self.step("train", hands_off=True) as record:
            trained = train(self.settings.warehouse, self.day)
            record.rows_out = len(trained)
            record.details["models"] = [str(getattr(m, "version", m)) for m in trained]

    def _checks(self) -> None:
        now = self.extract_now or utcnow()
        with self.step("checks") as record:
            checks = run_checks(
                self.settings.warehouse,
                self.day,
                now,
                failed_sources=self.failed_sources,
                loaded_sources=self.loaded_sources,
                max_line_age_hours=self.settings.max_line_age_hours,
                max_injury_age_hours=self.settings.max_injury_age_hours,
            )
            record.details.update(checks=[c.as_dict() for c in checks], force=self.force, now=now)
            failed = [c for c in checks if c.status == "failed"]
            warned = [c for c in checks if c.status == "warning"]
            for check in warned:
                self.result.warnings.append(f"checks: {check.message}")
                self.say("[yellow]warning[/]: ", check.message)
            if failed and not self.force:
                raise DependencyCheckError(
                    "checks", _failed_checks(failed) + " (--force scores anyway)"
                )
            if failed:
                record.status, record.error = "warning", "forced past: " + _failed_checks(failed)
                self.result.warnings.append(record.error)
            elif warned:
                record.status, record.error = "warning", "; ".join(c.message for c in warned)

    def _score(self) -> None:
        from models_ml.api import predict

        with self.step("score") as record:
            summary = predict(self.settings.warehouse, self.day, self.run_id)
            record.rows_in = summary.lines_offered
            record.rows_out = summary.rows_written
            record.details.update(
                predictions_made=summary.predictions_made,
                lines_offered=summary.lines_offered,
                skips=dict(summary.skips),
                per_system=summary.per_system,
            )

    def _coverage(self) -> None:
        with self.step("coverage") as record:
            self.result.coverage = coverage_check.read_coverage(self.settings.warehouse, self.day)
            record.details.update(
                target=self.settings.coverage_target,
                systems={
                    c.system: {
                        "lines_offered": c.lines_offered,
                        "predictions_made": c.predictions_made,
                        "coverage": c.coverage,
                    }
                    for c in self.result.coverage
                },
            )
            record.rows_in = max((c.lines_offered for c in self.result.coverage), default=0)
            record.rows_out = min((c.predictions_made for c in self.result.coverage), default=0)
            missed = self._breaches()
            if missed:
                record.status = "breach"
                record.error = ", ".join(self._describe_coverage(c) for c in missed)

    def _breaches(self) -> list[coverage_check.SystemCoverage]:
        return coverage_check.breaches(self.result.coverage, self.settings.coverage_target)

    def _describe_coverage(self, c: coverage_check.SystemCoverage) -> str:
        return (
            f"{c.system} {c.coverage:.2%} ({c.predictions_made} of {c.lines_offered} lines)"
            if c.coverage is not None
            else f"{c.system}: no lines"
        )

    def _publish(self) -> None:
        from pipeline.publish import publish

        out_dir = self.settings.public_dir / self.day.isoformat()
        with self.step("publish") as record:
            files = publish(self.settings.warehouse, self.day, self.run_id, out_dir)
            record.rows_out = len(files)
            record.details.update(out_dir=out_dir, files=[str(f) for f in files])
        self.result.published = list(files)
        self.result.out_dir = out_dir


@contextmanager
def _then_release_sandbox(
    upstream: AbstractContextManager[ExtractConfig],
) -> Iterator[ExtractConfig]:
    """The upstream of the extract steps; once it closes, an in-process sandbox's league and
    indexes (about 300 MB, kept by module memos) are let go: the rest of the job (dbt, scoring)
    would otherwise carry them to its peak (1.15 GB on three seasons of history)."""
    try:
        with upstream as config:
            yield config
    finally:
        if "sandbox.server" in sys.modules:  # it was started: real APIs need no sandbox import
            sys.modules["sandbox.server"].release_memory()


def _rows(report: RunReport) -> int:
    return sum(n for d in report.dates for tables in d.rows.values() for n in tables.values())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGTERM)"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, ExtractError | StepFailedError):
        return text
    return f"{type(exc).__name__}: {text}"


def _failed_checks(failed: list[Check]) -> str:
    return "; ".join(f"{c.name}: {c.message}" for c in failed)


def run_daily(settings: Settings, day: date, **kwargs: Any) -> DailyResult:
    """Run the daily job for `day`; see `DailyRun` for the keyword arguments."""
    return DailyRun(settings, day, **kwargs).run()
