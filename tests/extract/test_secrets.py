"""No key in any log line, error, stored URL or file written by a run (successful or failed)."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extract.errors import ApiError
from sandbox.server import SandboxServer
from tests.extract.conftest import fingerprint, make_config, run

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


def test_no_key_leaks_anywhere(
    tmp_path: Path, sandbox_league: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with SandboxServer(sandbox_league, odds_api_key=ODDS_KEY, balldontlie_key=BDL_KEY) as server:
        config = make_config(tmp_path, server, capture_dir=tmp_path / "capture")
        with caplog.at_level(logging.DEBUG):
            report = run(config)
            wrong = config.with_changes(balldontlie_key=WRONG_KEY, capture_dir=None)
            with pytest.raises(ApiError) as failure:
                run(wrong, sources=("balldontlie",))
    assert report.status == "ok"
    assert fingerprint(config.duckdb_path)["raw_odds_api.player_props"][0] > 0
    assert "HTTP 401" in str(failure.value)
    assert not any(k in str(failure.value) for k in KEYS)
    assert "apiKey=***" in caplog.text  # the logs show the calls, with the key masked
    assert not any(k in caplog.text for k in KEYS)
    for record in caplog.records:
        assert not any(k in str(record.args) for k in KEYS)
    written = [tmp_path / "warehouse", tmp_path / "landing", tmp_path / "capture", tmp_path / "dlt"]
    assert all(p.exists() for p in written)
    for root in written:
        assert files_holding_a_key(root) == [], root
    assert text_columns_holding_a_key(config.duckdb_path) == []
