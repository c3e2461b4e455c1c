"""The sandbox's HTTP face: three imitated APIs and a control surface on one loopback port.

`SandboxServer` serves a League over real HTTP (stdlib ThreadingHTTPServer on a background thread)
so that the extractors are exercised exactly as against the real hosts: base URL + key, real status
codes, headers, pagination, and faults. Only loopback addresses are accepted: the sandbox is never
a public service.

Built from a seed (the default, and what `python -m sandbox` and the extract CLI do), it serves
every season of `SEASONS` at once, each loaded on first use (sandbox/apis/seasons.py says which
season answers a request; balldontlie's `/players` lists everyone of every season). Given a League,
it serves that one season alone, exactly as it always did.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import threading
from collections.abc import Iterable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.apis.balldontlie import BalldontlieApi
from sandbox.apis.common import (
    ApiError,
    ApiModule,
    ApiRequest,
    ApiResponse,
    ResponseCache,
    iso_z,
    to_utc,
)
from sandbox.apis.espn import EspnApi
from sandbox.apis.index import LeagueIndex, PeopleIndex, index_for, people_for
from sandbox.apis.injuries import with_bdl_injuries, with_espn_injuries
from sandbox.apis.odds_api import OddsApi, QuotaLedger
from sandbox.apis.seasons import SeasonRouter
from sandbox.defaults import DEFAULT_NOW, DEFAULT_SEASON, DEFAULT_SEED, SEASONS
from sandbox.faults import (
    Fault,
    FaultInjector,
    FiredFaults,
    apply_record_fault,
    cut_body,
    parse_fault_spec,
)

DEFAULT_ODDS_API_KEY = "sandbox-odds-key"
DEFAULT_BALLDONTLIE_KEY = "sandbox-bdl-key"
DEFAULT_QUOTA = 500
# Rendered bodies kept for repeated requests (a rerun, a resumed backfill, concurrent clients);
# a season's backfill reads are about 150 MiB, the least recently used go first.
RESPONSE_CACHE_BYTES = 256 * 2**20
PREFIXES = {"odds": "/odds-api", "bdl": "/balldontlie", "espn": "/espn"}
CONTROL_PREFIX = "/_sandbox"
_SECRET_PARAM = re.compile(r"(?i)(apikey=)[^&\s]*")


def loopback_host(host: str) -> str:
    """The IPv4 loopback address to bind, or ValueError: the sandbox never listens off the box."""
    candidate = "127.0.0.1" if host == "localhost" else host
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError as exc:
        raise ValueError(f"sandbox host {host!r} is not an IP address; use 127.0.0.1") from exc
    if address.version != 4 or not address.is_loopback:
        raise ValueError(
            f"sandbox host {host!r} is not IPv4 loopback; refusing to bind beyond 127/8"
        )
    return str(address)


def redact(text: str) -> str:
    """Hide API keys passed in query strings before anything is logged."""
    return _SECRET_PARAM.sub(r"\1<redacted>", text)


def release_memory() -> None:
    """Forget every League and index this process has memoised (about 300 MB for a season), for
    a process that is done with the sandbox: the daily job after its extract. A later caller
    loads them again from the disk cache."""
    from sandbox import history, league
    from sandbox.apis import index

    league._MEMO.clear()
    with index._CACHE_LOCK:
        index._CACHE.clear()
    for memoised in (index._scoring_path, index.people_for, history.casts, history.stints):
        memoised.cache_clear()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # idle keep-alive connections would make server_close() wait forever
    block_on_close = False
    allow_reuse_address = True
    # the stdlib default backlog of 5 drops SYNs under a burst of parallel clients (1 s retransmit)
    request_queue_size = 128
    sandbox: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection's thread goes away after this
    # headers and body go out in two writes: without TCP_NODELAY, Nagle plus the client's delayed
    # ACK adds ~40 ms to every keep-alive response
    disable_nagle_algorithm = True
    server: _HttpServer

    def version_string(self) -> str:
        return "nba-props-sandbox"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            sys.stderr.write(redact(f"sandbox {self.address_string()} {format % args}\n"))

    def _dispatch(self, method: str) -> None:
        sandbox = self.server.sandbox
        if sandbox.stopping:
            # a kept-alive connection outliving stop(): hang up rather than serve from a dead server
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        try:
            response, fired = sandbox.handle(
                method, self.path, dict(self.headers.items()), raw_body
            )
        except Exception as exc:  # a bug in the sandbox itself: say so loudly, keep serving
            sys.stderr.write(f"sandbox: internal error on {method} {redact(self.path)}: {exc!r}\n")
            response = ApiResponse(500, {"error": f"sandbox internal error: {type(exc).__name__}"})
            fired = FiredFaults()
        payload = response.encode()
        if fired.delay:
            sandbox.wait(fired.delay)
        try:
            self._send(response, payload, fired)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (a "slow" fault outlasting its timeout): nothing to answer
            self.close_connection = True

    def _send(self, response: ApiResponse, payload: bytes, fired: FiredFaults) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        body = payload
        if fired.truncate is not None:
            mode = fired.truncate.params["mode"]
            body = cut_body(payload, float(fired.truncate.params["fraction"]))
            if mode == "length":
                self.send_header("Content-Length", str(len(body)))
            elif mode == "close":
                self.send_header("Connection", "close")
                self.close_connection = True
            else:  # incomplete: promise the whole body, deliver part of it, hang up
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()


class SandboxServer:
    """A simulated season behind the three APIs on 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        league: Any = None,
        *,
        seed: int = DEFAULT_SEED,
        season: int = DEFAULT_SEASON,
        now: datetime | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        odds_api_key: str = DEFAULT_ODDS_API_KEY,
        balldontlie_key: str = DEFAULT_BALLDONTLIE_KEY,
        quota: int = DEFAULT_QUOTA,
        faults: Iterable[str | dict[str, Any]] = (),
        verbose: bool = False,
    ) -> None:
        self.host = loopback_host(host)
        self.port = int(port)
        self.seed = int(league.seed) if league is not None else seed
        self.season = int(league.season) if league is not None else season
        self._league = league
        self._initial_now = to_utc(now) if now is not None else DEFAULT_NOW
        self._now = self._initial_now
        self.odds_api_key = odds_api_key
        self.balldontlie_key = balldontlie_key
        self.initial_quota = int(quota)
        self.ledger = QuotaLedger(self.initial_quota)
        self.faults = FaultInjector()
        self.verbose = verbose
        for spec in faults:
            self._inject_spec(spec)
        self._index: LeagueIndex | None = None
        # every served season at once when built from a seed; a given League is served alone
        single = league is not None or self.season not in SEASONS
        self.seasons = (self.season,) if single else SEASONS
        self._people: PeopleIndex | None = None
        self._bdl_people: ApiModule | None = None
        self._router = SeasonRouter(self.seasons, self.season, self._season_apis)
        self._responses = ResponseCache(RESPONSE_CACHE_BYTES)
        self._apis: dict[str, ApiModule] = {}
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def multi_season(self) -> bool:
        return len(self.seasons) > 1

    @property
    def league(self) -> Any:
        """The current season's League."""
        if self._league is None:
            from sandbox.league import load_league

            self._league = load_league(self.seed, self.season)
        return self._league

    @property
    def index(self) -> LeagueIndex:
        """The current season's index."""
        if self._index is None:
            self._index = index_for(self.league, self.people if self.multi_season else None)
        return self._index

    @property
    def people(self) -> PeopleIndex:
        """Everyone of every served season (built from rosters alone: loads no season)."""
        if self._people is None:
            self._people = people_for(self.seed)
        return self._people

    @property
    def loaded_seasons(self) -> list[int]:
        """The seasons whose games have been loaded so far."""
        return self._router.loaded

    def _season_apis(self, season: int) -> dict[str, ApiModule]:
        """One season's API modules (the router calls this once per season, on first use)."""
        if season == self.season:
            index = self.index
        else:
            from sandbox.league import load_league

            index = index_for(load_league(self.seed, season), self.people)
        return {
            "odds": OddsApi(index, self.odds_api_key, self.ledger),
            "bdl": with_bdl_injuries(BalldontlieApi(index, self.balldontlie_key)),
            "espn": with_espn_injuries(EspnApi(index)),
        }

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        self._apis = self._router.apis(self.season)
        if self.multi_season:
            self._bdl_people = BalldontlieApi(self.people, self.balldontlie_key)
        self._stopping.clear()
        httpd = _HttpServer((self.host, self.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"sandbox-http-{self.port}",
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # wakes handlers held by a "slow" fault
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wait(self, seconds: float) -> None:
        """Hold a response (the "slow" fault), cut short if the server stops."""
        self._stopping.wait(seconds)

    # --- addresses --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("sandbox server is not started; call start() or use `with`")
        return f"http://{self.host}:{self.port}"

    @property
    def odds_api_url(self) -> str:
        return self.url + PREFIXES["odds"]

    @property
    def balldontlie_url(self) -> str:
        return self.url + PREFIXES["bdl"]

    @property
    def espn_url(self) -> str:
        return self.url + PREFIXES["espn"]

    # --- time, quota, reset -----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._now

    def set_now(self, value: datetime | str) -> datetime:
        """Move the sandbox clock; only what existed at this moment is served."""
        self._now = to_utc(value)
        return self._now

    def reset(self) -> None:
        """Back to the start state: initial now, no faults, a fresh quota."""
        self._now = self._initial_now
        self.faults.clear()
        self.ledger.reset(self.initial_quota)

    def state(self) -> dict[str, Any]:
        return {
            "now": iso_z(self.now),
            "seed": self.seed,
            "season": self.season,
            "seasons": list(self.seasons),
            "loaded_seasons": self.loaded_seasons,
            "urls": (
                {
                    "odds_api": self.odds_api_url,
                    "balldontlie": self.balldontlie_url,
                    "espn": self.espn_url,
                }
                if self._httpd is not None
                else None
            ),
            "quota": self.ledger.state(),
            "faults": self.faults.active(),
        }

    def _inject_spec(self, spec: str | dict[str, Any]) -> Fault:
        """Arm a fault from a CLI spec string or a control-API body (one reading of both)."""
        if isinstance(spec, str):
            kind, endpoint, times, params = parse_fault_spec(spec)
            return self.faults.inject(kind, endpoint, times, **params)
        return self.faults.inject(
            spec.get("kind", ""),
            spec.get("endpoint"),
            spec.get("times", 1),
            spec.get("after", 0),
            **(spec.get("params") or {}),
        )

    # --- request handling -------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[ApiResponse, FiredFaults]:
        """Answer one request; called on the handler thread. Exposed for in-process benchmarks."""
        split = urlsplit(target)
        path = split.path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(method, path[len(CONTROL_PREFIX) :], body), FiredFaults()
        for name, prefix in PREFIXES.items():
            if path.startswith(prefix + "/"):
                api = self._apis[name]
                sub = path[len(prefix) :]
                break
        else:
            return ApiResponse(404, {"error": f"no sandbox API under {path}"}), FiredFaults()
        request = ApiRequest(
            method=method,
            path=sub,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in headers.items()},
            now=self._now,
        )
        matched = api.match(method, sub)
        if matched is None:
            return api.finalize(request, api.not_found(request)), FiredFaults()
        route, params = matched
        request.endpoint = route.endpoint
        request.path_params = params
        fired = FiredFaults.from_faults(self.faults.take(route.endpoint))
        if fired.short_circuit is not None:
            fault = fired.short_circuit
            response = api.fault_response(fault.kind, fault.params, request)
        else:
            request.empty_slate = fired.empty_slate
            response = self._render(api, route, request)
            if response.status == 200 and fired.records:
                # the cached body is shared: a record fault mutates a copy of its own
                if response.body is None and response.raw is not None:
                    response.body = json.loads(response.raw)
                response.raw = None
                for fault in fired.records:
                    apply_record_fault(route.endpoint, fault, response.body)
        return api.finalize(request, response), fired

    def _render(self, api: ApiModule, route: Any, request: ApiRequest) -> ApiResponse:
        """The route's answer, rendered once per (path, query, credentials, now) and cached.

        A response is a pure function of the league, the request and "now", apart from what
        `ApiResponse.per_call` replays on every call (the Odds API's credits); an answer under an
        "empty_slate" fault is not the endpoint's real answer and is never cached.
        """
        key = None
        if not request.empty_slate:
            query = tuple(sorted((k, tuple(v)) for k, v in request.query.items()))
            auth = request.headers.get("authorization")
            key = (api.name, request.method, request.path, query, auth, request.now)
            hit = self._responses.get(key)
            if hit is not None:
                return hit.replay()
        try:
            response = self._answer(api, route, request)
        except ApiError as err:
            return err.response
        if key is not None and response.status == 200:
            self._responses.put(key, response)
            return response.replay()
        return response

    def _answer(self, api: ApiModule, route: Any, request: ApiRequest) -> ApiResponse:
        """The route's answer from the season(s) the request belongs to."""
        if not self.multi_season:
            return route.handler(request)
        if route.endpoint == "bdl.players" and self._bdl_people is not None:
            matched = self._bdl_people.match(request.method, request.path)
            if matched is not None:
                return matched[0].handler(request)
        return self._router.answer(api.name, route.endpoint, request)

    def _control(self, method: str, path: str, body: bytes) -> ApiResponse:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return ApiResponse(400, {"error": "control body is not JSON"})
        if not isinstance(payload, dict):
            return ApiResponse(400, {"error": "control body must be a JSON object"})
        try:
            if path == "/state" and method == "GET":
                return ApiResponse(200, self.state())
            if path == "/now" and method == "POST":
                if "now" not in payload:
                    return ApiResponse(400, {"error": 'body needs {"now": ISO 8601 UTC}'})
                self.set_now(str(payload["now"]))
                return ApiResponse(200, {"now": iso_z(self.now)})
            if path == "/faults" and method == "POST":
                fault = self._inject_spec(payload)
                return ApiResponse(201, {"fault": fault.to_dict()})
            if path == "/faults" and method == "DELETE":
                self.faults.clear()
                return ApiResponse(200, {"faults": []})
            if path == "/faults" and method == "GET":
                return ApiResponse(200, {"faults": self.faults.active()})
            if path == "/quota" and method == "POST":
                quota = payload.get("quota", self.initial_quota)
                if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
                    return ApiResponse(400, {"error": f"quota={quota!r} must be an int >= 0"})
                self.ledger.reset(quota)
                return ApiResponse(200, {"quota": self.ledger.state()})
            if path == "/reset" and method == "POST":
                self.reset()
                return ApiResponse(200, self.state())
        except (ValueError, TypeError) as exc:
            return ApiResponse(400, {"error": str(exc)})
        return ApiResponse(404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{path}"})
