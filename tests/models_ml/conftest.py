"""models_ml's tests run on the dbt tests' warehouse: four backfilled weeks, one real dbt build
(which includes the label model, fct_player_prop_outcomes). Small models (few iterations) keep
the whole file in seconds; each test that writes works on its own copy of the file.

The fixtures come from tests/dbt_project/conftest.py, which keeps one result per session for every
folder that imports them: the suite still backfills and builds once.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from models_ml import api
from models_ml.config import ModelsConfig
from models_ml.registry import TrainedModel
from tests.dbt_project.conftest import DbtBuild, copy_built, dbt_build, raw_weeks  # noqa: F401

THROUGH = date(2025, 11, 10)  # the scored day: three weeks of training before it
SMALL = replace(ModelsConfig(), catboost_iterations=30, catboost_depth=4)


@pytest.fixture(scope="session")
def built(dbt_build: DbtBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """A pristine copy of the built warehouse that tests copy again before writing."""
    assert dbt_build.statuses["model.nba_props.fct_player_prop_outcomes"] == "success"
    target = tmp_path_factory.mktemp("models_ml") / "pristine.duckdb"
    copy_built(dbt_build.warehouse, target)
    # the build is shared: start from no predictions whatever another folder's tests wrote
    with duckdb.connect(str(target)) as con:
        con.execute("drop schema if exists raw_models_ml cascade")
    return target


@pytest.fixture
def warehouse(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "nba_props.duckdb"
    shutil.copyfile(built, target)
    return target


@pytest.fixture(scope="session")
def trained(built: Path, tmp_path_factory: pytest.TempPathFactory) -> list[TrainedModel]:
    registry = tmp_path_factory.mktemp("registry")
    return api.train(built, THROUGH, registry=registry, config=SMALL)
