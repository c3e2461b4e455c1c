"""Bounds an upstream cannot move (issue 14): a body past the byte cap, a call past its deadline.

Real sockets on loopback (tests/extract/loopback.py): a trickle of one piece every 0.2 s beats a
read timeout of 1 s forever; the call's deadline ends it. Each failure names source, endpoint,
the URL with the key masked and the bound, and the partial body is kept in landing.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from extract.capture import ReplayStore, ResponseRecorder
from extract.config import ExtractConfig, HttpSettings
from extract.errors import CallDeadlineError, ConfigError, ResponseTooLargeError
from extract.http import ApiSession, Bounds, classify_by_suffix
from extract.redact import Redactor
from tests.extract.loopback import Answer, Loopback

KEY = "k3y/+?&=%#;é-bounds"
SETTINGS = HttpSettings(
    connect_timeout=1.0, read_timeout=1.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.02,
    max_retry_seconds=2.0,
)  # fmt: skip
BODY = json.dumps({"data": [{"id": i, "name": "x" * 50} for i in range(2000)]}).encode()


def session(
    root: Path, url: str, bounds: Bounds, *, replay: ReplayStore | None = None
) -> ApiSession:
    redactor = Redactor([KEY])
    return ApiSession(
        source="odds_api",
        base_url=url,
        classify=classify_by_suffix("odds_api", [(r"/odds$", "odds.odds")]),
        settings=SETTINGS,
        redactor=redactor,
        recorder=ResponseRecorder("run1", redactor, root / "landing", root / "capture"),
        run_id="run1",
        api_key=KEY,
        key_in="query:apiKey",
        replay=replay,
        bounds=bounds,
    )


def landed(root: Path) -> list[dict]:
    return [json.loads(gzip.decompress(p.read_bytes())) for p in (root / "landing").rglob("*.gz")]


def test_a_trickling_body_is_cut_at_the_calls_deadline(tmp_path: Path) -> None:
    trickle = Answer(body=BODY, pieces=400, pause=0.2)  # 80 s at this pace; each gap < 1 s
    with Loopback(lambda _a: trickle) as server:
        api = session(tmp_path, server.url, Bounds(call_deadline=2.5))
        started = time.monotonic()
        with pytest.raises(CallDeadlineError) as cut:
            api.get(server.url + "/v4/sports/x/odds", params={"markets": "h2h"})
        took = time.monotonic() - started
    assert took < 2.5 + SETTINGS.read_timeout + 0.5
    message = str(cut.value)
    assert message.startswith("odds_api odds.odds: attempt 1 still unanswered at the deadline")
    assert "apiKey=***" in message
    assert "2.5 s per call" in message
    assert "NBA_PROPS_HTTP_CALL_DEADLINE" in message
    assert KEY not in message
    assert cut.value.exit_code == 4
    [envelope] = landed(tmp_path)
    assert envelope["cut"] == "deadline"
    assert 0 < len(envelope["body"]) < len(BODY)


def test_headers_trickled_a_byte_at_a_time_end_at_the_calls_deadline(tmp_path: Path) -> None:
    """The status line and headers one byte every 0.2 s (about 55 s for this head, each gap
    well within the 1 s read timeout): http.client reads them inside `send`, before any body
    check could run; the call's deadline hangs up on it while the head is still arriving."""
    padding = {"Content-Type": "application/json", "X-Padding": "p" * 200}
    trickle = Answer(body=b"{}", headers=padding, head_pause=0.2)
    with Loopback(lambda _a: trickle) as server:
        api = session(tmp_path, server.url, Bounds(call_deadline=2.0))
        started = time.monotonic()
        with pytest.raises(CallDeadlineError) as cut:
            api.get(server.url + "/v4/sports/x/odds", params={"markets": "h2h"})
        took = time.monotonic() - started
        assert len(server.asked) == 1  # hung up at the deadline: no attempt after it
    assert 2.0 <= took < 2.0 + 0.5  # the deadline itself, not a read timeout past it
    message = str(cut.value)
    assert message.startswith(
        "odds_api odds.odds: attempt 1 still unanswered at the deadline (0 bytes received)"
    )
    assert "bound: 2 s per call, attempts, waits and bodies included" in message
    assert "apiKey=***" in message
    assert KEY not in message
    assert cut.value.exit_code == 4
    # the session is still good for the next call (the hung-up connection was dropped)
    with Loopback(lambda _a: Answer(body=b'{"ok": true}')) as server:
        assert api.get(server.url + "/v4/sports/x/odds").json() == {"ok": True}


