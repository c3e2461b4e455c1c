"""The season calendar and the matchup formula, apart from any one simulated season."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

import sandbox.schedule as schedule
from sandbox.league import League
from sandbox.schedule import assign_dates, matchups, season_window
from sandbox.teams import team_table


@pytest.mark.parametrize(
    ("season", "opener", "finale"),
    [
        (2025, dt.date(2025, 10, 21), dt.date(2026, 4, 12)),
        (2024, dt.date(2024, 10, 22), dt.date(2025, 4, 13)),
        (2023, dt.date(2023, 10, 24), dt.date(2024, 4, 14)),
    ],
)
def test_season_window(season: int, opener: dt.date, finale: dt.date) -> None:
    start, end, blackout = season_window(season)
    assert (start, end) == (opener, finale)
    assert start.weekday() == 1
    assert end.weekday() == 6
    thanksgiving = [d for d in blackout if d.month == 11]
    assert len(thanksgiving) == 1
    assert thanksgiving[0].weekday() == 3
    assert 22 <= thanksgiving[0].day <= 28
    assert dt.date(season, 12, 24) in blackout
    assert sum(d.month == 2 for d in blackout) == 6


def test_no_games_on_blackout_days(sandbox_league: League) -> None:
    _, _, blackout = season_window(sandbox_league.season)
    assert not set(sandbox_league.games["game_date"]) & blackout
    assert dt.date(2025, 11, 27) in blackout  # Thanksgiving 2025
    assert dt.date(2026, 2, 15) in blackout  # All-Star Sunday 2026


def test_matchup_formula() -> None:
    teams = team_table()
    home, away = matchups(teams)
    assert len(home) == 1230
    assert (np.bincount(home, minlength=30) == 41).all()
    assert (np.bincount(away, minlength=30) == 41).all()
    pairs = Counter(tuple(sorted(p)) for p in zip(home.tolist(), away.tolist(), strict=True))
    conf = teams["conference"].to_numpy()
    div = teams["division"].to_numpy()
    for t in range(30):
        seen = {o: n for (a, b), n in pairs.items() for o in (a, b) if t in (a, b) and o != t}
        counts = Counter(
            ("div" if div[o] == div[t] else "conf" if conf[o] == conf[t] else "other", n)
            for o, n in seen.items()
        )
        assert counts == {("div", 4): 4, ("conf", 4): 6, ("conf", 3): 4, ("other", 2): 15}


def test_overflowing_window_still_schedules_every_game(monkeypatch: pytest.MonkeyPatch) -> None:
    teams = team_table()
    home, away = matchups(teams)
    start = dt.date(2025, 10, 21)
    short = (start, start + dt.timedelta(days=100), set())
    monkeypatch.setattr(schedule, "season_window", lambda season: short)
    day_of = assign_dates(home, away, 30, 2025, np.random.default_rng(3))
    assert (day_of >= 0).all()
    assert day_of.max() > 100  # the season ran over rather than dropping games
