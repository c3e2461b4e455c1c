"""Box scores from hidden player parameters and game context, plus the expectation at tip-off.

Everything works on arrays shaped (games, 2 sides, roster slots) so a season costs a fraction of
a second: no Python loop touches a player-game except the injury spells (a few hundred events)
and the overtime passes (a handful).

The order mirrors a real night: availability (injuries, rest) is known at tip-off and goes into
`truth`; then the coach decides who of the deep bench plays, the game's flow decides whether
it is a blowout (starters sit and their remaining shots go to the bench), the team's shots are
shared among its players (so team-mates' points are negatively correlated, as in real box
scores), ties go to overtime, rebounds are dealt out of the game's misses and assists out of
made baskets (so team totals stay where real ones are, with no 80-rebound nights), and
plus-minus is split so a team's sum is five times its margin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sandbox.roster import P_PLAY, PROFILE, TEAM_FGA, RosterData

_BLOWOUT = 20.0
_MARGIN_SD = 14.0
_MAX_MINUTES = 44.0
_SECOND_CHANCE = 0.27
_OT_MINUTES = 1.007  # about 6% of games add 5 minutes to 48
# Rebounds come from misses: the last free throw of a trip is live about half the time, and about
# one live miss in eight goes out of bounds or to the team (credited to nobody).
_FT_LIVE = 0.5
_CREDITED = 0.88
# Game-to-game noise on a player's share of his team's shots / rebounds / assists (gamma shape:
# larger is steadier). Shots are already multinomial, so their share needs little extra noise;
# rebounds and assists end up near 1.2-1.3x Poisson around the truth, as real players' do.
_SHOT_SHAPE = 200.0
_SHARE_SHAPE = 40.0
_MAX_AST_RATE = 0.8  # assisted share of made baskets, whatever the passers' rates say
_MAX_FGA36 = 25.0  # expected shots per 36 minutes, however many team-mates sit
_RUBBER_BAND = 0.22  # share of the margin's surprise each side gives back
_INJURIES = (
    "Left Ankle Sprain", "Right Ankle Sprain", "Right Knee Soreness", "Left Hamstring Strain",
    "Illness", "Lower Back Spasms", "Concussion Protocol", "Right Foot Contusion",
    "Left Calf Strain", "Right Wrist Sprain", "Left Groin Tightness", "Personal Reasons",
)  # fmt: skip
COACH = "Coach's Decision"
REST = "Rest"
NOT_WITH_TEAM = "Not With Team"


@dataclass(frozen=True)
class SimResult:
    """What the simulator hands back to the league builder."""

    box: pd.DataFrame
    truth: pd.DataFrame
    home_score: np.ndarray
    away_score: np.ndarray
    periods: np.ndarray
    final_at: pd.DatetimeIndex
    exp_home_pts: np.ndarray
    exp_away_pts: np.ndarray


def norm_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF, vectorised (Abramowitz-Stegun 7.1.26, error below 1e-6)."""
    z = np.abs(np.asarray(x, dtype=float)) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)


