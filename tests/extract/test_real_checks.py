"""What real responses need checked (issue "real responses", point 4), through the real pipeline.

A day is captured from the sandbox once; each test edits the captured bodies the way a real
upstream misbehaves, replays them offline through the same extract code, and checks what was
loaded, what was quarantined and why. Each check is also switched off once, to show that the
bad record would otherwise have loaded: the test can fail.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from extract import balldontlie, espn, odds_api
from extract.contracts import EXTRA_COLUMN, FrozenSchema, schema_path
from extract.errors import QuarantineError
from extract.sources import REGISTRY
from tests.extract.conftest import TODAY, make_config, query, run

DEAD = "http://127.0.0.1:9"  # nothing listens here: a replay that touched the network would fail


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> Path:
    """Every response of the demo day, captured once from the sandbox."""
    sandbox_server.reset()
    root = tmp_path_factory.mktemp("real_checks")
    folder = root / "capture"
    run(make_config(root, sandbox_server, capture_dir=folder), load=False)
    return folder


def edited(capture: Path, root: Path, endpoint: str, edit: Callable[[Any, str], bool]) -> Path:
    """A copy of the capture where `edit(body, url)` changed the first body of `endpoint` that it
    returns True for."""
    target = root / "capture"
    shutil.copytree(capture, target)
    for path in sorted(target.glob(f"*-{endpoint}-200.json")):
        envelope = json.loads(path.read_text())
        body = json.loads(envelope["body"])
        if edit(body, envelope["url"]):
            envelope["body"] = json.dumps(body)
            path.write_text(json.dumps(envelope))
            return target
    raise AssertionError(f"no {endpoint} body to edit in {capture}")


def replayed(root: Path, server: Any, replay: Path, **changes: Any) -> Any:
    config = make_config(root, server)
    return config.with_changes(
        odds_api_base_url=DEAD,
        balldontlie_base_url=DEAD,
        espn_base_url=DEAD,
        odds_api_key=None,
        balldontlie_key=None,
        replay_dir=replay,
        now=None,
        **changes,
    )


def quarantined(config: Any) -> list[dict]:
    files = list((config.landing_dir / "quarantine").rglob("*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


# --- returned dates and ids must be the ones asked for --------------------------------------------


def _stat_of_another_day(body: Any, _url: str) -> bool:
    if not body["data"]:
        return False
    body["data"][0]["game"]["date"] = "2026-01-10"
    return True


def test_a_stat_row_of_another_date_is_quarantined_naming_both(
    tmp_path: Path, sandbox: Any, capture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = edited(capture, tmp_path, "bdl.stats", _stat_of_another_day)
    config = replayed(tmp_path / "a", sandbox, replay)
    with pytest.raises(QuarantineError):
        run(config)
    [bad] = quarantined(config)
    assert bad["source"] == "balldontlie"
    assert "2026-01-10 was not asked for (asked: 2026-01-14)" in bad["reason"]
    # the other sources of the date loaded
    assert query(config.duckdb_path, "select count(*) from raw_espn.player_box_scores")[0][0] > 0
    assert query(config.duckdb_path, "select count(*) from raw_odds_api.player_props")[0][0] > 0
    # without the check, the row of another date would have loaded as if it were asked for
    monkeypatch.setattr(balldontlie, "date_problem", lambda *_: "")
    unchecked = replayed(tmp_path / "b", sandbox, replay)
    run(unchecked, sources=("balldontlie",))
    dates = query(unchecked.duckdb_path, "select distinct game__date from raw_balldontlie.stats")
    assert len(dates) == 2


def test_a_scoreboard_event_of_another_date_is_quarantined(
    tmp_path: Path, sandbox: Any, capture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def move(body: Any, url: str) -> bool:
        if "dates=20260115" not in url or not body["events"]:
            return False
        body["events"][0]["date"] = "2026-01-20T00:30Z"  # 19:30 on the 19th in New York
        return True

    replay = edited(capture, tmp_path, "espn.scoreboard", move)
    config = replayed(tmp_path / "a", sandbox, replay)
    with pytest.raises(QuarantineError):
        run(config, sources=("espn",))
    [bad] = quarantined(config)
    assert "is on 2026-01-19 (New York), on the scoreboard asked for 2026-01-15" in bad["reason"]
    monkeypatch.setattr(espn, "event_date_problem", lambda *_: "")
    unchecked = replayed(tmp_path / "b", sandbox, replay)
    run(unchecked, sources=("espn",))  # without the check, the stray event loads as that day's
    stray = query(
        unchecked.duckdb_path,
        "select count(*) from raw_espn.events where date = '2026-01-20T00:30:00Z'::timestamptz",
    )
    assert stray == [(1,)]


def test_a_summary_of_another_event_is_quarantined(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    def swap(body: Any, _url: str) -> bool:
        body["header"]["id"] = "401000000"
        return True

    replay = edited(capture, tmp_path, "espn.summary", swap)
    config = replayed(tmp_path / "a", sandbox, replay)
    with pytest.raises(QuarantineError):
        run(config, sources=("espn",))
    [bad] = quarantined(config)
    assert "summary of event '401000000' where" in bad["reason"]


def test_featured_odds_for_an_event_outside_the_slate_are_quarantined(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    def stray(body: Any, _url: str) -> bool:
        body[0]["id"] = "f" * 32
        return True

    replay = edited(capture, tmp_path, "odds.odds", stray)
    config = replayed(tmp_path / "a", sandbox, replay)
    with pytest.raises(QuarantineError):
        run(config, sources=("odds_api",))
    reasons = {q["reason"] for q in quarantined(config)}
    assert reasons == {f"answers event '{'f' * 32}', which is not in the slate of {TODAY}"}


# --- in-game snapshots ----------------------------------------------------------------------------


def test_a_snapshot_at_or_after_tip_off_is_marked_in_game(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    started: dict[str, str] = {}

    def tip_off_earlier(body: Any, _url: str) -> bool:
        body["commence_time"] = "2026-01-15T16:00:00Z"  # an hour before the snapshot (17:00Z)
        started["id"] = body["id"]
        return True

    replay = edited(capture, tmp_path, "odds.event_odds", tip_off_earlier)
    config = replayed(tmp_path / "a", sandbox, replay)
    run(config, sources=("odds_api",))
    marks = query(
        config.duckdb_path,
        "select event__id = ? as started, is_in_game, count(*) from raw_odds_api.player_props "
        "group by all order by started",
        [started["id"]],
    )
    assert [(s, g) for s, g, _ in marks] == [(False, False), (True, True)]
    assert odds_api.in_game({"commence_time": "2026-01-15T17:00:00Z"}, sandbox.now) is True
    assert odds_api.in_game({"commence_time": "not a time"}, sandbox.now) is True


# --- prices checked as a pair ---------------------------------------------------------------------


def test_american_plus_money_read_as_decimal_is_caught_by_the_pair(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    player: dict[str, Any] = {}

    def american(body: Any, _url: str) -> bool:
        market = body["bookmakers"][0]["markets"][0]
        first = market["outcomes"][0]
        sides = [
            o
            for o in market["outcomes"]
            if o["description"] == first["description"] and o["point"] == first["point"]
        ]
        for outcome, price in zip(sides, (100, 105), strict=True):
            outcome["price"] = price  # +100 / +105: each inside the decimal range on its own
        player.update(name=first["description"], book=body["bookmakers"][0]["key"])
        return True

    replay = edited(capture, tmp_path, "odds.event_odds", american)
    config = replayed(tmp_path / "a", sandbox, replay)
    assert not odds_api.PRICE.problems({"outcome__price": 105})  # a range alone lets it in
    with pytest.raises(QuarantineError):
        run(config, sources=("odds_api",))
    bad = quarantined(config)
    assert len(bad) == 2
    assert {b["record"]["outcome__description"] for b in bad} == {player["name"]}
    assert all("prices 100/105 imply 0.020 together" in b["reason"] for b in bad)
    assert all("American odds where decimal were asked?" in b["reason"] for b in bad)
    assert odds_api.overround_problem([{"price": 1.91}, {"price": 1.91}]) == ""
    assert odds_api.overround_problem([{"price": 1.5}, {"price": 1.5}]).startswith("prices 1.5")


# --- an unknown bookmaker is data -----------------------------------------------------------------


def test_an_unknown_bookmaker_loads_like_any_other(
    tmp_path: Path, sandbox: Any, capture: Path
) -> None:
    def rename(body: Any, _url: str) -> bool:
        body["bookmakers"][0]["key"] = "hardrockbet"
        body["bookmakers"][0]["title"] = "Hard Rock Bet"
        return True

    replay = edited(capture, tmp_path, "odds.event_odds", rename)
    config = replayed(tmp_path / "a", sandbox, replay)
    report = run(config, sources=("odds_api",))
    assert report.dates[0].quarantined == 0
    books = query(
        config.duckdb_path,
        "select count(*) from raw_odds_api.player_props where bookmaker__key = 'hardrockbet'",
    )
    assert books[0][0] > 0


# --- a frozen schema narrower than what arrives ---------------------------------------------------


def test_unread_fields_a_narrow_schema_never_saw_load_as_reported_changes(
    tmp_path: Path, sandbox: Any
) -> None:
    """The frozen files keep only the contracted columns: everything else arriving (ESPN's
    venues, broadcasts, headshots, the Odds API's extra fields...) is what a schema frozen from a
    narrow imitation would not know. Every source still loads, and each such field is reported
    as a non-blocking schema change, its value kept in `_extra`."""
    config = make_config(tmp_path, sandbox)
    dropped: dict[tuple[str, str], set[str]] = {}
    for name, source in REGISTRY.items():
        path = schema_path(config.schemas_dir, name)
        schema = FrozenSchema.load(path, name)
        for table in source.tables:
            columns = schema.tables[table.name]
            dropped[(name, table.name)] = {c for c in columns if not table.contracted(c)}
            schema.tables[table.name] = {c: s for c, s in columns.items() if table.contracted(c)}
        schema.save(path)
    report = run(config)
    assert report.status == "ok"
    reported: dict[tuple[str, str], set[str]] = {}
    for change in report.dates[0].changes:
        assert change.kind == "new column"
        reported.setdefault((change.source, change.table), set()).add(change.column)
    for key, columns in dropped.items():
        assert reported.get(key, set()) <= columns
    espn_events = reported[("espn", "events")]
    assert {"competition__venue__full_name", "competition__attendance", "links"} <= espn_events
    assert "athlete__headshot__href" in reported[("espn", "player_box_scores")]
    kept = query(
        config.duckdb_path,
        f"select count(*), count({EXTRA_COLUMN}->>'competition__venue__full_name') "
        "from raw_espn.events",
    )
    assert kept[0][0] == kept[0][1] > 0
    logged = query(
        config.duckdb_path,
        "select count(*) from extract_log.schema_changes where not is_blocking and run_id = ?",
        [report.run_id],
    )
    assert logged[0][0] == len(report.dates[0].changes)
