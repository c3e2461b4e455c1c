"""ESPN's public site API: scoreboards of D-1 and D, box scores of D-1's finished games.

Not `rest_api`: the summary calls depend on the scoreboard conditionally (only games whose status
is final have a box score) and one summary explodes into one row per athlete, so the resources are
written by hand on the same `RESTClient` and session.

Tables, all merged on ESPN's ids (a game goes from scheduled to final, a box score can be
corrected):
- `events`: one row per scoreboard event, its single competition flattened under `competition__*`;
- `competitors`: one row per team per event (`homeAway`, `score` as ESPN sends it, a string);
- `player_box_scores`: one row per athlete per event. Stats are mapped by the block's `keys` (ESPN
  reordered the columns mid-season: never map by position) into `stats__<key>` columns, values kept
  as ESPN's strings ("5-11", "+7"); a did-not-play athlete (`stats: []`) gets nulls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

from extract.contracts import (
    Check,
    KnownTeam,
    OneOf,
    PersonName,
    Range,
    TableDef,
    as_number,
    column_name,
    flatten,
    parse_timestamp,
    season_problem,
)
from extract.errors import ExtractError
from extract.http import classify_by_suffix
from extract.runtime import RunContext
from extract.window import Window

SOURCE = "espn"
# a range scoreboard is asked for with a limit; a day holds at most 15 games
RANGE_LIMIT_PER_DAY = 20
EASTERN = ZoneInfo("America/New_York")
BASE_PATH = "/apis/site/v2/sports/basketball/nba"
ENDPOINTS = ((r"/scoreboard$", "espn.scoreboard"), (r"/summary$", "espn.summary"))
STAT_KEYS = (
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
PAIR_KEYS = tuple(k for k in STAT_KEYS if "-" in k)
_INTEGER = re.compile(r"[+-]?[0-9]{1,4}")


def stat_column(key: str) -> str:
    return column_name("stats", key)


def _pairs_ok(record: dict[str, Any]) -> str:
    for key in PAIR_KEYS:
        value = record.get(stat_column(key))
        if value in (None, ""):
            continue
        made, sep, attempted = str(value).partition("-")
        if not sep or not made.isdigit() or not attempted.isdigit():
            return f"`{stat_column(key)}`={value!r} is not made-attempted"
        if int(made) > int(attempted):
            return f"`{stat_column(key)}`={value!r}: made is more than attempted"
    return ""


def _int_text(column: str, lo: int, hi: int) -> Check:
    """ESPN numbers arrive as text: they must parse as integers within a range."""

    def test(record: dict[str, Any]) -> str:
        value = record.get(column)
        if value in (None, ""):
            return ""
        if not _INTEGER.fullmatch(str(value)):  # "1e1", "7.0" or " 7" are not how ESPN writes
            return f"`{column}`={value!r} is not an integer"
        number = as_number(value)
        if not lo <= number <= hi:
            return f"`{column}`={value!r} is not an integer in [{lo}, {hi}]"
        return ""

    return Check(column, test)


# --- findings across records (issue 14): an empty block where data is expected is not a zero
NO_BOX_SCORE = "a final game has a box score"
NO_SCORE = "a final game is not scored 0-0"


def _played_without_stats(record: dict[str, Any]) -> str:
    """`stats: []` means did-not-play only with `didNotPlay: true`; otherwise a line was lost
    (it would load as all-null stats, read downstream as a player who did nothing)."""
    if record.get("did_not_play") is True:
        return ""
    if any(record.get(stat_column(k)) not in (None, "") for k in STAT_KEYS):
        return ""
    who = "a starter" if record.get("starter") else "an athlete"
    return f"{who} with no stats but `did_not_play`={record.get('did_not_play')!r}"


def _event_season(record: dict[str, Any]) -> str:
    """ESPN's `season.year` is the season's end year."""
    try:
        year = int(record.get("season__year")) - 1  # type: ignore[arg-type]
        day = parse_timestamp(record.get("date")).astimezone(EASTERN).date()
    except (TypeError, ValueError):
        return ""  # unreadable: the columns' own rules report it
    return season_problem(day, year, "season.year")


def final_score_problem(event: dict[str, Any]) -> str:
    """A final game whose competitors are all scored 0 (a score lost, not a game played)."""
    if ((event.get("status") or {}).get("type") or {}).get("state") != "post":
        return ""
    competitions = event.get("competitions") or [{}]
    scores = [str(c.get("score") or "0").strip() for c in competitions[0].get("competitors") or []]
    if scores and all(score in ("0", "") for score in scores):
        return f"{NO_SCORE}: event {event.get('id')} is final and scored {'-'.join(scores)}"
    return ""


def home_away(event: dict[str, Any]) -> tuple[Any, Any] | None:
    """(home team id, away team id) of an event, or None when it does not say both."""
    competitions = event.get("competitions") or [{}]
    sides = {
        c.get("homeAway"): (c.get("team") or {}).get("id")
        for c in competitions[0].get("competitors") or []
    }
    return (sides["home"], sides["away"]) if sides.get("home") and sides.get("away") else None


def has_players(summary: dict[str, Any]) -> bool:
    """Whether a summary's box score lists any athlete at all."""
    return any(
        block.get("athletes")
        for team_block in (summary.get("boxscore") or {}).get("players") or []
        for block in team_block.get("statistics") or []
    )


