"""A full regular season: 1,230 games, 82 per team, 41 at home, tip-offs as real ones are set.

The matchup counts follow the NBA formula (4 games against each division rival, 4 or 3 against
the other conference teams, 2 against the other conference), dates are filled greedily so that
nobody plays three days running and back-to-backs stay at a realistic dozen or so per team, and
tip-off times are chosen in the home team's local time zone (weekend, holiday and last-day games
in the afternoon), then converted to UTC through zoneinfo, so DST changes and western late games
(next UTC day) come out right. The last day holds 15 games: every team plays.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

EASTERN = ZoneInfo("America/New_York")

_LOCAL_TIPS = {
    # local tip-off (hour, minute) choices and their weights, by home time zone offset group.
    "east": (((19, 0), (19, 30), (20, 0)), (0.55, 0.4, 0.05)),
    "central": (((19, 0), (19, 30), (20, 0)), (0.6, 0.3, 0.1)),
    "west": (((19, 0), (19, 30), (18, 0)), (0.55, 0.35, 0.1)),
}


def season_window(season: int) -> tuple[dt.date, dt.date, set[dt.date]]:
    """First day, last day and the days without games (Thanksgiving, Christmas Eve, All-Star)."""
    start = dt.date(season, 10, 21)
    while start.weekday() != 1:  # the season opens on a Tuesday
        start += dt.timedelta(days=1)
    end = dt.date(season + 1, 4, 9)
    while end.weekday() != 6:  # and ends on the Sunday nearest 12 April
        end += dt.timedelta(days=1)
    nov1 = dt.date(season, 11, 1)
    thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    feb1 = dt.date(season + 1, 2, 1)
    all_star = feb1 + dt.timedelta(days=(6 - feb1.weekday()) % 7 + 14)
    blackout = {thanksgiving, dt.date(season, 12, 24)}
    blackout |= {all_star + dt.timedelta(days=k) for k in range(-2, 4)}
    return start, end, blackout


def matchups(teams: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Home and away team indices of every game of the season (unordered in time)."""
    home: list[int] = []
    away: list[int] = []

    def add(h: int, a: int, n: int) -> None:
        home.extend([h] * n)
        away.extend([a] * n)

    conf = teams["conference"].to_numpy()
    div = teams["division"].to_numpy()
    idx = np.arange(len(teams))
    for i in idx:
        for j in idx[i + 1 :]:
            if conf[i] != conf[j]:
                add(i, j, 1)
                add(j, i, 1)
            elif div[i] == div[j]:
                add(i, j, 2)
                add(j, i, 2)
    # Within a conference: between two divisions A and B (5 teams each, ordered), the pairs
    # (A_p, B_p) and (A_p, B_p+1) meet three times, A_p hosting twice against B_p and B_p+1
    # hosting twice against A_p; every other cross-division pair meets four times (2+2). Each
    # team thus hosts 41 games.
    for c in ("East", "West"):
        divisions = sorted(set(div[conf == c]))
        members = {d: list(idx[(conf == c) & (div == d)]) for d in divisions}
        for ai in range(3):
            for bi in range(ai + 1, 3):
                a_teams, b_teams = members[divisions[ai]], members[divisions[bi]]
                for p in range(5):
                    for q in range(5):
                        a, b = int(a_teams[p]), int(b_teams[q])
                        if q == p:
                            add(a, b, 2)
                            add(b, a, 1)
                        elif q == (p + 1) % 5:
                            add(a, b, 1)
                            add(b, a, 2)
                        else:
                            add(a, b, 2)
                            add(b, a, 2)
    return np.asarray(home, dtype=np.int64), np.asarray(away, dtype=np.int64)


def assign_dates(
    home: np.ndarray, away: np.ndarray, n_teams: int, season: int, rng: np.random.Generator
) -> np.ndarray:
    """Give every game a calendar day (days since the opener), greedily and reproducibly.

    The greedy fill occasionally strands a game or two past the last day (both teams would be
    on a third straight night); a fresh draw from the same generator almost always fits, so a
    few attempts are made before accepting a slightly late finish.
    """
    start, end, _ = season_window(season)
    last = (end - start).days
    final = _final_day_games(home, away, n_teams, rng)
    day_of = _fill_dates(home, away, n_teams, season, rng, final)
    for _ in range(30):
        if day_of.max() <= last:
            break
        day_of = _fill_dates(home, away, n_teams, season, rng, final)
    return day_of


