"""Injury reports: the availability news the simulator releases, in ESPN's and balldontlie's shapes.

Each absence in the league is one news item with a release time (`League.injuries`); a report at
the sandbox's "now" lists the items released by then whose player is not back yet (cleared at the
tip-off of his first game back). Nothing released later shows, so the news a book moved on is
exactly what a user could have read.

Shapes:
- ESPN `GET /apis/site/v2/sports/basketball/nba/injuries`: `{"injuries": [{"id": team id,
  "displayName": team name, "injuries": [{"id", "longComment", "shortComment", "status", "date",
  "athlete": {...}, "type": {...}, "details": {...}}]}]}`. Confirmed in outline against the column
  lists of hoopR/wehoop's ESPN injuries parsers (status, date, type, side, returns, short and long
  comment); the exact keys of `type` and `details` and the athlete object's fields are unverified.
- balldontlie `GET /v1/player_injuries` (cursor-paginated `{"data": [{"player": {...},
  "return_date", "description", "status"}], "meta": {"per_page", "next_cursor"?}}`, filter
  `team_ids[]`, `player_ids[]`): unverified beyond that outline (a paid-tier endpoint).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from sandbox.apis.common import (
    EASTERN,
    ApiError,
    ApiModule,
    ApiRequest,
    ApiResponse,
    Route,
    iso_minute_z,
    stable_int,
)

ESPN_PATH = r"/apis/site/v2/sports/basketball/nba/injuries"
BDL_PATH = r"/(?:nba/)?v1/player_injuries"


def reported(league: Any, now: datetime) -> pd.DataFrame:
    """Injury-report items released by `now` whose player is not back yet, newest first."""
    news = league.injuries
    at = pd.Timestamp(now)
    live = news.loc[
        (news["released_at"] <= at) & (news["cleared_at"].isna() | (news["cleared_at"] > at))
    ]
    # One item per player: the latest (a new absence replaces an old one on the report).
    live = live.sort_values("released_at", kind="stable").drop_duplicates("player_key", keep="last")
    return live.iloc[::-1]


def _comment(row: Any, name: str) -> tuple[str, str]:
    if row.reason == "Rest":
        short = f"{name} will rest on the second night of a back-to-back."
    elif row.reason == "Not With Team":
        short = f"{name} has not yet joined his new team."
    elif row.season_ending:
        short = f"{name} ({row.reason}) is out for the season."
    elif row.status == "Out":
        short = (
            f"{name} ({row.reason}) is out and expected to miss about "
            f"{row.expected_games_missed} games."
        )
    else:
        short = f"{name} ({row.reason}) is day-to-day."
    return short, f"{short} The team announced the news on {row.released_at:%b %d}."


def _return_date(row: Any) -> str | None:
    # The team's estimate at release: the actual return (`cleared_at`) is the future.
    if pd.isna(row.expected_return_at):
        return None
    return row.expected_return_at.tz_convert(EASTERN).strftime("%Y-%m-%d")


class _WithInjuries(ApiModule):
    """One of the three APIs with its injuries route added; everything else is the base API's."""

    def __init__(self, base: ApiModule, route: Route) -> None:
        self.base = base
        self.name = base.name
        self.routes = [route, *base.routes]

    def not_found(self, request: ApiRequest) -> ApiResponse:
        return self.base.not_found(request)

    def rate_limited(self) -> ApiResponse:
        return self.base.rate_limited()

    def internal_error(self) -> ApiResponse:
        return self.base.internal_error()

    def fault_response(self, kind: str, params: dict[str, Any], request: ApiRequest) -> ApiResponse:
        return self.base.fault_response(kind, params, request)

    def finalize(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        return self.base.finalize(request, response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


def with_espn_injuries(espn: Any) -> ApiModule:
    """The ESPN API plus `/apis/site/v2/sports/basketball/nba/injuries`."""
    index = espn.index

    def handler(request: ApiRequest) -> ApiResponse:
        items = reported(index.league, request.now)
        teams = []
        for team_key, group in items.groupby("team_key", sort=True):
            team = index.teams[str(team_key)]
            rows = []
            for row in group.itertuples(index=False):
                player = index.players[int(row.player_key)]
                short, long = _comment(row, player["espn_display_name"])
                rows.append(
                    {
                        "id": str(stable_int("espn-injury", row.player_key, row.game_key) % 10**6),
                        "longComment": long,
                        "shortComment": short,
                        "status": row.status,
                        "date": iso_minute_z(row.released_at.to_pydatetime()),
                        "athlete": {
                            "id": str(player["espn_id"]),
                            "displayName": player["espn_display_name"],
                            "shortName": player["espn_short_name"],
                            "position": {"abbreviation": player["position"] or ""},
                        },
                        "type": {
                            "id": "1" if row.status == "Out" else "2",
                            "name": "INJURY_STATUS_" + row.status.upper().replace("-", ""),
                            "description": row.status.lower(),
                            "abbreviation": row.status[0],
                        },
                        "details": {
                            "type": row.reason.split(" ")[-1] if row.reason else "",
                            "detail": row.reason,
                            "returnDate": _return_date(row),
                        },
                    }
                )
            teams.append(
                {
                    "id": str(team["espn_id"]),
                    "displayName": team["espn_display_name"],
                    "injuries": rows,
                }
            )
        return ApiResponse(200, {"injuries": teams})

    return _WithInjuries(espn, Route("GET", ESPN_PATH, "espn.injuries", handler))


def with_bdl_injuries(bdl: Any) -> ApiModule:
    """The balldontlie API plus `/v1/player_injuries` (same key, same cursor pages)."""
    index = bdl.index

    def handler(request: ApiRequest) -> ApiResponse:
        bdl._authorize(request)
        per_page, cursor = bdl._paging(request)
        items = reported(index.league, request.now)
        teams = {int(t) for t in request.many("team_ids")}
        players = {int(p) for p in request.many("player_ids")}
        rows = []
        for row in items.itertuples(index=False):
            player = index.players[int(row.player_key)]
            team_id = int(index.teams[row.team_key]["bdl_id"])
            if (teams and team_id not in teams) or (players and player["bdl_id"] not in players):
                continue
            rendered = bdl.render_player(int(row.player_key), request.now)
            short, _ = _comment(row, f"{player['bdl_first_name']} {player['bdl_last_name']}")
            ret = _return_date(row)
            rows.append(
                {
                    "player": rendered,
                    "return_date": None if ret is None else pd.Timestamp(ret).strftime("%b %-d"),
                    "description": short,
                    "status": row.status,
                }
            )
        page = rows[cursor : cursor + per_page]
        more = cursor + per_page < len(rows)
        if cursor > len(rows):
            raise ApiError(ApiResponse(400, {"error": f"Invalid value for cursor: {cursor}"}))
        return ApiResponse(200, bdl._page(page, per_page, cursor + per_page if more else None))

    return _WithInjuries(bdl, Route("GET", BDL_PATH, "bdl.player_injuries", handler))