EVENTS = TableDef(
    name="events",
    primary_key=("id",),
    # an event goes from scheduled to final: keep the latest
    write_disposition="merge",
    declared={
        "id": "text",
        "date": "timestamp",
        "competition__date": "timestamp",
        "short_name": "text",
        "season__year": "bigint",
        "status__type__state": "text",
        "status__type__completed": "bool",
    },
    rules=(
        OneOf("status__type__state", frozenset({"pre", "in", "post"})),
        Range("season__year", 1947, 2101),
        Check("season", _event_season),
    ),
    findings=(NO_SCORE,),
)
COMPETITORS = TableDef(
    name="competitors",
    primary_key=("event_id", "id"),
    write_disposition="merge",
    declared={
        "event_id": "text",
        "id": "text",
        "home_away": "text",
        "score": "text",
        "team__id": "text",
        "team__abbreviation": "text",
    },
    rules=(
        OneOf("home_away", frozenset({"home", "away"})),
        _int_text("score", 0, 250),
        KnownTeam("team__id", "espn_id"),
        KnownTeam("team__abbreviation", "espn_abbreviation"),
    ),
)
PLAYER_BOX_SCORES = TableDef(
    name="player_box_scores",
    primary_key=("event_id", "athlete__id"),
    # a box score can be corrected after the game: the latest row per athlete and event wins
    write_disposition="merge",
    declared={
        "event_id": "text",
        "team__id": "text",
        "athlete__id": "text",
        "athlete__display_name": "text",
        "starter": "bool",
        "did_not_play": "bool",
        **{stat_column(k): "text" for k in STAT_KEYS},
    },
    rules=(
        _int_text(stat_column("minutes"), 0, 75),
        _int_text(stat_column("points"), 0, 100),
        _int_text(stat_column("plusMinus"), -100, 100),
        *(
            _int_text(stat_column(k), 0, 100)
            for k in STAT_KEYS
            if k not in PAIR_KEYS and k not in ("minutes", "points", "plusMinus")
        ),
        Check("made-attempted", _pairs_ok),
        Check("played without stats", _played_without_stats),
        PersonName("athlete__display_name"),
        KnownTeam("team__id", "espn_id"),
    ),
    findings=(NO_BOX_SCORE,),
)
TABLES = (EVENTS, COMPETITORS, PLAYER_BOX_SCORES)


Reject = Callable[[str, str, str, dict[str, Any]], None]  # endpoint, table, reason, record


