"""A failing step stops the run: non-zero exit, the step and its reason on screen and in the run
log, and no later step runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.lock import read_holder
from tests.pipeline.conftest import daily_env


def test_a_failing_step_stops_the_chain_and_names_itself(tmp_path: Path) -> None:
    # extract refuses to run without its frozen schemas: the first step of an empty warehouse
    # (the backfill) fails before any HTTP call; the upstream is set, so no sandbox starts
    (tmp_path / "no-schemas").mkdir()
    env = daily_env(
        tmp_path,
        NBA_PROPS_SCHEMAS_DIR=str(tmp_path / "no-schemas"),
        ODDS_API_BASE_URL="http://127.0.0.1:9",
        BALLDONTLIE_BASE_URL="http://127.0.0.1:9",
        ESPN_BASE_URL="http://127.0.0.1:9",
    )
    result = CliRunner().invoke(app, ["daily", "--date", "2025-11-05"], env=env)

    assert result.exit_code == 1, result.output
    assert "✗ backfill failed" in result.output
    assert "step backfill failed" in result.output
    assert "frozen schema" in result.output
    warehouse = Path(env["NBA_PROPS_DUCKDB_PATH"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select step, status, error from raw_pipeline.run_log order by started_at, step"
        ).fetchall()
        schemas = {s for (s,) in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        con.close()
    assert [(step, status) for step, status, _ in rows] == [
        ("run", "failed"),
        ("backfill", "failed"),
    ]
    assert "frozen schema" in rows[1][2]
    assert not schemas & {"raw_odds_api", "analytics", "features", "raw_models_ml"}
    assert not (tmp_path / "public").exists(), "a later step ran"
    assert read_holder(warehouse.with_name(warehouse.name + ".daily.lock")) is None

    said = CliRunner().invoke(app, ["status", "2025-11-05"], env=env)
    assert said.exit_code == 1
    assert "did NOT complete: step backfill failed" in said.output
