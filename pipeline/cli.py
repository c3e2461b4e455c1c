"""`python -m pipeline`: the daily job, and whether it completed.

    python -m pipeline daily [--date D] [--force]   # what `make daily` runs
    python -m pipeline status [DATE]                # did the run of DATE complete, and what failed?

Like extract's CLI, this is a command-line face: with no API configured it serves the sandbox
in-process, and "today" is the sandbox's demo day; with a real API, today in New York.

Exit codes: 0 done; 1 a step failed; 2 bad configuration; 3 coverage below target (files published);
4 stale or missing inputs stopped scoring; 75 another daily job holds the warehouse.
"""

from __future__ import annotations

import signal
from datetime import date, datetime
from types import FrameType
from typing import Annotated
from zoneinfo import ZoneInfo

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from extract.config import ExtractConfig
from extract.errors import ExtractError
from pipeline.daily import DailyResult, run_daily
from pipeline.errors import ConfigError, CoverageBreachError, PipelineError
from pipeline.lock import read_holder
from pipeline.runlog import NoRunError, RunStatus, read_status
from pipeline.settings import Settings

NEW_YORK = ZoneInfo("America/New_York")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The daily job: extract, dbt, score, dbt, publish; and its run log.",
)
console = Console(stderr=True)


def default_date(config: ExtractConfig) -> date:
    """Today in New York; on the sandbox (no API configured), its demo day."""
    if config.now is not None:
        return config.now.astimezone(NEW_YORK).date()
    if config.has_upstream or config.replay_dir is not None:
        return datetime.now(NEW_YORK).date()
    from sandbox.defaults import DEFAULT_NOW  # the CLI face may ask the sandbox, as extract's does

    return DEFAULT_NOW.astimezone(NEW_YORK).date()


def _parse_date(raw: str, what: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{what} {raw!r}: expected YYYY-MM-DD") from None


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run like Ctrl-C: the current step's row says it was interrupted."""
    raise KeyboardInterrupt


@app.command()
def daily(
    day: Annotated[
        str | None, typer.Option("--date", help="D: results of D-1, slate and lines of D")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="score even when inputs are stale or missing")
    ] = False,
    coverage_target: Annotated[
        float | None,
        typer.Option(help="share of offered lines that must get a prediction (default 0.95)"),
    ] = None,
) -> None:
    """Run the daily job for a date (default: today in New York, or the sandbox's demo day)."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        settings = Settings.from_env()
        if coverage_target is not None:
            settings = settings.with_changes(coverage_target=coverage_target)
        when = _parse_date(day, "--date") if day else default_date(settings.extract)
        result = run_daily(settings, when, force=force, console=console)
    except CoverageBreachError as exc:
        if isinstance(exc.result, DailyResult):
            _where(settings, exc.result)
        console.print(Text.assemble(("daily job failed", "bold red"), ": ", str(exc)))
        raise typer.Exit(code=exc.exit_code) from None
    except (PipelineError, ExtractError) as exc:
        console.print(
            Text.assemble(("daily job failed", "bold red"), ": ", str(exc)),
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(code=exc.exit_code) from None
    except KeyboardInterrupt:
        console.print("[bold red]daily job interrupted[/]; the run log says at which step")
        raise typer.Exit(code=130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _where(settings, result)


def _where(settings: Settings, result: DailyResult) -> None:
    done = "done" if result.status == "ok" else f"ended ({result.status})"
    console.print(
        f"[bold green]daily job {result.day} {done}[/] in {result.seconds:.1f} s "
        f"(run {result.run_id})",
        soft_wrap=True,
    )
    console.print(f"  warehouse  {settings.warehouse}", soft_wrap=True, highlight=False)
    if result.out_dir is not None:
        report = result.out_dir / "report.html"
        console.print(f"  files      {result.out_dir}", soft_wrap=True, highlight=False)
        if report.exists():
            console.print(f"  report     {report}", soft_wrap=True, highlight=False)
    for warning in result.warnings:
        console.print(
            Text.assemble(("  warning", "yellow"), ": ", warning), soft_wrap=True, highlight=False
        )


@app.command()
def status(
    day: Annotated[
        str | None, typer.Argument(help="the run date (default: the latest run)")
    ] = None,
) -> None:
    """Did the run of DATE complete, and what failed? Exit 0 when it completed, 1 otherwise."""
    try:
        settings = Settings.from_env()
        when = _parse_date(day, "DATE") if day else None
        holder = read_holder(settings.lock_path)
        if holder is not None and holder.alive is not False:
            typer.echo(f"a daily job is running now: {holder.describe()}")
        run = read_status(settings.warehouse, when)
    except duckdb.IOException as exc:
        # the running job holds the file (DuckDB: one writer, or readers, never both)
        typer.echo(f"cannot read the run log while another process writes the warehouse: {exc}")
        raise typer.Exit(code=1) from None
    except (PipelineError, ExtractError) as exc:
        console.print(Text.assemble(("status", "bold red"), ": ", str(exc)), soft_wrap=True)
        raise typer.Exit(code=exc.exit_code) from None
    except NoRunError as exc:
        typer.echo(str(exc))
        raise typer.Exit(code=1) from None
    typer.echo(summary_line(run))
    out = Console(width=160)
    out.print(_table(run))
    if not run.completed:
        raise typer.Exit(code=1)


def summary_line(run: RunStatus) -> str:
    """One sentence: completed, or where and why it did not."""
    head = f"run {run.run_id} of {run.run_date}"
    earlier = f" ({run.earlier_runs} earlier run(s) of that date)" if run.earlier_runs else ""
    top = run.run
    if top is None:
        return f"{head}: no run row (an older log?){earlier}"
    if top.status == "ok":
        return f"{head}: completed{earlier}"
    if top.status == "running":
        return f"{head}: still running (or killed: the next run marks it abandoned){earlier}"
    failed = run.failed_steps
    if top.status == "breach":
        what = "; ".join(f"{s.step}: {s.error}" for s in failed)
        return f"{head}: published, but coverage missed its target: {what}{earlier}"
    if failed:
        what = "; ".join(f"step {s.step} {s.status}: {s.error}" for s in failed)
        return f"{head}: did NOT complete: {what}{earlier}"
    return f"{head}: did NOT complete ({top.status}: {top.error}){earlier}"


def _table(run: RunStatus) -> Table:
    table = Table(title=f"run {run.run_id}")
    for column in ("step", "status", "started (UTC)", "seconds", "rows in", "rows out", "error"):
        table.add_column(column, overflow="fold")
    for s in run.steps:
        table.add_row(
            s.step,
            s.status,
            f"{s.started_at:%Y-%m-%d %H:%M:%S}",
            "" if s.seconds is None else f"{s.seconds:.1f}",
            "" if s.rows_in is None else f"{s.rows_in:,}",
            "" if s.rows_out is None else f"{s.rows_out:,}",
            (s.error or "")[:300],
            style={"failed": "red", "abandoned": "red", "breach": "red", "warning": "yellow"}.get(
                s.status
            ),
        )
    return table
