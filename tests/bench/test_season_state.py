"""The benchmarks' state cache: keys, levels, and what a rebuild may delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import season_state


def test_a_rebuild_drops_its_own_older_keys_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(season_state, "CACHE", tmp_path)
    for name in (
        "history-0123456789abcdef",
        "history-raw-0123456789abcdef",
        "raw-fedcba9876543210",
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "DONE").write_text("built\n")
    built: list[Path] = []

    def build(into: Path) -> str:
        built.append(into)
        (into / "warehouse").mkdir()
        return "built for the test"

    got = season_state._cached("history", "aaaaaaaaaaaaaaaa", build)
    assert got == tmp_path / "history-aaaaaaaaaaaaaaaa"
    assert (got / "warehouse").is_dir()
    assert "built for the test" in (got / "DONE").read_text()
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == [
        "history-aaaaaaaaaaaaaaaa",
        "history-raw-0123456789abcdef",
        "raw-fedcba9876543210",
    ]
    # a second ask is a hit: nothing is built again
    assert season_state._cached("history", "aaaaaaaaaaaaaaaa", build) == got
    assert len(built) == 1


def test_the_raw_layer_key_ignores_what_only_the_state_depends_on() -> None:
    raw, full = season_state.RAW_SHAPING, season_state.SHAPING
    assert set(raw) == {"sandbox", "extract"}
    assert set(raw) < set(full)
    assert {"dbt_project", "models_ml", "pipeline"} <= set(full)
    assert season_state.code_key(raw) != season_state.code_key(full)


def test_a_state_is_used_where_it_was_built_and_removed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt's partial parse is keyed by the warehouse's path: every use of a state must be at
    the one live path its demo day ran at, start from the cached files (not a previous holder's
    leftovers) and leave nothing behind."""
    monkeypatch.setattr(season_state, "LIVE", tmp_path / "live")
    cached = tmp_path / "season-aaaaaaaaaaaaaaaa"
    (cached / "target").mkdir(parents=True)
    (cached / "target" / "partial_parse.msgpack").write_text("parsed at the live path")
    leftover = tmp_path / "live" / "season"
    leftover.mkdir(parents=True)
    (leftover / "from_a_killed_run").write_text("")

    seen = []
    for _ in range(2):
        with season_state._live("season", lambda: cached) as state:
            seen.append(state)
            assert sorted(p.name for p in state.iterdir()) == ["target"]
            assert (state / "target" / "partial_parse.msgpack").read_text().startswith("parsed")
            (state / "written_by_the_day").write_text("")
        assert not state.exists()
    assert seen == [leftover, leftover]
    assert sorted(p.name for p in cached.iterdir()) == ["target"]  # the cache is never written


def test_setup_builds_what_is_missing_and_says_what_it_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(season_state, "CACHE", tmp_path)
    key = season_state.code_key()
    (tmp_path / f"season-{key}").mkdir()
    (tmp_path / f"season-{key}" / "DONE").write_text("built before\n")
    asked: list[str] = []

    def history() -> Path:
        asked.append("history")
        return season_state._cached("history", key, lambda into: "built now")

    monkeypatch.setitem(season_state.CACHES, "season", lambda: asked.append("season"))
    monkeypatch.setitem(season_state.CACHES, "history", history)
    said: list[str] = []
    setup = season_state.prepare(("season", "history"), echo=said.append)
    assert asked == ["season", "history"]
    assert setup["states"] == ["season", "history"]
    assert setup["built"] == ["history"]
    assert "cached" in said[0]
    assert "building" in said[1]
    assert (tmp_path / f"history-{key}" / "DONE").exists()
    assert season_state.prepare(("history",), echo=said.append)["built"] == []


def test_a_quick_run_prepares_only_the_states_it_uses() -> None:
    from bench.registry import REGISTRY

    daily = next(b for b in REGISTRY if b.name == "daily_run")
    assert daily.states_for(quick=False) == ("season", "history")
    assert daily.states_for(quick=True) == ("season",)
    assert all(b.states_for(quick=True) == b.states for b in REGISTRY if b.name != "daily_run")
