"""`python -m extract`: load a date (or a range) from the three APIs into the warehouse.

This is the only module of extract/ that may import the sandbox: with no key and no base URL
configured (and no --replay), it starts the simulated league in-process on loopback and points the
run at it, with the sandbox's clock as "now".
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table
from rich.text import Text

from extract.backfill import DEFAULT_CHUNK_DAYS, Progress, estimate_odds_credits, run_backfill
from extract.config import SOURCES, ExtractConfig, RateLimits, parse_now
from extract.errors import ConfigError, ExtractError, SourcesFailedError
from extract.redact import Redactor
from extract.runner import RunReport, run_extract
from extract.window import chunks

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="Extract NBA box scores, slates and betting lines into the raw warehouse schemas.",
)
console = Console(stderr=True)
# the in-process sandbox gets a generous quota so a past date's historical calls fit
SANDBOX_QUOTA = 1_000_000


@contextmanager
def _logging(verbose: bool) -> Iterator[None]:
    """Plain timestamped lines on stderr (they say what, where and which run: `run=<id>`).

    The handler is removed afterwards: it is bound to this invocation's stderr.
    """
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    logger = logging.getLogger("extract")
    level = logger.level
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        logger.setLevel(level)


def dates_from(day: str | None, start: str | None, end: str | None) -> list[date]:
    """--date D, or --start/--end (inclusive); each a YYYY-MM-DD."""
    try:
        if day and (start or end):
            raise ConfigError("give either --date or --start/--end, not both")
        if day:
            return [date.fromisoformat(day)]
        if start and end:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
            if last < first:
                raise ConfigError(f"--end {end} is before --start {start}")
            return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    except ValueError as exc:
        raise ConfigError(f"dates must be YYYY-MM-DD: {exc}") from exc
    raise ConfigError("give --date YYYY-MM-DD, or both --start and --end")


def sandbox_clock(days: list[date]) -> datetime:
    """Noon in New York on the last date asked for: the sandbox then shows what a real run that
    morning would see (yesterday's finals, today's slate and lines), whichever date is asked."""
    noon = datetime.combine(days[-1], time(12), tzinfo=ZoneInfo("America/New_York"))
    return noon.astimezone(UTC)


@contextmanager
def upstream(config: ExtractConfig, days: list[date]) -> Iterator[ExtractConfig]:
    """The configured APIs, or the sandbox started in-process when nothing is configured."""
    if config.has_upstream or config.replay_dir is not None:
        yield config
        return
    from sandbox.server import SandboxServer  # the CLI face is the one place extract may do this

    console.print(
        "[dim]no API keys or base URLs configured: starting the sandbox on loopback[/]",
        soft_wrap=True,
    )
    server = SandboxServer(now=config.now or sandbox_clock(days), quota=SANDBOX_QUOTA)
    odds = config.odds
    if not os.environ.get("ODDS_API_CREDIT_BUDGET"):
        # the budget guards real money; the sandbox's credits are free, so a range of past dates
        # (70 credits per event and snapshot) runs as the README shows it, unless a budget is set
        odds = dataclasses.replace(odds, credit_budget=SANDBOX_QUOTA)
    rates = RateLimits(odds_api=0, balldontlie=0, espn=0)  # loopback has no plan to respect
    with server:
        yield config.with_changes(
            odds=odds,
            rates=rates,
            odds_api_base_url=server.odds_api_url,
            odds_api_key=server.odds_api_key,
            balldontlie_base_url=server.balldontlie_url,
            balldontlie_key=server.balldontlie_key,
            espn_base_url=server.espn_url,
            now=server.now,
            sandbox_url=server.url,  # its clock can be moved: a backfill replays injury reports
        )


def _summary(report: RunReport) -> Table:
    """Every (date, source) tried: what it loaded, what it quarantined, or that it failed."""
    table = Table(title="rows extracted")
    for column in ("date", "source", "table", "rows", "quarantined"):
        table.add_column(column, justify="right" if column in ("rows", "quarantined") else "left")
    for day in report.dates:
        for source in day.seconds_by_source:
            bad = str(day.quarantined_by_source.get(source, 0))
            if source in day.failures:
                error = day.failures[source]
                failed = f"FAILED (exit {error.exit_code}): nothing loaded"
                table.add_row(day.day.isoformat(), source, failed, "0", bad, style="red")
                continue
            for name, rows in sorted(day.rows.get(source, {}).items()):
                table.add_row(day.day.isoformat(), source, name, str(rows), bad)
    return table


def _findings(report: RunReport, redactor: Redactor) -> None:
    """Quarantine counts, schema changes and notes: on screen every time, whatever happened."""
    bad = sum(d.quarantined for d in report.dates)
    if bad:
        files = ", ".join(report.quarantine_files) or "extract_log.quarantine"
        console.print(
            Text.assemble(("quarantined", "yellow"), f": {bad} record(s) kept out, see {files}"),
            soft_wrap=True,
        )
    for day_report in report.dates:
        for change in day_report.changes:
            console.print(
                Text.assemble(
                    ("schema change", "yellow"),
                    f" ({day_report.day}, kept in _extra, not a contracted column): ",
                    change.describe(),
                ),
                soft_wrap=True,
            )
        for note in day_report.notes:  # notes quote upstream text: masked once more here
            console.print(
                Text.assemble(("note", "yellow"), ": ", redactor.text(note)), soft_wrap=True
            )


def _totals(report: RunReport) -> str:
    return (
        f"run {report.run_id} (now {report.now.isoformat()}): {report.http_calls} HTTP calls, "
        f"{report.retries} retried; Odds API credits spent {report.odds_credits_spent}, "
        f"remaining {report.odds_credits_remaining}"
    )


def _fail(exc: ExtractError, redactor: Redactor) -> typer.Exit:
    # plain Text: a message quoting upstream data ("[0, 75]", "dates[]") is not rich markup
    message = Text.assemble(("extract failed", "bold red"), ": ", redactor.text(str(exc)))
    console.print(message, soft_wrap=True, highlight=False)
    return typer.Exit(code=exc.exit_code)


_DATE = typer.Option("--date", help="D: box scores of D-1, slate and lines of D")
_START = typer.Option(help="first date of a range (inclusive)")
_END = typer.Option(help="last date of a range (inclusive)")
_SOURCE = typer.Option("--source", help="only this source (repeatable)")
_DESTINATION = typer.Option(help="duckdb or bigquery (default: from NBA_PROPS_TARGET)")
_CAPTURE = typer.Option(help="keep every raw response in this folder")
_REPLAY = typer.Option(help="serve responses from a --capture folder instead of the network")
_NOW = typer.Option(
    help="the run's clock, ISO UTC (default: the wall clock; on the sandbox, noon New York time"
    " on the last date)"
)
_LOAD = typer.Option("--load/--no-load", help="--no-load stops after extract and normalize")
_THRESHOLD = typer.Option(help="share of bad records tolerated (default 0: any fails)")
_RETENTION = typer.Option(help="days raw responses stay in the landing folder")
_VERBOSE = typer.Option("--verbose", "-v", help="log every call")


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    day: Annotated[str | None, _DATE] = None,
    start: Annotated[str | None, _START] = None,
    end: Annotated[str | None, _END] = None,
    source: Annotated[list[str] | None, _SOURCE] = None,
    destination: Annotated[str | None, _DESTINATION] = None,
    capture: Annotated[Path | None, _CAPTURE] = None,
    replay: Annotated[Path | None, _REPLAY] = None,
    now: Annotated[str | None, _NOW] = None,
    load: Annotated[bool, _LOAD] = True,
    quarantine_threshold: Annotated[float | None, _THRESHOLD] = None,
    retention_days: Annotated[int | None, _RETENTION] = None,
    verbose: Annotated[bool, _VERBOSE] = False,
) -> None:
    """Run a date: python -m extract --date 2026-01-15."""
    if ctx.invoked_subcommand is not None:
        return
    redactor = Redactor()
    with _logging(verbose):
        try:
            config = ExtractConfig.from_env()
            redactor = Redactor(config.secrets())
            changes: dict[str, object] = {}
            if destination is not None:
                if destination not in ("duckdb", "bigquery"):
                    raise ConfigError(f"--destination {destination!r}: use duckdb or bigquery")
                changes["target"] = destination
            if capture is not None:
                changes["capture_dir"] = capture.resolve()
            if replay is not None:
                changes["replay_dir"] = replay.resolve()
            if now is not None:
                changes["now"] = parse_now(now, "--now")
            if quarantine_threshold is not None:
                changes["quarantine_threshold"] = quarantine_threshold
            if retention_days is not None:
                changes["landing_retention_days"] = retention_days
            config = config.with_changes(**changes)
            days = dates_from(day, start, end)
            sources = tuple(source) if source else SOURCES
            with upstream(config, days) as live, console.status("extracting") as status:
                redactor = Redactor(live.secrets())
                try:
                    report = run_extract(live, days, sources=sources, load=load, step=status.update)
                except SourcesFailedError as failed:
                    _report(failed.report, redactor)  # type: ignore[attr-defined]
                    raise
        except ExtractError as exc:
            raise _fail(exc, redactor) from None
    _report(report, redactor)


def _report(report: RunReport, redactor: Redactor) -> None:
    console.print(_summary(report))
    console.print(_totals(report), soft_wrap=True)
    _findings(report, redactor)


@app.command("accept-schema")
def accept_schema_command(
    source: Annotated[str, typer.Option(help=", ".join(SOURCES))],
    yes: Annotated[bool, typer.Option("--yes", help="write without asking")] = False,
) -> None:
    """Accept the schema change a failed run proposed, after showing its diff."""
    from extract.schema_tools import accept_schema

    with _logging(False):
        try:
            config = ExtractConfig.from_env()
            preview = accept_schema(config, source, write=False)
            console.print(
                preview.diff or "(no difference)", markup=False, highlight=False, soft_wrap=True
            )
            if not yes and not typer.confirm(f"write {preview.path}?"):
                raise typer.Exit(code=1)
            change = accept_schema(config, source)
        except ExtractError as exc:
            raise _fail(exc, Redactor()) from None
    console.print(
        f"accepted: {change.path} updated; review and commit it like code", soft_wrap=True
    )


@app.command("export-schemas")
def export_schemas_command(
    day: Annotated[str, typer.Option("--date", help="a date with finals and lines")] = "2026-01-15",
    source: Annotated[list[str] | None, _SOURCE] = None,
    now: Annotated[str | None, _NOW] = None,
) -> None:
    """(Re)write extract/schemas/ from what the APIs send for a date; review the diff."""
    from extract.schema_tools import export_schemas

    redactor = Redactor()
    try:
        config = ExtractConfig.from_env()
        if now is not None:
            config = config.with_changes(now=parse_now(now, "--now"))
        days = dates_from(day, None, None)
        with _logging(False), upstream(config, days) as live:
            redactor = Redactor(live.secrets())
            changes = export_schemas(live, days[0], tuple(source) if source else SOURCES)
    except ExtractError as exc:
        raise _fail(exc, redactor) from None
    for change in changes:
        shown = change.diff or f"{change.path}: unchanged"
        console.print(shown, markup=False, highlight=False, soft_wrap=True)


@app.command("upstream")
def upstream_command() -> None:
    """Print `real` when a key or base URL points extract at an API, `sandbox` when a run would
    start the sandbox: the Makefile asks this instead of restating the rule."""
    try:
        config = ExtractConfig.from_env()
    except ExtractError as exc:
        raise _fail(exc, Redactor()) from None
    typer.echo("real" if config.has_upstream else "sandbox")


def season_start(today: date) -> date:
    """The first date a backfill of the current season needs: October 1st of the season's start
    year (opening night is later in October; the empty days before it cost one call each)."""
    year = today.year if today.month >= 8 else today.year - 1
    return date(year, 10, 1)


class _Progress:
    """A rich progress bar on a terminal; a plain log line per chunk otherwise."""

    def __init__(self, total: int) -> None:
        self.bar: RichProgress | None = None
        if console.is_terminal:
            self.bar = RichProgress(
                TextColumn("[bold]backfill"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("dates  {task.fields[rows]:>9,} rows  {task.fields[calls]:>6,} calls"
                           "  {task.fields[credits]:>7,} credits"),
                TimeRemainingColumn(),
                console=console,
            )  # fmt: skip
            self.task = self.bar.add_task("backfill", total=total, rows=0, calls=0, credits=0)

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, p: Progress) -> None:
        if self.bar is not None:
            self.bar.update(
                self.task, completed=p.dates_done, rows=p.rows, calls=p.http_calls,
                credits=p.credits_spent,
            )  # fmt: skip
            return
        window = p.chunk.window if p.chunk is not None else "?"
        failed = sorted(p.chunk.failures) if p.chunk is not None else []
        console.print(
            f"backfill {window}: {p.dates_done}/{p.dates_total} dates, {p.rows:,} rows, "
            f"{p.http_calls:,} HTTP calls, {p.credits_spent:,} Odds API credits"
            + (f", {p.skipped} (chunk, source) skipped as already loaded" if p.skipped else "")
            + (f"; FAILED: {', '.join(failed)}" if failed else ""),
            soft_wrap=True,
            highlight=False,
        )


@app.command("backfill")
def backfill_command(
    start: Annotated[
        str | None, typer.Option(help="first date (default: the season's start)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="last date (default: yesterday)")] = None,
    chunk_days: Annotated[int, typer.Option(help="dates per chunk: one load per source each")] = (
        DEFAULT_CHUNK_DAYS
    ),
    force: Annotated[bool, typer.Option("--force", help="redo chunks already loaded")] = False,
    source: Annotated[list[str] | None, _SOURCE] = None,
    now: Annotated[str | None, _NOW] = None,
    verbose: Annotated[bool, _VERBOSE] = False,
) -> None:
    """Load a range of dates in chunks, resumably: backfill --start D1 --end D2."""
    redactor = Redactor()
    with _logging(verbose):
        try:
            config = ExtractConfig.from_env()
            redactor = Redactor(config.secrets())
            if now is not None:
                config = config.with_changes(now=parse_now(now, "--now"))
            sandboxed = not config.has_upstream and config.replay_dir is None
            if config.now is not None or not sandboxed:
                clock = config.clock()
            else:  # "today" on the sandbox is its demo clock (the CLI face may ask the sandbox)
                from sandbox.defaults import DEFAULT_NOW

                clock = DEFAULT_NOW
            today = clock.astimezone(ZoneInfo("America/New_York")).date()
            last = date.fromisoformat(end) if end else today - timedelta(days=1)
            first = date.fromisoformat(start) if start else season_start(last)
            sources = tuple(source) if source else SOURCES
            real = config.has_upstream and config.replay_dir is None
            if real and "odds_api" in sources:
                windows = chunks(first, last, chunk_days)
                console.print(
                    f"Odds API: this backfill will spend about "
                    f"{estimate_odds_credits(config, windows):,} credits (budget "
                    f"{config.odds.credit_budget:,})",
                    soft_wrap=True,
                )
            with (
                # the sandbox's clock: noon the day after the range, its last games over
                upstream(config, [last + timedelta(days=1)]) as live,
                _Progress((last - first).days + 1) as bar,
            ):
                redactor = Redactor(live.secrets())
                try:
                    report = run_backfill(
                        live, first, last, chunk_days=chunk_days, sources=sources, force=force,
                        check_credits=real, on_progress=bar.update,
                    )  # fmt: skip
                except SourcesFailedError as failed:
                    _report(failed.report, redactor)  # type: ignore[attr-defined]
                    raise
        except ValueError as exc:
            raise _fail(ConfigError(f"dates must be YYYY-MM-DD: {exc}"), redactor) from None
        except ExtractError as exc:
            raise _fail(exc, redactor) from None
    _report(report, redactor)
    console.print(
        f"backfill {first}..{last}: {report.seconds:.1f} s, "
        f"{len(report.skipped)} (chunk, source) skipped as already loaded",
        soft_wrap=True,
    )
