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
