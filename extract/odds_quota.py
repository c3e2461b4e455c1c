"""The Odds API's credits: what a call costs, what the account has left, when a run must stop.

`QuotaTracker` is the Odds API session's `CallPolicy` (see extract/http.py): before a call it
estimates the cost per the API's published rules and refuses a call the run's budget or the
account's reserve cannot pay; after every answer it reads the quota headers, which the run log keeps
per call (`extract_log.odds_api_calls`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

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

    # --- the session's CallPolicy: the estimate made before a call goes with each of its answers

    def before_call(self, endpoint: str, url: str) -> int:
        return self.check(endpoint, url)

    def after_response(
        self, cost: int, seq: int, endpoint: str, response: requests.Response
    ) -> None:
        self.observe(seq, endpoint, response.status_code, response.headers, cost)


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
