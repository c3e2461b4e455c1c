"""The BigQuery target: extract and normalize run offline (loading needs Google's network).

The `bigquery` extra (google-cloud-bigquery) is optional and not installed in the shared venv;
dlt's BigQuery destination still provides its capabilities offline, so normalize really runs with
BigQuery's file format and type mapping here. Only the load step is not exercised.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import dlt

from extract.runner import run_extract
from tests.extract.conftest import TODAY, make_config


def test_extract_and_normalize_for_bigquery_without_network(
    tmp_path: Path, sandbox: Any, loaded_three_times: Any
) -> None:
    _, reports, _ = loaded_three_times
    config = make_config(tmp_path, sandbox, target="bigquery")
    report = run_extract(config, [TODAY], load=False)
    assert report.dates[0].rows == reports[0].dates[0].rows
    assert not config.duckdb_path.exists()
    for source in ("odds_api", "balldontlie", "espn"):
        pipeline = dlt.pipeline(
            pipeline_name=f"nba_props_{source}_bigquery", pipelines_dir=str(config.dlt_dir)
        )
        assert pipeline.destination.destination_name == "bigquery"
        [package] = pipeline.list_normalized_load_packages()
        jobs = list((config.dlt_dir / f"nba_props_{source}_bigquery").rglob(f"{package}/**/*.gz"))
        assert jobs, source
        # BigQuery's loader format (DuckDB's would be insert_values): normalized for BigQuery
        assert all(job.name.endswith(".jsonl.gz") for job in jobs), source
        first = json.loads(gzip.decompress(jobs[0].read_bytes()).splitlines()[0])
        assert isinstance(first, dict)
