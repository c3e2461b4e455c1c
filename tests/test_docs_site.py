"""`make docs`: the static dbt docs site, generated on the test warehouse and opened in headless
Chromium the way a person would open it. The lineage must reach the raw sources and the feature
store's page must show its documentation. It reuses the dbt tests' session build (their fixtures,
imported: tests/dbt_project/conftest.py keeps one result per session for both definitions)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.dbt_project.conftest import DbtBuild, dbt_build, raw_weeks, run_dbt  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
MODEL = "model.nba_props.fct_player_prop_features"
RAW_SOURCES = {"raw_odds_api", "raw_balldontlie", "raw_espn"}


def inlined(page: str, name: str) -> dict[str, Any]:
    """The JSON document the static page carries inline (`{manifest: {...}, catalog: {...}}`)."""
    start = page.index(f"{{{name}:") if name == "manifest" else page.index(f",{name}:")
    start = page.index("{", start + 1)
    document, _ = json.JSONDecoder().raw_decode(page, start)
    return document


def upstream(parent_map: dict[str, list[str]], node: str) -> set[str]:
    seen: set[str] = set()
    todo = [node]
    while todo:
        for parent in parent_map.get(todo.pop(), []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def rendered(page: Path, route: str, profile: Path) -> str:
    """The page's DOM after Chromium ran its scripts, without the scripts and styles themselves
    (the inline data would otherwise match any text)."""
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{page.as_uri()}#!/{route}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    return re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_docs_site_shows_the_lineage_and_the_feature_store(
    dbt_build: DbtBuild,  # noqa: F811
    tmp_path: Path,
) -> None:
    # the build's own target path: its parse is reused (`make docs` runs the same command)
    run_dbt(
        ["docs", "generate", "--static"],
        warehouse=dbt_build.warehouse,
        target_path=dbt_build.target_path,
    )
    page = dbt_build.target_path / "static_index.html"
    source = page.read_text(encoding="utf-8")

    # --- the lineage the site draws: the feature store's upstream reaches the three raw sources
    manifest = inlined(source, "manifest")
    reached = {
        manifest["sources"][node]["source_name"]
        for node in upstream(manifest["parent_map"], MODEL)
        if node.startswith("source.")
    }
    assert reached >= RAW_SOURCES
    catalog = inlined(source, "catalog")
    assert MODEL in catalog["nodes"], "the catalog (the warehouse's own types) was not inlined"

    # --- what a person sees on the model's page
    dom = rendered(page, f"model/{MODEL}", tmp_path / "chromium")
    text = _text(dom)
    model = manifest["nodes"][MODEL]
    assert "fct_player_prop_features" in text
    description = " ".join(model["description"].split()[:8])
    [shown] = re.findall(r'marked="model\.description">(.*?)</div>', dom, flags=re.S)
    assert description in _text(shown), "the description is not rendered"
    for column in ("pick_line", "pick_no_vig_over_probability", "completeness"):
        assert column in text, column
    depends_on = _text(dom[dom.index('id="depends_on"') :][:20000])
    for parent in manifest["parent_map"][MODEL]:
        name = parent.rsplit(".", 1)[-1]
        assert name in depends_on, f"{name} is not listed under Depends On"
