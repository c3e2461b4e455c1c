"""Players: names and ids per source, bio fields, hidden talent parameters, and trades.

The hidden parameters (minutes, scoring volume and efficiency, rebounding/assist/three-point
rates) are what the box-score simulator draws from; nothing outside the sandbox sees them, only
their consequences in the box scores and the `truth` frame.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.names import PlayerName, league_names

PER_TEAM = 15
TEAM_FGA = 88.0
_STAR_PPG = (24.0, 33.0)  # expected scoring of each team's primary scorer
_STAR_PTS36 = (25.0, 34.0)
_INJURY_RATE = 0.024
_MAX_FGA = 22.0
N_TRADES = 6

# Depth-chart minutes for slots 0..14 before noise: five starters, five rotation players, then
# the deep bench that mostly sits unless injuries or a blowout open minutes.
_BASE_MINUTES = np.array([37, 35, 33, 31, 29, 24, 21, 18, 15, 12, 8, 6, 5, 4, 3], dtype=float)
# Scoring per 36 minutes by slot, before the team-level normalisation.
_PTS36 = np.array([22, 19, 17, 15, 14, 15, 14, 13, 12, 12, 11, 11, 10, 10, 10], dtype=float)
# Playing probability and depth-chart minutes by rank among a game's available players.
P_PLAY = np.array([1.0] * 9 + [0.85, 0.7, 0.55, 0.45, 0.4, 0.35] + [0.3] * 10)
PROFILE = np.array([38, 36, 34, 32, 29, 24, 20, 17, 14, 11, 6, 5, 4, 3, 3] + [3] * 10, float)
_STARTER_POS = ("G", "G", "F", "F", "C")
_BENCH_POS = ("G", "F", "C", "G-F", "F-C", "G", "F", "")
_COLLEGES = (
    "Duke", "Kentucky", "Kansas", "North Carolina", "Gonzaga", "UCLA", "Villanova", "Arizona",
    "Michigan State", "Baylor", "Texas", "Houston", "Connecticut", "Florida", "Auburn", "Purdue",
    "Tennessee", "Memphis", "Oregon", "Wake Forest", "Virginia", "Marquette", "Iowa State",
    "Creighton", "Saint Mary's", "Alabama", "Ohio State", "Indiana", "Louisville", "Syracuse",
)  # fmt: skip

_TYPE_BY_POS = {"G": 0, "G-F": 1, "F": 1, "F-C": 2, "C": 2, "": 1}


def stream_rng(seed: int, season: int, stream: str) -> np.random.Generator:
    """One independent generator per component, so tuning one part never reshuffles another."""
    return np.random.default_rng([int(seed), int(season), zlib.crc32(stream.encode())])


@dataclass(frozen=True)
class RosterData:
    """Players frame, stints frame and the hidden per-player parameter arrays (by player_key)."""

    players: pd.DataFrame
    stints: pd.DataFrame
    params: dict[str, np.ndarray]
    team_strength: dict[str, np.ndarray]


def _height(rng: np.random.Generator, kind: int) -> str:
    lo, hi = ((73, 78), (77, 81), (81, 85))[kind]
    inches = int(rng.integers(lo, hi + 1))
    return f"{inches // 12}-{inches % 12}"


def build_roster(
    rng: np.random.Generator,
    teams: pd.DataFrame,
    season: int,
    trade_window: tuple[dt.date, dt.date],
) -> RosterData:
    """Invent 15 players per team, their parameters, and a handful of mid-season trades."""
    return draw_roster(rng, teams, season, trade_window)[0]


def draw_roster(
    rng: np.random.Generator,
    teams: pd.DataFrame,
    season: int,
    trade_window: tuple[dt.date, dt.date],
) -> tuple[RosterData, np.ndarray, np.ndarray]:
    """`build_roster`, plus each player's depth slot and team index (what sandbox/history.py
    needs to derive earlier seasons from this one).

    The phases draw from `rng` in this order: names, depth slots, minutes and positions, scoring
    volume, shooting, team strength, the other rates, ids and bios, jerseys, trades.
    """
    n_teams = len(teams)
    names = league_names(rng, n_teams, PER_TEAM)
    team_idx = np.repeat(np.arange(n_teams), PER_TEAM)
    slot = _depth_slots(rng, names)
    flat = [nm for roster in names for nm in roster]
    base_minutes, positions, kind = _minutes_and_positions(rng, slot)
    pts36, primary = _scoring_volume(rng, slot, team_idx)
    # Stars play star minutes: a few real ones average 36 or more.
    base_minutes = np.where(
        primary,
        np.minimum(base_minutes + 1.5 * np.abs(rng.normal(0, 1.2, len(slot))), 40.0),
        base_minutes,
    )
    shooting = _shooting(rng, kind, primary)
    strength, fga36 = team_strength(rng, n_teams, team_idx, base_minutes, pts36, primary, shooting)
    rates = _rates(rng, kind, primary, fga36)
    players = _players_frame(rng, flat, positions, kind, season, team_idx)
    stints = trades(rng, teams, team_idx, slot, trade_window, season)
    params = {
        "base_minutes": base_minutes,
        "fga36": fga36,
        **shooting,
        **rates,
        "primary": primary,
    }
    return RosterData(players, stints, params, strength), slot, team_idx


def _depth_slots(rng: np.random.Generator, names: list[list[PlayerName]]) -> np.ndarray:
    """Depth slot of every player (0 = the first starter).

    Quirky names are placed in the rotation (slots 0..10) so that the props feed, which only
    covers rotation players, actually exercises the name matching.
    """
    n_teams = len(names)
    slot = np.empty(n_teams * PER_TEAM, dtype=int)
    for t in range(n_teams):
        quirky = [i for i, nm in enumerate(names[t]) if nm.quirk]
        plain = [i for i, nm in enumerate(names[t]) if not nm.quirk]
        n_rot = min(len(quirky), 11)
        rotation = list(rng.permutation(11)[:n_rot])
        rest = [s for s in rng.permutation(PER_TEAM) if s not in rotation]
        for i, s in zip(quirky + plain, rotation + rest, strict=True):
            slot[t * PER_TEAM + i] = int(s)
    return slot


def _minutes_and_positions(
    rng: np.random.Generator, slot: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Usual minutes by depth slot, a position, and the body type (guard, wing, big) it implies."""
    n = len(slot)
    base_minutes = np.clip(_BASE_MINUTES[slot] + rng.normal(0, 1.2, n), 2.5, 38.5)
    positions = np.empty(n, dtype=object)
    for i in range(n):
        s = int(slot[i])
        positions[i] = _STARTER_POS[s] if s < 5 else _BENCH_POS[int(rng.integers(len(_BENCH_POS)))]
    kind = np.array([_TYPE_BY_POS[p] for p in positions])
    return base_minutes, positions, kind