def event_rows(
    event: dict[str, Any], reject: Reject
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The event (with its single competition flattened in) and its competitors."""
    competitions = event.get("competitions") or []
    row = flatten(event, skip=frozenset({"competitions"}))
    competitors: list[dict[str, Any]] = []
    if len(competitions) != 1:
        reason = f"expected exactly one competition, got {len(competitions)}"
        reject("espn.scoreboard", EVENTS.name, reason, event)
        return None, competitors
    competition = competitions[0]
    row.update(flatten({k: v for k, v in competition.items() if k != "competitors"}, "competition"))
    for competitor in competition.get("competitors") or []:
        competitors.append({"event_id": event.get("id"), **flatten(competitor)})
    return row, competitors


def athlete_rows(
    event_id: str, summary: dict[str, Any], reject: Reject
) -> Iterator[dict[str, Any]]:
    """One row per athlete, stats mapped by `keys` (never by position)."""
    for team_block in (summary.get("boxscore") or {}).get("players") or []:
        team = flatten(team_block.get("team") or {}, "team")
        for block in team_block.get("statistics") or []:
            keys = block.get("keys") or []
            for entry in block.get("athletes") or []:
                row = {"event_id": event_id, **team}
                row.update(flatten({k: v for k, v in entry.items() if k != "stats"}))
                stats = entry.get("stats") or []
                if stats and len(stats) != len(keys):
                    # unmappable: quarantined, never silently shifted onto the wrong keys
                    reason = f"{len(stats)} stats for {len(keys)} keys"
                    reject("espn.summary", PLAYER_BOX_SCORES.name, reason, {**row, "stats": stats})
                    continue
                values = dict(zip(keys, stats, strict=False)) if stats else {}
                for key in keys:
                    row[stat_column(key)] = values.get(key)
                yield row


def event_day(event: dict[str, Any]) -> date | None:
    """An event's date in New York (a game's date), or None when its date is unreadable."""
    try:
        return parse_timestamp(event.get("date")).astimezone(EASTERN).date()
    except (TypeError, ValueError):
        return None


def event_date_problem(event: dict[str, Any], day: date, last: date | None = None) -> str:
    """Why an event does not belong on the scoreboard asked for (`day`, or `day`..`last`), by
    its date in New York, or "" when it does."""
    last = last or day
    played = event_day(event)
    if played is None or day <= played <= last:
        return ""  # unreadable: the gate's timestamp rule reports it
    asked = day.isoformat() if last == day else f"{day.isoformat()}..{last.isoformat()}"
    return (
        f"event {event.get('id')} is on {played.isoformat()} (New York), on the scoreboard "
        f"asked for {asked}"
    )


class EspnPlan:
    """Fetches the window's scoreboards once; resources read from them.

    A single date asks for the two scoreboards one by one (`dates=D-1`, `dates=D`); a backfill
    chunk asks for one range (`dates=FIRST-LAST&limit=...`) and splits it by New York date.
    """

    def __init__(self, ctx: RunContext, window: Window) -> None:
        self.ctx = ctx
        self.window = window
        session = ctx.session(
            SOURCE, ctx.config.espn_base_url, classify_by_suffix(SOURCE, ENDPOINTS)
        )
        self.client = RESTClient(
            base_url=ctx.config.espn_base_url.rstrip("/") + BASE_PATH,
            session=session,
            paginator=SinglePagePaginator(),
            data_selector="$",
        )
        self._boards: dict[date, list[dict[str, Any]]] | None = None

    def _fetch(self, first: date, last: date) -> list[dict[str, Any]]:
        if first == last:
            params: dict[str, Any] = {"dates": first.strftime("%Y%m%d")}
        else:
            days = (last - first).days + 1
            params = {
                "dates": f"{first:%Y%m%d}-{last:%Y%m%d}",
                "limit": RANGE_LIMIT_PER_DAY * days,
            }
        body = self.client.get("/scoreboard", params=params).json()
        events = list(body.get("events") or [])
        if first != last and len(events) >= params["limit"]:
            raise ExtractError(
                f"{SOURCE} espn.scoreboard: {len(events)} events for {first}..{last} reached the "
                f"limit {params['limit']}: the range may be cut; use smaller chunks"
            )
        return events

    def boards(self) -> dict[date, list[dict[str, Any]]]:
        """Scoreboard events per New York date (others quarantined naming both dates)."""
        if self._boards is None:
            days = self.window.slate_days()
            if self.window.single:
                fetched = [(d, self._fetch(d, d)) for d in days]
            else:
                fetched = [(None, self._fetch(days[0], days[-1]))]
            boards: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
            for asked, events in fetched:
                for event in events:
                    problem = event_date_problem(event, asked or days[0], asked or days[-1])
                    if problem:
                        self.reject("espn.scoreboard", EVENTS.name, problem, flatten(event))
                        continue
                    # an unreadable date stays on the day asked for: the gate's rule reports it
                    boards.setdefault(event_day(event) or asked or days[0], []).append(event)
            for day, listed in boards.items():
                self.ctx.issues.list_slate(SOURCE, day, filter(None, map(home_away, listed)))
            self._boards = boards
        return self._boards

    def board(self, day: date) -> list[dict[str, Any]]:
        return self.boards().get(day, [])

    def reject(self, endpoint: str, table: str, reason: str, record: dict[str, Any]) -> None:
        self.ctx.issues.reject(SOURCE, endpoint, table, reason, record)

    def event_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for day in sorted(self.boards()):
            for event in self.board(day):
                row = event_rows(event, self.reject)[0]
                if row is not None:
                    yield "espn.scoreboard", row

    def competitor_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        ignore: Reject = lambda *_: None  # noqa: E731 - event_rows above already reported it
        for day in sorted(self.boards()):
            for event in self.board(day):
                for competitor in event_rows(event, ignore)[1]:
                    yield "espn.scoreboard", competitor

    def box_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for previous in self.window.result_days():
            yield from self._box_rows_of(previous)

    def _box_rows_of(self, previous: date) -> Iterator[tuple[str, dict[str, Any]]]:
        for event in self.board(previous):
            state = ((event.get("status") or {}).get("type") or {}).get("state")
            if state != "post":
                self.ctx.issues.notes.append(
                    f"{SOURCE}: event {event.get('id')} of {previous} is {state!r}, not final: "
                    "no box score yet"
                )
                continue
            score = final_score_problem(event)
            if score:
                self.reject("espn.scoreboard", EVENTS.name, score, flatten(event))
            summary = self.client.get("/summary", params={"event": event["id"]}).json()
            answered = str(((summary.get("header") or {}).get("id")) or event["id"])
            if answered != str(event["id"]):
                reason = f"summary of event {answered!r} where {event['id']!r} was asked for"
                self.reject("espn.summary", PLAYER_BOX_SCORES.name, reason, {"event": event["id"]})
                continue
            if not has_players(summary):
                reason = f"{NO_BOX_SCORE}: event {event['id']} is final, its summary lists no one"
                self.reject("espn.summary", PLAYER_BOX_SCORES.name, reason, {"event": event["id"]})
                continue
            for row in athlete_rows(str(event["id"]), summary, self.reject):
                yield "espn.summary", row


@dlt.source(name=SOURCE, max_table_nesting=0)
def espn_source(ctx: RunContext, window: Window) -> Any:
    """Scoreboards of D-1 and D, box scores of D-1's final games."""
    plan = EspnPlan(ctx, window)
    return (
        ctx.resource(SOURCE, EVENTS, plan.event_rows),
        ctx.resource(SOURCE, COMPETITORS, plan.competitor_rows),
        ctx.resource(SOURCE, PLAYER_BOX_SCORES, plan.box_rows),
    )
