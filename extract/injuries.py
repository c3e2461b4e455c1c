"""Injury reports: ESPN's public injuries JSON and balldontlie's `player_injuries`, snapshotted.

A report is the league's availability news as it stands *now*: neither API keeps old reports. Each
row carries `snapshot_at`, the moment the report was read (the run's "now"), and the key includes
it, so that what was known at any moment can be rebuilt by taking the last snapshot before it.
Snapshots are observations: appended, never rewritten (merge `insert-only`, so a rerun at the same
"now" adds nothing).

- `espn_injuries`: one row per snapshot and athlete, the team block's `id`/`displayName` flattened
  in as `team__*`, ESPN's `date` (when the item was reported, UTC), `status`, `details__type`,
  `details__detail`, `details__return_date`, `short_comment`. `GET .../nba/injuries` (no
  parameters) answers `{"injuries": [{"id", "displayName", "injuries": [...]}]}`; a day without
  injuries is `"injuries": []`, a body without the list is quarantined (not read as "no one hurt").
- `bdl_player_injuries`: one row per snapshot and player, balldontlie's shape (`player__*`,
  `status`, `return_date` as sent: "Jan 16", no year; `description`). A paid endpoint (ALL-STAR and
  up): with `BALLDONTLIE_PLAN=free` it is never asked, and the run says so.

Dates: the daily run of a date D takes one snapshot, at the run's "now". A backfill has no past
reports to read from the real APIs: its past dates load nothing and the run says so (DECISIONLOG).
Only the sandbox, whose clock can be moved, replays them (`SandboxClock`, below): for each past
date, the report at that date's pick time (noon in New York), as a daily job would have read it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

import dlt
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

from extract.balldontlie import PER_PAGE, GuardedCursorPaginator
from extract.contracts import Check, KnownTeam, PersonName, TableDef, flatten
from extract.errors import ExtractError
from extract.espn import BASE_PATH as ESPN_BASE_PATH
from extract.espn import EASTERN
from extract.http import classify_by_suffix
from extract.odds_api import is_live, iso_z
from extract.runtime import RunContext
from extract.window import Window

log = logging.getLogger("extract")

SOURCE = "injuries"
# named as the sandbox names them (its faults and captures use these names)
ESPN_ENDPOINT = "espn.injuries"
BDL_ENDPOINT = "bdl.player_injuries"
ENDPOINTS = ((r"/injuries$", ESPN_ENDPOINT), (r"/player_injuries$", BDL_ENDPOINT))
# the plans that include balldontlie's `player_injuries` (its docs: ALL-STAR and GOAT)
BDL_INJURY_PLANS = frozenset({"all-star", "goat"})


def _not_blank(column: str) -> Check:
    def test(record: dict[str, Any]) -> str:
        value = record.get(column)
        return f"`{column}` is blank" if value is None or not str(value).strip() else ""

    return Check(column, test)


ESPN_INJURIES = TableDef(
    name="espn_injuries",
    primary_key=("snapshot_at", "athlete__id"),
    # a snapshot is an observation: appended, never rewritten; a rerun at the same "now" adds
    # nothing
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    declared={
        "snapshot_at": "timestamp",
        "team__id": "text",
        "athlete__id": "text",
        "athlete__display_name": "text",
        "status": "text",
        "date": "timestamp",
        "details__type": "text",
        "details__detail": "text",
        "details__return_date": "date",
        "short_comment": "text",
    },
    rules=(
        KnownTeam("team__id", "espn_id"),
        PersonName("athlete__display_name"),
        _not_blank("status"),
    ),
)
BDL_PLAYER_INJURIES = TableDef(
    name="bdl_player_injuries",
    primary_key=("snapshot_at", "player__id"),
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    declared={
        "snapshot_at": "timestamp",
        "player__id": "bigint",
        "player__first_name": "text",
        "player__last_name": "text",
        "player__team__id": "bigint",
        "status": "text",
        "return_date": "text",
        "description": "text",
    },
    rules=(
        KnownTeam("player__team__id", "bdl_id"),
        # unverified: the real endpoint may send the player's `team_id` flat, as /stats does
        KnownTeam("player__team_id", "bdl_id"),
        PersonName("player__last_name"),
        PersonName("player__first_name", optional=True),
        _not_blank("status"),
    ),
)
TABLES = (ESPN_INJURIES, BDL_PLAYER_INJURIES)


def pick_time(day: Any, hour: int) -> datetime:
    """`hour` o'clock in New York on `day`, in UTC: when a daily job reads that date's report."""
    return datetime.combine(day, time(hour), tzinfo=EASTERN).astimezone(UTC)


class SandboxClock:
    """The sandbox's clock, through its control surface (`GET /_sandbox/state`,
    `POST /_sandbox/now`): the only upstream whose past can be asked for. Not an API call: not
    paced, not recorded in landing."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url.rstrip("/") + "/_sandbox"
        self.timeout = timeout

    def now(self) -> datetime:
        body = self._call("GET", "/state")
        return datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))

    def set(self, when: datetime) -> None:
        self._call("POST", "/now", {"now": iso_z(when)})

    @contextmanager
    def borrowed(self) -> Iterator[SandboxClock]:
        """The clock to move at will; put back where it was afterwards, whatever happens."""
        before = self.now()
        try:
            yield self
        finally:
            self.set(before)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = requests.request(method, self.url + path, json=body, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ExtractError(
                f"{SOURCE}: the sandbox's clock at {self.url}{path} did not answer ({exc}); "
                "is NBA_PROPS_SANDBOX_URL the running sandbox?"
            ) from exc


@dataclass
class Snapshot:
    at: datetime
    espn: Any = None  # ESPN's body
    bdl: list[Any] = field(default_factory=list)  # balldontlie's pages (bodies)


class InjuryPlan:
    """Which snapshots a window takes, fetched once; the resources read rows from them."""

    def __init__(self, ctx: RunContext, window: Window) -> None:
        self.ctx = ctx
        self.window = window
        config = ctx.config
        self.espn = RESTClient(
            base_url=config.espn_base_url.rstrip("/") + ESPN_BASE_PATH,
            session=ctx.session(
                SOURCE, config.espn_base_url, classify_by_suffix(SOURCE, ENDPOINTS), api="espn"
            ),
            paginator=SinglePagePaginator(),
            data_selector="$",
        )
        self.bdl: RESTClient | None = None
        if config.balldontlie_plan in BDL_INJURY_PLANS:
            bdl_session = ctx.session(
                SOURCE,
                config.balldontlie_base_url,
                classify_by_suffix(SOURCE, ENDPOINTS),
                api_key=config.balldontlie_key,
                key_in="header:Authorization",
                api="balldontlie",
            )
            self.bdl = RESTClient(
                base_url=config.balldontlie_base_url.rstrip("/")
                + "/"
                + config.balldontlie_prefix.strip("/"),
                session=bdl_session,
                paginator=GuardedCursorPaginator(),
                data_selector="$",  # the whole body: a page without `data` is refused, not empty
            )
        self._snapshots: list[Snapshot] | None = None

    def note(self, text: str) -> None:
        self.ctx.issues.notes.append(f"{SOURCE}: {text}")
        log.info("run=%s %s: %s", self.ctx.run_id, SOURCE, text)

    def moments(self) -> list[tuple[datetime, bool]]:
        """The snapshot times of the window, each with whether the sandbox's clock must be
        moved to it (only a sandbox backfill's past dates)."""
        now = self.ctx.now
        if not self.ctx.backfill:
            return [(now, False)]  # the daily run: the report as it stands
        days = self.window.days()
        past = [d for d in days if not is_live(d, now)]
        current = [(now, False)] if len(past) < len(days) else []  # today (or later): as daily
        if not past:
            return current
        span = f"{past[0]}..{past[-1]}" if len(past) > 1 else str(past[0])
        if self.ctx.config.sandbox_url is None or self.ctx.replay is not None:
            self.note(
                f"no injury report history: the APIs serve only the current report, so nothing "
                f"is loaded for the past date(s) {span} (see DECISIONLOG.md)"
            )
            return current
        # --- the sandbox only: replay the report a daily job would have read on each past date
        hour = self.ctx.config.odds.pick_hour_eastern
        self.note(f"sandbox: replaying the reports of {span} as read at {hour}:00 New York time")
        return [(pick_time(d, hour), True) for d in past] + current

    def snapshots(self) -> list[Snapshot]:
        if self._snapshots is None:
            if self.bdl is None:
                self.note(
                    f"BALLDONTLIE_PLAN={self.ctx.config.balldontlie_plan}: balldontlie's "
                    "player_injuries is a paid endpoint (ALL-STAR and up), not asked; "
                    f"{BDL_PLAYER_INJURIES.name} gets no rows"
                )
            moments = self.moments()
            replayed = [at for at, move in moments if move]
            snapshots = []
            if replayed:
                clock = SandboxClock(str(self.ctx.config.sandbox_url), self._timeout())
                with clock.borrowed():
                    for at in replayed:
                        clock.set(at)
                        snapshots.append(self._read(at))
            snapshots += [self._read(at) for at, move in moments if not move]
            self._snapshots = snapshots
        return self._snapshots

    def _timeout(self) -> float:
        http = self.ctx.config.http
        return http.connect_timeout + http.read_timeout

    def _read(self, at: datetime) -> Snapshot:
        snapshot = Snapshot(at, espn=self.espn.get("/injuries").json())
        if self.bdl is not None:
            for page in self.bdl.paginate("/player_injuries", params={"per_page": PER_PAGE}):
                snapshot.bdl.extend(page)
        return snapshot

    def reject(self, endpoint: str, table: str, reason: str, record: Any) -> None:
        shown = record if isinstance(record, dict) else {"body": record}
        self.ctx.issues.reject(SOURCE, endpoint, table, reason, shown)

    def espn_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for snapshot in self.snapshots():
            yield from espn_rows(snapshot, self.reject)

    def bdl_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for snapshot in self.snapshots():
            yield from bdl_rows(snapshot, self.reject)


def _shape(body: Any, key: str) -> str:
    """Why a body does not hold the list `key`, or "" (an empty list is a legitimate answer)."""
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return ""
    got = sorted(body)[:10] if isinstance(body, dict) else type(body).__name__
    return f"the response has no `{key}` list (got {got}); no injuries is `{key}: []`"


def espn_rows(snapshot: Snapshot, reject: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """One row per athlete of the report, its team block's fields as `team__*`."""
    stamp = iso_z(snapshot.at)
    body = snapshot.espn
    problem = _shape(body, "injuries")
    if problem:
        reject(ESPN_ENDPOINT, ESPN_INJURIES.name, problem, body)
        return
    for team in body["injuries"]:
        problem = _shape(team, "injuries")
        if problem:
            reason = f"a team's block: {problem}"
            reject(ESPN_ENDPOINT, ESPN_INJURIES.name, reason, {"snapshot_at": stamp, "team": team})
            continue
        team_fields = flatten({k: v for k, v in team.items() if k != "injuries"}, "team")
        for item in team["injuries"]:
            if not isinstance(item, dict):
                reason = f"an injury item is a {type(item).__name__}, not an object"
                reject(ESPN_ENDPOINT, ESPN_INJURIES.name, reason, {"item": item, **team_fields})
                continue
            yield ESPN_ENDPOINT, {"snapshot_at": stamp, **team_fields, **flatten(item)}


def bdl_rows(snapshot: Snapshot, reject: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    stamp = iso_z(snapshot.at)
    for body in snapshot.bdl:
        problem = _shape(body, "data")
        if problem:
            reject(BDL_ENDPOINT, BDL_PLAYER_INJURIES.name, problem, body)
            continue
        for item in body["data"]:
            if not isinstance(item, dict):
                reason = f"an injury item is a {type(item).__name__}, not an object"
                reject(BDL_ENDPOINT, BDL_PLAYER_INJURIES.name, reason, {"item": item})
                continue
            yield BDL_ENDPOINT, {"snapshot_at": stamp, **flatten(item)}


@dlt.source(name=SOURCE, max_table_nesting=0)
def injuries_source(ctx: RunContext, window: Window) -> Any:
    """The injury reports of the window's snapshot(s): see the module docstring for which."""
    plan = InjuryPlan(ctx, window)
    return (
        ctx.resource(SOURCE, ESPN_INJURIES, plan.espn_rows),
        ctx.resource(SOURCE, BDL_PLAYER_INJURIES, plan.bdl_rows),
    )
