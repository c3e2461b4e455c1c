"""Dependency checks before scoring: is what the models read there, and fresh enough?

Each check reads the warehouse dbt has just built (the marts, and the raw injury snapshots) and
says ok, warning or failed, with the value it saw and the bound it held it to; all of them go into
the run log (step `checks`, `details.checks`). A failed check stops scoring unless the run is
forced; a warning never does.

- box scores: the last date with box scores is the last date before the run's date that had games,
  and every game of that date has them;
- lines: the run's date has pre-game line snapshots for its games, the latest one at most
  `max_line_age_hours` old at the run's now;
- injuries: the latest injury report is at most `max_injury_age_hours` old at the run's now;
- sources: no source failed in this run's extract, except a fallback whose primary loaded (ESPN's
  box scores stand behind balldontlie's: a warning);
- features: the run's date has feature rows when it has games.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

# a source whose failure is only a warning while its primary loaded in the same run
FALLBACK_OF = {"espn": "balldontlie"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warning | failed
    message: str
    value: Any = None
    bound: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, date | datetime) else v)
            for k, v in asdict(self).items()
        }


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    return row[0] if row else None


def _utc(value: datetime) -> datetime:
    """DuckDB hands back `timestamp` naive (UTC by the house rule) and `timestamptz` aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        _one(
            con,
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        )
    )


def check_box_scores(con: duckdb.DuckDBPyConnection, day: date) -> Check:
    last_game = _one(
        con, "select max(game_date) from analytics.dim_games where game_date < ?", [day]
    )
    if last_game is None:
        return Check("box_scores", "ok", f"no games before {day}: nothing to have box scores of")
    last_box = _one(
        con, "select max(game_date) from analytics.fct_player_games where game_date < ?", [day]
    )
    missing = _one(
        con,
        "select count(*) from analytics.dim_games as games where games.game_date = ? "
        "and not exists (select 1 from analytics.fct_player_games as box "
        "where box.game_id = games.game_id)",
        [last_game],
    )
    if last_box is None:
        return Check("box_scores", "failed", "no box scores at all", None, last_game)
    if last_box < last_game or missing:
        return Check(
            "box_scores",
            "failed",
            f"box scores end {last_box}; {missing} game(s) of {last_game} have none",
            last_box,
            last_game,
        )
    return Check("box_scores", "ok", f"box scores through {last_box}", last_box, last_game)


def check_lines(
    con: duckdb.DuckDBPyConnection, day: date, now: datetime, max_age_hours: float
) -> Check:
    games = _one(con, "select count(*) from analytics.dim_games where game_date = ?", [day])
    if not games:
        return Check("lines", "ok", f"no games on {day}: no lines to expect", 0)
    latest = _one(
        con,
        "select max(snapshot_at) from analytics.fct_prop_lines "
        "where game_date = ? and is_pre_game and snapshot_at <= ?",
        [day, now],
    )
    bound = f"{max_age_hours:g} h"
    if latest is None:
        return Check(
            "lines", "failed", f"{games} game(s) on {day} and no pre-game line", None, bound
        )
    latest = _utc(latest)
    age = now - latest
    hours = round(age.total_seconds() / 3600, 2)
    if age > timedelta(hours=max_age_hours):
        return Check(
            "lines", "failed", f"latest line snapshot {latest} is {hours} h old", hours, bound
        )
    return Check("lines", "ok", f"latest line snapshot {latest} ({hours} h old)", hours, bound)


def check_injuries(con: duckdb.DuckDBPyConnection, now: datetime, max_age_hours: float) -> Check:
    tables = [
        t for t in ("espn_injuries", "bdl_player_injuries") if _table_exists(con, "raw_injuries", t)
    ]
    bound = f"{max_age_hours:g} h"
    if not tables:
        return Check("injuries", "failed", "no injury report was ever loaded", None, bound)
    union = " union all ".join(
        f"select max(snapshot_at) as snapshot_at from raw_injuries.{t} where snapshot_at <= ?"
        for t in tables
    )
    latest = _one(con, f"select max(snapshot_at) from ({union})", [now] * len(tables))
    if latest is None:
        return Check("injuries", "failed", f"no injury report at or before {now}", None, bound)
    latest = _utc(latest)
    hours = round((now - latest).total_seconds() / 3600, 2)
    if hours > max_age_hours:
        return Check(
            "injuries", "failed", f"latest injury report {latest} is {hours} h old", hours, bound
        )
    return Check("injuries", "ok", f"latest injury report {latest} ({hours} h old)", hours, bound)


def check_sources(failed: Mapping[str, str], loaded: Sequence[str]) -> list[Check]:
    """One check per source that failed in this run's extract (none: one ok check)."""
    if not failed:
        return [Check("sources", "ok", "every source loaded")]
    checks = []
    for source, reason in sorted(failed.items()):
        primary = FALLBACK_OF.get(source)
        if primary is not None and primary in loaded:
            status, said = (
                "warning",
                f"{source} (fallback of {primary}, which loaded) failed: {reason}",
            )
        else:
            status, said = "failed", f"{source} failed: {reason}"
        checks.append(Check(f"source_{source}", status, said))
    return checks


def check_features(con: duckdb.DuckDBPyConnection, day: date) -> Check:
    games = _one(con, "select count(*) from analytics.dim_games where game_date = ?", [day])
    rows = _one(
        con, "select count(*) from features.fct_player_prop_features where game_date = ?", [day]
    )
    if games and not rows:
        return Check("features", "failed", f"{games} game(s) on {day} and no feature row", 0)
    return Check("features", "ok", f"{rows} feature row(s) for {games} game(s)", rows)


def run_checks(
    warehouse: Path,
    day: date,
    now: datetime,
    *,
    failed_sources: Mapping[str, str],
    loaded_sources: Sequence[str],
    max_line_age_hours: float,
    max_injury_age_hours: float,
) -> list[Check]:
    """Every check; `now` is the extract's clock, the moment the inputs describe.

    The job's reads open the file as its writes do (read-write, default settings): the job holds
    the daily lock, and a read-only connection is refused in a process that still has another
    connection open (dbt's, in a test process) with other settings."""
    now = _utc(now)
    con = duckdb.connect(str(warehouse))
    try:
        return [
            check_box_scores(con, day),
            check_lines(con, day, now, max_line_age_hours),
            check_injuries(con, now, max_injury_age_hours),
            *check_sources(failed_sources, loaded_sources),
            check_features(con, day),
        ]
    finally:
        con.close()
