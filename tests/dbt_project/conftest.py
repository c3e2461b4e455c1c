"""One real `dbt build` on a fresh test warehouse per test session, shared by the dbt tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbt.cli.main import dbtRunner

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DbtBuild:
    """What a dbt build left behind: its per-node results, manifest and warehouse file."""

    statuses: dict[str, str]
    manifest: dict[str, Any]
    warehouse: Path
    target_path: Path


def run_dbt(args: list[str], *, warehouse: Path, target_path: Path) -> Any:
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
    return result


@pytest.fixture(scope="session")
def dbt_build(tmp_path_factory: pytest.TempPathFactory) -> DbtBuild:
    """Build the whole project on a brand-new DuckDB file: the fresh database is the hard case."""
    workdir = tmp_path_factory.mktemp("dbt")
    warehouse = workdir / "nba_props_test.duckdb"
    target_path = workdir / "target"
    result = run_dbt(["build"], warehouse=warehouse, target_path=target_path)
    statuses = {r.node.unique_id: str(r.status) for r in result.result.results}
    manifest = json.loads((target_path / "manifest.json").read_text())
    return DbtBuild(statuses, manifest, warehouse, target_path)
