"""Every fault kind, seen by a real HTTP client, plus the counting rules and spec parsing."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.apis.balldontlie import BalldontlieApi
from sandbox.apis.common import ApiRequest
from sandbox.apis.espn import EspnApi
from sandbox.apis.index import index_for
from sandbox.faults import (
    FaultInjector,
    apply_record_fault,
    cut_body,
    parse_fault_spec,
    retype,
    validate_fault,
)
from sandbox.server import SandboxServer

TIMEOUT = 10
SCOREBOARD = "/apis/site/v2/sports/basketball/nba/scoreboard"
SUMMARY = "/apis/site/v2/sports/basketball/nba/summary"


def bdl(sandbox, path: str = "/v1/games", **params) -> requests.Response:
    params.setdefault("dates[]", "2026-01-14")
    return requests.get(
        sandbox.balldontlie_url + path,
        params=params,
        headers={"Authorization": sandbox.balldontlie_key},
        timeout=TIMEOUT,
    )


def odds(sandbox, path: str = "/v4/sports/basketball_nba/events", **params) -> requests.Response:
    params.setdefault("apiKey", sandbox.odds_api_key)
    return requests.get(sandbox.odds_api_url + path, params=params, timeout=TIMEOUT)


def espn(sandbox, path: str = SCOREBOARD, **params) -> requests.Response:
    params.setdefault("dates", "20260114")
    return requests.get(sandbox.espn_url + path, params=params, timeout=TIMEOUT)


def first_event_id(sandbox) -> str:
    return odds(sandbox).json()[0]["id"]


def finished_espn_id(sandbox) -> str:
    return espn(sandbox).json()["events"][0]["id"]


# --- rate limits and server errors -------------------------------------------------------------


def test_rate_limit_in_each_apis_shape_then_recovers(sandbox):
    sandbox.faults.inject("rate_limit", "odds.events", retry_after=2)
    sandbox.faults.inject("rate_limit", "bdl.games", retry_after=None)
    sandbox.faults.inject("rate_limit", "espn.scoreboard")

    limited = odds(sandbox)
    assert limited.status_code == 429
    assert limited.json()["error_code"] == "EXCEEDED_FREQ_LIMIT"
    assert limited.headers["Retry-After"] == "2"
    assert "x-requests-remaining" in limited.headers

    no_header = bdl(sandbox)
    assert no_header.status_code == 429
    assert "Retry-After" not in no_header.headers
    assert "error" in no_header.json()

    espn_limited = espn(sandbox)
    assert espn_limited.status_code == 429
    assert espn_limited.headers["Retry-After"] == "1"

    assert odds(sandbox).status_code == 200
    assert bdl(sandbox).status_code == 200
    assert espn(sandbox).status_code == 200


@pytest.mark.parametrize("endpoint", ["odds.events", "bdl.games", "espn.scoreboard"])
def test_server_error_500_is_json(sandbox, endpoint):
    sandbox.faults.inject("server_error", endpoint)
    call = {"odds": odds, "bdl": bdl, "espn": espn}[endpoint.split(".")[0]]
    response = call(sandbox)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()
    assert call(sandbox).status_code == 200


@pytest.mark.parametrize("status", [502, 503])
def test_gateway_errors_are_html(sandbox, status):
    sandbox.faults.inject("server_error", "bdl.stats", status=status)
    response = bdl(sandbox, "/v1/stats")
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<title>{status}" in response.text
    with pytest.raises(requests.JSONDecodeError):
        response.json()


# --- slow and truncated ---------------------------------------------------------------------------


def test_slow_outlasts_a_client_timeout(sandbox):
    sandbox.faults.inject("slow", "espn.scoreboard", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(sandbox.espn_url + SCOREBOARD, params={"dates": "20260114"}, timeout=0.3)
    assert time.monotonic() - started < 1.0
    quick = espn(sandbox)
    assert quick.status_code == 200


def test_slow_really_holds_the_response(sandbox):
    sandbox.faults.inject("slow", "bdl.games", seconds=0.4)
    started = time.monotonic()
    response = bdl(sandbox)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert response.json()["data"]


def test_truncated_with_short_content_length_is_valid_http_but_broken_json(sandbox):
    full = bdl(sandbox).content
    sandbox.faults.inject("truncated", "bdl.games")
    response = bdl(sandbox)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content) < len(full)
    assert full.startswith(response.content)
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_truncated_without_content_length_closes_mid_json(sandbox):
    sandbox.faults.inject("truncated", "espn.scoreboard", mode="close", fraction=0.3)
    response = espn(sandbox)
    assert response.status_code == 200
    assert "Content-Length" not in response.headers
    assert response.headers["Connection"] == "close"
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert espn(sandbox).json()["events"]


def test_truncated_incomplete_body_breaks_the_read(sandbox):
    sandbox.faults.inject("truncated", "odds.events", mode="incomplete")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        odds(sandbox)
    assert odds(sandbox).status_code == 200


# --- schema drift -------------------------------------------------------------------------------


def test_new_field_appears_on_records(sandbox):
    sandbox.faults.inject("new_field", "bdl.stats", field="ist_stage", value="group")
    rows = bdl(sandbox, "/v1/stats").json()["data"]
    assert rows
    assert all(r["ist_stage"] == "group" for r in rows)
    sandbox.faults.inject("new_field", "odds.events")
    events = odds(sandbox).json()
    assert all(e["sandbox_new_field"] == "surprise" for e in events)
    assert "ist_stage" not in bdl(sandbox, "/v1/stats").json()["data"][0]


def test_changed_type_turns_numbers_into_strings_and_back(sandbox):
    event_id = first_event_id(sandbox)
    sandbox.faults.inject("changed_type", "odds.event_odds")
    body = odds(sandbox, f"/v4/sports/basketball_nba/events/{event_id}/odds", regions="us").json()
    prices = [o["price"] for b in body["bookmakers"] for m in b["markets"] for o in m["outcomes"]]
    assert prices
    assert all(isinstance(p, str) for p in prices)
    float(prices[0])

    sandbox.faults.inject("changed_type", "bdl.games")
    games = bdl(sandbox).json()["data"]
    assert all(isinstance(g["home_team_score"], str) for g in games)

    sandbox.faults.inject("changed_type", "espn.scoreboard")
    events = espn(sandbox).json()["events"]
    scores = [c["score"] for e in events for c in e["competitions"][0]["competitors"]]
    assert all(type(s) is int for s in scores)

    sandbox.faults.inject("changed_type", "espn.summary")
    summary = espn(sandbox, SUMMARY, event=events[0]["id"]).json()
    starters = [
        a["starter"] for t in summary["boxscore"]["players"] for a in t["statistics"][0]["athletes"]
    ]
    assert set(starters) == {"true", "false"}


def test_missing_field_removes_a_required_field(sandbox):
    sandbox.faults.inject("missing_field", "bdl.stats")
    rows = bdl(sandbox, "/v1/stats").json()["data"]
    assert rows
    assert all("pts" not in r for r in rows)
    assert all("reb" in r for r in rows)
    sandbox.faults.inject("missing_field", "espn.summary", field="stats")
    summary = espn(sandbox, SUMMARY, event=finished_espn_id(sandbox)).json()
    athletes = [a for t in summary["boxscore"]["players"] for a in t["statistics"][0]["athletes"]]
    assert all("stats" not in a for a in athletes)
    sandbox.faults.inject("missing_field", "odds.historical_events", field="home_team")
    wrapped = odds(
        sandbox, "/v4/historical/sports/basketball_nba/events", date="2026-01-15T16:00:00Z"
    ).json()
    assert wrapped["data"]
    assert all("home_team" not in e for e in wrapped["data"])


# --- quota and empty slates ---------------------------------------------------------------------


def test_quota_exhausted_is_401_for_that_call_only(sandbox):
    sandbox.faults.inject("quota_exhausted", "odds.odds")
    refused = odds(sandbox, "/v4/sports/basketball_nba/odds", regions="us")
    assert refused.status_code == 401
    assert refused.json()["error_code"] == "OUT_OF_USAGE_CREDITS"
    assert refused.headers["x-requests-remaining"] == "0"
    fine = odds(sandbox, "/v4/sports/basketball_nba/odds", regions="us")
    assert fine.status_code == 200
    assert fine.headers["x-requests-remaining"] == "499"


def test_quota_exhausted_aimed_anywhere_only_hits_the_odds_api(sandbox):
    sandbox.faults.inject("quota_exhausted", None, times=None)
    assert bdl(sandbox).status_code == 200
    assert espn(sandbox).status_code == 200
    assert odds(sandbox).status_code == 401


def test_empty_slate_in_each_api(sandbox):
    event_id = first_event_id(sandbox)
    espn_id = finished_espn_id(sandbox)
    sandbox.faults.inject("empty_slate", None, times=None)
    assert espn(sandbox).json()["events"] == []
    games = bdl(sandbox).json()
    assert games["data"] == []
    assert games["meta"] == {"per_page": 25}
    assert bdl(sandbox, "/v1/stats").json()["data"] == []
    assert odds(sandbox).json() == []
    assert odds(sandbox, "/v4/sports/basketball_nba/odds", regions="us").json() == []
    historical = odds(
        sandbox, "/v4/historical/sports/basketball_nba/events", date="2026-01-15T16:00:00Z"
    )
    assert historical.json()["data"] == []
    assert historical.headers["x-requests-last"] == "0"
    gone = odds(sandbox, f"/v4/sports/basketball_nba/events/{event_id}/odds", regions="us")
    assert gone.status_code == 404
    assert espn(sandbox, SUMMARY, event=espn_id).status_code == 404


# --- aiming and counting --------------------------------------------------------------------------


def test_fault_hits_only_its_endpoint(sandbox):
    sandbox.faults.inject("server_error", "bdl.stats", times=None)
    assert bdl(sandbox, "/v1/games").status_code == 200
    assert bdl(sandbox, "/v1/players").status_code == 200
    assert bdl(sandbox, "/v1/stats").status_code == 500
    assert bdl(sandbox, "/v1/stats").status_code == 500


def test_after_and_times_over_the_control_endpoint(sandbox):
    armed = requests.post(
        sandbox.url + "/_sandbox/faults",
        json={"kind": "server_error", "endpoint": "espn.scoreboard", "times": 2, "after": 1,
              "params": {"status": 503}},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert armed.status_code == 201
    assert armed.json()["fault"]["params"] == {"status": 503}
    listed = requests.get(sandbox.url + "/_sandbox/faults", timeout=TIMEOUT).json()["faults"]
    assert [f["kind"] for f in listed] == ["server_error"]
    statuses = [espn(sandbox).status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert requests.get(sandbox.url + "/_sandbox/state", timeout=TIMEOUT).json()["faults"] == []

    requests.post(
        sandbox.url + "/_sandbox/faults",
        json={"kind": "rate_limit", "endpoint": "espn.scoreboard", "times": None},
        timeout=TIMEOUT,
    )
    assert espn(sandbox).status_code == 429
    cleared = requests.delete(sandbox.url + "/_sandbox/faults", timeout=TIMEOUT)
    assert cleared.json() == {"faults": []}
    assert espn(sandbox).status_code == 200


def test_faults_from_the_constructor(sandbox_league):
    specs = [
        "server_error:espn.summary:1:status=503",
        {"kind": "rate_limit", "endpoint": "bdl.players", "params": {"retry_after": 9}},
    ]
    with SandboxServer(sandbox_league, faults=specs) as server:
        summary = requests.get(server.espn_url + SUMMARY, params={"event": "x"}, timeout=TIMEOUT)
        assert summary.status_code == 503
        players = requests.get(
            server.balldontlie_url + "/v1/players",
            headers={"Authorization": server.balldontlie_key},
            timeout=TIMEOUT,
        )
        assert players.status_code == 429
        assert players.headers["Retry-After"] == "9"


def test_injector_counting_rules():
    injector = FaultInjector()
    injector.inject("server_error", "bdl.games", times=2, after=1)
    injector.inject("slow", None, times=None, seconds=0.1)
    fired = [[f.kind for f in injector.take("bdl.games")] for _ in range(4)]
    assert fired == [["slow"], ["server_error", "slow"], ["server_error", "slow"], ["slow"]]
    assert [f["kind"] for f in injector.active()] == ["slow"]
    assert [f.kind for f in injector.take("espn.summary")] == ["slow"]
    injector.clear()
    assert injector.take("bdl.games") == []


@pytest.mark.parametrize(
    ("kind", "endpoint", "times", "after", "params", "message"),
    [
        ("meteor", None, 1, 0, {}, "kind"),
        ("slow", "bdl.teams", 1, 0, {}, "endpoint"),
        ("quota_exhausted", "bdl.stats", 1, 0, {}, "quota_exhausted"),
        ("slow", None, 0, 0, {}, "times"),
        ("slow", None, True, 0, {}, "times"),
        ("slow", None, 1, -1, {}, "after"),
        ("slow", None, 1, 0, {"secs": 1}, "does not take"),
        ("slow", None, 1, 0, {"seconds": 0}, "seconds"),
        ("server_error", None, 1, 0, {"status": 404}, "status"),
        ("rate_limit", None, 1, 0, {"retry_after": -1}, "retry_after"),
        ("truncated", None, 1, 0, {"mode": "chunked"}, "mode"),
        ("truncated", None, 1, 0, {"fraction": 1.5}, "fraction"),
        ("missing_field", None, 1, 0, {"field": ""}, "field"),
    ],
)
def test_bad_fault_specs_name_the_field(kind, endpoint, times, after, params, message):
    with pytest.raises(ValueError, match=message):
        validate_fault(kind, endpoint, times, after, params)


def test_parse_fault_spec():
    assert parse_fault_spec("slow") == ("slow", None, 1, {})
    assert parse_fault_spec("slow:*:*:seconds=2.5") == ("slow", None, None, {"seconds": 2.5})
    assert parse_fault_spec("rate_limit:bdl.stats:3:retry_after=none") == (
        "rate_limit",
        "bdl.stats",
        3,
        {"retry_after": None},
    )
    assert parse_fault_spec("truncated::2:mode=close") == ("truncated", None, 2, {"mode": "close"})
    for bad in ("", "slow:a:b:c:d", "slow:bdl.games:x", "slow:bdl.games:1:seconds"):
        with pytest.raises(ValueError, match="fault spec"):
            parse_fault_spec(bad)


def test_retype_and_cut_body():
    assert retype(1.91) == "1.91"
    assert retype(7) == "7"
    assert retype(True) == "true"
    assert retype("124") == 124
    assert retype("1.5") == 1.5
    assert retype("Final") == ["Final"]
    assert retype(None) == "null"
    assert retype({"a": 1}) == '{"a": 1}'
    body = b'{"data":[1,2,3]}'
    for fraction in (0.01, 0.5, 0.99):
        cut = cut_body(body, fraction)
        assert 0 < len(cut) < len(body)
        assert body.startswith(cut)


def test_record_faults_skip_records_without_the_field():
    injector = FaultInjector()
    fault = injector.inject("changed_type", "bdl.stats", field="nope")
    body = {"data": [{"pts": 1}, {"pts": 2}]}
    assert apply_record_fault("bdl.stats", fault, body) == 0
    assert body == {"data": [{"pts": 1}, {"pts": 2}]}
    gone = injector.inject("missing_field", "bdl.stats", field="nope")
    assert apply_record_fault("bdl.stats", gone, body) == 0


def test_only_short_circuit_faults_have_a_response_of_their_own(sandbox_league):
    index = index_for(sandbox_league)
    request = ApiRequest("GET", "/v1/games", {}, {}, sandbox_league.games["tipoff_at"].iloc[0])
    for api in (BalldontlieApi(index, "key"), EspnApi(index)):
        assert api.fault_response("server_error", {"status": 503}, request).status == 503
        with pytest.raises(ValueError, match=f"sandbox {api.name} API: fault 'slow'"):
            api.fault_response("slow", {"seconds": 1}, request)
