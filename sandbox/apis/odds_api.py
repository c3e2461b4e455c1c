"""The Odds API v4, imitated: events, featured odds, event odds, historical wrappers, quota.

Decisions where the real behaviour is not documented (see the report and API_CONTRACTS.md):
- A game is listed (events, odds) from its opening line until `final_at`; after that the live
  endpoints answer 404 EVENT_NOT_FOUND and only the historical ones know it.
- Games stay listed while under way (a historical list at 00:30 holds the 00:00 tip), then with
  the actual start, to the second, as `commence_time`.
- Historical snapshots sit on a 5-minute grid: `timestamp` is the last grid point at or before
  `min(date, now)`; each book shows its latest line at that point.
- On the event-odds endpoint a known market key that the sandbox does not simulate
  (player_blocks...) is simply absent and costs nothing; a key the API does not know at all is a
  422 INVALID_MARKET.
- Quota headers go on every response to a valid key; a request whose cost exceeds what is left is
  refused with 401 OUT_OF_USAGE_CREDITS. Empty results cost nothing.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta
from typing import Any

from sandbox.apis.common import (
    ApiError,
    ApiModule,
    ApiRequest,
    ApiResponse,
    Route,
    floor_to,
    iso_z,
    parse_utc,
    stable_int,
)
from sandbox.apis.index import GameRec, LeagueIndex

SPORT_KEY = "basketball_nba"
SPORT_TITLE = "NBA"
FEATURED_MARKETS = ("h2h", "spreads", "totals")
SIMULATED_PROPS = ("player_points", "player_rebounds", "player_assists", "player_threes")
# market keys the real API knows for the NBA; requesting one the sandbox lacks returns nothing
KNOWN_MARKETS = frozenset(
    {
        *FEATURED_MARKETS,
        "h2h_lay",
        "alternate_spreads",
        "alternate_totals",
        "team_totals",
        "alternate_team_totals",
        *(f"{m}_{p}" for m in ("h2h", "spreads", "totals") for p in ("q1", "q2", "q3", "q4")),
        *(f"{m}_{p}" for m in ("h2h", "spreads", "totals") for p in ("h1", "h2")),
        *SIMULATED_PROPS,
        "player_blocks",
        "player_steals",
        "player_turnovers",
        "player_blocks_steals",
        "player_points_rebounds_assists",
        "player_points_rebounds",
        "player_points_assists",
        "player_rebounds_assists",
        "player_double_double",
        "player_triple_double",
        "player_first_basket",
        "player_field_goals",
        "player_frees_made",
        *(
            f"{m}_alternate"
            for m in (
                *SIMULATED_PROPS,
                "player_blocks",
                "player_steals",
                "player_points_rebounds_assists",
            )
        ),
    }
)
REGIONS = ("us", "us2", "us_dfs", "us_ex", "uk", "eu", "au", "fr", "se")
SANDBOX_REGION = "us"  # every simulated bookmaker is a US book
HISTORICAL_STEP = timedelta(minutes=5)
DETAILS_URL = "https://the-odds-api.com/liveapi/guides/v4/api-error-codes.html#"
_SPORT = r"(?P<sport>[a-z0-9_]+)"
_EVENT = r"(?P<event_id>[^/]+)"


class QuotaLedger:
    """The account's request credits, shared by every request thread."""

    def __init__(self, quota: int) -> None:
        self.quota = quota
        self.used = 0
        self._lock = threading.Lock()

    def remaining(self) -> int:
        with self._lock:
            return max(0, self.quota - self.used)

    def charge(self, cost: int) -> tuple[bool, int, int]:
        """Take `cost` credits if they are all there; returns (accepted, used, remaining)."""
        with self._lock:
            left = self.quota - self.used
            if cost > 0 and cost > left:
                return False, self.used, max(0, left)
            self.used += cost
            return True, self.used, self.quota - self.used

    def reset(self, quota: int | None = None) -> None:
        with self._lock:
            if quota is not None:
                self.quota = quota
            self.used = 0

    def state(self) -> dict[str, int]:
        with self._lock:
            return {"quota": self.quota, "used": self.used, "remaining": self.quota - self.used}


def odds_error(status: int, code: str, message: str) -> ApiResponse:
    return ApiResponse(
        status,
        {"message": message, "error_code": code, "details_url": DETAILS_URL + code.lower()},
    )