def _final_day_games(
    home: np.ndarray, away: np.ndarray, n_teams: int, rng: np.random.Generator
) -> np.ndarray:
    """One game per team for the last day (every pair of teams meets at least twice)."""
    order = rng.permutation(n_teams)
    chosen = []
    for k in range(n_teams // 2):
        a, b = int(order[2 * k]), int(order[2 * k + 1])
        games = np.flatnonzero(((home == a) & (away == b)) | ((home == b) & (away == a)))
        chosen.append(int(games[int(rng.integers(len(games)))]))
    return np.asarray(chosen, dtype=np.int64)


def _fill_dates(
    home: np.ndarray,
    away: np.ndarray,
    n_teams: int,
    season: int,
    rng: np.random.Generator,
    final: np.ndarray,
) -> np.ndarray:
    """Greedy fill of every day but the last, which holds the `final` games (all 30 teams)."""
    start, end, blackout = season_window(season)
    n_games = len(home)
    days_total = (end - start).days + 1
    last = days_total - 1
    open_days = [d for d in range(last) if start + dt.timedelta(days=d) not in blackout]
    christmas = (dt.date(season, 12, 25) - start).days
    remaining = np.ones(n_games, dtype=bool)
    remaining[final] = False
    left = np.bincount(home[remaining], minlength=n_teams)
    left += np.bincount(away[remaining], minlength=n_teams)
    last_day = np.full(n_teams, -10)
    prev_day = np.full(n_teams, -10)
    day_of = np.full(n_games, -1)
    jitter = rng.random(n_games)
    weekday_factor = (0.9, 1.0, 1.15, 0.85, 1.15, 1.05, 0.9)
    extra = 0
    d_index = 0
    while remaining.any():
        if d_index < len(open_days):
            day = open_days[d_index]
            days_left = len(open_days) - d_index
        else:  # overflow: never expected, but finish the season rather than loop forever
            day = last + 1 + extra
            extra += 1
            days_left = 1
        d_index += 1
        weekday = (start + dt.timedelta(days=day)).weekday()
        base = remaining.sum() / days_left
        target = int(
            np.clip(round(base * 1.08 * weekday_factor[weekday] + rng.normal(0, 1.2)), 2, 15)
        )
        if day == 0:
            target = 2
        if day == christmas:
            target = 5  # the league's Christmas showcase
        cand = np.flatnonzero(remaining)
        priority = left[home[cand]] + left[away[cand]] + 6 * jitter[cand] + rng.random(len(cand))
        cand = cand[np.argsort(-priority, kind="stable")]
        used = np.zeros(n_teams, dtype=bool)
        chosen = 0
        for g in cand:
            h, a = int(home[g]), int(away[g])
            if used[h] or used[a]:
                continue
            bad = False
            for t in (h, a):
                if last_day[t] == day - 1 and prev_day[t] == day - 2:
                    bad = True  # never three days in a row
                elif last_day[t] == day - 1 and rng.random() > 0.3 and days_left > 6:
                    bad = True  # keep back-to-backs to a realistic few
                elif day == last - 1 and last_day[t] == day - 1:
                    bad = True  # the last day would be its third night running
            if bad:
                continue
            used[h] = used[a] = True
            remaining[g] = False
            day_of[g] = day
            left[h] -= 1
            left[a] -= 1
            for t in (h, a):
                prev_day[t] = last_day[t]
                last_day[t] = day
            chosen += 1
            if chosen >= target:
                break
    day_of[final] = last
    return day_of


def _afternoon_days(season: int) -> dict[dt.date, tuple[float, tuple[tuple[int, int], ...]]]:
    """Days with daytime games: share of the day's games played early, and their Eastern slots.

    Weekends carry a few afternoon games (Sundays more), Christmas and MLK Day are played from
    noon on, and every game of the last day tips off in the early afternoon.
    """
    start, end, _ = season_window(season)
    jan1 = dt.date(season + 1, 1, 1)
    mlk = jan1 + dt.timedelta(days=(0 - jan1.weekday()) % 7 + 14)
    days: dict[dt.date, tuple[float, tuple[tuple[int, int], ...]]] = {}
    day = start
    while day <= end:
        if day.weekday() == 5:
            days[day] = (0.12, ((15, 0), (17, 0), (18, 0)))
        elif day.weekday() == 6:
            days[day] = (0.35, ((12, 0), (13, 0), (15, 0), (15, 30), (18, 0)))
        day += dt.timedelta(days=1)
    days[dt.date(season, 12, 25)] = (0.6, ((12, 0), (14, 30), (17, 0)))
    days[mlk] = (0.4, ((12, 30), (14, 30), (17, 0)))
    days[end] = (1.0, ((13, 0), (15, 30)))
    return days


def tipoffs(
    day_of: np.ndarray,
    home: np.ndarray,
    team_zones: list[str],
    season: int,
    rng: np.random.Generator,
) -> tuple[list[dt.date], list[pd.Timestamp]]:
    """Eastern calendar date and UTC tip-off of each game, chosen in the home team's local time.

    Evening games are set in the home team's local time; daytime games (weekends, holidays, the
    last day) in Eastern time, never before noon local for a western home team.
    """
    start, _, _ = season_window(season)
    afternoons = _afternoon_days(season)
    dates: list[dt.date] = []
    stamps: list[pd.Timestamp] = []
    draws = rng.random(len(day_of))
    early_draws = rng.random(len(day_of))
    slot_draws = rng.random(len(day_of))
    for g, day in enumerate(day_of):
        zone_name = team_zones[int(home[g])]
        group = (
            "east"
            if zone_name in ("America/New_York", "America/Detroit", "America/Toronto")
            or zone_name.startswith("America/Indiana")
            else "central"
            if zone_name == "America/Chicago"
            else "west"
        )
        local_day = start + dt.timedelta(days=int(day))
        share, slots = afternoons.get(local_day, (0.0, ()))
        if early_draws[g] < share:
            if group == "west":
                slots = tuple(s for s in slots if s >= (15, 0)) or ((15, 30),)
            hour, minute = slots[min(int(slot_draws[g] * len(slots)), len(slots) - 1)]
            zone = EASTERN
        else:
            choices, weights = _LOCAL_TIPS[group]
            k = int(np.searchsorted(np.cumsum(weights), draws[g] * sum(weights), side="right"))
            hour, minute = choices[min(k, len(choices) - 1)]
            zone = ZoneInfo(zone_name)
        local = dt.datetime(
            local_day.year, local_day.month, local_day.day, hour, minute, tzinfo=zone
        )
        # Evening choices keep tip-offs within 19:00-22:30 Eastern, the latest being 19:30 in
        # Phoenix (no DST) while the East is on EDT; daytime ones start at noon Eastern.
        eastern = local.astimezone(EASTERN)
        dates.append(eastern.date())
        stamps.append(pd.Timestamp(local.astimezone(dt.UTC)))
    return dates, stamps
