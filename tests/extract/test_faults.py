"""Every fault mode of the sandbox: transient ones (rate_limit with and without Retry-After,
server_error 500/502/503, slow, truncated in its three modes) end in a load identical to a clean
one; fatal ones (quota_exhausted, 401/404/422, a contracted column retyped or missing, credit
budget, bad records, retries exhausted) end, through the command line, in a non-zero exit and a
message naming the failed source, date and cause, with every raw table of that source in a
preloaded warehouse unchanged, the other sources of the date loaded (one source at a time), and
nothing left pending for the next run, which loads the whole day. empty_slate is in
test_load_days."""

from __future__ import annotations

import gzip
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import pytest

from extract.capture import ResponseRecorder
from extract.config import DATASETS, OddsSettings
from extract.contracts import schema_path
from extract.errors import ApiError, RetriesExhaustedError
from extract.http import ApiSession, classify_by_suffix
from extract.odds_api import ENDPOINTS as ODDS_ENDPOINTS
from extract.redact import Redactor
from tests.extract.conftest import (
    FAST_HTTP,
    TODAY,
    copy_preloaded,
    fingerprint,
    make_config,
    query,
    run,
    warehouse_state,
)


def source_tables(prints: dict, source: str) -> dict:
    return {k: v for k, v in prints.items() if k.startswith(DATASETS[source] + ".")}


def source_state(state: dict, source: str) -> dict:
    """A source's part of `warehouse_state`: its raw tables and its load count."""
    return {k: v for k, v in state.items() if k.startswith(DATASETS[source] + ".")}


def nothing_pending(config: Any) -> bool:
    for source in ("odds_api", "balldontlie", "espn"):
        pipeline = dlt.pipeline(
            pipeline_name=f"nba_props_{source}", pipelines_dir=str(config.dlt_dir)
        )
        if pipeline.has_pending_data:
            return False
    return True


# every transient fault mode, armed together per source (one run each): (kind, endpoint, times,
# params). `after` lines faults up on one endpoint: the summaries' 500s hit the first box score
# (three tries), its fourth try passes, then the next box score gets two cut bodies.
TRANSIENT = {
    "odds_api": [
        ("rate_limit", "odds.event_odds", 2, {"retry_after": 0}),
        ("server_error", "odds.odds", 2, {"status": 503}),
        ("truncated", "odds.events", 1, {"mode": "close"}),
    ],
    "balldontlie": [
        ("rate_limit", "bdl.stats", 2, {"retry_after": None}),
        ("server_error", "bdl.games", 2, {"status": 502}),
        ("truncated", "bdl.players", 1, {"mode": "length"}),
    ],
    "espn": [
        ("slow", "espn.scoreboard", 1, {"seconds": 2.0}),
        ("server_error", "espn.summary", 3, {"status": 500}),
        ("truncated", "espn.summary", 2, {"mode": "incomplete", "after": 4}),
    ],
}


@pytest.mark.parametrize("source", list(TRANSIENT))
def test_transient_faults_are_retried_into_a_complete_load(
    tmp_path: Path, sandbox: Any, loaded_three_times: Any, source: str
) -> None:
    _, _, baseline = loaded_three_times
    for kind, endpoint, times, params in TRANSIENT[source]:
        options = dict(params)
        sandbox.faults.inject(kind, endpoint, times=times, after=options.pop("after", 0), **options)
    config = make_config(tmp_path, sandbox)
    report = run(config, sources=(source,))
    assert report.status == "ok"
    assert sandbox.faults.active() == []  # every armed fault actually fired ...
    assert report.retries == sum(t for _, _, t, _ in TRANSIENT[source])  # ... and was retried once
    for _, endpoint, times, params in TRANSIENT[source]:  # the failed answers are in landing
        if "status" in params:
            landed = config.landing_dir.rglob(f"*-{endpoint}-{params['status']}.json.gz")
            assert len(list(landed)) == times
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


def test_a_retry_after_beyond_the_time_budget_fails_at_once(tmp_path: Path, sandbox: Any) -> None:
    sandbox.faults.inject("rate_limit", "odds.events", times=1, retry_after=600)
    config = make_config(tmp_path, sandbox)
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError, match="would pass the 15 s retry budget"):
        run(config, sources=("odds_api",), load=False)
    assert time.monotonic() - started < 5


