"""The simulator's truth per player-game and market, for evaluation only (the backtest's oracle).

A model never reads this: it is what the sandbox knows and no public source shows, the
expectation of every player's stat given who actually plays. The backtest sets its errors
against it (how far from the best possible forecast is a model?) and scores an oracle that bets
it. `oracle_median` is the median of the outcome distribution the books price with (the count
distribution fitted to each market in `sandbox.markets`): the point forecast with the least
expected absolute error, which the mean is not for skewed counts.

One row per (game, player on either roster that day, market), did-not-play rows included (their
expectation is what was expected before the coach or the injury decided; `did_play` says what
happened).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED
from sandbox.league import League, load_league
from sandbox.markets import MARKETS, TRUTH_COLUMNS, median_of, sharp_mean

TRUTH_MARKETS: tuple[str, ...] = ("points", "rebounds", "assists", "threes")


def league_truth(league: League) -> pd.DataFrame:
    """`player_game_truth` for an already loaded league (no second load)."""
    truth = league.truth
    games = league.games.set_index("game_key")
    n = len(truth)
    g = games.loc[truth["game_key"].to_numpy()]
    played = league.box.set_index(["game_key", "player_key"])["did_not_play"]
    did_play = ~played.reindex(pd.MultiIndex.from_frame(truth[["game_key", "player_key"]]))
    did_play = did_play.fillna(False).to_numpy(dtype=bool)
    bdl = league.players.set_index("player_key")["bdl_id"]
    player_id = bdl.loc[truth["player_key"].to_numpy()].to_numpy(dtype=np.int64)
    n_m = len(MARKETS)
    market_idx = np.repeat(np.arange(n_m)[None, :], n, axis=0).ravel()
    raw = np.stack([truth[c].to_numpy(dtype=float) for c in TRUTH_COLUMNS], axis=1).ravel()
    mean = sharp_mean(raw, market_idx)
    rep = np.repeat(np.arange(n), n_m)
    return pd.DataFrame(
        {
            "game_date": g["game_date"].to_numpy()[rep],
            "home_team": g["home_team_key"].to_numpy()[rep],
            "away_team": g["away_team_key"].to_numpy()[rep],
            "player_id": player_id[rep],
            "market": pd.Categorical.from_codes(market_idx, list(TRUTH_MARKETS)),
            "expected_value": mean,
            "oracle_median": median_of(mean, market_idx),
            "did_play": did_play[rep],
        }
    )


def player_game_truth(
    season_start_year: int = DEFAULT_SEASON, seed: int = DEFAULT_SEED
) -> pd.DataFrame:
    """The truth of one simulated season (cached league: seconds when the cache is warm).

    Columns: game_date (America/New_York date), home_team, away_team (team codes as served),
    player_id (balldontlie id = warehouse player_id), market (points/rebounds/assists/threes),
    expected_value (the simulator's mean given who plays), oracle_median, did_play.
    """
    return league_truth(load_league(seed, season_start_year))
