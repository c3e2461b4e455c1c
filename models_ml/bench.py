"""Scoring throughput per system: the whole production path (skip rules, model, count
distribution, picks) on a season's rows repeated to a large batch, without reasons and with them."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pandas as pd

from models_ml import scoring
from models_ml.config import ModelsConfig
from models_ml.registry import TrainedModel


def measure(
    features: pd.DataFrame,
    models: dict[str, TrainedModel],
    *,
    config: ModelsConfig,
    rows: int = 200_000,
    with_reasons: bool = False,
) -> dict[str, Any]:
    """Predictions per second per system (predicted rows only: skipped rows cost nothing)."""
    scorable = features.loc[scoring.skip_reasons(features, config).isna()]
    if scorable.empty:
        raise ValueError("bench: no scorable feature rows")
    repeats = -(-rows // len(scorable))
    batch = pd.concat([scorable] * repeats, ignore_index=True).iloc[:rows]
    out = {}
    for name, model in models.items():
        started, cpu = time.perf_counter(), time.process_time()
        scoring.score(
            batch, {name: model}, run_id="bench", config=config, with_reasons=with_reasons
        )
        seconds = time.perf_counter() - started
        # CPU time too: on a shared machine the wall clock measures the neighbours
        cpu_seconds = time.process_time() - cpu
        out[name] = {
            "rows": len(batch),
            "seconds": seconds,
            "per_second": len(batch) / seconds,
            "cpu_seconds": cpu_seconds,
            "per_cpu_second": len(batch) / cpu_seconds,
        }
    return out


def scoring_date(features: pd.DataFrame) -> date:
    return max(features["game_date"])
