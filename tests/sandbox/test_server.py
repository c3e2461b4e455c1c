"""The server's frame: lifecycle, loopback-only binding, routing, control endpoints, logging."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests

from sandbox.server import DEFAULT_NOW, SandboxServer, loopback_host, redact

TIMEOUT = 10


def test_urls_follow_the_contract(sandbox):
    assert sandbox.url.startswith("http://127.0.0.1:")
    port = int(sandbox.url.rsplit(":", 1)[1])
    assert port > 0
    assert sandbox.odds_api_url == sandbox.url + "/odds-api"
    assert sandbox.balldontlie_url == sandbox.url + "/balldontlie"
    assert sandbox.espn_url == sandbox.url + "/espn"


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104 - refused, never bound
        "192.168.1.10",
        "::1",
        "example.com",
        "",
    ],
)
def test_non_loopback_hosts_are_refused(host):
    with pytest.raises(ValueError, match="sandbox host"):
        SandboxServer(host=host)


def test_loopback_spellings_are_accepted():
    assert loopback_host("localhost") == "127.0.0.1"
    assert loopback_host("127.0.0.1") == "127.0.0.1"
    assert loopback_host("127.0.0.2") == "127.0.0.2"


def test_url_before_start_raises(sandbox_league):
    server = SandboxServer(sandbox_league)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


def test_second_server_gets_its_own_free_port_and_stops_cleanly(sandbox, sandbox_league):
    other = SandboxServer(sandbox_league, now="2026-01-10T12:00:00Z")
    with other:
        assert other.port not in (0, sandbox.port)
        state = requests.get(other.url + "/_sandbox/state", timeout=TIMEOUT).json()
        assert state["now"] == "2026-01-10T12:00:00Z"
        assert other.start() is other  # starting twice is harmless
        url = other.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/state", timeout=2)
    other.stop()  # stopping twice is harmless


def test_kept_alive_connection_is_dropped_after_stop(sandbox_league):
    session = requests.Session()
    with SandboxServer(sandbox_league) as other:
        url = other.url + "/_sandbox/state"
        assert session.get(url, timeout=TIMEOUT).status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=2)


def test_naive_now_is_refused(sandbox):
    with pytest.raises(ValueError, match="naive"):
        sandbox.set_now(datetime(2026, 1, 1, 12, 0))  # naive on purpose


def test_control_state_now_and_reset_over_http(sandbox):
    state = requests.get(sandbox.url + "/_sandbox/state", timeout=TIMEOUT).json()
    assert state["now"] == "2026-01-15T17:00:00Z"
    assert state["seed"] == 20251021
    assert state["season"] == 2025
    assert state["quota"] == {"quota": 500, "used": 0, "remaining": 500}
    assert "sandbox-odds-key" not in str(state)

    moved = requests.post(
        sandbox.url + "/_sandbox/now", json={"now": "2026-02-01T03:00:00+00:00"}, timeout=TIMEOUT
    )
    assert moved.status_code == 200
    assert moved.json() == {"now": "2026-02-01T03:00:00Z"}
    assert sandbox.now == datetime(2026, 2, 1, 3, 0, tzinfo=UTC)

    quota = requests.post(sandbox.url + "/_sandbox/quota", json={"quota": 7}, timeout=TIMEOUT)
    assert quota.json()["quota"] == {"quota": 7, "used": 0, "remaining": 7}

    reset = requests.post(sandbox.url + "/_sandbox/reset", timeout=TIMEOUT)
    assert reset.status_code == 200
    assert sandbox.now == DEFAULT_NOW
    assert reset.json()["quota"]["quota"] == 500


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sandbox/now", {"now": "yesterday"}, 400),
        ("POST", "/_sandbox/now", {}, 400),
        ("POST", "/_sandbox/quota", {"quota": -1}, 400),
        ("POST", "/_sandbox/faults", {"kind": "meteor"}, 400),
        ("GET", "/_sandbox/nothing", None, 404),
    ],
)
def test_control_rejects_bad_requests(sandbox, method, path, body, status):
    response = requests.request(method, sandbox.url + path, json=body, timeout=TIMEOUT)
    assert response.status_code == status
    assert "error" in response.json()


def test_control_rejects_non_json_bodies(sandbox):
    response = requests.post(sandbox.url + "/_sandbox/now", data=b"not json", timeout=TIMEOUT)
    assert response.status_code == 400
    response = requests.post(sandbox.url + "/_sandbox/now", json=[1, 2], timeout=TIMEOUT)
    assert response.status_code == 400


def test_unknown_prefix_and_paths_get_each_apis_404(sandbox):
    nowhere = requests.get(sandbox.url + "/nowhere/v1/x", timeout=TIMEOUT)
    assert nowhere.status_code == 404
    odds = requests.get(
        sandbox.odds_api_url + "/v4/sports", params={"apiKey": sandbox.odds_api_key}, timeout=10
    )
    assert odds.status_code == 404
    assert set(odds.json()) == {"message", "error_code", "details_url"}
    bdl = requests.get(
        sandbox.balldontlie_url + "/v2/games",
        headers={"Authorization": sandbox.balldontlie_key},
        timeout=TIMEOUT,
    )
    assert bdl.status_code == 404
    assert "error" in bdl.json()
    espn = requests.get(
        sandbox.espn_url + "/apis/site/v2/sports/football/nfl/scoreboard", timeout=10
    )
    assert espn.status_code == 404
    assert espn.json()["code"] == 404


def test_keep_alive_session_serves_many_requests(sandbox):
    with requests.Session() as session:
        statuses = {
            session.get(
                sandbox.espn_url + "/apis/site/v2/sports/basketball/nba/scoreboard",
                params={"dates": f"202601{day:02d}"},
                timeout=TIMEOUT,
            ).status_code
            for day in range(1, 21)
        }
    assert statuses == {200}


def test_concurrent_clients_are_served(sandbox):
    results: list[int] = []

    def fetch() -> None:
        response = requests.get(
            sandbox.balldontlie_url + "/v1/games",
            params={"dates[]": "2026-01-14"},
            headers={"Authorization": sandbox.balldontlie_key},
            timeout=TIMEOUT,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 8


def test_redact_hides_keys_in_logged_paths():
    line = "GET /odds-api/v4/sports/basketball_nba/odds?regions=us&apiKey=s3cr3t&markets=h2h"
    assert "s3cr3t" not in redact(line)
    assert "apiKey=<redacted>&markets=h2h" in redact(line)


def test_verbose_logging_redacts_the_key(sandbox_league, capfd):
    with SandboxServer(sandbox_league, verbose=True, odds_api_key="s3cr3t-key") as server:
        requests.get(
            server.odds_api_url + "/v4/sports/basketball_nba/events",
            params={"apiKey": "s3cr3t-key"},
            timeout=TIMEOUT,
        )
    err = capfd.readouterr().err
    assert "/v4/sports/basketball_nba/events" in err
    assert "s3cr3t-key" not in err
