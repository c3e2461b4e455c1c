"""Training, scoring, reasons and validation on four real weeks of the sandbox league."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from models_ml import api, reasons, registry, scoring, store
from models_ml.config import SKIP_REASONS
from models_ml.errors import FeatureContractError, NoModelError, PredictionValidationError
from models_ml.registry import TrainedModel
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
