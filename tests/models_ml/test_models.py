"""Training, scoring, reasons and validation on four real weeks of the sandbox league."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml import api, backtest, reasons, registry, scoring, store
from models_ml.config import SKIP_REASONS, ModelsConfig
from models_ml.errors import FeatureContractError, NoModelError, PredictionValidationError
from models_ml.registry import TrainedModel
from models_ml.systems import BASELINE_INPUTS, POOL_FEATURES
from tests.models_ml.conftest import SMALL, THROUGH

PREDICTIONS = "raw_models_ml.predictions"
NO_TABLE = (
    "select count(*) as n from information_schema.tables where table_schema = 'raw_models_ml'"
)


def execute(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def frame(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).df()


def registry_of(trained: list[TrainedModel]) -> Path:
    assert trained[0].path is not None
    return trained[0].path.parents[1]


def catboost_bytes(models: list[TrainedModel]) -> str:
    """The trees and leaf values (a .cbm file also holds a random guid and the training time)."""
    (model,) = [m for m in models if m.system == "catboost"]
    assert model.path is not None
    reloaded = registry.load(model.path)
    assert reloaded.model.digest() == model.metadata["model_digest"]  # type: ignore[attr-defined]
    return model.metadata["model_digest"]


def test_labels_cover_final_feature_rows(built: Path) -> None:
    counts = frame(
        built,
        "select count(*) as n, count(*) filter (where not did_play and actual_value is not null) "
        "as bad, count(*) filter (where did_play) as played "
        "from features.fct_player_prop_outcomes",
    ).iloc[0]
    final = frame(
        built,
        "select count(*) as n from features.fct_player_prop_features as f "
        "inner join analytics.dim_games as g using (game_id) where g.is_final",
    ).iloc[0]
    assert counts["n"] == final["n"] > 0
    assert counts["bad"] == 0
    assert 0 < counts["played"] < counts["n"]


def test_model_never_saw_its_scoring_date(warehouse: Path, tmp_path: Path) -> None:
    """Perturb every feature and label on and after the day: the model is byte-identical; perturb
    one day before it and the model changes (so the comparison can fail)."""
    first = api.train(warehouse, THROUGH, ["catboost"], tmp_path / "a", config=SMALL)
    execute(
        warehouse,
        f"update features.fct_player_prop_features set stat_avg_5 = stat_avg_5 * 3 + 7, "
        f"pick_line = pick_line + 4 where game_date >= '{THROUGH}'",
        f"update features.fct_player_prop_outcomes set actual_value = actual_value + 9 "
        f"where game_date >= '{THROUGH}'",
    )
    second = api.train(warehouse, THROUGH, ["catboost"], tmp_path / "b", config=SMALL)
    assert second[0].metadata["data_fingerprint"] == first[0].metadata["data_fingerprint"]
    assert catboost_bytes(second) == catboost_bytes(first)
    assert first[0].metadata["training_window"]["last_game_date"] < str(THROUGH)

    execute(
        warehouse,
        "update features.fct_player_prop_outcomes set actual_value = actual_value + 9 "
        "where game_date = (select max(game_date) from features.fct_player_prop_outcomes "
        f"where game_date < '{THROUGH}')",
    )
    third = api.train(warehouse, THROUGH, ["catboost"], tmp_path / "c", config=SMALL)
    assert third[0].metadata["data_fingerprint"] != first[0].metadata["data_fingerprint"]
    assert catboost_bytes(third) != catboost_bytes(first)


def test_same_seed_same_model(built: Path, trained: list[TrainedModel], tmp_path: Path) -> None:
    again = api.train(built, THROUGH, ["catboost"], tmp_path / "again", config=SMALL)
    assert catboost_bytes(again) == catboost_bytes(trained)
    assert again[0].version == next(m for m in trained if m.system == "catboost").version
    other = api.train(built, THROUGH, ["catboost"], tmp_path / "other", seed=1, config=SMALL)
    assert catboost_bytes(other) != catboost_bytes(trained)


def test_metadata_records_the_contract(trained: list[TrainedModel]) -> None:
    meta = json.loads((trained[1].path / "metadata.json").read_text())  # type: ignore[operator]
    assert meta["system"] == "catboost"
    assert meta["features"]["rest_days"] == "BIGINT"
    assert meta["features"]["pick_line"] == "DOUBLE"
    assert meta["through"] == str(THROUGH)
    assert meta["seed"] == 0
    assert re.fullmatch(r"catboost-20251110-[0-9a-f]{8}", meta["version"])
    assert set(meta["metrics"]["holdout_mae"]) == {"points", "rebounds", "assists", "threes"}


def test_predict_writes_each_row_once_and_reruns_replace(
    warehouse: Path, trained: list[TrainedModel]
) -> None:
    reg = registry_of(trained)
    first = api.predict(warehouse, THROUGH, "run-1", registry=reg, config=SMALL)
    second = api.predict(warehouse, THROUGH, "run-2", registry=reg, config=SMALL)
    rows = frame(warehouse, f"select * from {PREDICTIONS}")
    assert first.rows_written == second.rows_written == len(rows) > 0
    assert set(rows["run_id"]) == {"run-2"}
    assert not rows.duplicated(["game_date", "system", "game_id", "player_id", "market"]).any()
    assert set(rows["system"]) == {"baseline", "catboost", "ensemble"}
    made = rows.loc[rows["skip_reason"].isna()]
    assert second.predictions_made == len(made) // 3 > 0
    assert made["probability_over"].between(0, 1).all()
    assert made["confidence"].between(0, 100).all()
    assert made["predicted_value"].notna().all()
    assert made["predicted_median"].notna().all()
    picks = made.loc[made["recommendation"] != "PASS"]
    assert (picks["edge"] >= SMALL.min_edge).all()


def test_each_skip_reason(warehouse: Path, trained: list[TrainedModel]) -> None:
    """One row per reason, planted in the feature store: each is skipped with its reason, a
    PASS at confidence 0, and no prediction (no NaN ever reached a model)."""
    day = f"game_date = '{THROUGH}'"
    keys = frame(
        warehouse,
        "select player_id, game_id, market from features.fct_player_prop_features "
        f"where {day} and pick_line is not null and player_status = 'active' and is_fresh "
        "and completeness = 1 order by player_id, market limit 4",
    )
    where = [
        f"player_id = {k.player_id} and game_id = '{k.game_id}' and market = '{k.market}'"
        for k in keys.itertuples()
    ]
    table = "features.fct_player_prop_features"
    execute(
        warehouse,
        f"update {table} set player_status = 'out' where {where[0]}",
        f"update {table} set pick_line = null, pick_no_vig_over_probability = null, "
        f"completeness = 11 / 12 where {where[1]}",
        f"update {table} set is_fresh = false where {where[2]}",
        f"update {table} set rest_days = null, completeness = 11 / 12 where {where[3]}",
    )
    summary = api.predict(
        warehouse, THROUGH, "run-skips", registry=registry_of(trained), config=SMALL
    )
    rows = frame(warehouse, f"select * from {PREDICTIONS} where system = 'catboost'")
    for reason, condition in zip(SKIP_REASONS, where, strict=True):
        (row,) = rows.query(
            " and ".join(condition.replace("=", "==").replace("'", '"').split(" and "))
        ).itertuples()
        assert row.skip_reason == reason
        assert row.recommendation == "PASS"
        assert row.confidence == 0
        assert pd.isna(row.predicted_value)
        assert pd.isna(row.probability_over)
    assert all(summary.skips[r] >= 1 for r in SKIP_REASONS)


def test_no_model_for_an_earlier_date(built: Path, trained: list[TrainedModel]) -> None:
    with pytest.raises(NoModelError, match="no catboost model trained through 2025-11-01"):
        registry.latest(registry_of(trained), "catboost", date(2025, 11, 1))


def test_mismatched_feature_list_is_refused(
    warehouse: Path, trained: list[TrainedModel], tmp_path: Path
) -> None:
    reg = tmp_path / "registry"
    shutil.copytree(registry_of(trained), reg)
    execute(
        warehouse,
        "alter table features.fct_player_prop_features alter teammates_out_minutes_avg_10 "
        "type float",
        "alter table features.fct_player_prop_features rename column teammates_out to mates_out",
    )
    with pytest.raises(FeatureContractError, match="teammates_out_minutes_avg_10") as caught:
        api.predict(warehouse, THROUGH, "run-x", ["catboost"], registry=reg, config=SMALL)
    assert caught.value.columns == ["teammates_out", "teammates_out_minutes_avg_10"]
    assert "<missing>" in str(caught.value)
    assert (
        frame(
            warehouse,
            NO_TABLE,
        ).iloc[0]["n"]
        == 0
    )


def test_reasons_are_plain_words_with_numbers(built: Path, trained: list[TrainedModel]) -> None:
    with duckdb.connect(str(built), read_only=True) as con:
        features = store.read_features(con, on=THROUGH)
    models = {m.system: m for m in trained}
    out = scoring.score(features, models, run_id="r", config=SMALL)
    made = out.loc[out["skip_reason"].isna() & (out["system"] != "baseline")]
    words = made[["reason_1", "reason_2", "reason_3"]].to_numpy().ravel()
    assert len(words) > 0
    pattern = re.compile(r"[a-z][a-z0-9 .,'%+\-]*[0-9a-z%] \([+-]\d+\.\d\)")
    assert all(pattern.fullmatch(w) and re.search(r"\d", w.split(" (")[0]) for w in words), words[
        :6
    ]
    one = pd.DataFrame({"teammates_out": [2], "stat_avg_5": [31.2], "market": ["points"]})
    rendered = reasons.render(one, ["teammates_out", "stat_avg_5"], np.array([[1.4, 2.1]]), top=2)
    assert list(rendered[0]) == [
        "averaging 31.2 points over his last 5 (+2.1)",
        "two team-mates out (+1.4)",
    ]
    # against a line: what pushes the prediction towards its side of the line comes first
    two = pd.DataFrame(
        {"teammates_out": [2, 2], "stat_avg_5": [31.2, 31.2], "is_home": [True, True],
         "market": ["points", "points"]}
    )  # fmt: skip
    shap = np.array([[1.4, 2.1, -0.6], [1.4, 2.1, -0.6]])
    names = ["teammates_out", "stat_avg_5", "is_home"]
    rendered = reasons.render(two, names, shap, top=2, toward=np.array([-0.8, 0.0]))
    assert list(rendered[0]) == ["playing at home (-0.6)", "two team-mates out (+1.4)"]
    assert list(rendered[1]) == [  # no gap: the largest in absolute value
        "averaging 31.2 points over his last 5 (+2.1)",
        "two team-mates out (+1.4)",
    ]


MARKET_WORDS = ("a line", "the line", "the market pricing", "quoted by")


def _contributions(system: str, model: object, rows: pd.DataFrame) -> np.ndarray:
    """What each system's reasons are drawn from, the market's own inputs left out."""
    if system == "baseline":
        averages = rows[list(BASELINE_INPUTS[1:])].to_numpy(dtype=float)
        share = np.asarray(model.weights) / sum(model.weights)  # type: ignore[attr-defined]
        return (averages - rows[["pick_line"]].to_numpy(dtype=float)) * share
    catboost = model if system == "catboost" else model.catboost  # type: ignore[attr-defined]
    kept = [j for j, name in enumerate(POOL_FEATURES) if name not in reasons.MARKET_FEATURES]
    return catboost.contributions(rows)[:, kept]


def test_the_line_is_never_a_reason(built: Path, trained: list[TrainedModel]) -> None:
    """Reasons explain the pick against its line: the market's own inputs are never among them;
    the first is what pushes the prediction furthest towards the side the model favours over the
    market's price (the pick's side), the next ones less far."""
    with duckdb.connect(str(built), read_only=True) as con:
        features = store.read_features(con, on=THROUGH)
    models = {m.system: m for m in trained}
    out = scoring.score(features, models, run_id="r", config=SMALL)
    ok = scoring.skip_reasons(features, SMALL).isna().to_numpy()
    scored = features.loc[ok].reset_index(drop=True)
    assert len(scored) > 50
    market_texts = set()
    for name in reasons.MARKET_FEATURES:
        market_texts |= set(reasons.TEMPLATES[name](scored[name], scored["market"]))
    for system, trained_model in models.items():
        made = out.loc[out["system"] == system].reset_index(drop=True).loc[ok]
        made = made.reset_index(drop=True)
        keys = ["game_id", "player_id", "market"]
        assert (made[keys] == scored[keys]).all().all()
        for k in (1, 2, 3):
            texts = made[f"reason_{k}"].str.rsplit(" (", n=1).str[0]
            assert texts.notna().all()
            assert not texts.isin(market_texts).any(), made.loc[texts.isin(market_texts)]
            assert not texts.str.startswith(MARKET_WORDS).any()
            assert not texts.str.fullmatch(r"the \w+ market").any()
        amounts = np.column_stack(
            [
                made[f"reason_{k}"].str.extract(r"\(([+-]\d+\.\d)\)$")[0].astype(float)
                for k in (1, 2, 3)
            ]
        )
        side = np.sign(made["probability_over"] - made["no_vig_over_probability"]).to_numpy()
        assert (side != 0).all()
        picked = made["recommendation"] != "PASS"
        assert (side[picked] == np.where(made.loc[picked, "recommendation"] == "OVER", 1, -1)).all()
        toward = amounts * side[:, None]
        assert (np.diff(toward, axis=1) <= 1e-9).all(), system  # rounding keeps the order
        strongest = (_contributions(system, trained_model.model, scored) * side[:, None]).max(1)
        assert (np.abs(toward[:, 0] - strongest) <= 0.05 + 1e-9).all(), system
        first_sign = made["reason_1"].str.extract(r"\(([+-])\d+\.\d\)$")[0].to_numpy()
        clear = strongest >= 0.05
        assert clear.mean() > 0.5, system
        assert (first_sign[clear] == np.where(side[clear] > 0, "+", "-")).all(), system


@pytest.fixture
def valid(built: Path, trained: list[TrainedModel]) -> pd.DataFrame:
    with duckdb.connect(str(built), read_only=True) as con:
        features = store.read_features(con, on=THROUGH)
    out = scoring.score(features, {"catboost": trained[1]}, run_id="r", config=SMALL)
    scoring.validate(out)  # the untouched frame passes
    return out


def _first(frame_: pd.DataFrame, predicted: bool) -> int:
    return int(frame_.index[frame_["skip_reason"].isna() == predicted][0])


BREAKS = {
    "confidence": (True, "confidence", 120.0, "outside 0..100"),
    "recommendation": (True, "recommendation", "MAYBE", "not in"),
    "skip_reason": (False, "skip_reason", "bored", "not NULL nor in"),
    "probability": (True, "probability_over", 1.5, "outside 0..1"),
    "nan": (True, "predicted_value", np.nan, "is NaN on a predicted row"),
    "infinite": (True, "edge", np.inf, "is infinite"),
    "system": (True, "system", "gpt", "not in"),
    "run_id": (True, "run_id", None, "must not be NULL"),
    "skipped_pick": (False, "recommendation", "OVER", "must be PASS on a skipped row"),
    "negative": (True, "predicted_median", -1.0, "is negative"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_each_validation_error_names_the_row(valid: pd.DataFrame, name: str) -> None:
    predicted, column, value, rule = BREAKS[name]
    index = _first(valid, predicted)
    broken = valid.copy()
    broken[column] = broken[column].astype(object)
    broken.loc[index, column] = value
    row = valid.loc[index]
    with pytest.raises(PredictionValidationError, match=re.escape(rule)) as caught:
        scoring.validate(broken)
    message = str(caught.value)
    assert f"player_id={row['player_id']}" in message
    assert f"game_id={row['game_id']}" in message
    assert f"field {column}=" in message


def test_duplicate_key_is_refused_and_nothing_written(valid: pd.DataFrame, warehouse: Path) -> None:
    broken = pd.concat([valid, valid.iloc[[0]]], ignore_index=True)
    with (
        duckdb.connect(str(warehouse)) as con,
        pytest.raises(PredictionValidationError, match="repeats a"),
    ):
        scoring.write(con, broken, THROUGH, ["catboost"])
    assert (
        frame(
            warehouse,
            NO_TABLE,
        ).iloc[0]["n"]
        == 0
    )


def test_max_edge_passes_larger_edges() -> None:
    config = replace(SMALL, max_edge=0.1)
    assert ModelsConfig.from_env({"NBA_PROPS_MODELS_MAX_EDGE": "0.1"}).max_edge == 0.1
    assert ModelsConfig().max_edge == 1.0  # off by default: no edge is larger
    p_over = np.array([0.56, 0.70, 0.30, 0.52])
    no_vig = np.full(4, 0.5)
    rec, edge, _ = scoring.picks(p_over, no_vig, config)
    assert list(rec) == ["OVER", "PASS", "PASS", "PASS"]
    assert np.allclose(edge, [0.06, 0.20, 0.20, 0.02])
    rec, _, _ = scoring.picks(p_over, no_vig, SMALL)
    assert list(rec) == ["OVER", "OVER", "UNDER", "PASS"]


def test_backtest_reports_the_pick_time_line_and_the_bar() -> None:
    """The pick-time line's MAE beside the closing line's and the oracle's median, on the same
    rows, and the reachable-bar section of backtest.md."""
    actual = np.array([10.0, 20.0, 30.0, 12.0])
    frame = pd.DataFrame(
        {
            "system": "catboost",
            "market": "points",
            "played": True,
            "actual_value": actual,
            "line": [12.5, 18.5, 27.5, 12.5],
            "close_line": [11.5, 19.5, 28.5, np.nan],
            "predicted_value": [13.0, 18.0, 27.0, 12.0],
            "predicted_median": [12.0, 18.0, 27.0, 12.0],
            "expected_value": [11.0, 19.0, 29.0, 12.0],
            "oracle_median": [10.0, 20.0, 29.0, 12.0],
            "probability_over": [0.6, 0.4, 0.5, 0.5],
            "no_vig_over_probability": 0.5,
            "result": ["win", "loss", "no_pick", "no_pick"],
            "profit": [0.9, -1.0, np.nan, np.nan],
            "price_is_estimated": False,
            "clv": [0.01, -0.02, np.nan, np.nan],
        }
    )
    results = backtest.evaluate(frame, has_truth=True)
    points = results["catboost"]["points"]
    assert points["pick_line_mae"]["n"] == 4
    assert points["pick_line_mae"]["mae"] == pytest.approx(7.0 / 4)
    assert points["pick_line_mae"]["system_mae_same_rows"] == pytest.approx(8.0 / 4)
    bar = points["bar"]  # the three rows with a closing line
    assert bar["n"] == 3
    assert bar["pick_line_mae"] == pytest.approx(6.5 / 3)
    assert bar["closing_line_mae"] == pytest.approx(3.5 / 3)
    assert bar["oracle_median_mae"] == pytest.approx(1.0 / 3)
    assert bar["system_mae"] == pytest.approx(8.0 / 3)
    assert bar["system_median_mae"] == pytest.approx(7.0 / 3)
    report = {
        "window": {"start": "2025-11-11", "end": "2025-11-12", "retrain_every_days": 7},
        "retrains": [],
        "seed": 0,
        "notes": {"prices": "p", "oracle": "o"},
        "results": results,
    }
    text = backtest.markdown(report)
    assert "pick-time line MAE" in text
    assert "## The reachable bar (points, 3 rows" in text
    assert "| catboost | 2.667 | 2.333 | 2.167 | 1.167 | 0.333 | +0.500 | +1.500 |" in text
    assert "What would move it" in text
