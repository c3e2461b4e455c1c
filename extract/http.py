"""HTTP done once for all three sources: timeouts, retries, error codes, capture, replay, landing.

`ApiSession` is a `requests.Session` that dlt's `RESTClient` (and so `rest_api`) sends through, so
every call of every source gets the same treatment:

- connect and read timeouts on every attempt;
- 429, 5xx, timeouts, dropped connections and truncated JSON bodies are retried with exponential
  backoff and jitter, honouring `Retry-After`, bounded by attempts and by total seconds;
- any other 4xx fails at once with the API's own error code (`OUT_OF_USAGE_CREDITS`, ...);
- the key is added here (query `apiKey` or header `Authorization`), so no other code ever holds a
  URL with a key in it, and every URL that is logged or stored is redacted;
- every response (errors included) is written to the landing folder (gzip) and, with
  `--capture`, to a capture folder; with `--replay` the captured responses are served back instead
  of the network, through this same code path.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import json
import logging
import random
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.hooks import default_hooks, dispatch_hook
from requests.structures import CaseInsensitiveDict

from extract.config import HttpSettings
from extract.errors import (
    ApiError,
    ExtractError,
    QuotaBudgetError,
    ReplayMissError,
    RetriesExhaustedError,
)
from extract.redact import SECRET_PARAMS, Redactor

log = logging.getLogger("extract.http")

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
ODDS_QUOTA_HEADERS = ("x-requests-remaining", "x-requests-used", "x-requests-last")


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


_NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait per a `Retry-After` header (seconds or an HTTP date).

    None when the header is absent or unreadable: the caller then falls back to its own backoff,
    which is what a client should do with a header it cannot use.
    """
    if value is None or not value.strip():
        return None
    if _NUMBER.fullmatch(value):
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


# --- recording: landing folder and capture folder -------------------------------------------------


def request_key(method: str, url: str, base_url: str = "") -> str:
    """How a request is matched in replay: method, path below the API's base URL and sorted
    query without credentials (so a capture from the sandbox replays under any base URL)."""
    base = base_url.rstrip("/")
    if base and url.startswith(base):
        url = url[len(base) :]
    parts = urlsplit(url)
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SECRET_PARAMS
    )
    return f"{method.upper()} {parts.path}?{urlencode(query)}"


