"""Backfill: chunks of dates, one load per source per chunk, the same rows as date by date,
resumable after an interruption at any moment, careful with a real Odds API's credits.

Injury reports are the exception by design: a date's daily run snapshots the report at its "now",
a backfill replays (on the sandbox) each date's report at its pick time, so `raw_injuries` is
compared on its own terms (tests/extract/test_injuries.py covers it further)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from extract.backfill import completed, estimate_odds_credits, run_backfill
from extract.cli import season_start
from extract.config import REPO_ROOT, SOURCES, OddsSettings
from extract.errors import ConfigError, QuotaBudgetError
from extract.runner import run_extract
from extract.runtime import RunContext
from extract.window import Window, chunks
from tests.extract.conftest import cli_env, fingerprint, make_config, query, warehouse_state

FIRST, LAST = date(2025, 11, 3), date(2025, 11, 6)
CREDITS = 10_000_000  # the sandbox's credits are free; historical snapshots cost 70 each
ODDS = OddsSettings(credit_budget=CREDITS)
NOW = datetime(2025, 11, 7, 17, 0, tzinfo=UTC)  # every date of the range is in the past
# noon in New York (EST) on each date of the range: the snapshots a sandbox backfill replays
PICKS = [datetime(2025, 11, d, 17, 0, tzinfo=UTC) for d in range(3, 7)]


def with_history(prints: dict) -> dict:
    """The tables whose rows depend on the dates only (every raw table but injury reports)."""
    return {k: v for k, v in prints.items() if not k.startswith("raw_injuries.")}


def snapshots(path: Path) -> list[datetime]:
    rows = query(path, "select distinct snapshot_at from raw_injuries.espn_injuries order by 1")
    return [at for (at,) in rows]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> dict:
    """The same four dates loaded date by date and as a backfill of two chunks."""
    sandbox_server.reset()
    sandbox_server.set_now(NOW)
    sandbox_server.ledger.reset(CREDITS)
    try:
        root = tmp_path_factory.mktemp("backfill_week")
        daily = make_config(root / "daily", sandbox_server, now=NOW, odds=ODDS)
        days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
        run_extract(daily, days)
        chunked = make_config(root / "chunked", sandbox_server, now=NOW, odds=ODDS)
        report = run_backfill(chunked, FIRST, LAST, chunk_days=3)
    finally:
        sandbox_server.reset()
    return {
        "daily": fingerprint(daily.duckdb_path),
        "chunked": fingerprint(chunked.duckdb_path),
        "daily_snapshots": snapshots(daily.duckdb_path),
        "config": chunked,
        "report": report,
    }


def test_a_backfill_loads_the_same_rows_as_date_by_date(week: dict) -> None:
    assert with_history(week["chunked"]) == with_history(week["daily"])
    assert all(rows > 0 for rows, _ in week["chunked"].values())
    # injury reports: each daily run read the report at its now; the backfill replayed each
    # date's report as read at its pick time
    assert week["daily_snapshots"] == [NOW]
    assert snapshots(week["config"].duckdb_path) == PICKS


def test_one_load_per_source_per_chunk_and_the_chunks_are_logged(week: dict) -> None:
    config, report = week["config"], week["report"]
    assert [d.window for d in report.dates] == chunks(FIRST, LAST, 3)
    state = warehouse_state(config.duckdb_path)
    loads = [state[f"raw_{s}._dlt_loads"] for s in SOURCES]
    assert loads == [2, 2, 2, 2]  # two chunks, not four dates
    logged = query(
        config.duckdb_path,
        "select day, last_day, source, status from extract_log.runs order by day, source",
    )
    assert logged == [(FIRST, date(2025, 11, 5), s, "ok") for s in sorted(SOURCES)] + [
        (LAST, LAST, s, "ok") for s in sorted(SOURCES)
    ]


class Interrupt(KeyboardInterrupt):
    """Stands in for a kill at a chosen moment (a KeyboardInterrupt is never swallowed)."""


@pytest.mark.parametrize(
    ("moment", "complete"),
    [
        ("odds_api: extracting 2025-11-06", 4),  # between chunks: the first chunk is complete
        ("espn: extracting 2025-11-03..2025-11-05", 0),  # inside a chunk, two sources loaded
        ("balldontlie: loading into raw_balldontlie", 0),  # extracted and normalized, not loaded
    ],
)
def test_an_interrupted_backfill_rerun_ends_with_the_same_tables(
    tmp_path: Path, sandbox: Any, week: dict, moment: str, complete: int
) -> None:
    """The interrupted chunk is redone whole (its sources loaded before the interruption merge
    the same rows again); the chunks logged as complete are skipped. The tables end as an
    uninterrupted backfill's (the same as date by date but for the injury snapshots, above)."""
    sandbox.set_now(NOW)
    sandbox.ledger.reset(CREDITS)
    config = make_config(tmp_path, sandbox, now=NOW, odds=ODDS)

    def kill(message: str) -> None:
        if message == moment:
            raise Interrupt(message)

    with pytest.raises(Interrupt):
        run_backfill(config, FIRST, LAST, chunk_days=3, step=kill)
    resumed = run_backfill(config, FIRST, LAST, chunk_days=3)
    assert fingerprint(config.duckdb_path) == week["chunked"]
    assert len(resumed.skipped) == complete  # what was complete was not fetched again
    ctx = RunContext.create(config)
    assert len(completed(ctx, ("odds_api", "balldontlie", "espn"))) == 6
    again = run_backfill(config, FIRST, LAST, chunk_days=3)
    assert len(again.skipped) == 8
    assert again.http_calls == 0  # everything complete: nothing asked of the APIs
    forced = run_backfill(config, FIRST, LAST, chunk_days=3, force=True)
    assert forced.skipped == []
    assert fingerprint(config.duckdb_path) == week["chunked"]  # redone, nothing doubled


