"""The simulated NBA season behind the sandbox APIs: teams, players, games, box scores, lines.

`build_league(seed, season)` generates the whole regular season deterministically from the seed
(numpy Generators seeded per component, never Python's hash), and caches it on disk per
(seed, season, CODE_VERSION) so a test session or a server start pays the generation once.
`load_league` adds an in-process memo on top. The `League` it returns is read-only by convention:
every consumer (the HTTP layer, tests, the backtest through `write_truth`) shares one instance.

Types: timestamps are tz-aware UTC pandas Timestamps (`*_at` columns); dates (`game_date`,
`start_date`, `end_date`) are `datetime.date` objects, `None` when open-ended.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED, SEASONS
from sandbox.history import season_roster, trade_window
from sandbox.markets import bookmakers_frame, game_lines, player_props, snapshots
from sandbox.roster import RosterData, build_roster, stream_rng
from sandbox.schedule import assign_dates, matchups, season_window, tipoffs
from sandbox.simulate import SimResult, simulate
from sandbox.teams import team_table

log = logging.getLogger(__name__)

# Keys the on-disk cache together with a digest of the generator's source files and of the
# numpy/pandas versions (their random streams and pickles), so an edited simulator or an upgraded
# dependency never serves a stale season; bump it for any other change that alters the output.
CODE_VERSION = "11"  # 11: issue 9: books project players from their first game, open sharper
_GENERATOR_MODULES = (
    "defaults.py",
    "history.py",
    "league.py",
    "markets.py",
    "names.py",
    "roster.py",
    "schedule.py",
    "simulate.py",
    "teams.py",
)
CACHE_ENV = "NBA_PROPS_SANDBOX_CACHE"
# A cached season is ~100 MB: keep the few most recently used (per code version), drop the rest:
# the three served seasons and the two other seeds the market tests compare.
KEEP_CACHED = 6
_STALE_TMP_SECONDS = 3600  # a writer renames its temp file within seconds; older ones are debris
FRAMES = (
    "teams",
    "players",
    "stints",
    "games",
    "box",
    "truth",
    "bookmakers",
    "props",
    "game_lines",
    "injuries",
)


@dataclass(frozen=True)
class LeagueLookups:
    """The league's one index: every lookup by id, by date and by game, built once per League.

    Both the League's own accessors and the HTTP layer (`sandbox.apis.index.LeagueIndex`, which
    builds response-shaped records on top of this and looks nothing up by itself) read these, so
    a question such as "which game has this ESPN id" or "which games are on this date" has one
    answer. Positions are row positions in the League's frames; keys are game_key / player_key.
    """

    game_pos: dict[int, int]
    by_bdl: dict[int, int]
    by_espn: dict[str, int]
    by_odds: dict[str, int]
    by_date: dict[dt.date, np.ndarray]
    dates: list[dt.date]
    spans: dict[str, tuple[np.ndarray, np.ndarray]]
    player_pos: dict[int, int]
    player_by_bdl: dict[int, int]
    stints_of: dict[int, list[tuple[dt.date, dt.date | None, str]]]

    def positions_on(self, day: dt.date) -> np.ndarray:
        """Row positions in `games` of the games on `day` (New York), in tip-off order."""
        return self.by_date.get(day, _NO_POSITIONS)

    def positions_between(self, first: dt.date, last: dt.date) -> list[int]:
        """Row positions of the games from `first` to `last` inclusive, in tip-off order."""
        lo = bisect.bisect_left(self.dates, first)
        hi = bisect.bisect_right(self.dates, last)
        out: list[int] = []
        for day in self.dates[lo:hi]:
            out.extend(self.by_date[day].tolist())
        return out

    def span(self, frame_name: str, game_key: int) -> tuple[int, int]:
        """Row bounds [start, end) of one game's rows in a frame sorted by game_key."""
        keys, bounds = self.spans[frame_name]
        i = int(np.searchsorted(keys, int(game_key)))
        if i >= len(keys) or keys[i] != int(game_key):
            return 0, 0
        return int(bounds[i]), int(bounds[i + 1])


