"""Plumbing shared by the three imitated APIs: requests, responses, time formats, stable hashing.

The API modules are pure functions of (league index, request, now): they never touch sockets,
which lets the server apply faults and quota uniformly and keeps rendering testable in-process.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")

JSON_UTF8 = "application/json; charset=utf-8"


@dataclass
class ApiRequest:
    """One parsed HTTP request as an API module sees it."""

    method: str
    path: str  # the path below the API's base URL, e.g. "/v4/sports/basketball_nba/events"
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    now: datetime
    endpoint: str = ""
    path_params: dict[str, str] = field(default_factory=dict)
    # set by the "empty_slate" fault: the day's games are hidden from this one request
    empty_slate: bool = False

    def first(self, name: str) -> str | None:
        """The first value of a scalar query parameter, as the real APIs read it."""
        values = self.query.get(name)
        return values[0] if values else None

    def many(self, name: str) -> list[str]:
        """All values of an array parameter sent as `name[]=a&name[]=b`."""
        return list(self.query.get(name + "[]", []))


@dataclass
class ApiResponse:
    """What an endpoint answers; `body` is JSON-able unless `raw` (pre-encoded bytes) is given."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_UTF8
    raw: bytes | None = None
    # What each call costs (Odds API credits), charged per call by the API's `finalize`, never
    # at rendering: a cached answer still costs what the real one would.
    cost: int | None = None

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return encode_json(self.body)

    def replay(self) -> ApiResponse:
        """A copy for one call: the same encoded bytes, headers of its own to add to."""
        return ApiResponse(
            self.status,
            raw=self.encode(),
            headers=dict(self.headers),
            content_type=self.content_type,
            cost=self.cost,
        )


class ResponseCache:
    """Rendered answers by request, least recently used dropped past a byte budget; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Any, ApiResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> ApiResponse | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: Any, response: ApiResponse) -> None:
        entry = response.replay()  # encoded once, here
        size = len(entry.raw or b"")
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.raw or b"")
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.raw or b"")
        response.raw = entry.raw


class ApiError(Exception):
    """Raised inside an endpoint to answer with an error response in that API's own shape."""

    def __init__(self, response: ApiResponse) -> None:
        super().__init__(f"HTTP {response.status}: {response.body!r}")
        self.response = response


def encode_json(body: Any) -> bytes:
    # compact and UTF-8 like the real services; key order is insertion order, so output is stable
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stable_int(*parts: object) -> int:
    """A process-independent hash: Python's hash() is salted per process and would break same-seed
    same-bytes."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def iso_z(ts: datetime) -> str:
    """`2024-01-25T03:20:30Z`, the Odds API's format."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms_z(ts: datetime) -> str:
    """`2025-06-23T00:00:00.000Z`, balldontlie's `datetime`."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def iso_minute_z(ts: datetime) -> str:
    """`2024-01-15T18:00Z`, ESPN's minute precision."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def eastern_date(ts: datetime) -> date:
    return ts.astimezone(EASTERN).date()


def parse_utc(text: str) -> datetime:
    """ISO 8601 with `Z` or an offset; a naive value is read as UTC (the Odds API's convention)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_utc(value: datetime | str) -> datetime:
    """A tz-aware datetime or an ISO string; naive datetimes are refused (their zone is a guess)."""
    if isinstance(value, str):
        return parse_utc(value)
    if value.tzinfo is None:
        raise ValueError(f"sandbox time {value!r} is naive: pass a tz-aware UTC datetime")
    return value.astimezone(UTC)


def floor_to(ts: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((ts - epoch) // step) * step


class Route:
    """One endpoint: a method, a path pattern with named groups, the endpoint name faults aim at."""

    def __init__(self, method: str, pattern: str, endpoint: str, handler: Any) -> None:
        self.method = method
        self.pattern = re.compile(pattern)
        self.endpoint = endpoint
        self.handler = handler


class ApiModule:
    """What the server needs from each imitated API."""

    name = ""
    routes: list[Route]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None

    def not_found(self, request: ApiRequest) -> ApiResponse:
        raise NotImplementedError

    def rate_limited(self) -> ApiResponse:
        """This API's own 429 body."""
        raise NotImplementedError

    def internal_error(self) -> ApiResponse:
        """This API's own 500 body (502/503 come from the gateway in front of it, as HTML)."""
        raise NotImplementedError

    def fault_response(self, kind: str, params: dict[str, Any], request: ApiRequest) -> ApiResponse:
        """The answer to a short-circuit fault, in this API's shape."""
        if kind == "rate_limit":
            response = self.rate_limited()
            # the real APIs may or may not say when to come back
            if params.get("retry_after") is not None:
                response.headers["Retry-After"] = str(params["retry_after"])
            return response
        if kind == "server_error":
            status = int(params["status"])
            return self.internal_error() if status == 500 else html_error(status)
        raise ValueError(f"sandbox {self.name} API: fault {kind!r} has no response of its own")

    def finalize(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """Last touch on every response of this API (the Odds API adds its quota headers)."""
        return response


def html_error(status: int) -> ApiResponse:
    """What a gateway in front of any of the three APIs sends on 502/503: HTML, not JSON."""
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}.get(status, "Error")
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return ApiResponse(status, raw=page.encode("ascii"), content_type="text/html")