def _scoring_volume(
    rng: np.random.Generator, slot: np.ndarray, team_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points per 36 minutes by slot, and one primary scorer per team (slot 0..2)."""
    n = len(slot)
    pts36 = _PTS36[slot] * np.exp(rng.normal(0, 0.16, n))
    primary = np.zeros(n, dtype=bool)
    for t in range(int(team_idx.max()) + 1):
        members = np.flatnonzero((team_idx == t) & (slot < 3))
        star = members[int(rng.integers(len(members)))]
        primary[star] = True
        pts36[star] = rng.uniform(*_STAR_PTS36)
    return pts36, primary


def _shooting(
    rng: np.random.Generator, kind: np.ndarray, primary: np.ndarray
) -> dict[str, np.ndarray]:
    """Two- and three-point accuracy, three-point share, free-throw rate and accuracy."""
    n = len(kind)
    return {
        "p2": np.clip(rng.normal(0.53, 0.03, n) + 0.05 * (kind == 2), 0.42, 0.66),
        "p3": np.clip(rng.normal(0.362, 0.028, n) - 0.03 * (kind == 2), 0.25, 0.45),
        "s3": np.clip(rng.beta(8, 10, n) * np.array([1.05, 1.0, 0.45])[kind], 0.02, 0.8),
        "ftr": np.clip(rng.normal(0.24, 0.06, n) + 0.08 * primary, 0.08, 0.5),
        "pft": np.clip(rng.normal(np.array([0.82, 0.78, 0.7])[kind], 0.06), 0.45, 0.93),
    }


def team_strength(
    rng: np.random.Generator,
    n_teams: int,
    team_idx: np.ndarray,
    base_minutes: np.ndarray,
    pts36: np.ndarray,
    primary: np.ndarray,
    shooting: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Team offence, defence, pace and efficiency, and each player's shot volume (fga36).

    A team takes about TEAM_FGA shots whoever is on the floor; its offensive rating shows up as
    shooting efficiency: scale it so that at its usual minutes the team scores `team_off`.
    """
    p2, p3, s3, ftr, pft = (shooting[k] for k in ("p2", "p3", "s3", "ftr", "pft"))
    pts_per_fga = (1 - s3) * 2 * p2 + s3 * 3 * p3 + ftr * pft
    # 2.6 points above the league's scoring: absences (about one rotation player in seven on a
    # night) cost teams that much on average.
    team_off = 115.4 + rng.normal(0, 3.0, n_teams)
    team_def = rng.normal(0, 2.6, n_teams)
    team_pace = rng.normal(0, 0.02, n_teams)
    fga36 = pts36 / pts_per_fga
    team_eff = np.ones(n_teams)
    for t in range(n_teams):
        m = team_idx == t
        # Usual minutes: the simulator's depth-chart weighting with everyone available.
        rank = np.empty(m.sum(), dtype=int)
        rank[np.argsort(-base_minutes[m], kind="stable")] = np.arange(m.sum())
        weight = P_PLAY[rank] * (0.5 * base_minutes[m] + 0.5 * PROFILE[rank])
        usual = weight * 240.0 / weight.sum()
        # A star's volume is a share of his team's shots: keep his expected scoring in the
        # range of the league's real best scorers, and nobody above ~22 shots a game, whatever
        # the team-mates' volumes are. Efficiency (team_eff) and volume settle together.
        members = np.flatnonzero(m)
        star = int(np.flatnonzero(primary[m])[0])
        fg_part = (1 - s3[m]) * 2 * p2[m] + s3[m] * 3 * p3[m]
        ft_part = ftr[m] * pft[m]
        target = np.clip(pts36[members[star]] * usual[star] / 36.0, *_STAR_PPG)
        for _ in range(6):
            share = usual * fga36[m] / (usual * fga36[m]).sum()
            k = (team_off[t] / TEAM_FGA - (share * ft_part).sum()) / (share * fg_part).sum()
            star_ppg = share[star] * TEAM_FGA * (fg_part[star] * k + ft_part[star])
            fga36[members[star]] *= target / star_ppg
            fga36[members] *= np.minimum(1.0, _MAX_FGA / (share * TEAM_FGA))
        share = usual * fga36[m] / (usual * fga36[m]).sum()
        team_eff[t] = (team_off[t] / TEAM_FGA - (share * ft_part).sum()) / (share * fg_part).sum()
    strength = {"off": team_off, "def": team_def, "pace": team_pace, "eff": team_eff}
    return strength, fga36


def _rates(
    rng: np.random.Generator, kind: np.ndarray, primary: np.ndarray, fga36: np.ndarray
) -> dict[str, np.ndarray]:
    """Rebound, assist, steal, block, turnover and foul rates, and the injury hazard.

    Rebound and assist rates only set each player's share of his team's boards and assists
    (the simulator deals team totals out); their absolute level does not move team totals.
    """
    n = len(kind)
    orb36 = np.array([0.8, 1.5, 3.4])[kind] * np.exp(rng.normal(0, 0.25, n))
    drb36 = np.array([4.3, 5.6, 9.2])[kind] * np.exp(rng.normal(0, 0.2, n))
    ast36 = np.array([5.1, 2.8, 2.1])[kind] * np.exp(rng.normal(0, 0.3, n)) * (1 + 0.3 * primary)
    stl36 = 1.1 * np.exp(rng.normal(0, 0.25, n))
    blk36 = np.array([0.3, 0.6, 1.5])[kind] * np.exp(rng.normal(0, 0.3, n))
    pf36 = np.array([2.8, 3.1, 3.8])[kind] * np.exp(rng.normal(0, 0.15, n))
    # Per-game chance of a new injury: with spells of a game to a few weeks (and a tail to the
    # season's end) a rotation player misses about one game in eight, as real ones do.
    injury_rate = np.exp(rng.normal(np.log(_INJURY_RATE), 0.6, n))
    return {
        "orb36": orb36,
        "drb36": drb36,
        "ast36": ast36,
        "stl36": stl36,
        "blk36": blk36,
        "tov36": 0.09 * fga36 + 0.22 * ast36,
        "pf36": pf36,
        "injury_rate": injury_rate,
    }


def _players_frame(
    rng: np.random.Generator,
    flat: list[PlayerName],
    positions: np.ndarray,
    kind: np.ndarray,
    season: int,
    team_idx: np.ndarray,
) -> pd.DataFrame:
    """The players frame: every source's id and spelling, bio fields, jersey numbers."""
    n = len(flat)
    # Ids: each source has its own. Veterans carry small balldontlie ids, recent draftees big ones.
    bdl_ids = np.where(
        rng.random(n) < 0.6,
        rng.choice(np.arange(1, 4000), n, replace=False),
        rng.choice(np.arange(1_020_000, 1_060_000), n, replace=False),
    )
    espn_ids = rng.choice(np.arange(3_000_000, 5_200_000), n, replace=False)

    rows = []
    for i, nm in enumerate(flat):
        international = nm.country != "USA"
        drafted = rng.random() > 0.12
        draft_year = int(rng.integers(season - 14, season + 1)) if drafted else None
        draft_round = int(1 + (rng.random() < 0.3)) if drafted else None
        draft_number = (
            (int(rng.integers(1, 31)) + (30 if draft_round == 2 else 0)) if drafted else None
        )
        rows.append(
            {
                "player_key": i + 1,
                "bdl_id": int(bdl_ids[i]),
                "espn_id": str(int(espn_ids[i])),
                "bdl_first_name": nm.bdl_first_name,
                "bdl_last_name": nm.bdl_last_name,
                "espn_first_name": nm.espn_first_name,
                "espn_last_name": nm.espn_last_name,
                "espn_display_name": nm.espn_display_name,
                "espn_short_name": nm.espn_short_name,
                "odds_name": nm.odds_name,
                "name_quirk": nm.quirk,
                "position": positions[i],
                "height": None if rng.random() < 0.04 else _height(rng, int(kind[i])),
                "weight": None
                if rng.random() < 0.04
                else str(int(175 + 25 * kind[i] + rng.integers(0, 30))),
                "jersey_number": "",
                "college": None if international else _COLLEGES[int(rng.integers(len(_COLLEGES)))],
                "country": nm.country,
                "draft_year": draft_year,
                "draft_round": draft_round,
                "draft_number": draft_number,
            }
        )
    players = pd.DataFrame(rows)
    for col in ("height", "weight", "college"):
        # Nullable text stays an object column holding None, never NaN (JSON null downstream).
        players[col] = pd.Series([row[col] for row in rows], dtype=object)
    for col in ("draft_year", "draft_round", "draft_number"):
        players[col] = players[col].astype("Int64")
    jerseys = np.empty(n, dtype=object)
    for t in range(int(team_idx.max()) + 1):
        numbers = rng.choice(np.arange(0, 100), PER_TEAM, replace=False)
        for j, i in enumerate(np.flatnonzero(team_idx == t)):
            jerseys[i] = str(int(numbers[j]))
    players["jersey_number"] = jerseys
    return players


def trades(
    rng: np.random.Generator,
    teams: pd.DataFrame,
    team_idx: np.ndarray,
    slot: np.ndarray,
    trade_window: tuple[dt.date, dt.date],
    season: int,
) -> pd.DataFrame:
    """Stints: swap two mid-rotation players between two teams; nobody is traded twice."""
    n_teams, n = len(teams), len(team_idx)
    team_keys = teams["team_key"].to_numpy()
    stints = [
        {"player_key": i + 1, "team_key": team_keys[team_idx[i]], "start_date": None,
         "end_date": None}
        for i in range(n)
    ]  # fmt: skip
    start_day, last_day = trade_window
    span = (last_day - start_day).days
    traded: set[int] = set()
    pairs = rng.permutation(n_teams)
    trade_days = np.sort(rng.integers(0, span + 1, N_TRADES))
    for k in range(N_TRADES):
        ta, tb = int(pairs[2 * k]), int(pairs[2 * k + 1])
        day = start_day + dt.timedelta(days=int(trade_days[k]))
        cands_a = [i for i in np.flatnonzero((team_idx == ta) & (slot >= 3) & (slot <= 11))
                   if i not in traded]  # fmt: skip
        cands_b = [i for i in np.flatnonzero((team_idx == tb) & (slot >= 3) & (slot <= 11))
                   if i not in traded]  # fmt: skip
        a = int(cands_a[int(rng.integers(len(cands_a)))])
        b = int(cands_b[int(rng.integers(len(cands_b)))])
        for p, new_team in ((a, tb), (b, ta)):
            traded.add(p)
            stints[p]["end_date"] = day - dt.timedelta(days=1)
            stints.append(
                {"player_key": p + 1, "team_key": team_keys[new_team], "start_date": day,
                 "end_date": None}
            )  # fmt: skip
    stints_df = pd.DataFrame(stints)
    stints_df = stints_df.sort_values(["player_key", "start_date"], na_position="first")
    stints_df = stints_df.reset_index(drop=True)
    season_start = dt.date(season, 10, 1)
    stints_df["start_date"] = [d if d is not None else season_start for d in stints_df.start_date]
    stints_df["end_date"] = stints_df["end_date"].astype(object)
    stints_df.loc[stints_df["end_date"].isna(), "end_date"] = None
    return stints_df
