"""Issue 9: the sandbox's market is efficient against simple public-information strategies."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from sandbox.apis.injuries import reported
from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED
from sandbox.league import League, load_league, price_markets, simulate_season
from sandbox.market_report import POINTS_BANDS, market_report, open_close, prop_series


@pytest.fixture(scope="module")
def figures(sandbox_league: League) -> dict:
    return market_report(sandbox_league).figures


def test_no_simple_strategy_beats_the_close(figures: dict) -> None:
    # -2% is the bar; an efficient market at a 1.05 overround gives about -4.5%.
    for name in ("roi_always_over", "roi_always_under", "roi_avg10_close",
                 "roi_first_move_momentum"):  # fmt: skip
        assert figures[name] <= -0.02, (name, figures[name])
    # Fading the outlier book bets a few thousand times (SE about 1.3%): a looser bound.
    assert figures["roi_fade_outlier_book"] <= 0.0


def test_closing_line_holds_the_public_information(figures: dict) -> None:
    assert abs(figures["avg10_weight_close"]) < 0.03
    # The open is softer (a day before tip, mostly public form) but not beatable by the same
    # average either (-1.9% +- 1.0% in the default season; +3.7% when books shrank stars toward
    # the league's average rate instead of their own projection).
    assert figures["roi_avg10_open"] <= 0.0
    assert figures["avg10_weight_open"] < 0.12
    assert figures["close_mae_vs_actual"] < figures["open_mae_vs_actual"]
    assert abs(figures["move_serial_corr"]) < 0.1
    assert figures["books_within_half_point"] >= 0.8


def test_over_rate_in_every_line_band(sandbox_league: League, figures: dict) -> None:
    assert 0.48 <= figures["over_rate_close"] <= 0.51
    assert 0.47 <= figures["game_total_over_rate_close"] <= 0.53
    # The bar is 48-51% in every band. Judged over three seasons, not one: how a season's
    # stars run against the simulator's own expectation is a draw of that season (their points
    # beat it by +0.25 in the default season and fall 0.55 short in seed 0's), and the books'
    # calibration is fitted on other seasons (seeds 5-9), so one season's 20-30 band is off by
    # +-2% on its own (0.527 in the default season, 0.489-0.510 in seeds 0-4). The 30+ band is
    # thin even then (about 1,000 player-games, a standard error near 1.5%): there the bar is finer
    # than the noise, and the band must instead be within two standard errors of even. A band's
    # independent unit is the player-game (its books' closing lines share one outcome).
    seasons = [sandbox_league, *(load_league(seed, DEFAULT_SEASON) for seed in (1, 2))]
    closing = []
    for league in seasons:
        series = prop_series(league, "player_points")
        _, close = open_close(series.loc[series["did_not_play"].eq(False)])
        closing.append(close.assign(season_seed=league.seed))
    quotes = pd.concat(closing, ignore_index=True)
    quotes = quotes.assign(over=quotes["actual"] > quotes["point"])
    band = pd.cut(quotes["point"], POINTS_BANDS, right=False)
    for name, in_band in quotes.groupby(band, observed=True):
        per_game = in_band.groupby(["season_seed", "game_key", "player_key"])["over"].mean()
        rate, se = per_game.mean(), per_game.std() / np.sqrt(len(per_game))
        message = f"band {name}: over rate {rate:.3f} +- {se:.3f} over {len(per_game)} player-games"
        if name.left < 30:
            assert 0.48 <= rate <= 0.51, message
        else:
            assert 0.48 <= rate <= 0.51 or abs(rate - 0.5) <= 2 * se, message


def test_league_totals_stay(figures: dict) -> None:
    assert 112.5 <= figures["team_ppg"] <= 115.5
    assert 1.04 <= figures["overround"] <= 1.06
    assert 14 <= figures["points_props_per_game"] <= 18
    assert figures["games"] == 1230


def test_news_visible_only_once_released(sandbox_league: League) -> None:
    news = sandbox_league.injuries
    item = news.iloc[len(news) // 2]
    before = reported(sandbox_league, item["released_at"].to_pydatetime() - dt.timedelta(seconds=1))
    after = reported(sandbox_league, item["released_at"].to_pydatetime())
    assert item["player_key"] not in set(
        before.loc[before["released_at"] == item["released_at"], "player_key"]
    )
    assert item["player_key"] in set(after["player_key"])
    assert (
        news["released_at"]
        < sandbox_league.games.set_index("game_key").loc[news["game_key"], "tipoff_at"].to_numpy()
    ).all()


def test_a_stars_absence_costs_his_team(sandbox_league: League) -> None:
    truth = sandbox_league.truth
    team_exp = truth.groupby(["game_key", "team_key"])["exp_pts"].sum()
    usual = truth.loc[truth["available"]].groupby("player_key")["exp_pts"].mean()
    stars = usual[usual >= 24].index
    out = truth.loc[truth["player_key"].isin(stars) & ~truth["available"]]
    played = truth.loc[truth["player_key"].isin(stars) & truth["available"]]
    without = team_exp.loc[list(zip(out["game_key"], out["team_key"], strict=True))].mean()
    with_star = team_exp.loc[list(zip(played["game_key"], played["team_key"], strict=True))].mean()
    assert len(out) >= 20
    assert without < with_star - 1.5


def test_injuries_endpoints_shapes(sandbox) -> None:
    import requests

    espn = requests.get(
        sandbox.espn_url + "/apis/site/v2/sports/basketball/nba/injuries", timeout=10
    ).json()
    assert espn["injuries"]
    team = espn["injuries"][0]
    assert {"id", "displayName", "injuries"} <= set(team)
    item = team["injuries"][0]
    assert {
        "id",
        "longComment",
        "shortComment",
        "status",
        "date",
        "athlete",
        "type",
        "details",
    } <= set(item)
    assert item["status"] in ("Out", "Day-To-Day")
    bdl = requests.get(
        sandbox.balldontlie_url + "/v1/player_injuries",
        params={"per_page": 5},
        headers={"Authorization": sandbox.balldontlie_key},
        timeout=10,
    ).json()
    assert len(bdl["data"]) == 5
    assert "next_cursor" in bdl["meta"]
    assert {"player", "return_date", "description", "status"} <= set(bdl["data"][0])
    denied = requests.get(sandbox.balldontlie_url + "/v1/player_injuries", timeout=10)
    assert denied.status_code == 401


def test_lines_depend_on_nothing_after_their_snapshot() -> None:
    """Rewrite what is not yet known at T (news released later, the expectation that news would
    bring, box scores of games not over): every quote taken by T must stay byte-identical.

    Expected minutes and availability are left alone: which player-games get lines at all
    is drawn once per season, so rewriting them would reshuffle every draw (noise, not news).
    """
    at = pd.Timestamp("2026-01-16T01:00:00Z")
    _, _, games, sim = simulate_season(DEFAULT_SEED, DEFAULT_SEASON)
    props, lines = price_markets(DEFAULT_SEED, DEFAULT_SEASON, games, sim)

    news = sim.news.copy()
    later = news["released_at"] > at
    # later news lands later still (but before its tip-off)
    tips = news["game_key"].map(games.set_index("game_key")["tipoff_at"])
    news.loc[later, "released_at"] += (tips[later] - news.loc[later, "released_at"]) / 2
    news = news.sort_values(["released_at", "player_key"], kind="stable").reset_index(drop=True)
    known = sim.news.loc[~later].groupby("game_key").size()
    stages = sim.stages.copy()
    unknown = stages["stage"].to_numpy() > stages["game_key"].map(known).fillna(0).to_numpy()
    for col in ("exp_pts", "exp_reb", "exp_ast", "exp_fg3m"):
        stages.loc[unknown, col] = stages.loc[unknown, col] * 1.2 + 0.5
    stage_team_exp = sim.stage_team_exp.copy()
    n_known = pd.Series(games["game_key"]).map(known).fillna(0).to_numpy()
    for j in range(len(stage_team_exp)):
        stage_team_exp[j, j > n_known] += 6.0
    box = sim.box.copy()
    unfinished = box["game_key"].isin(games.loc[games["final_at"] > at, "game_key"])
    for col in ("pts", "reb", "ast", "fg3m", "seconds_played"):
        box.loc[unfinished, col] = box.loc[unfinished, col] * 2 + 3
    rewritten = replace(sim, news=news, stages=stages, stage_team_exp=stage_team_exp, box=box)
    props2, lines2 = price_markets(DEFAULT_SEED, DEFAULT_SEASON, games, rewritten)

    for before, after in ((props, props2), (lines, lines2)):
        seen = before.loc[before["snapshot_at"] <= at].reset_index(drop=True)
        assert len(seen) > 1000
        pd.testing.assert_frame_equal(
            seen, after.loc[after["snapshot_at"] <= at].reset_index(drop=True)
        )
        # control: the rewrite does show in the quotes taken after T
        unseen = before.loc[before["snapshot_at"] > at].reset_index(drop=True)
        assert not unseen.equals(after.loc[after["snapshot_at"] > at].reset_index(drop=True))
