"""Scoring a slate: skip what cannot be scored (with its reason), predict the rest, turn the
probability into a pick, validate every row, and replace the (date, system) rows in one go.

A skipped row never reaches a model: missing inputs are a reason, never a NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from models_ml.config import (
    PREDICTIONS_SCHEMA,
    PREDICTIONS_TABLE,
    RECOMMENDATIONS,
    SKIP_REASONS,
    SYSTEMS,
    ModelsConfig,
)
from models_ml.errors import FeatureContractError, PredictionValidationError
from models_ml.systems import MODEL_INPUTS, distribution

PREDICTION_COLUMNS: dict[str, str] = {
    "run_id": "VARCHAR NOT NULL",
    "system": "VARCHAR NOT NULL",
    "model_version": "VARCHAR NOT NULL",
    "game_date": "DATE NOT NULL",
    "game_id": "VARCHAR NOT NULL",
    "player_id": "BIGINT NOT NULL",
    "market": "VARCHAR NOT NULL",
    "line": "DOUBLE",
    "line_source": "VARCHAR",
    "no_vig_over_probability": "DOUBLE",
    "predicted_value": "DOUBLE",
    "predicted_median": "DOUBLE",
    "probability_over": "DOUBLE",
    "edge": "DOUBLE",
    "recommendation": "VARCHAR NOT NULL",
    "confidence": "DOUBLE NOT NULL",
    "skip_reason": "VARCHAR",
    "reason_1": "VARCHAR",
    "reason_2": "VARCHAR",
    "reason_3": "VARCHAR",
    "features_as_of": "TIMESTAMP NOT NULL",
    "feature_inputs_loaded_at": "TIMESTAMP",
    "predicted_at": "TIMESTAMP NOT NULL",
}
FLOAT_COLUMNS = tuple(c for c, t in PREDICTION_COLUMNS.items() if t.startswith("DOUBLE"))
ROW_KEY = ("game_date", "system", "game_id", "player_id", "market")


def check_contract(model_features: Mapping[str, str], types: Mapping[str, str], label: str) -> None:
    """Refuse a model whose inputs are not the feature store's columns with the same types."""
    bad = sorted(c for c, kind in model_features.items() if types.get(c) != kind)
    if bad:
        found = {c: types.get(c, "<missing>") for c in bad}
        expected = {c: model_features[c] for c in bad}
        raise FeatureContractError(
            f"model {label}: feature contract broken on column(s) {bad}: "
            f"trained on {expected}, the feature store has {found}",
            bad,
        )


def skip_reasons(features: pd.DataFrame, config: ModelsConfig) -> pd.Series:
    """One reason per row (NULL: score it), the first that applies in this order: he is out,
    no line, stale features, incomplete features."""
    out = features["player_status"].astype(str).str.lower().eq("out").to_numpy()
    no_line = features["pick_line"].isna().to_numpy()
    stale = ~features["is_fresh"].fillna(False).astype(bool).to_numpy()
    missing_input = features[list(MODEL_INPUTS)].isna().any(axis=1).to_numpy()
    incomplete = (features["completeness"].to_numpy(dtype=float) < config.min_completeness) | (
        missing_input
    )
    reason = np.select([out, no_line, stale, incomplete], list(SKIP_REASONS), default="").astype(
        object
    )
    reason[reason == ""] = None
    return pd.Series(reason, index=features.index, dtype=object)


