"""balldontlie NBA API v1: games, players and box scores, through dlt's `rest_api`.

The fit for `rest_api` is exact here: one base URL, a header key, `data` pages and a cursor
(`meta.next_cursor`, absent on the last page). For a date D the source asks for the games of D-1 and
D (yesterday's finals, today's slate), the box scores of D-1, and the players of every team in those
games (their current bio and team). All three tables merge on balldontlie's ids: a game goes from
scheduled to final, and a later box-score correction replaces the earlier row.

A stat row's `player.team_id` is the player's *current* team; the row's own `team__id` is the team
he played for (kept as is; staging uses `team__id`).

balldontlie returns what it has: when the caller's parameters were not applied, a request for one
date comes back with rows of another. Every game and stat row is checked against the dates asked
for; a row of another date is quarantined naming both, never loaded as if it were asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from dlt.sources.rest_api import rest_api_resources

from extract.contracts import (
    Check,
    KnownTeam,
    PersonName,
    Range,
    TableDef,
    flatten,
    parse_date,
    season_problem,
)
from extract.errors import ExtractError
from extract.http import classify_by_suffix
from extract.runtime import RunContext
from extract.window import Window

SOURCE = "balldontlie"
PER_PAGE = 100
# an upstream controls the cursor: a season of box scores is about 300 pages of 100, so 2,000
# pages means a cursor that never ends (a real capture of a self-pointing cursor ran 6,440 pages)
MAX_PAGES = 2_000
ENDPOINTS = (
    (r"/games(/[^/]+)?$", "bdl.games"),
    (r"/players(/[^/]+)?$", "bdl.players"),
    (r"/stats$", "bdl.stats"),
)
COUNTING = ("fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk",
            "turnover", "pf")  # fmt: skip


class EndlessCursorError(ExtractError):
    """The API's cursor went round in a circle or past any sane number of pages."""

    exit_code = 4  # like retries exhausted: the upstream misbehaves, rerun later


class GuardedCursorPaginator(JSONResponseCursorPaginator):
    """balldontlie's cursor (`meta.next_cursor`, absent on the last page), bounded: a cursor
    seen twice, or more than `max_pages` pages, stops the source with a clear error instead of
    paging forever. dlt copies the paginator for each paginate() call, so the bound is per call."""

    def __init__(self, max_pages: int = MAX_PAGES, observer: Any = None) -> None:
        super().__init__(cursor_path="meta.next_cursor", cursor_param="cursor")
        self.max_pages = max_pages
        self.pages = 0
        self.seen: set[str] = set()
        self.observer = observer  # sees every raw page (BoxScoreCoverage)

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        self.pages += 1
        cursor = self._next_reference
        if self.observer is not None:
            self.observer.page(response, data, last=cursor is None)
        if cursor is None:
            return
        where = f"{SOURCE} {urlsplit(response.url).path}"
        if str(cursor) in self.seen:
            raise EndlessCursorError(
                f"{where}: next_cursor {cursor!r} was already followed on page {self.pages} "
                "(a cursor loop in the API's answer); stopped rather than page forever"
            )
        if self.pages >= self.max_pages:
            raise EndlessCursorError(
                f"{where}: more than {self.max_pages} pages (next_cursor {cursor!r}); stopped "
                "rather than page forever"
            )
        self.seen.add(str(cursor))


# --- findings across records (issue 14): an empty block where data is expected is not a zero
NO_BOX_SCORE = "a final game has stat rows"


