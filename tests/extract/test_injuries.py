"""Injury reports against the sandbox over loopback: a day's snapshot is what the news timeline
said at that moment, reruns add nothing, bad payloads are named and kept, the free plan asks
balldontlie for nothing, and only a sandbox backfill has a past to replay (noon in New York)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from extract.backfill import run_backfill
from extract.errors import QuarantineError, SourcesFailedError
from extract.injuries import pick_time
from sandbox.apis.injuries import reported
from tests.extract.conftest import fingerprint, make_config, query, run, table_names
from tests.extract.test_real_checks import edited, quarantined, replayed

PAID = {"balldontlie_plan": "all-star"}
ONLY = ("injuries",)
FIRST, LAST = date(2026, 1, 10), date(2026, 1, 12)
NOW = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # the sandbox's default clock


def espn_rows(path: Path, at: datetime | None = None) -> dict[str, tuple]:
    """athlete id -> (team id, status, reported at, return date) of one snapshot (or all)."""
    sql = (
        "select athlete__id, team__id, status, date, details__return_date "
        "from raw_injuries.espn_injuries"
    )
    rows = query(path, sql + " where snapshot_at = ?", [at]) if at else query(path, sql)
    return {r[0]: tuple(r[1:]) for r in rows}


def expected_espn(server: Any, at: datetime) -> dict[str, tuple]:
    """What the sandbox's news timeline had released and not yet cleared at `at`, as ESPN says
    it: status, the release time to the minute, the expected return date in New York."""
    index = server.index
    out = {}
    for item in reported(server.league, at).itertuples(index=False):
        player = index.players[int(item.player_key)]
        back = item.expected_return_at
        out[str(player["espn_id"])] = (
            str(index.teams[str(item.team_key)]["espn_id"]),
            item.status,
            item.released_at.to_pydatetime().replace(second=0, microsecond=0),
            None if pd.isna(back) else back.tz_convert("America/New_York").date(),
        )
    return out


def expected_bdl(server: Any, at: datetime) -> set[int]:
    items = reported(server.league, at)
    return {int(server.index.players[int(k)]["bdl_id"]) for k in items["player_key"]}


# --- a day's snapshot -----------------------------------------------------------------------------


def test_a_days_snapshot_is_what_the_news_timeline_had_released(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox, **PAID)
    report = run(config, sources=ONLY)
    assert report.dates[0].quarantined == 0
    path = config.duckdb_path
    want = expected_espn(sandbox, NOW)
    assert len(want) > 20  # a mid-season report, not a trivially empty one
    assert espn_rows(path) == want
    assert query(path, "select distinct snapshot_at from raw_injuries.espn_injuries") == [(NOW,)]
    # nothing released after the snapshot, and the report is told as ESPN tells it
    [(latest,)] = query(path, "select max(date) from raw_injuries.espn_injuries")
    assert latest <= NOW
    names = query(
        path, "select count(*) from raw_injuries.espn_injuries where short_comment not like "
        "athlete__display_name || '%'",
    )  # fmt: skip
    assert names == [(0,)]
    bdl = query(path, "select snapshot_at, player__id from raw_injuries.bdl_player_injuries")
    assert {at for at, _ in bdl} == {NOW}
    assert {player for _, player in bdl} == expected_bdl(sandbox, NOW)
    # the rows are the report at the sandbox's clock: an earlier clock reads an earlier report
    earlier = NOW - timedelta(days=3)
    assert expected_espn(sandbox, earlier) != want


def test_a_rerun_at_the_same_now_adds_nothing_and_a_later_one_adds_a_snapshot(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox, **PAID)
    run(config, sources=ONLY)
    first = fingerprint(config.duckdb_path, ("raw_injuries",))
    run(config, sources=ONLY)
    assert fingerprint(config.duckdb_path, ("raw_injuries",)) == first
    later = NOW + timedelta(days=2)
    sandbox.set_now(later)
    run(config.with_changes(now=later), sources=ONLY)
    snapshots = query(
        config.duckdb_path,
        "select snapshot_at, count(*) from raw_injuries.espn_injuries group by 1 order by 1",
    )
    assert [at for at, _ in snapshots] == [NOW, later]
    assert dict(snapshots)[NOW] == first["raw_injuries.espn_injuries"][0]  # NOW's rows untouched
    assert espn_rows(config.duckdb_path, later) == expected_espn(sandbox, later)


# --- balldontlie's paid endpoint ------------------------------------------------------------------


def test_the_free_plan_asks_nothing_of_balldontlie_and_says_why(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox)
    assert config.balldontlie_plan == "free"  # the default
    report = run(config, sources=ONLY)
    assert report.status == "ok"
    assert report.http_calls == 1  # ESPN's report, nothing else
    # every response is landed: not one from balldontlie
    landed = [f.name for f in config.landing_dir.rglob("*.json.gz")]
    assert len(landed) == 1
    assert "espn.injuries" in landed[0]
    assert table_names(config.duckdb_path)["raw_injuries"] == ["espn_injuries"]
    [note] = [n for n in report.dates[0].notes if "BALLDONTLIE_PLAN" in n]
    assert "BALLDONTLIE_PLAN=free: balldontlie's player_injuries is a paid endpoint" in note
    logged = query(
        config.duckdb_path, "select status, notes from extract_log.runs where source = 'injuries'"
    )
    assert logged == [("ok", note)]


# --- bad payloads: named, quarantined, kept -------------------------------------------------------


def first_item(change: Any) -> Any:
    """The first injury item of ESPN's report."""

    def edit(body: Any, _url: str) -> bool:
        change(body["injuries"][0]["injuries"][0])
        return True

    return edit