_NO_POSITIONS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class League:
    """One simulated season. Frames are shared between consumers: do not mutate them.

    Frames (see COMMON.md for every column): teams, players, stints, games, box, truth,
    bookmakers, props, game_lines, injuries. box/truth/props/game_lines are sorted by game_key so
    that `box_of(game_key)` and friends are slices, not scans. `injuries` holds one injury-report
    item per absence (player_key, team_key, game_key of the first game missed, released_at,
    status, reason, games_missed, season_ending, cleared_at: the tip-off of the game he is back
    for, NaT when he is not; expected_games_missed and expected_return_at: the estimate the report
    shows, since the actual return is the future at release), sorted by released_at.

    Types: `*_at` columns are tz-aware UTC (datetime64[us, UTC]); `game_date`, `start_date` and
    `end_date` hold `datetime.date` objects (`end_date` is None while the stint runs); nullable
    text (`dnp_reason`, `height`, `weight`, `college`) holds None, never NaN; draft fields are
    pandas Int64; `bookmaker_key` and `market` are categoricals. Extra columns beyond the
    contract: players.espn_first_name/espn_last_name/name_quirk, teams.time_zone,
    truth.team_key/available.

    Realism quirks worth knowing: a few games have a snapshot after tip-off (in-game lines);
    players ruled out on the day of a game have lines in the early snapshots that are pulled
    before the close; every DNP row has zero stats and a reason.
    """

    seed: int
    season: int
    teams: pd.DataFrame
    players: pd.DataFrame
    stints: pd.DataFrame
    games: pd.DataFrame
    box: pd.DataFrame
    truth: pd.DataFrame
    bookmakers: pd.DataFrame
    props: pd.DataFrame
    game_lines: pd.DataFrame
    injuries: pd.DataFrame
    lookups: LeagueLookups = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lookups", _build_lookups(self))

    def __repr__(self) -> str:
        return (
            f"League(seed={self.seed}, season={self.season}, games={len(self.games)}, "
            f"players={len(self.players)}, props={len(self.props)})"
        )

    # --- lookups -----------------------------------------------------------------------------
    def game(self, game_key: int) -> pd.Series:
        """The games row for `game_key`."""
        try:
            return self.games.iloc[self.lookups.game_pos[int(game_key)]]
        except KeyError:
            raise KeyError(f"sandbox league: no game with game_key={game_key!r}") from None

    def game_key_for(
        self,
        *,
        bdl_id: int | None = None,
        espn_id: str | None = None,
        odds_event_id: str | None = None,
    ) -> int:
        """Translate one source's game id into the internal game_key."""
        lookups = (
            ("bdl_id", bdl_id, self.lookups.by_bdl, int),
            ("espn_id", espn_id, self.lookups.by_espn, str),
            ("odds_event_id", odds_event_id, self.lookups.by_odds, str),
        )
        given = [
            (name, value, table, cast) for name, value, table, cast in lookups if value is not None
        ]
        if len(given) != 1:
            raise ValueError("sandbox league: pass exactly one of bdl_id, espn_id, odds_event_id")
        name, value, table, cast = given[0]
        try:
            return table[cast(value)]
        except (KeyError, ValueError):
            raise KeyError(f"sandbox league: no game with {name}={value!r}") from None

    def games_on(self, day: dt.date) -> pd.DataFrame:
        """Games whose America/New_York date is `day`, in tip-off order (maybe empty)."""
        return self.games.iloc[self.lookups.positions_on(day)]

    def _slice(self, frame_name: str, game_key: int) -> pd.DataFrame:
        start, end = self.lookups.span(frame_name, game_key)
        return getattr(self, frame_name).iloc[start:end]

    def box_of(self, game_key: int) -> pd.DataFrame:
        """Box-score rows of one game (home team first, depth order)."""
        return self._slice("box", game_key)

    def truth_of(self, game_key: int) -> pd.DataFrame:
        """Expectation rows of one game."""
        return self._slice("truth", game_key)

    def props_of(self, game_key: int) -> pd.DataFrame:
        """Every prop quote of one game, all books and snapshots (empty if none)."""
        return self._slice("props", game_key)

    def lines_of(self, game_key: int) -> pd.DataFrame:
        """Every game-line quote of one game, all books and snapshots."""
        return self._slice("game_lines", game_key)

    def player(self, player_key: int) -> pd.Series:
        """The players row for `player_key`."""
        try:
            return self.players.iloc[self.lookups.player_pos[int(player_key)]]
        except KeyError:
            raise KeyError(f"sandbox league: no player with player_key={player_key!r}") from None

    def team_of(self, player_key: int, day: dt.date) -> str:
        """team_key of the team the player belonged to on `day` (trades move players).

        The one answer for every consumer (the HTTP layer's index asks here too): before his
        first stint, his first team; an unknown player is a KeyError.
        """
        spans = self.lookups.stints_of.get(int(player_key))
        if not spans:
            raise KeyError(f"sandbox league: player_key={player_key!r} has no stint")
        return team_on(spans, day)

    def roster_on(self, team_key: str, day: dt.date) -> pd.DataFrame:
        """Players on `team_key` on `day`."""
        st = self.stints
        ends = st["end_date"].map(lambda d: d is None or d >= day)
        keys = st.loc[(st["team_key"] == team_key) & (st["start_date"] <= day) & ends]
        return self.players[self.players["player_key"].isin(keys["player_key"])]

    # --- whole-league helpers ------------------------------------------------------------------
    def frames(self) -> dict[str, pd.DataFrame]:
        """Every frame by name, in a fixed order."""
        return {name: getattr(self, name) for name in FRAMES}

    def fingerprint(self) -> str:
        """sha256 over every frame's content: equal fingerprints mean identical leagues."""
        digest = hashlib.sha256(f"{self.seed}/{self.season}".encode())
        for name, frame in self.frames().items():
            digest.update(name.encode())
            digest.update(",".join(map(str, frame.columns)).encode())
            hashed = pd.util.hash_pandas_object(frame.astype(_hashable(frame)), index=False)
            digest.update(hashed.to_numpy().tobytes())
        return digest.hexdigest()

    def write_truth(self, path: str | Path) -> Path:
        """Write the expectations to parquet for the backtest (atomically)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = self.truth.merge(
            self.games[["game_key", "game_date", "tipoff_at"]], on="game_key", how="left"
        )
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            frame.to_parquet(tmp_path, index=False)
            tmp_path.replace(target)
        finally:
            tmp_path.unlink(missing_ok=True)
        return target


def team_on(spans: list[tuple[dt.date, dt.date | None, str]], day: dt.date) -> str:
    """The team of a player's stints (start, end, team_key), sorted by start, on `day`: the stint
    covering it, else the last one begun by then, else (before his first) his first team.

    The one rule behind `League.team_of` and the server's cross-season people index alike.
    """
    current = spans[0][2]
    for start, end, team in spans:
        if start > day:
            break
        current = team
        if end is None or day <= end:
            return team
    return current


def _hashable(frame: pd.DataFrame) -> dict[str, str]:
    """Object columns (dates, None) are hashed through their string form."""
    return {c: "str" for c in frame.columns if frame[c].dtype == object}


def _build_lookups(league: League) -> LeagueLookups:
    games = league.games
    keys = games["game_key"].to_numpy()
    game_pos = {int(k): i for i, k in enumerate(keys)}
    # a day's games in tip-off order (then game_key), whatever order the frame holds them in
    tip = games["tipoff_at"].to_numpy()
    by_date: dict[dt.date, list[int]] = {}
    for i in np.lexsort((keys, tip)):
        by_date.setdefault(games["game_date"].iat[int(i)], []).append(int(i))
    spans = {}
    for name in ("box", "truth", "props", "game_lines"):
        col = getattr(league, name)["game_key"].to_numpy()
        uniq, first = np.unique(col, return_index=True)
        spans[name] = (uniq, np.append(first, len(col)))
    stints_of: dict[int, list[tuple[dt.date, dt.date | None, str]]] = {}
    for pk, team, start, end in league.stints[
        ["player_key", "team_key", "start_date", "end_date"]
    ].itertuples(index=False):
        stints_of.setdefault(int(pk), []).append((start, end, team))
    for player_spans in stints_of.values():
        player_spans.sort(key=lambda span: span[0])
    players = league.players
    return LeagueLookups(
        game_pos=game_pos,
        by_bdl={int(v): int(k) for v, k in zip(games["bdl_id"], keys, strict=True)},
        by_espn={str(v): int(k) for v, k in zip(games["espn_id"], keys, strict=True)},
        by_odds={str(v): int(k) for v, k in zip(games["odds_event_id"], keys, strict=True)},
        by_date={d: np.asarray(v, dtype=np.int64) for d, v in by_date.items()},
        dates=sorted(by_date),
        spans=spans,
        player_pos={int(k): i for i, k in enumerate(players["player_key"])},
        player_by_bdl={
            int(b): int(k) for b, k in zip(players["bdl_id"], players["player_key"], strict=True)
        },
        stints_of=stints_of,
    )


_rng = stream_rng


def generate_league(seed: int = DEFAULT_SEED, season: int = DEFAULT_SEASON) -> League:
    """Generate a season from scratch (no cache). Deterministic in (seed, season)."""
    teams, roster, games, sim = simulate_season(seed, season)
    props, lines = price_markets(seed, season, games, sim)
    return League(
        seed=int(seed),
        season=int(season),
        teams=teams,
        players=roster.players,
        stints=roster.stints,
        games=games,
        box=sim.box,
        truth=sim.truth,
        bookmakers=bookmakers_frame(),
        props=props,
        game_lines=lines,
        injuries=sim.news,
    )


def simulate_season(
    seed: int, season: int
) -> tuple[pd.DataFrame, RosterData, pd.DataFrame, SimResult]:
    """Teams, rosters, the schedule and every game played: everything but the books."""
    teams = team_table()
    start, _, _ = season_window(season)
    if season in SEASONS[:-1]:
        # the same people as the current season's, a year or two younger (sandbox/history.py)
        roster = season_roster(seed, season)
    else:
        roster = build_roster(_rng(seed, season, "roster"), teams, season, trade_window(season))
    # The simulator keys players by row (row + 1); an earlier season's rows are its people sorted
    # by person key, so mapping back is order-preserving and every sorted frame stays sorted.
    persons = roster.players["player_key"].to_numpy()
    local = np.arange(1, len(persons) + 1)
    by_row = not np.array_equal(persons, local)
    if by_row:
        to_local = dict(zip(persons.tolist(), local.tolist(), strict=True))
        roster = RosterData(
            roster.players.assign(player_key=local),
            roster.stints.assign(player_key=roster.stints["player_key"].map(to_local)),
            roster.params,
            roster.team_strength,
        )
    home, away = matchups(teams)
    day_of = assign_dates(home, away, len(teams), season, _rng(seed, season, "schedule"))
    dates, stamps = tipoffs(
        day_of, home, list(teams["time_zone"]), season, _rng(seed, season, "tipoff")
    )
    tip = pd.DatetimeIndex(stamps).as_unit("us")
    order = np.lexsort((home, tip.asi8))
    home, away, day_of = home[order], away[order], day_of[order]
    tip = tip[order]
    dates = [dates[i] for i in order]
    n_games = len(home)
    game_keys = np.arange(1, n_games + 1, dtype=np.int64) + _game_key_offset(season)
    team_keys = teams["team_key"].to_numpy()

    sim = simulate(
        _rng(seed, season, "simulate"), roster, team_keys, home, away, day_of, game_keys, tip, start
    )
    if by_row:
        sim = _with_person_keys(sim, persons)
        roster = RosterData(
            roster.players.assign(player_key=persons),
            roster.stints.assign(player_key=persons[roster.stints["player_key"].to_numpy() - 1]),
            roster.params,
            roster.team_strength,
        )

    ids = _rng(seed, season, "ids")
    bdl_lo, espn_lo = game_id_floors(season)
    bdl_ids = np.sort(ids.choice(np.arange(bdl_lo, bdl_lo + 6_000), n_games, replace=False))
    espn_ids = np.sort(ids.choice(np.arange(espn_lo, espn_lo + 6_000), n_games, replace=False))
    raw = ids.bytes(16 * n_games)
    odds_ids = [raw[16 * i : 16 * (i + 1)].hex() for i in range(n_games)]
    games = pd.DataFrame(
        {
            "game_key": game_keys,
            "season": np.full(n_games, season, dtype=np.int64),
            "game_date": pd.Series(dates, dtype=object),
            "tipoff_at": tip,
            "final_at": sim.final_at.as_unit("us"),
            "home_team_key": team_keys[home],
            "away_team_key": team_keys[away],
            "home_score": sim.home_score,
            "away_score": sim.away_score,
            "periods": sim.periods,
            "bdl_id": bdl_ids.astype(np.int64),
            "espn_id": [str(int(v)) for v in espn_ids],
            "odds_event_id": odds_ids,
        }
    )
    return teams, roster, games, sim


def _game_key_offset(season: int) -> int:
    """The current season's games are 1..1230 as they always were; other seasons' keys never
    meet them (2024-25: 20,240,001...)."""
    return 0 if season == DEFAULT_SEASON else season * 10_000


def game_id_floors(season: int) -> tuple[int, int]:
    """Lowest balldontlie game id and ESPN event id of a season's 6,000-wide id ranges.

    The current season's ranges are the ones it always had; each season back sits lower (ids grow
    with time in both APIs), so no two seasons' ids meet and cursors run season after season.
    """
    back = DEFAULT_SEASON - season
    return 18_446_000 - 1_500_000 * back, 401_809_000 - 120_000 * back


def _with_person_keys(sim: SimResult, persons: np.ndarray) -> SimResult:
    """The simulator's row keys (row + 1) replaced by person keys, in every player frame."""
    frames = {}
    for name in ("box", "truth", "news", "stages"):
        frame = getattr(sim, name).copy()
        frame["player_key"] = persons[frame["player_key"].to_numpy() - 1]
        frames[name] = frame
    return dataclasses.replace(sim, **frames)


