"""How efficient is the sandbox's market? The figures a new user would measure over the season.

Every figure is computed as a bettor would see it: pre-tip quotes only (a snapshot after tip-off
is an in-game line), graded against the box score, void when the player did not play. The
opening quote of a (book, market, player) is its first pre-tip snapshot, the closing quote its
last one; a line pulled before the close (a scratch) has no closing quote. The public
information a strategy may use is the box scores of games finished before the one it bets.

An efficient market at a 1.05 overround returns about -4.5% to any such strategy; the issue
that asked for this report (issue 9) wants none above -2% at the close.

Each ROI, weight and rate comes with its standard error (`*_se`). The independent unit is the
player-game, not the quote: a player's books and snapshots share one outcome, so errors are
clustered by (game, player). One season's figure is one draw: a bar is failed when it is missed
by more than two standard errors, or when seeds agree on the miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

_STAT = {
    "player_points": ("pts", "exp_pts"),
    "player_rebounds": ("reb", "exp_reb"),
    "player_assists": ("ast", "exp_ast"),
    "player_threes": ("fg3m", "exp_fg3m"),
}
POINTS_BANDS = (0.0, 10.0, 20.0, 30.0, np.inf)
EDGE = 1.5  # points a 10-game average must differ from the line by before the bettor bets
WINDOW = 10


@dataclass(frozen=True)
class MarketFigures:
    """The report's figures; `as_rows` renders them for a terminal or a bench log."""

    figures: dict[str, Any]

    def as_rows(self) -> list[tuple[str, str]]:
        rows = []
        for key, value in self.figures.items():
            if isinstance(value, float):
                signed = "roi" in key and not key.endswith("_se")
                rows.append((key, f"{value:+.4f}" if signed else f"{value:.4f}"))
            elif isinstance(value, dict):
                rows.append((key, ", ".join(f"{k}: {v}" for k, v in value.items())))
            else:
                rows.append((key, str(value)))
        return rows


def _clustered_mean(values: np.ndarray, quotes: pd.DataFrame) -> tuple[float, float]:
    """Mean of per-quote values and its standard error, clustered by player-game."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return float("nan"), float("nan")
    mean = float(values.mean())
    cluster = pd.Series(values - mean).groupby(_player_game(quotes)).sum().to_numpy()
    return mean, float(np.sqrt(np.sum(cluster**2)) / len(values))


def _player_game(quotes: pd.DataFrame) -> np.ndarray:
    keys = quotes[["game_key", "player_key"]].to_numpy(dtype=np.int64)
    return keys[:, 0] * 1_000_000 + keys[:, 1]


def _roi(won: np.ndarray, price: np.ndarray, quotes: pd.DataFrame) -> tuple[float, float]:
    """Return per unit staked (a win pays price - 1, a loss costs the stake), and its SE."""
    return _clustered_mean(np.where(won, price - 1.0, -1.0), quotes)


def _rolling_public(box: pd.DataFrame, games: pd.DataFrame, stat: str) -> pd.Series:
    """Each player's average `stat` over his last WINDOW games played before this game."""
    played = box.loc[~box["did_not_play"], ["game_key", "player_key", stat]]
    played = played.merge(games[["game_key", "tipoff_at"]], on="game_key")
    played = played.sort_values(["player_key", "tipoff_at"], kind="stable")
    grouped = played.groupby("player_key")[stat]
    played["avg"] = grouped.transform(
        lambda s: s.shift(1).rolling(WINDOW, min_periods=WINDOW).mean()
    )
    return played.set_index(["game_key", "player_key"])["avg"]


def prop_series(league: Any, market: str = "player_points") -> pd.DataFrame:
    """Pre-tip quotes of one market with open/close flags, the outcome and the truth."""
    stat, exp = _STAT[market]
    props = league.props.loc[league.props["market"] == market]
    props = props.merge(league.games[["game_key", "tipoff_at"]], on="game_key")
    props = props.loc[props["snapshot_at"] < props["tipoff_at"]]
    props = props.sort_values(
        ["game_key", "bookmaker_key", "player_key", "snapshot_at"], kind="stable"
    )
    key = ["game_key", "bookmaker_key", "player_key"]
    grp = props.groupby(key, observed=True)
    props = props.assign(
        seq=grp.cumcount(),
        n=grp["point"].transform("size"),
        last_pre=props.groupby("game_key")["snapshot_at"].transform("max"),
    )
    outcome = league.box[["game_key", "player_key", "did_not_play", stat]].rename(
        columns={stat: "actual"}
    )
    truth = league.truth[["game_key", "player_key", exp]].rename(columns={exp: "expected"})
    props = props.merge(outcome, on=["game_key", "player_key"], how="left")
    props = props.merge(truth, on=["game_key", "player_key"], how="left")
    props["avg10"] = (
        _rolling_public(league.box, league.games, stat)
        .reindex(pd.MultiIndex.from_frame(props[["game_key", "player_key"]]))
        .to_numpy()
    )
    return props.reset_index(drop=True)


