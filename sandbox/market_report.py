"""How efficient is the sandbox's market? The figures a new user would measure over the season.

Every figure is computed as a bettor would see it: pre-tip quotes only (a snapshot after tip-off
is an in-game line), graded against the box score, void when the player did not play. The
opening quote of a (book, market, player) is its first pre-tip snapshot, the closing quote its
last one; a line pulled before the close (a scratch) has no closing quote. The public
information a strategy may use is the box scores of games finished before the one it bets.

An efficient market at a 1.05 overround returns about -4.5% to any such strategy; the issue
that asked for this report (issue 9) wants none above -2% at the close.
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
                rows.append((key, f"{value:+.4f}" if "roi" in key else f"{value:.4f}"))
            elif isinstance(value, dict):
                rows.append((key, ", ".join(f"{k}: {v}" for k, v in value.items())))
            else:
                rows.append((key, str(value)))
        return rows


def _roi(won: np.ndarray, price: np.ndarray) -> float:
    """Return per unit staked: a win pays price - 1, a loss costs the stake."""
    if len(won) == 0:
        return float("nan")
    return float(np.mean(np.where(won, price - 1.0, -1.0)))


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


def _strategy(quotes: pd.DataFrame, side_over: np.ndarray, bet: np.ndarray) -> float:
    q = quotes.loc[bet]
    over = side_over[bet]
    won = np.where(over, q["actual"] > q["point"], q["actual"] < q["point"])
    price = np.where(over, q["over_price"], q["under_price"])
    return _roi(won, price)


def _avg_weight(quotes: pd.DataFrame) -> float:
    """OLS weight of the 10-game average in actual ~ 1 + line + avg10 (0: the line has it all)."""
    q = quotes.dropna(subset=["avg10"])
    x = np.column_stack([np.ones(len(q)), q["point"].to_numpy(), q["avg10"].to_numpy()])
    coef, *_ = np.linalg.lstsq(x, q["actual"].to_numpy(dtype=float), rcond=None)
    return float(coef[2])


def _market_figures(series: pd.DataFrame) -> dict[str, Any]:
    played = series.loc[series["did_not_play"].eq(False)]
    opening, closing = open_close(played)
    out: dict[str, Any] = {"closing_quotes": len(closing)}
    out["over_rate_close"] = float((closing["actual"] > closing["point"]).mean())
    out["roi_always_over"] = _roi(
        (closing["actual"] > closing["point"]).to_numpy(), closing["over_price"].to_numpy()
    )
    out["roi_always_under"] = _roi(
        (closing["actual"] < closing["point"]).to_numpy(), closing["under_price"].to_numpy()
    )
    for name, quotes in (("open", opening), ("close", closing)):
        gap = (quotes["avg10"] - quotes["point"]).to_numpy()
        bet = np.abs(gap) > EDGE
        out[f"roi_avg10_{name}"] = _strategy(quotes, gap > 0, bet)
        out[f"avg10_weight_{name}"] = _avg_weight(quotes)
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
    return {
        "move_serial_corr": corr,
        "share_lines_moving": float(len(first) / max(n_series, 1)),
        "share_moving_3plus": float((big >= 3).mean()),
        "roi_first_move_momentum": _strategy(closing, up, np.ones(len(closing), dtype=bool)),
    }


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
    out["roi_fade_outlier_book"] = _strategy(
        multi, (multi["dev"] < 0).to_numpy(), np.ones(len(multi), dtype=bool)
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


def _bands(series: pd.DataFrame) -> dict[str, str]:
    s = series.loc[series["did_not_play"].eq(False)]
    _, closing = open_close(s)
    band = pd.cut(closing["point"], POINTS_BANDS, right=False)
    over = (closing["actual"] > closing["point"]).groupby(band, observed=True).agg(["mean", "size"])
    return {
        f"{iv.left:g}-{iv.right:g}": f"{row['mean']:.3f} (n={int(row['size'])})"
        for iv, row in over.iterrows()
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
    figures.update(_league_totals(league))
    return MarketFigures(figures)