def price_markets(
    seed: int, season: int, games: pd.DataFrame, sim: SimResult
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The books' prop quotes and game lines, from what was public at each snapshot."""
    snaps = snapshots(_rng(seed, season, "snapshots"), games)
    props = player_props(
        _rng(seed, season, "props"), games, sim.truth, sim.stages, sim.news, sim.box, snaps
    )
    lines = game_lines(_rng(seed, season, "game_lines"), games, sim.stage_team_exp, sim.news, snaps)
    props = props.sort_values(
        ["game_key", "bookmaker_key", "market", "player_key", "snapshot_at"], kind="stable"
    ).reset_index(drop=True)
    lines = lines.sort_values(["game_key", "bookmaker_key", "snapshot_at"], kind="stable")
    lines = lines.reset_index(drop=True)
    for frame in (props, lines):
        frame["snapshot_at"] = frame["snapshot_at"].dt.as_unit("us")
    return props, lines


def cache_dir() -> Path:
    """Where cached leagues live: $NBA_PROPS_SANDBOX_CACHE or <repo>/.cache/sandbox."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1] / ".cache" / "sandbox"


@functools.cache
def code_version() -> str:
    """CODE_VERSION plus a digest of the generator's source: what a cached season depends on."""
    digest = hashlib.sha256(CODE_VERSION.encode())
    digest.update(f"numpy {np.__version__} pandas {pd.__version__}".encode())
    here = Path(__file__).resolve().parent
    for name in _GENERATOR_MODULES:
        digest.update((here / name).read_bytes())
    return f"{CODE_VERSION}-{digest.hexdigest()[:12]}"


def cache_path(seed: int = DEFAULT_SEED, season: int = DEFAULT_SEASON) -> Path:
    """The cache file of one (seed, season) under the current code version."""
    return cache_dir() / f"league-{season}-{seed}-v{code_version()}.pkl"


def _read_cache(path: Path, seed: int, season: int) -> League:
    with path.open("rb") as fh:
        # Mark it used, so pruning drops the least recently used seasons first.
        with contextlib.suppress(OSError):
            os.utime(fh.fileno())
        # Our own file, written by _write_cache below under a name we chose: not untrusted input.
        payload: dict[str, Any] = pickle.load(fh)  # noqa: S301
    if (payload.get("version"), payload.get("seed"), payload.get("season")) != (
        code_version(),
        seed,
        season,
    ):
        raise ValueError(f"sandbox league cache {path}: header does not match seed/season/version")
    return League(seed=seed, season=season, **payload["frames"])


def _write_cache(path: Path, league: League) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "version": code_version(),
        "seed": league.seed,
        "season": league.season,
        "frames": league.frames(),
    }
    # Write beside the target, then rename: a reader sees the old file or the whole new one.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    _prune(path)


