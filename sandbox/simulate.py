"""Box scores from hidden player parameters and game context, plus the expectation at tip-off.

Everything works on arrays shaped (games, 2 sides, roster slots) so a season costs a fraction of
a second: no Python loop touches a player-game except the injury spells (a few hundred events)
and the overtime passes (a handful).

The order mirrors a real night: availability (injuries, rest) is known at tip-off and goes into
`truth` (the day's absences are news released at random times before tip-off, and the
expectation after each item of a game's news is kept apart for the market); then the coach
decides who of the deep bench plays, the game's flow decides whether it is a blowout (starters
sit and their remaining shots go to the bench), the team's shots are shared among its players
(so team-mates' points are negatively correlated, as in real box scores), ties go to overtime,
rebounds are dealt out of the game's misses and assists out of made baskets (so team totals stay
where real ones are, with no 80-rebound nights), and plus-minus is split so a team's sum is five
times its margin.
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
_SEASON_INJURIES = (
    "Torn Left ACL", "Right Achilles Rupture", "Left Foot Fracture", "Right Knee Surgery",
)  # fmt: skip
# Share of injuries that end the season; with the rate in roster.py about a third of teams lose
# a rotation player for good, as real teams do.
_SEASON_ENDING = 0.03
_STAR_REST = 0.22  # share of back-to-backs a team's best player sits out (load management)
_STARTER_REST = 0.05
# Share of the missing players' usual scoring the team fails to replace: a 28-point star costs
# his team about 4 points; a deep reserve next to nothing.
_ABSENCE_COST = 0.16
_NEWS_DAY_BEFORE = 0.35  # share of injury news in the previous day's report
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
    # The day's availability news, and what was expected after the first j items of each game's
    # news had landed (stage 0: the absentees assumed to play; the last stage: `truth`): at each
    # moment the market knows exactly the stage of the news released by then.
    news: pd.DataFrame
    stages: pd.DataFrame
    stage_team_exp: np.ndarray  # (stages, games, home/away)


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


@dataclass(frozen=True)
class _Slots:
    """Each game's two rosters, depth-sorted, as (games, 2 sides, width) arrays, and flat rows."""

    slots: np.ndarray
    valid: np.ndarray
    pidx: np.ndarray
    team_of: np.ndarray
    opp_of: np.ndarray
    flat_g: np.ndarray
    flat_s: np.ndarray
    flat_r: np.ndarray
    flat_p: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    seq: np.ndarray


def _rosters_on_game_days(
    roster: RosterData,
    team_keys: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    day_of: np.ndarray,
    season_start: dt.date,
) -> _Slots:
    """Who is on each side's roster on the game day, depth-sorted by the player's usual minutes."""
    key_to_idx = {k: i for i, k in enumerate(team_keys)}
    n_games, n_teams = len(home), len(team_keys)
    st = roster.stints
    st_player = st["player_key"].to_numpy() - 1
    st_team = np.array([key_to_idx[k] for k in st["team_key"]])
    st_from = np.array([(d - season_start).days for d in st["start_date"]])
    st_to = np.array([10_000 if d is None else (d - season_start).days for d in st["end_date"]])
    width = int(np.bincount(st_team).max()) + 1
    slots = np.full((n_games, 2, width), -1, dtype=np.int64)
    by_team = [np.flatnonzero(st_team == t) for t in range(n_teams)]
    base_min = roster.params["base_minutes"]
    for g in range(n_games):
        day = day_of[g]
        for s, t in ((0, home[g]), (1, away[g])):
            cand = by_team[t]
            ok = cand[(st_from[cand] <= day) & (st_to[cand] >= day)]
            players = st_player[ok]
            players = players[np.argsort(-base_min[players], kind="stable")]
            slots[g, s, : len(players)] = players
    valid = slots >= 0
    # Flat player-game rows in each player's season order (games are already in tip-off order).
    flat_g, flat_s, flat_r = np.nonzero(valid)
    flat_p = slots[flat_g, flat_s, flat_r]
    order = np.lexsort((flat_g, flat_p))
    flat_g, flat_s, flat_r, flat_p = flat_g[order], flat_s[order], flat_r[order], flat_p[order]
    counts = np.bincount(flat_p, minlength=len(base_min))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return _Slots(
        slots=slots,
        valid=valid,
        pidx=np.where(valid, slots, 0),
        team_of=np.stack([home, away], axis=1),
        opp_of=np.stack([away, home], axis=1),
        flat_g=flat_g,
        flat_s=flat_s,
        flat_r=flat_r,
        flat_p=flat_p,
        starts=starts,
        counts=counts,
        seq=np.arange(len(flat_p)) - starts[flat_p],
    )


