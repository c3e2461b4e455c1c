"""Findings across sources: the slate of a date must agree between the three APIs.

Each source records the games it lists per date while it extracts (`Issues.list_slate`, in its
own team codes: the Odds API's full names, balldontlie's and ESPN's ids). Here they are matched
on (New York date, home, away) through seeds/team_codes.csv, the one crosswalk of teams, and a
game some sources list and others do not is reported: a note on screen and a warning in the log.
Not a quarantine: which source is wrong is not known here, and each source's own records passed
its checks. A source that failed for the date is left out (its slate may be cut short).
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from extract.contracts import TEAM_CODES as SEED
from extract.contracts import Issues, team_codes
from extract.redact import Redactor

log = logging.getLogger("extract")

# the seed column each source's team codes are in
SEED_COLUMNS = {"odds_api": "odds_api_name", "balldontlie": "bdl_id", "espn": "espn_id"}

Game = tuple[str, str]  # (home, away) as seed team keys ("BOS"), or "?<code>" for an unknown


@functools.cache
def team_keys(source: str) -> dict[str, str]:
    """A source's team code -> the seed's `team_key`."""
    column = SEED_COLUMNS[source]
    team_codes(column)  # refuses a seed without the column, naming it
    with SEED.open(encoding="utf-8", newline="") as handle:
        return {row[column].strip(): row["team_key"].strip() for row in csv.DictReader(handle)}


def slate_disagreements(day: date, slates: Mapping[str, Iterable[Game]]) -> list[str]:
    """What the sources that listed `day` disagree on, one sentence per game, or [].

    `slates` maps each source that listed the date (an empty listing included) to its games as
    seed team keys. Pure: the caller gathers the slates and says the sentences."""
    listed = {source: set(games) for source, games in slates.items()}
    every = set().union(*listed.values()) if listed else set()
    if len(listed) < 2 or not every:
        return []
    out = [
        f"slate of {day.isoformat()}: {source} lists no game where "
        f"{', '.join(sorted(s for s in listed if listed[s]))} list {len(every)}"
        for source in sorted(listed)
        if not listed[source]
    ]
    some = {source: games for source, games in listed.items() if games}
    for home, away in sorted(every):
        having = sorted(s for s, games in some.items() if (home, away) in games)
        missing = sorted(s for s in some if s not in having)
        if missing:
            out.append(
                f"slate of {day.isoformat()}: {away} at {home} is listed by "
                f"{', '.join(having)} but not by {', '.join(missing)}"
            )
    return out


def as_team_keys(source: str, games: Iterable[tuple[str, str]]) -> set[Game]:
    keys = team_keys(source)
    return {(keys.get(home, f"?{home}"), keys.get(away, f"?{away}")) for home, away in games}


def slate_notes(run_id: str, day_report: Any, redactor: Redactor | None = None) -> list[str]:
    """The slate disagreements of one date's run (a runner `DateReport`: its `issues`, failures
    and days), logged as warnings and returned for `DateReport.notes`; masked, since an unknown
    team is named by the upstream's own text."""
    failed = set(day_report.failures)
    per_day: dict[date, dict[str, set[Game]]] = {}
    issues: list[Issues] = day_report.issues
    for found in issues:
        for (source, day), games in found.slates.items():
            if day is None or source in failed or source not in SEED_COLUMNS:
                continue
            per_day.setdefault(day, {}).setdefault(source, set()).update(
                as_team_keys(source, games)
            )
    notes = []
    for day in sorted(per_day):
        for said in slate_disagreements(day, per_day[day]):
            note = redactor.text(said) if redactor is not None else said
            log.warning("run=%s %s", run_id, note)
            notes.append(note)
    return notes
