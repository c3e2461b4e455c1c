"""HTTP done once for all three sources: timeouts, retries, error codes, keys, recording.

`ApiSession` is a `requests.Session` that dlt's `RESTClient` (and so `rest_api`) sends through, so
every call of every source gets the same treatment:

- connect and read timeouts on every attempt, and bounds no upstream can move: a body is read
  as it arrives and cut past `max_response_bytes` (20 MB; not retried, it would come back as
  large), and a call (all its attempts, waits, heads and bodies) ends by its wall-clock deadline
  (headers or a body trickled a byte at a time beat any read timeout); both fail the source
  naming the bound, and both are `HttpSettings` (extract/config.py);
- calls may run in several threads at once (the Odds API's, extract/fanout.py): the session's
  counters, the recorder, the replay store and the call policies are thread-safe;
- 429, 5xx, timeouts, dropped connections and truncated JSON bodies are retried with exponential
  backoff and jitter, honouring `Retry-After`, bounded by attempts and by total seconds;
- any other 4xx fails at once with the API's own error code (`OUT_OF_USAGE_CREDITS`, ...);
- the key is added here (query `apiKey` or header `Authorization`), so no other code ever holds a
  URL with a key in it, and every URL that is logged or stored is redacted;
- every response (errors included) is handed to the recorder (landing folder, `--capture`); with
  `--replay` the captured responses are served back instead of the network, through this same code
  path (both in extract/capture.py);
- what one API adds to its calls (the Odds API's credits: extract/odds_quota.py) comes in as a
  `CallPolicy`: this module knows no API.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import itertools
import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3
import urllib3.connection
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks, dispatch_hook

from extract import fanout
from extract.capture import ReplayStore, ResponseRecorder, response_from_envelope
from extract.config import HttpSettings
from extract.errors import (
    ApiError,
    CallDeadlineError,
    InvalidJsonError,
    ResponseTooLargeError,
    RetriesExhaustedError,
    UpstreamBoundError,
)
from extract.redact import Redactor

log = logging.getLogger("extract.http")

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# bodies are read in chunks of at most this, each as soon as it arrives (read1), so the bounds
# below are checked between two packets, not after a buffer of this size has filled
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Bounds:
    """What an upstream must not be able to stretch: a response's size, a call's duration.

    Set from `HttpSettings` (`NBA_PROPS_HTTP_MAX_RESPONSE_MB`, `NBA_PROPS_HTTP_CALL_DEADLINE`,
    validated in extract/config.py); tests build their own. The deadline defaults to the retry
    budget plus two attempts' timeouts, so it never cuts a call the other bounds allow, only one
    kept alive by a trickle (of its body or of its headers).
    """

    max_response_bytes: int = 20 * 2**20
    call_deadline: float | None = None  # seconds; None: derived from the HttpSettings

    @classmethod
    def from_settings(cls, settings: HttpSettings) -> Bounds:
        return cls(settings.max_response_bytes, settings.call_deadline)

    def deadline(self, settings: HttpSettings) -> float:
        if self.call_deadline is not None:
            return self.call_deadline
        return replace(settings, call_deadline=None).deadline()


class _ConstantError(ValueError):
    """`NaN`, `Infinity` or `-Infinity` in a body: JavaScript, not JSON."""


def _refuse_constant(name: str) -> Any:
    raise _ConstantError(name)


class _CutError(Exception):
    """An attempt stopped at a bound: what was read so far and the error the call fails with."""

    def __init__(self, response: requests.Response, note: str, error: UpstreamBoundError) -> None:
        super().__init__(note)
        self.response = response
        self.note = note
        self.error = error


# --- the deadline while the headers arrive -------------------------------------------------------
#
# A body is read chunk by chunk and cut at the deadline between two chunks (`_read_body`). The
# status line and headers are read inside http.client, one `readline` after another, each bounded
# only by the read timeout: a server sending them a byte at a time holds the call forever. So
# while a response's head is awaited, a watchdog holds the call's deadline and, when it passes,
# shuts the connection's socket down: the blocked read returns at once, the attempt fails with a
# connection error, and `_attempt` reports it as the call's deadline (`CallDeadlineError`).

_attempt_local = threading.local()  # .deadline: the monotonic deadline of this thread's call


class _Watchdog:
    """One daemon thread for the process: runs each armed action at its time, unless disarmed
    first. Actions run under the lock, so once `disarm` returns its action will never run."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, when: float, action: Callable[[], None]) -> int:
        with self._cond:
            token = next(self._ids)
            self._armed[token] = action
            heapq.heappush(self._heap, (when, token))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="extract-http-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # disarmed in time
                if not self._heap:
                    self._cond.wait()
                    continue
                when, token = self._heap[0]
                left = when - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                action = self._armed.pop(token)
                try:
                    action()
                except Exception:  # a watchdog must outlive whatever one action does
                    log.exception("http deadline watchdog: an action failed")


