"""ESPN's public site API for the NBA, imitated: scoreboard and summary.

ESPN is unofficial and changes without notice; the sandbox reproduces the traps the platform must
survive: string ids and scores, minute-precision dates, the END year as season, box-score columns
whose order changed during the season (points last before December, second after), made-attempted
strings, signed plus-minus, did-not-play athletes with empty stats. Box scores appear only once a
game is final at `now`; before that the summary has no `players` block.

It also sends what real responses carry beyond the fields the platform reads (API_CONTRACTS.md,
"What real responses carry"): venue, attendance, broadcasts, links, per-period line scores,
leaders, records, headshot objects, `altDetail` on overtime finals. A scoreboard's leader has a
headshot URL string, a summary's athlete a headshot object; the scoreboard's team has `isActive`,
the summary's team a `slug` instead. Venue ids, guids and broadcasters are invented.
"""

from __future__ import annotations

import bisect
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
from sandbox.apis.index import (
    BoxRow,
    GameRec,
    LeagueIndex,
    Progress,
    period_end_at,
    progress,
)

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
# each franchise's home arena in 2025-26: (name, city, state or province)
_VENUES: dict[str, tuple[str, str, str]] = {
    "ATL": ("State Farm Arena", "Atlanta", "GA"),
    "BOS": ("TD Garden", "Boston", "MA"),
    "BKN": ("Barclays Center", "Brooklyn", "NY"),
    "CHA": ("Spectrum Center", "Charlotte", "NC"),
    "CHI": ("United Center", "Chicago", "IL"),
    "CLE": ("Rocket Arena", "Cleveland", "OH"),
    "DAL": ("American Airlines Center", "Dallas", "TX"),
    "DEN": ("Ball Arena", "Denver", "CO"),
    "DET": ("Little Caesars Arena", "Detroit", "MI"),
    "GSW": ("Chase Center", "San Francisco", "CA"),
    "HOU": ("Toyota Center", "Houston", "TX"),
    "IND": ("Gainbridge Fieldhouse", "Indianapolis", "IN"),
    "LAC": ("Intuit Dome", "Inglewood", "CA"),
    "LAL": ("Crypto.com Arena", "Los Angeles", "CA"),
    "MEM": ("FedExForum", "Memphis", "TN"),
    "MIA": ("Kaseya Center", "Miami", "FL"),
    "MIL": ("Fiserv Forum", "Milwaukee", "WI"),
    "MIN": ("Target Center", "Minneapolis", "MN"),
    "NOP": ("Smoothie King Center", "New Orleans", "LA"),
    "NYK": ("Madison Square Garden", "New York", "NY"),
    "OKC": ("Paycom Center", "Oklahoma City", "OK"),
    "ORL": ("Kia Center", "Orlando", "FL"),
    "PHI": ("Xfinity Mobile Arena", "Philadelphia", "PA"),
    "PHX": ("PHX Arena", "Phoenix", "AZ"),
    "POR": ("Moda Center", "Portland", "OR"),
    "SAC": ("Golden 1 Center", "Sacramento", "CA"),
    "SAS": ("Frost Bank Center", "San Antonio", "TX"),
    "TOR": ("Scotiabank Arena", "Toronto", "ON"),
    "UTA": ("Delta Center", "Salt Lake City", "UT"),
    "WAS": ("Capital One Arena", "Washington", "DC"),
}
# national TV: most games have none, and then `broadcast` is ""
_NATIONAL_TV = ("ESPN", "ABC", "NBC", "Peacock", "Prime Video", "NBA TV")
_NATIONAL_SHARE = 3  # one game in three is on national TV
_MARKET_IDS = {"national": ("1", "National"), "home": ("2", "Home"), "away": ("3", "Away")}
# (name, abbreviation, box-score attribute) of the scoreboard's leader categories
_LEADERS = (("points", "Pts", "pts"), ("rebounds", "Reb", "reb"), ("assists", "Ast", "ast"))
_WEB = "https://www.espn.com/nba"


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


def _slug(text: str) -> str:
    """`LA Clippers` -> `la-clippers`, ESPN's URL and team slug form."""
    return "-".join(text.lower().replace(".", "").replace("'", "").split())


def _guid(*parts: object) -> str:
    digits = f"{stable_int('guid', *parts):016x}{stable_int('guid~', *parts):016x}"
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def _link(rel: list[str], href: str, text: str) -> dict[str, Any]:
    return {"rel": rel, "href": href, "text": text, "isExternal": False, "isPremium": False}


def _pct(made: int, attempted: int) -> str:
    return f"{100 * made / attempted:.1f}" if attempted else "0.0"


