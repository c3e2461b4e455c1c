"""The League interface: frames, types, ids, helpers, cache and determinism.

The season itself comes from the session fixture `sandbox_league` (sandbox/pytest_plugin.py), so
it is generated (or read from the disk cache) once per test session.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sandbox.league as league_mod
from sandbox.league import (
    CACHE_ENV,
    CODE_VERSION,
    DEFAULT_SEASON,
    DEFAULT_SEED,
    League,
    build_league,
    cache_dir,
    cache_path,
    code_version,
    generate_league,
    load_league,
)
from sandbox.names import strip_accents

REPO = Path(__file__).resolve().parents[2]

REQUIRED = {
    "teams": [
        "team_key", "full_name", "city", "nickname", "conference", "division", "bdl_id",
        "bdl_abbreviation", "bdl_city", "bdl_name", "bdl_full_name", "espn_id",
        "espn_abbreviation", "espn_display_name", "espn_location", "espn_name",
    ],
    "players": [
        "player_key", "bdl_id", "espn_id", "bdl_first_name", "bdl_last_name",
        "espn_display_name", "espn_short_name", "odds_name", "position", "height", "weight",
        "jersey_number", "college", "country", "draft_year", "draft_round", "draft_number",
    ],
    "stints": ["player_key", "team_key", "start_date", "end_date"],
    "games": [
        "game_key", "season", "game_date", "tipoff_at", "final_at", "home_team_key",
        "away_team_key", "home_score", "away_score", "periods", "bdl_id", "espn_id",
        "odds_event_id",
    ],
    "box": [
        "game_key", "player_key", "team_key", "is_starter", "did_not_play", "dnp_reason",
        "seconds_played", "pts", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb",
        "ast", "stl", "blk", "tov", "pf", "plus_minus",
    ],
    "truth": ["game_key", "player_key", "exp_minutes", "exp_pts", "exp_reb", "exp_ast", "exp_fg3m"],
    "bookmakers": ["bookmaker_key", "title"],
    "props": [
        "game_key", "bookmaker_key", "market", "player_key", "snapshot_at", "point", "over_price",
        "under_price",
    ],
    "game_lines": [
        "game_key", "bookmaker_key", "snapshot_at", "h2h_home_price", "h2h_away_price",
        "spread_home_point", "spread_home_price", "spread_away_price", "total_point",
        "total_over_price", "total_under_price",
    ],
}  # fmt: skip


def _mini_league(league: League, n_games: int = 5) -> League:
    """A few games of the real league, to exercise the cache without a 100 MB pickle."""
    keys = set(league.games["game_key"].head(n_games))
    frames = league.frames()
    for name in ("games", "box", "truth", "props", "game_lines"):
        frame = frames[name]
        frames[name] = frame[frame["game_key"].isin(keys)].reset_index(drop=True)
    return League(seed=league.seed, season=league.season, **frames)


# --- frames and types ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_frame_has_every_specified_column(sandbox_league: League, name: str) -> None:
    frame = getattr(sandbox_league, name)
    missing = [c for c in REQUIRED[name] if c not in frame.columns]
    assert not missing, f"{name} lacks {missing}"
    assert len(frame) > 0


def test_timestamps_are_tz_aware_utc(sandbox_league: League) -> None:
    for name, col in (
        ("games", "tipoff_at"),
        ("games", "final_at"),
        ("props", "snapshot_at"),
        ("game_lines", "snapshot_at"),
    ):
        series = getattr(sandbox_league, name)[col]
        assert str(series.dt.tz) == "UTC", f"{name}.{col} is {series.dtype}"
    games = sandbox_league.games
    assert (games["final_at"] > games["tipoff_at"]).all()


def test_dates_are_python_dates_and_nulls_are_none(sandbox_league: League) -> None:
    assert all(type(d) is dt.date for d in sandbox_league.games["game_date"])
    stints = sandbox_league.stints
    assert all(type(d) is dt.date for d in stints["start_date"])
    assert all(d is None or type(d) is dt.date for d in stints["end_date"])
    assert any(d is None for d in stints["end_date"])
    box = sandbox_league.box
    assert all(r is None for r in box.loc[~box["did_not_play"], "dnp_reason"])
    assert all(isinstance(r, str) and r for r in box.loc[box["did_not_play"], "dnp_reason"])
    players = sandbox_league.players
    for col in ("height", "weight", "college"):
        values = players[col].tolist()
        assert all(v is None or isinstance(v, str) for v in values), col
        assert any(v is None for v in values), f"no null {col}: the quirk is not exercised"


def test_game_ids_have_each_source_shape(sandbox_league: League) -> None:
    games = sandbox_league.games
    assert games["game_key"].is_unique
    assert games["bdl_id"].is_unique
    assert games["espn_id"].str.fullmatch(r"\d{9}").all()
    assert games["espn_id"].is_unique
    assert games["odds_event_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert games["odds_event_id"].is_unique
    assert games["bdl_id"].dtype == np.int64
    assert (games["season"] == DEFAULT_SEASON).all()


def test_player_ids_are_unique_per_source(sandbox_league: League) -> None:
    players = sandbox_league.players
    assert players["player_key"].is_unique
    assert players["bdl_id"].is_unique
    assert players["bdl_id"].dtype == np.int64
    assert players["espn_id"].is_unique
    assert all(isinstance(v, str) and v.isdigit() for v in players["espn_id"])
    assert str(players["draft_year"].dtype) == "Int64"
    assert players["draft_year"].isna().any()


def test_quotes_have_one_row_per_snapshot(sandbox_league: League) -> None:
    """A book quotes a player's market once per snapshot: two rows with one timestamp would make
    "the line at time t" ambiguous downstream."""
    props = sandbox_league.props
    keys = ["game_key", "bookmaker_key", "market", "player_key", "snapshot_at"]
    assert not props.duplicated(keys).any()
    lines = sandbox_league.game_lines
    assert not lines.duplicated(["game_key", "bookmaker_key", "snapshot_at"]).any()


def test_bookmakers_are_the_odds_api_keys(sandbox_league: League) -> None:
    books = dict(sandbox_league.bookmakers[["bookmaker_key", "title"]].itertuples(index=False))
    assert len(books) >= 4
    assert books["williamhill_us"] == "Caesars"
    assert books["draftkings"] == "DraftKings"
    assert set(sandbox_league.props["bookmaker_key"].unique()) <= set(books)


def test_bookmakers_agree_with_seed(sandbox_league: League) -> None:
    with (REPO / "seeds" / "bookmakers.csv").open(newline="") as fh:
        seed_books = {row["bookmaker_key"]: row["bookmaker_title"] for row in csv.DictReader(fh)}
    ours = dict(sandbox_league.bookmakers[["bookmaker_key", "title"]].itertuples(index=False))
    assert ours == seed_books


# --- teams agree with the dbt seed -----------------------------------------------------------


def test_team_codes_agree_with_seed(sandbox_league: League) -> None:
    seed_file = REPO / "seeds" / "team_codes.csv"
    with seed_file.open(newline="") as fh:
        seed_rows = {row["team_key"]: row for row in csv.DictReader(fh)}
    teams = sandbox_league.teams.set_index("team_key")
    assert set(seed_rows) == set(teams.index)
    pairs = {
        "odds_api_name": "full_name",
        "bdl_id": "bdl_id",
        "bdl_abbreviation": "bdl_abbreviation",
        "bdl_full_name": "bdl_full_name",
        "espn_id": "espn_id",
        "espn_abbreviation": "espn_abbreviation",
        "conference": "conference",
        "division": "division",
    }
    mismatches = [
        (key, seed_col, row[seed_col], teams.at[key, ours])
        for key, row in seed_rows.items()
        for seed_col, ours in pairs.items()
        if str(row[seed_col]) != str(teams.at[key, ours])
    ]
    assert not mismatches


def test_team_quirks(sandbox_league: League) -> None:
    teams = sandbox_league.teams.set_index("team_key")
    assert teams.at["LAC", "full_name"] == "Los Angeles Clippers"
    assert teams.at["LAC", "bdl_full_name"] == "LA Clippers"
    assert teams.at["LAC", "bdl_city"] == "LA"
    assert sorted(teams["bdl_id"]) == list(range(1, 31))
    assert teams.at["ATL", "bdl_id"] == 1
    assert teams.at["WAS", "bdl_id"] == 30
    espn = dict(zip(teams.index, teams["espn_abbreviation"], strict=True))
    assert {espn[k] for k in ("NYK", "NOP", "GSW", "SAS", "UTA", "WAS")} == {
        "NY", "NO", "GS", "SA", "UTAH", "WSH",
    }  # fmt: skip
    assert teams.at["NOP", "espn_id"] == "3"
    assert teams.at["CHA", "espn_id"] == "30"
    assert (teams.groupby("conference").size() == 15).all()


# --- helpers -----------------------------------------------------------------------------------


def test_games_on_and_game_lookups(sandbox_league: League) -> None:
    games = sandbox_league.games
    day = games["game_date"].iloc[400]
    on_day = sandbox_league.games_on(day)
    assert len(on_day) == int((games["game_date"] == day).sum()) > 0
    assert on_day["tipoff_at"].is_monotonic_increasing
    assert sandbox_league.games_on(dt.date(2025, 7, 4)).empty
    row = games.iloc[123]
    key = int(row["game_key"])
    assert sandbox_league.game(key)["odds_event_id"] == row["odds_event_id"]
    assert sandbox_league.game_key_for(bdl_id=int(row["bdl_id"])) == key
    assert sandbox_league.game_key_for(espn_id=row["espn_id"]) == key
    assert sandbox_league.game_key_for(odds_event_id=row["odds_event_id"]) == key


def test_lookup_errors_name_the_field(sandbox_league: League) -> None:
    with pytest.raises(KeyError, match="game_key=-1"):
        sandbox_league.game(-1)
    with pytest.raises(KeyError, match="espn_id='nope'"):
        sandbox_league.game_key_for(espn_id="nope")
    with pytest.raises(KeyError, match="bdl_id='x'"):
        sandbox_league.game_key_for(bdl_id="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one"):
        sandbox_league.game_key_for()
    with pytest.raises(ValueError, match="exactly one"):
        sandbox_league.game_key_for(bdl_id=1, espn_id="1")
    with pytest.raises(KeyError, match="player_key=0"):
        sandbox_league.player(0)
    with pytest.raises(KeyError, match="player_key=99999"):
        sandbox_league.team_of(99999, dt.date(2026, 1, 1))


def test_per_game_slices_match_filters(sandbox_league: League) -> None:
    key = int(sandbox_league.games["game_key"].iloc[777])
    for name, method in (
        ("box", sandbox_league.box_of),
        ("truth", sandbox_league.truth_of),
        ("props", sandbox_league.props_of),
        ("game_lines", sandbox_league.lines_of),
    ):
        frame = getattr(sandbox_league, name)
        expected = frame[frame["game_key"] == key]
        got = method(key)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, expected)
        assert method(10**9).empty
    assert repr(sandbox_league).startswith("League(seed=")


def test_team_of_follows_trades_and_matches_box(sandbox_league: League) -> None:
    stints = sandbox_league.stints
    traded = stints["player_key"].value_counts()
    traded = traded[traded > 1].index
    assert 5 <= len(traded) <= 16
    pk = int(traded[0])
    mine = stints[stints["player_key"] == pk].sort_values("start_date")
    first, second = mine.iloc[0], mine.iloc[1]
    assert second["start_date"] - first["end_date"] == dt.timedelta(days=1)
    assert sandbox_league.team_of(pk, first["end_date"]) == first["team_key"]
    assert sandbox_league.team_of(pk, second["start_date"]) == second["team_key"]
    assert first["team_key"] != second["team_key"]
    assert sandbox_league.player(pk)["player_key"] == pk
    roster = sandbox_league.roster_on(second["team_key"], second["start_date"])
    assert pk in set(roster["player_key"])
    assert len(roster) == 15
    # Every box row's team is the player's team on the game's date.
    box = sandbox_league.box.merge(
        sandbox_league.games[["game_key", "game_date"]], on="game_key"
    ).merge(stints, on="player_key", suffixes=("", "_stint"))
    end = box["end_date"].map(lambda d: dt.date.max if d is None else d)
    covers = (box["start_date"] <= box["game_date"]) & (end >= box["game_date"])
    on_date = box[covers]
    assert len(on_date) == len(sandbox_league.box)
    assert (on_date["team_key"] == on_date["team_key_stint"]).all()


def test_write_truth_round_trips(sandbox_league: League, tmp_path: Path) -> None:
    path = sandbox_league.write_truth(tmp_path / "deep" / "truth.parquet")
    back = pd.read_parquet(path)
    assert len(back) == len(sandbox_league.truth)
    for col in REQUIRED["truth"]:
        np.testing.assert_allclose(
            back[col].to_numpy(float), sandbox_league.truth[col].to_numpy(float)
        )
    assert "game_date" in back.columns
    assert not list(path.parent.glob("*.tmp"))


# --- cache ---------------------------------------------------------------------------------------


def test_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    assert cache_path(7, 2025) == tmp_path / f"league-2025-7-v{code_version()}.pkl"
    assert code_version().startswith(f"{CODE_VERSION}-")
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir() == REPO / ".cache" / "sandbox"


def test_cache_written_then_read(
    sandbox_league: League, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mini = _mini_league(sandbox_league)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    calls: list[tuple[int, int]] = []

    def fake_generate(seed: int, season: int) -> League:
        calls.append((seed, season))
        return mini

    monkeypatch.setattr(league_mod, "generate_league", fake_generate)
    first = build_league(DEFAULT_SEED, DEFAULT_SEASON)
    assert calls == [(DEFAULT_SEED, DEFAULT_SEASON)]
    assert cache_path().exists()
    assert not list(tmp_path.glob("*.tmp"))
    second = build_league(DEFAULT_SEED, DEFAULT_SEASON)
    assert calls == [(DEFAULT_SEED, DEFAULT_SEASON)], "second build must come from the cache"
    assert second.fingerprint() == first.fingerprint() == mini.fingerprint()
    # uncached builds bypass the file
    build_league(DEFAULT_SEED, DEFAULT_SEASON, use_cache=False)
    assert len(calls) == 2
    # load_league memoises in-process on top of the disk cache
    monkeypatch.setattr(league_mod, "_MEMO", {})
    assert load_league() is load_league()
    assert len(calls) == 2


def test_release_memory_lets_go_of_every_memoised_league_and_index(
    sandbox_league: League, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily job lets the sandbox go after its extract: nothing may keep a League alive."""
    import gc
    import weakref

    from sandbox.apis import index
    from sandbox.server import release_memory

    memo = {(DEFAULT_SEED, DEFAULT_SEASON, "test"): _mini_league(sandbox_league)}
    monkeypatch.setattr(league_mod, "_MEMO", memo)
    monkeypatch.setattr(index, "_CACHE", {})
    held = weakref.ref(next(iter(memo.values())))
    index.index_for(held())
    assert index._CACHE
    release_memory()
    gc.collect()
    assert held() is None, "a League outlived release_memory"
    assert not league_mod._MEMO
    assert not index._CACHE
    assert index.people_for.cache_info().currsize == 0