_WATCHDOG = _Watchdog()


class _HeadDeadline:
    """Mixed into urllib3's connections: the head of a response is awaited under the deadline
    of the call the current thread is on (none outside an `ApiSession` call)."""

    sock: Any

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_attempt_local, "deadline", None)
        if deadline is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        token = _WATCHDOG.arm(deadline, self._hang_up)
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            _WATCHDOG.disarm(token)

    def _hang_up(self) -> None:
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _HTTPConnection(_HeadDeadline, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_HeadDeadline, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter with the connections above (and a pool as large as the session's
    concurrency, so parallel calls keep their connections alive)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# --- retry policy ---------------------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Exponential backoff with equal jitter; `Retry-After` wins when the server sends one."""

    settings: HttpSettings
    rng: random.Random = field(default_factory=random.Random)  # jitter, not security

    def backoff(self, attempt: int) -> float:
        """Delay before attempt `attempt + 1`: half fixed, half random (clients de-synchronise)."""
        ceiling = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        return retry_after if retry_after is not None else self.backoff(attempt)

    def allows(self, attempt: int, elapsed: float, delay: float) -> bool:
        """Another attempt is allowed if both the attempt count and the total time permit it."""
        return (
            attempt < self.settings.max_attempts
            and elapsed + delay <= self.settings.max_retry_seconds
        )


# a header value that is a number (Retry-After seconds, a quota count)
NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait per a `Retry-After` header (seconds or an HTTP date).

    None when the header is absent or unreadable: the caller then falls back to its own backoff,
    which is what a client should do with a header it cannot use.
    """
    if value is None or not value.strip():
        return None
    if NUMBER.fullmatch(value):
        return max(0.0, float(value))
    parsed = email.utils.parsedate_tz(value.strip())
    if parsed is None:
        return None
    if parsed[9] is None:  # no zone given: HTTP dates are GMT
        parsed = (*parsed[:9], 0)
    when = datetime.fromtimestamp(email.utils.mktime_tz(parsed), UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def api_error_code(status: int, body: bytes) -> tuple[str, str]:
    """(error code, message) in the API's own words; a gateway's HTML gets a generic code."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        snippet = re.sub(r"<[^>]+>", " ", text)
        return f"HTTP_{status}", " ".join(snippet.split())[:200] or "(empty body)"
    if isinstance(data, dict):
        code = data.get("error_code") or data.get("code") or data.get("error")
        detail = data.get("message") or data.get("error") or data.get("detail") or ""
        if isinstance(code, dict | list):
            code = None
        return (str(code) if code not in (None, "") else f"HTTP_{status}"), str(detail)[:300]
    return f"HTTP_{status}", text[:200]


# --- the session ---------------------------------------------------------------------------------


class CallPolicy(Protocol):
    """One API's own rules for each call through its session (the Odds API's credits, say).

    `before_call` runs once per call, before its first attempt, and refuses the call by raising;
    what it returns (the ticket) comes back to `after_response` with every answer of that call
    (retried ones too), after the answer is recorded as `seq`, and to `end_call` once the call is
    over, answered or failed: so a policy keeps no per-call state of its own. Calls may run in
    several threads at once (extract/fanout.py): a policy must be thread-safe.
    """

    def before_call(self, endpoint: str, url: str) -> Any: ...

    def after_response(
        self, ticket: Any, seq: int, endpoint: str, response: requests.Response
    ) -> None: ...

    def end_call(self, ticket: Any) -> None: ...


@dataclass(frozen=True)
class Retry:
    """An attempt failed in a way another may fix: why, and the server's wait if it set one."""

    problem: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Call:
    """One call as all its attempts see it; `shown` is the URL with the key masked."""

    method: str
    url: str
    endpoint: str
    shown: str
    ticket: Any  # what the CallPolicy's before_call returned


class ApiSession(requests.Session):
    """One source's HTTP: the only object that holds that source's key.

    Thread-safe for concurrent calls (extract/fanout.py): its counters are kept under a lock,
    `http_seconds` is wall-clock time with at least one call on the wire (not the sum of the
    calls' times, which would pass the run's own duration), and its connection pool holds
    `pool_size` connections (at least requests' 10).
    """

    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        classify: Callable[[str], str],
        settings: HttpSettings,
        redactor: Redactor,
        recorder: ResponseRecorder,
        run_id: str,
        api_key: str | None = None,
        key_in: str = "none",  # "query:<param>" | "header:<name>" | "none"
        replay: ReplayStore | None = None,
        call_policy: CallPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        bounds: Bounds | None = None,
        pool_size: int = 10,
    ) -> None:
        super().__init__()
        self.bounds = bounds if bounds is not None else Bounds.from_settings(settings)
        self.source = source
        self.base_url = base_url
        self.classify = classify
        self.settings = settings
        # jitter only spreads retries out; it needs no cryptographic randomness
        self.retry_policy = RetryPolicy(settings, rng or random.Random())  # noqa: S311
        self.redactor = redactor
        self.recorder = recorder
        self.run_id = run_id
        self._api_key = api_key
        self._key_in = key_in
        self.replay = replay
        self.call_policy = call_policy
        self._sleep = (lambda _s: None) if replay is not None else sleep
        self.attempts = 0
        self.retries = 0
        self.http_seconds = 0.0
        self._lock = threading.Lock()
        self._on_wire = 0  # attempts being fetched right now, across threads
        self._busy_since = 0.0
        size = max(10, pool_size)
        for prefix in ("http://", "https://"):
            self.mount(prefix, _Adapter(pool_connections=size, pool_maxsize=size))
        self.headers["User-Agent"] = "nba-props-extract/0.1"
        self.headers["Accept"] = "application/json"

    def _authorize(self, request: requests.PreparedRequest) -> None:
        if not self._api_key or self._key_in == "none":
            return
        where, _, name = self._key_in.partition(":")
        if where == "header":
            request.headers[name] = self._api_key
        elif where == "query":
            parts = urlsplit(request.url or "")
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
            query.append((name, self._api_key))
            request.url = urlunsplit(parts._replace(query=urlencode(query, safe="[]:,")))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self._authorize(request)
        # Response hooks (dlt's RESTClient raises on any error status there) run only on the final
        # 2xx answer: inside `super().send` they would turn a 401 into an exception we would retry.
        hooks, request.hooks = request.hooks, default_hooks()
        call = self._open_call(request)
        kwargs["stream"] = True  # the body is read by `_read_body`, within the bounds
        try:
            response = self._send_with_retries(request, call, **kwargs)
        finally:
            if self.call_policy is not None:
                self.call_policy.end_call(call.ticket)  # credits reserved and not spent go back
        return dispatch_hook("response", hooks, response, **kwargs)

    def _open_call(self, request: requests.PreparedRequest) -> Call:
        url = request.url or ""
        endpoint = self.classify(urlsplit(url).path)
        policy = self.call_policy
        ticket = policy.before_call(endpoint, url) if policy is not None else None
        return Call(request.method or "GET", url, endpoint, self.redactor.url(url), ticket)

    def _send_with_retries(
        self, request: requests.PreparedRequest, call: Call, **kwargs: Any
    ) -> requests.Response:
        """Attempts until one answers 2xx with JSON. A refusal raises from the attempt itself; a
        retryable failure waits its backoff, unless the attempts or the seconds are spent."""
        started = time.monotonic()
        deadline = started + self.bounds.deadline(self.settings)
        attempt = 0
        while True:
            attempt += 1
            left = max(0.01, deadline - time.monotonic())
            kwargs["timeout"] = (
                min(self.settings.connect_timeout, left),
                min(self.settings.read_timeout, left),
            )
            outcome = self._attempt(request, call, attempt, deadline, **kwargs)
            if isinstance(outcome, requests.Response):
                return outcome
            elapsed = time.monotonic() - started
            delay = self.retry_policy.delay(attempt, outcome.retry_after)
            if not self.retry_policy.allows(attempt, elapsed, delay):
                raise self._exhausted(call, attempt, delay, outcome)
            if time.monotonic() + delay >= deadline:
                raise self._exhausted(
                    call, attempt, delay, Retry(f"{outcome.problem} (the call's deadline)")
                )
            with self._lock:
                self.retries += 1
            log.warning(
                "run=%s %s %s GET %s: %s; retry %d/%d in %.2f s%s",
                self.run_id,
                self.source,
                call.endpoint,
                call.shown,
                outcome.problem,
                attempt,
                self.settings.max_attempts - 1,
                delay,
                " (Retry-After)" if outcome.retry_after is not None else "",
            )
            fanout.pause(delay, self._sleep)  # a failure elsewhere in a fan-out ends the wait

    def _attempt(
        self,
        request: requests.PreparedRequest,
        call: Call,
        attempt: int,
        deadline: float,
        **kwargs: Any,
    ) -> requests.Response | Retry:
        """One try: the answer if it is good, a `Retry` if another try may help; a refusal
        (a 4xx no retry fixes) raises `ApiError` with the API's own code, a bound passed
        (`UpstreamBoundError`) raises after what was read is recorded."""
        t0 = time.monotonic()
        try:
            with self._on_the_wire():
                response = self._fetch(request, call, attempt, deadline, **kwargs)
        except requests.RequestException as exc:  # timeouts, resets, bodies cut off mid-read
            if time.monotonic() >= deadline:  # a head trickle hung up by the watchdog, too
                raise self._past_deadline(call, attempt, 0) from exc
            return Retry(f"{type(exc).__name__}: {self.redactor.text(str(exc))}")
        except _CutError as cut:
            self._record(call, attempt, cut.response, int((time.monotonic() - t0) * 1000), cut.note)
            raise cut.error from None
        elapsed_ms = int((time.monotonic() - t0) * 1000)
        self._record(call, attempt, response, elapsed_ms)
        status, body = response.status_code, response.content
        if 200 <= status < 300:
            try:
                json.loads(body, parse_constant=_refuse_constant)
            except _ConstantError as exc:  # NaN, Infinity: parsers disagree on them, dlt's fails
                raise InvalidJsonError(self.source, call.endpoint, call.shown, str(exc)) from None
            except ValueError as exc:
                return Retry(f"truncated or invalid JSON body ({len(body)} bytes): {exc}")
            return response
        # an upstream may echo the key in its error body: masked before it reaches any message
        code, detail = map(self.redactor.text, api_error_code(status, body))
        if status in RETRYABLE_STATUS or status >= 500:
            problem = f"HTTP {status} {code}" + (f": {detail}" if detail != code else "")
            return Retry(problem, parse_retry_after(response.headers.get("Retry-After")))
        raise ApiError(self.source, call.endpoint, status, code, detail, call.shown)

    @contextlib.contextmanager
    def _on_the_wire(self) -> Any:
        """Counts an attempt, and the wall-clock time any attempt is on the wire (`http_seconds`,
        time waiting on the API, for the bench): overlapping attempts count once."""
        with self._lock:
            self.attempts += 1
            if self._on_wire == 0:
                self._busy_since = time.monotonic()
            self._on_wire += 1
        try:
            yield
        finally:
            with self._lock:
                self._on_wire -= 1
                if self._on_wire == 0:
                    self.http_seconds += time.monotonic() - self._busy_since

    def _record(
        self,
        call: Call,
        attempt: int,
        response: requests.Response,
        elapsed_ms: int,
        cut: str | None = None,
    ) -> None:
        """Every answer, errors included, goes to landing/capture, the call policy and the log;
        one cut at a bound is kept with what was read and why it was cut (`cut`)."""
        body = response.content
        envelope = self.recorder.record(
            base_url=self.base_url,
            source=self.source,
            endpoint=call.endpoint,
            method=call.method,
            url=call.url,
            status=response.status_code,
            headers=dict(response.headers),
            body=body,
            elapsed_ms=elapsed_ms,
            attempt=attempt,
            cut=cut,
        )
        if self.call_policy is not None:
            self.call_policy.after_response(call.ticket, envelope["seq"], call.endpoint, response)
        log.info(
            "run=%s %s %s GET %s -> %s (%d ms, %d bytes, attempt %d)",
            self.run_id,
            self.source,
            call.endpoint,
            call.shown,
            response.status_code,
            elapsed_ms,
            len(body),
            attempt,
        )

    def _exhausted(
        self, call: Call, attempt: int, delay: float, failure: Retry
    ) -> RetriesExhaustedError:
        limit = (
            f"max {self.settings.max_attempts} attempts"
            if attempt >= self.settings.max_attempts
            else f"the next wait of {delay:.1f} s would pass the "
            f"{self.settings.max_retry_seconds:.0f} s retry budget"
        )
        return RetriesExhaustedError(
            self.source, call.endpoint, call.shown, attempt, f"{failure.problem} ({limit})"
        )

    def _past_deadline(self, call: Call, attempt: int, size: int) -> CallDeadlineError:
        seconds = self.bounds.deadline(self.settings)
        return CallDeadlineError(
            self.source,
            call.endpoint,
            call.shown,
            f"attempt {attempt} still unanswered at the deadline ({size:,} bytes received)",
            f"{seconds:g} s per call, attempts, waits and bodies included "
            "(NBA_PROPS_HTTP_CALL_DEADLINE)",
        )

    def _too_large(self, call: Call, size: int, declared: bool) -> ResponseTooLargeError:
        cap = self.bounds.max_response_bytes
        what = f"Content-Length {size:,} bytes" if declared else f"body past {size:,} bytes"
        return ResponseTooLargeError(
            self.source,
            call.endpoint,
            call.shown,
            f"{what}, cut",
            f"{cap:,} bytes per response (NBA_PROPS_HTTP_MAX_RESPONSE_MB={cap / 2**20:g})",
        )

    def _fetch(
        self,
        request: requests.PreparedRequest,
        call: Call,
        attempt: int,
        deadline: float,
        **kwargs: Any,
    ) -> requests.Response:
        if self.replay is not None:
            envelope = self.replay.take(call.method, call.url, self.redactor, self.base_url)
            response = response_from_envelope(envelope, request)
            cut = envelope.get("cut")
            if cut:  # served as it was met: the same bound fails the replay the same way
                too_large = str(cut).startswith("bytes")
                error = (
                    self._too_large(call, len(response.content), declared=False)
                    if too_large
                    else self._past_deadline(call, attempt, len(response.content))
                )
                raise _CutError(response, str(cut), error)
            size = len(response.content)
            if size > self.bounds.max_response_bytes:
                raise _CutError(response, "bytes", self._too_large(call, size, declared=False))
            return response
        _attempt_local.deadline = deadline  # the head is awaited under it (`_HeadDeadline`)
        try:
            response = super().send(request, **kwargs)
        finally:
            _attempt_local.deadline = None
        response._content = self._read_body(response, call, attempt, deadline)
        return response

    def _read_body(
        self, response: requests.Response, call: Call, attempt: int, deadline: float
    ) -> bytes:
        """The body, chunk by chunk as it arrives, cut at the byte cap or the call's deadline
        (`_CutError`, with what was read); a socket error mid-body is a retryable requests error."""
        cap = self.bounds.max_response_bytes
        chunks: list[bytes] = []
        size = 0

        def cut(note: str, error: UpstreamBoundError) -> _CutError:
            response._content = b"".join(chunks)
            response.close()  # the rest of the body is never read: drop the connection
            return _CutError(response, note, error)

        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise cut("bytes: Content-Length", self._too_large(call, int(declared), declared=True))
        try:
            while True:
                if time.monotonic() >= deadline:
                    raise cut("deadline", self._past_deadline(call, attempt, size))
                chunk = response.raw.read1(_CHUNK, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:  # decoded bytes: a gzip bomb is cut like a plain body
                    raise cut("bytes", self._too_large(call, size, declared=False))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            raise requests.exceptions.ChunkedEncodingError(
                f"body cut off after {size:,} bytes: {type(exc).__name__}"
            ) from exc
        response.raw.release_conn()
        return b"".join(chunks)


def classify_by_suffix(source: str, names: Iterable[tuple[str, str]]) -> Callable[[str], str]:
    """An endpoint classifier from (path regex, endpoint name) pairs, tried in order."""
    patterns = [(re.compile(p), n) for p, n in names]

    def classify(path: str) -> str:
        for pattern, name in patterns:
            if pattern.search(path):
                return name
        return f"{source}.other"

    return classify