def test_a_body_past_the_byte_cap_is_cut_without_a_retry(tmp_path: Path) -> None:
    bounds = Bounds(max_response_bytes=10_000)
    # a Content-Length over the cap is refused before the body is read; without one, as it comes
    for length, note in ((None, "bytes: Content-Length"), (-1, "bytes")):
        root = tmp_path / str(length)
        with Loopback(lambda _a, n=length: Answer(body=BODY, pieces=50, length=n)) as server:
            api = session(root, server.url, bounds)
            with pytest.raises(ResponseTooLargeError) as cut:
                api.get(server.url + "/v4/sports/x/odds")
            assert len(server.asked) == 1  # not retried: it would come back as large
        assert "bytes per response (NBA_PROPS_HTTP_MAX_RESPONSE_MB=" in str(cut.value)
        [envelope] = landed(root)
        assert envelope["cut"] == note


def test_the_cap_counts_decoded_bytes_so_a_gzip_bomb_is_cut(tmp_path: Path) -> None:
    bomb = gzip.compress(b"[" + b"0," * 500_000 + b"0]")
    assert len(bomb) < 10_000
    answer = Answer(body=bomb, headers={"Content-Type": "application/json",
                                        "Content-Encoding": "gzip"})  # fmt: skip
    with Loopback(lambda _a: answer) as server, pytest.raises(ResponseTooLargeError, match="past"):
        session(tmp_path, server.url, Bounds(max_response_bytes=100_000)).get(
            server.url + "/v4/sports/x/odds"
        )


def test_a_body_within_the_bounds_reads_whole_and_replays_whole(tmp_path: Path) -> None:
    with Loopback(lambda _a: Answer(body=BODY, pieces=20, pause=0.01)) as server:
        api = session(tmp_path, server.url, Bounds(max_response_bytes=len(BODY)))
        assert api.get(server.url + "/v4/sports/x/odds").json()["data"][1999]["id"] == 1999
        api.get(server.url + "/v4/sports/x/odds")
    replay = session(tmp_path / "r", "http://127.0.0.1:9", Bounds(),
                     replay=ReplayStore(tmp_path / "capture"))  # fmt: skip
    assert len(replay.get("http://127.0.0.1:9/v4/sports/x/odds").content) == len(BODY)


def test_a_cut_replays_as_the_same_failure(tmp_path: Path) -> None:
    large = Answer(body=BODY, length=-1)
    with Loopback(lambda _a: large) as server, pytest.raises(ResponseTooLargeError):
        session(tmp_path, server.url, Bounds(max_response_bytes=10_000)).get(
            server.url + "/v4/sports/x/odds"
        )
    replay = session(tmp_path / "r", "http://127.0.0.1:9", Bounds(),
                     replay=ReplayStore(tmp_path / "capture"))  # fmt: skip
    with pytest.raises(ResponseTooLargeError):
        replay.get("http://127.0.0.1:9/v4/sports/x/odds")


def test_bounds_come_from_the_settings_read_from_the_environment() -> None:
    assert Bounds.from_settings(HttpSettings()) == Bounds()
    assert Bounds().deadline(SETTINGS) == 2.0 + 2 * 2.0
    env = {"NBA_PROPS_HTTP_MAX_RESPONSE_MB": "0.5", "NBA_PROPS_HTTP_CALL_DEADLINE": "30"}
    read = ExtractConfig.from_env(env).http
    assert (read.max_response_mb, read.call_deadline) == (0.5, 30.0)
    assert Bounds.from_settings(read) == Bounds(max_response_bytes=2**19, call_deadline=30.0)
    assert ExtractConfig.from_env({"NBA_PROPS_HTTP_CALL_DEADLINE": ""}).http.call_deadline is None
    for bad in (
        {"NBA_PROPS_HTTP_CALL_DEADLINE": "soon"},
        {"NBA_PROPS_HTTP_CALL_DEADLINE": "0"},
        {"NBA_PROPS_HTTP_CALL_DEADLINE": "nan"},
        {"NBA_PROPS_HTTP_CALL_DEADLINE": "86400"},
        {"NBA_PROPS_HTTP_MAX_RESPONSE_MB": "0"},
        {"NBA_PROPS_HTTP_MAX_RESPONSE_MB": "-1"},
        {"NBA_PROPS_HTTP_MAX_RESPONSE_MB": "1e6"},
    ):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            ExtractConfig.from_env(bad)