def _rest_days(sl: _Slots, day_of: np.ndarray, n_teams: int) -> np.ndarray:
    """Days off before each game per side (0 = the second night of a back-to-back)."""
    rest = np.zeros(sl.team_of.shape, dtype=int)
    for t in range(n_teams):
        gi, si = np.nonzero(sl.team_of == t)
        order = np.argsort(day_of[gi], kind="stable")
        gi, si = gi[order], si[order]
        rest[gi, si] = np.diff(day_of[gi], prepend=day_of[gi][0] - 4) - 1
    return rest


def _form(rng: np.random.Generator, sl: _Slots) -> tuple[np.ndarray, np.ndarray]:
    """An AR(1) random walk through each player's season: scoring form and minutes form."""
    n_players = len(sl.counts)
    max_n = int(sl.counts.max())
    eps_score = rng.normal(0, 0.04, (n_players, max_n))
    eps_min = rng.normal(0, 0.03, (n_players, max_n))
    form_s = np.zeros((n_players, max_n))
    form_m = np.zeros((n_players, max_n))
    form_s[:, 0] = rng.normal(0, 0.1, n_players)
    form_m[:, 0] = rng.normal(0, 0.06, n_players)
    for k in range(1, max_n):
        form_s[:, k] = 0.95 * form_s[:, k - 1] + eps_score[:, k]
        form_m[:, k] = 0.95 * form_m[:, k - 1] + eps_min[:, k]
    f_score = np.zeros(sl.valid.shape)
    f_min = np.zeros(sl.valid.shape)
    idx = (sl.flat_g, sl.flat_s, sl.flat_r)
    f_score[idx] = form_s[sl.flat_p, sl.seq]
    f_min[idx] = form_m[sl.flat_p, sl.seq]
    return f_score, f_min


@dataclass(frozen=True)
class _Availability:
    """Who is out of each game and why, and which absences were news on the day (flat rows)."""

    out: np.ndarray  # flat: out of this game
    reason: np.ndarray  # flat: the reason shown
    news: np.ndarray  # flat: the first game of an absence (the news lands before this tip-off)
    spell_len: np.ndarray  # flat, on news rows: games the absence lasts
    season_ending: np.ndarray  # flat, on news rows


