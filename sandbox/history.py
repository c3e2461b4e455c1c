"""Earlier seasons' rosters, derived backwards from the current season's (issue 13).

The sandbox serves `SEASONS` (2023-24 to 2025-26). The last of them, the anchor, is generated
exactly as it always was: the market's figures and the model benchmarks were measured on it, so
nothing here may move one of its draws. Each earlier season is derived from the season after it,
walking back one year at a time, so the same people carry through as they do in the real APIs:

- the same person keeps his player_key, balldontlie id, ESPN id and every spelling of his name;
- a share of players sat on other teams a year earlier (each depth slot swaps between a few teams,
  so every team keeps one player per slot and a sane rotation);
- a player drafted after a season is absent from it; his place is taken by a veteran who retired
  before the following season ("former" players, with fresh keys and ids drawn from ranges no one
  else uses: balldontlie 4,000-19,999, ESPN 2,500,000-2,999,999, names nobody else carries);
- ratings are de-aged: young players had smaller roles and fewer shots, veterans a bit more.

Only rosters are derived here (cheap: no games are simulated), so the server can list every
season's people without generating a season's games. Team strength and each season's trades are
drawn in `season_roster`, from the season's own streams.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sandbox.defaults import SEASONS
from sandbox.names import FIRST_NAMES, LAST_NAMES
from sandbox.roster import (
    _COLLEGES,
    PER_TEAM,
    RosterData,
    draw_roster,
    stream_rng,
    team_strength,
    trades,
)
from sandbox.teams import team_table

ANCHOR_SEASON = SEASONS[-1]
# A share of teams whose player in each depth slot sat on another of those teams a year earlier.
RESHUFFLE_SHARE = 0.2
FORMER_BDL_IDS = (4_000, 20_000)
FORMER_ESPN_IDS = (2_500_000, 3_000_000)
FORMER_KEY_BASE = 10_000  # former players' player_keys: above every generated season's 1..450
# De-ageing per year back: players in their first seasons had smaller roles.
_YOUNG_YEARS = 2
_YOUNG_MINUTES, _YOUNG_SHOTS = 0.93, 0.95
_VETERAN_YEARS = 10
_VETERAN_MINUTES = 1.03


def trade_window(season: int) -> tuple[dt.date, dt.date]:
    """Mid-season trades happen between mid-December and the deadline in early February."""
    return dt.date(season, 12, 15), dt.date(season + 1, 2, 5)


@dataclass(frozen=True)
class Cast:
    """One season's roster in roster order (team by team, one player per depth slot)."""

    season: int
    players: pd.DataFrame  # one row per person, player_key = the person's key in every season
    params: dict[str, np.ndarray]  # hidden parameters, aligned with `players` rows
    slot: np.ndarray
    team_idx: np.ndarray
    stints: pd.DataFrame | None = None  # the anchor's, as drawn; earlier ones: season_roster


@functools.lru_cache(maxsize=4)
def casts(seed: int) -> dict[int, Cast]:
    """Every served season's roster, the anchor's exactly as `build_roster` draws it."""
    teams = team_table()
    anchor = ANCHOR_SEASON
    roster, slot, team_idx = draw_roster(
        stream_rng(seed, anchor, "roster"), teams, anchor, trade_window(anchor)
    )
    current = Cast(anchor, roster.players, roster.params, slot, team_idx, roster.stints)
    out = {anchor: current}
    names = roster.players[["bdl_first_name", "bdl_last_name"]].itertuples(index=False)
    taken_names = {(str(first), str(last)) for first, last in names}
    taken_bdl = set(roster.players["bdl_id"].astype(int))
    taken_espn = set(roster.players["espn_id"].astype(str))
    # ... and the names of balldontlie's invented long-retired players (its all-time list)
    taken_names |= _retired_names(seed, taken_bdl, set(taken_names))
    next_key = FORMER_KEY_BASE + 1
    for season in sorted(SEASONS[:-1], reverse=True):
        current, next_key = _step_back(
            stream_rng(seed, season, "history"),
            current,
            season,
            next_key,
            (taken_names, taken_bdl, taken_espn),
        )
        out[season] = current
    return out


