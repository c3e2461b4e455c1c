"""The command line: a date, drift and its acceptance, exit codes, the in-process sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extract.cli import app
from extract.config import REPO_ROOT
from tests.extract.conftest import fingerprint, make_config, table_names

ENV_NAMES = (
    "ODDS_API_KEY",
    "ODDS_API_BASE_URL",
    "BALLDONTLIE_API_KEY",
    "BALLDONTLIE_BASE_URL",
    "ESPN_BASE_URL",
    "NBA_PROPS_TARGET",
)


def cli_env(tmp_path: Path, sandbox: Any) -> dict[str, str]:
    config = make_config(tmp_path, sandbox)  # copies the frozen schemas into tmp_path
    return {
        "ODDS_API_KEY": sandbox.odds_api_key,
        "ODDS_API_BASE_URL": sandbox.odds_api_url,
        "BALLDONTLIE_API_KEY": sandbox.balldontlie_key,
        "BALLDONTLIE_BASE_URL": sandbox.balldontlie_url,
        "ESPN_BASE_URL": sandbox.espn_url,
        "NBA_PROPS_TARGET": "dev",
        "NBA_PROPS_DUCKDB_PATH": str(config.duckdb_path),
        "NBA_PROPS_DLT_DIR": str(config.dlt_dir),
        "NBA_PROPS_LANDING_DIR": str(config.landing_dir),
        "NBA_PROPS_SCHEMAS_DIR": str(config.schemas_dir),
        "NBA_PROPS_NOW": sandbox.now.isoformat(),
        "NBA_PROPS_HTTP_READ_TIMEOUT": "2",
        "NBA_PROPS_HTTP_BACKOFF_BASE": "0.01",
    }


@pytest.fixture
def invoke(tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in cli_env(tmp_path, sandbox).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def call(*args: str, **kwargs: Any) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False, **kwargs)

    return call


def test_a_date_loads_and_prints_a_summary(invoke: Any, tmp_path: Path) -> None:
    result = invoke("--date", "2026-01-15", "--source", "espn")
    assert result.exit_code == 0, result.output
    assert "player_box_scores" in result.output
    assert "HTTP calls" in result.output
    assert table_names(tmp_path / "warehouse" / "raw.duckdb")["raw_espn"] == [
        "competitors",
        "events",
        "player_box_scores",
    ]


def test_drift_exits_non_zero_and_says_how_to_accept(
    invoke: Any, tmp_path: Path, sandbox: Any
) -> None:
    sandbox.faults.inject("new_field", "espn.scoreboard", times=None)
    result = invoke("--date", "2026-01-15", "--source", "espn")
    assert result.exit_code == 7
    assert "new column `sandbox_new_field`" in result.output
    assert "python -m extract accept-schema --source espn" in result.output
    declined = invoke("accept-schema", "--source", "espn", input="n\n")
    assert declined.exit_code == 1
    assert "sandbox_new_field" in declined.output  # the diff is shown before asking
    accepted = invoke("accept-schema", "--source", "espn", "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert "review and commit it like code" in accepted.output
    again = invoke("--date", "2026-01-15", "--source", "espn")
    assert again.exit_code == 0, again.output
    prints = fingerprint(tmp_path / "warehouse" / "raw.duckdb")
    assert prints["raw_espn.competitors"][0] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-01-15", "--start", "2026-01-14"], "not both"),
        (["--date", "2026-01-15", "--destination", "oracle"], "use duckdb or bigquery"),
        (["--date", "2026-01-15", "--now", "noon"], "not an ISO timestamp"),
        (["--date", "2026-01-15", "--quarantine-threshold", "2"], "share in [0, 1)"),
        (["--date", "2026-01-15", "--source", "twitter"], "unknown source"),
    ],
)
def test_bad_arguments_fail_with_a_message(invoke: Any, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code in (1, 2)
    assert message in result.output


def test_api_errors_exit_with_their_own_code(invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODDS_API_KEY", "not-the-key-123")
    result = invoke("--date", "2026-01-15", "--source", "odds_api")
    assert result.exit_code == 3
    assert "INVALID_KEY" in result.output
    assert "not-the-key-123" not in result.output


def test_export_schemas_reports_no_change(invoke: Any) -> None:
    result = invoke("export-schemas", "--date", "2026-01-15", "--source", "espn")
    assert result.exit_code == 0, result.output
    assert "espn.json: unchanged" in result.output
    missing = invoke("accept-schema", "--source", "espn", "--yes")
    assert missing.exit_code == 1
    assert "no schema proposal" in missing.output


def test_without_keys_or_urls_the_cli_runs_the_sandbox_in_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        {
            "NBA_PROPS_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
            "NBA_PROPS_DLT_DIR": str(tmp_path / "dlt"),
            "NBA_PROPS_LANDING_DIR": str(tmp_path / "landing"),
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "extract", "--date", "2026-01-15", "--source", "espn"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "starting the sandbox on loopback" in result.stderr
    assert "now 2026-01-15T17:00:00+00:00" in result.stderr
    assert fingerprint(tmp_path / "w.duckdb")["raw_espn.player_box_scores"][0] > 0
