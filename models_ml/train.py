"""Training: the systems are fitted on games before a date only, from the feature store alone.

The training rows are the rows scoring would predict (a line, not ruled out, fresh, complete
inputs) of games he played, so the models learn the population they are asked about. The last
share of the training days is held out first: the count distributions' dispersion and the
ensemble's weights are fitted on predictions the model did not train on; then CatBoost is refitted
on every training day.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import catboost
import numpy as np
import pandas as pd

from models_ml import distributions
from models_ml.config import SYSTEMS, ModelsConfig
from models_ml.errors import ModelsError
from models_ml.registry import TrainedModel
from models_ml.scoring import skip_reasons
from models_ml.store import KEYS
from models_ml.systems import MODEL_INPUTS, Baseline, CatBoostSystem, Ensemble

ENSEMBLE_GRID = np.round(np.linspace(0.0, 1.0, 21), 2)


def eligible_rows(rows: pd.DataFrame, config: ModelsConfig) -> pd.DataFrame:
    """Rows scoring would predict, of games he played: the training population."""
    predicted = skip_reasons(rows, config).isna()
    played = rows["did_play"].fillna(False).astype(bool) & rows["actual_value"].notna()
    return rows.loc[predicted & played].reset_index(drop=True)


def fingerprint(rows: pd.DataFrame, seed: int, config: ModelsConfig) -> str:
    """A digest of exactly what a model learns from: its rows, labels, seed and settings."""
    columns = [*KEYS, *MODEL_INPUTS, "actual_value"]
    frame = rows[columns].copy()
    frame["game_date"] = frame["game_date"].astype(str)
    digest = hashlib.sha256(f"{seed}/{sorted(asdict(config).items())}".encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _holdout_split(rows: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    days = np.sort(rows["game_date"].unique())
    n_hold = max(1, math.ceil(len(days) * share))
    if len(days) - n_hold < 1:
        raise ModelsError(
            f"training: {len(days)} day(s) of eligible rows; at least 2 are needed to hold "
            "some out for the count distribution"
        )
    cut = days[-n_hold]
    return rows[rows["game_date"] < cut], rows[rows["game_date"] >= cut]


def _mae_by_market(mean: np.ndarray, rows: pd.DataFrame) -> dict[str, float]:
    err = np.abs(rows["actual_value"].to_numpy(dtype=float) - mean)
    return {str(m): float(e.mean()) for m, e in pd.Series(err).groupby(rows["market"].to_numpy())}


def _best_weights(
    cat: np.ndarray, base: np.ndarray, actual: np.ndarray, market: np.ndarray
) -> dict[str, float]:
    weights = {}
    for name in np.unique(market):
        mask = market == name
        blends = ENSEMBLE_GRID[:, None] * cat[mask] + (1 - ENSEMBLE_GRID[:, None]) * base[mask]
        mse = ((blends - actual[mask]) ** 2).mean(axis=1)
        weights[str(name)] = float(ENSEMBLE_GRID[int(np.argmin(mse))])
    return weights


def _fit_probability(system: Any, mean: np.ndarray, holdout: pd.DataFrame) -> None:
    """Dispersion from the held-out residuals, then the calibration of P(over) on the same days
    (pushes left out: neither side won)."""
    actual = holdout["actual_value"].to_numpy(dtype=float)
    market = holdout["market"].to_numpy()
    line = holdout["pick_line"].to_numpy(dtype=float)
    system.dispersion = distributions.fit_dispersion(mean, actual, market)
    raw = distributions.probability_over(mean, line, market, system.dispersion)
    decided = actual != line
    system.calibration = distributions.fit_calibration(
        raw[decided],
        holdout["pick_no_vig_over_probability"].to_numpy(dtype=float)[decided],
        actual[decided] > line[decided],
        market[decided],
    )


def fit_systems(
    rows: pd.DataFrame,
    *,
    through: date,
    types: dict[str, str],
    systems: Sequence[str] = SYSTEMS,
    config: ModelsConfig,
    seed: int = 0,
) -> list[TrainedModel]:
    """Fit the systems on rows of games before `through` (later rows are dropped here, whatever
    the caller passed): the guarantee that a model never saw its scoring date."""
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        raise ModelsError(f"training: unknown system(s) {unknown}; known: {list(SYSTEMS)}")
    rows = eligible_rows(rows[rows["game_date"] < through], config)
    if rows.empty:
        raise ModelsError(f"training: no eligible labelled rows before {through}")
    data_print = fingerprint(rows, seed, config)
    early, holdout = _holdout_split(rows, config.holdout_share)
    actual = holdout["actual_value"].to_numpy(dtype=float)
    market = holdout["market"].to_numpy()

    baseline = Baseline(config.baseline_weights)
    base_hold = baseline.mean(holdout)
    _fit_probability(baseline, base_hold, holdout)

    fitted: dict[str, Any] = {"baseline": baseline}
    metrics: dict[str, dict[str, Any]] = {
        "baseline": {"holdout_mae": _mae_by_market(base_hold, holdout)}
    }
    if {"catboost", "ensemble"} & set(systems):
        early_model = CatBoostSystem.fit(early, config, seed)
        cat_hold = early_model.mean(holdout)
        catboost_system = CatBoostSystem.fit(rows, config, seed)
        _fit_probability(catboost_system, cat_hold, holdout)
        fitted["catboost"] = catboost_system
        metrics["catboost"] = {"holdout_mae": _mae_by_market(cat_hold, holdout)}
        weights = _best_weights(cat_hold, base_hold, actual, market)
        blend_hold = Ensemble.blend(cat_hold, base_hold, market, weights)
        fitted["ensemble"] = Ensemble(catboost_system, baseline, weights)
        _fit_probability(fitted["ensemble"], blend_hold, holdout)
        metrics["ensemble"] = {
            "holdout_mae": _mae_by_market(blend_hold, holdout),
            "weights": weights,
        }

    trained_at = datetime.now(UTC).isoformat()
    out = []
    for name in systems:
        model = fitted[name]
        version = f"{name}-{through:%Y%m%d}-{data_print[:8]}"
        missing = [c for c in model.inputs if c not in types]
        if missing:
            raise ModelsError(f"training: feature store lacks input column(s) {missing}")
        metadata = {
            "system": name,
            "version": version,
            "through": through.isoformat(),
            "training_window": {
                "first_game_date": str(rows["game_date"].min()),
                "last_game_date": str(rows["game_date"].max()),
                "holdout_from": str(holdout["game_date"].min()),
                "rows": len(rows),
                "holdout_rows": len(holdout),
            },
            "features": {c: types[c] for c in model.inputs},
            "metrics": metrics[name],
            "dispersion": model.dispersion,
            "calibration": model.calibration,
            "data_fingerprint": data_print,
            "seed": seed,
            "config": asdict(config),
            "catboost_version": catboost.__version__,
            "model_digest": model.catboost.digest()
            if name == "ensemble"
            else model.digest()
            if name == "catboost"
            else None,
            "trained_at": trained_at,
        }
        out.append(TrainedModel(name, version, model, metadata))
    return out
