"""The league's response-shaped records for serving: games, box rows, line slices.

One index, two layers. The League owns the lookups (`League.lookups`: game by every source's id,
games by date, a game's rows in each frame, a player's stints and so his team on a date), because
they are facts of the league that the League's own accessors need too, and the league must not
depend on its HTTP face. `LeagueIndex` builds on top of them only what the server renders from:
plain-Python records (`GameRec`, `BoxRow`, player and team dicts) and the line snapshots as numpy
columns, each stored once in frame order and reached through the League's lookups. It defines no
lookup of its own beyond orderings a response needs (balldontlie ids ascending, for cursors).

Built once per League (cached by object identity) so that a request never scans a whole DataFrame:
a day's requests touch a dict lookup per game and a numpy slice per game's lines. Everything the
server derives beyond League (balldontlie stat ids, in-progress scores and clocks, snapshot times)
is defined here, on the server's side.
"""

from __future__ import annotations

import bisect
import functools
import math
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sandbox.defaults import DEFAULT_SEASON
from sandbox.league import team_on
from sandbox.schedule import season_window
from sandbox.teams import team_table

_STAT_ID_BASE = 20_000_000
# each season back starts its stat ids this much lower: ids grow with time, never meet
_STAT_IDS_PER_SEASON = 1_000_000
_REGULATION_SECONDS = 4 * 12 * 60
_QUARTER_SECONDS = 12 * 60
_OVERTIME_SECONDS = 5 * 60
# Gamma shape of each game minute's share of a side's points: runs and droughts, so a live score
# wanders about the straight line to the final (a halftime score says the final to +-10 or so).
_SCORING_SHAPE = 3.0