def open_close(series: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    opening = series.loc[series["seq"] == 0]
    # A closing quote is the book's quote in the game's last pre-tip snapshot (a pulled line has
    # none).
    closing = series.loc[
        (series["seq"] == series["n"] - 1) & (series["snapshot_at"] == series["last_pre"])
    ]
    return opening, closing


def _strategy(quotes: pd.DataFrame, side_over: np.ndarray, bet: np.ndarray) -> tuple[float, float]:
    q = quotes.loc[bet]
    over = side_over[bet]
    won = np.where(over, q["actual"] > q["point"], q["actual"] < q["point"])
    price = np.where(over, q["over_price"], q["under_price"])
    return _roi(won, price, q)


def _avg_weight(quotes: pd.DataFrame) -> tuple[float, float]:
    """OLS weight of the 10-game average in actual ~ 1 + line + avg10 (0: the line has it all),
    with its standard error clustered by player-game (sandwich estimator)."""
    q = quotes.dropna(subset=["avg10"])
    x = np.column_stack([np.ones(len(q)), q["point"].to_numpy(), q["avg10"].to_numpy()])
    y = q["actual"].to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    bread = np.linalg.inv(x.T @ x)
    scores = pd.DataFrame(x * (y - x @ coef)[:, None]).groupby(_player_game(q)).sum().to_numpy()
    cov = bread @ (scores.T @ scores) @ bread
    return float(coef[2]), float(np.sqrt(cov[2, 2]))


def _with_se(out: dict[str, Any], name: str, value_se: tuple[float, float]) -> None:
    out[name], out[f"{name}_se"] = value_se


def _market_figures(series: pd.DataFrame) -> dict[str, Any]:
    played = series.loc[series["did_not_play"].eq(False)]
    opening, closing = open_close(played)
    out: dict[str, Any] = {"closing_quotes": len(closing)}
    over = (closing["actual"] > closing["point"]).to_numpy()
    _with_se(out, "over_rate_close", _clustered_mean(over, closing))
    _with_se(out, "roi_always_over", _roi(over, closing["over_price"].to_numpy(), closing))
    under = (closing["actual"] < closing["point"]).to_numpy()
    _with_se(out, "roi_always_under", _roi(under, closing["under_price"].to_numpy(), closing))
    for name, quotes in (("open", opening), ("close", closing)):
        gap = (quotes["avg10"] - quotes["point"]).to_numpy()
        bet = np.abs(gap) > EDGE
        _with_se(out, f"roi_avg10_{name}", _strategy(quotes, gap > 0, bet))
        _with_se(out, f"avg10_weight_{name}", _avg_weight(quotes))
    return out


def _moves(series: pd.DataFrame) -> dict[str, Any]:
    """Serial correlation of line moves, and betting the first move's direction at the close."""
    key = ["game_key", "bookmaker_key", "player_key"]
    s = series.loc[series["did_not_play"].eq(False)]
    move = s.groupby(key, observed=True)["point"].diff()
    s = s.assign(move=move)
    prev = s.groupby(key, observed=True)["move"].shift(1)
    both = s["move"].notna() & prev.notna()
    corr = float(np.corrcoef(s.loc[both, "move"], prev[both])[0, 1])
    nonzero = s.loc[s["move"].fillna(0) != 0]
    first = nonzero.groupby(key, observed=True)["move"].first().rename("first_move")
    _, closing = open_close(s)
    closing = closing.join(first, on=key, how="inner")
    up = (closing["first_move"] > 0).to_numpy()
    n_series = s.groupby(key, observed=True).ngroups
    big = s.groupby(key, observed=True)["point"].agg(lambda p: p.max() - p.min())
    out = {
        "move_serial_corr": corr,
        "share_lines_moving": float(len(first) / max(n_series, 1)),
        "share_moving_3plus": float((big >= 3).mean()),
    }
    everything = np.ones(len(closing), dtype=bool)
    _with_se(out, "roi_first_move_momentum", _strategy(closing, up, everything))
    return out


def _books(series: pd.DataFrame) -> dict[str, Any]:
    """Books' agreement at the close, and fading the book furthest from the others."""
    s = series.loc[series["did_not_play"].eq(False)]
    _, closing = open_close(s)
    key = ["game_key", "player_key"]
    grp = closing.groupby(key)["point"]
    closing = closing.assign(med=grp.transform("median"), nb=grp.transform("size"))
    spread = grp.agg(lambda p: p.max() - p.min())
    dev = (closing["point"] - closing["med"]).abs()
    out = {
        "books_identical_close": float((spread == 0).mean()),
        "books_within_half_point": float((dev <= 0.5).mean()),
        "books_spread_mean": float(spread.mean()),
    }
    multi = closing.loc[closing["nb"] >= 3].assign(dev=closing["point"] - closing["med"])
    multi = multi.loc[multi["dev"].abs() >= 1.0]
    # The outlier posted a line above the others: its under is the bargain, if there is one.
    # Every book closes in the game's last snapshot, so an outlier is never a stale quote; at the
    # close the books differ only by rounding their own small error to a half point (dev is 1).
    # A few thousand bets on about 3,000 player-games: a standard error near 1.7%.
    everything = np.ones(len(multi), dtype=bool)
    _with_se(
        out, "roi_fade_outlier_book", _strategy(multi, (multi["dev"] < 0).to_numpy(), everything)
    )
    out["fade_outlier_bets"] = len(multi)
    return out


def _mae(series: pd.DataFrame) -> dict[str, float]:
    s = series.loc[series["did_not_play"].eq(False)]
    opening, closing = open_close(s)
    return {
        "close_mae_vs_truth": float((closing["point"] - closing["expected"]).abs().mean()),
        "close_mae_vs_actual": float((closing["point"] - closing["actual"]).abs().mean()),
        "open_mae_vs_actual": float((opening["point"] - opening["actual"]).abs().mean()),
        "open_mae_vs_truth": float((opening["point"] - opening["expected"]).abs().mean()),
    }


def band_over_rates(series: pd.DataFrame) -> dict[str, tuple[float, float, int]]:
    """Per line band of the closing points lines: (over rate, its SE, quotes)."""
    s = series.loc[series["did_not_play"].eq(False)]
    _, closing = open_close(s)
    band = pd.cut(closing["point"], POINTS_BANDS, right=False)
    out = {}
    for iv, quotes in closing.groupby(band, observed=True):
        over = (quotes["actual"] > quotes["point"]).to_numpy()
        rate, se = _clustered_mean(over, quotes)
        out[f"{iv.left:g}-{iv.right:g}"] = (rate, se, len(quotes))
    return out


def _bands(series: pd.DataFrame) -> dict[str, str]:
    return {
        name: f"{rate:.3f} ± {se:.3f} (n={n})"
        for name, (rate, se, n) in band_over_rates(series).items()
    }


def _league_totals(league: Any) -> dict[str, Any]:
    games = league.games
    tip = games.set_index("game_key")["tipoff_at"]
    lines = league.game_lines.join(tip, on="game_key")
    pre = lines.loc[lines["snapshot_at"] < lines["tipoff_at"]]
    last = pre.groupby(["game_key", "bookmaker_key"], observed=True).tail(1)
    total = games.set_index("game_key")["home_score"] + games.set_index("game_key")["away_score"]
    went_over = total.reindex(last["game_key"]).to_numpy() > last["total_point"].to_numpy()
    props = league.props
    over_round = 1 / props["over_price"] + 1 / props["under_price"]
    pts = props.loc[props["market"] == "player_points"]
    return {
        "team_ppg": float(np.concatenate([games["home_score"], games["away_score"]]).mean()),
        "overround": float(over_round.mean()),
        "points_props_per_game": float(
            pts.groupby("game_key")["player_key"].nunique().sum() / len(games)
        ),
        "games": len(games),
        "first_day": str(games["game_date"].min()),
        "last_day": str(games["game_date"].max()),
        "game_total_over_rate_close": float(went_over.mean()),
    }


def market_report(league: Any) -> MarketFigures:
    """Every figure of the report, points first, then the other markets' headline numbers."""
    points = prop_series(league, "player_points")
    figures: dict[str, Any] = {}
    figures.update(_market_figures(points))
    figures["over_rate_by_line_band"] = _bands(points)
    figures.update(_mae(points))
    figures.update(_moves(points))
    figures.update(_books(points))
    for market in ("player_rebounds", "player_assists", "player_threes"):
        other = _market_figures(prop_series(league, market))
        short = market.removeprefix("player_")
        for name in ("over_rate_close", "roi_always_over", "roi_always_under", "roi_avg10_close"):
            figures[f"{short}_{name}"] = other[name]
            figures[f"{short}_{name}_se"] = other[f"{name}_se"]
    figures.update(_league_totals(league))
    return MarketFigures(figures)
