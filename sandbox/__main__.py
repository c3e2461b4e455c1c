"""`python -m sandbox`: serve the simulated league on loopback until Ctrl-C."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from sandbox.apis.common import to_utc
from sandbox.defaults import DEFAULT_NOW, DEFAULT_SEASON, DEFAULT_SEED
from sandbox.faults import ENDPOINTS, FAULT_KINDS, parse_fault_spec
from sandbox.server import (
    DEFAULT_BALLDONTLIE_KEY,
    DEFAULT_ODDS_API_KEY,
    DEFAULT_QUOTA,
    SandboxServer,
    loopback_host,
)

app = typer.Typer(
    add_completion=False,
    help="Serve a simulated NBA season over the Odds API, balldontlie and ESPN on 127.0.0.1.",
)


def _check_host(value: str) -> str:
    try:
        return loopback_host(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _check_faults(values: list[str] | None) -> list[str]:
    for spec in values or []:
        try:
            parse_fault_spec(spec)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return values or []


def _check_now(value: str) -> str:
    try:
        to_utc(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not ISO 8601 (e.g. 2026-01-15T17:00:00Z)") from exc
    return value


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="League seed: same seed, same bytes.")] = DEFAULT_SEED,
    season: Annotated[
        int,
        typer.Option(
            help=(
                "Season start year (2025 = 2025-26): the current season; the server answers for "
                "every season of 2023-24..2025-26, and --write-truth writes this one's."
            )
        ),
    ] = DEFAULT_SEASON,
    now: Annotated[
        str,
        typer.Option(
            help="Sandbox clock, ISO 8601 UTC: only what existed then is served.",
            callback=_check_now,
        ),
    ] = DEFAULT_NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 0,
    host: Annotated[
        str, typer.Option(help="Loopback address only.", callback=_check_host)
    ] = "127.0.0.1",
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help=(
                "KIND[:ENDPOINT[:TIMES[:k=v,...]]], repeatable. KIND: "
                + ", ".join(FAULT_KINDS)
                + ". ENDPOINT: "
                + ", ".join(ENDPOINTS)
                + " or * (any). TIMES: a count or * (every call)."
            ),
            callback=_check_faults,
        ),
    ] = None,
    quota: Annotated[int, typer.Option(help="Odds API credits.")] = DEFAULT_QUOTA,
    odds_api_key: Annotated[str, typer.Option(help="The apiKey to accept.")] = DEFAULT_ODDS_API_KEY,
    balldontlie_key: Annotated[
        str, typer.Option(help="The Authorization header to accept.")
    ] = DEFAULT_BALLDONTLIE_KEY,
    verbose: Annotated[bool, typer.Option(help="Log each request (keys redacted).")] = False,
    write_truth: Annotated[
        Path | None,
        typer.Option(
            help=(
                "Write the simulator's expectation per player-game (the truth a backtest sets "
                "its errors against) to this parquet file, then exit without serving."
            ),
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Start the sandbox and print its base URLs and keys; Ctrl-C stops it.

    `python -m sandbox market-report` prints the market's efficiency figures instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    # Never wrap: a key broken over two lines in an 80-column pipe is a key copied wrong.
    console = Console(soft_wrap=True)
    if write_truth is not None:
        # The backtest never imports the sandbox: it reads this file.
        from sandbox.league import load_league

        written = load_league(seed, season).write_truth(write_truth)
        console.print(f"truth of seed={seed} season={season} written to {escape(str(written))}")
        return
    try:
        server = SandboxServer(
            seed=seed,
            season=season,
            now=now,
            host=host,
            port=port,
            quota=quota,
            odds_api_key=odds_api_key,
            balldontlie_key=balldontlie_key,
            faults=fault or [],
            verbose=verbose,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"building/loading league seed={seed} season={season} ...")
    with server:
        console.print(f"[bold]sandbox[/] on {server.url}  now={server.state()['now']}")
        console.print(f"  odds api     {server.odds_api_url}  apiKey={escape(server.odds_api_key)}")
        console.print(
            f"  balldontlie  {server.balldontlie_url}  "
            f"Authorization: {escape(server.balldontlie_key)}"
        )
        console.print(f"  espn         {server.espn_url}")
        console.print(f"  control      {server.url}/_sandbox/state | /now | /faults | /reset")
        for armed in server.faults.active():
            console.print(f"  fault armed  {escape(str(armed))}")
        console.print("Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("stopping")


@app.command("market-report")
def market_report_command(
    seed: Annotated[int, typer.Option(help="League seed.")] = DEFAULT_SEED,
    season: Annotated[
        int, typer.Option(help="Season start year (2023, 2024 or 2025 are served).")
    ] = DEFAULT_SEASON,
) -> None:
    """Print the market's efficiency figures over the season (see sandbox/market_report.py)."""
    from sandbox.league import load_league
    from sandbox.market_report import market_report

    console = Console(soft_wrap=True)
    for name, value in market_report(load_league(seed, season)).as_rows():
        console.print(f"{name:<32} {escape(value)}")


if __name__ == "__main__":
    app()
