"""No key in any log line, error, stored URL or file written by a run (successful or failed)."""

from __future__ import annotations

import gzip
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.errors import ApiError, RetriesExhaustedError, SchemaDriftError
from sandbox.server import SandboxServer
from tests.extract.conftest import fingerprint, make_config, query, run

ODDS_KEY = "odds-KEY-5f1e2d9c"
BDL_KEY = "bdl-KEY-77aa31c0"
WRONG_KEY = "wrong-KEY-0b0e4f12"
KEYS = (ODDS_KEY, BDL_KEY, WRONG_KEY)


def files_holding_a_key(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":  # landing files and dlt's job files: search the content too
            data += gzip.decompress(data)
        if any(k.encode() in data for k in KEYS):
            found.append(str(path))
    return found


def text_columns_holding_a_key(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    found = []
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        for schema, table, column in columns:
            for key in KEYS:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where "{column}" like ?',
                    [f"%{key}%"],
                ).fetchone()[0]
                if hits:
                    found.append(f"{schema}.{table}.{column}")
    finally:
        con.close()
    return found


def log_leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Keys in the captured log text or in any record's arguments."""
    found = [k for k in KEYS if k in caplog.text]
    found += [k for r in caplog.records for k in KEYS if k in str(r.args)]
    return found


def test_the_scans_find_a_planted_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The scans below must be able to fail: each finds a key planted where it looks."""
    (tmp_path / "clean.txt").write_text("apiKey=***")
    (tmp_path / "plain.json").write_text(f'{{"url": "http://h/?apiKey={ODDS_KEY}"}}')
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "landed.json.gz").write_bytes(gzip.compress(BDL_KEY.encode()))
    assert sorted(files_holding_a_key(tmp_path)) == [
        str(tmp_path / "deep" / "landed.json.gz"),
        str(tmp_path / "plain.json"),
    ]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw_x")
    con.execute("create table raw_x.calls (url varchar, n bigint)")
    con.execute("insert into raw_x.calls values (?, 1), ('fine', 2)", [f"x{WRONG_KEY}y"])
    con.close()
    assert text_columns_holding_a_key(tmp_path / "w.duckdb") == ["raw_x.calls.url"]
    with caplog.at_level(logging.INFO):
        logging.getLogger("extract.test").info("calling %s", f"http://h/?apiKey={ODDS_KEY}")
    assert log_leaks(caplog) == [ODDS_KEY, ODDS_KEY]


def test_no_key_leaks_anywhere(
    tmp_path: Path, sandbox_league: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A good run with retries and a capture, a refused key, drift, a dead host: no key written."""
    with SandboxServer(sandbox_league, odds_api_key=ODDS_KEY, balldontlie_key=BDL_KEY) as server:
        server.faults.inject("rate_limit", "odds.event_odds", times=1, retry_after=0)
        server.faults.inject("truncated", "odds.events", times=1)
        server.faults.inject("server_error", "bdl.stats", times=1, status=502)
        config = make_config(tmp_path, server, capture_dir=tmp_path / "capture")
        with caplog.at_level(logging.DEBUG):
            report = run(config)
            wrong = config.with_changes(balldontlie_key=WRONG_KEY, capture_dir=None)
            with pytest.raises(ApiError) as refused:
                run(wrong, sources=("balldontlie",))
            # an upstream echoing the key in a field nobody reads: loaded into `_extra`, masked
            server.faults.inject("new_field", "odds.events", times=None, value=ODDS_KEY)
            echoed = run(config.with_changes(capture_dir=None), sources=("odds_api",))
            server.faults.clear()
            # and in a contracted column, which stops the source with drift
            server.faults.inject("changed_type", "odds.events", times=None)
            server.faults.inject("new_field", "odds.events", times=None, value=ODDS_KEY)
            with pytest.raises(SchemaDriftError) as drift:
                run(config.with_changes(capture_dir=None), sources=("odds_api",))
            server.faults.clear()
            dead = config.with_changes(
                odds_api_base_url="http://127.0.0.1:9",
                capture_dir=None,
                http=replace(config.http, max_attempts=2),
            )
            with pytest.raises(RetriesExhaustedError) as unreachable:
                run(dead, sources=("odds_api",))
    assert report.status == "ok"
    assert report.retries == 3
    assert fingerprint(config.duckdb_path)["raw_odds_api.player_props"][0] > 0
    assert "HTTP 401" in str(refused.value)
    assert "commence_time" in str(drift.value)
    [change] = echoed.dates[0].changes
    assert change.column == "sandbox_new_field"
    assert change.example == 'sandbox_new_field="***"'  # its value, the key, was masked
    assert query(
        config.duckdb_path,
        "select count(*) from raw_odds_api.events where _extra->>'sandbox_new_field' = '***'",
    ) == [(len(query(config.duckdb_path, "select id from raw_odds_api.events")),)]
    assert "ConnectionError" in str(unreachable.value)
    assert "apiKey=***" in str(unreachable.value)
    errors = [str(e.value) for e in (refused, drift, unreachable)]
    assert not [k for k in KEYS for e in errors if k in e]
    assert "apiKey=***" in caplog.text  # the logs show the calls, with the key masked
    assert "retry 1/4" in caplog.text
    assert log_leaks(caplog) == []
    written = [tmp_path / "warehouse", tmp_path / "landing", tmp_path / "capture", tmp_path / "dlt"]
    assert all(p.exists() for p in written)
    assert list((tmp_path / "landing" / "quarantine").rglob("*.jsonl"))
    assert list((tmp_path / "dlt" / "schema_proposals").glob("*.json"))
    for root in written:
        assert files_holding_a_key(root) == [], root
    assert text_columns_holding_a_key(config.duckdb_path) == []
