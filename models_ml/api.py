"""The Python API the pipeline calls: train and predict, each opening the warehouse itself and
closing it before returning (one writer at a time on the DuckDB file)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from models_ml import registry as registry_mod
from models_ml import scoring, store
from models_ml.config import SKIP_REASONS, SYSTEMS, ModelsConfig, default_registry
from models_ml.errors import ModelsError
from models_ml.registry import TrainedModel
from models_ml.train import fit_systems

ALL = SYSTEMS


@dataclass
class PredictSummary:
    """What a scoring run wrote: counts for the run log and the coverage check. The slate's
    counts (predictions_made, lines_offered, skips) are per system, the same for each since the
    skip rules are shared; per_system breaks them down with each model's version and picks."""

    rows_written: int
    predictions_made: int
    lines_offered: int
    skips: dict[str, int]
    per_system: dict[str, dict[str, Any]] = field(default_factory=dict)
    scoring_seconds: float = 0.0


def train(
    warehouse: Path,
    through: date,
    systems: Sequence[str] = ALL,
    registry: Path | None = None,
    seed: int = 0,
    *,
    config: ModelsConfig | None = None,
) -> list[TrainedModel]:
    """Fit `systems` on games with game_date < through and save them in the registry."""
    config = config or ModelsConfig.from_env()
    registry = Path(registry) if registry is not None else default_registry(warehouse)
    con = store.connect(warehouse, read_only=True)
    try:
        types = store.column_types(con)
        rows = store.read_training_rows(con, before=through)
    finally:
        con.close()
    trained = fit_systems(
        rows, through=through, types=types, systems=list(systems), config=config, seed=seed
    )
    for model in trained:
        registry_mod.save(model, registry)
    return trained


def predict(
    warehouse: Path,
    game_date: date,
    run_id: str,
    systems: Sequence[str] = ALL,
    registry: Path | None = None,
    *,
    config: ModelsConfig | None = None,
) -> PredictSummary:
    """Score `game_date` with the newest model of each system trained through it or earlier, and
    replace that date's rows of those systems in raw_models_ml.predictions."""
    config = config or ModelsConfig.from_env()
    registry = Path(registry) if registry is not None else default_registry(warehouse)
    systems = list(systems)
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        raise ModelsError(f"predict: unknown system(s) {unknown}; known: {list(SYSTEMS)}")
    models = {name: registry_mod.latest(registry, name, game_date) for name in systems}
    con = store.connect(warehouse, read_only=False)
    try:
        types = store.column_types(con)
        for _name, model in models.items():
            scoring.check_contract(model.features, types, model.version)
        features = store.read_features(con, on=game_date)
        started = time.perf_counter()
        frame = scoring.score(features, models, run_id=run_id, config=config)
        seconds = time.perf_counter() - started
        written = scoring.write(con, frame, game_date, systems)
    finally:
        con.close()
    return summarise(frame, written, seconds, models)


def summarise(
    frame: Any, written: int, seconds: float, models: dict[str, TrainedModel]
) -> PredictSummary:
    per_system: dict[str, dict[str, Any]] = {}
    for name, rows in frame.groupby("system", sort=True):
        made = rows["skip_reason"].isna()
        per_system[name] = {
            "model_version": models[name].version,
            "rows": len(rows),
            "predictions_made": int(made.sum()),
            "lines_offered": int(rows["line"].notna().sum()),
            "picks": int((rows["recommendation"] != "PASS").sum()),
            "skips": {r: int((rows["skip_reason"] == r).sum()) for r in SKIP_REASONS},
        }
    # the skip rules are the same for every system: the slate's counts are any system's
    first = next(iter(per_system.values()), None)
    return PredictSummary(
        rows_written=written,
        predictions_made=first["predictions_made"] if first else 0,
        lines_offered=first["lines_offered"] if first else 0,
        skips=dict(first["skips"]) if first else dict.fromkeys(SKIP_REASONS, 0),
        per_system=per_system,
        scoring_seconds=round(seconds, 3),
    )