def _largest_remainder(x: np.ndarray, total: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Round the last axis of `x` to integers summing to `total`, only where `mask`."""
    x = np.where(mask, x, 0.0)
    base = np.floor(x)
    short = (total - base.sum(axis=-1)).astype(int)
    frac = np.where(mask, x - base, -1.0)
    order = np.argsort(-frac, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(x.shape[-1])[None, None, :], axis=-1)
    base += (ranks < short[..., None]) & mask
    return base.astype(np.int64)


def _rank_among(mask: np.ndarray) -> np.ndarray:
    """Position of each True cell among the True cells of its row (slots are depth-sorted)."""
    rank = np.cumsum(mask, axis=-1) - 1
    return np.where(mask, rank, len(P_PLAY) - 1)


def _take(rng: np.random.Generator, n: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Spread `n` conversions over players in proportion to `pool`, never beyond a player's pool."""
    tot = pool.sum(axis=-1, keepdims=True)
    share = np.where(tot > 0, pool / np.where(tot > 0, tot, 1), 0.0)
    share[..., -1] = np.maximum(1.0 - share[..., :-1].sum(axis=-1), 0.0)
    n = np.where(tot[..., 0] > 0, np.minimum(n, tot[..., 0]), 0).astype(np.int64)
    return np.minimum(rng.multinomial(n, share), pool)


def _cap_usage(usage: np.ndarray, minutes: np.ndarray, team_fga: np.ndarray) -> np.ndarray:
    """Shot volume per game, capped: with team-mates out a star shoots more, but only so far.

    A team's shots are shared by minutes x volume; without a cap, a night with two starters out
    hands a star 30+ expected shots. Capped players' excess goes to the others.
    """
    capped = usage
    for _ in range(4):
        total = (minutes * capped).sum(axis=-1, keepdims=True)
        capped = np.minimum(capped, _MAX_FGA36 / 36.0 * total / team_fga[..., None])
    return capped


def _offensive_share(orb_w: np.ndarray, drb_w: np.ndarray) -> np.ndarray:
    """Share of a side's own misses it rebounds: its crashers against the other side's boxers."""
    off = orb_w.sum(axis=-1)
    return off / np.maximum(off + drb_w.sum(axis=-1)[:, ::-1], 1e-9)


def _split(total: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Expected share of a team total per player, in proportion to `weight` (last axis)."""
    tot = weight.sum(axis=-1, keepdims=True)
    return total[..., None] * weight / np.maximum(tot, 1e-9)


def _share(rng: np.random.Generator, n: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Deal `n` (a team total) out to players in proportion to `weight` (zero weight: none)."""
    tot = weight.sum(axis=-1, keepdims=True)
    share = weight / np.where(tot > 0, tot, 1.0)
    share[..., -1] = np.maximum(1.0 - share[..., :-1].sum(axis=-1), 0.0)
    return rng.multinomial(np.where(tot[..., 0] > 0, n, 0).astype(np.int64), share)


def _thin(
    rng: np.random.Generator, shots: dict[str, np.ndarray], keep: np.ndarray
) -> dict[str, np.ndarray]:
    """Keep each attempt with probability `keep` (made and missed alike): a shorter night."""
    fg3m = rng.binomial(shots["fg3m"], keep)
    fg3x = rng.binomial(shots["fg3a"] - shots["fg3m"], keep)
    fg2m = rng.binomial(shots["fgm"] - shots["fg3m"], keep)
    fg2x = rng.binomial(shots["fga"] - shots["fg3a"] - (shots["fgm"] - shots["fg3m"]), keep)
    ftm = rng.binomial(shots["ftm"], keep)
    ftx = rng.binomial(shots["fta"] - shots["ftm"], keep)
    return {
        "fga": fg3m + fg3x + fg2m + fg2x,
        "fg3a": fg3m + fg3x,
        "fgm": fg2m + fg3m,
        "fg3m": fg3m,
        "fta": ftm + ftx,
        "ftm": ftm,
    }


def _rubber_band(
    rng: np.random.Generator,
    shots: dict[str, np.ndarray],
    pts_team: np.ndarray,
    team_exp: np.ndarray,
) -> dict[str, np.ndarray]:
    """Pull the margin part of the way back towards its expectation, as real games do.

    Shot by shot a game is close to binomial, yet real margins vary less than independent
    binomial scoring would make them: teams ahead relax, teams behind press. The team that beat
    its expected margin turns some two-point makes into misses, the other some misses into
    makes; attempts stay, so every box identity still holds.
    """
    resid = (pts_team[:, 0] - pts_team[:, 1]) - (team_exp[:, 0] - team_exp[:, 1])
    n_conv = np.rint(np.abs(resid) * _RUBBER_BAND / 4.0).astype(np.int64)
    behind = (resid > 0).astype(int)  # the side (0 home, 1 away) that fell short of expectation
    ahead = 1 - behind
    g = np.arange(len(resid))
    two_made = shots["fgm"] - shots["fg3m"]
    two_miss = (shots["fga"] - shots["fg3a"]) - two_made
    give = _take(rng, n_conv, two_made[g, ahead])
    gain = _take(rng, n_conv, two_miss[g, behind])
    fgm = shots["fgm"].copy()
    fgm[g, ahead] -= give
    fgm[g, behind] += gain
    return {**shots, "fgm": fgm}


def simulate(
    rng: np.random.Generator,
    roster: RosterData,
    team_keys: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    day_of: np.ndarray,
    game_keys: np.ndarray,
    tipoff: pd.DatetimeIndex,
    season_start: dt.date,
) -> SimResult:
    """Play every game (already in tip-off order) and return box scores and expectations."""
    prm = roster.params
    n_games = len(home)
    n_teams = len(team_keys)
    key_to_idx = {k: i for i, k in enumerate(team_keys)}

    # --- rosters on each game day, depth-sorted (by the player's usual minutes) -------------
    st = roster.stints
    st_player = st["player_key"].to_numpy() - 1
    st_team = np.array([key_to_idx[k] for k in st["team_key"]])
    st_from = np.array([(d - season_start).days for d in st["start_date"]])
    st_to = np.array([10_000 if d is None else (d - season_start).days for d in st["end_date"]])
    width = int(np.bincount(st_team).max()) + 1
    slots = np.full((n_games, 2, width), -1, dtype=np.int64)
    by_team = [np.flatnonzero(st_team == t) for t in range(n_teams)]
    base_min = prm["base_minutes"]
    for g in range(n_games):
        day = day_of[g]
        for s, t in ((0, home[g]), (1, away[g])):
            cand = by_team[t]
            ok = cand[(st_from[cand] <= day) & (st_to[cand] >= day)]
            players = st_player[ok]
            players = players[np.argsort(-base_min[players], kind="stable")]
            slots[g, s, : len(players)] = players
    valid = slots >= 0
    pidx = np.where(valid, slots, 0)
    team_of = np.stack([home, away], axis=1)
    opp_of = np.stack([away, home], axis=1)

    # --- schedule context: rest days and back-to-backs --------------------------------------
    rest = np.zeros((n_games, 2), dtype=int)
    for t in range(n_teams):
        gi, si = np.nonzero(team_of == t)
        order = np.argsort(day_of[gi], kind="stable")
        gi, si = gi[order], si[order]
        gaps = np.diff(day_of[gi], prepend=day_of[gi][0] - 4) - 1
        rest[gi, si] = gaps
    b2b = rest == 0

    off, dfn, pace = (roster.team_strength[k] for k in ("off", "def", "pace"))
    pace_g = 1 + (pace[home] + pace[away]) / 2
    home_adv = np.array([1.4, -1.4])
    rest_adj = np.where(b2b, -1.8, np.where(rest >= 2, 0.6, 0.0))
    mu = (off[team_of] + dfn[opp_of] + home_adv[None, :] + rest_adj) * pace_g[:, None]
    ctx_total = mu / off[team_of]
    ctx_att = pace_g[:, None] * (1 + 0.5 * (ctx_total / pace_g[:, None] - 1))
    ctx_eff = ctx_total / ctx_att

    # --- form: an AR(1) random walk through each player's season ----------------------------
    flat_g, flat_s, flat_r = np.nonzero(valid)
    flat_p = slots[flat_g, flat_s, flat_r]
    order = np.lexsort((flat_g, flat_p))
    flat_g, flat_s, flat_r, flat_p = flat_g[order], flat_s[order], flat_r[order], flat_p[order]
    n_players = len(base_min)
    counts = np.bincount(flat_p, minlength=n_players)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seq = np.arange(len(flat_p)) - starts[flat_p]
    max_n = int(counts.max())
    eps_score = rng.normal(0, 0.04, (n_players, max_n))
    eps_min = rng.normal(0, 0.03, (n_players, max_n))
    form_s = np.zeros((n_players, max_n))
    form_m = np.zeros((n_players, max_n))
    form_s[:, 0] = rng.normal(0, 0.1, n_players)
    form_m[:, 0] = rng.normal(0, 0.06, n_players)
    for k in range(1, max_n):
        form_s[:, k] = 0.95 * form_s[:, k - 1] + eps_score[:, k]
        form_m[:, k] = 0.95 * form_m[:, k - 1] + eps_min[:, k]
    f_score = np.zeros(valid.shape)
    f_min = np.zeros(valid.shape)
    f_score[flat_g, flat_s, flat_r] = form_s[flat_p, seq]
    f_min[flat_g, flat_s, flat_r] = form_m[flat_p, seq]

    # --- availability known at tip-off: injury spells, rest on back-to-backs ----------------
    out = np.zeros(len(flat_p), dtype=bool)
    reason = np.full(len(flat_p), "", dtype=object)
    hit = np.flatnonzero(rng.random(len(flat_p)) < prm["injury_rate"][flat_p])
    lengths = np.minimum(np.ceil(np.exp(rng.normal(1.1, 0.95, len(hit)))), 35).astype(int)
    labels = rng.integers(len(_INJURIES), size=len(hit))
    ends = starts[flat_p] + counts[flat_p]
    for i, length, label in zip(hit, lengths, labels, strict=True):
        if out[i]:
            continue
        stop = min(i + length, ends[i])
        free = ~out[i:stop]
        out[i:stop] = True
        reason[i:stop][free] = _INJURIES[label]
    # A traded player sometimes misses his new team's first game.
    same_player = np.r_[False, flat_p[1:] == flat_p[:-1]]
    moved = np.r_[False, team_of[flat_g[1:], flat_s[1:]] != team_of[flat_g[:-1], flat_s[:-1]]]
    new_team = same_player & moved & ~out & (rng.random(len(flat_p)) < 0.5)
    out |= new_team
    reason[new_team] = NOT_WITH_TEAM
    depth_flat = flat_r
    rested = b2b[flat_g, flat_s] & (depth_flat <= 1) & ~out & (rng.random(len(flat_p)) < 0.1)
    out |= rested
    reason[rested] = REST
    unavailable = np.zeros(valid.shape, dtype=bool)
    unavailable[flat_g, flat_s, flat_r] = out
    why = np.full(valid.shape, "", dtype=object)
    why[flat_g, flat_s, flat_r] = reason
    avail = valid & ~unavailable
    avail_rank = _rank_among(avail)

    # --- expectations at tip-off (the `truth`) ----------------------------------------------
    bmin = base_min[pidx]
    b2b_cut = np.where(b2b[:, :, None] & (avail_rank < 5), 0.96, 1.0)
    w_det = (0.5 * bmin + 0.5 * PROFILE[avail_rank]) * np.exp(0.25 * f_min) * b2b_cut
    p_play = np.where(avail, P_PLAY[avail_rank], 0.0)
    denom = (p_play * w_det).sum(axis=-1, keepdims=True)
    exp_min = p_play * w_det * 240.0 / denom
    d_margin = mu[:, 0] - mu[:, 1]
    p_blow = (
        1
        - norm_cdf((_BLOWOUT - d_margin) / _MARGIN_SD)
        + norm_cdf((-_BLOWOUT - d_margin) / _MARGIN_SD)
    )
    # A blowout benches the starters for the last minutes and hands their shots to the bench:
    # shots follow minutes, so the expected cut shows in the starters' points too.
    exp_min = np.where(avail_rank < 5, exp_min * (1 - 0.2 * p_blow[:, None, None]), exp_min)
    # Garbage time in expected blowouts for the end of the bench; overtime for everyone.
    garbage_min = np.where(avail & (avail_rank >= 7), 5.0 * p_blow[:, None, None], 0.0)
    exp_min = np.minimum((exp_min + garbage_min) * _OT_MINUTES, _MAX_MINUTES)

    # A team's shots are shared by minutes x volume x form; efficiency carries team quality.
    team_fga = TEAM_FGA * ctx_att
    usage = _cap_usage(prm["fga36"][pidx] * np.exp(f_score), exp_min, team_fga)
    uw = exp_min * usage
    exp_fga = team_fga[:, :, None] * uw / uw.sum(axis=-1, keepdims=True)
    eff = (ctx_eff * roster.team_strength["eff"][team_of])[:, :, None] * np.exp(0.25 * f_score)
    s3, ftr, pft = prm["s3"][pidx], prm["ftr"][pidx], prm["pft"][pidx]
    p2e = np.clip(prm["p2"][pidx] * eff, 0.25, 0.8)
    p3e = np.clip(prm["p3"][pidx] * eff, 0.1, 0.6)
    pts_per_fga = (1 - s3) * 2 * p2e + s3 * 3 * p3e + ftr * pft
    ast_pm = prm["ast36"][pidx] / 36.0 * ctx_att[:, :, None] * np.exp(0.5 * f_score)
    exp_pts = exp_fga * pts_per_fga
    exp_fg3m = exp_fga * s3 * p3e
    team_exp = np.where(valid, exp_pts, 0.0).sum(axis=-1)
    # Rebounds and assists are shares of team totals (misses, made baskets), so the truth is the
    # expected pool times the player's expected share of it.
    exp_team_fgm = np.where(valid, exp_fga * ((1 - s3) * p2e + s3 * p3e), 0.0).sum(axis=-1)
    exp_ft_miss = np.where(valid, ftr * exp_fga * (1 - pft), 0.0).sum(axis=-1)
    exp_misses = team_fga - exp_team_fgm + _FT_LIVE * exp_ft_miss
    orb_w = np.where(avail, prm["orb36"][pidx] * exp_min, 0.0)
    drb_w = np.where(avail, prm["drb36"][pidx] * exp_min, 0.0)
    p_off = _offensive_share(orb_w, drb_w)
    exp_oreb = _CREDITED * exp_misses * p_off
    exp_dreb = (_CREDITED * exp_misses * (1 - p_off))[:, ::-1]
    exp_reb = _split(exp_oreb, orb_w) + _split(exp_dreb, drb_w)
    exp_ast = np.where(valid, exp_min * ast_pm, 0.0)
    ast_rate = np.minimum(exp_ast.sum(axis=-1) / exp_team_fgm, _MAX_AST_RATE)
    exp_ast = _split(ast_rate * exp_team_fgm, exp_ast)

    # --- the game itself --------------------------------------------------------------------
    team_eff = rng.normal(0, 0.015, (n_games, 2))
    pace_real = rng.normal(0, 0.025, n_games)
    active = avail & (rng.random(valid.shape) < p_play)
    act_rank = _rank_among(active)
    w = (0.5 * bmin + 0.5 * PROFILE[act_rank]) * np.exp(0.25 * f_min) * b2b_cut
    w = w * np.exp(rng.normal(0, 0.14, valid.shape))
    w = np.where(active, w, 0.0)
    minutes = w * 240.0 / w.sum(axis=-1, keepdims=True)
    for _ in range(3):
        over = np.maximum(minutes - _MAX_MINUTES, 0).sum(axis=-1, keepdims=True)
        room = np.where(active & (minutes < _MAX_MINUTES), minutes, 0.0)
        minutes = np.minimum(minutes, _MAX_MINUTES)
        minutes += room / np.maximum(room.sum(axis=-1, keepdims=True), 1e-9) * over
    seconds = _largest_remainder(minutes * 60.0, np.full((n_games, 2), 14_400), active)

    p2r = np.clip(p2e * (1 + team_eff[:, :, None]), 0.2, 0.85)
    p3r = np.clip(p3e * (1 + team_eff[:, :, None]), 0.05, 0.65)
    miss_rate = 1 - ((1 - s3) * p2r + s3 * p3r)

    def shoot(secs: np.ndarray, who: np.ndarray, n_mean: np.ndarray) -> dict[str, np.ndarray]:
        # First shots, then second chances off the team's own misses (offensive rebounds): a
        # cold night earns extra attempts, which keeps team scores as steady as real ones.
        weight = secs * usage * who
        exp_share = weight / np.maximum(weight.sum(axis=-1, keepdims=True), 1e-9)
        second = _SECOND_CHANCE * (exp_share * miss_rate).sum(axis=-1)
        n_first = n_mean / (1 + second)
        first = _shots(
            np.rint(n_first * (1 + pace_real[:, None]) + rng.normal(0, 1.5, n_mean.shape)), weight
        )
        misses = (first["fga"] - first["fgm"]).sum(axis=-1)
        extra = _shots(rng.binomial(misses, _SECOND_CHANCE), weight)
        out = {k: first[k] + extra[k] for k in first}
        lam_fta = ftr * n_mean[:, :, None] * exp_share * rng.gamma(10.0, 1 / 10.0, weight.shape)
        out["fta"] = rng.poisson(lam_fta)
        out["ftm"] = rng.binomial(out["fta"], pft)
        return out

    def _shots(n_fga: np.ndarray, weight: np.ndarray) -> dict[str, np.ndarray]:
        share = weight * rng.gamma(_SHOT_SHAPE, 1 / _SHOT_SHAPE, weight.shape)
        tot = share.sum(axis=-1, keepdims=True)
        n_fga = np.where(tot[..., 0] > 0, np.maximum(n_fga, 0), 0).astype(np.int64)
        share = share / np.where(tot > 0, tot, 1.0)
        share[..., -1] = np.maximum(1.0 - share[..., :-1].sum(axis=-1), 0.0)
        fga = rng.multinomial(n_fga, share)
        mix = np.clip(s3 * np.exp(rng.normal(0, 0.12, weight.shape)), 0.0, 0.95)
        fg3a = rng.binomial(fga, mix)
        fg3m = rng.binomial(fg3a, p3r)
        fg2m = rng.binomial(fga - fg3a, p2r)
        return {"fga": fga, "fg3a": fg3a, "fgm": fg2m + fg3m, "fg3m": fg3m}

    shots = shoot(seconds, active, team_fga)
    periods = np.full(n_games, 4, dtype=np.int64)

    def team_points(sh: dict[str, np.ndarray]) -> np.ndarray:
        return (2 * sh["fgm"] + sh["fg3m"] + sh["ftm"]).sum(axis=-1)

    pts_team = team_points(shots)
    shots = _rubber_band(rng, shots, pts_team, team_exp)
    pts_team = team_points(shots)
    # Blowouts: once a game is decided the starters sit. Their time goes to the end of the bench,
    # including garbage-time players who would otherwise not have played, and so do the shots
    # they would have taken in it: the team's possessions do not grow because the bench is in.
    blowout = np.abs(pts_team[:, 0] - pts_team[:, 1]) >= _BLOWOUT
    bo = blowout[:, None, None]
    garbage = bo & avail & ~active & (rng.random(valid.shape) < 0.85)
    cut = np.where(bo & active & (act_rank < 5), rng.uniform(0.12, 0.28, valid.shape), 0.0)
    freed = (seconds * cut).sum(axis=-1, keepdims=True)
    takers = bo & ((active & (act_rank >= 7)) | garbage)
    take_w = np.where(takers, np.where(garbage, 1.0, 1.5) * rng.uniform(0.5, 1.5, valid.shape), 0)
    take = take_w / np.maximum(take_w.sum(axis=-1, keepdims=True), 1e-9) * freed
    new_secs = seconds * (1 - cut) + take
    active = active | garbage
    seconds = np.where(
        bo, _largest_remainder(new_secs, np.full((n_games, 2), 14_400), active), seconds
    )
    if blowout.any():
        kept = _thin(rng, shots, 1.0 - cut)
        handed = (shots["fga"] - kept["fga"]).sum(axis=-1).astype(float)
        late = shoot(np.where(takers, take, 0.0), takers, handed)
        shots = {k: kept[k] + late[k] for k in shots}
        pts_team = team_points(shots)
    # Close games get tied late far more often than chance (fouling, last shots): the trailing
    # team's go-to player makes the free throws that send some of them to overtime.
    gap = pts_team[:, 0] - pts_team[:, 1]
    rally = (np.abs(gap) <= 3) & (gap != 0) & (rng.random(n_games) < 0.3)
    trailing = (gap > 0).astype(int)
    closer = np.argmax(np.where(active, seconds * usage, -1.0), axis=-1)
    g_idx = np.flatnonzero(rally)
    s_idx = trailing[g_idx]
    r_idx = closer[g_idx, s_idx]
    for k in ("fta", "ftm"):
        shots[k][g_idx, s_idx, r_idx] += np.abs(gap[g_idx])
    pts_team = team_points(shots)
    tied = pts_team[:, 0] == pts_team[:, 1]
    while tied.any():
        periods += tied
        # The five players with most minutes so far play the extra five minutes.
        order = np.argsort(-np.where(active, seconds, -1), axis=-1, kind="stable")
        top = np.zeros(valid.shape, dtype=bool)
        np.put_along_axis(top, order[..., :5], True, axis=-1)
        top &= active & tied[:, None, None]
        extra = top * 300
        seconds = seconds + extra
        ot = shoot(extra, top, team_fga * 300.0 / 2880.0)
        for k in shots:
            shots[k] = shots[k] + ot[k]
        pts_team = team_points(shots)
        tied = pts_team[:, 0] == pts_team[:, 1]

    mins = seconds / 60.0
    noise = rng.gamma(_SHARE_SHAPE, 1 / _SHARE_SHAPE, (5, *valid.shape))
    # Rebounds: every live miss of the game is a rebound chance, credited or not; the two teams'
    # rebounders on the floor compete for it, then the team's haul is shared among them.
    misses = (shots["fga"] - shots["fgm"]).sum(axis=-1)
    misses += rng.binomial((shots["fta"] - shots["ftm"]).sum(axis=-1), _FT_LIVE)
    orb_w = np.where(active, prm["orb36"][pidx] * mins * noise[0], 0.0)
    drb_w = np.where(active, prm["drb36"][pidx] * mins * noise[1], 0.0)
    credited = rng.binomial(misses, _CREDITED)
    oreb_team = rng.binomial(credited, _offensive_share(orb_w, drb_w))
    dreb_team = (credited - oreb_team)[:, ::-1]
    oreb = _share(rng, oreb_team, orb_w)
    dreb = _share(rng, dreb_team, drb_w)
    # Assists: a share of the team's made baskets, never on a player's own basket.
    team_fgm = shots["fgm"].sum(axis=-1)
    ast_w = np.where(active, ast_pm * mins * noise[2], 0.0)
    ast = _share(rng, rng.binomial(team_fgm, ast_rate), ast_w)
    ast = np.minimum(ast, np.maximum(team_fgm[:, :, None] - shots["fgm"], 0))
    stl = rng.poisson(prm["stl36"][pidx] / 36.0 * mins)
    blk = rng.poisson(prm["blk36"][pidx] / 36.0 * mins * noise[3])
    tov = rng.poisson(prm["tov36"][pidx] / 36.0 * mins * np.exp(0.5 * f_score) * noise[4])
    pf = np.minimum(rng.poisson(prm["pf36"][pidx] / 36.0 * mins), 6)
    pts = 2 * shots["fgm"] + shots["fg3m"] + shots["ftm"]

    # Plus-minus: the team margin shared by time on court plus noise, summing to 5 x margin.
    margin = (pts_team[:, 0] - pts_team[:, 1])[:, None] * np.array([1, -1])[None, :]
    game_secs = (2880 + 300 * (periods - 4))[:, None, None]
    on = np.where(active, seconds, 0)
    x = margin[:, :, None] * on / game_secs + rng.normal(0, 4.5, valid.shape) * np.sqrt(on / 2160.0)
    x = np.where(active, x, 0.0)
    fix = (x.sum(axis=-1) - 5 * margin)[:, :, None] * on / on.sum(axis=-1, keepdims=True)
    x = x - fix
    shift = 100
    plus_minus = _largest_remainder(x + shift, 5 * margin + shift * active.sum(-1), active)
    plus_minus = np.where(active, plus_minus - shift, 0)

    starter = active & (act_rank < 5)
    zero = ~active

    def col(a: np.ndarray) -> np.ndarray:
        return np.where(zero, 0, a)[flat_g, flat_s, flat_r].astype(np.int64)

    dnp_reason = np.where(active, None, np.where(why == "", COACH, why))
    box = pd.DataFrame(
        {
            "game_key": game_keys[flat_g],
            "player_key": flat_p + 1,
            "team_key": team_keys[team_of[flat_g, flat_s]],
            "is_starter": starter[flat_g, flat_s, flat_r],
            "did_not_play": ~active[flat_g, flat_s, flat_r],
            "dnp_reason": dnp_reason[flat_g, flat_s, flat_r],
            "seconds_played": col(seconds),
            "pts": col(pts),
            "fgm": col(shots["fgm"]),
            "fga": col(shots["fga"]),
            "fg3m": col(shots["fg3m"]),
            "fg3a": col(shots["fg3a"]),
            "ftm": col(shots["ftm"]),
            "fta": col(shots["fta"]),
            "oreb": col(oreb),
            "dreb": col(dreb),
            "reb": col(oreb + dreb),
            "ast": col(ast),
            "stl": col(stl),
            "blk": col(blk),
            "tov": col(tov),
            "pf": col(pf),
            "plus_minus": col(plus_minus),
            "_side": flat_s,
            "_depth": flat_r,
        }
    )
    box = box.sort_values(["game_key", "_side", "_depth"], kind="stable").reset_index(drop=True)
    box = box.drop(columns=["_side", "_depth"])
    # Keep None (not NaN) for players who played: the HTTP layer renders it as JSON null.
    box["dnp_reason"] = pd.Series(
        [r if isinstance(r, str) else None for r in box["dnp_reason"]], dtype=object
    )

    truth = pd.DataFrame(
        {
            "game_key": game_keys[flat_g],
            "player_key": flat_p + 1,
            "team_key": team_keys[team_of[flat_g, flat_s]],
            "available": avail[flat_g, flat_s, flat_r],
            "exp_minutes": exp_min[flat_g, flat_s, flat_r],
            "exp_pts": exp_pts[flat_g, flat_s, flat_r],
            "exp_reb": exp_reb[flat_g, flat_s, flat_r],
            "exp_ast": exp_ast[flat_g, flat_s, flat_r],
            "exp_fg3m": exp_fg3m[flat_g, flat_s, flat_r],
            "exp_fga": exp_fga[flat_g, flat_s, flat_r],
        }
    )
    truth = truth.sort_values(["game_key", "player_key"], kind="stable").reset_index(drop=True)

    duration = pd.to_timedelta(
        np.rint(7800 + rng.normal(0, 420, n_games) + 1080 * (periods - 4)), unit="s"
    )
    final_at = (tipoff + duration).round("s")
    return SimResult(
        box=box,
        truth=truth,
        home_score=pts_team[:, 0].astype(np.int64),
        away_score=pts_team[:, 1].astype(np.int64),
        periods=periods,
        final_at=final_at,
        exp_home_pts=team_exp[:, 0],
        exp_away_pts=team_exp[:, 1],
    )
