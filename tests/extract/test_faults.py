"""Every fault mode of the sandbox: transient ones end in a complete load, fatal ones in a clear
failure with nothing of the date loaded and nothing left pending for the next run."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import dlt
import pytest

from extract.config import DATASETS, OddsSettings
from extract.errors import (
    ApiError,
    ExtractError,
    QuotaBudgetError,
    RetriesExhaustedError,
    SchemaDriftError,
)
from tests.extract.conftest import TODAY, fingerprint, make_config, query, run

SOURCE_OF = {"odds": "odds_api", "bdl": "balldontlie", "espn": "espn"}


def source_tables(prints: dict, source: str) -> dict:
    return {k: v for k, v in prints.items() if k.startswith(DATASETS[source] + ".")}


def nothing_pending(config: Any) -> bool:
    for source in ("odds_api", "balldontlie", "espn"):
        pipeline = dlt.pipeline(
            pipeline_name=f"nba_props_{source}", pipelines_dir=str(config.dlt_dir)
        )
        if pipeline.has_pending_data:
            return False
    return True


def raw_rows(config: Any) -> int:
    return sum(rows for rows, _ in fingerprint(config.duckdb_path).values())


@pytest.mark.parametrize(
    ("kind", "endpoint", "times", "params"),
    [
        ("rate_limit", "odds.event_odds", 2, {"retry_after": 0}),
        ("rate_limit", "bdl.stats", 2, {"retry_after": None}),
        ("server_error", "espn.summary", 3, {"status": 500}),
        ("server_error", "bdl.games", 2, {"status": 502}),
        ("server_error", "odds.odds", 2, {"status": 503}),
        ("slow", "espn.scoreboard", 1, {"seconds": 2.0}),
        ("truncated", "bdl.players", 1, {"mode": "length"}),
        ("truncated", "odds.events", 1, {"mode": "close"}),
        ("truncated", "espn.summary", 2, {"mode": "incomplete"}),
    ],
)
def test_transient_faults_are_retried_into_a_complete_load(
    tmp_path: Path,
    sandbox: Any,
    loaded_three_times: Any,
    kind: str,
    endpoint: str,
    times: int,
    params: dict,
) -> None:
    _, _, baseline = loaded_three_times
    source = SOURCE_OF[endpoint.split(".")[0]]
    sandbox.faults.inject(kind, endpoint, times=times, **params)
    config = make_config(tmp_path, sandbox)
    report = run(config, sources=(source,))
    assert report.status == "ok"
    assert report.retries >= times
    assert sandbox.faults.active() == []  # every armed fault actually fired
    assert source_tables(fingerprint(config.duckdb_path), source) == source_tables(
        baseline[0], source
    )


def test_retry_after_is_honoured(
    tmp_path: Path, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.inject("rate_limit", "espn.scoreboard", times=1, retry_after=1)
    config = make_config(tmp_path, sandbox)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="extract"):
        report = run(config, sources=("espn",), load=False)
    assert time.monotonic() - started >= 1.0
    assert report.retries == 1
    assert "EXCEEDED_FREQ_LIMIT" not in caplog.text  # ESPN's 429 has its own body
    assert "Too Many Requests; retry 1/4 in 1.00 s (Retry-After)" in caplog.text


def test_a_fault_that_never_stops_exhausts_the_retry_budget(tmp_path: Path, sandbox: Any) -> None:
    sandbox.faults.inject("server_error", "bdl.games", times=None, status=500)
    config = make_config(tmp_path, sandbox)
    config = config.with_changes(http=replace(config.http, max_attempts=3))
    with pytest.raises(RetriesExhaustedError, match=r"gave up after 3 attempt\(s\)") as failure:
        run(config)
    assert "HTTP 500 Internal Server Error" in str(failure.value)
    assert "max 3 attempts" in str(failure.value)
    assert raw_rows(config) == 0
    assert nothing_pending(config)


def test_a_retry_after_beyond_the_time_budget_fails_at_once(tmp_path: Path, sandbox: Any) -> None:
    sandbox.faults.inject("rate_limit", "odds.events", times=1, retry_after=600)
    config = make_config(tmp_path, sandbox)
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError, match="would pass the 15 s retry budget"):
        run(config, sources=("odds_api",), load=False)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("setup", "order", "error", "message"),
    [
        (
            lambda s, c: (s.faults.inject("quota_exhausted", "odds.event_odds", after=1), c)[1],
            ("balldontlie", "espn", "odds_api"),
            ApiError,
            "odds_api odds.event_odds: HTTP 401 OUT_OF_USAGE_CREDITS",
        ),
        (
            lambda s, c: c.with_changes(odds_api_key="wrong-odds-key-0042"),
            ("espn", "odds_api"),
            ApiError,
            "odds_api odds.events: HTTP 401 INVALID_KEY",
        ),
        (
            lambda s, c: c.with_changes(balldontlie_key="wrong-bdl-key-0042"),
            ("odds_api", "espn", "balldontlie"),
            ApiError,
            "HTTP 401 Unauthorized. Invalid API key.",
        ),
        (
            lambda s, c: c.with_changes(balldontlie_prefix="/v9"),
            ("espn", "balldontlie"),
            ApiError,
            "HTTP 404 Not Found",
        ),
        (
            lambda s, c: c.with_changes(
                odds=OddsSettings(featured_markets=("h2h", "player_points"))
            ),
            ("balldontlie", "odds_api"),
            ApiError,
            "odds_api odds.odds: HTTP 422 INVALID_MARKET",
        ),
        (
            lambda s, c: (s.faults.inject("new_field", "espn.summary"), c)[1],
            ("odds_api", "balldontlie", "espn"),
            SchemaDriftError,
            "source espn, table player_box_scores: new column `sandbox_new_field` (text)",
        ),
        (
            lambda s, c: (s.faults.inject("changed_type", "bdl.stats"), c)[1],
            ("odds_api", "balldontlie", "espn"),
            SchemaDriftError,
            "source balldontlie, table stats: column `pts` changed type: frozen bigint, "
            "received text",
        ),
        (
            lambda s, c: (s.faults.inject("missing_field", "odds.event_odds"), c)[1],
            ("espn", "balldontlie", "odds_api"),
            SchemaDriftError,
            "source odds_api, table player_props: field `outcome__price` (double) is missing",
        ),
        (
            lambda s, c: c.with_changes(odds=OddsSettings(credit_budget=10)),
            ("espn", "odds_api"),
            QuotaBudgetError,
            "spent 8 of its budget of 10",
        ),
        (
            lambda s, c: (s.ledger.reset(30), c.with_changes(odds=OddsSettings(min_remaining=20)))[
                1
            ],
            ("espn", "odds_api"),
            QuotaBudgetError,
            "has 22 left and must keep 20",
        ),
    ],
    ids=[
        "quota-exhausted",
        "odds-bad-key",
        "bdl-bad-key",
        "bdl-404",
        "odds-422",
        "drift-new-field",
        "drift-changed-type",
        "drift-missing-field",
        "credit-budget",
        "credit-reserve",
    ],
)
def test_fatal_faults_fail_clearly_and_load_nothing(
    tmp_path: Path,
    sandbox: Any,
    setup: Any,
    order: tuple[str, ...],
    error: type[ExtractError],
    message: str,
) -> None:
    config = setup(sandbox, make_config(tmp_path, sandbox))
    with pytest.raises(error) as failure:
        run(config, sources=order)
    assert message in str(failure.value)
    assert failure.value.exit_code > 0
    if isinstance(failure.value, ApiError):  # refused at once: the failing call was made once
        status = failure.value.status
        landed = list(config.landing_dir.rglob(f"*-{failure.value.endpoint}-{status}.json.gz"))
        assert len(landed) == 1
    # the sources extracted before the failure were aborted: nothing of the date was loaded ...
    assert raw_rows(config) == 0
    # ... and nothing is left pending to be silently loaded (or skipped) by the next run
    assert nothing_pending(config)


def test_after_a_fatal_failure_the_next_run_loads_the_day(
    tmp_path: Path, sandbox: Any, loaded_three_times: Any
) -> None:
    _, _, baseline = loaded_three_times
    sandbox.faults.inject("quota_exhausted", "odds.odds")
    config = make_config(tmp_path, sandbox)
    with pytest.raises(ApiError, match="OUT_OF_USAGE_CREDITS"):
        run(config)
    assert raw_rows(config) == 0
    ok = run(config)
    assert fingerprint(config.duckdb_path) == baseline[0]
    runs = query(
        config.duckdb_path,
        "select run_id, day, status, error from extract_log.runs order by status",
    )
    assert [(r[1], r[2]) for r in runs] == [(TODAY, "failed"), (TODAY, "ok")]
    assert "OUT_OF_USAGE_CREDITS" in runs[0][3]
    assert runs[1][0] == ok.run_id
