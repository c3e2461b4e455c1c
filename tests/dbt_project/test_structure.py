"""The project's rules, read off the manifest; each rule is also shown to catch a violation."""

from __future__ import annotations

import copy

import pytest

from tests.dbt_project import rules
from tests.dbt_project.conftest import DbtBuild


@pytest.mark.parametrize("rule", rules.ALL_RULES, ids=lambda r: r.__name__)
def test_project_obeys(rule, dbt_build: DbtBuild) -> None:
    assert rule(dbt_build.manifest) == []


def _a_model(manifest: dict) -> dict:
    return next(
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "nba_props"
    )


def test_a_mart_reading_a_source_is_caught(dbt_build: DbtBuild) -> None:
    manifest = copy.deepcopy(dbt_build.manifest)
    _a_model(manifest)["depends_on"]["nodes"].append("source.nba_props.raw_espn.scoreboard")
    assert rules.only_staging_reads_sources(manifest)


def test_an_undescribed_model_is_caught(dbt_build: DbtBuild) -> None:
    manifest = copy.deepcopy(dbt_build.manifest)
    _a_model(manifest)["description"] = "  "
    assert rules.everything_is_described(manifest)


def test_a_model_without_a_grain_test_is_caught(dbt_build: DbtBuild) -> None:
    manifest = copy.deepcopy(dbt_build.manifest)
    model = _a_model(manifest)
    manifest["nodes"] = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node.get("attached_node") != model["unique_id"]
    }
    assert rules.every_model_tests_its_grain(manifest) == [
        f"{model['unique_id']} has no grain test (unique or unique_combination_of_columns)"
    ]


def test_a_source_without_freshness_is_caught(dbt_build: DbtBuild) -> None:
    manifest = copy.deepcopy(dbt_build.manifest)
    manifest["sources"]["source.nba_props.raw_espn.scoreboard"] = {
        "unique_id": "source.nba_props.raw_espn.scoreboard",
        "package_name": "nba_props",
        "description": "ESPN scoreboard",
        "freshness": {"warn_after": {"count": None}, "error_after": {"count": None}},
        "loaded_at_field": None,
    }
    assert rules.every_source_has_freshness(manifest)


def test_an_exposed_model_without_contract_is_caught(dbt_build: DbtBuild) -> None:
    manifest = copy.deepcopy(dbt_build.manifest)
    model = _a_model(manifest)
    model["config"]["contract"] = {"enforced": False}
    manifest["exposures"] = {
        "exposure.nba_props.scoring": {
            "unique_id": "exposure.nba_props.scoring",
            "depends_on": {"nodes": [model["unique_id"]]},
        }
    }
    assert rules.models_read_outside_dbt_have_contracts(manifest)