def _py(value: Any) -> Any:
    """A plain Python scalar: pandas NA/NaN/NaT become None, numpy numbers become int/float."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _as_date(value: Any) -> date | None:
    value = _py(value)
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_utc(value: Any) -> datetime | None:
    value = _py(value)
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        raise ValueError(f"league timestamp {value!r} is naive; League promises tz-aware UTC")
    return ts.tz_convert(UTC).to_pydatetime()


def _ns(ts: datetime) -> int:
    return int(pd.Timestamp(ts).value)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns_to_dt(ns: int) -> datetime:
    # plain datetime arithmetic: pd.Timestamp costs more than the rest of a prop line's rendering
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)


@dataclass(slots=True)
class GameRec:
    """One game with everything a renderer needs; `snapshot_ns` holds every line snapshot time."""

    game_key: int
    season: int
    game_date: date
    tipoff_at: datetime
    final_at: datetime
    home: str
    away: str
    home_score: int
    away_score: int
    periods: int
    bdl_id: int
    espn_id: str
    odds_event_id: str
    snapshot_ns: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    postseason: bool = False

    @property
    def first_line_at(self) -> datetime | None:
        return _ns_to_dt(self.snapshot_ns[0]) if len(self.snapshot_ns) else None

    def latest_snapshot_at(self, at: datetime) -> datetime | None:
        """The last line snapshot taken at or before `at` (None before the opening line)."""
        pos = int(np.searchsorted(self.snapshot_ns, _ns(at), side="right"))
        return _ns_to_dt(self.snapshot_ns[pos - 1]) if pos else None

    def phase(self, now: datetime) -> str:
        """pre / in / post at `now`: a game is final only once `final_at` has passed."""
        if now < self.tipoff_at:
            return "pre"
        if now < self.final_at:
            return "in"
        return "post"

    def listed(self, at: datetime) -> bool:
        """Books list a game from its opening line until it has concluded."""
        first = self.first_line_at
        return first is not None and first <= at < self.final_at


@dataclass(frozen=True, slots=True)
class Progress:
    """The state of a game at one moment, as scoreboards show it."""

    phase: str
    period: int
    clock_seconds: float
    home_score: int
    away_score: int

    @property
    def clock(self) -> str:
        whole = int(self.clock_seconds)
        return f"{whole // 60}:{whole % 60:02d}"


def progress(game: GameRec, now: datetime) -> Progress:
    """Scores and clock at `now`; the final score only once the game is final.

    In-game, the clock runs linearly from tip-off to `final_at` over regulation then overtime, and
    each side's running score follows its own scoring path (see `_scoring_path`) to the final,
    rounded down so it never shows the final before the end.
    """
    phase = game.phase(now)
    if phase == "pre":
        return Progress("pre", 0, 0.0, 0, 0)
    if phase == "post":
        return Progress("post", game.periods, 0.0, game.home_score, game.away_score)
    share = (now - game.tipoff_at) / (game.final_at - game.tipoff_at)
    total = _REGULATION_SECONDS + max(0, game.periods - 4) * _OVERTIME_SECONDS
    elapsed = share * total
    if elapsed < _REGULATION_SECONDS:
        period = int(elapsed // _QUARTER_SECONDS) + 1
        clock = _QUARTER_SECONDS - (elapsed % _QUARTER_SECONDS)
    else:
        extra = elapsed - _REGULATION_SECONDS
        period = 5 + int(extra // _OVERTIME_SECONDS)
        clock = _OVERTIME_SECONDS - (extra % _OVERTIME_SECONDS)
    period = min(period, game.periods)
    path = _scoring_path(game.game_key, total // 60)
    minute = elapsed / 60.0
    done_home = float(np.interp(minute, np.arange(path.shape[1]), path[0]))
    done_away = float(np.interp(minute, np.arange(path.shape[1]), path[1]))
    return Progress(
        "in",
        period,
        clock,
        min(math.floor(game.home_score * done_home), game.home_score - 1),
        min(math.floor(game.away_score * done_away), game.away_score - 1),
    )


def period_end_at(game: GameRec, period: int) -> datetime:
    """When `period` ends on the clock `progress` runs (line scores are read off it there)."""
    total = _REGULATION_SECONDS + max(0, game.periods - 4) * _OVERTIME_SECONDS
    if period <= 4:
        done = period * _QUARTER_SECONDS
    else:
        done = _REGULATION_SECONDS + (period - 4) * _OVERTIME_SECONDS
    return game.tipoff_at + (game.final_at - game.tipoff_at) * (done / total)


@functools.lru_cache(maxsize=4096)
def _scoring_path(game_key: int, minutes: int) -> np.ndarray:
    """Each side's cumulative share of its final score after each game minute (0 .. 1).

    A live score that is the final scaled by the clock would hand anyone the result mid-game (a
    leak of the future); a path with runs and droughts, seeded by the game alone, tells as much
    as a real live score does.
    """
    rng = np.random.default_rng([int(game_key), minutes, 0x5C0E])
    weights = rng.gamma(_SCORING_SHAPE, 1.0, (2, minutes))
    path = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    return np.concatenate([np.zeros((2, 1)), path], axis=1)


@dataclass(slots=True)
class BoxRow:
    """One player's line in one game, with the balldontlie stat id the server assigns."""

    stat_id: int
    game_key: int
    player_key: int
    team_key: str
    is_starter: bool
    did_not_play: bool
    dnp_reason: str | None
    seconds_played: int
    pts: int
    fgm: int
    fga: int
    fg3m: int
    fg3a: int
    ftm: int
    fta: int
    oreb: int
    dreb: int
    reb: int
    ast: int
    stl: int
    blk: int
    tov: int
    pf: int
    plus_minus: int


_BOX_INT_FIELDS = (
    "seconds_played",
    "pts",
    "fgm",
    "fga",
    "fg3m",
    "fg3a",
    "ftm",
    "fta",
    "oreb",
    "dreb",
    "reb",
    "ast",
    "stl",
    "blk",
    "tov",
    "pf",
    "plus_minus",
)


@dataclass(frozen=True, slots=True)
class PropLine:
    bookmaker_key: str
    market: str
    player_key: int
    snapshot_at: datetime
    point: float
    over_price: float
    under_price: float


