"""Sportsbook lines: player props and game lines, per book, over several snapshots a game.

Each book's line is its own noisy estimate of the simulator's expectation. The estimate moves
from an opening error (large, about a day before tip-off) towards a closing error (small, minutes
before), partly shared by all books (the market's consensus) and partly each book's own, so
closing lines beat opening lines against the outcomes on average: closing-line value is
measurable. Prices carry the book's margin and lean with the gap between its estimate and the
x.5 line it posts (1.87/1.95 rather than 1.91/1.91). A few games also get a snapshot after
tip-off, whose lines are in-game lines (a real quirk of the historical odds feed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sandbox.simulate import norm_cdf

BOOKMAKERS: tuple[tuple[str, str], ...] = (
    ("draftkings", "DraftKings"),
    ("fanduel", "FanDuel"),
    ("betmgm", "BetMGM"),
    ("williamhill_us", "Caesars"),
    ("betrivers", "BetRivers"),
)
# Per-book margin (overround) and how often it posts a given player market.
_MARGIN = np.array([0.048, 0.045, 0.05, 0.052, 0.055])
_COVERAGE = np.array([0.97, 0.96, 0.9, 0.88, 0.8])
MARKETS: tuple[str, ...] = ("player_points", "player_rebounds", "player_assists", "player_threes")
_TRUTH_COL = ("exp_pts", "exp_reb", "exp_ast", "exp_fg3m")
# Outcome spread per market as a multiple of sqrt(mean) (points are overdispersed).
_SD_SCALE = np.array([1.35, 1.1, 1.1, 1.0])
_OPEN_ERR, _CLOSE_ERR = 0.42, 0.15  # consensus error, as a share of the outcome's sd
_BOOK_OPEN, _BOOK_CLOSE = 0.2, 0.07  # each book's own error on top
MIN_PROP_MINUTES = 15.0
_LIVE_SHARE = 0.05
_LEAN = 0.6
_SCRATCH_POSTED = 0.6  # share of day-of scratches whose lines were up before the news
_MARGIN_SD = 14.0  # sd of the final margin around its expectation in this simulator


def _price(prob: np.ndarray, margin: np.ndarray, lo: float = 0.2) -> np.ndarray:
    """Decimal price for a win probability once the book's margin is added."""
    implied = np.minimum(np.clip(prob, lo, 1 - lo) * (1 + margin), 0.98)
    return np.round(1.0 / implied, 2)


def bookmakers_frame() -> pd.DataFrame:
    """The books posting lines, keyed as the Odds API keys them."""
    return pd.DataFrame(BOOKMAKERS, columns=["bookmaker_key", "title"])


def snapshots(rng: np.random.Generator, games: pd.DataFrame) -> pd.DataFrame:
    """Snapshot times per game: 4 to 8 before tip-off, and one in-game for a few games."""
    n_games = len(games)
    n_pre = rng.integers(4, 9, n_games)
    live = rng.random(n_games) < _LIVE_SHARE
    total = n_pre + live
    g = np.repeat(np.arange(n_games), total)
    first = np.concatenate([[0], np.cumsum(total)[:-1]])
    idx = np.arange(len(g)) - first[g]
    tip = pd.DatetimeIndex(games["tipoff_at"]).as_unit("s").asi8
    open_lead = rng.uniform(24, 30, n_games) * 3600
    close_lead = rng.uniform(3, 8, n_games) * 60
    # Fractions of the way from open to close; interior points drawn, then sorted.
    # Interior points come from a grid of 999, without replacement within a game: free draws
    # sometimes landed in the same second as each other or as the close, giving one game two
    # snapshots with one timestamp (duplicate quotes). On the grid they are seconds apart.
    u = np.zeros(len(g))
    grid = np.arange(1, 1000) / 1000.0
    for game in range(n_games):
        inner = first[game] + 1 + np.arange(n_pre[game] - 2)
        u[inner] = np.sort(rng.choice(grid, n_pre[game] - 2, replace=False))
    u[idx == n_pre[g] - 1] = 1.0
    is_live = idx >= n_pre[g]
    u[is_live] = 1.0
    frame = pd.DataFrame({"g": g, "u": u, "live": is_live})
    frame = frame.sort_values(["g", "live", "u"], kind="stable").reset_index(drop=True)
    frac = 1 - (1 - frame["u"].to_numpy()) ** 1.5  # denser towards tip-off
    gg = frame["g"].to_numpy()
    at = tip[gg] - open_lead[gg] + frac * (open_lead[gg] - close_lead[gg])
    live_at = tip[gg] + rng.uniform(10, 50, len(gg)) * 60
    at = np.where(frame["live"].to_numpy(), live_at, at)
    frame["snapshot_at"] = pd.to_datetime(np.rint(at).astype(np.int64), unit="s", utc=True)
    frame["frac"] = frac
    frame["snap"] = np.arange(len(frame)) - np.concatenate([[0], np.cumsum(total)[:-1]])[gg]
    return frame[["g", "snap", "snapshot_at", "frac", "live"]]


