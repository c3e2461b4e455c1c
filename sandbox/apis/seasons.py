"""Which served season answers a request, for a server of several seasons (issue 13).

The sandbox serves 2023-24 to 2025-26 at once, each season a League of its own (~100 MB of frames)
behind its own, unchanged, single-season API modules. A request goes to the season its dates or
ids belong to, and a season is loaded on first use only, so a daily job asking about 2025-26
never loads the others. Seasons are told apart without loading them: by date (a season runs from
July to the June after; its games lie within `season_window`), by balldontlie game id and ESPN
event id (each season has its own id range, `league.game_id_floors`). The Odds API's event ids
are random, but its historical calls carry a `date` and its live calls mean "now".

A balldontlie list asked across seasons (a date range over a summer, several `seasons[]`, no
date at all) is read season after season: ids grow with time, so one cursor runs through them.
A date in no served season is a day without games: the current season's module answers it as it
answers any empty day, never with an error.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

from sandbox.apis.common import ApiModule, ApiRequest, ApiResponse, eastern_date, parse_utc
from sandbox.league import game_id_floors

GAME_ID_SPAN = 6_000  # each season's balldontlie and ESPN game ids lie in a range this wide


def season_of(day: date) -> int:
    """The season (start year) a date falls in: July to June."""
    return day.year if day.month >= 7 else day.year - 1


class SeasonRouter:
    """The served seasons' API modules, built lazily, and the choice of season per request."""

    def __init__(
        self, seasons: tuple[int, ...], current: int, build: Callable[[int], dict[str, ApiModule]]
    ) -> None:
        self.seasons = tuple(sorted(seasons))
        self.current = current
        self._build = build
        self._apis: dict[int, dict[str, ApiModule]] = {}
        self._lock = threading.Lock()

    def apis(self, season: int) -> dict[str, ApiModule]:
        """One season's modules, loading the season on first use (once, whatever the threads)."""
        hit = self._apis.get(season)
        if hit is not None:
            return hit
        with self._lock:
            if season not in self._apis:
                self._apis[season] = self._build(season)
            return self._apis[season]

    @property
    def loaded(self) -> list[int]:
        return sorted(self._apis)

    # --- choosing seasons -------------------------------------------------------------------------

    def _served(self, season: int | None) -> list[int]:
        return [season] if season in self.seasons else []

    def by_date(self, day: date) -> list[int]:
        return self._served(season_of(day))

    def between(self, first: date | None, last: date | None) -> list[int]:
        lo = season_of(first) if first else self.seasons[0]
        hi = season_of(last) if last else self.seasons[-1]
        return [s for s in self.seasons if lo <= s <= hi]

    def by_game_id(self, value: str, espn: bool) -> list[int]:
        try:
            number = int(value)
        except ValueError:
            return [self.current]  # the module answers as it answers any malformed id
        for season in self.seasons:
            floor = game_id_floors(season)[1 if espn else 0]
            if floor <= number < floor + GAME_ID_SPAN:
                return [season]
        return [self.current]  # unknown: the module's own 404

    def seasons_for(self, endpoint: str, request: ApiRequest) -> list[int]:
        """The seasons that can hold the answer (empty: none served; a day without games)."""
        now_season = self.by_date(eastern_date(request.now))
        try:
            if endpoint.startswith("odds.historical"):
                raw = request.first("date")
                return self.by_date(eastern_date(parse_utc(raw))) if raw else [self.current]
            if endpoint == "espn.scoreboard":
                return self._scoreboard(request.first("dates"), now_season)
            if endpoint == "espn.summary":
                return self.by_game_id(request.first("event") or "", espn=True)
            if endpoint in ("bdl.games", "bdl.stats"):
                if "id" in request.path_params:
                    return self.by_game_id(request.path_params["id"], espn=False)
                return self._bdl_lists(request)
        except ValueError:
            return [self.current]  # malformed: the module's own 400/422 says so
        return now_season  # live odds, injuries: "now"

    def _scoreboard(self, raw: str | None, now_season: list[int]) -> list[int]:
        if not raw:
            return now_season
        first, _, last = raw.partition("-")
        start = date(int(first[:4]), int(first[4:6]), int(first[6:8]))
        end = date(int(last[:4]), int(last[4:6]), int(last[6:8])) if last else start
        return self.between(start, end)

    def _bdl_lists(self, request: ApiRequest) -> list[int]:
        candidates = set(self.seasons)
        dates = [date.fromisoformat(v) for v in request.many("dates")]
        if dates:
            candidates &= {season_of(d) for d in dates}
        seasons = {int(v) for v in request.many("seasons")}
        if seasons:
            candidates &= seasons
        game_ids = request.many("game_ids")
        if game_ids:
            candidates &= {s for i in game_ids for s in self.by_game_id(i, espn=False)}
        start, end = request.first("start_date"), request.first("end_date")
        if start or end:
            first = date.fromisoformat(start) if start else None
            last = date.fromisoformat(end) if end else None
            candidates &= set(self.between(first, last))
        return sorted(candidates)

    # --- answering --------------------------------------------------------------------------------

    def answer(self, name: str, endpoint: str, request: ApiRequest) -> ApiResponse:
        """The answer of the season(s) the request belongs to."""
        seasons = self.seasons_for(endpoint, request)
        if not seasons:
            empty = dataclasses.replace(request, empty_slate=True)
            return self._handler(self.current, name, request)(empty)
        if len(seasons) == 1:
            return self._handler(seasons[0], name, request)(request)
        if endpoint == "espn.scoreboard":
            return self._scoreboards(seasons, name, request)
        return self._bdl_pages(seasons, name, endpoint, request)

    def _handler(self, season: int, name: str, request: ApiRequest) -> Callable[..., Any]:
        module = self.apis(season)[name]
        matched = module.match(request.method, request.path)
        if matched is None:  # pragma: no cover - every season's modules have the same routes
            raise LookupError(f"sandbox: no {name} route for {request.path}")
        return matched[0].handler

    def _scoreboards(self, seasons: list[int], name: str, request: ApiRequest) -> ApiResponse:
        """A scoreboard range over a summer: each season's events, in date order."""
        first = self._handler(seasons[0], name, request)(request)
        for season in seasons[1:]:
            more = self._handler(season, name, request)(request)
            first.body["events"].extend(more.body["events"])
        return first

    def _bdl_pages(
        self, seasons: list[int], name: str, endpoint: str, request: ApiRequest
    ) -> ApiResponse:
        """One cursor page read season after season (ids ascend across seasons). For games, only
        the seasons the page needs are loaded: those whose id range lies wholly at or below the
        cursor are passed by, and a full page ends at the next season's range without loading it
        (every served season has games for any games filter). Stats ask the next season for one
        row first: a player's stats may stop with a season."""
        games = endpoint == "bdl.games"
        module = self.apis(seasons[0])[name]
        per_page, cursor = module._paging(request)  # the same paging rules, one place
        if games and cursor:
            passed = [s for s in seasons if cursor >= game_id_floors(s)[0] + GAME_ID_SPAN - 1]
            seasons = [s for s in seasons if s not in passed] or seasons[-1:]
        rows: list[Any] = []
        next_cursor = None
        for i, season in enumerate(seasons):
            ask = _paged(request, per_page - len(rows), cursor)
            body = self._handler(season, name, request)(ask).body
            rows.extend(body["data"])
            if "next_cursor" in body["meta"]:
                next_cursor = body["meta"]["next_cursor"]
                break
            if len(rows) == per_page:
                last = _row_id(rows[-1])
                for later in seasons[i + 1 :]:
                    if games:
                        next_cursor = last
                        break
                    peek = self._handler(later, name, request)(_paged(request, 1, last)).body
                    if peek["data"]:
                        next_cursor = last
                        break
                break
        meta: dict[str, Any] = {"per_page": per_page}
        if next_cursor is not None:
            meta["next_cursor"] = next_cursor
        return ApiResponse(200, {"data": rows, "meta": meta})


def _paged(request: ApiRequest, per_page: int, cursor: int) -> ApiRequest:
    query = {**request.query, "per_page": [str(per_page)], "cursor": [str(cursor)]}
    return dataclasses.replace(request, query=query)


def _row_id(row: dict[str, Any]) -> int:
    return int(row["id"])