def first_player(change: Any) -> Any:
    """The first row of balldontlie's report."""

    def edit(body: Any, _url: str) -> bool:
        change(body["data"][0])
        return True

    return edit


CASES = [
    ("espn-unknown-team", "espn.injuries",
     lambda body, _url: bool(body["injuries"][0].update(id="99")) or True,
     "`team__id`='99' is not a team of seeds/team_codes.csv (espn_id)"),
    ("espn-blank-name", "espn.injuries",
     first_item(lambda i: i["athlete"].update(displayName="  ")),
     "`athlete__display_name` (a name) is blank"),
    ("espn-digits-in-name", "espn.injuries",
     first_item(lambda i: i["athlete"].update(displayName="Player 23")),
     "`athlete__display_name`='Player 23' is not a person's name"),
    ("espn-date-without-zone", "espn.injuries",
     first_item(lambda i: i.update(date="2026-01-11T16:27")), "has no time zone"),
    ("espn-date-garbage", "espn.injuries", first_item(lambda i: i.update(date="yesterday")),
     "`date`='yesterday' is not a valid timestamp"),
    ("espn-return-date-garbage", "espn.injuries",
     first_item(lambda i: i["details"].update(returnDate="2026-02-30")),
     "`details__return_date`='2026-02-30' is not a valid date"),
    ("espn-blank-status", "espn.injuries", first_item(lambda i: i.update(status="")),
     "`status` is blank"),
    ("espn-null-athlete-id", "espn.injuries", first_item(lambda i: i["athlete"].update(id=None)),
     "`athlete__id` is null"),
    ("espn-no-injuries-list", "espn.injuries",
     lambda body, _url: bool(body.update(injuries=None)) or True,
     "the response has no `injuries` list"),
    ("espn-team-without-list", "espn.injuries",
     lambda body, _url: bool(body["injuries"][0].pop("injuries")) or True,
     "a team's block: the response has no `injuries` list"),
    ("bdl-unknown-team", "bdl.player_injuries",
     first_player(lambda r: r["player"]["team"].update(id=99)),
     "`player__team__id`=99 is not a team of seeds/team_codes.csv (bdl_id)"),
    ("bdl-blank-last-name", "bdl.player_injuries",
     first_player(lambda r: r["player"].update(last_name=" ")),
     "`player__last_name` (a name) is blank"),
    ("bdl-no-data-list", "bdl.player_injuries",
     lambda body, _url: bool(body.pop("data")) or True, "the response has no `data` list"),
]  # fmt: skip


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> Path:
    """The demo day's injury reports (both APIs), captured once."""
    sandbox_server.reset()
    root = tmp_path_factory.mktemp("injuries")
    run(make_config(root, sandbox_server, capture_dir=root / "capture", **PAID), sources=ONLY,
        load=False)  # fmt: skip
    return root / "capture"


