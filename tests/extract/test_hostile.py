"""The battery (issue 14): hostile inputs across the three APIs, each contained.

A day is captured from the sandbox once; each case edits one captured body the way a hostile or
broken upstream would, and replays the day offline for the edited source and a witness source
into a copy of a preloaded warehouse. Every case must show:

- a non-zero exit (`SourcesFailedError` naming only the edited source) and, for a bad record, a
  quarantine with the specific reason (in `landing/quarantine/` and `extract_log.quarantine`);
- nothing half-loaded: every raw table of the edited source, dlt's load ids included, as it was
  before, and no package left pending;
- the witness source's good data loaded in the same run;
- the raw response kept: the edited body, byte for byte, in the run's landing folder.

The bounds on size and time are in test_http_bounds.py, the key-leak scan in test_secrets.py.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import pytest

from extract.config import DATASETS
from extract.errors import (
    ExtractError,
    InvalidJsonError,
    QuarantineError,
    SchemaDriftError,
    SourcesFailedError,
)
from extract.runner import run_extract
from tests.extract.conftest import TODAY, copy_preloaded, make_config, query, run, warehouse_state
from tests.extract.test_real_checks import edited, quarantined, replayed

Edit = Callable[[Any, str], bool]
WITNESS = {"odds_api": "espn", "espn": "odds_api", "balldontlie": "odds_api"}
SOURCE_OF = {"odds": "odds_api", "bdl": "balldontlie", "espn": "espn"}


@dataclass(frozen=True)
class Case:
    id: str
    endpoint: str  # the captured endpoint whose first matching body is edited
    edit: Edit
    reason: str  # in the quarantine reason, or in the error's message when `error` is set
    error: type[ExtractError] = QuarantineError

    @property
    def source(self) -> str:
        return SOURCE_OF[self.endpoint.split(".")[0]]

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


# --- how each body is reached -----------------------------------------------------------------


def put(**fields: Any) -> Callable[[dict], None]:
    return lambda record: record.update(fields)


def board(day: str, change: Callable[[dict], None]) -> Edit:
    """The first event of ESPN's scoreboard of `day` (YYYYMMDD); 20260114's are final."""

    def edit(body: Any, url: str) -> bool:
        if f"dates={day}" not in url or not body["events"]:
            return False
        change(body["events"][0])
        return True

    return edit


def competitor(change: Callable[[dict], None]) -> Callable[[dict], None]:
    return lambda event: change(event["competitions"][0]["competitors"][0])


def summary(change: Callable[[dict], None]) -> Edit:
    def edit(body: Any, _url: str) -> bool:
        change(body)
        return True

    return edit


def athlete(change: Callable[[dict], None]) -> Edit:
    """The first athlete of the first box score (a starter who played)."""
    return summary(lambda b: change(b["boxscore"]["players"][0]["statistics"][0]["athletes"][0]))


def stat(key: str, value: str) -> Edit:
    """One of the first athlete's stats, by ESPN's key (never by position)."""

    def change(body: dict) -> None:
        block = body["boxscore"]["players"][0]["statistics"][0]
        block["athletes"][0]["stats"][block["keys"].index(key)] = value

    return summary(change)


def name(value: str) -> Edit:
    return athlete(lambda a: a["athlete"].update(displayName=value))


def game(change: Callable[[dict], None]) -> Edit:
    """A copy of the first game, with another id, changed: a bad row among good ones (changing
    a game in place would change which teams' players are asked for, and miss the replay)."""

    def edit(body: Any, _url: str) -> bool:
        game = json.loads(json.dumps(body["data"][0]))
        game["id"] += 10**6
        change(game)
        body["data"].append(game)
        return True

    return edit


def row(change: Callable[[dict], None]) -> Edit:
    """The first row of a balldontlie page."""

    def edit(body: Any, _url: str) -> bool:
        if not body["data"]:
            return False
        change(body["data"][0])
        return True

    return edit


def drop_first_game(body: Any, _url: str) -> bool:
    """Every stat row of the page's first game gone: a final game without a box score."""
    game = body["data"][0]["game"]["id"]
    body["data"] = [r for r in body["data"] if r["game"]["id"] != game]
    return True


def event(change: Callable[[dict], None]) -> Edit:
    """The first event of the Odds API's event list."""
    return lambda body, _url: bool(body) and (change(body[0]) or True)


def outcome(change: Callable[[dict], None], index: int = 0) -> Edit:
    """A prop outcome of the first bookmaker's first market of an event's odds."""

    def edit(body: Any, _url: str) -> bool:
        change(body["bookmakers"][0]["markets"][0]["outcomes"][index])
        return True

    return edit


def featured(market: str, change: Callable[[dict], None]) -> Edit:
    """A featured market of the first event's first bookmaker (h2h, spreads, totals)."""

    def edit(body: Any, _url: str) -> bool:
        markets = body[0]["bookmakers"][0]["markets"]
        change(next(m for m in markets if m["key"] == market))
        return True

    return edit


def plus_money(body: Any, url: str) -> bool:
    """+100/+105 on both sides of one player's line: each inside the decimal range alone."""
    return outcome(put(price=100))(body, url) and outcome(put(price=105), 1)(body, url)


def each_outcome(change: Callable[[dict], None]) -> Callable[[dict], None]:
    return lambda market: [change(o) for o in market["outcomes"]]


D, D1 = "20260115", "20260114"
LONG = "x" * 10_001
NUL, BELL, SURROGATE = "Hou\x00ston", "Ho\x07u", "Jo\ud800e"

ESPN = [
    Case("espn-date-trailing-text", "espn.scoreboard", board(D, put(date="2026-01-16T00:30Zjunk")),
         "`date`='2026-01-16T00:30Zjunk' is not a valid timestamp"),
    Case("espn-date-without-zone", "espn.scoreboard", board(D, put(date="2026-01-16T00:30")),
         "has no time zone"),
    Case("espn-event-of-another-date", "espn.scoreboard", board(D, put(date="2026-01-20T00:30Z")),
         "is on 2026-01-19 (New York), on the scoreboard asked for 2026-01-15"),
    Case("espn-date-in-another-year", "espn.scoreboard", board(D, put(date="2027-01-16T00:30Z")),
         "is on 2027-01-15 (New York), on the scoreboard asked for 2026-01-15"),
    Case("espn-wrong-season", "espn.scoreboard", board(D, lambda e: e["season"].update(year=2019)),
         "is not in the season.year it claims (2018-19)"),
    Case("espn-season-out-of-range", "espn.scoreboard",
         board(D, lambda e: e["season"].update(year=10**10)),
         "`season__year`=10000000000 is outside"),
    Case("espn-unknown-state", "espn.scoreboard",
         board(D, lambda e: e["status"]["type"].update(state="done")),
         "`status__type__state`='done' is not one of"),
    Case("espn-score-exponent", "espn.scoreboard", board(D1, competitor(put(score="1e2"))),
         "`score`='1e2' is not an integer"),
    Case("espn-score-negative", "espn.scoreboard", board(D1, competitor(put(score="-5"))),
         "`score`='-5' is not an integer in [0, 250]"),
    Case("espn-home-away-neutral", "espn.scoreboard", board(D, competitor(put(homeAway="neutral"))),
         "`home_away`='neutral' is not one of"),
    Case("espn-unknown-team-id", "espn.scoreboard",
         board(D, competitor(lambda c: c["team"].update(id="99"))),
         "`team__id`='99' is not a team of seeds/team_codes.csv (espn_id)"),
    Case("espn-unknown-team-code", "espn.scoreboard",
         board(D, competitor(lambda c: c["team"].update(abbreviation="XYZ"))),
         "`team__abbreviation`='XYZ' is not a team of seeds/team_codes.csv"),
    Case("espn-two-competitions", "espn.scoreboard",
         board(D, lambda e: e["competitions"].append(e["competitions"][0])),
         "expected exactly one competition, got 2"),
    Case("espn-final-scored-0-0", "espn.scoreboard",
         board(D1, lambda e: [c.update(score="0") for c in e["competitions"][0]["competitors"]]),
         "a final game is not scored 0-0: event"),
    Case("espn-nul-in-text", "espn.scoreboard", board(D, put(shortName="HOU\x00@ PHI")),
         "`short_name`='HOU\\x00@ PHI' holds control characters"),
    Case("espn-10k-text", "espn.scoreboard", board(D, put(shortName=LONG)),
         "`short_name` is 10,001 characters long"),
    Case("espn-lone-surrogate", "espn.scoreboard", board(D, put(shortName="HOU @ \udc80")),
         "holds a lone surrogate"),
    # a field nobody reads goes to `_extra`, bounded like any text (issue 14): 2 MB of it is not
    # a new field to accept, it is an upstream bug
    Case("espn-huge-unread-field", "espn.scoreboard", board(D, put(sandboxBlob="x" * 2**21)),
         "`_extra` (unread field(s) sandbox_blob) is 2,097,172 characters as JSON (more than"),
    Case("espn-id-retyped", "espn.scoreboard", board(D, put(id=401812080)),
         "column `id` changed type: frozen text, received bigint", SchemaDriftError),
    Case("espn-summary-of-another-event", "espn.summary",
         summary(lambda b: b["header"].update(id="401000000")), "summary of event '401000000'"),
    Case("espn-final-without-box-score", "espn.summary",
         summary(lambda b: b["boxscore"].update(players=[])),
         "a final game has a box score: event"),
    Case("espn-final-with-empty-athletes", "espn.summary",
         summary(lambda b: [s.update(athletes=[]) for p in b["boxscore"]["players"]
                            for s in p["statistics"]]),
         "a final game has a box score: event"),
    Case("espn-starter-without-stats", "espn.summary", athlete(put(stats=[])),
         "a starter with no stats but `did_not_play`=False"),
    Case("espn-stats-shifted", "espn.summary", athlete(lambda a: a["stats"].pop()),
         "13 stats for 14 keys"),
    Case("espn-minutes-clock", "espn.summary", stat("minutes", "30:99"),
         "`stats__minutes`='30:99' is not an integer"),
    Case("espn-points-exponent", "espn.summary", stat("points", "1e1"),
         "`stats__points`='1e1' is not an integer"),
    Case("espn-points-infinity", "espn.summary", stat("points", "Infinity"),
         "`stats__points`='Infinity' is not an integer"),
    Case("espn-rebounds-negative", "espn.summary", stat("rebounds", "-3"),
         "`stats__rebounds`='-3' is not an integer in [0, 100]"),
    Case("espn-made-over-attempted", "espn.summary",
         stat("fieldGoalsMade-fieldGoalsAttempted", "12-5"), "made is more than attempted"),
    Case("espn-pair-malformed", "espn.summary", stat("fieldGoalsMade-fieldGoalsAttempted", "5/11"),
         "is not made-attempted"),
    Case("espn-plus-minus-huge", "espn.summary", stat("plusMinus", "+300"),
         "`stats__plus_minus`='+300' is not an integer in [-100, 100]"),
    Case("espn-blank-name", "espn.summary", name("  "),
         "`athlete__display_name` (a name) is blank"),
    Case("espn-emoji-name", "espn.summary", name("\U0001f3c0\U0001f3c0"),
         "is not a person's name (letters only)"),
    Case("espn-digits-in-name", "espn.summary", name("LeBron 23"),
         "`athlete__display_name`='LeBron 23' is not a person's name"),
    Case("espn-control-in-name", "espn.summary", name(BELL), "holds control characters"),
    Case("espn-null-athlete-id", "espn.summary", athlete(lambda a: a["athlete"].update(id=None)),
         "`athlete__id` is null"),
    Case("espn-unknown-team-in-box-score", "espn.summary",
         summary(lambda b: b["boxscore"]["players"][0]["team"].update(id="77")),
         "`team__id`='77' is not a team of seeds/team_codes.csv (espn_id)"),
]  # fmt: skip

BALLDONTLIE = [
    Case("bdl-game-of-another-date", "bdl.games", game(put(date="2026-01-10")),
         "game date 2026-01-10 was not asked for"),
    Case("bdl-game-date-trailing-text", "bdl.games", game(put(date="2026-01-14junk")),
         "`date`='2026-01-14junk' is not a valid date"),
    Case("bdl-game-datetime-without-zone", "bdl.games", game(put(datetime="2026-01-15T00:00:00")),
         "has no time zone"),
    Case("bdl-game-wrong-season", "bdl.games", game(put(season=2019)),
         "date 2026-01-14 is not in the season it claims (2019-20)"),
    Case("bdl-final-scored-0-0", "bdl.games", game(put(home_team_score=0, visitor_team_score=0)),
         "a final game is not scored 0-0"),
    Case("bdl-unknown-team-id", "bdl.games", game(lambda g: g["home_team"].update(id=99)),
         "`home_team__id`=99 is not a team of seeds/team_codes.csv (bdl_id)"),
    Case("bdl-unknown-team-code", "bdl.games",
         game(lambda g: g["visitor_team"].update(abbreviation="XXX")),
         "`visitor_team__abbreviation`='XXX' is not a team"),
    Case("bdl-score-past-64-bits", "bdl.games", game(put(home_team_score=2**64)),
         "does not fit a 64-bit integer"),
    Case("bdl-id-2-to-the-63", "bdl.games", game(put(id=2**63)), "does not fit a 64-bit integer"),
    Case("bdl-score-out-of-range", "bdl.games", game(put(visitor_team_score=400)),
         "`visitor_team_score`=400 is outside [0, 250]"),
    Case("bdl-score-nan", "bdl.games", game(put(home_team_score=float("nan"))),
         "the body holds `NaN`, which is not a JSON number", InvalidJsonError),
    Case("bdl-final-game-without-stats", "bdl.stats", drop_first_game,
         "a final game has stat rows: game 18449212"),
    Case("bdl-empty-stats-page", "bdl.stats", lambda body, _url: bool(body.update(data=[])) or True,
         "a final game has stat rows: game"),
    Case("bdl-stat-of-another-date", "bdl.stats",
         row(lambda s: s["game"].update(date="2026-01-10")),
         "the stat's game date 2026-01-10 was not asked for"),
    Case("bdl-stat-wrong-season", "bdl.stats", row(lambda s: s["game"].update(season=2030)),
         "is not in the season it claims (2030-31)"),
    Case("bdl-points-out-of-range", "bdl.stats", row(put(pts=150)),
         "`pts`=150 is outside [0, 100]"),
    Case("bdl-points-retyped", "bdl.stats", row(put(pts="Infinity")),
         "column `pts` changed type: frozen bigint, received text", SchemaDriftError),
    Case("bdl-minutes-clock", "bdl.stats", row(put(min="30:99")), "'30:99' is not minutes:seconds"),
    Case("bdl-minutes-exponent", "bdl.stats", row(put(min="1e1")), "'1e1' is not whole minutes"),
    Case("bdl-minutes-too-many", "bdl.stats", row(put(min="90")), "is outside [0, 75] minutes"),
    Case("bdl-made-over-attempted", "bdl.stats", row(put(fgm=9, fga=4)),
         "`fgm`=9 is more than `fga`=4"),
    Case("bdl-blank-last-name", "bdl.stats", row(lambda s: s["player"].update(last_name="")),
         "`player__last_name` (a name) is blank"),
    Case("bdl-emoji-first-name", "bdl.stats",
         row(lambda s: s["player"].update(first_name="\U0001f525")), "is not a person's name"),
    Case("bdl-nul-in-name", "bdl.stats", row(lambda s: s["player"].update(last_name=NUL)),
         "holds control characters"),
    Case("bdl-10k-name", "bdl.stats", row(lambda s: s["player"].update(last_name=LONG)),
         "`player__last_name` is 10,001 characters long"),
    Case("bdl-stat-team-unknown", "bdl.stats", row(lambda s: s["team"].update(id=45)),
         "`team__id`=45 is not a team of seeds/team_codes.csv (bdl_id)"),
    Case("bdl-duplicate-stat-id", "bdl.stats",
         lambda body, _url: body["data"].append(body["data"][0]) or True, "duplicate key ('id',)"),
    Case("bdl-player-blank-name", "bdl.players", row(put(last_name=" ")),
         "`last_name` (a name) is blank"),
    Case("bdl-player-symbol-name", "bdl.players", row(put(last_name="X \u00c6 A-12")),
         "`last_name`='X Æ A-12' is not a person's name"),
    Case("bdl-player-surrogate", "bdl.players", row(put(first_name=SURROGATE)),
         "holds a lone surrogate"),
    Case("bdl-player-unknown-team", "bdl.players", row(lambda p: p["team"].update(id=99)),
         "`team__id`=99 is not a team of seeds/team_codes.csv (bdl_id)"),
    Case("bdl-player-id-past-64-bits", "bdl.players", row(put(id=2**64)),
         "does not fit a 64-bit integer"),
]  # fmt: skip

ODDS = [
    Case("odds-unread-field-surrogate", "odds.event_odds", outcome(put(note="a\udc80b")),
         "`_extra` (unread field(s) outcome__note) holds a lone surrogate"),
    Case("odds-sport-key", "odds.events", event(put(sport_key="soccer_epl")),
         "`sport_key`='soccer_epl' is not one of"),
    Case("odds-unknown-home-team", "odds.events", event(put(home_team="Team LeBron")),
         "`home_team`='Team LeBron' is not a team of seeds/team_codes.csv (odds_api_name)"),
    Case("odds-blank-away-team", "odds.events", event(put(away_team="")),
         "`away_team`='' is not a team"),
    Case("odds-event-in-another-year", "odds.events",
         event(put(commence_time="2027-01-16T00:30:00Z")),
         "starts on 2027-01-15 (New York), listed for 2026-01-15"),
    Case("odds-commence-without-zone", "odds.events",
         event(put(commence_time="2026-01-16T00:30:00")),
         "has no time zone"),
    Case("odds-props-of-another-event", "odds.event_odds",
         lambda body, _url: bool(body.update(id="e" * 32)) or True,
         f"answers event '{'e' * 32}' where"),
    Case("odds-featured-outside-slate", "odds.odds",
         lambda body, _url: bool(body[0].update(id="f" * 32)) or True,
         "which is not in the slate of 2026-01-15"),
    Case("odds-american-plus-money", "odds.event_odds",
         plus_money,
         "American odds where decimal were asked?"),
    Case("odds-price-below-one", "odds.event_odds", outcome(put(price=0.5)),
         "`outcome__price`=0.5 is outside [1.01, 1001]"),
    Case("odds-price-nan", "odds.event_odds", outcome(put(price=float("nan"))),
         "the body holds `NaN`, which is not a JSON number", InvalidJsonError),
    Case("odds-price-infinity", "odds.event_odds", outcome(put(price=float("-inf"))),
         "the body holds `-Infinity`, which is not a JSON number", InvalidJsonError),
    Case("odds-price-infinity-text", "odds.event_odds", outcome(put(price="Infinity")),
         "column `outcome__price` changed type: frozen double, received text", SchemaDriftError),
    Case("odds-price-as-text", "odds.event_odds", outcome(put(price="1.91")),
         "column `outcome__price` changed type: frozen double, received text", SchemaDriftError),
    Case("odds-side-push", "odds.event_odds", outcome(put(name="Push")),
         "`outcome__name`='Push' is not one of"),
    Case("odds-blank-player", "odds.event_odds", outcome(put(description=" ")),
         "`outcome__description` (a name) is blank"),
    Case("odds-emoji-player", "odds.event_odds", outcome(put(description="\U0001f525 Curry")),
         "is not a person's name"),
    Case("odds-prop-point-huge", "odds.event_odds", outcome(put(point=500)),
         "`outcome__point`=500 is outside [0, 150]"),
    Case("odds-market-update-without-zone", "odds.event_odds",
         lambda body, _url: bool(body["bookmakers"][0]["markets"][0].update(
             last_update="2026-01-15T16:25:08")) or True,
         "has no time zone"),
    Case("odds-null-bookmaker", "odds.event_odds",
         lambda body, _url: bool(body["bookmakers"][0].update(key=None)) or True,
         "`bookmaker__key` is null"),
    Case("odds-total-point-absurd", "odds.odds", featured("totals", each_outcome(put(point=50))),
         "total point 50.0 is outside [100, 400]"),
    Case("odds-spread-point-absurd", "odds.odds",
         featured("spreads", lambda m: [o.update(point=p) for o, p in zip(
             m["outcomes"], (-100, 100), strict=True)]),
         "spread point -100.0 is outside [-80, 80]"),
    Case("odds-total-without-point", "odds.odds",
         featured("totals", each_outcome(lambda o: o.pop("point"))), "totals outcome has no point"),
    Case("odds-h2h-american", "odds.odds",
         featured("h2h", lambda m: [o.update(price=p) for o, p in zip(
             m["outcomes"], (-150, 130), strict=True)]),
         "`outcome__price`=-150 is outside [1.01, 1001]"),
]  # fmt: skip

CASES = [*ESPN, *BALLDONTLIE, *ODDS]


def test_the_battery_is_at_least_sixty_distinct_inputs() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 60
    assert {c.source for c in CASES} == {"espn", "balldontlie", "odds_api"}


def landed_bodies(landing: Path, source: str, run_id: str, endpoint: str) -> list[str]:
    files = landing.glob(f"{source}/*/{run_id}/*-{endpoint}-*.json.gz")
    return [json.loads(gzip.decompress(f.read_bytes()))["body"] for f in files]


def edited_body(original: Path, replay: Path, endpoint: str) -> str:
    """The one body `edited` changed, as the replay serves it."""
    for path in sorted(replay.glob(f"*-{endpoint}-200.json")):
        body = json.loads(path.read_text())["body"]
        if body != json.loads((original / path.name).read_text())["body"]:
            return body
    raise AssertionError(f"no edited {endpoint} body in {replay}")


@pytest.fixture(scope="module")
def day_capture(tmp_path_factory: pytest.TempPathFactory, sandbox_server: Any) -> Path:
    """Every response of the demo day, captured once from the sandbox for all the cases."""
    sandbox_server.reset()
    root = tmp_path_factory.mktemp("hostile")
    run(make_config(root, sandbox_server, capture_dir=root / "capture"), load=False)
    return root / "capture"


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_a_hostile_input_is_contained(
    case: Case, tmp_path: Path, sandbox: Any, day_capture: Path, preloaded: tuple[Path, dict]
) -> None:
    replay = edited(day_capture, tmp_path, case.endpoint, case.edit)
    config = replayed(tmp_path / "run", sandbox, replay)
    before = copy_preloaded(preloaded, tmp_path / "run")
    witness = WITNESS[case.source]
    with pytest.raises(SourcesFailedError) as failed:
        run_extract(config, [TODAY], sources=(case.source, witness))
    # a non-zero exit naming the source, with the specific reason
    [failure] = failed.value.failures
    assert failure.source == case.source
    assert isinstance(failure.error, case.error), failure.error
    assert failed.value.exit_code == case.error.exit_code != 0
    if case.error is QuarantineError:
        reasons = [q["reason"] for q in quarantined(config) if q["source"] == case.source]
        assert any(case.reason in r for r in reasons), reasons
        logged = query(
            config.duckdb_path,
            "select count(*) from extract_log.quarantine where source = ? and reason like ?",
            [case.source, f"%{case.reason.replace('%', '')}%"],
        )
        assert logged[0][0] >= 1
    else:
        assert case.reason in str(failure.error)
    # nothing half-loaded, nothing pending
    after = warehouse_state(config.duckdb_path)
    dataset = DATASETS[case.source] + "."
    assert {k: v for k, v in after.items() if k.startswith(dataset)} == {
        k: v for k, v in before.items() if k.startswith(dataset)
    }
    pipeline = dlt.pipeline(
        pipeline_name=f"nba_props_{case.source}", pipelines_dir=str(config.dlt_dir)
    )
    assert not pipeline.has_pending_data
    # the witness loaded in the same run
    assert failed.value.loaded == [(TODAY, witness)]
    loads = f"{DATASETS[witness]}._dlt_loads"
    assert after[loads] == before[loads] + 1
    # the raw response kept, as it arrived
    run_id = failed.value.report.run_id  # type: ignore[attr-defined]
    body = edited_body(day_capture, replay, case.endpoint)
    assert body in landed_bodies(config.landing_dir, case.source, run_id, case.endpoint)