def _body_fields(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:  # a body cut inside a multi-byte character: keep it byte-exact
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def envelope_body(envelope: dict[str, Any]) -> bytes:
    if "body_base64" in envelope:
        return base64.b64decode(envelope["body_base64"])
    return str(envelope.get("body", "")).encode("utf-8")


class ResponseRecorder:
    """Writes every response to landing (gzip, pruned by retention) and to the capture dir."""

    def __init__(
        self,
        run_id: str,
        redactor: Redactor,
        landing_dir: Path | None,
        capture_dir: Path | None,
    ) -> None:
        self.run_id = run_id
        self.redactor = redactor
        self.landing_dir = landing_dir
        self.capture_dir = capture_dir
        self._seq = 0
        self._lock = threading.Lock()
        self.written: list[Path] = []

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def record(
        self,
        *,
        base_url: str = "",
        source: str,
        endpoint: str,
        method: str,
        url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        elapsed_ms: int,
        attempt: int,
    ) -> dict[str, Any]:
        seq = self.next_seq()
        fetched_at = datetime.now(UTC)
        envelope: dict[str, Any] = {
            "seq": seq,
            "run_id": self.run_id,
            "source": source,
            "endpoint": endpoint,
            "method": method,
            "url": self.redactor.url(url),
            "request_key": request_key(method, url, base_url),
            "attempt": attempt,
            "status": status,
            "headers": self.redactor.headers(headers),
            "fetched_at": fetched_at.isoformat(),
            "elapsed_ms": elapsed_ms,
        }
        # a key echoed back by an API would otherwise land on disk
        redacted_body = self.redactor.text(body.decode("utf-8", errors="surrogateescape"))
        envelope.update(_body_fields(redacted_body.encode("utf-8", errors="surrogateescape")))
        name = f"{seq:05d}-{endpoint}-{status}.json"
        data = json.dumps(envelope, ensure_ascii=False, indent=1).encode("utf-8")
        if self.landing_dir is not None:
            folder = self.landing_dir / source / fetched_at.date().isoformat() / self.run_id
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / (name + ".gz")
            # mtime=0: the gzip header carries no clock, so a payload compresses to the same bytes
            path.write_bytes(gzip.compress(data, mtime=0))
            self.written.append(path)
        if self.capture_dir is not None:
            self.capture_dir.mkdir(parents=True, exist_ok=True)
            path = self.capture_dir / f"{seq:05d}-{source}-{endpoint}-{status}.json"
            path.write_bytes(data)
            self.written.append(path)
        return envelope


class ReplayStore:
    """Serves captured responses back in the order they were captured, per request."""

    def __init__(self, capture_dir: Path) -> None:
        if not capture_dir.is_dir():
            raise ReplayMissError(f"replay folder {capture_dir} does not exist")
        self.capture_dir = capture_dir
        self._queues: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        files = sorted(p for p in capture_dir.glob("*.json") if p.name != "manifest.json")
        if not files:
            raise ReplayMissError(f"replay folder {capture_dir} holds no captured responses")
        for path in files:
            envelope = json.loads(path.read_text(encoding="utf-8"))
            self._queues[envelope["request_key"]].append(envelope)
        self.manifest: dict[str, Any] = {}
        manifest = capture_dir / "manifest.json"
        if manifest.exists():
            self.manifest = json.loads(manifest.read_text(encoding="utf-8"))

    def take(self, method: str, url: str, redactor: Redactor, base_url: str = "") -> dict[str, Any]:
        key = request_key(method, url, base_url)
        queue = self._queues.get(key)
        if not queue:
            raise ReplayMissError(
                f"replay: no captured response left for {redactor.text(key)} in "
                f"{self.capture_dir}; was the capture made with the same date, now and settings?"
            )
        return queue.popleft()

    def remaining(self) -> int:
        return sum(len(q) for q in self._queues.values())


def response_from_envelope(envelope: dict[str, Any], request: requests.PreparedRequest) -> Any:
    response = requests.Response()
    response.status_code = int(envelope["status"])
    response.headers = CaseInsensitiveDict(envelope.get("headers", {}))
    response._content = envelope_body(envelope)
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    response.reason = "replayed"
    return response


# --- the Odds API's credits -----------------------------------------------------------------------


@dataclass
class QuotaCall:
    seq: int
    endpoint: str
    status: int
    remaining: int | None
    used: int | None
    last: int | None
    estimated_cost: int


class QuotaTracker:
    """Records the Odds API quota headers of every call and refuses calls the budget cannot pay."""

    def __init__(self, credit_budget: int, min_remaining: int) -> None:
        self.credit_budget = credit_budget
        self.min_remaining = min_remaining
        self.calls: list[QuotaCall] = []
        self.spent = 0
        self.remaining: int | None = None
        self.used: int | None = None

    @staticmethod
    def estimate(endpoint: str, url: str) -> int:
        """Credits a call will cost per the Odds API's published rules (empty results cost 0)."""
        if endpoint == "odds.events":
            return 0
        if endpoint == "odds.historical_events":
            return 1
        query = dict(parse_qsl(urlsplit(url).query))
        markets = len([m for m in query.get("markets", "h2h").split(",") if m])
        if query.get("bookmakers"):
            # every group of 10 bookmakers counts as one region
            regions = -(-len(query["bookmakers"].split(",")) // 10)
        else:
            regions = len([r for r in query.get("regions", "us").split(",") if r])
        cost = markets * regions
        return cost * 10 if endpoint == "odds.historical_event_odds" else cost

    def check(self, endpoint: str, url: str) -> int:
        cost = self.estimate(endpoint, url)
        if cost and self.spent + cost > self.credit_budget:
            raise QuotaBudgetError(
                f"odds_api {endpoint}: stopping before a call estimated at {cost} credits: this "
                f"run has spent {self.spent} of its budget of {self.credit_budget} "
                "(ODDS_API_CREDIT_BUDGET); nothing was loaded"
            )
        if cost and self.remaining is not None and self.remaining - cost < self.min_remaining:
            raise QuotaBudgetError(
                f"odds_api {endpoint}: stopping before a call estimated at {cost} credits: the "
                f"account has {self.remaining} left and must keep {self.min_remaining} "
                "(ODDS_API_MIN_REMAINING); nothing was loaded"
            )
        return cost

    def observe(self, seq: int, endpoint: str, status: int, headers: Any, cost: int) -> None:
        remaining, used, last = (quota_header(headers, h, endpoint) for h in ODDS_QUOTA_HEADERS)
        if remaining is not None:
            self.remaining = remaining
        if used is not None:
            self.used = used
        if last is not None:
            self.spent += last
        self.calls.append(QuotaCall(seq, endpoint, status, remaining, used, last, cost))


def quota_header(headers: Any, name: str, endpoint: str) -> int | None:
    """A quota header as an int; None when not sent (some error answers carry none).

    A header that is there but not a number fails the run: the credit budget could not be
    enforced.
    """
    value = headers.get(name)
    if value is None or str(value).strip() == "":
        return None
    if not _NUMBER.fullmatch(str(value)):
        raise ExtractError(
            f"odds_api {endpoint}: quota header {name}={str(value)[:40]!r} is not a number; "
            "the credit budget cannot be enforced, so the run stops"
        )
    return int(float(value))


# --- the session ---------------------------------------------------------------------------------


class ApiSession(requests.Session):
    """One source's HTTP: the only object that holds that source's key."""

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
        quota: QuotaTracker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.base_url = base_url
        self.classify = classify
        self.settings = settings
        # jitter only spreads retries out; it needs no cryptographic randomness
        self.policy = RetryPolicy(settings, rng or random.Random())  # noqa: S311
        self.redactor = redactor
        self.recorder = recorder
        self.run_id = run_id
        self._api_key = api_key
        self._key_in = key_in
        self.replay = replay
        self.quota = quota
        self._sleep = (lambda _s: None) if replay is not None else sleep
        self.attempts = 0
        self.retries = 0
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
        url = request.url or ""
        method = request.method or "GET"
        endpoint = self.classify(urlsplit(url).path)
        shown = self.redactor.url(url)
        cost = self.quota.check(endpoint, url) if self.quota is not None else 0
        kwargs["timeout"] = (self.settings.connect_timeout, self.settings.read_timeout)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            t0 = time.monotonic()
            try:
                response = self._fetch(request, method, url, **kwargs)
            except requests.RequestException as exc:  # timeouts, resets, bodies cut off mid-read
                problem = f"{type(exc).__name__}: {self.redactor.text(str(exc))}"
                retry_after = None
            else:
                elapsed_ms = int((time.monotonic() - t0) * 1000)
                body = response.content
                envelope = self.recorder.record(
                    base_url=self.base_url,
                    source=self.source,
                    endpoint=endpoint,
                    method=method,
                    url=url,
                    status=response.status_code,
                    headers=dict(response.headers),
                    body=body,
                    elapsed_ms=elapsed_ms,
                    attempt=attempt,
                )
                if self.quota is not None:
                    self.quota.observe(
                        envelope["seq"], endpoint, response.status_code, response.headers, cost
                    )
                log.info(
                    "run=%s %s %s GET %s -> %s (%d ms, %d bytes, attempt %d)",
                    self.run_id,
                    self.source,
                    endpoint,
                    shown,
                    response.status_code,
                    elapsed_ms,
                    len(body),
                    attempt,
                )
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        json.loads(body)
                    except ValueError as exc:
                        problem = f"truncated or invalid JSON body ({len(body)} bytes): {exc}"
                        retry_after = None
                    else:
                        return dispatch_hook("response", hooks, response, **kwargs)
                elif status in RETRYABLE_STATUS or status >= 500:
                    code, detail = api_error_code(status, body)
                    problem = f"HTTP {status} {code}" + (f": {detail}" if detail != code else "")
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                else:
                    code, detail = api_error_code(status, body)
                    raise ApiError(
                        self.source, endpoint, status, code, self.redactor.text(detail), shown
                    )
            elapsed = time.monotonic() - started
            delay = self.policy.delay(attempt, retry_after)
            if not self.policy.allows(attempt, elapsed, delay):
                limit = (
                    f"max {self.settings.max_attempts} attempts"
                    if attempt >= self.settings.max_attempts
                    else f"the next wait of {delay:.1f} s would pass the "
                    f"{self.settings.max_retry_seconds:.0f} s retry budget"
                )
                raise RetriesExhaustedError(
                    self.source, endpoint, shown, attempt, f"{problem} ({limit})"
                )
            self.retries += 1
            log.warning(
                "run=%s %s %s GET %s: %s; retry %d/%d in %.2f s%s",
                self.run_id,
                self.source,
                endpoint,
                shown,
                problem,
                attempt,
                self.settings.max_attempts - 1,
                delay,
                " (Retry-After)" if retry_after is not None else "",
            )
            self._sleep(delay)

    def _fetch(
        self, request: requests.PreparedRequest, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        if self.replay is not None:
            envelope = self.replay.take(method, url, self.redactor, self.base_url)
            return response_from_envelope(envelope, request)
        return super().send(request, **kwargs)


def classify_by_suffix(source: str, names: Iterable[tuple[str, str]]) -> Callable[[str], str]:
    """An endpoint classifier from (path regex, endpoint name) pairs, tried in order."""
    patterns = [(re.compile(p), n) for p, n in names]

    def classify(path: str) -> str:
        for pattern, name in patterns:
            if pattern.search(path):
                return name
        return f"{source}.other"

    return classify