@pytest.mark.parametrize(
    ("endpoint", "edit", "reason"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_a_bad_payload_is_a_specific_error_and_is_kept(
    tmp_path: Path, sandbox: Any, capture: Path, endpoint: str, edit: Any, reason: str
) -> None:
    replay = edited(capture, tmp_path, endpoint, edit)
    config = replayed(tmp_path / "run", sandbox, replay, **PAID)
    with pytest.raises(QuarantineError) as failed:
        run(config, sources=ONLY)
    assert reason in str(failed.value)
    assert "injuries: " in str(failed.value)
    bad = [q for q in quarantined(config) if reason in q["reason"]]
    assert bad
    assert all(q["source"] == "injuries" and q["endpoint"] == endpoint for q in bad)
    logged = query(
        config.duckdb_path,
        "select count(*) from extract_log.quarantine where source = 'injuries' and endpoint = ? "
        "and reason like ?",
        [endpoint, f"%{reason}%"],
    )
    assert logged[0][0] >= 1
    assert "raw_injuries" not in table_names(config.duckdb_path)  # nothing of the source loaded
    # the raw response kept as it arrived: the edited body is in the run's landing folder
    [edited_file] = [
        p for p in sorted(replay.glob(f"*-{endpoint}-200.json"))
        if json.loads(p.read_text())["body"] != json.loads((capture / p.name).read_text())["body"]
    ]  # fmt: skip
    landed = [
        json.loads(gzip.decompress(f.read_bytes()))["body"]
        for f in config.landing_dir.glob(f"injuries/*/*/*-{endpoint}-*.json.gz")
    ]
    assert json.loads(edited_file.read_text())["body"] in landed


def test_an_empty_report_is_no_injuries_not_an_error(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    def empty(body: Any, _url: str) -> bool:
        body["injuries"] = []
        return True

    replay = edited(capture, tmp_path, "espn.injuries", empty)
    report = run(replayed(tmp_path / "run", sandbox, replay), sources=ONLY)
    assert report.status == "ok"
    assert report.dates[0].rows["injuries"] == {}
    assert report.dates[0].quarantined == 0


# --- dates: a backfill replays the sandbox's past, and only the sandbox's -------------------------


def test_the_pick_time_is_noon_in_new_york_whatever_the_season() -> None:
    assert pick_time(date(2026, 1, 15), 12) == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # EST
    assert pick_time(date(2025, 10, 25), 12) == datetime(2025, 10, 25, 16, 0, tzinfo=UTC)  # EDT


def test_a_sandbox_backfill_replays_one_snapshot_per_date_at_noon(
    tmp_path: Path, sandbox: Any
) -> None:
    config = make_config(tmp_path, sandbox, **PAID)
    report = run_backfill(config, FIRST, LAST, chunk_days=2, sources=ONLY)
    assert report.status == "ok"
    assert sandbox.now == NOW  # the sandbox's clock is back where it was
    path = config.duckdb_path
    picks = [pick_time(FIRST + timedelta(days=i), 12) for i in range(3)]
    for table in ("espn_injuries", "bdl_player_injuries"):
        stamps = query(path, f"select distinct snapshot_at from raw_injuries.{table} order by 1")
        assert [at for (at,) in stamps] == picks
    for at in picks:
        assert espn_rows(path, at) == expected_espn(sandbox, at)
        bdl = query(
            path, "select player__id from raw_injuries.bdl_player_injuries where snapshot_at = ?",
            [at],
        )  # fmt: skip
        assert {p for (p,) in bdl} == expected_bdl(sandbox, at)
    # nothing released after the moment it was read
    late = query(path, "select count(*) from raw_injuries.espn_injuries where date > snapshot_at")
    assert late == [(0,)]
    notes = query(path, "select notes from extract_log.runs where source = 'injuries'")
    assert all("sandbox: replaying the reports of" in n for (n,) in notes)
    again = run_backfill(config, FIRST, LAST, chunk_days=2, sources=ONLY, force=True)
    assert again.status == "ok"
    assert fingerprint(path, ("raw_injuries",))["raw_injuries.espn_injuries"][0] == sum(
        len(expected_espn(sandbox, at)) for at in picks
    )  # redone, nothing doubled


def test_a_real_api_backfill_loads_no_past_report_and_says_so(tmp_path: Path, sandbox: Any) -> None:
    """Without a sandbox to move, past dates have no report to read; a range reaching today
    takes today's snapshot at now, as the daily run does."""
    config = make_config(tmp_path, sandbox, sandbox_url=None)
    report = run_backfill(config, FIRST, LAST, chunk_days=7, sources=ONLY)
    assert report.status == "ok"
    assert report.dates[0].rows["injuries"] == {}
    [note] = [n for n in report.dates[0].notes if "history" in n]
    assert note == (
        "injuries: no injury report history: the APIs serve only the current report, so nothing "
        "is loaded for the past date(s) 2026-01-10..2026-01-12 (see DECISIONLOG.md)"
    )
    [(status, notes)] = query(config.duckdb_path, "select status, notes from extract_log.runs")
    assert status == "ok"
    assert note in notes.splitlines()
    assert "raw_injuries" not in table_names(config.duckdb_path)
    today = NOW.date()
    reaching = run_backfill(config, LAST, today, chunk_days=7, sources=ONLY)
    assert reaching.status == "ok"
    assert query(
        config.duckdb_path, "select distinct snapshot_at from raw_injuries.espn_injuries"
    ) == [(NOW,)]


def test_the_sandbox_clock_is_restored_when_a_replayed_read_fails(
    tmp_path: Path, sandbox: Any
) -> None:
    sandbox.faults.inject("server_error", None, times=None, status=503)
    config = make_config(tmp_path, sandbox)
    with pytest.raises(SourcesFailedError) as failed:
        run_backfill(config, FIRST, LAST, sources=ONLY)
    [failure] = failed.value.failures
    assert "espn.injuries" in str(failure.error)
    assert sandbox.now == NOW
