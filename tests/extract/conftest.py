"""Fixtures for extract's tests: configs aimed at the sandbox over loopback, warehouse readers.

Every warehouse, pipelines dir, landing folder and schema copy lives under pytest's tmp dirs; the
frozen schemas are copied per test so that accepting drift never touches extract/schemas/.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from extract.cli import app
from extract.config import DATASETS, REPO_ROOT, HttpSettings, OddsSettings, RateLimits
from extract.config import ExtractConfig as Config
from extract.errors import SourcesFailedError
from extract.runner import RunReport, run_extract

# the sandbox's default clock is 2026-01-15 17:00Z: noon in New York, mid-season
TODAY = date(2026, 1, 15)
YESTERDAY = date(2026, 1, 14)
UNPACED = RateLimits(odds_api=0, balldontlie=0, espn=0)  # the sandbox is on loopback
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
        sandbox_url=server.url,  # a sandbox: its clock can be moved (injury report backfills)
        http=FAST_HTTP,
        odds=OddsSettings(),
        rates=UNPACED,
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


def fingerprint(
    path: Path, datasets: tuple[str, ...] = tuple(DATASETS.values()), *, dlt_columns: bool = False
) -> dict:
    """(rows, checksum) of every raw data table, over every column but dlt's load ids and the
    warehouse's load times derived from them (or over every column, `_dlt_load_id`, `_dlt_id`
    and `loaded_at` included, with `dlt_columns=True`)."""
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
                if dlt_columns
                or not (c.startswith("_dlt") or c in ("loaded_at", "inputs_loaded_at"))
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
    """One date. When exactly one source fails, its own error is raised (a drift test expects
    `SchemaDriftError`); the `SourcesFailedError` around it stays reachable as `__cause__`."""
    try:
        return run_extract(config, [day], **kwargs)
    except SourcesFailedError as failed:
        if len(failed.failures) == 1:
            raise failed.failures[0].error from failed
        raise


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


def warehouse_state(path: Path) -> dict:
    """Everything a failed run must leave alone: every raw data table (rows and a checksum over
    all columns, dlt's load and row ids included, so a rewritten row shows) and the number of
    loads dlt recorded per raw dataset (so a load of rows identical to the old ones shows too)."""
    state = fingerprint(path, dlt_columns=True)
    if not path.exists():
        return state
    con = duckdb.connect(str(path), read_only=True)
    try:
        for dataset in DATASETS.values():
            present = con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = '_dlt_loads'",
                [dataset],
            ).fetchone()[0]
            if present:
                loads = con.execute(f"select count(*) from {dataset}._dlt_loads").fetchone()[0]
                state[f"{dataset}._dlt_loads"] = loads
    finally:
        con.close()
    return state


# the preloaded warehouse holds the same date seen two hours earlier: other line snapshots, so a
# failed run that loaded anything at all would change a checksum or a load count
PRELOAD_NOW = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def preloaded(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> tuple[Path, dict]:
    """A warehouse file with the day already loaded once (at 15:00Z), and its state."""
    sandbox_server.reset()
    root = tmp_path_factory.mktemp("preloaded")
    sandbox_server.set_now(PRELOAD_NOW)
    try:
        run(make_config(root, sandbox_server, now=PRELOAD_NOW))
    finally:
        sandbox_server.reset()
    path = root / "warehouse" / "raw.duckdb"
    state = warehouse_state(path)
    assert all(rows > 0 for rows, _ in fingerprint(path).values())
    return path, state


def copy_preloaded(preloaded: tuple[Path, dict], root: Path) -> dict:
    """Put a copy of the preloaded warehouse where `make_config(root, ...)` expects it."""
    source, state = preloaded
    target = root / "warehouse" / "raw.duckdb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return state


def cli_env(root: Path, server: Any) -> dict[str, str]:
    """The environment the CLI reads, aimed at `server`, every folder under `root`."""
    config = make_config(root, server)  # copies the frozen schemas into root
    return {
        "ODDS_API_KEY": server.odds_api_key,
        "ODDS_API_BASE_URL": server.odds_api_url,
        "BALLDONTLIE_API_KEY": server.balldontlie_key,
        "BALLDONTLIE_BASE_URL": server.balldontlie_url,
        "ESPN_BASE_URL": server.espn_url,
        "NBA_PROPS_TARGET": "dev",
        "NBA_PROPS_DUCKDB_PATH": str(config.duckdb_path),
        "NBA_PROPS_DLT_DIR": str(config.dlt_dir),
        "NBA_PROPS_LANDING_DIR": str(config.landing_dir),
        "NBA_PROPS_SCHEMAS_DIR": str(config.schemas_dir),
        "NBA_PROPS_NOW": server.now.isoformat(),
        "NBA_PROPS_SANDBOX_URL": server.url,
        "NBA_PROPS_HTTP_READ_TIMEOUT": "2",
        "NBA_PROPS_HTTP_BACKOFF_BASE": "0.01",
        "NBA_PROPS_HTTP_BACKOFF_CAP": "0.05",
        "ODDS_API_REQUESTS_PER_SECOND": "0",
        "BALLDONTLIE_REQUESTS_PER_MINUTE": "0",
        "ESPN_REQUESTS_PER_SECOND": "0",
    }


@pytest.fixture
def invoke(tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`python -m extract ...` in-process (typer's CliRunner), configured by `cli_env`."""
    for name, value in cli_env(tmp_path, sandbox).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def call(*args: str, **kwargs: Any) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False, **kwargs)

    return call
