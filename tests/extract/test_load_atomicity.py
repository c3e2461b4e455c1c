"""A source's load is all or nothing (issue 14), even when the warehouse refuses one of its tables
after the others were merged: the checks cannot foresee every refusal (a constraint added by
hand, a full disk), so extract/atomic.py rolls the merged tables back.

The refusal is real: `raw_espn.player_box_scores._extra` made NOT NULL by hand, so DuckDB refuses
the merge of today's box scores (their `_extra` is null). Only the order is arranged: dlt's loader
is made to take the box scores last, so that the events and competitors of the same load are
merged before the refusal, whatever order dlt would have picked.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dlt
import dlt.load.load as dlt_load
import duckdb
import pytest

from extract.config import DATASETS
from extract.errors import LoadRefusedError, SourcesFailedError
from extract.runner import run_extract
from tests.extract.conftest import TODAY, copy_preloaded, make_config, query, warehouse_state

REFUSED = "player_box_scores"


def espn_state(state: dict) -> dict:
    return {k: v for k, v in state.items() if k.startswith(DATASETS["espn"] + ".")}


@pytest.fixture
def refused_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt's loader takes one job at a time, the refused table's last."""
    monkeypatch.setenv("LOAD__WORKERS", "1")
    original = dlt_load.filter_new_jobs

    def box_scores_last(file_names: Any, *args: Any) -> Any:
        ordered = sorted(file_names, key=lambda name: Path(name).name.startswith(REFUSED + "."))
        return original(ordered, *args)

    monkeypatch.setattr(dlt_load, "filter_new_jobs", box_scores_last)


def test_a_table_refused_after_others_were_merged_leaves_nothing_of_the_source(
    tmp_path: Path,
    sandbox: Any,
    preloaded: tuple[Path, dict],
    refused_last: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    copy_preloaded(preloaded, tmp_path)
    config = make_config(tmp_path, sandbox)
    con = duckdb.connect(str(config.duckdb_path))
    try:
        con.execute(f"update raw_espn.{REFUSED} set _extra = '{{}}'")
        con.execute(f"alter table raw_espn.{REFUSED} alter column _extra set not null")
    finally:
        con.close()
    before = warehouse_state(config.duckdb_path)
    caplog.set_level(logging.WARNING, logger="extract")

    with pytest.raises(SourcesFailedError) as failed:
        run_extract(config, [TODAY], sources=("odds_api", "espn"))

    # the refusal, in words: the table, the warehouse's own reason, what was done about it
    [failure] = failed.value.failures
    assert failure.source == "espn"
    assert isinstance(failure.error, LoadRefusedError)
    message = str(failure.error)
    assert f"refused the load of table {REFUSED} (Constraint Error: NOT NULL" in message
    assert "rolled back, so nothing of espn 2026-01-15 is loaded" in message
    # the other tables of the load had been merged before the refusal, and were rolled back
    [rolled] = [r.getMessage() for r in caplog.records if "rolled back the rows" in r.getMessage()]
    assert '"competitors": 26' in rolled, rolled
    assert '"events": 13' in rolled, rolled
    # nothing of espn's window remains: every row, row id and load id as before, no new load
    after = warehouse_state(config.duckdb_path)
    assert espn_state(after) == espn_state(before)
    pipeline = dlt.pipeline(pipeline_name="nba_props_espn", pipelines_dir=str(config.dlt_dir))
    assert not pipeline.has_pending_data
    # the other source of the run loaded
    assert failed.value.loaded == [(TODAY, "odds_api")]
    loads = f"{DATASETS['odds_api']}._dlt_loads"
    assert after[loads] == before[loads] + 1
    # and the run log says so
    logged = query(
        config.duckdb_path,
        "select source, status, error_kind, error from extract_log.runs "
        "where run_id = ? order by source",
        [failed.value.report.run_id],  # type: ignore[attr-defined]
    )
    assert [(s, st, kind) for s, st, kind, _ in logged] == [
        ("espn", "failed", "LoadRefusedError"),
        ("odds_api", "ok", ""),
    ]
    assert f"refused the load of table {REFUSED}" in logged[0][3]

    # once the table is fixed, the same date loads whole
    con = duckdb.connect(str(config.duckdb_path))
    try:
        con.execute(f"alter table raw_espn.{REFUSED} alter column _extra drop not null")
    finally:
        con.close()
    run_extract(config, [TODAY], sources=("espn",))
    fixed = warehouse_state(config.duckdb_path)
    assert fixed[f"{DATASETS['espn']}._dlt_loads"] == before[f"{DATASETS['espn']}._dlt_loads"] + 1
