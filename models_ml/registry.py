"""The model registry: one folder per (system, version) holding the artefact and its metadata.

<registry>/<system>/<version>/metadata.json says what the model is (system, version, inputs and
their warehouse types, training window, metrics, data fingerprint, seed); the other files are the
artefact. Scoring a date takes the newest model trained through that date or earlier.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models_ml.errors import NoModelError

if TYPE_CHECKING:
    from models_ml.systems import System

# models_ml.systems (catboost, scipy) loads in a second or more: `load` imports it, so that asking
# whether a model exists (`latest_folder`) reads metadata only


@dataclass
class TrainedModel:
    """A fitted system and what is known about it; `path` is None until it is saved."""

    system: str
    version: str
    model: System
    metadata: dict[str, Any]
    path: Path | None = None

    @property
    def features(self) -> dict[str, str]:
        return self.metadata["features"]


def save(trained: TrainedModel, registry: Path) -> Path:
    """Write atomically: a half-written folder is never picked by scoring."""
    target = Path(registry) / trained.system / trained.version
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{trained.version}."))
    try:
        trained.model.save(staging)
        (staging / "metadata.json").write_text(
            json.dumps(trained.metadata, indent=2, sort_keys=True, default=str)
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    trained.path = target
    return target


def load(folder: Path) -> TrainedModel:
    from models_ml.systems import LOADERS

    metadata = json.loads((folder / "metadata.json").read_text())
    model = LOADERS[metadata["system"]](folder)
    return TrainedModel(metadata["system"], metadata["version"], model, metadata, folder)


def latest(registry: Path, system: str, scoring_date: date) -> TrainedModel:
    """The newest model of `system` trained only on games before `scoring_date`."""
    return load(latest_folder(registry, system, scoring_date))


def latest_folder(registry: Path, system: str, scoring_date: date) -> Path:
    """The folder of the model `latest` loads, found from the metadata alone (no model is
    loaded); NoModelError when there is none."""
    folder = Path(registry) / system
    candidates = []
    for meta_path in sorted(folder.glob("*/metadata.json")):
        meta = json.loads(meta_path.read_text())
        through = date.fromisoformat(meta["through"])
        if through <= scoring_date:
            candidates.append((through, meta["trained_at"], meta_path.parent))
    if not candidates:
        raise NoModelError(
            f"registry {registry}: no {system} model trained through {scoring_date} or earlier "
            f"(run `python -m models_ml train --through {scoring_date}`)"
        )
    return max(candidates)[2]