def _availability(
    rng: np.random.Generator, sl: _Slots, prm: dict[str, np.ndarray], b2b: np.ndarray
) -> _Availability:
    """Injury spells (a heavy tail up to season-ending), trades, and stars resting on back-to-backs.

    Real rotation players miss about 15% of games: most absences last a game or a few, a few
    last months, and about one team in three loses a player for the season.
    """
    n = len(sl.flat_p)
    p = sl.flat_p
    out = np.zeros(n, dtype=bool)
    news = np.zeros(n, dtype=bool)
    spell_len = np.zeros(n, dtype=np.int64)
    season_ending = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    hit = np.flatnonzero(rng.random(n) < prm["injury_rate"][p])
    lengths = np.minimum(np.ceil(np.exp(rng.normal(0.9, 1.15, len(hit)))), 60).astype(int)
    ending = rng.random(len(hit)) < _SEASON_ENDING
    labels = rng.integers(len(_INJURIES), size=len(hit))
    ends = sl.starts[p] + sl.counts[p]
    for i, length, label, done in zip(hit, lengths, labels, ending, strict=True):
        if out[i]:
            continue
        stop = ends[i] if done else min(i + length, ends[i])
        # one spell is contiguous: it ends where a spell drawn earlier in the season resumes
        claimed = np.flatnonzero(out[i:stop])
        stop = i + int(claimed[0]) if len(claimed) else stop
        out[i:stop] = True
        reason[i:stop] = (
            _SEASON_INJURIES[label % len(_SEASON_INJURIES)] if done else _INJURIES[label]
        )
        news[i] = True
        spell_len[i] = stop - i
        season_ending[i] = bool(done) and stop == ends[i]
    # A traded player sometimes misses his new team's first game.
    team = sl.team_of[sl.flat_g, sl.flat_s]
    same_player = np.r_[False, p[1:] == p[:-1]]
    moved = np.r_[False, team[1:] != team[:-1]]
    new_team = same_player & moved & ~out & (rng.random(n) < 0.5)
    # Load management: the stars sit out a share of back-to-backs, the second night.
    depth = sl.flat_r
    star = prm["primary"][p] | (depth == 0)
    p_rest = np.where(star, _STAR_REST, np.where(depth <= 2, _STARTER_REST, 0.0))
    rested = b2b[sl.flat_g, sl.flat_s] & ~out & ~new_team & (rng.random(n) < p_rest)
    for flag, why in ((new_team, NOT_WITH_TEAM), (rested, REST)):
        out |= flag
        news |= flag
        spell_len[flag] = 1
        reason[flag] = why
    return _Availability(out, reason, news, spell_len, season_ending)


@dataclass(frozen=True)
class _Expectation:
    """The simulator's expectation of a game under one availability: minutes, shots, stats."""

    exp_min: np.ndarray
    exp_pts: np.ndarray
    exp_reb: np.ndarray
    exp_ast: np.ndarray
    exp_fg3m: np.ndarray
    exp_fga: np.ndarray
    team_exp: np.ndarray
    team_fga: np.ndarray
    usage: np.ndarray
    p2e: np.ndarray
    p3e: np.ndarray
    ast_pm: np.ndarray
    ast_rate: np.ndarray
    p_play: np.ndarray
    avail_rank: np.ndarray
    b2b_cut: np.ndarray
    pace_g: np.ndarray


def _lineup_strength(sl: _Slots, prm: dict[str, np.ndarray], avail: np.ndarray) -> np.ndarray:
    """Share of a side's usual scoring its available players carry, turned into an offence factor.

    Replacements take the missing shots, but less well: a star's absence costs his team a few
    points (about 4 for a 28-point scorer), a deep reserve's nothing to speak of.
    """
    pts_per_fga = (
        (1 - prm["s3"]) * 2 * prm["p2"] + prm["s3"] * 3 * prm["p3"] + prm["ftr"] * prm["pft"]
    )
    usual = prm["base_minutes"] * prm["fga36"] * pts_per_fga
    usual = np.where(sl.valid, usual[sl.pidx], 0.0)
    missing = np.where(avail, 0.0, usual).sum(axis=-1) / np.maximum(usual.sum(axis=-1), 1e-9)
    return 1.0 - _ABSENCE_COST * missing


def _expect(
    sl: _Slots,
    roster: RosterData,
    rest: np.ndarray,
    f_score: np.ndarray,
    f_min: np.ndarray,
    avail: np.ndarray,
) -> _Expectation:
    """Expected minutes and stats of every player-game given who is available."""
    prm = roster.params
    pidx, valid = sl.pidx, sl.valid
    team_of, opp_of = sl.team_of, sl.opp_of
    b2b = rest == 0
    home, away = team_of[:, 0], team_of[:, 1]
    off, dfn, pace = (roster.team_strength[k] for k in ("off", "def", "pace"))
    pace_g = 1 + (pace[home] + pace[away]) / 2
    home_adv = np.array([1.4, -1.4])
    rest_adj = np.where(b2b, -1.8, np.where(rest >= 2, 0.6, 0.0))
    strength = _lineup_strength(sl, prm, avail)
    mu = (off[team_of] * strength + dfn[opp_of] + home_adv[None, :] + rest_adj) * pace_g[:, None]
    ctx_total = mu / off[team_of]
    ctx_att = pace_g[:, None] * (1 + 0.5 * (ctx_total / pace_g[:, None] - 1))
    ctx_eff = ctx_total / ctx_att

    avail_rank = _rank_among(avail)
    base_min = prm["base_minutes"]
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
    return _Expectation(
        exp_min=exp_min,
        exp_pts=exp_pts,
        exp_reb=exp_reb,
        exp_ast=exp_ast,
        exp_fg3m=exp_fg3m,
        exp_fga=exp_fga,
        team_exp=team_exp,
        team_fga=team_fga,
        usage=usage,
        p2e=p2e,
        p3e=p3e,
        ast_pm=ast_pm,
        ast_rate=ast_rate,
        p_play=p_play,
        avail_rank=avail_rank,
        b2b_cut=b2b_cut,
        pace_g=pace_g,
    )


