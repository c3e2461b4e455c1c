"""A pick's three strongest reasons in plain words: its own SHAP values, read off the model, as
what moves the prediction away from the pick-time line.

The line is what the pick is made against, so it is never a reason: the market's own inputs (the
line, its opening and move, the no-vig price, the books quoting it, the market itself) are left
out, and the reasons are the features that push the prediction furthest towards the pick's side
of the line (the side the model's probability favours over the market's: for an over, the
largest additions; for an under, the largest deductions). Each feature has one template; the
number in brackets is what that feature added to (or took off) the predicted stat for this row,
in the stat's own units. Rendering only touches the three chosen (row, feature) pairs, grouped by
feature, so a slate renders in one pass per feature.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

UNITS = {"points": "points", "rebounds": "rebounds", "assists": "assists", "threes": "threes"}
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

Render = Callable[[pd.Series, pd.Series], pd.Series]

# the market's own price of the row (and which market it is): what a pick is made against,
# never a reason for it
MARKET_FEATURES: frozenset[str] = frozenset(
    {
        "open_line",
        "pick_line",
        "line_move",
        "pick_no_vig_over_probability",
        "pick_n_books",
        "market",
    }
)


def _fmt(values: pd.Series, spec: str) -> pd.Series:
    return values.astype(float).map(lambda v: format(v, spec))


def _unit(market: pd.Series) -> pd.Series:
    return market.map(UNITS).fillna(market)


def _per_game(text: str, last: str) -> Render:
    return lambda v, m: "averaging " + _fmt(v, ".1f") + " " + text + last


def _stat(last: str) -> Render:
    return lambda v, m: "averaging " + _fmt(v, ".1f") + " " + _unit(m) + last


def _mates_out(v: pd.Series, m: pd.Series) -> pd.Series:
    count = v.astype(int)
    words = count.map(lambda n: _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n))
    noun = np.where(count == 1, " team-mate out", " team-mates out")
    return words + noun


def _rest(v: pd.Series, m: pd.Series) -> pd.Series:
    days = v.astype(int)
    text = "his last game " + _fmt(v, ".0f") + " days ago"
    return text.where(days != 1, "played yesterday")


TEMPLATES: dict[str, Render] = {
    "stat_avg_5": _stat(" over his last 5"),
    "stat_avg_10": _stat(" over his last 10"),
    "stat_avg_20": _stat(" over his last 20"),
    "stat_std_10": lambda v, m: _unit(m) + " swinging by " + _fmt(v, ".1f") + " over his last 10",
    "stat_season_avg": lambda v, m: "averaging " + _fmt(v, ".1f") + " " + _unit(m) + " this season",
    "minutes_played_avg_5": _per_game("minutes", " over his last 5"),
    "minutes_played_avg_10": _per_game("minutes", " over his last 10"),
    "minutes_played_std_10": lambda v, m: "his minutes swinging by " + _fmt(v, ".1f") + " a game",
    "field_goals_attempted_avg_10": _per_game("shots", " over his last 10"),
    "threes_attempted_avg_10": _per_game("three-point attempts", " over his last 10"),
    "free_throws_attempted_avg_10": _per_game("free throws", " over his last 10"),
    "usage_proxy_avg_10": _per_game("possessions used", " over his last 10"),
    "season_games_played": lambda v, m: "played " + _fmt(v, ".0f") + " games this season",
    "rest_days": _rest,
    "is_back_to_back": lambda v, m: pd.Series(
        np.where(v.astype(bool), "on a back-to-back", "not on a back-to-back"), index=v.index
    ),
    "is_home": lambda v, m: pd.Series(
        np.where(v.astype(bool), "playing at home", "playing away"), index=v.index
    ),
    "team_pace_avg_10": lambda v, m: "his team's pace of " + _fmt(v, ".1f"),
    "team_offensive_rating_avg_10": lambda v, m: "his team's offensive rating of " + _fmt(v, ".1f"),
    "opponent_pace_avg_10": lambda v, m: "an opponent's pace of " + _fmt(v, ".1f"),
    "opponent_defensive_rating_avg_10": lambda v, m: (
        "an opponent's defensive rating of " + _fmt(v, ".1f")
    ),
    "opponent_allowed_avg_10": lambda v, m: (
        "the opponent allowing " + _fmt(v, ".1f") + " " + _unit(m) + " a game"
    ),
    "teammates_out": _mates_out,
    "teammates_out_minutes_avg_10": lambda v, m: (
        "team-mates out who play " + _fmt(v, ".0f") + " minutes a game"
    ),
    "player_status": lambda v, m: "listed " + v.astype(str),
    "open_line": lambda v, m: "a line that opened at " + _fmt(v, ".1f"),
    "pick_line": lambda v, m: "a line of " + _fmt(v, ".1f"),
    "line_move": lambda v, m: "the line moving " + _fmt(v, "+.1f") + " since it opened",
    "pick_no_vig_over_probability": lambda v, m: (
        "the market pricing the over at " + _fmt(v * 100, ".0f") + "%"
    ),
    "pick_n_books": lambda v, m: "quoted by " + _fmt(v, ".0f") + " books",
    "market": lambda v, m: "the " + v.astype(str) + " market",
}


def render(
    frame: pd.DataFrame,
    features: list[str],
    contributions: np.ndarray,
    top: int = 3,
    toward: np.ndarray | None = None,
) -> np.ndarray:
    """An (n, top) array of reasons in words: of each row, the `top` contributions that push
    furthest in the direction of its `toward` (by sign: + the over, - the under), or the largest
    in absolute value where there is no direction (none given, or zero)."""
    missing = [f for f in features if f not in TEMPLATES]
    if missing:
        raise KeyError(f"reasons: no template for feature(s) {missing}")
    n = len(frame)
    out = np.full((n, top), None, dtype=object)
    if n == 0:
        return out
    contributions = np.asarray(contributions, dtype=float)
    strength = np.abs(contributions)
    if toward is not None:
        side = np.nan_to_num(np.sign(np.asarray(toward, dtype=float)))[:, None]
        strength = np.where(side != 0, contributions * side, strength)
    order = np.argsort(-strength, axis=1, kind="stable")[:, :top]
    market = frame["market"].reset_index(drop=True)
    for k in range(min(top, len(features))):
        chosen = order[:, k]
        shap = contributions[np.arange(n), chosen]
        for j in np.unique(chosen):
            rows = np.flatnonzero(chosen == j)
            name = features[j]
            values = frame[name].iloc[rows].reset_index(drop=True)
            text = TEMPLATES[name](values, market.iloc[rows].reset_index(drop=True))
            amount = pd.Series(shap[rows]).map(lambda s: format(s, "+.1f"))
            out[rows, k] = (text + " (" + amount + ")").to_numpy(dtype=object)
    return out


def against_line(
    frame: pd.DataFrame, features: list[str], contributions: np.ndarray, toward: np.ndarray
) -> np.ndarray:
    """A pick's reasons against its line: the market's own inputs dropped, the rest ranked by
    how far they push the prediction in the direction of `toward` (its sign: the side of the
    line the pick is on)."""
    kept = [j for j, name in enumerate(features) if name not in MARKET_FEATURES]
    return render(
        frame, [features[j] for j in kept], np.asarray(contributions)[:, kept], toward=toward
    )
