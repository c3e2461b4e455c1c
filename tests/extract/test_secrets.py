"""No key in any log line, error, stored URL or file written by a run (successful or failed)."""

from __future__ import annotations

import gzip
import json
import logging
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from extract.cli import app
from extract.errors import ApiError, RetriesExhaustedError, SchemaDriftError, SourcesFailedError
from extract.runner import run_extract
from sandbox.server import SandboxServer
from tests.extract.conftest import TODAY, cli_env, fingerprint, make_config, query, run
from tests.extract.loopback import Answer, Asked, Loopback

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


# --- canary keys with URL-reserved characters, an echoing upstream, a refused connection ----------

CANARY = "CANARY"  # every canary key starts with it: any form of a key, even a piece, shows it
ODDS_CANARY = "CANARY-odds-k3y/+?&=%#;é"
BDL_CANARY = "CANARY-bdl-k3y/+?&=%#;é"
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "date", "server"}


class EchoingUpstream:
    """A loopback proxy in front of the sandbox that echoes what it was sent (the key decoded,
    the raw query with the key URL-encoded, the Authorization header) into data fields of good
    answers (an unread field, a bookmaker's title, a player's position) and, when `fail` names a
    path suffix, into an error body (JSON with \\u escapes, as most servers write it) and header."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.fail: dict[str, int] = {}  # path suffix -> status to answer (once each)
        self.loopback = Loopback(self.answer)

    def echo(self, asked: Asked) -> str:
        return (
            f"key={asked.query.get('apiKey', '')} raw={asked.raw} "
            f"auth={asked.headers.get('Authorization', '')}"
        )

    def answer(self, asked: Asked) -> Answer:
        echo = self.echo(asked)
        for suffix, status in list(self.fail.items()):
            if asked.path.endswith(suffix):
                del self.fail[suffix]
                body = {"message": f"refused: {echo}", "error_code": f"BAD {echo}"}
                headers = {"Content-Type": "application/json", "X-Echo": echo}
                return Answer(status, json.dumps(body).encode(), headers)
        request = urllib.request.Request(self.sandbox.url + asked.raw)  # noqa: S310 - loopback
        if "Authorization" in asked.headers:
            request.add_header("Authorization", asked.headers["Authorization"])
        try:
            with urllib.request.urlopen(request, timeout=10) as got:  # noqa: S310
                status, raw, headers = got.status, got.read(), dict(got.headers)
        except urllib.error.HTTPError as refused:
            status, raw, headers = refused.code, refused.read(), dict(refused.headers)
        headers = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
        if 200 <= status < 300:
            raw = json.dumps(self.plant(json.loads(raw), asked.path, echo)).encode()
        return Answer(status, raw, headers)

    def plant(self, body: Any, path: str, echo: str) -> Any:
        rows = body.get("data") if isinstance(body, dict) else body
        rows = rows if isinstance(rows, list) else [rows]
        for row in rows:
            if not isinstance(row, dict):
                continue
            row["echo"] = echo  # a field nobody reads: kept in `_extra`
            for book in row.get("bookmakers") or []:
                book["title"] = f"{book.get('title')} {echo}"  # a contracted text column
            if path.endswith("/players"):
                row["position"] = echo
        return body

    def urls(self) -> dict[str, str]:
        base = self.loopback.url
        return {
            "odds_api_base_url": self.sandbox.odds_api_url.replace(self.sandbox.url, base),
            "balldontlie_base_url": self.sandbox.balldontlie_url.replace(self.sandbox.url, base),
        }


def canary_hits(root: Path) -> list[str]:
    """Files under `root` holding a canary: bytes, gzip content, and parquet values (which may
    be compressed on disk)."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data += gzip.decompress(data)
        if path.suffix == ".parquet":
            data += repr(pq.read_table(path).to_pylist()).encode("utf-8", "backslashreplace")
        if CANARY.encode() in data:
            found.append(str(path))
    return found


def canary_columns(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('VARCHAR', 'JSON')"
        ).fetchall()
        return [
            f"{schema}.{table}.{column}"
            for schema, table, column in columns
            if con.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}"::varchar like ?',
                [f"%{CANARY}%"],
            ).fetchone()[0]
        ]
    finally:
        con.close()


def test_canary_keys_never_leak_from_an_echoing_upstream(
    tmp_path: Path, sandbox_league: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Keys with URL-reserved characters, an upstream echoing them into error bodies, headers and
    data fields, a refused connection, the command line: the canary is in 0 files and 0 rows."""
    keys = {"odds_api_key": ODDS_CANARY, "balldontlie_key": BDL_CANARY}
    both = ("odds_api", "balldontlie")
    with (
        SandboxServer(sandbox_league, odds_api_key=ODDS_CANARY, balldontlie_key=BDL_CANARY) as sb,
        EchoingUpstream(sb).loopback as proxy,
    ):
        upstream: EchoingUpstream = proxy.handler.__self__  # type: ignore[attr-defined]
        config = make_config(tmp_path, sb, capture_dir=tmp_path / "capture").with_changes(
            **keys, **upstream.urls()
        )
        with caplog.at_level(logging.DEBUG):
            # a good run: echoes in data fields, and in two 5xx bodies that are retried
            upstream.fail.update({"/events": 500, "/games": 503})
            report = run_extract(config, [TODAY], sources=both)
            # echoed in refusals: each source fails for the date with the API's code
            upstream.fail.update({"/odds": 422, "/stats": 401})
            with pytest.raises(SourcesFailedError) as refused:
                run_extract(config.with_changes(capture_dir=None), [TODAY], sources=both)
            dead = config.with_changes(
                odds_api_base_url="http://127.0.0.1:9/odds",
                balldontlie_base_url="http://127.0.0.1:9/bdl",
                capture_dir=None,
                http=replace(config.http, max_attempts=2),
            )
            with pytest.raises(SourcesFailedError) as unreachable:
                run_extract(dead, [TODAY], sources=both)
        env = {
            **cli_env(tmp_path, sb),
            "ODDS_API_KEY": ODDS_CANARY,
            "BALLDONTLIE_API_KEY": BDL_CANARY,
            "ODDS_API_BASE_URL": upstream.urls()["odds_api_base_url"],
            "BALLDONTLIE_BASE_URL": upstream.urls()["balldontlie_base_url"],
        }
        upstream.fail.update({"/odds": 422})
        cli = CliRunner().invoke(
            app, ["--date", TODAY.isoformat(), "--source", "odds_api"], env=env
        )
    assert report.status == "ok"
    assert report.retries == 2
    assert {type(f.error) for f in refused.value.failures} == {ApiError}
    assert {type(f.error) for f in unreachable.value.failures} == {RetriesExhaustedError}
    assert "apiKey=***" in str(unreachable.value)
    assert cli.exit_code == 3, cli.output
    # the echoes did arrive, masked: the test would see them if the masking failed
    titles = query(
        config.duckdb_path, "select distinct bookmaker__title from raw_odds_api.game_lines"
    )
    assert all("key=*** raw=" in t and "apiKey=***" in t for (t,) in titles)
    assert (
        query(
            config.duckdb_path,
            "select count(*) from raw_balldontlie.players where position like '%auth=***'",
        )[0][0]
        > 0
    )
    messages = [str(refused.value), str(unreachable.value), cli.output, caplog.text]
    messages += [str(r.args) for r in caplog.records]
    assert [m for m in messages if CANARY in m] == []
    assert list((tmp_path / "dlt").rglob("trace.pickle"))
    assert canary_hits(tmp_path) == []
    assert canary_columns(config.duckdb_path) == []