# --- balldontlie's all-time list: long-retired players nobody simulates -----------------------

RETIRED_PLAYERS = 400
# balldontlie's old-era ids are small: retired players take free ids below this
RETIRED_ID_CEILING = 4_000
# a franchise that no longer exists, exactly as balldontlie sends it (four-space conference)
DEFUNCT_TEAMS = (
    {
        "id": 45,
        "conference": "    ",
        "division": "",
        "city": "",
        "name": "Bullets",
        "full_name": "Baltimore Bullets",
        "abbreviation": "BAL",
    },
)
_DEFUNCT_SHARE = 0.06
_RETIRED_STREAM = 0xB0D1E  # the retired players' own generator: the league's draws stay put
_RETIRED_POSITIONS = ("G", "F", "C", "G-F", "F-C", "F-G", "C-F")
_RETIRED_COLLEGES = (
    "Kentucky", "UCLA", "North Carolina", "Duke", "Kansas", "Indiana", "Michigan State",
    "Georgetown", "Syracuse", "Villanova", "Louisville", "Arizona", "Ohio State", "DePaul",
)  # fmt: skip


def retired_players(
    seed: int,
    taken_ids: set[int],
    taken_names: set[tuple[str, str]],
    teams: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """The all-time list's retired players, rendered: deterministic from the seed alone.

    `teams` maps a current balldontlie team id to its rendered team; a few players keep the
    defunct franchise's. Fields are drawn column by column in a fixed order. No retired player
    shares a current player's name: the contract knows of no such trap, so the sandbox sets none.
    """
    rng = np.random.default_rng([int(seed), _RETIRED_STREAM])
    n = RETIRED_PLAYERS
    free = np.array([i for i in range(1, RETIRED_ID_CEILING) if i not in taken_ids])
    ids = np.sort(rng.choice(free, size=n, replace=False))
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    no_position = rng.random(n) < 0.6
    position = rng.integers(0, len(_RETIRED_POSITIONS), n)
    no_body = rng.random(n) < 0.4
    height = rng.integers(70, 88, n)  # inches: 5-10 to 7-3
    weight = rng.integers(170, 270, n)
    jersey = rng.integers(0, 56, n)
    no_jersey = rng.random(n) < 0.5
    no_college = rng.random(n) < 0.35
    college = rng.integers(0, len(_RETIRED_COLLEGES), n)
    draft_year = rng.integers(1950, 2016, n)
    undrafted = rng.random(n) < 0.35
    draft_round, draft_number = rng.integers(1, 4, n), rng.integers(1, 31, n)
    current = sorted(teams)
    team_pick = rng.integers(0, len(current), n)
    defunct = rng.random(n) < _DEFUNCT_SHARE
    out = []
    for i in range(n):
        team = DEFUNCT_TEAMS[0] if defunct[i] else teams[current[team_pick[i]]]
        while (FIRST_NAMES[first[i]], LAST_NAMES[last[i]]) in taken_names:
            last[i] = (last[i] + 1) % len(LAST_NAMES)
        out.append(
            {
                "id": int(ids[i]),
                "first_name": FIRST_NAMES[first[i]],
                "last_name": LAST_NAMES[last[i]],
                "position": "" if no_position[i] else _RETIRED_POSITIONS[position[i]],
                "height": None if no_body[i] else f"{height[i] // 12}-{height[i] % 12}",
                "weight": None if no_body[i] else str(weight[i]),
                "jersey_number": None if no_jersey[i] else str(jersey[i]),
                "college": None if no_college[i] else _RETIRED_COLLEGES[college[i]],
                "country": None if no_body[i] else "USA",
                "draft_year": None if undrafted[i] else int(draft_year[i]),
                "draft_round": None if undrafted[i] else int(draft_round[i]),
                "draft_number": None if undrafted[i] else int(draft_number[i]),
                "team": team,
            }
        )
    return out


def _retired_names(
    seed: int, bdl_ids: set[int], names: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The names balldontlie's all-time list gives its invented retired players (drawn from the
    seed and the current season's people alone; they do not depend on the teams)."""

    drawn = retired_players(seed, set(bdl_ids), names, {0: {}})
    return {(p["first_name"], p["last_name"]) for p in drawn}


def people(seed: int) -> pd.DataFrame:
    """Every person of every served season, once (the anchor's rows first, then former players)."""
    frames = [casts(seed)[s].players for s in sorted(SEASONS, reverse=True)]
    everyone = pd.concat(frames, ignore_index=True).drop_duplicates("player_key")
    return everyone.sort_values("player_key", kind="stable").reset_index(drop=True)


@functools.lru_cache(maxsize=4)
def stints(seed: int) -> pd.DataFrame:
    """Every served season's stints (person keys), earliest season first."""
    frames = [season_roster(seed, s).stints for s in SEASONS[:-1]]
    frames.append(casts(seed)[ANCHOR_SEASON].stints)
    return pd.concat(frames, ignore_index=True)


def season_roster(seed: int, season: int) -> RosterData:
    """An earlier season's RosterData: players sorted by person key, params aligned with them.

    Team strength and trades are drawn from the season's own streams; stints use person keys.
    """
    if season not in SEASONS or season == ANCHOR_SEASON:
        raise ValueError(f"sandbox history: {season} is not an earlier served season {SEASONS}")
    cast = casts(seed)[season]
    teams = team_table()
    params = {k: v.copy() for k, v in cast.params.items()}
    p2, p3, s3, ftr, pft = (params[k] for k in ("p2", "p3", "s3", "ftr", "pft"))
    pts36 = params["fga36"] * ((1 - s3) * 2 * p2 + s3 * 3 * p3 + ftr * pft)
    shooting = {k: params[k] for k in ("p2", "p3", "s3", "ftr", "pft")}
    strength, fga36 = team_strength(
        stream_rng(seed, season, "strength"),
        len(teams),
        cast.team_idx,
        params["base_minutes"],
        pts36,
        params["primary"],
        shooting,
    )
    params["fga36"] = fga36
    params["tov36"] = 0.09 * fga36 + 0.22 * params["ast36"]
    stints = trades(
        stream_rng(seed, season, "trades"),
        teams,
        cast.team_idx,
        cast.slot,
        trade_window(season),
        season,
    )
    persons = cast.players["player_key"].to_numpy()
    stints["player_key"] = persons[stints["player_key"].to_numpy() - 1]
    # Sorted by person key, so that the simulator's keys (row + 1) map to person keys in order.
    order = np.argsort(persons, kind="stable")
    players = cast.players.iloc[order].reset_index(drop=True)
    stints = stints.sort_values(["player_key", "start_date"], kind="stable").reset_index(drop=True)
    return RosterData(players, stints, {k: v[order] for k, v in params.items()}, strength)


def _step_back(
    rng: np.random.Generator,
    after: Cast,
    season: int,
    next_key: int,
    taken: tuple[set[tuple[str, str]], set[int], set[str]],
) -> tuple[Cast, int]:
    """The roster of `season` from the one of `season + 1`: swaps, former players, de-ageing."""
    slot, team_idx = after.slot, after.team_idx
    n_teams = int(team_idx.max()) + 1
    order = np.arange(len(slot))
    pairs = round(RESHUFFLE_SHARE * n_teams) // 2
    for s in range(PER_TEAM):
        chosen = rng.choice(n_teams, 2 * pairs, replace=False).reshape(-1, 2)
        for a, b in chosen:
            pa = int(np.flatnonzero((team_idx == a) & (slot == s))[0])
            pb = int(np.flatnonzero((team_idx == b) & (slot == s))[0])
            order[pa], order[pb] = order[pb], order[pa]
    players = after.players.iloc[order].reset_index(drop=True)
    params = {k: v[order].copy() for k, v in after.params.items()}

    drafted = players["draft_year"].to_numpy(dtype="float64", na_value=np.nan)
    rookies = np.flatnonzero(drafted > season)
    rows = players.to_dict("records")
    for pos in rookies.tolist():
        rows[pos] = _former_player(rng, rows[pos], season, next_key, taken)
        for name in ("fga36", "ast36", "orb36", "drb36"):
            params[name][pos] *= float(np.exp(rng.normal(0, 0.1)))
        next_key += 1
    players = _frame_like(rows, after.players)

    years = season - players["draft_year"].to_numpy(dtype="float64", na_value=np.nan)
    young = years <= _YOUNG_YEARS  # NaN (undrafted) is neither young nor veteran
    veteran = years >= _VETERAN_YEARS
    params["base_minutes"] = np.clip(
        params["base_minutes"] * np.where(young, _YOUNG_MINUTES, 1.0)
        * np.where(veteran, _VETERAN_MINUTES, 1.0),
        2.5,
        40.0,
    )  # fmt: skip
    params["fga36"] = params["fga36"] * np.where(young, _YOUNG_SHOTS, 1.0)
    params["primary"] = _one_primary_per_team(params, slot, team_idx)
    return Cast(season, players, params, slot, team_idx), next_key


def _one_primary_per_team(
    params: dict[str, np.ndarray], slot: np.ndarray, team_idx: np.ndarray
) -> np.ndarray:
    """Swaps can leave a team two primary scorers or none: keep its top-volume starter's flag."""
    primary = np.zeros(len(slot), dtype=bool)
    for t in range(int(team_idx.max()) + 1):
        members = np.flatnonzero((team_idx == t) & (slot < 3))
        flagged = members[params["primary"][members]]
        pool = flagged if len(flagged) else members
        primary[pool[int(np.argmax(params["fga36"][pool]))]] = True
    return primary


def _former_player(
    rng: np.random.Generator,
    rookie: dict,
    season: int,
    key: int,
    taken: tuple[set[tuple[str, str]], set[int], set[str]],
) -> dict:
    """A veteran in the rookie's role who retired before the rookie arrived; plain name, new ids."""
    names, bdl_ids, espn_ids = taken
    while True:
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        if (first, last) not in names:
            break
    names.add((first, last))
    bdl_id = _fresh(rng, FORMER_BDL_IDS, bdl_ids)
    espn_id = str(_fresh(rng, FORMER_ESPN_IDS, {int(e) for e in espn_ids}))
    espn_ids.add(espn_id)
    draft_year = season - int(rng.integers(4, 13))
    draft_round = int(1 + (rng.random() < 0.3))
    return {
        **rookie,
        "player_key": key,
        "bdl_id": bdl_id,
        "espn_id": espn_id,
        "bdl_first_name": first,
        "bdl_last_name": last,
        "espn_first_name": first,
        "espn_last_name": last,
        "espn_display_name": f"{first} {last}",
        "espn_short_name": f"{first[0]}. {last}",
        "odds_name": f"{first} {last}",
        "name_quirk": "",
        "college": _COLLEGES[int(rng.integers(len(_COLLEGES)))],
        "country": "USA",
        "draft_year": draft_year,
        "draft_round": draft_round,
        "draft_number": int(rng.integers(1, 31)) + (30 if draft_round == 2 else 0),
    }


def _fresh(rng: np.random.Generator, bounds: tuple[int, int], taken: set[int]) -> int:
    while True:
        value = int(rng.integers(*bounds))
        if value not in taken:
            taken.add(value)
            return value


def _frame_like(rows: list[dict], like: pd.DataFrame) -> pd.DataFrame:
    """Rows as a frame with the dtypes of `like` (nullable text holds None, draft fields Int64)."""
    frame = pd.DataFrame(rows, columns=like.columns)
    for col in like.columns:
        if col in ("height", "weight", "college"):
            frame[col] = pd.Series([row[col] for row in rows], dtype=object)
        elif col == "draft_year" or col.startswith("draft_"):
            frame[col] = pd.array([row[col] for row in rows], dtype="Int64")
        else:
            frame[col] = frame[col].astype(like[col].dtype)
    return frame
