"""The command line: a date, drift and its acceptance, exit codes, the in-process sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extract.config import REPO_ROOT
from tests.extract.conftest import fingerprint, query, table_names

ENV_NAMES = (
    "ODDS_API_KEY",
    "ODDS_API_BASE_URL",
    "BALLDONTLIE_API_KEY",
    "BALLDONTLIE_BASE_URL",
    "ESPN_BASE_URL",
    "NBA_PROPS_TARGET",
)


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
    sandbox.faults.inject("changed_type", "espn.scoreboard", times=None)  # `score`: contracted
    sandbox.faults.inject("new_field", "espn.scoreboard", times=None)
    result = invoke("--date", "2026-01-15", "--source", "espn")
    assert result.exit_code == 7
    assert "espn 2026-01-15 (SchemaDriftError, exit 7)" in result.output
    assert "column `score` changed type: frozen text, received bigint" in result.output
    assert "python -m extract accept-schema --source espn" in result.output
    declined = invoke("accept-schema", "--source", "espn", input="n\n")
    assert declined.exit_code == 1
    assert '"bigint"' in declined.output  # the diff is shown before asking
    assert "sandbox_new_field" in declined.output  # the unread new field is offered too
    accepted = invoke("accept-schema", "--source", "espn", "--yes")
    assert accepted.exit_code == 0, accepted.output
    assert "review and commit it like code" in accepted.output
    again = invoke("--date", "2026-01-15", "--source", "espn")
    assert again.exit_code == 0, again.output
    prints = fingerprint(tmp_path / "warehouse" / "raw.duckdb")
    assert prints["raw_espn.competitors"][0] > 0


def test_an_unread_new_field_loads_with_a_warning_and_a_log_row(
    invoke: Any, tmp_path: Path, sandbox: Any
) -> None:
    sandbox.faults.inject("new_field", "espn.scoreboard", times=None)
    result = invoke("--date", "2026-01-15", "--source", "espn")
    assert result.exit_code == 0, result.output
    assert "schema change" in result.output
    assert "new column `sandbox_new_field` (text)" in result.output
    warehouse = tmp_path / "warehouse" / "raw.duckdb"
    logged = query(
        warehouse,
        "select source, table_name, column_name, kind, new_type, is_blocking "
        "from extract_log.schema_changes",
    )
    assert ("espn", "competitors", "sandbox_new_field", "new column", "text", False) in logged
    kept = query(
        warehouse, "select distinct _extra->>'sandbox_new_field' from raw_espn.competitors"
    )
    assert kept == [("surprise",)]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--date", "2026-01-15", "--start", "2026-01-14"], "not both", 2),
        (["--date", "2026-01-15", "--destination", "oracle"], "use duckdb or bigquery", 2),
        (["--date", "2026-01-15", "--now", "noon"], "not an ISO timestamp", 2),
        (["--date", "2026-01-15", "--quarantine-threshold", "2"], "share in [0, 1)", 2),
        (["--date", "2026-01-15", "--source", "twitter"], "unknown source", 2),
    ],
)
def test_bad_arguments_fail_with_a_message(
    invoke: Any, args: list[str], message: str, code: int
) -> None:
    result = invoke(*args)
    assert result.exit_code == code
    assert message in result.output


def test_export_schemas_refuses_a_bad_date_without_a_traceback(invoke: Any) -> None:
    result = invoke("export-schemas", "--date", "yesterday")
    assert result.exit_code == 2
    assert "dates must be YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_a_replay_without_a_capture_exits_6(invoke: Any, tmp_path: Path) -> None:
    result = invoke("--date", "2026-01-15", "--replay", str(tmp_path / "no-capture"))
    assert result.exit_code == 6
    assert f"replay folder {tmp_path / 'no-capture'} does not exist" in result.output
    assert not (tmp_path / "warehouse").exists()


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
        [sys.executable, "-m", "extract", "--date", "2026-02-03", "--source", "espn"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "starting the sandbox on loopback" in result.stderr
    # The sandbox's clock follows the date asked for: noon in New York that day (EST here).
    assert "now 2026-02-03T17:00:00+00:00" in result.stderr
    assert "not final" not in result.stderr, "the finals of the day before were not visible yet"
    assert fingerprint(tmp_path / "w.duckdb")["raw_espn.player_box_scores"][0] > 0


def test_the_sandbox_clock_is_noon_in_new_york_on_the_last_date() -> None:
    from datetime import date

    from extract.cli import sandbox_clock

    winter = sandbox_clock([date(2026, 1, 14), date(2026, 1, 15)])
    summer = sandbox_clock([date(2026, 4, 10)])  # daylight saving time: noon EDT is 16:00 UTC
    assert winter.isoformat() == "2026-01-15T17:00:00+00:00"
    assert summer.isoformat() == "2026-04-10T16:00:00+00:00"
