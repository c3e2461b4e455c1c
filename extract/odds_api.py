"""The Odds API v4: events, player-prop snapshots and game lines for one date.

Which endpoints are called depends on whether the date is past, by the run's clock (`now`; the
sandbox's clock when the CLI starts one):

- today or later: live endpoints. `events` (free), one `events/{id}/odds` call per event with the
  four prop markets (4 credits each), one featured `odds` call with h2h/spreads/totals for the
  slate (3 credits). Each is a snapshot taken at `now`.
- a past date: historical endpoints. `historical/events` at the pick time, then per event one
  `historical/events/{id}/odds` call with props and featured markets per snapshot anchor: "pick"
  (the date at 12:00 Eastern, the line a pick made that day is graded against) and "close" (five
  minutes before the listed tip-off: the last pre-game snapshot on the 5-minute grid). 70 credits
  per call; the quota tracker stops the run before it would pass the budget. A game that tipped
  and ended before noon Eastern is not listed at the pick time and is missed (none in practice).
- live runs late in the evening miss the games already over (the live endpoints drop them);
  backfill such a date later with `--date`: it then takes the historical path.

Rows are exploded to one per outcome. Each snapshot is checked before it is kept: the event it
answers must be the one asked for (or, for the slate-wide featured call, one of the slate's); a
snapshot taken at or after the event's commence time is marked `is_in_game` (its lines are
in-game lines, never a pick-time or closing line); and each market's prices are checked as a set
(the sides' implied probabilities must sum to a plausible overround, which catches American odds
where decimal were asked: +100/+105 pass any range check alone). An unknown bookmaker is data.

Rows Snapshots are immutable observations, so `player_props` and
`game_lines` use merge with the `insert-only` strategy: keyed by event, bookmaker, market, player,
side and snapshot time, a rerun inserts nothing it already has and never rewrites history. `events`
merges on the event id (commence_time can shift, the latest listing wins).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

from extract.contracts import (
    Check,
    KnownTeam,
    OneOf,
    Pattern,
    PersonName,
    Range,
    TableDef,
    flatten,
    parse_timestamp,
)
from extract.fanout import fan_out
from extract.http import classify_by_suffix
from extract.runtime import RunContext
from extract.window import Window

SOURCE = "odds_api"
SPORT = "basketball_nba"
EASTERN = ZoneInfo("America/New_York")
CLOSE_MARGIN = timedelta(minutes=5)
_EVENT_PREFIX = "event"

ENDPOINTS = (
    (r"/v4/historical/sports/[^/]+/events/[^/]+/odds$", "odds.historical_event_odds"),
    (r"/v4/historical/sports/[^/]+/events$", "odds.historical_events"),
    (r"/v4/sports/[^/]+/events/[^/]+/odds$", "odds.event_odds"),
    (r"/v4/sports/[^/]+/events$", "odds.events"),
    (r"/v4/sports/[^/]+/odds$", "odds.odds"),
)

PRICE = Range("outcome__price", 1.01, 1001.0)
# the sides of one market together: implied probabilities sum to 1 plus the book's margin
OVERROUND = (1.0, 1.15)


def _line_point(record: dict[str, Any]) -> str:
    market, point = record.get("market__key"), record.get("outcome__point")
    if point is None:
        return "" if market == "h2h" else f"{market} outcome has no point"
    value = float(point)
    if market == "spreads" and not -80 <= value <= 80:
        return f"spread point {value} is outside [-80, 80]"
    if market == "totals" and not 100 <= value <= 400:
        return f"total point {value} is outside [100, 400]"
    return ""


EVENTS = TableDef(
    name="events",
    primary_key=("id",),
    # an event's listing changes (commence_time shifts by seconds): keep the latest
    write_disposition="merge",
    declared={
        "id": "text",
        "commence_time": "timestamp",
        "home_team": "text",
        "away_team": "text",
        "sport_key": "text",
    },
    rules=(
        Pattern("id", r"[0-9a-f]{32}"),
        OneOf("sport_key", frozenset({SPORT})),
        KnownTeam("home_team", "odds_api_name"),
        KnownTeam("away_team", "odds_api_name"),
    ),
    findings=("an event listed for a date is on that date (New York)",),
)
SNAPSHOT_COLUMNS = {
    "event__id": "text",
    "event__commence_time": "timestamp",
    "event__home_team": "text",
    "event__away_team": "text",
    "bookmaker__key": "text",
    "bookmaker__title": "text",
    "bookmaker__last_update": "timestamp",
    "market__key": "text",
    "market__last_update": "timestamp",
    "outcome__name": "text",
    "outcome__price": "double",
    "outcome__point": "double",
    "snapshot_at": "timestamp",
    "snapshot_kind": "text",
    "is_in_game": "bool",
}
PLAYER_PROPS = TableDef(
    name="player_props",
    primary_key=(
        "event__id",
        "bookmaker__key",
        "market__key",
        "outcome__description",
        "outcome__name",
        "snapshot_at",
    ),
    # snapshots are observations: append, but a rerun must not insert what is already there
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    declared={**SNAPSHOT_COLUMNS, "outcome__description": "text"},
    rules=(
        PRICE,
        Range("outcome__point", 0.0, 150.0),
        OneOf("outcome__name", frozenset({"Over", "Under"})),
        PersonName("outcome__description"),  # the player
    ),
)
GAME_LINES = TableDef(
    name="game_lines",
    primary_key=("event__id", "bookmaker__key", "market__key", "outcome__name", "snapshot_at"),
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    declared=SNAPSHOT_COLUMNS,
    rules=(PRICE, Check("line point", _line_point)),
)
TABLES = (EVENTS, PLAYER_PROPS, GAME_LINES)


def eastern_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in America/New_York, in UTC: a game's date is its NY date."""
    start = datetime.combine(day, time(0), tzinfo=EASTERN)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=EASTERN)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def iso_z(ts: datetime) -> str:
    return ts.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_live(day: date, now: datetime) -> bool:
    """Today (in New York) or later is served by the live endpoints; earlier by historical ones."""
    return day >= now.astimezone(EASTERN).date()


