"""Reading the feature store: its rows, its labels and the column types that form the contract.

The systems never see anything else: features are SQL (the marts); this module only selects them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from models_ml.config import FEATURES_TABLE, OUTCOMES_TABLE
from models_ml.errors import WarehouseError

KEYS: tuple[str, ...] = ("game_date", "game_id", "player_id", "market")


def connect(warehouse: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """One connection per call; the caller closes it (one writer at a time on the file)."""
    if not Path(warehouse).exists():
        raise WarehouseError(
            f"warehouse {warehouse}: no such file (run the daily job or dbt first)"
        )
    return duckdb.connect(str(warehouse), read_only=read_only)


def column_types(con: duckdb.DuckDBPyConnection, table: str = FEATURES_TABLE) -> dict[str, str]:
    """The warehouse's own types of a table's columns: the feature contract is checked on them."""
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        raise WarehouseError(f"warehouse: table {table} does not exist (build it with dbt first)")
    return {column: str(kind).upper() for column, kind in rows}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """A fixed row order: the same rows always reach a model in the same order (same model)."""
    return frame.sort_values(list(KEYS), kind="stable").reset_index(drop=True)


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    return frame


def read_features(
    con: duckdb.DuckDBPyConnection, *, on: date | None = None, before: date | None = None
) -> pd.DataFrame:
    """Feature rows of one date (`on`) or of every date before one (`before`)."""
    column_types(con)
    where, params = [], []
    if on is not None:
        where.append("game_date = ?")
        params.append(on)
    if before is not None:
        where.append("game_date < ?")
        params.append(before)
    sql = f"select * from {FEATURES_TABLE}"
    if where:
        sql += " where " + " and ".join(where)
    return _sorted(_normalise(con.execute(sql, params).df()))


def read_training_rows(con: duckdb.DuckDBPyConnection, *, before: date | None) -> pd.DataFrame:
    """Feature rows with their labels (outcomes), games before `before` only (None: all final)."""
    column_types(con, OUTCOMES_TABLE)
    sql = (
        f"select features.*, outcomes.did_play, outcomes.minutes_played as label_minutes_played, "
        f"outcomes.actual_value from {FEATURES_TABLE} as features "
        f"inner join {OUTCOMES_TABLE} as outcomes "
        "on features.player_id = outcomes.player_id and features.game_id = outcomes.game_id "
        "and features.market = outcomes.market"
    )
    params: list[object] = []
    if before is not None:
        sql += " where features.game_date < ?"
        params.append(before)
    return _sorted(_normalise(con.execute(sql, params).df()))
