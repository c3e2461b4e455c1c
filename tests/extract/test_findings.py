"""The slate of a date across sources (extract/findings.py): a disagreement is a note, logged."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from extract.contracts import Issues
from extract.findings import as_team_keys, slate_disagreements, slate_notes
from extract.redact import Redactor
from tests.extract.conftest import TODAY, make_config, run

DAY = date(2026, 1, 15)


def test_agreeing_slates_say_nothing() -> None:
    games = {("BOS", "NYK"), ("LAL", "GSW")}
    assert slate_disagreements(DAY, {"odds_api": games, "espn": set(games)}) == []
    assert slate_disagreements(DAY, {"espn": games}) == []  # one source: nothing to compare
    assert slate_disagreements(DAY, {"espn": set(), "balldontlie": set()}) == []  # no games


def test_a_game_missing_from_one_source_and_an_empty_source_are_named() -> None:
    notes = slate_disagreements(
        DAY,
        {
            "odds_api": {("BOS", "NYK"), ("LAL", "GSW")},
            "espn": {("BOS", "NYK")},
            "balldontlie": set(),
        },
    )
    assert notes == [
        "slate of 2026-01-15: balldontlie lists no game where espn, odds_api list 2",
        "slate of 2026-01-15: GSW at LAL is listed by odds_api but not by espn",
    ]


def test_codes_are_matched_through_the_seed() -> None:
    """The Clippers are "Los Angeles Clippers" at the Odds API, id 13 at balldontlie, id 12 at
    ESPN: one team key; a code the seed does not know stays visible as `?code`."""
    assert as_team_keys("odds_api", [("Los Angeles Clippers", "Boston Celtics")]) == {
        ("LAC", "BOS")
    }
    assert as_team_keys("balldontlie", [("13", "2")]) == {("LAC", "BOS")}
    assert as_team_keys("espn", [("12", "2")]) == {("LAC", "BOS")}
    assert as_team_keys("odds_api", [("Team LeBron", "Boston Celtics")]) == {
        ("?Team LeBron", "BOS")
    }


def test_slate_notes_leave_out_failed_sources_and_log(caplog: pytest.LogCaptureFixture) -> None:
    odds, espn, bdl = (Issues("run1", Redactor()) for _ in range(3))
    odds.list_slate("odds_api", DAY, [("Boston Celtics", "New York Knicks")])
    espn.list_slate("espn", DAY, [("2", "18")])
    espn.list_slate("espn", DAY, [("13", "9")])  # GSW at LAL: ESPN only
    bdl.list_slate("balldontlie", DAY)  # listed nothing, but failed: its slate is not evidence
    report = SimpleNamespace(issues=[odds, espn, bdl], failures={"balldontlie": object()})
    with caplog.at_level(logging.WARNING):
        notes = slate_notes("run1", report)
    assert notes == ["slate of 2026-01-15: GSW at LAL is listed by espn but not by odds_api"]
    assert f"run=run1 {notes[0]}" in caplog.text


def test_an_empty_slate_at_one_source_is_said_on_a_real_run(tmp_path: Path, sandbox: Any) -> None:
    sandbox.faults.inject("empty_slate", "odds.events", times=None)
    report = run(make_config(tmp_path, sandbox))
    slate = [n for n in report.dates[0].notes if n.startswith("slate of")]
    # said once, as an empty block (not six games "missing"); yesterday's slates agree
    assert slate == [f"slate of {TODAY}: odds_api lists no game where balldontlie, espn list 6"]