@dataclass(frozen=True, slots=True)
class GameLine:
    bookmaker_key: str
    snapshot_at: datetime
    h2h_home_price: float
    h2h_away_price: float
    spread_home_point: float
    spread_home_price: float
    spread_away_price: float
    total_point: float
    total_over_price: float
    total_under_price: float


class _Slices:
    """A frame sorted by (game, group..., snapshot) kept as numpy columns, sliced per game."""

    def __init__(
        self,
        frame: pd.DataFrame,
        group_cols: list[str],
        value_cols: list[str],
        span: Any,
    ) -> None:
        # `span(game_key) -> (start, end)`: the League's per-game bounds. The lexsort below keeps
        # game_key the primary key, so each game's rows stay at the same positions.
        self.span = span
        self.codes: dict[str, list[Any]] = {}
        columns: dict[str, np.ndarray] = {}
        for col in group_cols:
            values = frame[col]
            if values.dtype.kind in "iu":
                columns[col] = values.to_numpy(dtype="int64")
                continue
            cats = values.array if isinstance(values.dtype, pd.CategoricalDtype) else None
            if cats is None:
                cats = pd.Categorical(values.astype(str))
            self.codes[col] = [str(c) for c in cats.categories]
            columns[col] = np.asarray(cats.codes, dtype="int64")
        game = frame["game_key"].to_numpy(dtype="int64")
        # nanoseconds whatever unit the frame stores, to compare with pd.Timestamp(...).value
        snap = pd.to_datetime(frame["snapshot_at"], utc=True).dt.as_unit("ns").array.asi8
        keys = [snap] + [columns[c] for c in reversed(group_cols)] + [game]
        order = np.lexsort(keys)
        self.game = game[order]
        self.snap = np.asarray(snap)[order]
        self.groups = [columns[c][order] for c in group_cols]
        self.values = {c: frame[c].to_numpy(dtype="float64")[order] for c in value_cols}
        self.group_cols = group_cols
        # a single integer per row naming its group, to find "last row of each group" quickly
        combined = np.zeros(len(order), dtype="int64")
        for arr in self.groups:
            combined = combined * (int(arr.max(initial=0)) + 1) + arr
        self.group_id = combined

    def latest(self, game_key: int, at_ns: int) -> np.ndarray:
        """Row positions of the latest row per group with snapshot <= at."""
        start, end = self.span(game_key)
        if start == end:
            return np.empty(0, dtype="int64")
        rows = np.arange(start, end)[self.snap[start:end] <= at_ns]
        if not len(rows):
            return rows
        gid = self.group_id[rows]
        last = np.append(gid[1:] != gid[:-1], True)
        return rows[last]

    def label(self, col_pos: int, row: int) -> Any:
        col = self.group_cols[col_pos]
        value = int(self.groups[col_pos][row])
        return self.codes[col][value] if col in self.codes else value

    def snapshot_ns(self, game_key: int) -> np.ndarray:
        start, end = self.span(game_key)
        return self.snap[start:end]


class _Records(Mapping[Any, Any]):
    """Records stored once in frame order, reached by key through the League's lookups.

    `steps` are the League's dicts applied in turn (balldontlie id -> game_key -> position), so the
    HTTP layer answers "which record has this id" with the League's one answer.
    """

    __slots__ = ("_records", "_steps")

    def __init__(self, records: list[Any], *steps: Mapping[Any, Any]) -> None:
        self._records = records
        self._steps = steps

    def __getitem__(self, key: Any) -> Any:
        for step in self._steps:
            key = step[key]
        return self._records[key]

    def get(self, key: Any, default: Any = None) -> Any:
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def __contains__(self, key: object) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __iter__(self) -> Iterator[Any]:
        return iter(self._steps[0])

    def __len__(self) -> int:
        return len(self._steps[0])


_MISSING = object()


