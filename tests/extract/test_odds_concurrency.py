"""The Odds API's historical calls run several at once (issue 8): they really overlap, the credit
budget holds under any interleaving, the rows are those of one call after the other, and the
first failure stops the rest with nothing loaded.

Calls are watched from the server's side (tests/extract/loopback.py counts requests being
answered at once) and from the landing envelopes (each answer's arrival and duration).
"""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from extract import fanout
from extract.capture import ResponseRecorder
from extract.config import HttpSettings, OddsSettings
from extract.errors import ApiError, QuotaBudgetError
from extract.fanout import fan_out
from extract.http import ApiSession, classify_by_suffix
from extract.odds_api import ENDPOINTS
from extract.odds_quota import QuotaTracker
from extract.ratelimit import Paced, Policies, RateLimiter
from extract.redact import Redactor
from tests.extract.conftest import fingerprint, make_config, run, warehouse_state
from tests.extract.loopback import Answer, Asked, Loopback

PAST = date(2025, 11, 4)
NOW = datetime(2025, 11, 7, 17, 0, tzinfo=UTC)  # PAST is history: historical endpoints
CREDITS = 10_000_000
SETTINGS = HttpSettings(
    connect_timeout=2.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.02,
    max_retry_seconds=5.0,
)  # fmt: skip
EVENT_ODDS = "/v4/historical/sports/basketball_nba/events/{}/odds"


def odds_session(root: Path, url: str, policy: Any = None, pool_size: int = 8) -> ApiSession:
    redactor = Redactor(["k3y"])
    return ApiSession(
        source="odds_api",
        base_url=url,
        classify=classify_by_suffix("odds_api", ENDPOINTS),
        settings=SETTINGS,
        redactor=redactor,
        recorder=ResponseRecorder("run1", redactor, root / "landing", None),
        run_id="run1",
        api_key="k3y",
        key_in="query:apiKey",
        call_policy=policy,
        pool_size=pool_size,
    )


def slow(seconds: float, cost: int = 10) -> Any:
    """A server whose every answer takes `seconds` and costs `cost` credits."""

    def answer(asked: Asked) -> Answer:
        time.sleep(seconds)
        headers = {"Content-Type": "application/json", "x-requests-last": str(cost)}
        return Answer(body=json.dumps({"path": asked.path}).encode(), headers=headers)

    return answer


def calls(session: ApiSession, url: str, n: int) -> list[Any]:
    """`n` historical event-odds calls (one market: an estimate of 10 credits each)."""
    return [
        lambda i=i: session.get(
            url + EVENT_ODDS.format(f"e{i:02d}"), params={"markets": "h2h", "regions": "us"}
        ).json()
        for i in range(n)
    ]


# --- the pool ---------------------------------------------------------------------------------


def test_calls_overlap_up_to_the_concurrency_and_come_back_in_the_order_asked(
    tmp_path: Path,
) -> None:
    with Loopback(slow(0.3)) as server:
        session = odds_session(tmp_path, server.url)
        started = time.monotonic()
        bodies = fan_out(calls(session, server.url, 12), 4)
        took = time.monotonic() - started
    assert [b["path"] for b in bodies] == [EVENT_ODDS.format(f"e{i:02d}") for i in range(12)]
    assert server.most_in_flight == 4  # as many at once as asked, never more
    assert took < 12 * 0.3 / 2  # one after the other would take 3.6 s; four at a time about 0.9
    # the time waiting on the API is wall-clock time with a call on the wire, not their sum
    assert 3 * 0.3 <= session.http_seconds <= took
    assert session.attempts == 12


def test_one_worker_is_one_call_after_the_other_in_the_callers_thread(tmp_path: Path) -> None:
    threads = []

    def task(i: int) -> int:
        threads.append(threading.current_thread())
        return i

    assert fan_out([lambda i=i: task(i) for i in range(5)], 1) == list(range(5))
    assert set(threads) == {threading.current_thread()}
    with Loopback(slow(0.05)) as server:
        fan_out(calls(odds_session(tmp_path, server.url), server.url, 4), 1)
    assert server.most_in_flight == 1


