"""Every knob of models_ml in one place: the systems, pick rules, training and the backtest.

Environment variables override the defaults so that the daily job and the tests can shrink the
models without code (NBA_PROPS_MODELS_<FIELD>, e.g. NBA_PROPS_MODELS_CATBOOST_ITERATIONS=50).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

SYSTEMS: tuple[str, ...] = ("baseline", "catboost", "ensemble")
MARKETS: tuple[str, ...] = ("points", "rebounds", "assists", "threes")
SKIP_REASONS: tuple[str, ...] = ("player_out", "no_line", "stale_features", "incomplete_features")
RECOMMENDATIONS: tuple[str, ...] = ("OVER", "UNDER", "PASS")
FEATURES_TABLE = "features.fct_player_prop_features"
OUTCOMES_TABLE = "features.fct_player_prop_outcomes"
PREDICTIONS_SCHEMA = "raw_models_ml"
PREDICTIONS_TABLE = f"{PREDICTIONS_SCHEMA}.predictions"


@dataclass(frozen=True)
class ModelsConfig:
    """Defaults chosen on the sandbox season; each field can be overridden from the environment."""

    # pick rules: a side is recommended when the model's probability beats the market's no-vig
    # probability of it by at least this much; confidence reaches 100 at full_confidence_edge
    min_edge: float = 0.04
    full_confidence_edge: float = 0.15
    # and at most this much: a larger edge is a PASS. Off (1.0, no edge is larger): in the
    # backtest, the picks of the largest edges had the largest CLV and no worse ROI, so capping
    # them lost CLV and gained no ROI (models_ml/README.md)
    max_edge: float = 1.0
    # a row is scored only when this share of its core inputs is present (the feature store's
    # `completeness`) and every input the model reads is present too
    min_completeness: float = 1.0
    # training
    catboost_iterations: int = 400
    catboost_depth: int = 6
    catboost_learning_rate: float = 0.06
    # fixed, so that the same data and seed give the same model on any machine
    thread_count: int = 2
    # the last share of the training days is held out to fit the count distribution's dispersion
    # and the ensemble's weights on predictions the model did not train on
    holdout_share: float = 0.2
    # the baseline's recency weights on the 5-, 10- and 20-game averages
    baseline_weights: tuple[float, float, float] = (0.5, 0.3, 0.2)
    # backtest
    retrain_every_days: int = 7
    min_training_days: int = 21
    # the books' typical overround, used for ROI only where no pick-time price is stored
    typical_overround: float = 0.045

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ModelsConfig:
        env = os.environ if environ is None else environ
        config = cls()
        changes = {}
        for f in fields(cls):
            raw = env.get(f"NBA_PROPS_MODELS_{f.name.upper()}")
            if raw is None:
                continue
            current = getattr(config, f.name)
            if isinstance(current, tuple):
                changes[f.name] = tuple(float(x) for x in raw.split(","))
            else:
                changes[f.name] = type(current)(raw)
        return replace(config, **changes)


def default_registry(warehouse: Path) -> Path:
    """Models live beside the warehouse they were trained on (git-ignored with it)."""
    return Path(warehouse).resolve().parent / "models"


def default_backtest_dir(warehouse: Path) -> Path:
    return Path(warehouse).resolve().parent / "backtest"
