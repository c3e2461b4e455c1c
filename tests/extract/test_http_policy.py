"""Pure parts of the HTTP layer: backoff, Retry-After, error codes, quota estimates, replay keys."""

from __future__ import annotations

import gzip
import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from extract.capture import ReplayStore, ResponseRecorder, envelope_body, request_key
from extract.config import HttpSettings
from extract.errors import ExtractError, QuotaBudgetError, ReplayMissError
from extract.http import RetryPolicy, api_error_code, classify_by_suffix, parse_retry_after
from extract.odds_api import ENDPOINTS as ODDS_ENDPOINTS
from extract.odds_quota import QuotaTracker, quota_header
from extract.redact import Redactor


def test_backoff_grows_exponentially_within_jitter_bounds() -> None:
    policy = RetryPolicy(HttpSettings(backoff_base=1.0, backoff_cap=8.0), random.Random(7))
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert min(delays) >= ceiling / 2
        assert max(delays) <= ceiling
        assert len({round(d, 6) for d in delays}) > 100, "no jitter"


def test_retry_after_wins_over_backoff() -> None:
    policy = RetryPolicy(HttpSettings(backoff_base=1.0), random.Random(1))
    assert policy.delay(3, 7.0) == 7.0
    assert policy.delay(1, None) <= 1.0


def test_retry_budget_bounds_attempts_and_total_time() -> None:
    policy = RetryPolicy(HttpSettings(max_attempts=3, max_retry_seconds=10.0))
    assert policy.allows(1, 0.0, 1.0)
    assert not policy.allows(3, 0.0, 0.1)  # the third attempt was the last
    assert not policy.allows(1, 9.5, 1.0)  # the wait would pass the total budget


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5), ("-4", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now) == pytest.approx(30.0)
    past = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past, now) == 0.0


def test_api_error_code_reads_each_apis_shape() -> None:
    odds = json.dumps(
        {"message": "Usage quota has been reached", "error_code": "OUT_OF_USAGE_CREDITS"}
    )
    assert api_error_code(401, odds.encode()) == (
        "OUT_OF_USAGE_CREDITS",
        "Usage quota has been reached",
    )
    bdl = json.dumps({"error": "Unauthorized. Invalid API key."}).encode()
    assert api_error_code(401, bdl) == (
        "Unauthorized. Invalid API key.",
        "Unauthorized. Invalid API key.",
    )
    espn = json.dumps({"code": 404, "message": "Not Found"}).encode()
    assert api_error_code(404, espn) == ("404", "Not Found")
    html = b"<html><head><title>502 Bad Gateway</title></head><body>x</body></html>"
    code, detail = api_error_code(502, html)
    assert code == "HTTP_502"
    assert "502 Bad Gateway" in detail
    assert "<" not in detail
    assert api_error_code(500, b"") == ("HTTP_500", "(empty body)")
    assert api_error_code(500, b"[1, 2]")[0] == "HTTP_500"


def test_odds_endpoints_are_classified_like_the_sandbox_names_them() -> None:
    classify = classify_by_suffix("odds_api", ODDS_ENDPOINTS)
    base = "/odds-api/v4"
    assert classify(f"{base}/sports/basketball_nba/events") == "odds.events"
    assert classify(f"{base}/sports/basketball_nba/odds") == "odds.odds"
    assert classify(f"{base}/sports/basketball_nba/events/abc/odds") == "odds.event_odds"
    assert classify(f"{base}/historical/sports/basketball_nba/events") == "odds.historical_events"
    assert (
        classify(f"{base}/historical/sports/basketball_nba/events/abc/odds")
        == "odds.historical_event_odds"
    )
    assert classify(f"{base}/sports") == "odds_api.other"


def test_quota_estimates_follow_the_published_costs() -> None:
    url = "http://x/v4/sports/basketball_nba/events/e/odds?regions=us&markets=a,b,c,d"
    assert QuotaTracker.estimate("odds.events", url) == 0
    assert QuotaTracker.estimate("odds.historical_events", url) == 1
    assert QuotaTracker.estimate("odds.event_odds", url) == 4
    assert QuotaTracker.estimate("odds.historical_event_odds", url) == 40
    two_regions = "http://x/odds?regions=us,uk&markets=h2h,totals"
    assert QuotaTracker.estimate("odds.odds", two_regions) == 4
    books = "http://x/odds?bookmakers=" + ",".join(f"b{i}" for i in range(11)) + "&markets=h2h"
    assert QuotaTracker.estimate("odds.odds", books) == 2