def _prune(keep: Path) -> None:
    """Bound the cache directory: other code versions, crash debris, least recently used seasons.

    Safe with concurrent processes: a file being read stays readable after unlink (POSIX), a
    process whose cache file vanished before it opened it regenerates, and temp files younger
    than an hour may belong to a writer still at work.
    """
    suffix = f"-v{code_version()}.pkl"
    current: list[tuple[float, Path]] = []
    for cached in keep.parent.glob("league-*.pkl"):
        if cached == keep:
            continue
        if not cached.name.endswith(suffix):
            cached.unlink(missing_ok=True)
            continue
        with contextlib.suppress(OSError):
            current.append((cached.stat().st_mtime, cached))
    current.sort(reverse=True)
    for _, cached in current[KEEP_CACHED - 1 :]:
        cached.unlink(missing_ok=True)
    cutoff = time.time() - _STALE_TMP_SECONDS
    for debris in keep.parent.glob("league-*.tmp"):
        with contextlib.suppress(OSError):
            if debris.stat().st_mtime < cutoff:
                debris.unlink()


@contextlib.contextmanager
def _build_lock(directory: Path) -> Iterator[None]:
    """Builders sharing a cache directory take turns (advisory lock, released on exit or crash)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "build.lock").open("a") as fh:
        if fcntl is not None:  # POSIX; elsewhere two builders just both build (still atomic)
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock


_UNREADABLE = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,  # pickled by another pandas/numpy version
    ImportError,
)


def build_league(
    seed: int = DEFAULT_SEED, season: int = DEFAULT_SEASON, *, use_cache: bool = True
) -> League:
    """The season for (seed, season), from the disk cache when present, else generated and cached.

    An unreadable cache file (truncated by a crash, pickled by another pandas) is regenerated and
    replaced, with a warning, rather than failing the caller. Processes missing the same cache at
    once take turns: the second finds the first one's file after the lock and reads it.
    """
    if not use_cache:
        return generate_league(seed, season)
    path = cache_path(seed, season)
    with contextlib.ExitStack() as stack:
        for locked in (False, True):
            if locked:
                stack.enter_context(_build_lock(path.parent))
            if path.exists():
                try:
                    return _read_cache(path, seed, season)
                except _UNREADABLE as exc:
                    log.warning("sandbox league cache %s unreadable (%s); regenerating", path, exc)
        league = generate_league(seed, season)
        _write_cache(path, league)
        return league


_MEMO: dict[tuple[int, int, str], League] = {}


def load_league(seed: int = DEFAULT_SEED, season: int = DEFAULT_SEASON) -> League:
    """`build_league` memoised in-process: every caller in one process shares one League."""
    key = (int(seed), int(season), str(cache_path(seed, season)))
    if key not in _MEMO:
        _MEMO[key] = build_league(seed, season)
    return _MEMO[key]