def test_the_first_failure_cancels_the_rest_and_is_the_one_raised(tmp_path: Path) -> None:
    """Call 3 is refused (422, never retried); calls not started by then never start, and the
    error raised is the API's own, as one call after the other would have raised it."""

    def answer(asked: Asked) -> Answer:
        time.sleep(0.1)
        if asked.path.endswith("/e03/odds"):
            body = {"message": "Invalid markets", "error_code": "INVALID_MARKET"}
            return Answer(status=422, body=json.dumps(body).encode())
        return Answer(body=b"{}")

    with Loopback(answer) as server:
        session = odds_session(tmp_path, server.url)
        with pytest.raises(ApiError, match=r"odds\.historical_event_odds: HTTP 422 INVALID_MARKET"):
            fan_out(calls(session, server.url, 40), 4)
        time.sleep(0.3)  # nothing still running behind the failure
        asked = len(server.asked)
    assert 4 <= asked <= 4 + 4  # those on the wire when call 3 failed, never the other 30
    assert server.in_flight == 0
    landed = list((tmp_path / "landing").rglob("*.json.gz"))
    assert len(landed) == asked  # every answer received is kept, the refusal included


def test_a_retry_wait_ends_when_another_call_fails(tmp_path: Path) -> None:
    event = threading.Event()
    event.set()
    fanout._local.cancel = event
    try:
        started = time.monotonic()
        with pytest.raises(fanout.FanOutCancelledError):
            fanout.pause(30.0)
        assert time.monotonic() - started < 1.0
    finally:
        fanout._local.cancel = None
    fanout.pause(0.0)  # outside a fan-out: a plain sleep


# --- credits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [2, 8, 16])
def test_the_budget_is_never_passed_however_many_calls_are_in_flight(
    tmp_path: Path, workers: int
) -> None:
    """A budget of 100 and calls estimated (and charged) at 10: exactly ten calls are made, the
    eleventh is refused on what was really spent, with the message of a sequential run."""
    tracker = QuotaTracker(credit_budget=100, min_remaining=0)
    with Loopback(slow(0.05)) as server:
        session = odds_session(tmp_path, server.url, tracker, pool_size=workers)
        with pytest.raises(QuotaBudgetError, match="this run has spent 100 of its budget of 100"):
            fan_out(calls(session, server.url, 40), workers)
        time.sleep(0.2)
        made = len(server.asked)
    assert made == 10
    assert tracker.spent == 100
    assert tracker.reserved == 0  # every reservation released, refused calls' included
    assert len(tracker.calls) == 10


def test_calls_that_cost_less_than_estimated_leave_room_for_more(tmp_path: Path) -> None:
    """Empty results cost nothing: a call waiting on reservations is decided on what the calls
    in flight really cost, as one after the other would have been."""
    charged = iter([10, 0] * 50)
    lock = threading.Lock()

    def answer(_asked: Asked) -> Answer:
        time.sleep(0.05)
        with lock:
            cost = next(charged)
        return Answer(body=b"{}", headers={"x-requests-last": str(cost)})

    tracker = QuotaTracker(credit_budget=100, min_remaining=0)
    with Loopback(answer) as server:
        session = odds_session(tmp_path, server.url, tracker)
        with pytest.raises(QuotaBudgetError):
            fan_out(calls(session, server.url, 40), 8)
    assert tracker.spent <= 100
    assert len(tracker.calls) > 10  # the free answers did not use the budget up
    assert tracker.reserved == 0


def test_reservations_hold_the_budget_under_a_storm_of_threads() -> None:
    """No HTTP: 16 threads reserve, are charged up to their estimate, and release, at random;
    what is spent never passes the budget, and refusals only come when it would have."""
    tracker = QuotaTracker(credit_budget=5_000, min_remaining=0)
    url = "http://x/v4/historical/sports/basketball_nba/events/e/odds?markets=a,b&regions=us"
    worst: list[int] = []
    refused = threading.Event()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for seq in range(200):
            try:
                ticket = tracker.reserve("odds.historical_event_odds", url)
            except QuotaBudgetError:
                refused.set()
                return
            time.sleep(rng.random() / 1000)
            cost = rng.choice([0, 20])  # an empty result, or the estimate (2 markets x 10)
            tracker.observe(seq, "odds.historical_event_odds", 200, {"x-requests-last": cost}, 20)
            worst.append(tracker.spent)
            tracker.release(ticket)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(worst) <= 5_000
    assert tracker.reserved == 0
    assert refused.is_set() == (tracker.spent + 20 > 5_000)


def test_the_rate_limiter_paces_threads_together() -> None:
    limiter = RateLimiter(per_second=50)
    policy = Policies(Paced(limiter))
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [policy.before_call("x", "u") for _ in range(5)])
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 40 calls at 50 a second (a burst of one): at least 39 intervals of 20 ms, whatever threads
    assert time.monotonic() - started >= 39 / 50 - 0.02
    assert limiter.waited >= 39 / 50 * 0.9