class LeagueIndex:
    """Response-shaped records over one League; read-only, safe to share between request threads.

    Every lookup goes through `league.lookups` (see the module docstring); what is stored here is
    the rendering material: `GameRec` per game, `BoxRow` lists per game and per player, player and
    team dicts with plain-Python values, the prop and game-line snapshots as numpy columns.
    """

    def __init__(self, league: Any, people: PeopleIndex | None = None) -> None:
        self.league = league
        self.lookups = league.lookups
        # A server of several seasons answers "his team on a date" across them (see PeopleIndex)
        self.people = people
        self.seed = int(league.seed)
        self.season = int(league.season)
        self._index_teams(league.teams)
        self._index_players(league.players)
        self._index_lines(league.props, league.game_lines)
        self._index_games(league.games)
        self._index_box(league.box)
        self.bookmakers: list[tuple[str, str]] = [
            (str(r.bookmaker_key), str(r.title)) for r in league.bookmakers.itertuples(index=False)
        ]
        self.bookmaker_title = dict(self.bookmakers)

    # --- teams and players --------------------------------------------------------------------

    def _index_teams(self, teams: pd.DataFrame) -> None:
        self.teams: dict[str, dict[str, Any]] = {}
        for rec in teams.to_dict("records"):
            row = {k: _py(v) for k, v in rec.items()}
            self.teams[str(row["team_key"])] = row

    def _index_players(self, players: pd.DataFrame) -> None:
        records = [{k: _py(v) for k, v in rec.items()} for rec in players.to_dict("records")]
        # player_key -> record and balldontlie id -> player_key: the League's lookups
        self.players: Mapping[int, dict[str, Any]] = _Records(records, self.lookups.player_pos)
        self.player_by_bdl_id: Mapping[int, int] = self.lookups.player_by_bdl
        self.players_sorted_by_bdl = sorted(self.players, key=lambda k: self.players[k]["bdl_id"])

    def team_of(self, player_key: int, on: date) -> str:
        """The team a player belonged to on a date: the League's one answer (see League.team_of),
        over every served season's stints when the server serves several."""
        if self.people is not None:
            return self.people.team_of(player_key, on)
        return str(self.league.team_of(player_key, on))

    def debuted(self, player_key: int, on: date) -> bool:
        """Whether /players lists him on `on`: one season's roster is listed whole."""
        return True

    # --- games ----------------------------------------------------------------------------------

    def _index_games(self, games: pd.DataFrame) -> None:
        by_pos: list[GameRec] = []
        for rec in games.to_dict("records"):
            key = int(rec["game_key"])
            tipoff = _as_utc(rec["tipoff_at"])
            final = _as_utc(rec["final_at"])
            game_date = _as_date(rec["game_date"])
            if tipoff is None or final is None or game_date is None:
                raise ValueError(f"league games: game {key} lacks tipoff_at/final_at/game_date")
            snaps = np.union1d(self._props.snapshot_ns(key), self._lines.snapshot_ns(key))
            by_pos.append(
                GameRec(
                    game_key=key,
                    season=int(rec["season"]),
                    game_date=game_date,
                    tipoff_at=tipoff,
                    final_at=final,
                    home=str(rec["home_team_key"]),
                    away=str(rec["away_team_key"]),
                    home_score=int(rec["home_score"]),
                    away_score=int(rec["away_score"]),
                    periods=int(rec["periods"]),
                    bdl_id=int(rec["bdl_id"]),
                    espn_id=str(rec["espn_id"]),
                    odds_event_id=str(rec["odds_event_id"]),
                    snapshot_ns=snaps.astype("int64"),
                    postseason=bool(_py(rec.get("postseason")) or False),
                )
            )
        look = self.lookups
        self._game_at = by_pos  # in the League's frame order: lookups give positions
        self.games = sorted(by_pos, key=lambda g: (g.tipoff_at, g.game_key))
        self.game_by_key: Mapping[int, GameRec] = _Records(by_pos, look.game_pos)
        self.game_by_bdl_id: Mapping[int, GameRec] = _Records(by_pos, look.by_bdl, look.game_pos)
        self.game_by_espn_id: Mapping[str, GameRec] = _Records(by_pos, look.by_espn, look.game_pos)
        self.game_by_odds_id: Mapping[str, GameRec] = _Records(by_pos, look.by_odds, look.game_pos)
        self.dates: list[date] = look.dates
        self.games_by_bdl_id = sorted(by_pos, key=lambda g: g.bdl_id)
        self._bdl_ids = [g.bdl_id for g in self.games_by_bdl_id]
        self.season_start = self.dates[0] if self.dates else season_window(self.season)[0]
        leads = [g.tipoff_at - g.first_line_at for g in by_pos if g.first_line_at is not None]
        self.listing_lead: timedelta = max(leads, default=timedelta(0))

    def games_on(self, day: date) -> list[GameRec]:
        at = self._game_at
        return [at[p] for p in self.lookups.positions_on(day).tolist()]

    def games_between(self, first: date, last: date) -> list[GameRec]:
        at = self._game_at
        return [at[p] for p in self.lookups.positions_between(first, last)]

    def games_after_bdl_id(self, cursor: int) -> list[GameRec]:
        """Games in balldontlie id order with an id above the cursor."""
        return self.games_by_bdl_id[bisect.bisect_right(self._bdl_ids, cursor) :]

    # --- box scores -----------------------------------------------------------------------------

    def _index_box(self, box: pd.DataFrame) -> None:
        # column lists, not per-cell conversions: this runs over every player-game of the season
        ints = {
            name: box[name].fillna(0).to_numpy(dtype="int64").tolist() for name in _BOX_INT_FIELDS
        }
        reasons = [_py(v) for v in box["dnp_reason"].tolist()]
        columns = list(
            zip(
                box["game_key"].to_numpy(dtype="int64").tolist(),
                box["player_key"].to_numpy(dtype="int64").tolist(),
                box["team_key"].astype(str).tolist(),
                box["is_starter"].to_numpy(dtype=bool).tolist(),
                box["did_not_play"].to_numpy(dtype=bool).tolist(),
                reasons,
                *(ints[name] for name in _BOX_INT_FIELDS),
                strict=True,
            )
        )
        by_pos: list[list[BoxRow]] = [[] for _ in self._game_at]
        self.box: Mapping[int, list[BoxRow]] = _Records(by_pos, self.lookups.game_pos)
        self.box_by_player: dict[int, list[BoxRow]] = defaultdict(list)
        next_id = _STAT_ID_BASE - _STAT_IDS_PER_SEASON * (DEFAULT_SEASON - self.season)
        for game in self.games:
            start, end = self.lookups.span("box", game.game_key)
            rows = columns[start:end]
            team_order = {game.away: 0, game.home: 1}
            # away team first, starters, then bench by minutes, did-not-play last
            rows.sort(key=lambda r: (team_order.get(r[2], 2), not r[3], r[4], -r[6], r[1]))
            out = by_pos[self.lookups.game_pos[game.game_key]]
            for values in rows:
                next_id += 1
                row = BoxRow(next_id, *values)
                out.append(row)
                self.box_by_player[row.player_key].append(row)

    # --- lines ----------------------------------------------------------------------------------

    def _index_lines(self, props: pd.DataFrame, game_lines: pd.DataFrame) -> None:
        span = self.lookups.span
        self._props = _Slices(
            props,
            ["bookmaker_key", "market", "player_key"],
            ["point", "over_price", "under_price"],
            functools.partial(span, "props"),
        )
        self._lines = _Slices(
            game_lines,
            ["bookmaker_key"],
            [
                "h2h_home_price",
                "h2h_away_price",
                "spread_home_point",
                "spread_home_price",
                "spread_away_price",
                "total_point",
                "total_over_price",
                "total_under_price",
            ],
            functools.partial(span, "game_lines"),
        )

    def props_at(self, game_key: int, at: datetime) -> list[PropLine]:
        """Each (book, market, player)'s latest prop line at `at`: nothing later can leak."""
        sl = self._props
        out = []
        for row in sl.latest(game_key, _ns(at)):
            out.append(
                PropLine(
                    bookmaker_key=sl.label(0, row),
                    market=sl.label(1, row),
                    player_key=int(sl.groups[2][row]),
                    snapshot_at=_ns_to_dt(sl.snap[row]),
                    point=float(sl.values["point"][row]),
                    over_price=float(sl.values["over_price"][row]),
                    under_price=float(sl.values["under_price"][row]),
                )
            )
        return out

    def game_lines_at(self, game_key: int, at: datetime) -> list[GameLine]:
        """Each book's latest featured-market line at `at`."""
        sl = self._lines
        out = []
        for row in sl.latest(game_key, _ns(at)):
            values = {name: float(arr[row]) for name, arr in sl.values.items()}
            out.append(
                GameLine(
                    bookmaker_key=sl.label(0, row), snapshot_at=_ns_to_dt(sl.snap[row]), **values
                )
            )
        return out