def _fail(status: int, code: str, message: str) -> ApiError:
    return ApiError(odds_error(status, code, message))


def american(decimal_price: float) -> int:
    """Decimal odds to American: 2.5 -> 150, 1.8 -> -125."""
    if decimal_price >= 2.0:
        return round((decimal_price - 1.0) * 100)
    return round(-100.0 / (decimal_price - 1.0))


class OddsApi(ApiModule):
    """Routes and renderers for the five Odds API endpoints the platform uses."""

    name = "odds"

    def __init__(self, index: LeagueIndex, api_key: str, ledger: QuotaLedger) -> None:
        self.index = index
        self.api_key = api_key
        self.ledger = ledger
        self.routes = [
            Route("GET", rf"/v4/sports/{_SPORT}/events", "odds.events", self.events),
            Route("GET", rf"/v4/sports/{_SPORT}/odds", "odds.odds", self.odds),
            Route(
                "GET",
                rf"/v4/sports/{_SPORT}/events/{_EVENT}/odds",
                "odds.event_odds",
                self.event_odds,
            ),
            Route(
                "GET",
                rf"/v4/historical/sports/{_SPORT}/events",
                "odds.historical_events",
                self.historical_events,
            ),
            Route(
                "GET",
                rf"/v4/historical/sports/{_SPORT}/events/{_EVENT}/odds",
                "odds.historical_event_odds",
                self.historical_event_odds,
            ),
        ]

    # --- framework hooks --------------------------------------------------------------------------

    def not_found(self, request: ApiRequest) -> ApiResponse:
        return odds_error(404, "NOT_FOUND", f"Resource not found: {request.path}")

    def rate_limited(self) -> ApiResponse:
        return odds_error(
            429,
            "EXCEEDED_FREQ_LIMIT",
            "Requests are being sent too frequently. Try spacing out requests.",
        )

    def internal_error(self) -> ApiResponse:
        return odds_error(500, "INTERNAL_ERROR", "Internal server error. Please try again later.")

    def fault_response(self, kind: str, params: dict[str, Any], request: ApiRequest) -> ApiResponse:
        if kind == "quota_exhausted":
            # the account looks spent for this call only; the ledger itself is left alone
            response = self._out_of_credits()
            response.headers.update(
                {
                    "x-requests-remaining": "0",
                    "x-requests-used": str(self.ledger.state()["used"]),
                    "x-requests-last": "0",
                }
            )
            return response
        return super().fault_response(kind, params, request)

    def finalize(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        if response.status == 200 and response.cost is not None:
            # charged per call, here: a rendered answer may be a cached one
            try:
                response.headers.update(self._charge(response.cost))
            except ApiError as err:
                return err.response
        # a wrong or missing key has no account behind it, so no quota headers
        if (
            request.first("apiKey") == self.api_key
            and "x-requests-remaining" not in response.headers
        ):
            state = self.ledger.state()
            response.headers.update(
                {
                    "x-requests-remaining": str(max(0, state["remaining"])),
                    "x-requests-used": str(state["used"]),
                    "x-requests-last": "0",
                }
            )
        return response

    def _out_of_credits(self) -> ApiResponse:
        return odds_error(
            401,
            "OUT_OF_USAGE_CREDITS",
            "Usage quota has been reached. See usage plans at https://the-odds-api.com",
        )

    # --- request checks ---------------------------------------------------------------------------

    def _authorize(self, request: ApiRequest) -> None:
        key = request.first("apiKey")
        if not key:
            raise _fail(401, "MISSING_KEY", "API key is missing. Add the apiKey query parameter.")
        if key != self.api_key:
            raise _fail(401, "INVALID_KEY", "API key is not valid. Check the key and try again.")
        sport = request.path_params.get("sport")
        if sport != SPORT_KEY:
            raise _fail(404, "UNKNOWN_SPORT", f"Unknown sport: {sport}")

    def _formats(self, request: ApiRequest) -> tuple[str, str]:
        odds_format = request.first("oddsFormat") or "decimal"
        if odds_format not in ("decimal", "american"):
            raise _fail(
                422,
                "INVALID_ODDS_FORMAT",
                f"Invalid oddsFormat: {odds_format}. Use decimal or american",
            )
        date_format = request.first("dateFormat") or "iso"
        if date_format not in ("iso", "unix"):
            raise _fail(
                422, "INVALID_DATE_FORMAT", f"Invalid dateFormat: {date_format}. Use iso or unix"
            )
        return odds_format, date_format

    def _time_param(self, request: ApiRequest, name: str, code: str) -> datetime | None:
        raw = request.first(name)
        if raw is None or raw == "":
            return None
        try:
            return parse_utc(raw)
        except ValueError as exc:
            raise _fail(
                422, code, f"Invalid {name}: {raw}. Expected ISO 8601, e.g. 2023-09-09T00:00:00Z"
            ) from exc

    def _books(self, request: ApiRequest) -> tuple[list[str], int]:
        """The bookmakers to show and how many regions that counts as for the cost."""
        listed = request.first("bookmakers")
        if listed:
            wanted = [b.strip() for b in listed.split(",") if b.strip()]
            books = [key for key, _ in self.index.bookmakers if key in wanted]
            return books, max(1, math.ceil(len(wanted) / 10))
        raw = request.first("regions")
        if not raw:
            raise _fail(422, "MISSING_REGION", "Missing regions. Specify regions or bookmakers.")
        regions = [r.strip() for r in raw.split(",") if r.strip()]
        bad = [r for r in regions if r not in REGIONS]
        if bad or not regions:
            raise _fail(422, "INVALID_REGION", f"Invalid regions: {','.join(bad) or raw}")
        regions = list(dict.fromkeys(regions))
        books = [key for key, _ in self.index.bookmakers] if SANDBOX_REGION in regions else []
        return books, len(regions)

    def _markets(self, request: ApiRequest, *, featured_only: bool) -> list[str]:
        raw = request.first("markets") or "h2h"
        markets = list(dict.fromkeys(m.strip() for m in raw.split(",") if m.strip())) or ["h2h"]
        if featured_only:
            bad = [m for m in markets if m not in FEATURED_MARKETS]
            if bad:
                raise _fail(
                    422,
                    "INVALID_MARKET",
                    f"Markets not supported by this endpoint: {','.join(bad)}",
                )
        else:
            bad = [m for m in markets if m not in KNOWN_MARKETS]
            if bad:
                raise _fail(422, "INVALID_MARKET", f"Invalid markets: {','.join(bad)}")
        return markets

    def _snapshot_time(self, request: ApiRequest) -> datetime:
        raw = request.first("date")
        if not raw:
            raise _fail(
                422,
                "MISSING_HISTORICAL_TIMESTAMP",
                "Missing date. Specify the snapshot time in ISO 8601, e.g. 2023-11-29T22:42:00Z",
            )
        try:
            wanted = parse_utc(raw)
        except ValueError as exc:
            raise _fail(
                422, "INVALID_HISTORICAL_TIMESTAMP", f"Invalid date: {raw}. Use ISO 8601"
            ) from exc
        # nothing after `now` exists yet: a later date gets the latest snapshot there is
        return floor_to(min(wanted, request.now), HISTORICAL_STEP)

    def _charge(self, cost: int) -> dict[str, str]:
        accepted, used, remaining = self.ledger.charge(cost)
        if not accepted:
            response = self._out_of_credits()
            response.headers.update(
                {
                    "x-requests-remaining": str(remaining),
                    "x-requests-used": str(used),
                    "x-requests-last": "0",
                }
            )
            raise ApiError(response)
        return {
            "x-requests-remaining": str(remaining),
            "x-requests-used": str(used),
            "x-requests-last": str(cost),
        }

    # --- selection --------------------------------------------------------------------------------

    def _listed(self, request: ApiRequest, at: datetime) -> list[GameRec]:
        """Games the books list at `at`, in commence order, after the common filters."""
        if request.empty_slate:
            return []
        start = self._time_param(request, "commenceTimeFrom", "INVALID_COMMENCE_TIME_FROM")
        end = self._time_param(request, "commenceTimeTo", "INVALID_COMMENCE_TIME_TO")
        ids_raw = request.first("eventIds")
        ids = {i.strip() for i in ids_raw.split(",")} if ids_raw else None
        # a game listed at `at` has not ended and opened at most `listing_lead` before tip-off
        candidates = self.index.games_between(
            (at - timedelta(days=1)).date(),
            (at + self.index.listing_lead + timedelta(days=1)).date(),
        )
        out = []
        for game in candidates:
            if not game.listed(at):
                continue
            if ids is not None and game.odds_event_id not in ids:
                continue
            commence = self.commence_time(game, at)
            if (start and commence < start) or (end and commence > end):
                continue
            out.append(game)
        out.sort(key=lambda g: (self.commence_time(g, at), g.odds_event_id))
        return out

    def _event_at(self, request: ApiRequest, at: datetime) -> GameRec:
        game = self.index.game_by_odds_id.get(request.path_params["event_id"])
        if game is None or request.empty_slate or not game.listed(at):
            raise _fail(
                404,
                "EVENT_NOT_FOUND",
                "Event not found. The event may have concluded or the id is invalid; "
                "use the historical endpoints for past events.",
            )
        return game

    # --- rendering ------------------------------------------------------------------------------

    def commence_time(self, game: GameRec, at: datetime) -> datetime:
        """The listed start: the scheduled tip-off, nudged by odd seconds in some snapshots; once
        the game is under way, the actual start to the second (it stays listed until final)."""
        started = game.tipoff_at + timedelta(
            seconds=1 + stable_int("tip", game.odds_event_id) % 179
        )
        if at >= started:
            return started
        ref = game.latest_snapshot_at(at)
        if ref is None:
            return game.tipoff_at
        bits = stable_int("commence", game.odds_event_id, iso_z(ref))
        if bits % 3:
            return game.tipoff_at
        return game.tipoff_at + timedelta(seconds=1 + (bits // 3) % 179)

    @staticmethod
    def _time(ts: datetime, date_format: str) -> str | int:
        return int(ts.timestamp()) if date_format == "unix" else iso_z(ts)

    @staticmethod
    def _price(value: float, odds_format: str) -> float | int:
        return american(value) if odds_format == "american" else round(value, 2)

    def render_event(self, game: GameRec, at: datetime, date_format: str) -> dict[str, Any]:
        home = self.index.teams[game.home]
        away = self.index.teams[game.away]
        return {
            "id": game.odds_event_id,
            "sport_key": SPORT_KEY,
            "sport_title": SPORT_TITLE,
            "commence_time": self._time(self.commence_time(game, at), date_format),
            "home_team": home["full_name"],
            "away_team": away["full_name"],
        }

    def render_odds(
        self,
        game: GameRec,
        at: datetime,
        books: list[str],
        markets: list[str],
        odds_format: str,
        date_format: str,
    ) -> dict[str, Any]:
        """One event with each book's latest lines at `at` for the markets asked."""
        event = self.render_event(game, at, date_format)
        wanted_books = set(books)
        by_book: dict[str, dict[str, tuple[datetime, list[dict[str, Any]]]]] = {}
        if any(m in FEATURED_MARKETS for m in markets):
            for line in self.index.game_lines_at(game.game_key, at):
                if line.bookmaker_key in wanted_books:
                    target = by_book.setdefault(line.bookmaker_key, {})
                    for market in markets:
                        if market in FEATURED_MARKETS:
                            outcomes = self._featured_outcomes(game, line, market, odds_format)
                            target[market] = (line.snapshot_at, outcomes)
        prop_markets = [m for m in markets if m in SIMULATED_PROPS]
        if prop_markets:
            grouped: dict[tuple[str, str], list[Any]] = {}
            for prop in self.index.props_at(game.game_key, at):
                if prop.bookmaker_key in wanted_books and prop.market in prop_markets:
                    grouped.setdefault((prop.bookmaker_key, prop.market), []).append(prop)
            for (book, market), props in grouped.items():
                outcomes = []
                props.sort(
                    key=lambda p: (self.index.players[p.player_key]["odds_name"], p.player_key)
                )
                for prop in props:
                    outcomes.extend(self._prop_outcomes(game, prop, odds_format))
                last = max(p.snapshot_at for p in props)
                by_book.setdefault(book, {})[market] = (last, outcomes)
        bookmakers = []
        for key, title in self.index.bookmakers:
            found = by_book.get(key)
            if not found:
                continue
            rendered_markets = [
                {
                    "key": market,
                    "last_update": self._time(found[market][0], date_format),
                    "outcomes": found[market][1],
                }
                for market in markets
                if market in found
            ]
            latest = max(found[m][0] for m in found)
            book: dict[str, Any] = {"key": key, "title": title}
            # the real feed sometimes omits the bookmaker-level stamp (markets keep theirs)
            if stable_int("book_last_update", game.odds_event_id, key, iso_z(latest)) % 5:
                book["last_update"] = self._time(latest, date_format)
            book["markets"] = rendered_markets
            bookmakers.append(book)
        event["bookmakers"] = bookmakers
        return event

    def _featured_outcomes(
        self, game: GameRec, line: Any, market: str, odds_format: str
    ) -> list[dict[str, Any]]:
        home = self.index.teams[game.home]["full_name"]
        away = self.index.teams[game.away]["full_name"]
        price = self._price
        if market == "h2h":
            return [
                {"name": home, "price": price(line.h2h_home_price, odds_format)},
                {"name": away, "price": price(line.h2h_away_price, odds_format)},
            ]
        if market == "spreads":
            return [
                {
                    "name": home,
                    "price": price(line.spread_home_price, odds_format),
                    "point": line.spread_home_point,
                },
                {
                    "name": away,
                    "price": price(line.spread_away_price, odds_format),
                    "point": -line.spread_home_point if line.spread_home_point else 0.0,
                },
            ]
        pair = [
            {
                "name": "Over",
                "price": price(line.total_over_price, odds_format),
                "point": line.total_point,
            },
            {
                "name": "Under",
                "price": price(line.total_under_price, odds_format),
                "point": line.total_point,
            },
        ]
        if stable_int("ou", game.odds_event_id, line.bookmaker_key, iso_z(line.snapshot_at)) % 2:
            pair.reverse()
        return pair

    def _prop_outcomes(self, game: GameRec, prop: Any, odds_format: str) -> list[dict[str, Any]]:
        name = self.index.players[prop.player_key]["odds_name"]
        pair = [
            {
                "name": "Over",
                "description": name,
                "price": self._price(prop.over_price, odds_format),
                "point": prop.point,
            },
            {
                "name": "Under",
                "description": name,
                "price": self._price(prop.under_price, odds_format),
                "point": prop.point,
            },
        ]
        order = stable_int(
            "ou", game.odds_event_id, prop.bookmaker_key, prop.market, prop.player_key,
            iso_z(prop.snapshot_at),
        )  # fmt: skip
        if order % 2:
            pair.reverse()
        return pair

    @staticmethod
    def _markets_returned(events: list[dict[str, Any]]) -> int:
        return len({m["key"] for e in events for b in e["bookmakers"] for m in b["markets"]})

    # --- endpoints --------------------------------------------------------------------------------

    def events(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        _, date_format = self._formats(request)
        at = request.now
        body = [self.render_event(g, at, date_format) for g in self._listed(request, at)]
        return ApiResponse(200, body, cost=0)

    def odds(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        odds_format, date_format = self._formats(request)
        markets = self._markets(request, featured_only=True)
        books, regions = self._books(request)
        at = request.now
        body = [
            self.render_odds(g, at, books, markets, odds_format, date_format)
            for g in self._listed(request, at)
        ]
        has_lines = any(e["bookmakers"] for e in body)
        return ApiResponse(200, body, cost=len(markets) * regions if has_lines else 0)

    def event_odds(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        odds_format, date_format = self._formats(request)
        markets = self._markets(request, featured_only=False)
        books, regions = self._books(request)
        at = request.now
        game = self._event_at(request, at)
        body = self.render_odds(game, at, books, markets, odds_format, date_format)
        return ApiResponse(200, body, cost=self._markets_returned([body]) * regions)

    def _wrap(self, at: datetime, request: ApiRequest, data: Any) -> dict[str, Any]:
        following = at + HISTORICAL_STEP
        return {
            "timestamp": iso_z(at),
            "previous_timestamp": iso_z(at - HISTORICAL_STEP),
            "next_timestamp": iso_z(following) if following <= request.now else None,
            "data": data,
        }

    def historical_events(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        _, date_format = self._formats(request)
        at = self._snapshot_time(request)
        data = [self.render_event(g, at, date_format) for g in self._listed(request, at)]
        return ApiResponse(200, self._wrap(at, request, data), cost=1 if data else 0)

    def historical_event_odds(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        odds_format, date_format = self._formats(request)
        markets = self._markets(request, featured_only=False)
        books, regions = self._books(request)
        at = self._snapshot_time(request)
        game = self._event_at(request, at)
        data = self.render_odds(game, at, books, markets, odds_format, date_format)
        cost = 10 * self._markets_returned([data]) * regions
        return ApiResponse(200, self._wrap(at, request, data), cost=cost)
