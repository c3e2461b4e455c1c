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
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

from extract.contracts import (
    Check,
    OneOf,
    Range,
    TableDef,
    as_number,
    column_name,
    flatten,
    parse_timestamp,
)
from extract.http import classify_by_suffix
from extract.runtime import RunContext

SOURCE = "espn"
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
    ),
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
    rules=(OneOf("home_away", frozenset({"home", "away"})), _int_text("score", 0, 250)),
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
    ),
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


def event_date_problem(event: dict[str, Any], day: date) -> str:
    """Why an event does not belong on `day`'s scoreboard (its date in New York), or ""."""
    try:
        played = parse_timestamp(event.get("date")).astimezone(EASTERN).date()
    except (TypeError, ValueError):
        return ""  # unreadable: the gate's timestamp rule reports it
    if played == day:
        return ""
    return (
        f"event {event.get('id')} is on {played.isoformat()} (New York), on the scoreboard "
        f"asked for {day.isoformat()}"
    )


class EspnPlan:
    """Fetches the two scoreboards once; resources read from them."""

    def __init__(self, ctx: RunContext, day: date) -> None:
        self.ctx = ctx
        self.day = day
        session = ctx.session(
            SOURCE, ctx.config.espn_base_url, classify_by_suffix(SOURCE, ENDPOINTS)
        )
        self.client = RESTClient(
            base_url=ctx.config.espn_base_url.rstrip("/") + BASE_PATH,
            session=session,
            paginator=SinglePagePaginator(),
            data_selector="$",
        )
        self._boards: dict[date, list[dict[str, Any]]] = {}

    def board(self, day: date) -> list[dict[str, Any]]:
        """The scoreboard of `day`: only events whose New York date is `day` (others are
        quarantined naming both dates: a scoreboard that ignored the date asked for)."""
        if day not in self._boards:
            body = self.client.get("/scoreboard", params={"dates": day.strftime("%Y%m%d")}).json()
            events = []
            for event in body.get("events") or []:
                problem = event_date_problem(event, day)
                if problem:
                    self.reject("espn.scoreboard", EVENTS.name, problem, flatten(event))
                else:
                    events.append(event)
            self._boards[day] = events
        return self._boards[day]

    def days(self) -> tuple[date, date]:
        return self.day - timedelta(days=1), self.day

    def reject(self, endpoint: str, table: str, reason: str, record: dict[str, Any]) -> None:
        self.ctx.issues.reject(SOURCE, endpoint, table, reason, record)

    def event_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for day in self.days():
            for event in self.board(day):
                row = event_rows(event, self.reject)[0]
                if row is not None:
                    yield "espn.scoreboard", row

    def competitor_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        ignore: Reject = lambda *_: None  # noqa: E731 - event_rows above already reported it
        for day in self.days():
            for event in self.board(day):
                for competitor in event_rows(event, ignore)[1]:
                    yield "espn.scoreboard", competitor

    def box_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        previous = self.days()[0]
        for event in self.board(previous):
            state = ((event.get("status") or {}).get("type") or {}).get("state")
            if state != "post":
                self.ctx.issues.notes.append(
                    f"{SOURCE}: event {event.get('id')} of {previous} is {state!r}, not final: "
                    "no box score yet"
                )
                continue
            summary = self.client.get("/summary", params={"event": event["id"]}).json()
            answered = str(((summary.get("header") or {}).get("id")) or event["id"])
            if answered != str(event["id"]):
                reason = f"summary of event {answered!r} where {event['id']!r} was asked for"
                self.reject("espn.summary", PLAYER_BOX_SCORES.name, reason, {"event": event["id"]})
                continue
            for row in athlete_rows(str(event["id"]), summary, self.reject):
                yield "espn.summary", row


@dlt.source(name=SOURCE, max_table_nesting=0)
def espn_source(ctx: RunContext, day: date) -> Any:
    """Scoreboards of D-1 and D, box scores of D-1's final games."""
    plan = EspnPlan(ctx, day)
    return (
        ctx.resource(SOURCE, EVENTS, plan.event_rows),
        ctx.resource(SOURCE, COMPETITORS, plan.competitor_rows),
        ctx.resource(SOURCE, PLAYER_BOX_SCORES, plan.box_rows),
    )
