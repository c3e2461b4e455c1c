"""The coverage target: predictions made over player lines offered, per system."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipeline.coverage import breaches, read_coverage

DAY = date(2025, 11, 5)


def _predictions(warehouse: Path, rows: list[tuple]) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute(
        "create schema raw_models_ml; create table raw_models_ml.predictions "
        "(game_date date, system varchar, line double, skip_reason varchar)"
    )
    con.executemany("insert into raw_models_ml.predictions values (?, ?, ?, ?)", rows)
    con.close()


def test_a_system_below_the_target_is_a_breach_and_a_day_without_lines_is_not(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "w.duckdb"
    offered = [(DAY, "catboost", 20.5, None)] * 18 + [(DAY, "catboost", 20.5, "stale_features")] * 2
    # a line for a player ruled out is void: not a line to cover
    offered += [(DAY, "catboost", 20.5, "player_out")] * 3
    offered += [(DAY, "baseline", 20.5, None)] * 20
    # a row without a line is not offered, whatever its skip reason; another date is not this one
    offered += [(DAY, "baseline", None, "no_line"), (date(2025, 11, 4), "catboost", 1.5, "x")]
    _predictions(warehouse, offered)
    coverage = {c.system: c for c in read_coverage(warehouse, DAY)}
    assert (coverage["catboost"].lines_offered, coverage["catboost"].predictions_made) == (20, 18)
    assert coverage["catboost"].coverage == 0.9
    assert coverage["baseline"].coverage == 1.0
    assert [c.system for c in breaches(list(coverage.values()), 0.95)] == ["catboost"]
    assert breaches(list(coverage.values()), 0.9) == []
    assert read_coverage(warehouse, date(2025, 11, 6)) == []
