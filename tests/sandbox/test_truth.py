"""The simulator's truth for the backtest's oracle: its keys, and its median as the best guess."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sandbox.league import League
from sandbox.truth import TRUTH_MARKETS, league_truth, player_game_truth

_STAT = {"points": "pts", "rebounds": "reb", "assists": "ast", "threes": "fg3m"}


@pytest.fixture(scope="module")
def truth(sandbox_league: League) -> pd.DataFrame:
    return league_truth(sandbox_league)


def test_keys_and_columns(sandbox_league: League, truth: pd.DataFrame) -> None:
    assert list(truth.columns) == [
        "game_date", "home_team", "away_team", "player_id", "market", "expected_value",
        "oracle_median", "did_play",
    ]  # fmt: skip
    assert len(truth) == 4 * len(sandbox_league.truth)
    assert set(truth["market"].unique()) == set(TRUTH_MARKETS)
    keys = ["game_date", "home_team", "player_id", "market"]
    assert not truth.duplicated(keys).any()
    # Team codes as served, player ids as balldontlie's (the warehouse's player_id).
    assert set(truth["home_team"]) <= set(sandbox_league.teams["team_key"])
    assert set(truth["player_id"]) <= set(sandbox_league.players["bdl_id"])
    assert truth["did_play"].dtype == bool
    assert truth["did_play"].mean() == pytest.approx(1 - sandbox_league.box["did_not_play"].mean())
    assert (truth["oracle_median"] == np.floor(truth["oracle_median"])).all()
    # Same league, same truth: the public entry point reads the cached default season.
    assert player_game_truth().equals(truth)


def test_the_median_beats_the_mean_on_absolute_error(
    sandbox_league: League, truth: pd.DataFrame
) -> None:
    box = sandbox_league.box.loc[~sandbox_league.box["did_not_play"]]
    box = box.merge(sandbox_league.players[["player_key", "bdl_id"]], on="player_key").merge(
        sandbox_league.games[["game_key", "game_date", "home_team_key"]], on="game_key"
    )
    box = box.rename(columns={"bdl_id": "player_id", "home_team_key": "home_team"})
    for market, stat in _STAT.items():
        rows = truth.loc[truth["did_play"] & (truth["market"] == market)]
        rows = rows.merge(box[["game_date", "home_team", "player_id", stat]])
        assert len(rows) == int((~sandbox_league.box["did_not_play"]).sum())
        actual = rows[stat].to_numpy()
        mae_median = np.abs(actual - rows["oracle_median"]).mean()
        mae_mean = np.abs(actual - rows["expected_value"]).mean()
        assert mae_median <= mae_mean, (market, mae_median, mae_mean)
        # calibrated: the mean of what happened is the expectation (per played game)
        assert abs(actual.mean() - rows["expected_value"].mean()) < 0.05 * actual.mean() + 0.02
