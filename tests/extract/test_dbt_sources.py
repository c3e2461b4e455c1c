"""The contract is declared once, in extract/ (`TableDef.declared`), and dbt's source declarations
list exactly those columns with the same types: what the warehouse reads is what blocks a run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from extract.config import REPO_ROOT
from extract.sources import REGISTRY

STAGING = REPO_ROOT / "dbt_project" / "staging"


def dbt_source(name: str, root: Path = STAGING) -> dict:
    [source] = yaml.safe_load((root / name / f"_{name}__sources.yml").read_text())["sources"]
    return source


def mismatches(name: str, source: dict) -> list[str]:
    """Every difference between extract's contract for `name` and a dbt source declaration."""
    spec = REGISTRY[name]
    problems = []
    if source["schema"] != spec.dataset:
        problems.append(
            f"{name}: dbt reads schema {source['schema']}, extract loads {spec.dataset}"
        )
    tables = {t["name"]: t for t in source["tables"]}
    for table in spec.tables:
        columns = tables.pop(table.name, {}).get("columns", [])
        declared = {c["name"]: c.get("data_type") for c in columns}
        for column, data_type in table.declared.items():
            if column not in declared:
                problems.append(f"{name}.{table.name}.{column}: contracted, not declared in dbt")
            elif declared[column] != data_type:
                where = f"{name}.{table.name}.{column}"
                problems.append(f"{where}: dbt says {declared[column]}, extract {data_type}")
        for column in sorted(set(declared) - set(table.declared)):
            problems.append(
                f"{name}.{table.name}.{column}: dbt reads it, extract does not contract it"
            )
        problems += [
            f"{name}.{table.name}.{key}: a key column outside the contract"
            for key in table.primary_key
            if key not in table.declared
        ]
    problems += [f"{name}.{extra}: dbt declares a table extract does not load" for extra in tables]
    return problems


@pytest.mark.parametrize("name", list(REGISTRY))
def test_dbt_sources_declare_exactly_the_contracted_columns(name: str) -> None:
    assert mismatches(name, dbt_source(name)) == []


def test_the_comparison_catches_each_kind_of_difference() -> None:
    source = dbt_source("espn")
    [events] = [t for t in source["tables"] if t["name"] == "events"]
    events["columns"] = [c for c in events["columns"] if c["name"] != "short_name"]
    events["columns"].append({"name": "attendance", "data_type": "bigint"})
    [box] = [t for t in source["tables"] if t["name"] == "player_box_scores"]
    next(c for c in box["columns"] if c["name"] == "starter")["data_type"] = "text"
    source["tables"].append({"name": "injuries", "columns": []})
    assert mismatches("espn", source) == [
        "espn.events.short_name: contracted, not declared in dbt",
        "espn.events.attendance: dbt reads it, extract does not contract it",
        "espn.player_box_scores.starter: dbt says text, extract bool",
        "espn.injuries: dbt declares a table extract does not load",
    ]
