"""Issue 8.7: the sandbox renders an answer once; credits and faults still apply per call."""

from __future__ import annotations

import requests


def _events(sandbox) -> requests.Response:
    return requests.get(
        sandbox.odds_api_url + "/v4/sports/basketball_nba/odds",
        params={"apiKey": sandbox.odds_api_key, "regions": "us", "markets": "h2h"},
        timeout=10,
    )


def test_a_cached_answer_still_costs_its_credits(sandbox) -> None:
    first, second = _events(sandbox), _events(sandbox)
    assert first.content == second.content
    cost = int(first.headers["x-requests-last"])
    assert cost > 0
    assert second.headers["x-requests-last"] == str(cost)
    assert int(second.headers["x-requests-used"]) == 2 * cost


def test_a_record_fault_never_reaches_the_cache(sandbox) -> None:
    clean = _events(sandbox).content
    sandbox.faults.inject("new_field", "odds.odds")
    faulty = _events(sandbox).content
    assert faulty != clean
    assert _events(sandbox).content == clean
