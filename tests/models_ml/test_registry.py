"""The registry's metadata-only look-up: which model `latest` would load, without loading one."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from models_ml import registry
from models_ml.errors import NoModelError


def _metadata(registry_dir: Path, version: str, through: str, trained_at: str) -> Path:
    folder = registry_dir / "catboost" / version
    folder.mkdir(parents=True)
    meta = {"system": "catboost", "version": version, "through": through, "trained_at": trained_at}
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


def test_latest_folder_is_the_newest_model_trained_through_the_date(tmp_path: Path) -> None:
    _metadata(tmp_path, "v1", "2025-11-01", "2025-11-01T10:00:00")
    newer = _metadata(tmp_path, "v2", "2025-11-03", "2025-11-03T10:00:00")
    retrained = _metadata(tmp_path, "v3", "2025-11-03", "2025-11-03T12:00:00")
    _metadata(tmp_path, "v4", "2025-11-09", "2025-11-09T10:00:00")  # too late for the 5th
    assert registry.latest_folder(tmp_path, "catboost", date(2025, 11, 5)) == retrained
    assert registry.latest_folder(tmp_path, "catboost", date(2025, 11, 3)) == retrained
    (retrained / "metadata.json").unlink()  # a half-saved folder is never picked
    assert registry.latest_folder(tmp_path, "catboost", date(2025, 11, 5)) == newer
    with pytest.raises(NoModelError, match="no catboost model trained through 2025-10-31"):
        registry.latest_folder(tmp_path, "catboost", date(2025, 10, 31))
    with pytest.raises(NoModelError, match="no baseline model"):
        registry.latest_folder(tmp_path, "baseline", date(2025, 11, 5))


def test_the_registry_loads_no_model_code_until_a_model_is_loaded() -> None:
    """Asking whether a model exists costs no catboost or scipy import (a second or more)."""
    code = "import sys, models_ml.registry; print('models_ml.systems' in sys.modules)"
    said = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert said == "False"