class PeopleIndex:
    """Everyone of every served season, for balldontlie's all-time `/players` (issue 13).

    Built from the seasons' rosters alone (sandbox/history.py: no games simulated, no season
    loaded), so listing players never loads a season the request does not ask about. A person's
    team on a date follows `team_on` over his stints of all seasons: in a season he played, that
    season's team; after his last, his last team. He is listed from his first stint on.
    """

    def __init__(self, seed: int) -> None:
        from sandbox.history import people, stints

        self.seed = int(seed)
        self.season = DEFAULT_SEASON
        self.teams: dict[str, dict[str, Any]] = {}
        for rec in team_table().to_dict("records"):
            row = {k: _py(v) for k, v in rec.items()}
            self.teams[str(row["team_key"])] = row
        self.players: dict[int, dict[str, Any]] = {}
        for rec in people(seed).to_dict("records"):
            row = {k: _py(v) for k, v in rec.items()}
            self.players[int(row["player_key"])] = row
        self.player_by_bdl_id = {int(p["bdl_id"]): key for key, p in self.players.items()}
        self.players_sorted_by_bdl = sorted(self.players, key=lambda k: self.players[k]["bdl_id"])
        self._stints: dict[int, list[tuple[date, date | None, str]]] = defaultdict(list)
        for pk, team, start, end in stints(seed)[
            ["player_key", "team_key", "start_date", "end_date"]
        ].itertuples(index=False):
            self._stints[int(pk)].append((start, end, str(team)))
        for key, spans in self._stints.items():
            spans.sort(key=lambda span: span[0])
            # a season's open last stint ends where his next season's first begins
            self._stints[key] = [
                (start, end if end is not None or i + 1 == len(spans) else
                 spans[i + 1][0] - timedelta(days=1), team)
                for i, (start, end, team) in enumerate(spans)
            ]  # fmt: skip

    def team_of(self, player_key: int, on: date) -> str:
        spans = self._stints.get(int(player_key))
        if not spans:
            raise KeyError(f"sandbox people: player_key={player_key!r} has no stint")
        return team_on(spans, on)

    def debuted(self, player_key: int, on: date) -> bool:
        return self._stints[int(player_key)][0][0] <= on


_CACHE: dict[int, tuple[weakref.ref[Any], LeagueIndex]] = {}
_CACHE_LOCK = threading.Lock()


def index_for(league: Any, people: PeopleIndex | None = None) -> LeagueIndex:
    """One LeagueIndex per League object, shared by every server built on it.

    `people` (a server of several seasons) is attached to the shared index: it is the same for
    every server of the League's seed, and changes no answer about the League's own season.
    """
    with _CACHE_LOCK:
        hit = _CACHE.get(id(league))
        if hit is not None and hit[0]() is league:
            if people is not None:
                hit[1].people = people
            return hit[1]
    built = LeagueIndex(league, people)
    with _CACHE_LOCK:
        for key in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
            del _CACHE[key]
        _CACHE[id(league)] = (weakref.ref(league), built)
    return built


@functools.lru_cache(maxsize=4)
def people_for(seed: int) -> PeopleIndex:
    """One PeopleIndex per seed (built from rosters alone, in well under a second)."""
    return PeopleIndex(seed)
