"""The three systems behind one interface: each predicts a mean, and a count distribution around
it gives the median and P(stat > line).

- baseline: a recency-weighted average of the stat (its 5-, 10- and 20-game means).
- catboost: one CatBoost regressor on the feature contract, market as a categorical (the four
  markets share what a player's minutes and role say; the market's own level comes from its stat).
- ensemble: per market, a blend of the two, weighted on days neither trained on.

Each system keeps its inputs and their warehouse types (the contract), its fitted dispersion per
market, and saves to and loads from one folder.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor, Pool

from models_ml import distributions, reasons
from models_ml.config import ModelsConfig

NUMERIC_INPUTS: tuple[str, ...] = (
    "stat_avg_5",
    "stat_avg_10",
    "stat_avg_20",
    "stat_std_10",
    "stat_season_avg",
    "minutes_played_avg_5",
    "minutes_played_avg_10",
    "minutes_played_std_10",
    "field_goals_attempted_avg_10",
    "threes_attempted_avg_10",
    "free_throws_attempted_avg_10",
    "usage_proxy_avg_10",
    "season_games_played",
    "rest_days",
    "is_back_to_back",
    "is_home",
    "team_pace_avg_10",
    "team_offensive_rating_avg_10",
    "opponent_pace_avg_10",
    "opponent_defensive_rating_avg_10",
    "opponent_allowed_avg_10",
    "teammates_out",
    "teammates_out_minutes_avg_10",
    "open_line",
    "pick_line",
    "line_move",
    "pick_no_vig_over_probability",
    "pick_n_books",
)
CATEGORICAL_INPUTS: tuple[str, ...] = ("market", "player_status")
# every system scores the same rows: a row missing any of these is skipped for all of them
MODEL_INPUTS: tuple[str, ...] = CATEGORICAL_INPUTS + NUMERIC_INPUTS
BASELINE_INPUTS: tuple[str, ...] = ("market", "stat_avg_5", "stat_avg_10", "stat_avg_20")


@dataclass
class Forecast:
    """What a system says about each row: the mean and the contributions behind it."""

    mean: np.ndarray
    reasons: np.ndarray | None = None  # (n, 3) plain words, or None when not asked


class System(Protocol):
    name: ClassVar[str]
    inputs: tuple[str, ...]
    dispersion: dict[str, tuple[float, float]]
    calibration: dict[str, tuple[float, float, float]]

    def predict(self, frame: pd.DataFrame, *, with_reasons: bool = False) -> Forecast: ...

    def explain(self, frame: pd.DataFrame, toward: np.ndarray) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


def _as_float(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([frame[c].to_numpy(dtype=float) for c in columns])


@dataclass
class Baseline:
    """The bar every model must clear: his recent averages, the latest weighted most."""

    name: ClassVar[str] = "baseline"
    weights: tuple[float, float, float]
    dispersion: dict[str, tuple[float, float]] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    inputs: tuple[str, ...] = BASELINE_INPUTS

    def mean(self, frame: pd.DataFrame) -> np.ndarray:
        averages = _as_float(frame, BASELINE_INPUTS[1:])
        return averages @ np.asarray(self.weights, dtype=float) / float(sum(self.weights))

    def explain(self, frame: pd.DataFrame, toward: np.ndarray) -> np.ndarray:
        """Its own reasons: each average's weighted gap to the line (they add up to the
        forecast's gap to it), those pushing furthest in the direction of `toward` first."""
        averages = _as_float(frame, BASELINE_INPUTS[1:])
        line = frame["pick_line"].to_numpy(dtype=float)
        share = np.asarray(self.weights, dtype=float) / float(sum(self.weights))
        contributions = (averages - line[:, None]) * share
        return reasons.render(frame, list(BASELINE_INPUTS[1:]), contributions, toward=toward)

    def predict(self, frame: pd.DataFrame, *, with_reasons: bool = False) -> Forecast:
        mean = self.mean(frame)
        out = None
        if with_reasons:
            out = self.explain(frame, mean - frame["pick_line"].to_numpy(dtype=float))
        return Forecast(mean, out)

    def save(self, folder: Path) -> None:
        state = {
            "weights": list(self.weights),
            "dispersion": self.dispersion,
            "calibration": self.calibration,
        }
        (folder / "baseline.json").write_text(json.dumps(state, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> Baseline:
        state = json.loads((folder / "baseline.json").read_text())
        return cls(
            tuple(state["weights"]),  # type: ignore[arg-type]
            _tuples(state["dispersion"]),
            _tuples(state["calibration"]),
        )


def _pool(frame: pd.DataFrame, label: np.ndarray | None = None) -> Pool:
    """CatBoost's input: numbers as float64 (booleans 0/1), categoricals as strings."""
    data = pd.DataFrame({c: frame[c].to_numpy(dtype=float) for c in NUMERIC_INPUTS})
    for name in CATEGORICAL_INPUTS:
        data[name] = frame[name].astype(str).to_numpy()
    return Pool(data, label=label, cat_features=list(CATEGORICAL_INPUTS))


POOL_FEATURES: tuple[str, ...] = NUMERIC_INPUTS + CATEGORICAL_INPUTS


@dataclass
class CatBoostSystem:
    """Gradient-boosted trees on every input; RMSE on the stat, so SHAP values are in its units."""

    name: ClassVar[str] = "catboost"
    model: CatBoostRegressor
    dispersion: dict[str, tuple[float, float]] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    inputs: tuple[str, ...] = MODEL_INPUTS

    @classmethod
    def fit(cls, frame: pd.DataFrame, config: ModelsConfig, seed: int) -> CatBoostSystem:
        model = CatBoostRegressor(
            loss_function="RMSE",
            iterations=config.catboost_iterations,
            depth=config.catboost_depth,
            learning_rate=config.catboost_learning_rate,
            random_seed=seed,
            thread_count=config.thread_count,
            allow_writing_files=False,
            verbose=False,
        )
        model.fit(_pool(frame, frame["actual_value"].to_numpy(dtype=float)))
        return cls(model)

    def mean(self, frame: pd.DataFrame) -> np.ndarray:
        return np.maximum(self.model.predict(_pool(frame), thread_count=-1), 0.0)

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """SHAP values of the slate in one batch, without the bias column."""
        shap = self.model.get_feature_importance(_pool(frame), type="ShapValues")
        return np.asarray(shap)[:, :-1]

    def explain(self, frame: pd.DataFrame, toward: np.ndarray) -> np.ndarray:
        """Each row's three reasons against its line: the contributions (the market's own inputs
        left out) that push the prediction furthest in the direction of `toward`."""
        if not len(frame):
            return np.full((0, 3), None, dtype=object)
        return reasons.against_line(frame, list(POOL_FEATURES), self.contributions(frame), toward)

    def predict(self, frame: pd.DataFrame, *, with_reasons: bool = False) -> Forecast:
        mean = self.mean(frame)
        out = None
        if with_reasons and len(frame):
            out = self.explain(frame, mean - frame["pick_line"].to_numpy(dtype=float))
        return Forecast(mean, out)

    def digest(self) -> str:
        """A hash of the trees and their values: .cbm files differ between identical fits (a
        random model guid and the training time), this does not."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.json"
            self.model.save_model(str(path), format="json")
            state = json.loads(path.read_text())
        state.pop("model_info", None)
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()

    def save(self, folder: Path) -> None:
        self.model.save_model(str(folder / "catboost.cbm"))
        state = {"dispersion": self.dispersion, "calibration": self.calibration}
        (folder / "catboost.json").write_text(json.dumps(state, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> CatBoostSystem:
        model = CatBoostRegressor()
        model.load_model(str(folder / "catboost.cbm"))
        state = json.loads((folder / "catboost.json").read_text())
        return cls(model, _tuples(state["dispersion"]), _tuples(state["calibration"]))


@dataclass
class Ensemble:
    """Per market, w * catboost + (1 - w) * baseline, w chosen on held-out days."""

    name: ClassVar[str] = "ensemble"
    catboost: CatBoostSystem
    baseline: Baseline
    weights: dict[str, float]
    dispersion: dict[str, tuple[float, float]] = field(default_factory=dict)
    calibration: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    inputs: tuple[str, ...] = MODEL_INPUTS

    @staticmethod
    def blend(
        cat_mean: np.ndarray, base_mean: np.ndarray, market: np.ndarray, weights: dict[str, float]
    ) -> np.ndarray:
        w = pd.Series(market).map(weights).to_numpy(dtype=float)
        return w * cat_mean + (1.0 - w) * base_mean

    def predict(self, frame: pd.DataFrame, *, with_reasons: bool = False) -> Forecast:
        cat = self.catboost.mean(frame)
        base = self.baseline.mean(frame)
        mean = self.blend(cat, base, frame["market"].to_numpy(), self.weights)
        out = None
        if with_reasons and len(frame):
            out = self.explain(frame, mean - frame["pick_line"].to_numpy(dtype=float))
        return Forecast(mean, out)

    def explain(self, frame: pd.DataFrame, toward: np.ndarray) -> np.ndarray:
        """CatBoost's reasons, ranked in the direction of the blend's `toward`."""
        return self.catboost.explain(frame, toward)

    def save(self, folder: Path) -> None:
        self.catboost.save(folder)
        self.baseline.save(folder)
        state = {
            "weights": self.weights,
            "dispersion": self.dispersion,
            "calibration": self.calibration,
        }
        (folder / "ensemble.json").write_text(json.dumps(state, indent=2, sort_keys=True))

    @classmethod
    def load(cls, folder: Path) -> Ensemble:
        state = json.loads((folder / "ensemble.json").read_text())
        return cls(
            CatBoostSystem.load(folder),
            Baseline.load(folder),
            state["weights"],
            _tuples(state["dispersion"]),
            _tuples(state["calibration"]),
        )


LOADERS = {"baseline": Baseline.load, "catboost": CatBoostSystem.load, "ensemble": Ensemble.load}


def distribution(
    system: System,
    mean: np.ndarray,
    line: np.ndarray,
    market: np.ndarray,
    market_p_over: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(median, P(stat > line)) from the system's fitted count distribution, the probability
    recalibrated as fitted on held-out days."""
    med = distributions.median(mean, market, system.dispersion)
    raw = distributions.probability_over(mean, line, market, system.dispersion)
    return med, distributions.calibrate(raw, market_p_over, market, system.calibration)


def _tuples(state: dict[str, list[float]]) -> dict[str, tuple[float, ...]]:
    return {k: tuple(v) for k, v in state.items()}