def _expand(
    rng: np.random.Generator,
    row_game: np.ndarray,
    snaps: pd.DataFrame,
    late_start: bool,
    stop: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat each quote row over its game's snapshots, from the book's first one to `stop`."""
    n_snap = np.bincount(snaps["g"].to_numpy(), minlength=int(row_game.max()) + 1)
    snap_first = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    end = n_snap[row_game] if stop is None else np.minimum(stop, n_snap[row_game])
    if late_start:
        start = rng.choice(3, len(row_game), p=[0.65, 0.25, 0.1])
        start = np.where(start >= end, 0, start)
    else:
        start = np.zeros(len(row_game), dtype=int)
    count = end - start
    rep = np.repeat(np.arange(len(row_game)), count)
    within = np.arange(len(rep)) - np.concatenate([[0], np.cumsum(count)[:-1]])[rep]
    snap_row = snap_first[row_game[rep]] + start[rep] + within
    return rep, snap_row


def _scratched(
    rng: np.random.Generator, truth: pd.DataFrame, n_pre: np.ndarray, gpos: pd.Series
) -> pd.DataFrame:
    """Rotation players ruled out on the day: books posted them at open, then pulled the lines.

    Their lines rest on the last expectation the books had (the player's previous game); a
    consumer that keeps such a quote sees a player who then did not play, as in real feeds.
    """
    by_player = truth.sort_values(["player_key", "game_key"], kind="stable")
    prev = by_player.groupby("player_key").shift(1)
    was_rotation = prev["available"].eq(True) & (prev["exp_minutes"] >= MIN_PROP_MINUTES)
    hit = by_player["available"].eq(False) & was_rotation
    hit &= rng.random(len(by_player)) < _SCRATCH_POSTED
    rows = by_player.loc[hit, ["game_key", "player_key"]].copy()
    for col in _TRUTH_COL:
        rows[col] = prev.loc[hit, col].to_numpy(dtype=float)
    games_pre = n_pre[gpos.loc[rows["game_key"].to_numpy()].to_numpy()]
    # Pulled after the opening snapshot and before the last pre-game one.
    rows["stop"] = 1 + np.floor(rng.random(len(rows)) * np.maximum(games_pre - 2, 1)).astype(int)
    return rows


def player_props(
    rng: np.random.Generator, games: pd.DataFrame, truth: pd.DataFrame, snaps: pd.DataFrame
) -> pd.DataFrame:
    """Over/under lines for available rotation players, plus pulled lines for late scratches."""
    gpos = pd.Series(np.arange(len(games)), index=games["game_key"].to_numpy())
    n_pre = np.bincount(snaps.loc[~snaps["live"], "g"].to_numpy(), minlength=len(games))
    eligible = truth.loc[
        truth["available"] & (truth["exp_minutes"] >= MIN_PROP_MINUTES),
        ["game_key", "player_key", *_TRUTH_COL],
    ].assign(stop=10_000)
    eligible = pd.concat([eligible, _scratched(rng, truth, n_pre, gpos)], ignore_index=True)
    n_pairs = len(eligible)
    mean = np.stack([eligible[c].to_numpy() for c in _TRUTH_COL], axis=1)  # pairs x markets
    offered = np.ones_like(mean, dtype=bool)
    offered[:, 3] = mean[:, 3] >= 0.3
    sd = _SD_SCALE[None, :] * np.sqrt(np.maximum(mean, 0.2))
    e_open = rng.normal(0, _OPEN_ERR, mean.shape) * sd
    e_close = rng.normal(0, _CLOSE_ERR, mean.shape) * sd
    n_books = len(BOOKMAKERS)
    bias = rng.normal(0, 0.06, (n_books, len(MARKETS)))
    cover = rng.random((n_pairs, len(MARKETS), n_books)) < _COVERAGE[None, None, :]
    cover &= offered[:, :, None]
    pi, mi, bi = np.nonzero(cover)
    game_idx = gpos.loc[eligible["game_key"].to_numpy()].to_numpy()[pi]
    b_open = rng.normal(0, _BOOK_OPEN, len(pi)) * sd[pi, mi]
    b_close = rng.normal(0, _BOOK_CLOSE, len(pi)) * sd[pi, mi]
    stop = eligible["stop"].to_numpy()[pi]
    rep, snap_row = _expand(rng, game_idx, snaps, late_start=True, stop=stop)
    frac = snaps["frac"].to_numpy()[snap_row]
    live = snaps["live"].to_numpy()[snap_row]
    p, m, b = pi[rep], mi[rep], bi[rep]
    err_open = e_open[p, m] + b_open[rep]
    err_close = e_close[p, m] + b_close[rep]
    est = mean[p, m] + bias[b, m] * sd[p, m] + (1 - frac) * err_open + frac * err_close
    est = est + live * rng.normal(0, 0.6, len(rep)) * sd[p, m]
    point = np.maximum(np.floor(est) + 0.5, 0.5)
    # Books shade the price only part of the way towards their own estimate.
    p_over = 0.5 + _LEAN * (0.5 - norm_cdf((point - est) / sd[p, m]))
    margin = _MARGIN[b] + rng.normal(0, 0.003, len(rep))
    return pd.DataFrame(
        {
            "game_key": games["game_key"].to_numpy()[game_idx[rep]],
            "bookmaker_key": pd.Categorical.from_codes(b, [k for k, _ in BOOKMAKERS]),
            "market": pd.Categorical.from_codes(m, list(MARKETS)),
            "player_key": eligible["player_key"].to_numpy()[p],
            "snapshot_at": snaps["snapshot_at"].array[snap_row],
            "point": point,
            "over_price": _price(p_over, margin),
            "under_price": _price(1 - p_over, margin),
        }
    )


def game_lines(
    rng: np.random.Generator,
    games: pd.DataFrame,
    exp_home: np.ndarray,
    exp_away: np.ndarray,
    snaps: pd.DataFrame,
) -> pd.DataFrame:
    """Moneyline, spread and total per book and snapshot, from the teams' expected points."""
    n_games, n_books = len(games), len(BOOKMAKERS)
    margin_mu = exp_home - exp_away
    total_mu = exp_home + exp_away
    c_open = rng.normal(0, [1.6, 3.5], (n_games, 2))
    c_close = rng.normal(0, [0.6, 1.2], (n_games, 2))
    gi = np.repeat(np.arange(n_games), n_books)
    bi = np.tile(np.arange(n_books), n_games)
    b_open = rng.normal(0, [0.7, 1.5], (len(gi), 2))
    b_close = rng.normal(0, [0.3, 0.6], (len(gi), 2))
    rep, snap_row = _expand(rng, gi, snaps, late_start=False)
    g, b = gi[rep], bi[rep]
    frac = snaps["frac"].to_numpy()[snap_row][:, None]
    live = snaps["live"].to_numpy()[snap_row][:, None]
    err = (1 - frac) * (c_open[g] + b_open[rep]) + frac * (c_close[g] + b_close[rep])
    err = err + live * rng.normal(0, [6.0, 9.0], (len(rep), 2))
    est_margin = margin_mu[g] + err[:, 0]
    est_total = total_mu[g] + err[:, 1]
    spread_home = -np.round(est_margin * 2) / 2 + 0.0  # + 0.0 turns -0.0 into 0.0
    total_point = np.round(est_total * 2) / 2
    book_margin = _MARGIN[b] - 0.002
    p_home = norm_cdf(est_margin / _MARGIN_SD)
    p_cover = norm_cdf((est_margin + spread_home) / _MARGIN_SD)
    p_over = 1 - norm_cdf((total_point - est_total) / 17.0)
    return pd.DataFrame(
        {
            "game_key": games["game_key"].to_numpy()[g],
            "bookmaker_key": pd.Categorical.from_codes(b, [k for k, _ in BOOKMAKERS]),
            "snapshot_at": snaps["snapshot_at"].array[snap_row],
            "h2h_home_price": _price(p_home, book_margin, lo=0.04),
            "h2h_away_price": _price(1 - p_home, book_margin, lo=0.04),
            "spread_home_point": spread_home,
            "spread_home_price": _price(p_cover, book_margin),
            "spread_away_price": _price(1 - p_cover, book_margin),
            "total_point": total_point,
            "total_over_price": _price(p_over, book_margin),
            "total_under_price": _price(1 - p_over, book_margin),
        }
    )