def picks(
    probability_over: np.ndarray, no_vig_over: np.ndarray, config: ModelsConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(recommendation, edge, confidence) from the model's and the market's over probabilities.

    The edge is the better side's: the model's probability of it minus the market's no-vig
    probability of it; that side is the pick when the edge is from `min_edge` to `max_edge`.
    Confidence is half the edge's share of `full_confidence_edge`, half how far the model's
    probability of that side is past a coin flip, both capped: 0 to 100."""
    over_edge = probability_over - no_vig_over
    side_over = over_edge >= 0
    edge = np.abs(over_edge)
    p_side = np.where(side_over, probability_over, 1.0 - probability_over)
    rec = np.where(side_over, "OVER", "UNDER").astype(object)
    rec[~((edge >= config.min_edge) & (edge <= config.max_edge))] = "PASS"
    edge_part = np.clip(edge / config.full_confidence_edge, 0.0, 1.0)
    prob_part = np.clip(2.0 * p_side - 1.0, 0.0, 1.0)
    confidence = np.round(100.0 * (0.5 * edge_part + 0.5 * prob_part), 1)
    return rec, edge, confidence


def score(
    features: pd.DataFrame,
    models: Mapping[str, object],
    *,
    run_id: str,
    config: ModelsConfig,
    predicted_at: datetime | None = None,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """Prediction rows (INTERFACES.md) of every feature row for each system in `models`
    (system -> TrainedModel). Pure: reads nothing, writes nothing."""
    predicted_at = predicted_at or datetime.now(UTC)
    reason = skip_reasons(features, config)
    ok = reason.isna().to_numpy()
    scored = features.loc[ok]
    line = features["pick_line"].to_numpy(dtype=float)
    nv = features["pick_no_vig_over_probability"].to_numpy(dtype=float)
    frames = []
    for name, trained in models.items():
        n = len(features)
        frame = pd.DataFrame(
            {
                "run_id": run_id,
                "system": name,
                "model_version": trained.version,
                "game_date": features["game_date"].to_numpy(),
                "game_id": features["game_id"].to_numpy(),
                "player_id": features["player_id"].to_numpy(dtype=np.int64),
                "market": features["market"].to_numpy(),
                "line": line,
                "line_source": np.where(np.isnan(line), None, "consensus").astype(object),
                "no_vig_over_probability": nv,
            }
        )
        for col in ("predicted_value", "predicted_median", "probability_over", "edge"):
            frame[col] = np.full(n, np.nan)
        frame["recommendation"] = "PASS"
        frame["confidence"] = 0.0
        frame["skip_reason"] = reason.to_numpy()
        for col in ("reason_1", "reason_2", "reason_3"):
            frame[col] = pd.Series([None] * n, dtype=object)
        if len(scored):
            forecast = trained.model.predict(scored)
            market = scored["market"].to_numpy()
            med, p_over = distribution(trained.model, forecast.mean, line[ok], market, nv[ok])
            rec, edge, conf = picks(p_over, nv[ok], config)
            if with_reasons:
                # against the line: what pushes the prediction towards the side the model's
                # probability favours over the market's (the pick's side, when it picks)
                forecast.reasons = trained.model.explain(scored, p_over - nv[ok])
            frame.loc[ok, "predicted_value"] = forecast.mean
            frame.loc[ok, "predicted_median"] = med
            frame.loc[ok, "probability_over"] = p_over
            frame.loc[ok, "edge"] = edge
            frame.loc[ok, "recommendation"] = rec
            frame.loc[ok, "confidence"] = conf
            if forecast.reasons is not None:
                for k in range(3):
                    frame.loc[ok, f"reason_{k + 1}"] = forecast.reasons[:, k]
        frame["features_as_of"] = features["features_as_of"].to_numpy()
        frame["feature_inputs_loaded_at"] = features["inputs_loaded_at"].to_numpy()
        frame["predicted_at"] = pd.Timestamp(predicted_at).tz_convert(None)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PREDICTION_COLUMNS)]


def _row_label(frame: pd.DataFrame, index: int) -> str:
    row = frame.loc[index]
    return (
        f"row {index} (game_date={row['game_date']}, system={row['system']}, "
        f"game_id={row['game_id']}, player_id={row['player_id']}, market={row['market']})"
    )


def _fail(frame: pd.DataFrame, mask: np.ndarray | pd.Series, field: str, rule: str) -> None:
    bad = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(bad):
        index = frame.index[bad[0]]
        value = frame.loc[index, field]
        raise PredictionValidationError(
            f"predictions: {_row_label(frame, index)}: field {field}={value!r} {rule} "
            f"({len(bad)} row(s) break it); nothing written"
        )


def validate(frame: pd.DataFrame) -> None:
    """Every rule a prediction row must keep, checked on the whole frame before anything is
    written; the first broken rule raises, naming the row and the field."""
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise PredictionValidationError(f"predictions: missing column(s) {missing}")
    for col, kind in PREDICTION_COLUMNS.items():
        if kind.endswith("NOT NULL"):
            _fail(frame, frame[col].isna(), col, "must not be NULL")
    _fail(frame, ~frame["system"].isin(SYSTEMS), "system", f"not in {list(SYSTEMS)}")
    _fail(frame, ~frame["recommendation"].isin(RECOMMENDATIONS), "recommendation",
          f"not in {list(RECOMMENDATIONS)}")  # fmt: skip
    reason = frame["skip_reason"]
    _fail(frame, reason.notna() & ~reason.isin(SKIP_REASONS), "skip_reason",
          f"not NULL nor in {list(SKIP_REASONS)}")  # fmt: skip
    for col in FLOAT_COLUMNS:
        values = frame[col].to_numpy(dtype=float)
        _fail(frame, np.isinf(values), col, "is infinite")
    skipped = reason.notna().to_numpy()
    predicted = ~skipped
    has_line = frame["line"].notna().to_numpy()
    for col in ("predicted_value", "predicted_median"):
        _fail(frame, predicted & frame[col].isna().to_numpy(), col, "is NaN on a predicted row")
    _fail(frame, predicted & has_line & frame["probability_over"].isna().to_numpy(),
          "probability_over", "is NaN on a predicted row with a line")  # fmt: skip
    _fail(frame, frame["no_vig_over_probability"].isna().to_numpy() & predicted,
          "no_vig_over_probability", "is NaN on a predicted row")  # fmt: skip
    _fail(frame, predicted & frame["edge"].isna().to_numpy(), "edge",
          "is NaN on a predicted row")  # fmt: skip
    _fail(frame, frame["predicted_value"].to_numpy(dtype=float) < 0, "predicted_value",
          "is negative")  # fmt: skip
    _fail(frame, frame["predicted_median"].to_numpy(dtype=float) < 0, "predicted_median",
          "is negative")  # fmt: skip
    for col in ("probability_over", "no_vig_over_probability"):
        values = frame[col].to_numpy(dtype=float)
        _fail(frame, (values < 0) | (values > 1), col, "outside 0..1")
    edge = frame["edge"].to_numpy(dtype=float)
    _fail(frame, (edge < -1) | (edge > 1), "edge", "outside -1..1")
    conf = frame["confidence"].to_numpy(dtype=float)
    _fail(frame, ~((conf >= 0) & (conf <= 100)), "confidence", "outside 0..100")
    _fail(frame, skipped & (frame["recommendation"] != "PASS").to_numpy(), "recommendation",
          "must be PASS on a skipped row")  # fmt: skip
    _fail(frame, skipped & (conf != 0), "confidence", "must be 0 on a skipped row")
    _fail(frame, skipped & frame["predicted_value"].notna().to_numpy(), "predicted_value",
          "must be NULL on a skipped row")  # fmt: skip
    _fail(frame, has_line != frame["line_source"].notna().to_numpy(), "line_source",
          "must be 'consensus' exactly when there is a line")  # fmt: skip
    _fail(frame, frame.duplicated(list(ROW_KEY)).to_numpy(), "player_id",
          "repeats a (game_date, system, game_id, player_id, market) key")  # fmt: skip


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """NaN becomes NULL on the way in (a float NaN is not a missing value to DuckDB)."""
    columns = {}
    for col in PREDICTION_COLUMNS:
        series = frame[col]
        if col in FLOAT_COLUMNS:
            columns[col] = pa.array(series.to_numpy(dtype=float), mask=series.isna().to_numpy())
        else:
            columns[col] = pa.array(series.astype(object).where(series.notna(), None).tolist())
    return pa.table(columns)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ",\n    ".join(f"{c} {t}" for c, t in PREDICTION_COLUMNS.items())
    con.execute(f"create schema if not exists {PREDICTIONS_SCHEMA}")
    con.execute(f"create table if not exists {PREDICTIONS_TABLE} (\n    {columns}\n)")


def write(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, game_date: date, systems: list[str]
) -> int:
    """Replace the (game_date, system) rows of each system in one transaction: a rerun never
    duplicates, a failure leaves the old rows. The key holds no NULL (the line is not in it)."""
    validate(frame)
    other = frame.loc[frame["game_date"] != game_date]
    if len(other):
        raise PredictionValidationError(
            f"predictions: {_row_label(frame, other.index[0])}: field game_date is not {game_date}"
        )
    ensure_table(con)
    con.register("predictions_batch", _arrow(frame))
    placeholders = ", ".join("?" for _ in systems)
    con.execute("begin transaction")
    try:
        con.execute(
            f"delete from {PREDICTIONS_TABLE} where game_date = ? and system in ({placeholders})",
            [game_date, *systems],
        )
        con.execute(
            f"insert into {PREDICTIONS_TABLE} ({', '.join(PREDICTION_COLUMNS)}) "
            f"select {', '.join(PREDICTION_COLUMNS)} from predictions_batch"
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("predictions_batch")
    return len(frame)
