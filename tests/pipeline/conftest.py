"""Helpers for the daily job's tests: an environment that aims a run at throwaway folders, and a
fingerprint of the warehouse that leaves out what differs by design between two runs of a date
(run ids, dlt load ids, load and scoring times, the run logs themselves)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
UPSTREAM_VARIABLES = (
    "ODDS_API_KEY",
    "BALLDONTLIE_API_KEY",
    "ODDS_API_BASE_URL",
    "BALLDONTLIE_BASE_URL",
    "ESPN_BASE_URL",
    "NBA_PROPS_TARGET",
    "NBA_PROPS_NOW",
    "DATE",
)
# columns whose values are the run's own: who ran it and when, not what it computed
PER_RUN_COLUMNS = frozenset(
    {
        "run_id",
        "predicted_at",
        "loaded_at",
        "inputs_loaded_at",
        "feature_inputs_loaded_at",
        "_dlt_load_id",
        "_dlt_id",
    }
)
# the logs of runs: each run adds its own rows by design
LOG_SCHEMAS = frozenset({"extract_log", "raw_pipeline", "ops"})


def daily_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a `make daily` on the sandbox with every folder under `tmp`."""
    env = {
        **os.environ,
        "NBA_PROPS_DUCKDB_PATH": str(tmp / "warehouse" / "daily.duckdb"),
        "NBA_PROPS_DLT_DIR": str(tmp / "dlt"),
        "NBA_PROPS_LANDING_DIR": str(tmp / "landing"),
        "NBA_PROPS_PUBLIC_DIR": str(tmp / "public"),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
        **extra,
    }
    for name in UPSTREAM_VARIABLES:
        if name not in extra:
            env.pop(name, None)
    return env


def warehouse_fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """(rows, checksum) of every table and view outside the logs, over its computed columns."""
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name not like '\\_dlt%' escape '\\' and table_schema not like '%staging'"
        ).fetchall()
        for schema, table in sorted(tables):
            if schema in LOG_SCHEMAS:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by column_name",
                    [schema, table],
                ).fetchall()
                if c not in PER_RUN_COLUMNS
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {quoted} from "{schema}"."{table}"').fetchall()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            out[f"{schema}.{table}"] = (len(rows), digest)
    finally:
        con.close()
    return out
