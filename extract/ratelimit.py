"""Requests a second per API, and the per-call rules of a session put together.

A token bucket per API (its plan's rate) paces every call, across threads: a real backfill asks
no faster than the plan allows, rather than discovering the limit through 429s. The Odds API's
historical calls run several at once (extract/fanout.py); each thread takes its own token, so the
rate holds whatever the concurrency: concurrency only overlaps the calls' latencies.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests


class RateLimiter:
    """At most `per_second` calls a second on average, bursts of at most `burst`; 0 = no limit.

    Thread-safe: a caller takes its token (or its debt) under the lock, then sleeps outside it,
    so callers are spaced `1 / per_second` apart in the order they asked."""

    def __init__(self, per_second: float, burst: int = 1) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()
        self.waited = 0.0

    def wait(self) -> float:
        """Block until a call may go; returns the seconds waited."""
        if self.per_second <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.per_second)
            self._stamp = now
            self._tokens -= 1.0
            delay = -self._tokens / self.per_second if self._tokens < 0 else 0.0
            self.waited += delay
        if delay > 0:
            time.sleep(delay)
        return delay


class Paced:
    """A session's call policy that waits for its API's rate limiter before each call."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def before_call(self, endpoint: str, url: str) -> Any:
        self.limiter.wait()

    def after_response(self, ticket: Any, seq: int, endpoint: str, response: Any) -> None:
        return None

    def end_call(self, ticket: Any) -> None:
        return None


class Policies:
    """Several call policies as one, in order (pace first, then spend credits)."""

    def __init__(self, *policies: Any) -> None:
        self.policies = [p for p in policies if p is not None]

    def before_call(self, endpoint: str, url: str) -> Any:
        tickets: list[Any] = []
        try:
            for policy in self.policies:
                tickets.append(policy.before_call(endpoint, url))
        except BaseException:  # a later policy refused: the earlier ones' tickets end unused
            for policy, ticket in zip(self.policies, tickets, strict=False):
                policy.end_call(ticket)
            raise
        return tickets

    def after_response(
        self, ticket: Any, seq: int, endpoint: str, response: requests.Response
    ) -> None:
        for policy, own in zip(self.policies, ticket, strict=True):
            policy.after_response(own, seq, endpoint, response)

    def end_call(self, ticket: Any) -> None:
        for policy, own in zip(self.policies, ticket, strict=True):
            policy.end_call(own)