@dataclass
class _Game:
    """The played games: who was active, seconds, shots, team points, periods."""

    active: np.ndarray
    act_rank: np.ndarray
    seconds: np.ndarray
    shots: dict[str, np.ndarray]
    pts_team: np.ndarray
    periods: np.ndarray
    usage: np.ndarray


def _play(
    rng: np.random.Generator,
    sl: _Slots,
    roster: RosterData,
    ex: _Expectation,
    avail: np.ndarray,
    f_min: np.ndarray,
) -> _Game:
    """The game itself: minutes, shots, the rubber band, blowouts, late ties and overtime."""
    prm = roster.params
    valid, pidx = sl.valid, sl.pidx
    n_games = valid.shape[0]
    s3, ftr, pft = prm["s3"][pidx], prm["ftr"][pidx], prm["pft"][pidx]
    usage, team_fga = ex.usage, ex.team_fga
    team_eff = rng.normal(0, 0.015, (n_games, 2))
    pace_real = rng.normal(0, 0.025, n_games)
    active = avail & (rng.random(valid.shape) < ex.p_play)
    act_rank = _rank_among(active)
    bmin = prm["base_minutes"][pidx]
    w = (0.5 * bmin + 0.5 * PROFILE[act_rank]) * np.exp(0.25 * f_min) * ex.b2b_cut
    w = w * np.exp(rng.normal(0, 0.14, valid.shape))
    w = np.where(active, w, 0.0)
    minutes = w * 240.0 / w.sum(axis=-1, keepdims=True)
    for _ in range(3):
        over = np.maximum(minutes - _MAX_MINUTES, 0).sum(axis=-1, keepdims=True)
        room = np.where(active & (minutes < _MAX_MINUTES), minutes, 0.0)
        minutes = np.minimum(minutes, _MAX_MINUTES)
        minutes += room / np.maximum(room.sum(axis=-1, keepdims=True), 1e-9) * over
    seconds = _largest_remainder(minutes * 60.0, np.full((n_games, 2), 14_400), active)

    p2r = np.clip(ex.p2e * (1 + team_eff[:, :, None]), 0.2, 0.85)
    p3r = np.clip(ex.p3e * (1 + team_eff[:, :, None]), 0.05, 0.65)
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
    shots = _rubber_band(rng, shots, pts_team, ex.team_exp)
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
    # A side whose injuries left it nobody to bring on keeps its starters in: five always play.
    cut = np.where(takers.any(axis=-1, keepdims=True), cut, 0.0)
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
    return _Game(active, act_rank, seconds, shots, pts_team, periods, usage)