class BoxScoreCoverage:
    """Every final game of a result day has stat rows, or it is quarantined (NO_BOX_SCORE).

    Read from the raw pages of /games and /stats as the paginator sees them and compared once
    both have sent their last page, which is still inside the extract: a box score missing for a
    final game stops the source before anything loads. It also hands every game listed to
    `slate` (the slate compared across sources, extract/findings.py). dlt deep-copies the
    paginator per call; the copies share this one object."""

    def __init__(self, result_days: frozenset[date], reject: Any, slate: Any = None) -> None:
        self.result_days = result_days
        self.reject = reject  # (reason, game record)
        self.slate = slate  # (game record): each game listed, for the slate across sources
        self.finals: dict[Any, dict[str, Any]] = {}
        self.with_stats: set[Any] = set()
        self.done: set[str] = set()

    def __deepcopy__(self, _memo: Any) -> BoxScoreCoverage:
        return self

    def page(self, response: Any, data: list[Any] | None, *, last: bool) -> None:
        path = urlsplit(response.url).path
        kind = "games" if path.endswith("/games") else "stats" if path.endswith("/stats") else ""
        for item in (data or []) if kind else []:
            if not isinstance(item, dict):
                continue
            if kind == "stats":
                self.with_stats.add((item.get("game") or {}).get("id"))
                continue
            if self.slate is not None:
                self.slate(item)
            if item.get("status") == "Final" and _day(item.get("date")) in self.result_days:
                self.finals[item.get("id")] = item
        if kind and last:
            self.done.add(kind)
            if self.done == {"games", "stats"}:
                for game_id, game in self.finals.items():
                    if game_id not in self.with_stats:
                        self.reject(
                            f"{NO_BOX_SCORE}: game {game_id} of {game.get('date')} is final, "
                            "/stats returned no row for it",
                            flatten(game),
                        )


def _teams(game: dict[str, Any]) -> tuple[Any, Any]:
    return (game.get("home_team") or {}).get("id"), (game.get("visitor_team") or {}).get("id")


def _day(value: Any) -> date | None:
    try:
        return parse_date(value)
    except (TypeError, ValueError):
        return None


def _final_not_0_0(record: dict[str, Any]) -> str:
    scores = (record.get("home_team_score"), record.get("visitor_team_score"))
    if record.get("status") == "Final" and all(s in (0, None) for s in scores):
        return f"a final game is not scored 0-0: game {record.get('id')} is final and scored 0-0"
    return ""