def test_refusals_fail_at_once_with_the_apis_own_code(tmp_path: Path, sandbox: Any) -> None:
    """404 and 422 straight from the session: one attempt each, the Odds API's error code."""
    redactor = Redactor([sandbox.odds_api_key])
    session = ApiSession(
        source="odds_api",
        base_url=sandbox.odds_api_url,
        classify=classify_by_suffix("odds_api", ODDS_ENDPOINTS),
        settings=FAST_HTTP,
        redactor=redactor,
        recorder=ResponseRecorder("run-refusals", redactor, tmp_path, None),
        run_id="run-refusals",
        api_key=sandbox.odds_api_key,
        key_in="query:apiKey",
    )
    unknown_event = "0" * 32
    refusals = [
        (f"/v4/sports/basketball_nba/events/{unknown_event}/odds", "odds.event_odds", 404,
         "EVENT_NOT_FOUND"),
        ("/v4/sports/basketball_nba/odds", "odds.odds", 422, "INVALID_MARKET"),
    ]  # fmt: skip
    try:
        for path, endpoint, status, code in refusals:
            attempts = session.attempts
            with pytest.raises(ApiError) as failure:
                session.get(
                    sandbox.odds_api_url + path,
                    params={"regions": "us", "markets": "player_points"},
                )
            assert (failure.value.status, failure.value.error_code) == (status, code)
            assert f"odds_api {endpoint}: HTTP {status} {code}" in str(failure.value)
            assert "apiKey=***" in str(failure.value)
            assert sandbox.odds_api_key not in str(failure.value)
            assert session.attempts == attempts + 1  # not retried
    finally:
        session.close()
    assert session.retries == 0


@dataclass(frozen=True)
class Fatal:
    """A failure that no retry can fix, as the command line meets it."""

    sources: tuple[str, ...]  # the failing source last: the others are extracted, then aborted
    exit_code: int
    message: str | tuple[str, ...]  # source, endpoint and error code, or table and column
    fault: tuple[str, str, dict] | None = None
    env: dict[str, str] = field(default_factory=dict)
    landed: tuple[str, int, int] | None = None  # (endpoint, status, responses): no extra tries
    credits: int | None = None  # what the sandbox's Odds API account has left
    strict_points: bool = False  # `pts` made non-nullable by hand: did-not-play rows are bad
    rerun: bool = False  # once the cause is gone, the next run loads the whole day


