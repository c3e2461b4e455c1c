"""Schema drift: it fails loudly, nothing loads, and after a reviewed accept the next run loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dlt
import pytest

from extract.config import ExtractConfig, OddsSettings
from extract.contracts import FrozenSchema, proposal_path, schema_path
from extract.errors import ExtractError, QuarantineError, SchemaDriftError, SourcesFailedError
from extract.runner import run_extract
from extract.schema_tools import accept_schema, export_schemas
from tests.extract.conftest import TODAY, fingerprint, make_config, query, run, warehouse_state


def test_a_new_field_loads_into_extra_then_becomes_a_column_once_accepted(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox)
    sandbox.faults.inject("new_field", "bdl.stats", times=None)
    first = run(config, sources=("balldontlie",))
    [change] = first.dates[0].changes
    assert change.describe().startswith(
        "source balldontlie, table stats: new column `sandbox_new_field` (text)"
    )
    rows = query(
        config.duckdb_path,
        "select count(*), count(_extra->>'sandbox_new_field') from raw_balldontlie.stats",
    )
    assert rows[0][0] == rows[0][1] > 0  # every row kept the new field's value in `_extra`
    change = accept_schema(config, "balldontlie")
    assert '+        "sandbox_new_field": {' in change.diff
    assert not proposal_path(config.dlt_dir, "balldontlie").exists()
    accepted = FrozenSchema.load(schema_path(config.schemas_dir, "balldontlie"), "balldontlie")
    assert accepted.tables["stats"]["sandbox_new_field"].required is False
    # the following run, with the new field still arriving, loads normally and keeps it
    report = run(config, sources=("balldontlie",))
    assert report.status == "ok"
    values = query(
        config.duckdb_path, "select distinct sandbox_new_field from raw_balldontlie.stats"
    )
    assert values == [("surprise",)]


def test_changed_type_fails_then_loads_after_accepting(
    tmp_path: Path, sandbox: Any, loaded_three_times: Any
) -> None:
    _, _, baseline = loaded_three_times
    config = make_config(tmp_path, sandbox)
    sandbox.faults.inject("changed_type", "odds.event_odds", times=None)
    with pytest.raises(SchemaDriftError) as failure:
        run(config, sources=("odds_api",))
    assert (
        "source odds_api, table player_props: column `outcome__price` changed type: "
        "frozen double, received text" in str(failure.value)
    )
    assert "raw_odds_api.player_props" not in fingerprint(config.duckdb_path)
    # `outcome__price` is contracted (dbt reads it): it blocked the source; the proposal
    # accepts text for it
    accept_schema(config, "odds_api")
    run(config, sources=("odds_api",))  # prices still arrive as text, now accepted
    loaded = fingerprint(config.duckdb_path)
    # text prices were coerced to the warehouse's double: the same rows as a clean day
    assert loaded["raw_odds_api.player_props"] == baseline[0]["raw_odds_api.player_props"]


def test_accepting_without_a_proposal_or_for_an_unknown_source_fails(tmp_path: Path) -> None:
    config = ExtractConfig(dlt_dir=tmp_path / "dlt", schemas_dir=tmp_path / "schemas")
    with pytest.raises(ExtractError, match="no schema proposal"):
        accept_schema(config, "espn")
    with pytest.raises(ExtractError, match="unknown source"):
        accept_schema(config, "twitter")


def test_dlt_contract_catches_what_the_gate_lets_through(tmp_path: Path, sandbox: Any) -> None:
    """A hand edit that changes a column's warehouse type is refused by dlt's frozen contract;
    the package is aborted and, once the edit is reverted, the next run loads."""
    config = make_config(tmp_path, sandbox, odds=OddsSettings(bookmakers="draftkings"))
    first = run(config, sources=("odds_api",))
    before = warehouse_state(config.duckdb_path)
    loaded = fingerprint(config.duckdb_path)
    path = schema_path(config.schemas_dir, "odds_api")
    original = path.read_text()
    data = json.loads(original)
    column = data["tables"]["game_lines"]["columns"]["outcome__point"]
    column.update({"data_type": "text", "accepts": ["double"]})
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaDriftError) as failure:
        run(config, sources=("odds_api",))
    assert (
        "source odds_api, table game_lines: column `outcome__point` changed type: frozen double, "
        "received text from dlt's contract" in str(failure.value)
    )
    pipeline = dlt.pipeline(pipeline_name="nba_props_odds_api", pipelines_dir=str(config.dlt_dir))
    assert not pipeline.has_pending_data
    assert warehouse_state(config.duckdb_path) == before
    path.write_text(original)
    again = run(config, sources=("odds_api",))
    # a real load of the whole day, not an empty run over a package left pending
    assert again.dates[0].rows == first.dates[0].rows
    loads = "raw_odds_api._dlt_loads"
    assert warehouse_state(config.duckdb_path)[loads] == before[loads] + 1
    assert fingerprint(config.duckdb_path) == loaded  # the same rows: snapshots are not rewritten


def test_bad_records_are_quarantined_and_the_threshold_decides(
    tmp_path: Path, sandbox: Any
) -> None:
    """Made strict by hand, `pts` refuses the did-not-play rows (null points) as bad records."""
    config = make_config(tmp_path, sandbox)
    path = schema_path(config.schemas_dir, "balldontlie")
    data = json.loads(path.read_text())
    data["tables"]["stats"]["columns"]["pts"]["nullable"] = False
    path.write_text(json.dumps(data))
    with pytest.raises(QuarantineError) as failure:
        run(config, sources=("balldontlie",))
    assert "balldontlie:" in str(failure.value)
    assert "`pts` is null" in str(failure.value)
    assert fingerprint(config.duckdb_path).get("raw_balldontlie.stats", (0,))[0] == 0
    [jsonl] = list((config.landing_dir / "quarantine").rglob("*.jsonl"))
    bad = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert bad
    assert {b["source"] for b in bad} == {"balldontlie"}
    assert {b["endpoint"] for b in bad} == {"bdl.stats"}
    assert all(b["record"]["pts"] is None and b["run_id"] for b in bad)
    # a tolerant threshold loads the good rows and keeps the bad ones in the run log
    tolerant = config.with_changes(quarantine_threshold=0.5)
    report = run(tolerant, sources=("balldontlie",))
    kept = query(
        config.duckdb_path,
        "select count(*), count(distinct run_id), min(reason) from extract_log.quarantine "
        "where run_id = ?",
        [report.run_id],
    )
    assert kept == [(len(bad), 1, "`pts` is null")]
    stats = query(config.duckdb_path, "select count(*), count(pts) from raw_balldontlie.stats")
    assert stats[0][0] == stats[0][1] > 0  # every loaded row has points; the nulls stayed out


def test_export_schemas_reproduces_the_reviewed_files(tmp_path: Path, sandbox: Any) -> None:
    # a paid balldontlie plan: on the free one its injuries endpoint is never asked (nor exported)
    config = make_config(tmp_path, sandbox, balldontlie_plan="all-star")
    changes = export_schemas(config, TODAY, write=False)
    assert [c.source for c in changes] == ["odds_api", "balldontlie", "espn", "injuries"]
    assert all(c.diff == "" for c in changes), [c.diff for c in changes]


def test_drill_a_retyped_contracted_espn_column_fails_espn_alone_until_accepted(
    tmp_path: Path, sandbox: Any
) -> None:
    """ESPN retypes `starter` (a column staging reads): the Odds API and balldontlie load,
    ESPN fails with a clear error; after `accept-schema` a rerun of ESPN alone loads it
    without touching the others."""
    config = make_config(tmp_path, sandbox)
    sandbox.faults.inject("changed_type", "espn.summary", times=None)  # starter: bool -> text
    with pytest.raises(SourcesFailedError) as failure:
        run_extract(config, [TODAY])
    [failed] = failure.value.failures
    assert (failed.source, failed.day) == ("espn", TODAY)
    assert failure.value.exit_code == SchemaDriftError.exit_code
    assert "column `starter` changed type: frozen bool, received text" in str(failure.value)
    assert "Loaded: odds_api 2026-01-15, balldontlie 2026-01-15, injuries 2026-01-15." in str(
        failure.value
    )
    state = warehouse_state(config.duckdb_path)
    assert "raw_espn.player_box_scores" not in state
    assert state["raw_odds_api._dlt_loads"] == state["raw_balldontlie._dlt_loads"] == 1
    accept_schema(config, "espn")
    report = run(config, sources=("espn",))  # `starter` still arrives as text, now accepted
    assert report.status == "ok"
    after = warehouse_state(config.duckdb_path)
    assert {k: v for k, v in after.items() if not k.startswith("raw_espn.")} == state
    starters = query(
        config.duckdb_path, "select count(*) from raw_espn.player_box_scores where starter"
    )
    assert starters[0][0] > 0  # "true" was coerced into the warehouse's bool
