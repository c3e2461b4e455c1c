"""A range of dates into the raw layer, in chunks: one dlt load per source per chunk, resumable.

A chunk is a `Window` of dates loaded exactly as a date is (`run_source_day`): all-or-nothing per
source, the same checks, quarantine and run log, and the same rows as loading its dates one by one
(the tables merge on their keys; tests/extract/test_backfill.py compares them row for row). What
changes is how the data is read: ranges where the APIs have them (balldontlie `start_date`/
`end_date`, ESPN's scoreboard `dates=FIRST-LAST`), and one load per source per chunk instead of one
per date, which is where the per-date path spent most of its time.

Resumable: the run log gets each chunk's outcome as soon as the chunk is loaded, one row per source
(`extract_log.runs`, `day`..`last_day`); a rerun skips every (chunk, source) already loaded and
redoes the rest, so a killed backfill rerun ends with the same tables. `force` redoes everything;
nothing doubles either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from extract.config import LOG_DATASET, SOURCES, ExtractConfig
from extract.errors import (
    ConfigError,
    QuotaBudgetError,
    SourcesFailedError,
)
from extract.lock import exclusive_run
from extract.redact import redacted_logging
from extract.runner import (
    DateReport,
    RunReport,
    pipeline_for,
    prune_landing,
    quiet_dlt,
    run_day,
    write_run_log,
)
from extract.runtime import RunContext
from extract.sources import REGISTRY
from extract.window import Window, chunks

log = logging.getLogger("extract")

DEFAULT_CHUNK_DAYS = 7
# for the credit estimate before a real Odds API backfill: a regular-season day averages about
# 7.5 games (1,230 over about 165 dates); the estimate rounds up, the quota tracker is the bound
ESTIMATED_GAMES_PER_DAY = 8


@dataclass
class Progress:
    """What a progress bar shows after each chunk."""

    dates_done: int
    dates_total: int
    rows: int
    http_calls: int
    credits_spent: int
    skipped: int
    chunk: DateReport | None = None


@dataclass
class BackfillReport(RunReport):
    skipped: list[tuple[Window, str]] = field(default_factory=list)
    seconds: float = 0.0


def estimate_odds_credits(config: ExtractConfig, windows: Sequence[Window]) -> int:
    """Credits a historical Odds API backfill of `windows` will spend, at most about: one events
    call per date, and per event and snapshot anchor 10 x markets x regions."""
    days = sum(len(w.days()) for w in windows)
    markets = len(config.odds.prop_markets) + len(config.odds.featured_markets)
    regions = 1 if config.odds.bookmakers else len(config.odds.regions.split(","))
    per_event = len(config.odds.historical_anchors) * 10 * markets * regions
    return days * (1 + ESTIMATED_GAMES_PER_DAY * per_event)


def completed(ctx: RunContext, sources: Sequence[str]) -> set[tuple[date, date, str]]:
    """(first, last, source) of every chunk (or date) the run log records as loaded."""
    pipeline = pipeline_for(ctx.config, "extract_log", LOG_DATASET, ctx.warehouse)
    try:
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return set()
            table = client.make_qualified_table_name("runs")
            rows = client.execute_sql(
                f"select day, coalesce(last_day, day), source from {table} "
                "where status = 'ok' and day is not null"
            )
    except Exception as exc:  # no runs table yet (a first run): nothing is complete
        if "runs" in str(exc) or "does not exist" in str(exc).lower():
            return set()
        raise
    wanted = set(sources)
    return {(_as_date(a), _as_date(b), s) for a, b, s in rows or [] if s in wanted}


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def run_backfill(
    config: ExtractConfig,
    first: date,
    last: date,
    *,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
    sources: Sequence[str] = SOURCES,
    force: bool = False,
    check_credits: bool = False,
    run_id: str | None = None,
    on_progress: Callable[[Progress], None] = lambda _p: None,
    step: Callable[[str], None] = lambda _msg: None,
) -> BackfillReport:
    """Load [first, last] in chunks of `chunk_days` dates; see the module docstring.

    With `check_credits` (a real Odds API), refuses before any call when the estimated credits
    pass `ODDS_API_CREDIT_BUDGET`. Raises `SourcesFailedError` (with `.report`) at the end when
    any (chunk, source) failed; the chunks before and after it are loaded and logged.
    """
    quiet_dlt()
    unknown = [s for s in sources if s not in REGISTRY]
    if unknown or not sources:
        raise ConfigError(f"unknown source(s) {unknown}; choose from {', '.join(SOURCES)}")
    if last < first:
        raise ConfigError(f"--end {last} is before --start {first}")
    windows = chunks(first, last, chunk_days)
    if check_credits and "odds_api" in sources:
        estimate = estimate_odds_credits(config, windows)
        if estimate > config.odds.credit_budget:
            raise QuotaBudgetError(
                f"odds_api: this backfill would spend about {estimate:,} credits (historical "
                f"calls cost 10 per market per region), more than ODDS_API_CREDIT_BUDGET="
                f"{config.odds.credit_budget:,}; raise the budget, shorten the range or set "
                "ODDS_API_HISTORICAL_SNAPSHOTS=close to halve it"
            )
    ctx = RunContext.create(config, run_id)
    ctx.backfill = True  # past dates: injury reports have no history (extract/injuries.py)
    try:
        with exclusive_run(config, ctx.run_id, load=True) as warehouse:
            ctx.warehouse = warehouse
            with redacted_logging(ctx.redactor):
                return _run_chunks(ctx, windows, sources, force, on_progress, step)
    finally:
        ctx.close()


def _run_chunks(
    ctx: RunContext,
    windows: Sequence[Window],
    sources: Sequence[str],
    force: bool,
    on_progress: Callable[[Progress], None],
    step: Callable[[str], None],
) -> BackfillReport:
    started = time.monotonic()
    report = BackfillReport(ctx.run_id, ctx.now)
    prune_landing(ctx)
    done = set() if force else completed(ctx, sources)
    total = sum(len(w.days()) for w in windows)
    dates_done = rows = 0
    log.info(
        "run=%s backfill %s..%s in %d chunk(s), sources %s%s",
        ctx.run_id,
        windows[0].first,
        windows[-1].last,
        len(windows),
        ", ".join(sources),
        " (force)" if force else f", {len(done)} (chunk, source) already loaded",
    )
    for window in windows:
        chunk = DateReport(window.first, last=None if window.single else window.last)
        todo = [s for s in sources if (window.first, window.last, s) not in done]
        report.skipped += [(window, s) for s in sources if s not in todo]
        if todo:
            # the chunk's sources, each on its own, exactly as a date's (and its slate notes)
            run_day(ctx, window.first, todo, chunk, load=True, step=step)
            report.dates.append(chunk)
            # logged now, not at the end: a killed backfill's rerun must know this chunk is done
            write_run_log(ctx, RunReport(ctx.run_id, ctx.now, dates=[chunk]))
        dates_done += len(window.days())
        rows += sum(n for tables in chunk.rows.values() for n in tables.values())
        on_progress(
            Progress(
                dates_done,
                total,
                rows,
                sum(s.attempts for s in ctx.sessions.values()),
                ctx.quota.spent,
                len(report.skipped),
                chunk,
            )
        )
    report.seconds = time.monotonic() - started
    report.http_calls = sum(s.attempts for s in ctx.sessions.values())
    report.retries = sum(s.retries for s in ctx.sessions.values())
    report.odds_credits_spent = ctx.quota.spent
    report.odds_credits_remaining = ctx.quota.remaining
    failures = report.failures
    report.status = "failed" if failures else "ok"
    if failures:
        loaded = [(d.day, s) for d in report.dates for s in d.rows]
        error = SourcesFailedError(failures, loaded)
        error.report = report  # type: ignore[attr-defined]
        raise error
    return report