def parse_minutes(value: Any) -> float | None:
    """balldontlie minutes: "38", "06", "33:30", "0:00", "" or null (did not play)."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if ":" in text:
        minutes, _, seconds = text.partition(":")
        if not (minutes.isdigit() and seconds.isdigit() and int(seconds) < 60):
            raise ValueError(f"{text!r} is not minutes:seconds")  # "30:99", "1e1:00"
        return int(minutes) + int(seconds) / 60
    if not text.isdigit():
        raise ValueError(f"{text!r} is not whole minutes")  # "1e1", "nan", "-5"
    return float(text)


def _minutes_ok(record: dict[str, Any]) -> str:
    minutes = parse_minutes(record.get("min"))
    if minutes is not None and not 0 <= minutes <= 75:
        return f"`min`={record.get('min')!r} is outside [0, 75] minutes"
    return ""


def _made_le_attempted(record: dict[str, Any]) -> str:
    for made, attempted in (("fgm", "fga"), ("fg3m", "fg3a"), ("ftm", "fta")):
        m, a = record.get(made), record.get(attempted)
        if isinstance(m, int) and isinstance(a, int) and m > a:
            return f"`{made}`={m} is more than `{attempted}`={a}"
    return ""


GAMES = TableDef(
    name="games",
    primary_key=("id",),
    # a game row changes from scheduled to final: keep the latest
    write_disposition="merge",
    declared={
        "id": "bigint",
        "date": "date",
        "season": "bigint",
        "status": "text",
        "postseason": "bool",
        "home_team_score": "bigint",
        "visitor_team_score": "bigint",
        "datetime": "timestamp",
        "home_team__id": "bigint",
        "home_team__abbreviation": "text",
        "visitor_team__id": "bigint",
        "visitor_team__abbreviation": "text",
    },
    rules=(
        Range("home_team_score", 0, 250),
        Range("visitor_team_score", 0, 250),
        Range("season", 1946, 2100),
        Range("period", 0, 10),
        Check("season", lambda r: season_problem(r.get("date"), r.get("season"))),
        Check("final score", _final_not_0_0),
        KnownTeam("home_team__id", "bdl_id"),
        KnownTeam("visitor_team__id", "bdl_id"),
        KnownTeam("home_team__abbreviation", "bdl_abbreviation"),
        KnownTeam("visitor_team__abbreviation", "bdl_abbreviation"),
    ),
)
PLAYERS = TableDef(
    name="players",
    primary_key=("id",),
    # bio and current team change over a season: keep the latest
    write_disposition="merge",
    declared={
        "id": "bigint",
        "first_name": "text",
        "last_name": "text",
        "position": "text",
        "team__id": "bigint",
        "team__abbreviation": "text",
    },
    rules=(
        PersonName("last_name"),
        PersonName("first_name", optional=True),
        KnownTeam("team__id", "bdl_id"),
    ),
)
STATS = TableDef(
    name="stats",
    primary_key=("id",),
    # box scores can be corrected after the final whistle: the latest row per stat id wins
    write_disposition="merge",
    declared={
        "id": "bigint",
        "min": "text",
        "pts": "bigint",
        "reb": "bigint",
        "ast": "bigint",
        "fg3m": "bigint",
        # the rest of the box score: the feature store's shots, usage and possessions read them
        "fgm": "bigint",
        "fga": "bigint",
        "fg3a": "bigint",
        "ftm": "bigint",
        "fta": "bigint",
        "oreb": "bigint",
        "dreb": "bigint",
        "stl": "bigint",
        "blk": "bigint",
        "turnover": "bigint",
        "pf": "bigint",
        "player__id": "bigint",
        "player__first_name": "text",
        "player__last_name": "text",
        "team__id": "bigint",
        "team__abbreviation": "text",
        "game__id": "bigint",
        "game__date": "date",
        "game__datetime": "timestamp",
        "game__status": "text",
    },
    rules=(
        Range("pts", 0, 100),
        *(Range(c, 0, 100) for c in COUNTING),
        Check("minutes", _minutes_ok),
        Check("made <= attempted", _made_le_attempted),
        Check("season", lambda r: season_problem(r.get("game__date"), r.get("game__season"))),
        PersonName("player__last_name"),
        PersonName("player__first_name", optional=True),
        KnownTeam("team__id", "bdl_id"),
    ),
    findings=(NO_BOX_SCORE,),
)
TABLES = (GAMES, PLAYERS, STATS)


def _final(endpoint: str, ctx: RunContext) -> Any:
    """Keep only finished games' box scores; count the others so the run says what it skipped."""

    def keep(row: dict[str, Any]) -> bool:
        status = (row.get("game") or {}).get("status")
        if status == "Final":
            return True
        ctx.issues.notes.append(
            f"{SOURCE} {endpoint}: skipped stat {row.get('id')} of game "
            f"{(row.get('game') or {}).get('id')} with status {status!r} (not final yet)"
        )
        return False

    return keep


_QUARANTINED = object()


def date_problem(value: Any, asked: frozenset[date], what: str) -> str:
    """Why a row's date is not one of the dates asked for, or "" when it is."""
    try:
        day = parse_date(value)
    except (TypeError, ValueError):
        return ""  # an unreadable date is the gate's to report, with the column's rule
    if day in asked:
        return ""
    wanted = ", ".join(sorted(d.isoformat() for d in asked))
    return f"{what} {day.isoformat()} was not asked for (asked: {wanted})"


def _gate_pages(
    resource: Any,
    ctx: RunContext,
    table: TableDef,
    endpoint: str,
    check: Any = lambda _row: "",
) -> None:
    """Gate every record but keep rest_api's pages whole (map + filter keep lists, yield_map not),
    so that the players transformer below sees a page of games at a time. `check` returns why a
    flattened row must be quarantined before the gate sees it (a date not asked for)."""
    gate = ctx.gate(SOURCE, table)

    def admit(item: dict[str, Any]) -> Any:
        row = flatten(item)
        problem = check(row)
        if problem:
            ctx.issues.reject(SOURCE, endpoint, table.name, problem, row)
            return _QUARANTINED
        return next(gate.admit(endpoint, row), _QUARANTINED)

    resource.add_map(admit)
    resource.add_filter(lambda item: item is not _QUARANTINED)