def snapshot_anchors(
    anchors: tuple[str, ...], day: date, commence: datetime, now: datetime, pick_hour: int
) -> list[datetime]:
    """The historical snapshot times for one event, earliest first, all before tip-off and `now`."""
    close = commence - CLOSE_MARGIN
    times = set()
    for anchor in anchors:
        if anchor == "pick":
            pick = datetime.combine(day, time(pick_hour), tzinfo=EASTERN).astimezone(
                ZoneInfo("UTC")
            )
            if pick < close:
                times.add(pick)
        elif anchor == "close":
            times.add(close)
    return sorted(min(t, now) for t in times)


def in_game(event: dict[str, Any], snapshot_at: datetime) -> bool:
    """A snapshot at or after the listed tip-off holds in-game lines (a real capture: 23:50Z
    for a 23:11Z tip). An unreadable commence time counts as in-game: never a pre-game line."""
    try:
        return snapshot_at >= parse_timestamp(event.get("commence_time"))
    except (TypeError, ValueError):
        return True


def overround_problem(outcomes: list[dict[str, Any]]) -> str:
    """Why a market's prices cannot be decimal odds of one market, or "" when they can."""
    try:
        prices = [float(o.get("price")) for o in outcomes]
    except (TypeError, ValueError):
        return ""  # a missing or non-numeric price is the row rules' to report, per row
    if any(not math.isfinite(p) or p <= 1.0 for p in prices):
        return ""  # not finite or below the price range: the row rules name it
    total = sum(1.0 / p for p in prices)
    lo, hi = OVERROUND
    if lo <= total <= hi:
        return ""
    shown = "/".join(f"{p:g}" for p in prices)
    hint = " (American odds where decimal were asked?)" if total < lo / 2 else ""
    return (
        f"prices {shown} imply {total:.3f} together, outside [{lo:.2f}, {hi:.2f}] for one "
        f"market{hint}"
    )