def _box_stats(
    rng: np.random.Generator,
    sl: _Slots,
    roster: RosterData,
    ex: _Expectation,
    gm: _Game,
    f_score: np.ndarray,
) -> dict[str, np.ndarray]:
    """Rebounds, assists, the other counting stats and plus-minus out of the played game."""
    prm = roster.params
    valid, pidx = sl.valid, sl.pidx
    active, seconds, shots, pts_team = gm.active, gm.seconds, gm.shots, gm.pts_team
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
    ast_w = np.where(active, ex.ast_pm * mins * noise[2], 0.0)
    ast = _share(rng, rng.binomial(team_fgm, ex.ast_rate), ast_w)
    ast = np.minimum(ast, np.maximum(team_fgm[:, :, None] - shots["fgm"], 0))
    stl = rng.poisson(prm["stl36"][pidx] / 36.0 * mins)
    blk = rng.poisson(prm["blk36"][pidx] / 36.0 * mins * noise[3])
    tov = rng.poisson(prm["tov36"][pidx] / 36.0 * mins * np.exp(0.5 * f_score) * noise[4])
    pf = np.minimum(rng.poisson(prm["pf36"][pidx] / 36.0 * mins), 6)

    # Plus-minus: the team margin shared by time on court plus noise, summing to 5 x margin.
    margin = (pts_team[:, 0] - pts_team[:, 1])[:, None] * np.array([1, -1])[None, :]
    game_secs = (2880 + 300 * (gm.periods - 4))[:, None, None]
    on = np.where(active, seconds, 0)
    x = margin[:, :, None] * on / game_secs + rng.normal(0, 4.5, valid.shape) * np.sqrt(on / 2160.0)
    x = np.where(active, x, 0.0)
    fix = (x.sum(axis=-1) - 5 * margin)[:, :, None] * on / on.sum(axis=-1, keepdims=True)
    x = x - fix
    shift = 100
    plus_minus = _largest_remainder(x + shift, 5 * margin + shift * active.sum(-1), active)
    plus_minus = np.where(active, plus_minus - shift, 0)
    return {
        **shots,
        "pts": 2 * shots["fgm"] + shots["fg3m"] + shots["ftm"],
        "oreb": oreb,
        "dreb": dreb,
        "reb": oreb + dreb,
        "ast": ast,
        "stl": stl,
        "blk": blk,
        "tov": tov,
        "pf": pf,
        "plus_minus": plus_minus,
    }


def _box_frame(
    sl: _Slots,
    game_keys: np.ndarray,
    team_keys: np.ndarray,
    gm: _Game,
    stats: dict[str, np.ndarray],
    why: np.ndarray,
) -> pd.DataFrame:
    """The box-score frame, home side first, depth order."""
    idx = (sl.flat_g, sl.flat_s, sl.flat_r)
    active = gm.active
    starter = active & (gm.act_rank < 5)

    def col(a: np.ndarray) -> np.ndarray:
        return np.where(active, a, 0)[idx].astype(np.int64)

    dnp_reason = np.where(active, None, np.where(why == "", COACH, why))
    box = pd.DataFrame(
        {
            "game_key": game_keys[sl.flat_g],
            "player_key": sl.flat_p + 1,
            "team_key": team_keys[sl.team_of[sl.flat_g, sl.flat_s]],
            "is_starter": starter[idx],
            "did_not_play": ~active[idx],
            "dnp_reason": dnp_reason[idx],
            "seconds_played": col(gm.seconds),
            **{name: col(stats[name]) for name in _BOX_STATS},
            "_side": sl.flat_s,
            "_depth": sl.flat_r,
        }
    )
    box = box.sort_values(["game_key", "_side", "_depth"], kind="stable").reset_index(drop=True)
    box = box.drop(columns=["_side", "_depth"])
    # Keep None (not NaN) for players who played: the HTTP layer renders it as JSON null.
    box["dnp_reason"] = pd.Series(
        [r if isinstance(r, str) else None for r in box["dnp_reason"]], dtype=object
    )
    return box


_BOX_STATS = (
    "pts", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl",
    "blk", "tov", "pf", "plus_minus",
)  # fmt: skip
_EXP_COLS = ("exp_minutes", "exp_pts", "exp_reb", "exp_ast", "exp_fg3m", "exp_fga")


def _expectation_columns(sl: _Slots, ex: _Expectation, prefix: str = "") -> dict[str, np.ndarray]:
    idx = (sl.flat_g, sl.flat_s, sl.flat_r)
    values = (ex.exp_min, ex.exp_pts, ex.exp_reb, ex.exp_ast, ex.exp_fg3m, ex.exp_fga)
    return {prefix + name: v[idx] for name, v in zip(_EXP_COLS, values, strict=True)}


