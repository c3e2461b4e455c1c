"""Dependency checks before scoring, on the dbt tests' built weeks (2025-10-21..11-16)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.checks import run_checks
from tests.dbt_project.conftest import DbtBuild, dbt_build, raw_weeks  # noqa: F401

DAY = date(2025, 11, 16)
PICK_TIME = datetime(2025, 11, 16, 17, 0, tzinfo=UTC)  # noon in New York


def _checks(build: DbtBuild, now: datetime, failed: dict[str, str] | None = None) -> dict:
    checks = run_checks(
        build.warehouse,
        DAY,
        now,
        failed_sources=failed or {},
        loaded_sources=sorted({"odds_api", "balldontlie", "espn", "injuries"} - set(failed or {})),
        max_line_age_hours=12,
        max_injury_age_hours=36,
    )
    return {c.name: c for c in checks}


def test_fresh_inputs_pass_and_stale_ones_fail_naming_their_age(
    dbt_build: DbtBuild,  # noqa: F811
) -> None:
    fresh = _checks(dbt_build, PICK_TIME)
    assert {name: c.status for name, c in fresh.items()} == {
        "box_scores": "ok",
        "lines": "ok",
        "injuries": "ok",
        "sources": "ok",
        "features": "ok",
    }
    assert fresh["box_scores"].value == date(2025, 11, 15)
    assert fresh["features"].value > 0

    two_days_on = _checks(dbt_build, datetime(2025, 11, 18, 17, 0, tzinfo=UTC))
    assert two_days_on["lines"].status == "failed"
    # the day's last pre-game snapshot is its closing line, at the evening's tip-off
    assert two_days_on["lines"].value > 36
    assert f"{two_days_on['lines'].value} h old" in two_days_on["lines"].message
    assert two_days_on["injuries"].status == "failed"
    assert two_days_on["injuries"].value == 48.0
    assert two_days_on["box_scores"].status == "ok"


def test_a_failed_fallback_is_a_warning_a_failed_primary_stops(
    dbt_build: DbtBuild,  # noqa: F811
) -> None:
    espn = _checks(dbt_build, PICK_TIME, {"espn": "HTTP 500"})
    assert espn["source_espn"].status == "warning"
    assert "fallback of balldontlie" in espn["source_espn"].message
    both = _checks(dbt_build, PICK_TIME, {"espn": "HTTP 500", "balldontlie": "HTTP 401"})
    assert both["source_espn"].status == "failed"
    assert both["source_balldontlie"].status == "failed"
    odds = _checks(dbt_build, PICK_TIME, {"odds_api": "OUT_OF_USAGE_CREDITS"})
    assert odds["source_odds_api"].status == "failed"
    assert "OUT_OF_USAGE_CREDITS" in odds["source_odds_api"].message
