"""The dbt tests' warehouse: a few real weeks of the sandbox league, extracted over loopback HTTP
by the real backfill, then one real `dbt build` shared by the dbt tests of a session."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from extract.backfill import run_backfill
from extract.config import OddsSettings
from tests.extract.conftest import make_config

REPO = Path(__file__).resolve().parents[2]

# Opening night to the fourth Sunday: long enough for 5- and 10-game windows, short enough to
# extract in seconds. The sandbox's clock sits at noon Eastern the day after: every game is final.
FIRST, LAST = date(2025, 10, 21), date(2025, 11, 16)
RAW_NOW = datetime(2025, 11, 17, 17, 0, tzinfo=UTC)
CREDITS = 10_000_000  # the sandbox's credits are free


@dataclass(frozen=True)
class DbtBuild:
    """What a dbt build left behind: its per-node results, manifest and warehouse file."""

    statuses: dict[str, str]
    manifest: dict[str, Any]
    warehouse: Path
    target_path: Path


def run_dbt(args: list[str], *, warehouse: Path, target_path: Path, check: bool = True) -> Any:
    """Run dbt in this process (saves 2-3 s of start-up per call) against the given test file."""
    os.environ["DBT_PROFILES_DIR"] = str(REPO)
    os.environ["NBA_PROPS_TEST_DUCKDB_PATH"] = str(warehouse)
    result = dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(REPO),
            "--target",
            "test",
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
        ]
    )
    if result.exception is not None:
        raise result.exception
    if check and not result.success:
        failed = [
            f"{r.node.unique_id}: {r.status} {r.message}"
            for r in getattr(result.result, "results", [])
            if str(r.status) not in {"success", "pass"}
        ]
        raise AssertionError("dbt " + " ".join(args) + " failed:\n" + "\n".join(failed))
    return result


# Test modules outside this folder import the two fixtures below (tests/pipeline/test_publish.py):
# pytest then holds a second definition of each, so the session's one result is kept here for both.
_SESSION: dict[str, Any] = {}


@pytest.fixture(scope="session")
def raw_weeks(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> Path:
    """A raw layer of FIRST..LAST backfilled from the sandbox: the warehouse dbt starts from."""
    if "raw_weeks" in _SESSION:
        return _SESSION["raw_weeks"]
    root = tmp_path_factory.mktemp("raw_weeks")
    sandbox_server.reset()
    sandbox_server.set_now(RAW_NOW)
    sandbox_server.ledger.reset(CREDITS)
    try:
        odds = OddsSettings(credit_budget=CREDITS)
        config = make_config(root, sandbox_server, now=RAW_NOW, odds=odds)
        run_backfill(config, FIRST, LAST)
    finally:
        sandbox_server.reset()
    _SESSION["raw_weeks"] = config.duckdb_path
    return config.duckdb_path


def copy_built(source: Path, target: Path) -> Path:
    """Copy a warehouse that dbt in this process may still hold: its newest writes can sit in the
    write-ahead log, so checkpoint first (this connection shares dbt's database), then copy."""
    with duckdb.connect(str(source)) as con:
        con.execute("checkpoint")
    shutil.copyfile(source, target)
    return target


def copy_raw(raw: Path, workdir: Path) -> Path:
    """A private copy of the raw layer, so each build owns its file."""
    warehouse = workdir / "nba_props_test.duckdb"
    shutil.copyfile(raw, warehouse)
    return warehouse


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory: pytest.TempPathFactory, raw_weeks: Path) -> DbtBuild:
    """Build the whole project on the raw weeks: every model, seed, unit and data test."""
    if "dbt_build" in _SESSION:
        return _SESSION["dbt_build"]
    workdir = tmp_path_factory.mktemp("dbt")
    warehouse = copy_raw(raw_weeks, workdir)
    target_path = workdir / "target"
    result = run_dbt(["build"], warehouse=warehouse, target_path=target_path, check=False)
    statuses = {r.node.unique_id: str(r.status) for r in result.result.results}
    manifest = json.loads((target_path / "manifest.json").read_text())
    _SESSION["dbt_build"] = DbtBuild(statuses, manifest, warehouse, target_path)
    return _SESSION["dbt_build"]
