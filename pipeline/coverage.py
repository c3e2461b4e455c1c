"""The coverage target: predictions made over player lines offered, per system, every run.

A line for a player ruled out at pick time is not one to cover: books void a prop on a player who
does not play, so there is no bet to make (the row is still written, skipped as `player_out`).

Read from `predictions.fct_prediction_coverage` (lines offered come from the feature store there,
so a line the scorer never wrote counts against coverage); before that mart exists, from the
predictions table itself. A day without lines has nothing to cover and no breach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

MART = ("predictions", "fct_prediction_coverage")


@dataclass(frozen=True)
class SystemCoverage:
    system: str
    lines_offered: int
    predictions_made: int

    @property
    def coverage(self) -> float | None:
        return self.predictions_made / self.lines_offered if self.lines_offered else None


def read_coverage(warehouse: Path, day: date) -> list[SystemCoverage]:
    con = duckdb.connect(str(warehouse))
    try:
        has_mart = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            list(MART),
        ).fetchone()
        if has_mart and has_mart[0]:
            sql = (
                "select system, lines_offered, predictions_made "
                f"from {MART[0]}.{MART[1]} where game_date = ? order by system"
            )
        else:
            sql = (
                # a line for a player ruled out is void, not a line to cover (as in the mart)
                "select system, count(line) filter (where skip_reason is distinct from "
                "'player_out'), count(line) filter (where skip_reason is null) "
                "from raw_models_ml.predictions where game_date = ? group by system order by system"
            )
        rows = con.execute(sql, [day]).fetchall()
    finally:
        con.close()
    return [SystemCoverage(s, int(o or 0), int(m or 0)) for s, o, m in rows]


def breaches(coverage: list[SystemCoverage], target: float) -> list[SystemCoverage]:
    return [c for c in coverage if c.coverage is not None and c.coverage < target]
