"""The Odds API's credits: what a call costs, what the account has left, when a run must stop.

`QuotaTracker` is the Odds API session's `CallPolicy` (see extract/http.py): before a call it
estimates the cost per the API's published rules and refuses a call the run's budget or the
account's reserve cannot pay; after every answer it reads the quota headers, which the run log keeps
per call (`extract_log.odds_api_calls`).

Calls run several at once (extract/fanout.py), so the check and the spending are one step under a
lock: a call *reserves* its estimated cost before it goes, and what is spent plus what calls in
flight have reserved never passes the budget (nor the account's reserve). Each answer adds what
the API says it cost (`x-requests-last`; an empty result costs 0) to what is spent; the hold is
kept over retries and released when the call ends (`end_call`). A call that would pass the
budget only because of reservations waits for the calls in flight to settle and is then decided
on what they really spent: exactly the decision a run making one call after the other would
have made, with the same message. As before, the bound is the published cost: an API charging
more than it publishes can pass the budget by the difference, and the run then stops at its
next call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from extract import fanout
from extract.errors import ExtractError, QuotaBudgetError
from extract.http import NUMBER

ODDS_QUOTA_HEADERS = ("x-requests-remaining", "x-requests-used", "x-requests-last")


@dataclass
class QuotaCall:
    seq: int
    endpoint: str
    status: int
    remaining: int | None
    used: int | None
    last: int | None
    estimated_cost: int


@dataclass
class Reservation:
    """The credits one call holds until its answer says what it cost (a call's ticket)."""

    cost: int  # the estimate, per the published rules
    held: int  # still reserved: the estimate until the call ends, then 0


class QuotaTracker:
    """Records the Odds API quota headers of every call and refuses calls the budget cannot pay.

    Thread-safe: see the module docstring for how calls in flight reserve their credits."""

    # how often a call waiting on reservations rechecks whether its fan-out was cancelled
    _POLL = 0.2

    def __init__(self, credit_budget: int, min_remaining: int) -> None:
        self.credit_budget = credit_budget
        self.min_remaining = min_remaining
        self.calls: list[QuotaCall] = []
        self.spent = 0
        self.reserved = 0  # credits held by calls in flight
        self.remaining: int | None = None
        self.used: int | None = None
        self._cond = threading.Condition()

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
        """The call's estimated cost, or `QuotaBudgetError` when the budget or the account's
        reserve cannot pay it now (reserves nothing: `reserve` is what a call does)."""
        cost = self.estimate(endpoint, url)
        with self._cond:
            problem = self._refusal(endpoint, cost, self.reserved)
        if problem:
            raise QuotaBudgetError(problem)
        return cost

    def reserve(self, endpoint: str, url: str) -> Reservation:
        """Hold the call's estimated credits, or refuse it (see the module docstring)."""
        cost = self.estimate(endpoint, url)
        with self._cond:
            while problem := self._refusal(endpoint, cost, self.reserved):
                if not self.reserved:  # decided on what was really spent: refused
                    raise QuotaBudgetError(problem)
                if fanout.cancelled():
                    raise fanout.FanOutCancelledError
                self._cond.wait(self._POLL)  # calls in flight may cost less than they hold
            self.reserved += cost
            return Reservation(cost, cost)

    def _refusal(self, endpoint: str, cost: int, reserved: int) -> str:
        if not cost:
            return ""  # free calls always pass
        held = f" ({reserved} more held by calls in flight)" if reserved else ""
        if self.spent + reserved + cost > self.credit_budget:
            return (
                f"odds_api {endpoint}: stopping before a call estimated at {cost} credits: this "
                f"run has spent {self.spent}{held} of its budget of {self.credit_budget} "
                "(ODDS_API_CREDIT_BUDGET); nothing was loaded"
            )
        if self.remaining is not None and self.remaining - reserved - cost < self.min_remaining:
            return (
                f"odds_api {endpoint}: stopping before a call estimated at {cost} credits: the "
                f"account has {self.remaining} left{held} and must keep {self.min_remaining} "
                "(ODDS_API_MIN_REMAINING); nothing was loaded"
            )
        return ""

    def observe(
        self,
        seq: int,
        endpoint: str,
        status: int,
        headers: Any,
        cost: int,
    ) -> None:
        remaining, used, last = (quota_header(headers, h, endpoint) for h in ODDS_QUOTA_HEADERS)
        with self._cond:
            # answers of concurrent calls arrive in any order: the account's counters are taken
            # from the latest state the API reported (the most credits used), never an older one
            stale = used is not None and self.used is not None and used < self.used
            if remaining is not None and not stale:
                self.remaining = remaining
            if used is not None and not stale:
                self.used = used
            if last is not None:
                self.spent += last
            self.calls.append(QuotaCall(seq, endpoint, status, remaining, used, last, cost))

    def release(self, reservation: Reservation) -> None:
        with self._cond:
            if reservation.held:
                self.reserved -= reservation.held
                reservation.held = 0
                self._cond.notify_all()

    # --- the session's CallPolicy: the reservation made before a call goes with its answers

    def before_call(self, endpoint: str, url: str) -> Reservation:
        return self.reserve(endpoint, url)

    def after_response(
        self, ticket: Reservation, seq: int, endpoint: str, response: requests.Response
    ) -> None:
        self.observe(seq, endpoint, response.status_code, response.headers, ticket.cost)

    def end_call(self, ticket: Reservation) -> None:
        self.release(ticket)


def quota_header(headers: Any, name: str, endpoint: str) -> int | None:
    """A quota header as an int; None when not sent (some error answers carry none).

    A header that is there but not a number fails the run: the credit budget could not be
    enforced.
    """
    value = headers.get(name)
    if value is None or str(value).strip() == "":
        return None
    if not NUMBER.fullmatch(str(value)):
        raise ExtractError(
            f"odds_api {endpoint}: quota header {name}={str(value)[:40]!r} is not a number; "
            "the credit budget cannot be enforced, so the run stops"
        )
    return int(float(value))
