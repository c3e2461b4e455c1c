"""ESPN's public site API for the NBA, imitated: scoreboard and summary.

ESPN is unofficial and changes without notice; the sandbox reproduces the traps the platform must
survive: string ids and scores, minute-precision dates, the END year as season, box-score columns
whose order changed during the season (points last before December, second after), made-attempted
strings, signed plus-minus, did-not-play athletes with empty stats. Box scores appear only once a
game is final at `now`; before that the summary has no `players` block.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sandbox.apis.common import (
    EASTERN,
    ApiError,
    ApiModule,
    ApiRequest,
    ApiResponse,
    Route,
    eastern_date,
    iso_minute_z,
    stable_int,
)
from sandbox.apis.index import BoxRow, GameRec, LeagueIndex, progress

ESPN_JSON = "application/json;charset=UTF-8"
_BASE = "/apis/site/v2/sports/basketball/nba"
DEFAULT_RANGE_LIMIT = 100
LEAGUE_UID = "s:40~l:46"

_STAT_COLUMNS: dict[str, tuple[str, str]] = {
    # key -> (label, description)
    "minutes": ("MIN", "Minutes"),
    "points": ("PTS", "Points"),
    "fieldGoalsMade-fieldGoalsAttempted": ("FG", "Field Goals Made-Attempted"),
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted": (
        "3PT",
        "3-Point Field Goals Made-Attempted",
    ),
    "freeThrowsMade-freeThrowsAttempted": ("FT", "Free Throws Made-Attempted"),
    "rebounds": ("REB", "Rebounds"),
    "assists": ("AST", "Assists"),
    "turnovers": ("TO", "Turnovers"),
    "steals": ("STL", "Steals"),
    "blocks": ("BLK", "Blocks"),
    "offensiveRebounds": ("OREB", "Offensive Rebounds"),
    "defensiveRebounds": ("DREB", "Defensive Rebounds"),
    "fouls": ("PF", "Personal Fouls"),
    "plusMinus": ("+/-", "Plus/Minus"),
}
CURRENT_KEYS = (
    "minutes",
    "points",
    "fieldGoalsMade-fieldGoalsAttempted",
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted",
    "freeThrowsMade-freeThrowsAttempted",
    "rebounds",
    "assists",
    "turnovers",
    "steals",
    "blocks",
    "offensiveRebounds",
    "defensiveRebounds",
    "fouls",
    "plusMinus",
)
OLD_KEYS = (
    "minutes",
    "fieldGoalsMade-fieldGoalsAttempted",
    "threePointFieldGoalsMade-threePointFieldGoalsAttempted",
    "freeThrowsMade-freeThrowsAttempted",
    "offensiveRebounds",
    "defensiveRebounds",
    "rebounds",
    "assists",
    "steals",
    "blocks",
    "turnovers",
    "fouls",
    "plusMinus",
    "points",
)
_POSITIONS = {
    "G": ("Guard", "G"),
    "F": ("Forward", "F"),
    "C": ("Center", "C"),
}
_ORDINALS = {1: "st", 2: "nd", 3: "rd"}
_PERIOD_WORDS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


def espn_error(status: int, message: str) -> ApiResponse:
    return ApiResponse(status, {"code": status, "message": message}, content_type=ESPN_JSON)


def column_order(game_date: date, season: int) -> tuple[str, ...]:
    """ESPN moved points from last to second column; games before December keep the old order."""
    return OLD_KEYS if game_date < date(season, 12, 1) else CURRENT_KEYS


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{_ORDINALS.get(day % 10, 'th')}"


def _period_word(period: int) -> str:
    if period <= 4:
        return _PERIOD_WORDS[period]
    extra = period - 4
    return "OT" if extra == 1 else f"{extra}OT"


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


class EspnApi(ApiModule):
    """Routes and renderers for the scoreboard and summary endpoints."""

    name = "espn"

    def __init__(self, index: LeagueIndex) -> None:
        self.index = index
        self.routes = [
            Route("GET", rf"{_BASE}/scoreboard", "espn.scoreboard", self.scoreboard),
            Route("GET", rf"{_BASE}/summary", "espn.summary", self.summary),
        ]

    # --- framework hooks --------------------------------------------------------------------------

    def not_found(self, request: ApiRequest) -> ApiResponse:
        return espn_error(404, "Not Found")

    def rate_limited(self) -> ApiResponse:
        return espn_error(429, "Too Many Requests")

    def internal_error(self) -> ApiResponse:
        return espn_error(500, "Internal Server Error")

    # --- rendering: teams, status -----------------------------------------------------------------

    def render_team(self, team_key: str) -> dict[str, Any]:
        team = self.index.teams[team_key]
        colour = stable_int("colour", team_key)
        return {
            "id": team["espn_id"],
            "uid": f"{LEAGUE_UID}~t:{team['espn_id']}",
            "location": team["espn_location"],
            "name": team["espn_name"],
            "abbreviation": team["espn_abbreviation"],
            "displayName": team["espn_display_name"],
            "shortDisplayName": team["espn_name"],
            "color": f"{colour % 0xFFFFFF:06x}",
            "alternateColor": f"{(colour >> 24) % 0xFFFFFF:06x}",
            "isActive": True,
            "logo": (
                f"https://a.espncdn.com/i/teamlogos/nba/500/{team['espn_abbreviation'].lower()}.png"
            ),
        }

    def render_status(self, game: GameRec, now: datetime) -> dict[str, Any]:
        state = progress(game, now)
        if state.phase == "pre":
            local = game.tipoff_at.astimezone(EASTERN)
            clock_text = local.strftime("%I:%M %p").lstrip("0")
            zone = local.strftime("%Z")
            detail = f"{local.strftime('%a, %B')} {_ordinal(local.day)} at {clock_text} {zone}"
            short = f"{local.month}/{local.day} - {clock_text} {zone}"
            kind = {"id": "1", "name": "STATUS_SCHEDULED", "state": "pre", "completed": False,
                    "description": "Scheduled", "detail": detail, "shortDetail": short}  # fmt: skip
            return {"clock": 0.0, "displayClock": "0.0", "period": 0, "type": kind}
        if state.phase == "post":
            extra = game.periods - 4
            text = "Final" if extra <= 0 else ("Final/OT" if extra == 1 else f"Final/{extra}OT")
            kind = {"id": "3", "name": "STATUS_FINAL", "state": "post", "completed": True,
                    "description": "Final", "detail": text, "shortDetail": text}  # fmt: skip
            return {"clock": 0.0, "displayClock": "0.0", "period": game.periods, "type": kind}
        word = _period_word(state.period)
        quarter = "Quarter" if state.period <= 4 else ""
        detail = f"{state.clock} - {word} {quarter}".rstrip()
        kind = {"id": "2", "name": "STATUS_IN_PROGRESS", "state": "in", "completed": False,
                "description": "In Progress", "detail": detail,
                "shortDetail": f"{state.clock} - {word}"}  # fmt: skip
        return {
            "clock": round(state.clock_seconds, 1),
            "displayClock": state.clock,
            "period": state.period,
            "type": kind,
        }

    def _competitors(self, game: GameRec, now: datetime) -> list[dict[str, Any]]:
        state = progress(game, now)
        out = []
        for order, (side, team_key, score) in enumerate(
            (("home", game.home, state.home_score), ("away", game.away, state.away_score))
        ):
            team = self.index.teams[team_key]
            comp: dict[str, Any] = {
                "id": team["espn_id"],
                "uid": f"{LEAGUE_UID}~t:{team['espn_id']}",
                "type": "team",
                "order": order,
                "homeAway": side,
            }
            if state.phase == "post":
                other = state.away_score if side == "home" else state.home_score
                comp["winner"] = score > other
            comp["team"] = self.render_team(team_key)
            comp["score"] = str(score)
            out.append(comp)
        return out

    def _season(self) -> dict[str, Any]:
        return {"year": self.index.season + 1, "type": 2, "slug": "regular-season"}

    def render_event(self, game: GameRec, now: datetime) -> dict[str, Any]:
        home = self.index.teams[game.home]
        away = self.index.teams[game.away]
        status = self.render_status(game, now)
        when = iso_minute_z(game.tipoff_at)
        return {
            "id": game.espn_id,
            "uid": f"{LEAGUE_UID}~e:{game.espn_id}",
            "date": when,
            "name": f"{away['espn_display_name']} at {home['espn_display_name']}",
            "shortName": f"{away['espn_abbreviation']} @ {home['espn_abbreviation']}",
            "season": self._season(),
            "competitions": [
                {
                    "id": game.espn_id,
                    "uid": f"{LEAGUE_UID}~e:{game.espn_id}~c:{game.espn_id}",
                    "date": when,
                    "type": {"id": "1", "abbreviation": "STD"},
                    "timeValid": True,
                    "neutralSite": False,
                    "conferenceCompetition": False,
                    "playByPlayAvailable": status["type"]["state"] != "pre",
                    "recent": False,
                    "competitors": self._competitors(game, now),
                    "status": status,
                }
            ],
            "status": status,
        }

    # --- rendering: box score -------------------------------------------------------------------

    def _stat_values(self, row: BoxRow) -> dict[str, str]:
        return {
            "minutes": str(row.seconds_played // 60),
            "points": str(row.pts),
            "fieldGoalsMade-fieldGoalsAttempted": f"{row.fgm}-{row.fga}",
            "threePointFieldGoalsMade-threePointFieldGoalsAttempted": f"{row.fg3m}-{row.fg3a}",
            "freeThrowsMade-freeThrowsAttempted": f"{row.ftm}-{row.fta}",
            "rebounds": str(row.reb),
            "assists": str(row.ast),
            "turnovers": str(row.tov),
            "steals": str(row.stl),
            "blocks": str(row.blk),
            "offensiveRebounds": str(row.oreb),
            "defensiveRebounds": str(row.dreb),
            "fouls": str(row.pf),
            "plusMinus": _signed(row.plus_minus),
        }

    def _position(self, player: dict[str, Any]) -> dict[str, str]:
        raw = (player.get("position") or "").strip()
        letter = (
            raw[:1].upper()
            if raw[:1].upper() in _POSITIONS
            else "GFC"[stable_int("position", player["player_key"]) % 3]
        )
        name, abbreviation = _POSITIONS[letter]
        return {"name": name, "displayName": name, "abbreviation": abbreviation}

    def render_athlete(self, row: BoxRow, keys: tuple[str, ...]) -> dict[str, Any]:
        player = self.index.players[row.player_key]
        out: dict[str, Any] = {
            "active": False,
            "athlete": {
                "id": player["espn_id"],
                "uid": f"{LEAGUE_UID}~a:{player['espn_id']}",
                "displayName": player["espn_display_name"],
                "shortName": player["espn_short_name"],
                "jersey": player["jersey_number"],
                "position": self._position(player),
            },
            "starter": row.is_starter,
            "didNotPlay": row.did_not_play,
        }
        if row.did_not_play:
            # ESPN shouts its reasons: "COACH'S DECISION", "LEFT ANKLE SPRAIN"
            out["reason"] = (row.dnp_reason or "Coach's Decision").upper()
        out["ejected"] = False
        if row.did_not_play:
            out["stats"] = []
        else:
            values = self._stat_values(row)
            out["stats"] = [values[k] for k in keys]
        return out

    def _totals(self, rows: list[BoxRow], keys: tuple[str, ...]) -> list[str]:
        played = [r for r in rows if not r.did_not_play]

        def total(name: str) -> int:
            return sum(getattr(r, name) for r in played)

        values = {
            "minutes": str(sum(r.seconds_played for r in played) // 60),
            "points": str(total("pts")),
            "fieldGoalsMade-fieldGoalsAttempted": f"{total('fgm')}-{total('fga')}",
            "threePointFieldGoalsMade-threePointFieldGoalsAttempted": (
                f"{total('fg3m')}-{total('fg3a')}"
            ),
            "freeThrowsMade-freeThrowsAttempted": f"{total('ftm')}-{total('fta')}",
            "rebounds": str(total("reb")),
            "assists": str(total("ast")),
            "turnovers": str(total("tov")),
            "steals": str(total("stl")),
            "blocks": str(total("blk")),
            "offensiveRebounds": str(total("oreb")),
            "defensiveRebounds": str(total("dreb")),
            "fouls": str(total("pf")),
            "plusMinus": "",
        }
        return [values[k] for k in keys]

    def render_boxscore(self, game: GameRec, now: datetime) -> dict[str, Any]:
        final = game.phase(now) == "post"
        rows = self.index.box.get(game.game_key, []) if final else []
        keys = column_order(game.game_date, game.season)
        teams, players = [], []
        for order, (side, team_key) in enumerate((("away", game.away), ("home", game.home)), 1):
            team_rows = [r for r in rows if r.team_key == team_key]
            team_stats = []
            if final:
                totals = self._totals(team_rows, keys)
                team_stats = [
                    {"name": k, "displayValue": v, "label": _STAT_COLUMNS[k][0]}
                    for k, v in zip(keys, totals, strict=True)
                    if k not in ("minutes", "plusMinus")
                ]
            teams.append(
                {
                    "team": self.render_team(team_key),
                    "statistics": team_stats,
                    "displayOrder": order,
                    "homeAway": side,
                }
            )
            if final:
                labels = [_STAT_COLUMNS[k][0] for k in keys]
                players.append(
                    {
                        "team": self.render_team(team_key),
                        "displayOrder": order,
                        "statistics": [
                            {
                                "names": labels,
                                "keys": list(keys),
                                "labels": labels,
                                "descriptions": [_STAT_COLUMNS[k][1] for k in keys],
                                "athletes": [self.render_athlete(r, keys) for r in team_rows],
                                "totals": self._totals(team_rows, keys),
                            }
                        ],
                    }
                )
        box: dict[str, Any] = {"teams": teams}
        if final:
            box["players"] = players
        return box

    # --- endpoints --------------------------------------------------------------------------------

    def _dates(self, request: ApiRequest) -> tuple[date, date, bool]:
        raw = request.first("dates")
        if raw is None or raw == "":
            today = eastern_date(request.now)
            return today, today, False
        parts = raw.split("-")
        try:
            if len(parts) not in (1, 2) or any(len(p) != 8 or not p.isdigit() for p in parts):
                raise ValueError(raw)
            days = [datetime.strptime(p, "%Y%m%d").date() for p in parts]
        except ValueError as exc:
            raise ApiError(espn_error(400, f"Invalid dates parameter: {raw}")) from exc
        if days[-1] < days[0]:
            raise ApiError(espn_error(400, f"Invalid dates parameter: {raw}"))
        return days[0], days[-1], len(days) == 2

    def scoreboard(self, request: ApiRequest) -> ApiResponse:
        first, last, is_range = self._dates(request)
        limit = DEFAULT_RANGE_LIMIT
        raw_limit = request.first("limit")
        if raw_limit:
            try:
                limit = int(raw_limit)
            except ValueError as exc:
                raise ApiError(espn_error(400, f"Invalid limit parameter: {raw_limit}")) from exc
            if limit < 1:
                raise ApiError(espn_error(400, f"Invalid limit parameter: {raw_limit}"))
        games = [] if request.empty_slate else self.index.games_between(first, last)
        events = [self.render_event(g, request.now) for g in games[:limit]]
        body: dict[str, Any] = {
            "leagues": [
                {
                    "id": "46",
                    "uid": LEAGUE_UID,
                    "name": "National Basketball Association",
                    "abbreviation": "NBA",
                    "slug": "nba",
                    "season": {
                        "year": self.index.season + 1,
                        "displayName": f"{self.index.season}-{str(self.index.season + 1)[-2:]}",
                        "type": {"id": "2", "type": 2, "name": "Regular Season"},
                    },
                }
            ],
            "season": {"type": 2, "year": self.index.season + 1},
        }
        if not is_range:
            body["day"] = {"date": first.isoformat()}
        body["events"] = events
        return ApiResponse(200, body, content_type=ESPN_JSON)

    def summary(self, request: ApiRequest) -> ApiResponse:
        event_id = request.first("event")
        if not event_id:
            raise ApiError(espn_error(400, "Missing required parameter: event"))
        game = self.index.game_by_espn_id.get(event_id)
        if game is None or request.empty_slate:
            raise ApiError(espn_error(404, f"Failed to get event summary for event {event_id}"))
        now = request.now
        status = self.render_status(game, now)
        body = {
            "boxscore": self.render_boxscore(game, now),
            "format": {
                "regulation": {"periods": 4, "displayName": "Quarter", "clock": 720.0},
                "overtime": {"periods": 1, "displayName": "Overtime", "clock": 300.0},
            },
            "header": {
                "id": game.espn_id,
                "uid": f"{LEAGUE_UID}~e:{game.espn_id}",
                "season": {"year": self.index.season + 1, "type": 2},
                "timeValid": True,
                "competitions": [
                    {
                        "id": game.espn_id,
                        "uid": f"{LEAGUE_UID}~e:{game.espn_id}~c:{game.espn_id}",
                        "date": iso_minute_z(game.tipoff_at),
                        "neutralSite": False,
                        "conferenceCompetition": False,
                        "boxscoreAvailable": status["type"]["state"] == "post",
                        "competitors": self._competitors(game, now),
                        "status": status,
                    }
                ],
                "league": {"id": "46", "uid": LEAGUE_UID, "abbreviation": "NBA", "slug": "nba"},
            },
        }
        return ApiResponse(200, body, content_type=ESPN_JSON)
