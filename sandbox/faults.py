"""Fault injection: the ways real APIs misbehave, switchable per run and aimed at one endpoint.

A fault is armed with `inject(kind, endpoint, times, after, **params)`: the first `after` matching
calls pass, then the next `times` calls are hit (`times=None`: every call until cleared). The
server asks `take(endpoint)` once per request and applies what fired; the record-level mutations
live here as pure functions so they are testable without sockets.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "slow",
    "truncated",
    "new_field",
    "changed_type",
    "missing_field",
    "quota_exhausted",
    "empty_slate",
)

ENDPOINTS = (
    "odds.events",
    "odds.odds",
    "odds.event_odds",
    "odds.historical_events",
    "odds.historical_event_odds",
    "bdl.games",
    "bdl.players",
    "bdl.stats",
    "espn.scoreboard",
    "espn.summary",
)

TRUNCATE_MODES = ("length", "close", "incomplete")

# kind -> {param: default}; a param not listed here is refused, so a typo fails loudly
_PARAM_DEFAULTS: dict[str, dict[str, Any]] = {
    "rate_limit": {"retry_after": 1},
    "server_error": {"status": 500},
    "slow": {"seconds": 5.0},
    # length: Content-Length of the cut body (valid HTTP, invalid JSON); close: no Content-Length,
    # the connection closes after the cut body; incomplete: the full Content-Length but fewer bytes.
    "truncated": {"mode": "length", "fraction": 0.5},
    "new_field": {"field": "sandbox_new_field", "value": "surprise"},
    "changed_type": {"field": None},
    "missing_field": {"field": None},
    "quota_exhausted": {},
    "empty_slate": {},
}

# endpoint -> (the records a record-level fault touches, the field it changes/removes by default)
RECORD_TARGETS: dict[str, tuple[str, str]] = {
    "odds.events": ("events", "commence_time"),
    "odds.historical_events": ("events", "commence_time"),
    "odds.odds": ("outcomes", "price"),
    "odds.event_odds": ("outcomes", "price"),
    "odds.historical_event_odds": ("outcomes", "price"),
    "bdl.games": ("rows", "home_team_score"),
    "bdl.players": ("rows", "last_name"),
    "bdl.stats": ("rows", "pts"),
    "espn.scoreboard": ("competitors", "score"),
    "espn.summary": ("athletes", "starter"),
}


@dataclass
class Fault:
    """One armed fault and its counters."""

    kind: str
    endpoint: str | None
    times: int | None
    after: int
    params: dict[str, Any]
    seen: int = 0
    fired: int = 0
    id: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "endpoint": self.endpoint,
            "times": self.times,
            "after": self.after,
            "params": dict(self.params),
            "seen": self.seen,
            "fired": self.fired,
        }


def validate_fault(
    kind: str, endpoint: str | None, times: int | None, after: int, params: dict[str, Any]
) -> dict[str, Any]:
    """Check a fault spec and return its params with defaults filled; ValueError names the field."""
    if kind not in FAULT_KINDS:
        raise ValueError(
            f"fault kind {kind!r} is unknown; expected one of {', '.join(FAULT_KINDS)}"
        )
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(
            f"fault endpoint {endpoint!r} is unknown; "
            f"expected None or one of {', '.join(ENDPOINTS)}"
        )
    if kind == "quota_exhausted" and endpoint is not None and not endpoint.startswith("odds."):
        raise ValueError(f"fault quota_exhausted only exists on odds.* endpoints, not {endpoint!r}")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError(f"fault times={times!r} must be a positive int or None (every call)")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ValueError(f"fault after={after!r} must be an int >= 0")
    defaults = _PARAM_DEFAULTS[kind]
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(
            f"fault {kind} does not take param(s) {unknown}; it takes {sorted(defaults) or 'none'}"
        )
    merged = {**defaults, **params}
    _validate_params(kind, merged)
    return merged


def _validate_params(kind: str, params: dict[str, Any]) -> None:
    if kind == "rate_limit":
        value = params["retry_after"]
        if value is not None and (not isinstance(value, int | float) or value < 0):
            raise ValueError(f"fault rate_limit retry_after={value!r} must be seconds >= 0 or None")
    elif kind == "server_error":
        if params["status"] not in (500, 502, 503):
            raise ValueError(f"fault server_error status={params['status']!r} must be 500/502/503")
    elif kind == "slow":
        value = params["seconds"]
        if not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"fault slow seconds={value!r} must be a positive number")
    elif kind == "truncated":
        if params["mode"] not in TRUNCATE_MODES:
            raise ValueError(f"fault truncated mode={params['mode']!r} not in {TRUNCATE_MODES}")
        fraction = params["fraction"]
        if not isinstance(fraction, int | float) or not 0 < fraction < 1:
            raise ValueError(f"fault truncated fraction={fraction!r} must be between 0 and 1")
    elif kind in ("changed_type", "missing_field", "new_field"):
        name = params["field"]
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"fault {kind} field={name!r} must be a non-empty string")


class FaultInjector:
    """Thread-safe registry of armed faults; shared by every request thread of one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def inject(
        self,
        kind: str,
        endpoint: str | None = None,
        times: int | None = 1,
        after: int = 0,
        **params: Any,
    ) -> Fault:
        """Arm a fault; see the module docstring for the counting rules."""
        merged = validate_fault(kind, endpoint, times, after, params)
        with self._lock:
            fault = Fault(kind, endpoint, times, after, merged, id=self._next_id)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        """Armed faults that can still fire, with their counters."""
        with self._lock:
            return [f.to_dict() for f in self._faults if not f.exhausted]

    def take(self, endpoint: str) -> list[Fault]:
        """Count one call to `endpoint` against every matching fault and return those that fire."""
        fired: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or fault.endpoint not in (None, endpoint):
                    continue
                if fault.kind == "quota_exhausted" and not endpoint.startswith("odds."):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.fired += 1
                fired.append(copy.copy(fault))
            self._faults = [f for f in self._faults if not f.exhausted]
        return fired