def _news_frame(
    rng: np.random.Generator,
    sl: _Slots,
    av: _Availability,
    game_keys: np.ndarray,
    team_keys: np.ndarray,
    tipoff: pd.DatetimeIndex,
) -> pd.DataFrame:
    """One injury-report item per absence, released at a random time before its first tip-off.

    `games_missed` and `cleared_at` are what happens (the future at release); the report shows
    only `expected_games_missed` and `expected_return_at`, the team's estimate at release.

    Injury news lands either in the previous day's report (a day or more ahead) or on the day,
    often only hours before tip-off; rest is announced on the day. Nothing is released before
    the player's previous game has ended, and nothing after the team's tip-off.
    """
    rows = np.flatnonzero(av.news)
    n = len(rows)
    g = sl.flat_g[rows]
    tip_s = tipoff.as_unit("s").asi8[g]
    day_before = rng.random(n) < _NEWS_DAY_BEFORE
    lead_h = np.where(day_before, rng.uniform(20, 36, n), rng.uniform(0.5, 10, n))
    why = av.reason[rows]
    lead_h = np.where(why == REST, rng.uniform(0.5, 8, n), lead_h)
    released = tip_s - np.rint(lead_h * 3600).astype(np.int64)
    # Not before the player's previous game was over (about 2.5 h after its tip-off).
    prev = rows - 1
    has_prev = (sl.seq[rows] > 0) & (prev >= 0)
    prev_end = np.where(has_prev, tipoff.as_unit("s").asi8[sl.flat_g[np.maximum(prev, 0)]], 0)
    prev_end = prev_end + 9000
    released = np.maximum(released, np.where(has_prev, prev_end, released))
    released = np.minimum(released, tip_s - 900)
    # Back on the court at the tip-off of the first game after the spell (None: out for good).
    back = rows + av.spell_len[rows]
    ends = sl.starts[sl.flat_p[rows]] + sl.counts[sl.flat_p[rows]]
    returns = back < ends
    back_g = sl.flat_g[np.minimum(back, len(sl.flat_g) - 1)]
    cleared = pd.to_datetime(
        np.where(returns, tipoff.as_unit("s").asi8[back_g], 0), unit="s", utc=True
    )
    # What the team announces is an estimate: the spell's true length is the future, and a
    # report showing it (or a status read off it) would tell a model when the player is back.
    # Rest and a trade's first game are planned, so their one game is exact.
    planned = np.isin(why, (REST, NOT_WITH_TEAM))
    guess = np.maximum(np.rint(av.spell_len[rows] * rng.lognormal(0.0, 0.4, n)), 1)
    expected_games = np.where(planned, 1, guess).astype(np.int64)
    status = np.where(planned | (expected_games >= 3), "Out", "Day-To-Day")
    est_back = rows + expected_games
    est_returns = (est_back < ends) & ~av.season_ending[rows]
    est_g = sl.flat_g[np.minimum(est_back, len(sl.flat_g) - 1)]
    expected_return = pd.to_datetime(
        np.where(est_returns, tipoff.as_unit("s").asi8[est_g], 0), unit="s", utc=True
    )
    frame = pd.DataFrame(
        {
            "game_key": game_keys[g],
            "player_key": sl.flat_p[rows] + 1,
            "team_key": team_keys[sl.team_of[g, sl.flat_s[rows]]],
            "released_at": pd.to_datetime(released, unit="s", utc=True).as_unit("us"),
            "status": status,
            "reason": why.astype(str),
            "games_missed": av.spell_len[rows].astype(np.int64),
            "season_ending": av.season_ending[rows],
            "cleared_at": pd.Series(cleared.as_unit("us")).where(returns, pd.NaT),
            "expected_games_missed": expected_games,
            "expected_return_at": pd.Series(expected_return.as_unit("us")).where(
                est_returns, pd.NaT
            ),
        }
    )
    return frame.sort_values(["released_at", "player_key"], kind="stable").reset_index(drop=True)