# --- a past date against the sandbox ----------------------------------------------------------


def landed_envelopes(root: Path, endpoint: str) -> list[dict]:
    return [
        json.loads(gzip.decompress(p.read_bytes()))
        for p in root.rglob(f"landing/odds_api/*/*/*-{endpoint}-*.json.gz")
    ]


def most_overlapping(envelopes: list[dict]) -> int:
    """The most answers that were on the wire at one moment, from their arrival and duration."""
    edges = []
    for e in envelopes:
        end = datetime.fromisoformat(e["fetched_at"])
        edges += [(end - timedelta(milliseconds=e["elapsed_ms"]), 1), (end, -1)]
    most = now = 0
    for _, step in sorted(edges, key=lambda x: (x[0], x[1])):
        now += step
        most = max(most, now)
    return most


@pytest.fixture
def past(sandbox: Any) -> Any:
    sandbox.set_now(NOW)
    sandbox.ledger.reset(CREDITS)
    return sandbox


def test_a_past_date_loads_the_same_rows_with_calls_in_parallel(tmp_path: Path, past: Any) -> None:
    prints, overlap, asked = {}, {}, {}
    for workers in (1, 4, 8):
        root = tmp_path / str(workers)
        odds = OddsSettings(credit_budget=CREDITS, concurrency=workers)
        config = make_config(root, past, now=NOW, odds=odds)
        # each snapshot takes 0.1 s more: in parallel they overlap, whatever the machine's load
        past.faults.clear()
        past.faults.inject("slow", "odds.historical_event_odds", times=None, seconds=0.1)
        report = run(config, PAST, sources=("odds_api",))
        # every data column of every raw table (dlt's load and row ids differ per run)
        prints[workers] = fingerprint(config.duckdb_path, ("raw_odds_api",))
        envelopes = landed_envelopes(root, "odds.historical_event_odds")
        overlap[workers] = most_overlapping(envelopes)
        asked[workers] = sorted(e["url"] for e in envelopes)
        assert (
            report.odds_credits_spent
            == sum(int(e["headers"]["x-requests-last"]) for e in envelopes) + 1
        )  # and the events listing
    assert len(asked[1]) >= 8  # a full slate: two snapshots per game
    assert asked[1] == asked[4] == asked[8]  # the same calls
    assert prints[1] == prints[4] == prints[8]
    assert set(prints[1]) == {f"raw_odds_api.{t}" for t in ("events", "player_props", "game_lines")}
    assert all(rows > 0 for rows, _ in prints[1].values())
    assert overlap[1] == 1
    assert overlap[4] == 4
    assert overlap[8] > 4


def test_a_failure_mid_way_stops_the_other_calls_and_loads_nothing(
    tmp_path: Path, past: Any
) -> None:
    config = make_config(tmp_path, past, now=NOW, odds=OddsSettings(credit_budget=CREDITS))
    before = warehouse_state(config.duckdb_path)
    past.faults.inject("quota_exhausted", "odds.historical_event_odds", times=None, after=5)
    past.faults.inject("slow", "odds.historical_event_odds", times=None, seconds=0.1)
    with pytest.raises(ApiError, match="HTTP 401 OUT_OF_USAGE_CREDITS") as failure:
        run(config, PAST, sources=("odds_api",))
    assert failure.value.endpoint == "odds.historical_event_odds"
    made = landed_envelopes(tmp_path, "odds.historical_event_odds")
    assert 6 <= len(made) <= 5 + 4  # the refused call, and at most the others on the wire
    after = warehouse_state(config.duckdb_path)
    assert {k: v for k, v in after.items() if k.startswith("raw_odds_api")} == {
        k: v for k, v in before.items() if k.startswith("raw_odds_api")
    }


def test_concurrency_is_a_setting_with_bounds() -> None:
    from extract.config import ExtractConfig
    from extract.errors import ConfigError

    assert ExtractConfig.from_env({}).odds.concurrency == 4
    assert ExtractConfig.from_env({"ODDS_API_CONCURRENCY": "8"}).odds.concurrency == 8
    for bad in ("0", "33", "2.5", "many"):
        with pytest.raises(ConfigError, match="ODDS_API_CONCURRENCY"):
            ExtractConfig.from_env({"ODDS_API_CONCURRENCY": bad})
    assert replace(OddsSettings(), concurrency=1).concurrency == 1