# --- record-level mutations -----------------------------------------------------------------------


def iter_records(endpoint: str, body: Any) -> Iterator[dict[str, Any]]:
    """The records a record-level fault touches in one endpoint's body."""
    selector = RECORD_TARGETS[endpoint][0]
    if selector == "events":
        events = body.get("data", []) if isinstance(body, dict) else body
        yield from (e for e in events if isinstance(e, dict))
    elif selector == "outcomes":
        payload = body.get("data", body) if isinstance(body, dict) and "timestamp" in body else body
        events = payload if isinstance(payload, list) else [payload]
        for event in events:
            for book in event.get("bookmakers", []):
                for market in book.get("markets", []):
                    yield from market.get("outcomes", [])
    elif selector == "rows":
        yield from body.get("data", [])
    elif selector == "competitors":
        for event in body.get("events", []):
            for competition in event.get("competitions", []):
                yield from competition.get("competitors", [])
    else:  # athletes
        for team in body.get("boxscore", {}).get("players", []):
            for block in team.get("statistics", []):
                yield from block.get("athletes", [])


def retype(value: Any) -> Any:
    """The value in another JSON type, the way upstream schemas drift (numbers become strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return [value]
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def apply_record_fault(endpoint: str, fault: Fault, body: Any) -> int:
    """Mutate `body` in place for new_field/changed_type/missing_field; returns records hit."""
    default_field = RECORD_TARGETS[endpoint][1]
    name = fault.params.get("field") or default_field
    hit = 0
    for record in iter_records(endpoint, body):
        if fault.kind == "new_field":
            record[name] = fault.params["value"]
        elif fault.kind == "changed_type":
            if name not in record:
                continue
            record[name] = retype(record[name])
        else:
            if name not in record:
                continue
            del record[name]
        hit += 1
    return hit


def cut_body(payload: bytes, fraction: float) -> bytes:
    """A prefix that is never the whole body, so the JSON is always broken."""
    cut = min(len(payload) - 1, max(1, int(len(payload) * fraction)))
    return payload[:cut]


@dataclass
class FiredFaults:
    """The faults that fired for one request, sorted by when they act."""

    short_circuit: Fault | None = None  # rate_limit / server_error / quota_exhausted
    empty_slate: bool = False
    delay: float = 0.0
    records: list[Fault] = field(default_factory=list)
    truncate: Fault | None = None

    @classmethod
    def from_faults(cls, faults: list[Fault]) -> FiredFaults:
        fired = cls()
        for fault in faults:
            if fault.kind in ("rate_limit", "server_error", "quota_exhausted"):
                if fired.short_circuit is None:
                    fired.short_circuit = fault
            elif fault.kind == "empty_slate":
                fired.empty_slate = True
            elif fault.kind == "slow":
                fired.delay = max(fired.delay, float(fault.params["seconds"]))
            elif fault.kind == "truncated":
                fired.truncate = fired.truncate or fault
            else:
                fired.records.append(fault)
        return fired


def parse_fault_spec(spec: str) -> tuple[str, str | None, int | None, dict[str, Any]]:
    """`KIND[:ENDPOINT[:TIMES[:k=v,...]]]` (CLI); ENDPOINT `*`/empty = any, TIMES `*` = all."""
    parts = spec.split(":")
    if not parts[0] or len(parts) > 4:
        raise ValueError(f"fault spec {spec!r} is not KIND[:ENDPOINT[:TIMES[:k=v,...]]]")
    kind = parts[0]
    endpoint = parts[1] if len(parts) > 1 and parts[1] not in ("", "*") else None
    times: int | None = 1
    if len(parts) > 2:
        if parts[2] == "*":
            times = None
        else:
            try:
                times = int(parts[2])
            except ValueError as exc:
                raise ValueError(f"fault spec {spec!r}: TIMES {parts[2]!r} is not an int") from exc
    params: dict[str, Any] = {}
    if len(parts) > 3 and parts[3]:
        for item in parts[3].split(","):
            key, sep, raw = item.partition("=")
            if not sep:
                raise ValueError(f"fault spec {spec!r}: param {item!r} is not k=v")
            params[key] = _parse_param_value(raw)
    return kind, endpoint, times, params


def _parse_param_value(raw: str) -> Any:
    if raw in ("none", "None", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(raw)
        except ValueError:
            continue
    return raw