FATAL = {
    "quota-exhausted": Fatal(
        ("balldontlie", "espn", "odds_api"), 3,
        "odds_api odds.event_odds: HTTP 401 OUT_OF_USAGE_CREDITS",
        fault=("quota_exhausted", "odds.event_odds", {"after": 1}),
        landed=("odds.event_odds", 401, 1), rerun=True,
    ),
    "odds-bad-key": Fatal(
        ("espn", "odds_api"), 3, "odds_api odds.events: HTTP 401 INVALID_KEY",
        env={"ODDS_API_KEY": "wrong-odds-key-0042"}, landed=("odds.events", 401, 1),
    ),
    "bdl-bad-key": Fatal(
        ("odds_api", "balldontlie"), 3,
        ("balldontlie bdl.", ": HTTP 401 Unauthorized. Invalid API key."),
        env={"BALLDONTLIE_API_KEY": "wrong-bdl-key-0042"}, landed=("bdl.*", 401, 1),
    ),
    "bdl-404": Fatal(
        ("espn", "balldontlie"), 3, ("balldontlie bdl.", ": HTTP 404 Not Found"),
        env={"BALLDONTLIE_API_PREFIX": "/v9"}, landed=("bdl.*", 404, 1),
    ),
    "odds-422": Fatal(
        ("balldontlie", "odds_api"), 3, "odds_api odds.event_odds: HTTP 422 INVALID_REGION",
        env={"ODDS_API_REGIONS": "mars"}, landed=("odds.event_odds", 422, 1),
    ),
    "retries-exhausted": Fatal(
        ("espn", "balldontlie"), 4,
        "balldontlie bdl.stats: gave up after 3 attempt(s)",
        fault=("server_error", "bdl.stats", {"times": None, "status": 503}),
        env={"NBA_PROPS_HTTP_MAX_ATTEMPTS": "3"}, landed=("bdl.stats", 503, 3),
    ),
    "drift-contracted-retyped": Fatal(
        ("odds_api", "balldontlie", "espn"), 7,
        "source espn, table player_box_scores: column `starter` changed type: frozen bool, "
        "received text",
        fault=("changed_type", "espn.summary", {"times": None}), rerun=True,
    ),
    "drift-changed-type": Fatal(
        ("odds_api", "balldontlie"), 7,
        "source balldontlie, table stats: column `pts` changed type: frozen bigint, received text",
        fault=("changed_type", "bdl.stats", {}),
    ),
    "drift-missing-field": Fatal(
        ("balldontlie", "odds_api"), 7,
        "source odds_api, table player_props: field `outcome__price` (double) is missing",
        fault=("missing_field", "odds.event_odds", {}),
    ),
    "credit-budget": Fatal(
        ("espn", "odds_api"), 5,
        "odds_api odds.event_odds: stopping before a call estimated at 4 credits: this run has "
        "spent 8 of its budget of 10",
        env={"ODDS_API_CREDIT_BUDGET": "10"},
    ),
    "credit-reserve": Fatal(
        ("espn", "odds_api"), 5, "the account has 22 left and must keep 20",
        env={"ODDS_API_MIN_REMAINING": "20"}, credits=30,
    ),
    "quarantine": Fatal(
        ("espn", "balldontlie"), 8,
        "`pts` is null", strict_points=True,
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(FATAL))
def test_fatal_failures_exit_non_zero_name_the_cause_and_change_nothing(
    tmp_path: Path,
    sandbox: Any,
    invoke: Any,
    monkeypatch: pytest.MonkeyPatch,
    preloaded: Any,
    loaded_three_times: Any,
    name: str,
) -> None:
    case = FATAL[name]
    messages = (case.message,) if isinstance(case.message, str) else case.message
    before = copy_preloaded(preloaded, tmp_path)
    config = make_config(tmp_path, sandbox)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    if case.fault is not None:
        kind, endpoint, params = case.fault
        sandbox.faults.inject(kind, endpoint, **params)
    if case.credits is not None:
        sandbox.ledger.reset(case.credits)
    if case.strict_points:
        path = schema_path(config.schemas_dir, "balldontlie")
        data = json.loads(path.read_text())
        data["tables"]["stats"]["columns"]["pts"]["nullable"] = False
        path.write_text(json.dumps(data))
    flags = [arg for source in case.sources for arg in ("--source", source)]
    result = invoke("--date", TODAY.isoformat(), *flags)

    assert result.exit_code == case.exit_code, result.output
    assert all(m in result.output for m in messages), result.output
    if case.strict_points:
        assert "balldontlie: " in result.output
        assert "nothing was loaded" in result.output
    keys = [sandbox.odds_api_key, sandbox.balldontlie_key, *case.env.values()]
    assert not [k for k in keys if "key" in k and k in result.output]
    if case.landed is not None:  # refused calls were made once; retried ones up to the bound
        endpoint, status, count = case.landed
        landed = list(config.landing_dir.rglob(f"*-{endpoint}-{status}.json.gz"))
        if endpoint.startswith("odds.") and count == 1:
            # the Odds API's calls run ODDS_API_CONCURRENCY at once: the calls already on the
            # wire when the first refusal came back are refused too, each once, never retried
            urls = [json.loads(gzip.decompress(p.read_bytes()))["url"] for p in landed]
            assert 1 <= len(urls) == len(set(urls)) <= OddsSettings().concurrency, urls
        else:
            assert len(landed) == count
    failing, others = case.sources[-1], case.sources[:-1]
    assert f"{failing} {TODAY.isoformat()} (" in result.output  # the source and date, by name
    after = warehouse_state(config.duckdb_path)
    # nothing of the failing source was loaded: its tables, row ids and load count as before ...
    assert source_state(after, failing) == source_state(before, failing)
    # ... the other sources of the date were (one failing source does not sink the others) ...
    for source in others:
        loads = f"{DATASETS[source]}._dlt_loads"
        assert after[loads] == before[loads] + 1, source
    # ... nothing is left pending to be loaded (or to hide the day) by the next run ...
    assert nothing_pending(config)
    # ... and the run log says which source failed and why, and which loaded
    [(run_id, source, error)] = query(
        config.duckdb_path,
        "select run_id, source, error from extract_log.runs where status <> 'ok'",
    )
    assert source == failing
    assert all(m in error for m in messages)
    loaded = query(
        config.duckdb_path,
        "select source from extract_log.runs where status = 'ok' and run_id = ?",
        [run_id],
    )
    assert sorted(s for (s,) in loaded) == sorted(others)
    if not case.rerun:
        return
    sandbox.faults.clear()
    again = invoke("--date", TODAY.isoformat(), "--source", failing)
    assert again.exit_code == 0, again.output
    rerun = warehouse_state(config.duckdb_path)
    loads = f"{DATASETS[failing]}._dlt_loads"
    assert rerun[loads] == before[loads] + 1
    for source in others:  # the rerun of the failed source touched nothing else
        assert source_state(rerun, source) == source_state(after, source)
    # the whole day was extracted and loaded again, not an empty or a stale package
    _, clean, _ = loaded_three_times
    [(rows,)] = query(config.duckdb_path, "select rows from extract_log.runs where status = 'ok' "
                      "and source = ? order by finished_at desc limit 1", [failing])  # fmt: skip
    assert json.loads(rows) == clean[0].dates[0].rows[failing]
    now_rows = query(
        config.duckdb_path,
        "select count(*) from raw_odds_api.player_props where snapshot_at = ?",
        [sandbox.now],
    )
    assert now_rows == [(clean[0].dates[0].rows["odds_api"]["player_props"],)]
