"""Fixtures for extract's tests: configs aimed at the sandbox over loopback, warehouse readers.

Every warehouse, pipelines dir, landing folder and schema copy lives under pytest's tmp dirs; the
frozen schemas are copied per test so that accepting drift never touches extract/schemas/.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.config import DATASETS, REPO_ROOT, HttpSettings, OddsSettings
from extract.config import ExtractConfig as Config
from extract.runner import RunReport, run_extract

# the sandbox's default clock is 2026-01-15 17:00Z: noon in New York, mid-season
TODAY = date(2026, 1, 15)
YESTERDAY = date(2026, 1, 14)
FAST_HTTP = HttpSettings(
    connect_timeout=2.0,
    read_timeout=1.0,
    max_attempts=5,
    backoff_base=0.01,
    backoff_cap=0.05,
    max_retry_seconds=15.0,
)


def make_config(root: Path, server: Any, **changes: Any) -> Config:
    """A config aimed at `server`, with every folder under `root` and fast retries."""
    schemas = root / "schemas"
    if not schemas.exists():
        shutil.copytree(REPO_ROOT / "extract" / "schemas", schemas)
    config = Config(
        odds_api_key=server.odds_api_key,
        odds_api_base_url=server.odds_api_url,
        balldontlie_key=server.balldontlie_key,
        balldontlie_base_url=server.balldontlie_url,
        espn_base_url=server.espn_url,
        duckdb_path=root / "warehouse" / "raw.duckdb",
        dlt_dir=root / "dlt",
        landing_dir=root / "landing",
        schemas_dir=schemas,
        now=server.now,
        http=FAST_HTTP,
        odds=OddsSettings(),
    )
    return config.with_changes(**changes) if changes else config


@pytest.fixture
def config(tmp_path: Path, sandbox: Any) -> Config:
    return make_config(tmp_path, sandbox)


def table_names(path: Path) -> dict[str, list[str]]:
    """dataset -> tables in the warehouse (dlt's own tables and staging datasets left out)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name not like '\\_dlt%' escape '\\' and table_schema not like '%staging'"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    for schema, table in rows:
        out.setdefault(schema, []).append(table)
    return {k: sorted(v) for k, v in out.items()}


def fingerprint(path: Path, datasets: tuple[str, ...] = tuple(DATASETS.values())) -> dict:
    """(rows, checksum) of every raw table, over every column but dlt's load ids."""
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
        for schema, table in sorted(tables):
            if schema not in datasets:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by column_name",
                    [schema, table],
                ).fetchall()
                if not c.startswith("_dlt")
            ]
            rows = con.execute(
                f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} "
                f"from {schema}.{table}"
            ).fetchall()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            out[f"{schema}.{table}"] = (len(rows), digest)
    finally:
        con.close()
    return out


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run(config: Config, day: date = TODAY, **kwargs: Any) -> RunReport:
    return run_extract(config, [day], **kwargs)


@pytest.fixture(scope="session")
def loaded_three_times(
    tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any
) -> tuple[Config, list[RunReport], list[dict]]:
    """One warehouse, today loaded three times in a row; shared by read-only tests."""
    sandbox_server.reset()
    root = tmp_path_factory.mktemp("three_runs")
    config = make_config(root, sandbox_server)
    reports, prints = [], []
    for _ in range(3):
        reports.append(run(config))
        prints.append(fingerprint(config.duckdb_path))
    sandbox_server.reset()
    return config, reports, prints