def test_corrupt_cache_is_regenerated(
    sandbox_league: League,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mini = _mini_league(sandbox_league, 2)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(league_mod, "generate_league", lambda seed, season: mini)
    cache_path().write_bytes(b"\x80\x05truncated")
    with caplog.at_level(logging.WARNING, logger="sandbox.league"):
        got = build_league()
    assert "unreadable" in caplog.text
    assert got.fingerprint() == mini.fingerprint()
    assert build_league().fingerprint() == mini.fingerprint()


def test_cache_stays_bounded(
    sandbox_league: League, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mini = _mini_league(sandbox_league, 2)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(league_mod, "generate_league", lambda seed, season: mini)
    old_code = [tmp_path / f"league-{DEFAULT_SEASON}-{s}-v0-old.pkl" for s in (DEFAULT_SEED, 1)]
    debris = tmp_path / "league-2025-1-vX.pklab12cd.tmp"
    busy = tmp_path / "league-2025-2-vX.pklef34gh.tmp"
    for path in (*old_code, debris, busy):
        path.write_bytes(b"old")
    base = debris.stat().st_mtime
    os.utime(debris, (base - 2 * 3600, base - 2 * 3600))
    # More seasons of the current code than the cache keeps, the oldest used longest ago.
    seeds = list(range(100, 100 + league_mod.KEEP_CACHED + 1))
    for age, seed in enumerate(reversed(seeds)):
        build_league(seed, DEFAULT_SEASON)
        when = base + 1000 - age
        os.utime(cache_path(seed, DEFAULT_SEASON), (when, when))
    build_league(DEFAULT_SEED, DEFAULT_SEASON)
    assert not any(p.exists() for p in old_code), "seasons cached by older code are dropped"
    assert not debris.exists(), "a temp file left by a crashed writer is dropped"
    assert busy.exists(), "a fresh temp file may belong to a writer at work"
    kept = sorted(tmp_path.glob("league-*.pkl"))
    assert len(kept) == league_mod.KEEP_CACHED
    assert cache_path(DEFAULT_SEED, DEFAULT_SEASON) in kept
    assert cache_path(seeds[-1], DEFAULT_SEASON) in kept, "the most recently used stays"
    assert cache_path(seeds[0], DEFAULT_SEASON) not in kept, "the least recently used goes"


def test_cache_digest_covers_every_module_the_generator_imports() -> None:
    """A generator module left out of the digest would let an edited simulator serve a stale
    cache, and the cross-process same-bytes test would then fail for no visible reason."""
    reached, todo = set(), ["league"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        tree = ast.parse((REPO / "sandbox" / f"{name}.py").read_text())
        todo.extend(
            node.module.removeprefix("sandbox.")
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sandbox.")
        )
    assert {f"{name}.py" for name in reached} <= set(league_mod._GENERATOR_MODULES)
    assert len(reached) >= 6  # league, markets, names, roster, schedule, simulate, teams


def test_cache_version_tracks_numpy_and_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    before = code_version()
    league_mod.code_version.cache_clear()
    monkeypatch.setattr(pd, "__version__", pd.__version__ + "+other")
    try:
        assert code_version() != before, "a cache pickled by another pandas must not be reused"
    finally:
        monkeypatch.undo()
        league_mod.code_version.cache_clear()
    assert code_version() == before


def test_cache_header_mismatch_is_rejected(
    sandbox_league: League, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mini = _mini_league(sandbox_league, 2)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    league_mod._write_cache(cache_path(1, 2025), mini)  # written as seed DEFAULT_SEED inside
    with pytest.raises(ValueError, match="does not match"):
        league_mod._read_cache(cache_path(1, 2025), 1, 2025)


# --- determinism ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_same_seed() -> League:
    return generate_league(DEFAULT_SEED, DEFAULT_SEASON)


def test_same_seed_gives_identical_frames(sandbox_league: League, fresh_same_seed: League) -> None:
    # sandbox_league may come from the disk cache: this also proves the cache is lossless.
    # DataFrame.equals (values and dtypes) rather than assert_frame_equal, which needs 25 s to
    # compare two 2M-row categorical columns under pandas 3.
    for name, frame in sandbox_league.frames().items():
        other = getattr(fresh_same_seed, name)
        assert list(frame.columns) == list(other.columns), name
        assert frame.dtypes.equals(other.dtypes), name
        assert frame.equals(other), f"{name} differs between two builds of one seed"
    assert sandbox_league.fingerprint() == fresh_same_seed.fingerprint()


def test_different_seed_differs(sandbox_league: League) -> None:
    other = generate_league(DEFAULT_SEED + 1, DEFAULT_SEASON)
    assert other.fingerprint() != sandbox_league.fingerprint()
    assert not other.games["home_score"].equals(sandbox_league.games["home_score"])
    assert len(other.games) == len(sandbox_league.games)


_BUILD_IN_CHILD = """
import sandbox.league as league
generated = []
generate = league.generate_league
league.generate_league = lambda *args: generated.append(args) or generate(*args)
built = league.build_league({seed}, {season})
print(built.fingerprint(), len(generated))
"""


def test_concurrent_builds_share_one_cache_and_match_across_hash_seeds(
    sandbox_league: League, tmp_path: Path
) -> None:
    """Two processes missing the cache at once, under different PYTHONHASHSEEDs: one generates,
    the other waits for it and reads its file; both hold the session's league, byte for byte."""
    code = _BUILD_IN_CHILD.format(seed=DEFAULT_SEED, season=DEFAULT_SEASON)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, CACHE_ENV: str(tmp_path), "PYTHONHASHSEED": hash_seed},
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for hash_seed in ("1", "12345")
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        fingerprint, generated = out.split()
        results.append((fingerprint, int(generated)))
    assert {f for f, _ in results} == {sandbox_league.fingerprint()}
    assert sum(n for _, n in results) == 1, "the second builder must read the first one's file"
    assert [p.name for p in tmp_path.glob("league-*")] == [cache_path().name]
    assert not list(tmp_path.glob("*.tmp"))


# --- names --------------------------------------------------------------------------------------


def test_strip_accents() -> None:
    assert strip_accents("Dāvis Bērziņš") == "Davis Berzins"
    assert strip_accents("Şahin Žukauskas Giménez") == "Sahin Zukauskas Gimenez"
    assert strip_accents("Plain") == "Plain"