def test_a_real_odds_api_backfill_past_the_budget_is_refused_before_any_call(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox, now=NOW)
    estimate = estimate_odds_credits(config, chunks(FIRST, LAST, 7))
    assert estimate == 4 * (1 + 8 * 2 * 10 * 7)  # 4 dates; 8 games; 2 snapshots x 10 x 7 markets
    with pytest.raises(
        QuotaBudgetError, match=r"about 4,484 credits .* ODDS_API_CREDIT_BUDGET=2,000"
    ):
        run_backfill(config, FIRST, LAST, check_credits=True)
    assert not list(config.landing_dir.rglob("*.json.gz"))  # not one call was made
    assert not config.duckdb_path.exists()
    with pytest.raises(ConfigError, match="before --start"):
        run_backfill(config, LAST, FIRST)


def test_chunks_are_aligned_on_the_start_and_cover_the_range() -> None:
    windows = chunks(date(2026, 1, 1), date(2026, 1, 10), 4)
    assert [(w.first.day, w.last.day) for w in windows] == [(1, 4), (5, 8), (9, 10)]
    assert Window.of(date(2026, 1, 2)).slate_days() == [date(2026, 1, 1), date(2026, 1, 2)]
    assert Window(date(2026, 1, 2), date(2026, 1, 3)).result_days() == [
        date(2026, 1, 1),
        date(2026, 1, 2),
    ]
    with pytest.raises(ValueError, match="at least one date"):
        chunks(date(2026, 1, 1), date(2026, 1, 2), 0)


@pytest.mark.parametrize("responses", [5, 35, 75])
def test_a_sigkilled_backfill_rerun_ends_with_the_same_tables(
    tmp_path: Path, sandbox: Any, week: dict, responses: int
) -> None:
    """The real thing: `python -m extract backfill` killed with SIGKILL once it has received
    `responses` answers (three points of the run: its first calls, mid-way, late), then rerun."""
    sandbox.set_now(NOW)
    sandbox.ledger.reset(CREDITS)
    env = {
        **os.environ,
        **cli_env(tmp_path, sandbox),
        "NBA_PROPS_NOW": NOW.isoformat(),
        "ODDS_API_CREDIT_BUDGET": str(CREDITS),
    }
    command = [sys.executable, "-m", "extract", "backfill", "--start", str(FIRST), "--end",
               str(LAST), "--chunk-days", "3"]  # fmt: skip
    landing = tmp_path / "landing"
    proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list(landing.rglob("*.json.gz"))) >= responses:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed mid-run, not finished
    again = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=300, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert fingerprint(tmp_path / "warehouse" / "raw.duckdb") == week["chunked"]


def test_the_command_line_states_credits_then_backfills(invoke: Any, sandbox: Any) -> None:
    sandbox.ledger.reset(CREDITS)
    result = invoke(
        "backfill", "--start", "2026-01-13", "--end", "2026-01-14", "--chunk-days", "2",
        env={"ODDS_API_CREDIT_BUDGET": str(CREDITS)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Odds API: this backfill will spend about 2,242 credits" in result.output
    assert "backfill 2026-01-13..2026-01-14:" in result.output
    refused = invoke("backfill", "--start", "2026-01-13", "--end", "2026-01-14")
    assert refused.exit_code == 5  # the default budget (2,000) is less than the estimate
    assert "more than ODDS_API_CREDIT_BUDGET=2,000" in refused.output
    assert season_start(date(2026, 1, 14)) == date(2025, 10, 1)
    assert season_start(date(2025, 10, 20)) == date(2025, 10, 1)
