"""Capture every raw response, replay them offline through the same code, keep them in landing."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from extract.config import ExtractConfig
from extract.errors import ReplayMissError
from extract.runner import prune_landing
from extract.runtime import RunContext
from tests.extract.conftest import TODAY, YESTERDAY, fingerprint, make_config, run

DEAD = "http://127.0.0.1:9"  # nothing listens here: a replay that touched the network would fail


def offline(config: Any, replay: Path) -> Any:
    return config.with_changes(
        odds_api_base_url=DEAD,
        balldontlie_base_url=DEAD,
        espn_base_url=DEAD,
        odds_api_key=None,
        balldontlie_key=None,
        replay_dir=replay,
        now=None,  # taken from the capture's manifest
    )


def test_a_capture_replays_offline_to_the_same_warehouse(
    tmp_path: Path, sandbox: Any, loaded_three_times: Any
) -> None:
    _, _, baseline = loaded_three_times
    capture = tmp_path / "capture"
    sandbox.faults.inject("rate_limit", "bdl.stats", times=1, retry_after=None)
    sandbox.faults.inject("truncated", "odds.event_odds", times=1)
    live = make_config(tmp_path / "live", sandbox, capture_dir=capture)
    captured = run(live, load=False)  # capturing needs no warehouse
    files = sorted(p.name for p in capture.glob("*.json"))
    manifest = json.loads((capture / "manifest.json").read_text())
    assert manifest["now"] == sandbox.now.isoformat()
    assert manifest["dates"] == [TODAY.isoformat()]
    assert any(name.endswith("-bdl.stats-429.json") for name in files)
    assert len(files) - 1 == captured.http_calls  # every attempt: the 429 and the cut body too
    replay = offline(make_config(tmp_path / "replay", sandbox), capture)
    replayed = run(replay)
    assert replayed.retries == captured.retries == 2
    assert replayed.now == captured.now
    assert replayed.dates[0].rows == captured.dates[0].rows
    # the same warehouse as a clean live load of the day
    assert fingerprint(replay.duckdb_path) == baseline[0]


def test_replay_refuses_requests_it_has_no_capture_for(tmp_path: Path, sandbox: Any) -> None:
    capture = tmp_path / "capture"
    run(make_config(tmp_path / "live", sandbox, capture_dir=capture), sources=("espn",), load=False)
    replay = offline(make_config(tmp_path / "replay", sandbox), capture)
    with pytest.raises(ReplayMissError, match="no captured response left for GET"):
        run(replay, YESTERDAY, sources=("espn",))
    assert fingerprint(replay.duckdb_path).get("raw_espn.events", (0,))[0] == 0


def test_landing_keeps_every_response_gzipped_and_prunes_old_days(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox)
    old = config.landing_dir / "espn" / "2001-01-01" / "run-old"
    recent = config.landing_dir / "espn" / time.strftime("%Y-%m-%d") / "run-recent"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "00001-espn.scoreboard-200.json.gz").write_bytes(gzip.compress(b"{}"))
    report = run(config, sources=("espn",))
    assert not old.parent.exists()
    assert recent.exists()
    landed = list((config.landing_dir / "espn").rglob(f"{report.run_id}/*.json.gz"))
    assert len(landed) == report.http_calls
    envelope = json.loads(gzip.decompress(landed[0].read_bytes()))
    assert envelope["run_id"] == report.run_id
    assert envelope["source"] == "espn"
    assert envelope["url"].startswith(sandbox.espn_url)
    assert json.loads(envelope["body"])  # the raw payload, byte for byte
    assert landed[0].stat().st_size < len(envelope["body"])  # and compressed


def test_landing_retention_counts_whole_days(tmp_path: Path) -> None:
    """With a retention of N days a folder N days old stays and one N + 1 days old goes."""
    config = ExtractConfig(landing_dir=tmp_path / "landing", landing_retention_days=3)
    today = datetime.now(UTC).date()
    folders = {
        age: config.landing_dir / "odds_api" / (today - timedelta(days=age)).isoformat() / "r"
        for age in (0, 3, 4, 40)
    }
    quarantined = config.landing_dir / "quarantine" / (today - timedelta(days=9)).isoformat()
    other = config.landing_dir / "odds_api" / "notes"
    for folder in (*folders.values(), quarantined, other):
        folder.mkdir(parents=True)
    assert prune_landing(RunContext.create(config, "run-prune")) == 3
    assert [age for age, folder in folders.items() if folder.exists()] == [0, 3]
    assert not quarantined.exists()
    assert other.exists()  # not a date: not ours to judge
