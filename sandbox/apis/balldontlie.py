"""balldontlie NBA API v1, imitated: games, players, stats with cursor pagination.

Undocumented choices: `per_page` above 100 is capped at 100 (meta.per_page says so); unknown query
parameters, including array parameters sent without `[]`, are ignored as the real API ignores them;
stats exist only for games final at `now`.

`/players` is the all-time list, as the real one is: besides the league's players it carries a few
hundred invented retired players who keep the team id of their last team (a defunct franchise for
some: 45, the Baltimore Bullets, with a blank conference, city and division) and often an empty
position, so `team_ids[]` pages through far more than today's rosters. They have no box scores.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sandbox.apis.common import (
    ApiError,
    ApiModule,
    ApiRequest,
    ApiResponse,
    Route,
    eastern_date,
    iso_ms_z,
    iso_z,
    stable_int,
)
from sandbox.apis.index import BoxRow, GameRec, LeagueIndex, PeopleIndex, progress

# the all-time list's invented retired players are drawn with the league's people (history.py)
from sandbox.history import FORMER_KEY_BASE, retired_players

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
# the first days of the season still carry the old "MM:SS" minutes format
OLD_MINUTES_FORMAT_DAYS = 5
_PREFIX = r"(?:/nba)?/v1"
_PERIOD_NAMES = {1: "1st Qtr", 2: "2nd Qtr", 3: "3rd Qtr", 4: "4th Qtr"}


def bdl_error(status: int, message: str) -> ApiResponse:
    return ApiResponse(status, {"error": message})


def _bad(message: str) -> ApiError:
    return ApiError(bdl_error(400, message))


def _int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError as exc:
        raise _bad(f"Invalid value for {name}: {raw!r} is not an integer") from exc


def _day(raw: str, name: str) -> date:
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise _bad(f"Invalid value for {name}: {raw!r} is not a date (YYYY-MM-DD)") from exc


def _pct(made: int, attempted: int) -> float:
    return round(made / attempted, 3) if attempted else 0.0


class BalldontlieApi(ApiModule):
    """Routes and renderers for /v1/games, /v1/players, /v1/stats (also under /nba/v1)."""

    name = "bdl"

    def __init__(self, index: LeagueIndex | PeopleIndex, api_key: str) -> None:
        self.index = index
        self.api_key = api_key
        self.routes = [
            Route("GET", rf"{_PREFIX}/games", "bdl.games", self.games),
            Route("GET", rf"{_PREFIX}/games/(?P<id>[^/]+)", "bdl.games", self.game),
            Route("GET", rf"{_PREFIX}/players", "bdl.players", self.players),
            Route("GET", rf"{_PREFIX}/players/(?P<id>[^/]+)", "bdl.players", self.player),
            Route("GET", rf"{_PREFIX}/stats", "bdl.stats", self.stats),
        ]
        teams = {t["bdl_id"]: self.render_team(key) for key, t in index.teams.items()}
        # Former players (sandbox/history.py) already avoid the retired players' names: leaving
        # them out keeps the retired list exactly what the current season alone draws.
        names = {
            (p["bdl_first_name"], p["bdl_last_name"])
            for key, p in index.players.items()
            if key < FORMER_KEY_BASE
        }
        self.retired = {
            p["id"]: p
            for p in retired_players(index.seed, set(index.player_by_bdl_id), names, teams)
        }
        # the all-time list in id order: (balldontlie id, league player key or None if retired)
        self._everyone: list[tuple[int, int | None]] = sorted(
            [(p["bdl_id"], key) for key, p in index.players.items()]
            + [(i, None) for i in self.retired]
        )

    # --- framework hooks --------------------------------------------------------------------------

    def not_found(self, request: ApiRequest) -> ApiResponse:
        return bdl_error(404, "Not Found")

    def rate_limited(self) -> ApiResponse:
        return bdl_error(429, "Too many requests. Please slow down.")

    def internal_error(self) -> ApiResponse:
        return bdl_error(500, "Internal Server Error")

    # --- request checks ---------------------------------------------------------------------------

    def _authorize(self, request: ApiRequest) -> None:
        key = request.headers.get("authorization")
        if not key:
            raise ApiError(bdl_error(401, "Unauthorized. Missing API key in Authorization header."))
        if key != self.api_key:
            raise ApiError(bdl_error(401, "Unauthorized. Invalid API key."))

    def _paging(self, request: ApiRequest) -> tuple[int, int]:
        raw = request.first("per_page")
        per_page = DEFAULT_PER_PAGE if raw is None else _int(raw, "per_page")
        if per_page < 1:
            raise _bad(f"Invalid value for per_page: {per_page} (must be at least 1)")
        raw_cursor = request.first("cursor")
        cursor = 0 if raw_cursor in (None, "") else _int(raw_cursor, "cursor")
        if cursor < 0:
            raise _bad(f"Invalid value for cursor: {cursor}")
        return min(per_page, MAX_PER_PAGE), cursor

    @staticmethod
    def _page(rows: list[dict[str, Any]], per_page: int, last_id: int | None) -> dict[str, Any]:
        """The cursor page: `next_cursor` only when another page exists (absent on the last)."""
        meta: dict[str, Any] = {"per_page": per_page}
        if last_id is not None:
            meta["next_cursor"] = last_id
        return {"data": rows, "meta": meta}

    def _game_filter(self, request: ApiRequest) -> list[GameRec] | None:
        """Games matching the date/season/team/id filters (None = no game filter given)."""
        dates = [_day(v, "dates[]") for v in request.many("dates")]
        seasons = [_int(v, "seasons[]") for v in request.many("seasons")]
        team_ids = {_int(v, "team_ids[]") for v in request.many("team_ids")}
        game_ids = [_int(v, "game_ids[]") for v in request.many("game_ids")]
        start_raw, end_raw = request.first("start_date"), request.first("end_date")
        start = _day(start_raw, "start_date") if start_raw else None
        end = _day(end_raw, "end_date") if end_raw else None
        post_raw = request.first("postseason")
        if post_raw not in (None, "true", "false"):
            raise _bad(f"Invalid value for postseason: {post_raw!r} (true or false)")
        filtered = bool(dates or seasons or team_ids or game_ids or start or end or post_raw)
        if request.empty_slate:
            return []
        if not filtered:
            return None
        if game_ids:
            pool = [
                self.index.game_by_bdl_id[i] for i in game_ids if i in self.index.game_by_bdl_id
            ]
        elif dates:
            pool = [g for d in sorted(set(dates)) for g in self.index.games_on(d)]
        elif start or end:
            first = start or (self.index.dates[0] if self.index.dates else date.min)
            last = end or (self.index.dates[-1] if self.index.dates else date.max)
            pool = self.index.games_between(first, last)
        else:
            pool = list(self.index.games)
        out = []
        for game in pool:
            if dates and game.game_date not in dates:
                continue
            if start and game.game_date < start:
                continue
            if end and game.game_date > end:
                continue
            if seasons and game.season not in seasons:
                continue
            if team_ids and not (
                {self.index.teams[game.home]["bdl_id"], self.index.teams[game.away]["bdl_id"]}
                & team_ids
            ):
                continue
            if post_raw is not None and game.postseason != (post_raw == "true"):
                continue
            out.append(game)
        return out

    # --- rendering --------------------------------------------------------------------------------

    def render_team(self, team_key: str) -> dict[str, Any]:
        team = self.index.teams[team_key]
        return {
            "id": team["bdl_id"],
            "conference": team["conference"],
            "division": team["division"],
            "city": team["bdl_city"],
            "name": team["bdl_name"],
            "full_name": team["bdl_full_name"],
            "abbreviation": team["bdl_abbreviation"],
        }

    def _game_state(self, game: GameRec, now: Any) -> dict[str, Any]:
        state = progress(game, now)
        if state.phase == "post":
            status, time = "Final", "Final"
        elif state.phase == "pre":
            status, time = iso_z(game.tipoff_at), None
        else:
            ot = state.period - 4
            status = _PERIOD_NAMES.get(state.period) or ("OT" if ot == 1 else f"{ot}OT")
            time = state.clock
        return {
            "status": status,
            "period": state.period,
            "time": time,
            "postseason": game.postseason,
            "home_team_score": state.home_score,
            "visitor_team_score": state.away_score,
        }

    def render_game(self, game: GameRec, now: Any, *, nested_teams: bool) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": game.bdl_id,
            "date": game.game_date.isoformat(),
            "season": game.season,
            **self._game_state(game, now),
            "datetime": iso_ms_z(game.tipoff_at),
        }
        if nested_teams:
            row["home_team"] = self.render_team(game.home)
            row["visitor_team"] = self.render_team(game.away)
        else:
            row["home_team_id"] = self.index.teams[game.home]["bdl_id"]
            row["visitor_team_id"] = self.index.teams[game.away]["bdl_id"]
        return row

    def _player_fields(self, player_key: int) -> dict[str, Any]:
        p = self.index.players[player_key]
        return {
            "id": p["bdl_id"],
            "first_name": p["bdl_first_name"],
            "last_name": p["bdl_last_name"],
            "position": p["position"] if p["position"] is not None else "",
            "height": p["height"],
            "weight": p["weight"],
            "jersey_number": p["jersey_number"],
            "college": p["college"],
            "country": p["country"],
            "draft_year": p["draft_year"],
            "draft_round": p["draft_round"],
            "draft_number": p["draft_number"],
        }

    def render_player(self, player_key: int, now: Any) -> dict[str, Any]:
        row = self._player_fields(player_key)
        row["team"] = self.render_team(self.index.team_of(player_key, eastern_date(now)))
        return row

    def _minutes(self, row: BoxRow, game: GameRec) -> str | None:
        if row.did_not_play:
            return "" if stable_int("dnp_min", row.stat_id) % 4 == 0 else None
        seconds = row.seconds_played
        if (game.game_date - self.index.season_start).days < OLD_MINUTES_FORMAT_DAYS:
            return f"{seconds // 60}:{seconds % 60:02d}"
        return f"{seconds // 60:02d}"

    def render_stat(self, row: BoxRow, now: Any) -> dict[str, Any]:
        game = self.index.game_by_key[row.game_key]
        out: dict[str, Any] = {"id": row.stat_id, "min": self._minutes(row, game)}
        if row.did_not_play:
            for name in (
                "fgm", "fga", "fg_pct", "fg3m", "fg3a", "fg3_pct", "ftm", "fta", "ft_pct",
                "oreb", "dreb", "reb", "ast", "stl", "blk", "turnover", "pf", "pts",
            ):  # fmt: skip
                out[name] = None
        else:
            out.update(
                {
                    "fgm": row.fgm,
                    "fga": row.fga,
                    "fg_pct": _pct(row.fgm, row.fga),
                    "fg3m": row.fg3m,
                    "fg3a": row.fg3a,
                    "fg3_pct": _pct(row.fg3m, row.fg3a),
                    "ftm": row.ftm,
                    "fta": row.fta,
                    "ft_pct": _pct(row.ftm, row.fta),
                    "oreb": row.oreb,
                    "dreb": row.dreb,
                    "reb": row.reb,
                    "ast": row.ast,
                    "stl": row.stl,
                    "blk": row.blk,
                    "turnover": row.tov,
                    "pf": row.pf,
                    "pts": row.pts,
                }
            )
        player = self._player_fields(row.player_key)
        # the player's team *now*, not in that game: a real trap the row's `team` resolves
        current = self.index.team_of(row.player_key, eastern_date(now))
        player["team_id"] = self.index.teams[current]["bdl_id"]
        out["player"] = player
        out["team"] = self.render_team(row.team_key)
        out["game"] = self.render_game(game, now, nested_teams=False)
        return out

    # --- endpoints --------------------------------------------------------------------------------

    def games(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        per_page, cursor = self._paging(request)
        pool = self._game_filter(request)
        if pool is None:
            ordered = self.index.games_after_bdl_id(cursor)
        else:
            ordered = sorted((g for g in pool if g.bdl_id > cursor), key=lambda g: g.bdl_id)
        page = ordered[: per_page + 1]
        more = len(page) > per_page
        page = page[:per_page]
        rows = [self.render_game(g, request.now, nested_teams=True) for g in page]
        body = self._page(rows, per_page, page[-1].bdl_id if more else None)
        return ApiResponse(200, body)

    def game(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        game_id = _int(request.path_params["id"], "id")
        game = self.index.game_by_bdl_id.get(game_id)
        if game is None or request.empty_slate:
            raise ApiError(bdl_error(404, "Not Found"))
        return ApiResponse(200, {"data": self.render_game(game, request.now, nested_teams=True)})

    def players(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        per_page, cursor = self._paging(request)
        search = (request.first("search") or "").strip().lower()
        first_name = (request.first("first_name") or "").strip().lower()
        last_name = (request.first("last_name") or "").strip().lower()
        team_ids = {_int(v, "team_ids[]") for v in request.many("team_ids")}
        player_ids = {_int(v, "player_ids[]") for v in request.many("player_ids")}
        today = eastern_date(request.now)
        rows: list[tuple[int, int | None]] = []
        for bdl_id, key in self._everyone:
            if bdl_id <= cursor:
                continue
            if key is None:
                old = self.retired[bdl_id]
                first, last = old["first_name"].lower(), old["last_name"].lower()
            elif not self.index.debuted(key, today):
                continue  # nothing after "now": a future rookie is not listed yet
            else:
                p = self.index.players[key]
                first, last = p["bdl_first_name"].lower(), p["bdl_last_name"].lower()
            if (
                search
                and search not in first
                and search not in last
                and search != f"{first} {last}"
            ):
                continue
            if first_name and first_name not in first:
                continue
            if last_name and last_name not in last:
                continue
            if player_ids and bdl_id not in player_ids:
                continue
            if team_ids and self._team_id(bdl_id, key, today) not in team_ids:
                continue
            rows.append((bdl_id, key))
            if len(rows) > per_page:
                break
        more = len(rows) > per_page
        rows = rows[:per_page]
        data = [self._render_any(bdl_id, key, request.now) for bdl_id, key in rows]
        return ApiResponse(200, self._page(data, per_page, rows[-1][0] if more else None))

    def _team_id(self, bdl_id: int, key: int | None, today: date) -> int:
        """A player's team id: today's team, or a retired player's last one."""
        if key is None:
            return int(self.retired[bdl_id]["team"]["id"])
        return int(self.index.teams[self.index.team_of(key, today)]["bdl_id"])

    def _render_any(self, bdl_id: int, key: int | None, now: Any) -> dict[str, Any]:
        # a fresh top-level dict: record faults mutate the rows of a response in place
        return dict(self.retired[bdl_id]) if key is None else self.render_player(key, now)

    def player(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        player_id = _int(request.path_params["id"], "id")
        key = self.index.player_by_bdl_id.get(player_id)
        if key is None and player_id not in self.retired:
            raise ApiError(bdl_error(404, "Not Found"))
        if key is not None and not self.index.debuted(key, eastern_date(request.now)):
            raise ApiError(bdl_error(404, "Not Found"))
        return ApiResponse(200, {"data": self._render_any(player_id, key, request.now)})

    def stats(self, request: ApiRequest) -> ApiResponse:
        self._authorize(request)
        per_page, cursor = self._paging(request)
        pool = self._game_filter(request)
        player_ids = [_int(v, "player_ids[]") for v in request.many("player_ids")]
        now = request.now
        rows: list[BoxRow] = []
        if player_ids:
            allowed = None if pool is None else {g.game_key for g in pool}
            keys = [
                self.index.player_by_bdl_id[i]
                for i in player_ids
                if i in self.index.player_by_bdl_id
            ]
            candidates = sorted(
                (r for k in set(keys) for r in self.index.box_by_player.get(k, ())),
                key=lambda r: r.stat_id,
            )
            for row in candidates:
                if row.stat_id <= cursor:
                    continue
                if allowed is not None and row.game_key not in allowed:
                    continue
                if self.index.game_by_key[row.game_key].final_at > now:
                    continue
                rows.append(row)
                if len(rows) > per_page:
                    break
        else:
            games = self.index.games if pool is None else sorted(pool, key=self._stat_order)
            for game in games:
                if game.final_at > now:
                    continue
                box = self.index.box.get(game.game_key, [])
                if not box or box[-1].stat_id <= cursor:
                    continue
                rows.extend(r for r in box if r.stat_id > cursor)
                if len(rows) > per_page:
                    break
        more = len(rows) > per_page
        rows = rows[:per_page]
        data = [self.render_stat(r, now) for r in rows]
        return ApiResponse(200, self._page(data, per_page, rows[-1].stat_id if more else None))

    def _stat_order(self, game: GameRec) -> int:
        box = self.index.box.get(game.game_key)
        return box[0].stat_id if box else 0