class EspnApi(ApiModule):
    """Routes and renderers for the scoreboard and summary endpoints."""

    name = "espn"

    def __init__(self, index: LeagueIndex) -> None:
        self.index = index
        self.routes = [
            Route("GET", rf"{_BASE}/scoreboard", "espn.scoreboard", self.scoreboard),
            Route("GET", rf"{_BASE}/summary", "espn.summary", self.summary),
        ]
        # what never changes is rendered once and shared: record faults touch only the records
        # (competitors, athletes) built fresh for every response, never the objects nested in them
        self._venues = {
            key: {
                "id": str(1800 + 37 * order),
                "fullName": name,
                "address": {"city": city, "state": state},
                "capacity": 0,
                "indoor": True,
            }
            for order, (key, (name, city, state)) in enumerate(_VENUES.items())
        }
        self._board_teams = {key: self._scoreboard_team(key) for key in index.teams}
        self._summary_teams = {key: self._summary_team(key) for key in index.teams}
        self._athletes: dict[int, dict[str, Any]] = {}
        self._finals: dict[int, dict[str, Any]] = {}
        self._index_records()

    # --- framework hooks --------------------------------------------------------------------------

    def not_found(self, request: ApiRequest) -> ApiResponse:
        return espn_error(404, "Not Found")

    def rate_limited(self) -> ApiResponse:
        return espn_error(429, "Too Many Requests")

    def internal_error(self) -> ApiResponse:
        return espn_error(500, "Internal Server Error")

    # --- rendering: teams, status -----------------------------------------------------------------

    def render_team(self, team_key: str) -> dict[str, Any]:
        """The team object every ESPN endpoint shares; each endpoint adds its own fields."""
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
            "logo": (
                f"https://a.espncdn.com/i/teamlogos/nba/500/{team['espn_abbreviation'].lower()}.png"
            ),
        }

    def _scoreboard_team(self, team_key: str) -> dict[str, Any]:
        """The scoreboard's team: `isActive`, its home venue's id, clubhouse links."""
        out = self.render_team(team_key)
        abbreviation = out["abbreviation"].lower()
        slug = _slug(out["displayName"])
        logo = out.pop("logo")
        out["isActive"] = True
        out["venue"] = {"id": self._venues[team_key]["id"]}
        out["links"] = [
            _link(["clubhouse", "desktop", "team"], f"{_WEB}/team/_/name/{abbreviation}/{slug}",
                  "Clubhouse"),
            _link(["roster", "desktop", "team"],
                  f"{_WEB}/team/roster/_/name/{abbreviation}/{slug}", "Roster"),
            _link(["stats", "desktop", "team"], f"{_WEB}/team/stats/_/name/{abbreviation}/{slug}",
                  "Statistics"),
            _link(["schedule", "desktop", "team"], f"{_WEB}/team/schedule/_/name/{abbreviation}",
                  "Schedule"),
        ]  # fmt: skip
        out["logo"] = logo
        return out

    def _summary_team(self, team_key: str) -> dict[str, Any]:
        """The summary's team: a `slug`, and no `isActive` (only the scoreboard's has it)."""
        out = self.render_team(team_key)
        return {"id": out["id"], "uid": out["uid"], "slug": _slug(out["displayName"]), **out}

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
            if extra > 0:
                kind["altDetail"] = "OT" if extra == 1 else f"{extra}OT"
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

    def _competitors(self, game: GameRec, now: datetime, *, summary: bool = False) -> list[Any]:
        """Home then away; the scoreboard's carry statistics, leaders and records as well."""
        state = progress(game, now)
        final = self._final(game) if state.phase == "post" else None
        periods = final["periods"] if final else self._period_scores(game, state)
        teams = self._summary_teams if summary else self._board_teams
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
            comp["team"] = teams[team_key]
            comp["score"] = str(score)
            comp["linescores"] = [
                {"value": float(p[order]), "displayValue": str(p[order]), "period": period}
                for period, p in enumerate(periods, 1)
            ]
            if not summary:
                comp["statistics"] = final["statistics"][side] if final else []
                comp["leaders"] = final["leaders"][side] if final else []
                comp["records"] = self._records(team_key, now)
            out.append(comp)
        return out

    def _period_scores(self, game: GameRec, state: Progress) -> list[tuple[int, int]]:
        """(home, away) points of each period played so far: they sum to the score shown."""
        if state.phase == "pre":
            return []
        marks = [progress(game, period_end_at(game, p)) for p in range(1, state.period)]
        totals = [(m.home_score, m.away_score) for m in marks]
        totals.append((state.home_score, state.away_score))
        out, before = [], (0, 0)
        for home, away in totals:
            out.append((home - before[0], away - before[1]))
            before = (home, away)
        return out

    def _final(self, game: GameRec) -> dict[str, Any]:
        """What a final game's scoreboard entry adds, built once per game."""
        hit = self._finals.get(game.game_key)
        if hit is not None:
            return hit
        rows = [r for r in self.index.box.get(game.game_key, []) if not r.did_not_play]
        final = {
            "periods": self._period_scores(game, progress(game, game.final_at)),
            "statistics": {},
            "leaders": {},
        }
        for side, team_key in (("home", game.home), ("away", game.away)):
            mine = [r for r in rows if r.team_key == team_key]
            final["statistics"][side] = self._team_statistics(mine)
            final["leaders"][side] = self._leaders(mine, self.index.teams[team_key]["espn_id"])
        final["headlines"] = self._headlines(game, rows)
        self._finals[game.game_key] = final
        return final

    @staticmethod
    def _team_statistics(rows: list[BoxRow]) -> list[dict[str, Any]]:
        def total(name: str) -> int:
            return sum(getattr(r, name) for r in rows)

        fgm, fga = total("fgm"), total("fga")
        ftm, fta = total("ftm"), total("fta")
        fg3m, fg3a = total("fg3m"), total("fg3a")
        values = (
            ("rebounds", "REB", str(total("reb"))),
            ("assists", "AST", str(total("ast"))),
            ("fieldGoalsAttempted", "FGA", str(fga)),
            ("fieldGoalsMade", "FGM", str(fgm)),
            ("fieldGoalPct", "FG%", _pct(fgm, fga)),
            ("freeThrowPct", "FT%", _pct(ftm, fta)),
            ("freeThrowsAttempted", "FTA", str(fta)),
            ("freeThrowsMade", "FTM", str(ftm)),
            ("points", "PTS", str(total("pts"))),
            ("threePointPct", "3P%", _pct(fg3m, fg3a)),
            ("threePointFieldGoalsAttempted", "3PA", str(fg3a)),
            ("threePointFieldGoalsMade", "3PM", str(fg3m)),
        )
        return [{"name": n, "abbreviation": a, "displayValue": v} for n, a, v in values]

    def _leaders(self, rows: list[BoxRow], team_id: str) -> list[dict[str, Any]]:
        if not rows:
            return []
        out = []
        for name, abbreviation, attr in _LEADERS:
            best = max(rows, key=lambda r: (getattr(r, attr), -r.stat_id))
            value = getattr(best, attr)
            leader = {
                "displayValue": str(value),
                "value": float(value),
                "athlete": self._leader_athlete(best.player_key, team_id),
                "team": {"id": team_id},
            }
            out.append(
                {
                    "name": name,
                    "displayName": name.title(),
                    "shortDisplayName": abbreviation,
                    "abbreviation": abbreviation,
                    "leaders": [leader],
                }
            )
        return out

    def _leader_athlete(self, player_key: int, team_id: str) -> dict[str, Any]:
        """A scoreboard leader: here `headshot` is a URL string, not the summary's object."""
        player = self.index.players[player_key]
        espn_id = player["espn_id"]
        name = player["espn_display_name"]
        return {
            "id": espn_id,
            "fullName": name,
            "displayName": name,
            "shortName": player["espn_short_name"],
            "links": [
                {
                    "rel": ["playercard", "desktop", "athlete"],
                    "href": f"{_WEB}/player/_/id/{espn_id}/{_slug(name)}",
                }
            ],
            "headshot": f"https://a.espncdn.com/i/headshots/nba/players/full/{espn_id}.png",
            "jersey": player["jersey_number"],
            "position": {"abbreviation": self._position(player)["abbreviation"]},
            "team": {"id": team_id},
            "active": True,
        }

    def _headlines(self, game: GameRec, rows: list[BoxRow]) -> list[dict[str, Any]]:
        if not rows:
            return []
        top = max(rows, key=lambda r: (r.pts, -r.stat_id))
        name = self.index.players[top.player_key]["espn_display_name"]
        home_won = game.home_score > game.away_score
        winner = self.index.teams[game.home if home_won else game.away]["espn_display_name"]
        loser = self.index.teams[game.away if home_won else game.home]["espn_display_name"]
        high, low = max(game.home_score, game.away_score), min(game.home_score, game.away_score)
        return [
            {
                "description": f"— {name} scored {top.pts} points as the {winner} beat the "
                f"{loser} {high}-{low}.",
                "type": "Recap",
                "shortLinkText": f"{name} scores {top.pts} as {winner} beat {loser} {high}-{low}",
            }
        ]

    def _index_records(self) -> None:
        """Each team's regular-season results in the order they became final, counted up."""
        results: dict[str, list[tuple[datetime, bool, bool]]] = {k: [] for k in self.index.teams}
        for game in self.index.games:
            if game.postseason:
                continue
            home_won = game.home_score > game.away_score
            results[game.home].append((game.final_at, True, home_won))
            results[game.away].append((game.final_at, False, not home_won))
        self._record_times: dict[str, list[datetime]] = {}
        self._record_counts: dict[str, list[tuple[int, int, int, int]]] = {}
        for team_key, rows in results.items():
            rows.sort(key=lambda r: r[0])
            counts = [(0, 0, 0, 0)]  # home wins, home losses, road wins, road losses
            for _, home, won in rows:
                hw, hl, rw, rl = counts[-1]
                if home:
                    counts.append((hw + won, hl + (not won), rw, rl))
                else:
                    counts.append((hw, hl, rw + won, rl + (not won)))
            self._record_times[team_key] = [r[0] for r in rows]
            self._record_counts[team_key] = counts

    def _records(self, team_key: str, now: datetime) -> list[dict[str, Any]]:
        """The team's record at `now`: games final by then, this one included once it is."""
        done = bisect.bisect_right(self._record_times[team_key], now)
        hw, hl, rw, rl = self._record_counts[team_key][done]
        return [
            {"name": "overall", "abbreviation": "Game", "type": "total",
             "summary": f"{hw + rw}-{hl + rl}"},
            {"name": "Home", "type": "home", "summary": f"{hw}-{hl}"},
            {"name": "Road", "type": "road", "summary": f"{rw}-{rl}"},
        ]  # fmt: skip

    def _broadcasts(self, game: GameRec) -> tuple[str, list[Any], list[Any]]:
        """(`broadcast`, `broadcasts`, `geoBroadcasts`): national TV, or each side's local TV."""
        pick = stable_int("tv", game.espn_id)
        if pick % _NATIONAL_SHARE == 0:
            national = _NATIONAL_TV[(pick // _NATIONAL_SHARE) % len(_NATIONAL_TV)]
            markets = [("national", national)]
        else:
            national = ""
            markets = [
                (side, f"{self.index.teams[key]['espn_location']} Sports Net")
                for side, key in (("home", game.home), ("away", game.away))
            ]
        broadcasts = [{"market": market, "names": [name]} for market, name in markets]
        geo = [
            {
                "type": {"id": "1", "shortName": "TV"},
                "market": {"id": _MARKET_IDS[market][0], "type": _MARKET_IDS[market][1]},
                "media": {"shortName": name},
                "lang": "en",
                "region": "us",
            }
            for market, name in markets
        ]
        return national, broadcasts, geo

    def _event_links(self, game: GameRec, final: bool) -> list[dict[str, Any]]:
        slug = f"{_slug(self.index.teams[game.away]['espn_name'])}-"
        slug += _slug(self.index.teams[game.home]["espn_name"])
        gid = game.espn_id
        pages = [
            (["summary", "desktop", "event"], f"{_WEB}/game/_/gameId/{gid}/{slug}", "Gamecast"),
            (["boxscore", "desktop", "event"], f"{_WEB}/boxscore/_/gameId/{gid}", "Box Score"),
            (["highlights", "desktop"], f"{_WEB}/video?gameId={gid}", "Highlights"),
            (["pbp", "desktop", "event"], f"{_WEB}/playbyplay/_/gameId/{gid}", "Play-by-Play"),
        ]
        if final:
            pages.append((["recap", "desktop", "event"], f"{_WEB}/recap?gameId={gid}", "Recap"))
        return [
            {"language": "en-US", **_link(rel, href, text), "shortText": text}
            for rel, href, text in pages
        ]

    def _attendance(self, game: GameRec, state: Progress) -> int:
        # 0 until the doors' count is in, like the real feed before tip-off
        return 0 if state.phase == "pre" else 15_000 + stable_int("crowd", game.espn_id) % 6_000

    def _season(self) -> dict[str, Any]:
        return {"year": self.index.season + 1, "type": 2, "slug": "regular-season"}

    def render_event(self, game: GameRec, now: datetime) -> dict[str, Any]:
        home = self.index.teams[game.home]
        away = self.index.teams[game.away]
        status = self.render_status(game, now)
        state = progress(game, now)
        final = state.phase == "post"
        when = iso_minute_z(game.tipoff_at)
        broadcast, broadcasts, geo = self._broadcasts(game)
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
                    "attendance": self._attendance(game, state),
                    "type": {"id": "1", "abbreviation": "STD"},
                    "timeValid": True,
                    "neutralSite": False,
                    "conferenceCompetition": False,
                    "playByPlayAvailable": status["type"]["state"] != "pre",
                    "recent": False,
                    "venue": self._venues[game.home],
                    "competitors": self._competitors(game, now),
                    "notes": [],
                    "status": status,
                    "broadcasts": broadcasts,
                    "format": {"regulation": {"periods": 4}},
                    "startDate": when,
                    "broadcast": broadcast,
                    "geoBroadcasts": geo,
                    "headlines": self._final(game)["headlines"] if final else [],
                    "highlights": [],
                }
            ],
            "links": self._event_links(game, final),
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

    def _athlete(self, player_key: int) -> dict[str, Any]:
        """The summary's athlete: guid, links and a headshot object; built once per player."""
        hit = self._athletes.get(player_key)
        if hit is not None:
            return hit
        player = self.index.players[player_key]
        espn_id = player["espn_id"]
        name = player["espn_display_name"]
        slug = _slug(name)
        athlete = {
            "id": espn_id,
            "uid": f"{LEAGUE_UID}~a:{espn_id}",
            "guid": _guid("athlete", espn_id),
            "displayName": name,
            "shortName": player["espn_short_name"],
            "links": [
                _link(
                    ["playercard", "desktop", "athlete"],
                    f"{_WEB}/player/_/id/{espn_id}/{slug}",
                    "Player Card",
                ),
                _link(
                    ["stats", "desktop", "athlete"],
                    f"{_WEB}/player/stats/_/id/{espn_id}/{slug}",
                    "Stats",
                ),
                _link(
                    ["gamelog", "desktop", "athlete"],
                    f"{_WEB}/player/gamelog/_/id/{espn_id}/{slug}",
                    "Game Log",
                ),
            ],
            "headshot": {
                "href": f"https://a.espncdn.com/i/headshots/nba/players/full/{espn_id}.png",
                "alt": name,
            },
            "jersey": player["jersey_number"],
            "position": self._position(player),
        }
        self._athletes[player_key] = athlete
        return athlete

    def render_athlete(
        self, row: BoxRow, keys: tuple[str, ...], on_floor: bool = False
    ) -> dict[str, Any]:
        """One athlete's line. `active` marks the five on the floor at the end; `reason` can
        come with a player who played ("COACH'S DECISION"): only `didNotPlay` says he did not."""
        out: dict[str, Any] = {
            "active": on_floor,
            "athlete": self._athlete(row.player_key),
            "starter": row.is_starter,
            "didNotPlay": row.did_not_play,
        }
        if row.did_not_play:
            # ESPN shouts its reasons: "COACH'S DECISION", "LEFT ANKLE SPRAIN"
            out["reason"] = (row.dnp_reason or "Coach's Decision").upper()
        elif not row.is_starter and stable_int("reason", row.stat_id) % 6 == 0:
            out["reason"] = "COACH'S DECISION"
        out["ejected"] = False
        if row.did_not_play:
            out["stats"] = []
        else:
            values = self._stat_values(row)
            out["stats"] = [values[k] for k in keys]
        return out

    @staticmethod
    def _on_floor(rows: list[BoxRow]) -> set[int]:
        """The five who finished the game: a stable pick among those who played."""
        played = [r for r in rows if not r.did_not_play]
        played.sort(key=lambda r: stable_int("on_floor", r.stat_id))
        return {r.stat_id for r in played[:5]}

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
                    "team": self._summary_teams[team_key],
                    "statistics": team_stats,
                    "displayOrder": order,
                    "homeAway": side,
                }
            )
            if final:
                labels = [_STAT_COLUMNS[k][0] for k in keys]
                on_floor = self._on_floor(team_rows)
                players.append(
                    {
                        "team": self._summary_teams[team_key],
                        "displayOrder": order,
                        "statistics": [
                            {
                                "names": labels,
                                "keys": list(keys),
                                "labels": labels,
                                "descriptions": [_STAT_COLUMNS[k][1] for k in keys],
                                "athletes": [
                                    self.render_athlete(r, keys, r.stat_id in on_floor)
                                    for r in team_rows
                                ],
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
                        "competitors": self._competitors(game, now, summary=True),
                        "status": status,
                    }
                ],
                "league": {"id": "46", "uid": LEAGUE_UID, "abbreviation": "NBA", "slug": "nba"},
            },
        }
        return ApiResponse(200, body, content_type=ESPN_JSON)