def test_quota_tracker_stops_before_the_budget_or_the_reserve() -> None:
    tracker = QuotaTracker(credit_budget=10, min_remaining=5)
    url = "http://x/odds?regions=us&markets=a,b,c,d"
    assert tracker.check("odds.event_odds", url) == 4
    for seq, left in ((1, "12"), (2, "8")):
        headers = {"x-requests-last": "4", "x-requests-remaining": left}
        tracker.observe(seq, "odds.event_odds", 200, headers, 4)
    assert tracker.spent == 8
    assert tracker.remaining == 8
    with pytest.raises(QuotaBudgetError, match="spent 8 of its budget of 10"):
        tracker.check("odds.event_odds", url)
    reserve = QuotaTracker(credit_budget=1000, min_remaining=5)
    reserve.observe(1, "odds.events", 200, {"x-requests-remaining": "7"}, 0)
    with pytest.raises(QuotaBudgetError, match="has 7 left and must keep 5"):
        reserve.check("odds.event_odds", url)
    assert reserve.check("odds.events", "http://x/events") == 0  # free calls always pass


def test_request_key_ignores_credentials_and_parameter_order() -> None:
    a = request_key("get", "http://h:1/p/x?b=2&apiKey=SECRET&a=1")
    b = request_key("GET", "http://other:2/p/x?a=1&b=2")
    assert a == b
    assert "SECRET" not in a


def test_recorder_writes_gzip_landing_and_capture_without_the_key(tmp_path: Path) -> None:
    redactor = Redactor(["k3y-secret-value"])
    recorder = ResponseRecorder("run-1", redactor, tmp_path / "landing", tmp_path / "capture")
    envelope = recorder.record(
        source="odds_api",
        endpoint="odds.events",
        method="GET",
        url="http://h/v4/sports/basketball_nba/events?apiKey=k3y-secret-value",
        status=200,
        headers={"x-requests-remaining": "9", "Authorization": "k3y-secret-value"},
        body=b'[{"id": "e1"}]',
        elapsed_ms=3,
        attempt=1,
    )
    assert envelope["seq"] == 1
    landed = list((tmp_path / "landing").rglob("*.json.gz"))
    captured = list((tmp_path / "capture").glob("*.json"))
    assert len(landed) == 1
    assert len(captured) == 1
    assert landed[0].parent.name == "run-1"
    text = gzip.decompress(landed[0].read_bytes()).decode()
    assert json.loads(text)["url"].endswith("apiKey=%2A%2A%2A") or "apiKey=***" in text
    assert "k3y-secret-value" not in text
    assert "k3y-secret-value" not in captured[0].read_text()
    assert envelope_body(json.loads(text)) == b'[{"id": "e1"}]'


def test_body_cut_inside_a_character_is_kept_byte_exact(tmp_path: Path) -> None:
    recorder = ResponseRecorder("run-2", Redactor(), None, tmp_path)
    body = '{"name": "Luka Dončić"}'.encode()[:-3]  # cut between the two bytes of "ć"
    recorder.record(
        source="espn", endpoint="espn.summary", method="GET", url="http://h/summary?event=1",
        status=200, headers={}, body=body, elapsed_ms=1, attempt=1,
    )  # fmt: skip
    envelope = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert "body_base64" in envelope
    assert envelope_body(envelope) == body


def test_replay_store_serves_in_capture_order_and_reports_misses(tmp_path: Path) -> None:
    recorder = ResponseRecorder("run-3", Redactor(), None, tmp_path)
    for status in (429, 200):
        recorder.record(
            source="espn", endpoint="espn.scoreboard", method="GET",
            url="http://h/scoreboard?dates=20260115", status=status, headers={}, body=b"{}",
            elapsed_ms=1, attempt=1,
        )  # fmt: skip
    store = ReplayStore(tmp_path)
    assert store.remaining() == 2
    first = store.take("GET", "http://elsewhere/scoreboard?dates=20260115", Redactor())
    second = store.take("GET", "http://elsewhere/scoreboard?dates=20260115", Redactor())
    assert (first["status"], second["status"]) == (429, 200)
    with pytest.raises(ReplayMissError, match="no captured response left"):
        store.take("GET", "http://elsewhere/scoreboard?dates=20260115", Redactor())
    with pytest.raises(ReplayMissError, match="does not exist"):
        ReplayStore(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReplayMissError, match="holds no captured responses"):
        ReplayStore(empty)


def test_parse_retry_after_http_date_without_a_zone_is_gmt() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 15 Jan 2026 12:00:30", now) == pytest.approx(30.0)


def test_quota_headers_must_be_numbers_when_sent() -> None:
    headers = {"x-requests-remaining": "12", "x-requests-used": "", "x-requests-last": "1.0"}
    assert quota_header(headers, "x-requests-remaining", "odds.events") == 12
    assert quota_header(headers, "x-requests-used", "odds.events") is None  # sent empty
    assert quota_header(headers, "x-requests-last", "odds.events") == 1
    assert quota_header({}, "x-requests-last", "odds.events") is None  # not sent at all
    tracker = QuotaTracker(credit_budget=10, min_remaining=0)
    with pytest.raises(
        ExtractError, match=r"odds_api odds.odds: quota header x-requests-remaining"
    ):
        tracker.observe(1, "odds.odds", 200, {"x-requests-remaining": "lots"}, 3)