def _news_stages(
    sl: _Slots, avail: np.ndarray, news: pd.DataFrame, game_keys: np.ndarray
) -> list[np.ndarray]:
    """Availability once the first j items of each game's news have landed, j = 0 .. most items.

    Before its news the public (and the books) expect the day's absentee to play. A book between
    two announcements knows the first and not the second: moving a line part of the way toward
    "everyone announced" would price an absence nobody has announced yet.
    """
    g = pd.Index(game_keys).get_indexer(news["game_key"].to_numpy())
    rank = news.groupby("game_key", sort=False).cumcount().to_numpy()
    on_slot = sl.slots[g] == (news["player_key"].to_numpy() - 1)[:, None, None]
    s, r = np.divmod(on_slot.reshape(len(g), -1).argmax(axis=1), sl.slots.shape[-1])
    stages = []
    for j in range(int(rank.max(initial=-1)) + 2):
        known = avail.copy()
        pending = rank >= j
        known[g[pending], s[pending], r[pending]] = True
        stages.append(known)
    return stages


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
    """Play every game (already in tip-off order) and return box scores and expectations.

    Randomness is drawn in this order: form, availability, the game, the box stats, game
    durations, then the news release times (so the market's inputs never move the box scores).
    """
    sl = _rosters_on_game_days(roster, team_keys, home, away, day_of, season_start)
    rest = _rest_days(sl, day_of, len(team_keys))
    f_score, f_min = _form(rng, sl)
    av = _availability(rng, sl, roster.params, rest == 0)
    idx = (sl.flat_g, sl.flat_s, sl.flat_r)
    unavailable = np.zeros(sl.valid.shape, dtype=bool)
    unavailable[idx] = av.out
    why = np.full(sl.valid.shape, "", dtype=object)
    why[idx] = av.reason
    avail = sl.valid & ~unavailable
    ex = _expect(sl, roster, rest, f_score, f_min, avail)
    gm = _play(rng, sl, roster, ex, avail, f_min)
    stats = _box_stats(rng, sl, roster, ex, gm, f_score)
    box = _box_frame(sl, game_keys, team_keys, gm, stats, why)

    truth = pd.DataFrame(
        {
            "game_key": game_keys[sl.flat_g],
            "player_key": sl.flat_p + 1,
            "team_key": team_keys[sl.team_of[sl.flat_g, sl.flat_s]],
            "available": avail[idx],
            **_expectation_columns(sl, ex),
        }
    )
    truth = truth.sort_values(["game_key", "player_key"], kind="stable").reset_index(drop=True)
    periods = gm.periods
    n_games = len(home)
    duration = pd.to_timedelta(
        np.rint(7800 + rng.normal(0, 420, n_games) + 1080 * (periods - 4)), unit="s"
    )
    final_at = (tipoff + duration).round("s")
    news = _news_frame(rng, sl, av, game_keys, team_keys, tipoff)
    stage_avail = _news_stages(sl, avail, news, game_keys)
    stage_ex = [_expect(sl, roster, rest, f_score, f_min, a) for a in stage_avail]
    stages = pd.concat(
        [
            pd.DataFrame(
                {
                    "game_key": game_keys[sl.flat_g],
                    "player_key": sl.flat_p + 1,
                    "stage": j,
                    "available": a[idx],
                    **_expectation_columns(sl, e),
                }
            )
            for j, (a, e) in enumerate(zip(stage_avail, stage_ex, strict=True))
        ]
    )
    stages = stages.sort_values(["game_key", "player_key", "stage"], kind="stable")
    return SimResult(
        box=box,
        truth=truth,
        home_score=gm.pts_team[:, 0].astype(np.int64),
        away_score=gm.pts_team[:, 1].astype(np.int64),
        periods=periods,
        final_at=final_at,
        exp_home_pts=ex.team_exp[:, 0],
        exp_away_pts=ex.team_exp[:, 1],
        news=news,
        stages=stages.reset_index(drop=True),
        stage_team_exp=np.stack([e.team_exp for e in stage_ex]),
    )