@dlt.source(name=SOURCE, max_table_nesting=0)
def balldontlie_source(ctx: RunContext, window: Window) -> Any:
    """Games of D-1 and D, box scores of D-1, players of those games' teams; for a window, the
    same over all its dates, read as ranges (`start_date`/`end_date`, 100 rows a page)."""
    session = ctx.session(
        SOURCE,
        ctx.config.balldontlie_base_url,
        classify_by_suffix(SOURCE, ENDPOINTS),
        api_key=ctx.config.balldontlie_key,
        key_in="header:Authorization",
    )
    base_url = (
        ctx.config.balldontlie_base_url.rstrip("/") + "/" + ctx.config.balldontlie_prefix.strip("/")
    )
    game_days = frozenset(window.slate_days())
    stat_days = frozenset(window.result_days())
    for day in game_days:
        ctx.issues.list_slate(SOURCE, day)
    coverage = BoxScoreCoverage(
        stat_days,
        lambda reason, game: ctx.issues.reject(SOURCE, "bdl.stats", STATS.name, reason, game),
        lambda game: ctx.issues.list_slate(SOURCE, _day(game.get("date")), [_teams(game)]),
    )
    paginator = GuardedCursorPaginator(observer=coverage)
    games, stats = rest_api_resources(
        {
            "client": {"base_url": base_url + "/", "session": session, "paginator": paginator},
            "resource_defaults": {
                "endpoint": {"data_selector": "data", "params": {"per_page": PER_PAGE}},
            },
            "resources": [
                {"name": "games", "endpoint": {"path": "games", "params": _dates(game_days)}},
                {"name": "stats", "endpoint": {"path": "stats", "params": _dates(stat_days)}},
            ],
        }
    )  # fmt: skip
    # fmt: off
    _gate_pages(games, ctx, GAMES, "bdl.games",
                lambda r: date_problem(r.get("date"), game_days, "game date"))
    games.apply_hints(**_hints(ctx, GAMES))
    stats.add_filter(_final("bdl.stats", ctx))
    _gate_pages(stats, ctx, STATS, "bdl.stats",
                lambda r: date_problem(r.get("game__date"), stat_days, "the stat's game date"))
    # fmt: on
    stats.apply_hints(**_hints(ctx, STATS))

    client = RESTClient(
        base_url=base_url,
        session=session,
        paginator=GuardedCursorPaginator(),
        data_selector="data",
    )
    gate = ctx.gate(SOURCE, PLAYERS)
    asked: set[int] = set()

    @dlt.transformer(data_from=games, name="players", **_hints(ctx, PLAYERS))
    def players(page: Any) -> Iterator[dict[str, Any]]:
        rows = page if isinstance(page, list) else [page]
        team_ids = sorted(
            {r[c] for r in rows for c in ("home_team__id", "visitor_team__id") if r.get(c)} - asked
        )
        if not team_ids:
            return
        asked.update(team_ids)
        for found in client.paginate(
            "/players", params={"team_ids[]": team_ids, "per_page": PER_PAGE}
        ):
            for item in found:
                yield from gate.admit("bdl.players", flatten(item))

    return games, stats, players


def _dates(days: frozenset[date]) -> dict[str, Any]:
    """A date or two (the daily path) as `dates[]`; a backfill chunk's days as one range."""
    if len(days) <= 2:
        return {"dates[]": [d.isoformat() for d in sorted(days)]}
    return {"start_date": min(days).isoformat(), "end_date": max(days).isoformat()}


def _hints(ctx: RunContext, table: TableDef) -> dict[str, Any]:
    hints = ctx.hints(SOURCE, table)
    hints.pop("table_name")
    return hints
