"""The project's structural rules, checked against dbt's manifest.json.

dbt-project-evaluator cannot be installed here, so these stand in for it. Each rule returns a list
of human-readable violations (empty = the rule holds); tests assert on the lists, and also feed the
rules doctored manifests to prove that each one can fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Manifest = dict[str, Any]

GRAIN_TESTS = {"unique", "unique_combination_of_columns"}


def _nodes(manifest: Manifest, resource_type: str) -> Iterable[dict[str, Any]]:
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == resource_type and node.get("package_name") == _project(
            manifest
        ):
            yield node


def _project(manifest: Manifest) -> str:
    return manifest.get("metadata", {}).get("project_name", "nba_props")


def _sources(manifest: Manifest) -> Iterable[dict[str, Any]]:
    for source in manifest.get("sources", {}).values():
        if source.get("package_name") == _project(manifest):
            yield source


def only_staging_reads_sources(manifest: Manifest) -> list[str]:
    """Only models under staging/ may call source(); everything else builds on refs."""
    bad = []
    for model in _nodes(manifest, "model"):
        reads = [n for n in model.get("depends_on", {}).get("nodes", []) if n.startswith("source.")]
        if reads and not model.get("original_file_path", "").startswith("dbt_project/staging/"):
            bad.append(f"{model['unique_id']} reads {', '.join(reads)} but is not a staging model")
    return bad


def everything_is_described(manifest: Manifest) -> list[str]:
    """Every model and every source table carries a description."""
    bad = [
        f"{model['unique_id']} has no description"
        for model in _nodes(manifest, "model")
        if not (model.get("description") or "").strip()
    ]
    bad += [
        f"{source['unique_id']} has no description"
        for source in _sources(manifest)
        if not (source.get("description") or "").strip()
    ]
    return bad


def every_model_tests_its_grain(manifest: Manifest) -> list[str]:
    """Each model has a uniqueness test on its key (one column, or a combination)."""
    tested = set()
    for test in _nodes(manifest, "test"):
        name = (test.get("test_metadata") or {}).get("name")
        if name in GRAIN_TESTS and test.get("attached_node"):
            tested.add(test["attached_node"])
    return [
        f"{model['unique_id']} has no grain test (unique or unique_combination_of_columns)"
        for model in _nodes(manifest, "model")
        if model["unique_id"] not in tested
    ]


def every_source_has_freshness(manifest: Manifest) -> list[str]:
    """Each source table declares how stale it may get, and how its load time is read."""
    bad = []
    for source in _sources(manifest):
        freshness = source.get("freshness") or {}
        has_bound = any(
            (freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")
        )
        has_clock = source.get("loaded_at_field") or source.get("loaded_at_query")
        # an optional table (a paid endpoint a free plan never loads) says why it has none
        exempt = (source.get("meta") or {}).get("no_freshness_because")
        if not (has_bound and has_clock) and not exempt:
            bad.append(f"{source['unique_id']} has no freshness rule (bound and loaded_at)")
    return bad


def models_read_outside_dbt_have_contracts(manifest: Manifest) -> list[str]:
    """A model that code outside dbt reads (declared as an exposure) has an enforced contract."""
    bad = []
    nodes = manifest.get("nodes", {})
    for exposure in manifest.get("exposures", {}).values():
        for node_id in exposure.get("depends_on", {}).get("nodes", []):
            node = nodes.get(node_id)
            if node is None or node.get("resource_type") != "model":
                continue
            enforced = ((node.get("config") or {}).get("contract") or {}).get("enforced")
            if not enforced:
                bad.append(
                    f"{node_id} is read by {exposure['unique_id']} but has no enforced contract"
                )
    return bad


ALL_RULES = (
    only_staging_reads_sources,
    everything_is_described,
    every_model_tests_its_grain,
    every_source_has_freshness,
    models_read_outside_dbt_have_contracts,
)