def market_sides(market: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The outcomes of a market grouped into the sets that must price one event: per player
    (and point) for props, the whole market for featured ones."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for outcome in market.get("outcomes") or []:
        description = outcome.get("description")
        key = (description, outcome.get("point")) if description is not None else ()
        if market.get("key") == "spreads":
            key = ()  # the two teams carry opposite points
        groups.setdefault(key, []).append(outcome)
    return list(groups.values())


def explode(
    event: dict[str, Any],
    snapshot_at: datetime,
    kind: str,
    markets: frozenset[str],
    reject: Any = None,
) -> Iterator[dict[str, Any]]:
    """One row per outcome, every level's fields kept (`event__*`, `bookmaker__*`, ...).

    A set of sides whose prices do not make one market goes to `reject(reason, row)` instead.
    """
    base = flatten({k: v for k, v in event.items() if k != "bookmakers"}, _EVENT_PREFIX)
    # the snapshot's own fields, the same on each of its rows (hundreds a snapshot): made once
    snapshot = {
        "snapshot_at": iso_z(snapshot_at),
        "snapshot_kind": kind,
        "is_in_game": in_game(event, snapshot_at),
    }
    for book in event.get("bookmakers") or []:
        book_fields = flatten({k: v for k, v in book.items() if k != "markets"}, "bookmaker")
        for market in book.get("markets") or []:
            if market.get("key") not in markets:
                continue
            # every level above the outcome, flattened once per market, not once per outcome
            shared = {
                **base,
                **book_fields,
                **flatten({k: v for k, v in market.items() if k != "outcomes"}, "market"),
            }
            for sides in market_sides(market):
                problem = overround_problem(sides) if len(sides) > 1 else ""
                for outcome in sides:
                    row = {**shared, **flatten(outcome, "outcome"), **snapshot}
                    if problem and reject is not None:
                        reject(problem, row)
                        continue
                    yield row


@dataclass(frozen=True)
class _Ask:
    """One odds call of a date: what is asked, and how its answer is read."""

    endpoint: str
    path: str
    params: dict[str, str]
    asked: str  # the event id asked for, or "*" for the slate-wide featured call
    group: int  # the event's place in the listing: two anchors on one snapshot are kept once


class OddsPlan:
    """Fetches a date's events and snapshots once; the three resources read from it.

    The calls are made by `prefetch` (the source makes every date of a chunk's calls together,
    `concurrency` at a time, extract/fanout.py); what is built from the answers is built here,
    in the order the calls were asked, in the caller's thread: the rows, their order and every
    quarantine are the same as one call after the other.
    """

    def __init__(self, ctx: RunContext, day: date) -> None:
        self.ctx = ctx
        self.day = day
        self.settings = ctx.config.odds
        session = ctx.session(
            SOURCE,
            ctx.config.odds_api_base_url,
            classify_by_suffix(SOURCE, ENDPOINTS),
            api_key=ctx.config.odds_api_key,
            key_in="query:apiKey",
        )
        self.client = RESTClient(
            base_url=ctx.config.odds_api_base_url.rstrip("/"),
            session=session,
            paginator=SinglePagePaginator(),
            data_selector="$",
        )
        self.live = is_live(day, ctx.now)
        self._events: list[tuple[str, dict[str, Any]]] | None = None
        self._snapshots: list[tuple[str, datetime, str, dict[str, Any], str]] | None = None

    def _params(self, **extra: str) -> dict[str, str]:
        params = {"dateFormat": "iso", "oddsFormat": "decimal", **extra}
        if self.settings.bookmakers:
            params["bookmakers"] = self.settings.bookmakers
        else:
            params["regions"] = self.settings.regions
        return params

    def _get(self, path: str, params: dict[str, str]) -> Any:
        return self.client.get(path, params=params).json()

    def fetch(self, ask: _Ask) -> Callable[[], Any]:
        return functools.partial(self._get, ask.path, ask.params)

    # --- the events of the date: one call -------------------------------------------------------

    def events_ask(self) -> _Ask:
        start, end = eastern_day_bounds(self.day)
        window = {"commenceTimeFrom": iso_z(start), "commenceTimeTo": iso_z(end)}
        if self.live:
            params = {"dateFormat": "iso", **window}
            return _Ask("odds.events", f"/v4/sports/{SPORT}/events", params, "*", 0)
        at = datetime.combine(self.day, time(self.settings.pick_hour_eastern), tzinfo=EASTERN)
        params = {"dateFormat": "iso", "date": iso_z(min(at, self.ctx.now)), **window}
        path = f"/v4/historical/sports/{SPORT}/events"
        return _Ask("odds.historical_events", path, params, "*", 0)

    def take_events(self, ask: _Ask, body: Any) -> None:
        if ask.endpoint == "odds.historical_events":
            body = body["data"]
        self._events = [(ask.endpoint, e) for e in body if self._on_day(ask.endpoint, e)]
        slate = [(e.get("home_team"), e.get("away_team")) for _, e in self._events]
        self.ctx.issues.list_slate(SOURCE, self.day, slate)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        if self._events is None:
            ask = self.events_ask()
            self.take_events(ask, self.fetch(ask)())
        assert self._events is not None
        return self._events

    def _on_day(self, endpoint: str, event: dict[str, Any]) -> bool:
        """An event listed for the date must start on it in New York (commenceTimeFrom/To were
        asked for); one of another date or year is quarantined, and no odds are asked for it."""
        try:
            day = parse_timestamp(event.get("commence_time")).astimezone(EASTERN).date()
        except (TypeError, ValueError):
            return True  # unreadable: the gate's timestamp rule reports it
        if day == self.day:
            return True
        reason = (
            f"event {event.get('id')} starts on {day.isoformat()} (New York), listed for "
            f"{self.day.isoformat()}"
        )
        self.ctx.issues.reject(SOURCE, endpoint, EVENTS.name, reason, flatten(event))
        return False

    # --- the snapshots: one call per event (and anchor), plus the live featured call ------------

    def snapshot_asks(self) -> list[_Ask]:
        """Every snapshot call of the date, in the order their answers are read."""
        props = ",".join(self.settings.prop_markets)
        featured = ",".join(self.settings.featured_markets)
        asks: list[_Ask] = []
        if self.live:
            for group, (_, event) in enumerate(self.events()):
                path = f"/v4/sports/{SPORT}/events/{event['id']}/odds"
                params = self._params(markets=props)
                asks.append(_Ask("odds.event_odds", path, params, str(event["id"]), group))
            if self.events():
                start, end = eastern_day_bounds(self.day)
                params = self._params(
                    markets=featured, commenceTimeFrom=iso_z(start), commenceTimeTo=iso_z(end)
                )
                asks.append(_Ask("odds.odds", f"/v4/sports/{SPORT}/odds", params, "*", -1))
            return asks
        markets = f"{props},{featured}"
        for group, (_, event) in enumerate(self.events()):
            commence = parse_timestamp(event["commence_time"])
            path = f"/v4/historical/sports/{SPORT}/events/{event['id']}/odds"
            for at in snapshot_anchors(
                self.settings.historical_anchors,
                self.day,
                commence,
                self.ctx.now,
                self.settings.pick_hour_eastern,
            ):
                params = self._params(markets=markets, date=iso_z(at))
                asks.append(
                    _Ask("odds.historical_event_odds", path, params, str(event["id"]), group)
                )
        return asks

    def take_snapshots(self, asks: Sequence[_Ask], bodies: Sequence[Any]) -> None:
        """(endpoint, snapshot time, kind, event with bookmakers, the event id asked for, or
        "*" for the slate-wide featured call) for every answer, in the order asked."""
        out: list[tuple[str, datetime, str, dict[str, Any], str]] = []
        seen: dict[int, set[str]] = {}
        now = self.ctx.now
        for ask, body in zip(asks, bodies, strict=True):
            if ask.endpoint == "odds.odds":
                out.extend((ask.endpoint, now, "live", event, "*") for event in body)
            elif ask.endpoint == "odds.event_odds":
                out.append((ask.endpoint, now, "live", body, ask.asked))
            else:
                stamp = body["timestamp"]
                stamps = seen.setdefault(ask.group, set())
                if stamp in stamps:  # two anchors fell on one snapshot: keep it once
                    continue
                stamps.add(stamp)
                snapshot_at = parse_timestamp(stamp)
                out.append((ask.endpoint, snapshot_at, "historical", body["data"], ask.asked))
        self._snapshots = out

    def snapshots(self) -> list[tuple[str, datetime, str, dict[str, Any], str]]:
        if self._snapshots is None:
            prefetch([self], self.settings.concurrency)
        assert self._snapshots is not None
        return self._snapshots

    def event_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for endpoint, event in self.events():
            yield endpoint, flatten(event)

    def _outcome_rows(
        self, markets: frozenset[str], table: str
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        slate = {str(e.get("id")) for _, e in self.events()}
        for endpoint, at, kind, event, asked in self.snapshots():
            answered = str(event.get("id"))
            if answered != asked and not (asked == "*" and answered in slate):
                reason = (
                    f"answers event {answered!r}, which is not in the slate of {self.day}"
                    if asked == "*"
                    else f"answers event {answered!r} where {asked!r} was asked for"
                )
                self.ctx.issues.reject(SOURCE, endpoint, table, reason, _summary(event))
                continue

            def reject(reason: str, row: dict[str, Any], endpoint: str = endpoint) -> None:
                self.ctx.issues.reject(SOURCE, endpoint, table, reason, row)

            for row in explode(event, at, kind, markets, reject):
                yield endpoint, row

    def prop_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self._outcome_rows(frozenset(self.settings.prop_markets), PLAYER_PROPS.name)

    def line_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self._outcome_rows(frozenset(self.settings.featured_markets), GAME_LINES.name)


def prefetch(plans: Sequence[OddsPlan], workers: int) -> None:
    """Every call of `plans` that is not made yet, `workers` at a time across all their dates:
    the events listings first (a date's snapshot calls depend on its events), then every
    snapshot call. Answers are read plan by plan in the order asked (see `OddsPlan`); the first
    failure cancels the rest and is raised as a sequential run would have raised it."""
    todo = [plan for plan in plans if plan._events is None]
    asks = [plan.events_ask() for plan in todo]
    bodies = fan_out([p.fetch(a) for p, a in zip(todo, asks, strict=True)], workers, name="odds")
    for plan, ask, body in zip(todo, asks, bodies, strict=True):
        plan.take_events(ask, body)
    todo = [plan for plan in plans if plan._snapshots is None]
    per_plan = [plan.snapshot_asks() for plan in todo]
    calls = [plan.fetch(a) for plan, group in zip(todo, per_plan, strict=True) for a in group]
    bodies = fan_out(calls, workers, name="odds")
    start = 0
    for plan, group in zip(todo, per_plan, strict=True):
        plan.take_snapshots(group, bodies[start : start + len(group)])
        start += len(group)


def _summary(event: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields (its bookmakers counted, not copied) for a quarantine record."""
    books = event.get("bookmakers") or []
    return {**{k: v for k, v in event.items() if k != "bookmakers"}, "bookmakers": len(books)}


@dlt.source(name=SOURCE, max_table_nesting=0)
def odds_api_source(ctx: RunContext, window: Window) -> Any:
    """Events, prop snapshots and game lines of each date of `window` (see the module docstring
    for the calls; there is no range endpoint: a chunk is its dates' calls, one load)."""
    plans = [OddsPlan(ctx, day) for day in window.days()]

    def chained(rows: str) -> Any:
        def rows_of_every_date() -> Iterator[tuple[str, dict[str, Any]]]:
            prefetch(plans, ctx.config.odds.concurrency)  # once: the first resource read
            for plan in plans:
                yield from getattr(plan, rows)()

        return rows_of_every_date

    return (
        ctx.resource(SOURCE, EVENTS, chained("event_rows")),
        ctx.resource(SOURCE, PLAYER_PROPS, chained("prop_rows")),
        ctx.resource(SOURCE, GAME_LINES, chained("line_rows")),
    )
