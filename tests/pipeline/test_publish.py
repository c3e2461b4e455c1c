"""Publishing from real prediction marts: predictions for every day of the built weeks, written
to the real raw_models_ml.predictions table (models_ml's own DDL) of a copy of the dbt tests'
warehouse, the marts built by real dbt, then the day's files published and the report opened in
a real headless Chromium, the way a person would open it from the file system.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import jsonschema
import pytest

from models_ml.scoring import ensure_table
from pipeline.publish import (
    SCHEMAS_DIR,
    PublishError,
    PublishValidationError,
    publish,
    validate,
)
from tests.dbt_project.conftest import DbtBuild, dbt_build, raw_weeks, run_dbt  # noqa: F401

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
JSON_FILES = ("predictions.json", "picks.json", "grades.json", "performance.json")
PLOTS = ("hit_rate_roi.png", "calibration.png", "clv.png", "coverage.png")

# Two systems over the feature rows of the built weeks' last ten days: a recency average and the
# same shifted, its over probability a logistic of the gap to the line; a pick where it beats the
# market by 4 points. Skips as models_ml makes them. Set-based: one statement for all the days.
PREDICTIONS = """
insert into raw_models_ml.predictions
with base as (
    select features.*, systems.system, features.stat_avg_10 + systems.shift as mu,
        greatest(coalesce(features.stat_std_10, 1), 1) as sd,
        case
            when features.pick_line is null then 'no_line'
            when features.player_status = 'out' then 'player_out'
            when not features.is_fresh then 'stale_features'
            when features.completeness < 0.8 then 'incomplete_features'
        end as skip_reason
    from features.fct_player_prop_features as features
    cross join (values ('baseline', 0.0), ('catboost', 0.3)) as systems (system, shift)
    -- the last ten days: enough for the plots' series, few enough to publish in seconds
    where features.game_date >= (select max(game_date) - 9 from features.fct_player_prop_features)
),
probabilities as (
    select *, case when skip_reason is null
        then 1 / (1 + exp(-1.7 * (mu - pick_line) / sd)) end as p_over
    from base
),
picks as (
    select *, case
        when skip_reason is not null then 'PASS'
        when p_over - pick_no_vig_over_probability > 0.04 then 'OVER'
        when pick_no_vig_over_probability - p_over > 0.04 then 'UNDER'
        else 'PASS' end as recommendation
    from probabilities
)
select
    'run-scored', system, system || '-test', game_date, game_id, player_id, market, pick_line,
    case when pick_line is not null then 'consensus' end, pick_no_vig_over_probability,
    case when skip_reason is null or skip_reason = 'no_line' then mu end,
    case when skip_reason is null or skip_reason = 'no_line' then mu end,
    p_over,
    case when recommendation = 'OVER' then p_over - pick_no_vig_over_probability
        when recommendation = 'UNDER' then pick_no_vig_over_probability - p_over end,
    recommendation,
    case when skip_reason is null then least(100, 50 + abs(p_over - 0.5) * 100) else 0 end,
    skip_reason,
    case when skip_reason is null
        then 'averaging ' || round(stat_avg_5, 1) || ' over his last 5' end,
    case when skip_reason is null then 'season average ' || round(stat_season_avg, 1) end,
    null,
    features_as_of, inputs_loaded_at, features_as_of + interval 5 minute
from picks
"""

# Runs in the page once everything has loaded; writes what a person would see into the DOM, which
# --dump-dom then prints (no test code in the published report: the probe is a copy beside it).
PROBE = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => ({src: i.getAttribute("src"),
    complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}));
  const rows = document.querySelectorAll("#picks tbody tr.pick").length;
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({images, rows, title: document.title});
  document.body.appendChild(probe);
});
</script>
"""


@dataclass(frozen=True)
class Published:
    warehouse: Path
    game_date: date
    out_dir: Path
    paths: list[Path]


@pytest.fixture(scope="module")
def published(dbt_build: DbtBuild, tmp_path_factory: pytest.TempPathFactory) -> Published:  # noqa: F811
    workdir = tmp_path_factory.mktemp("publish")
    warehouse = _copy(dbt_build.warehouse, workdir)
    with duckdb.connect(str(warehouse)) as con:
        ensure_table(con)
        con.execute(PREDICTIONS)
        game_date = con.sql(
            "select max(game_date) from features.fct_player_prop_features"
            " where pick_line is not null"
        ).fetchone()[0]
    # `run`, not `build`: the marts' tests are tests/dbt_project's business, and cost seconds here
    run_dbt(
        ["run", "-s", "stg_models_ml__predictions+"],
        warehouse=warehouse,
        target_path=workdir / "target",
    )
    out_dir = workdir / "public" / game_date.isoformat()
    paths = publish(warehouse, game_date, "run-first", out_dir)
    return Published(warehouse, game_date, out_dir, paths)


def _copy(warehouse: Path, folder: Path) -> Path:
    """A copy with everything in it: dbt in this process may still hold the file open with recent
    writes in its write-ahead log, so checkpoint first (the connection shares dbt's database)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("checkpoint")
    # the same file name: DuckDB names the catalog after it, and dbt's views refer to it
    copy = folder / warehouse.name
    shutil.copyfile(warehouse, copy)
    return copy


def _load(published: Published, name: str) -> dict:
    return json.loads((published.out_dir / name).read_text())


def test_the_days_files_are_written_and_nothing_else(published: Published) -> None:
    names = sorted(p.name for p in published.paths)
    assert names == sorted([*JSON_FILES, *PLOTS, "report.html"])
    assert sorted(p.name for p in published.out_dir.iterdir()) == names  # no temporary file left


@pytest.mark.parametrize("name", JSON_FILES)
def test_each_file_carries_the_run_id_and_meets_its_schema(published: Published, name: str) -> None:
    document = _load(published, name)
    assert document["run_id"] == "run-first"
    assert document["game_date"] == published.game_date.isoformat()
    schema = json.loads((SCHEMAS_DIR / name.replace(".json", ".schema.json")).read_text())
    jsonschema.Draft202012Validator(schema).validate(document)


def test_the_files_say_what_the_marts_say(published: Published) -> None:
    with duckdb.connect(str(published.warehouse)) as con:
        n_rows, n_picks = con.execute(
            "select count(*), count(*) filter (where recommendation <> 'PASS')"
            " from predictions.fct_prediction_grades where game_date = ?",
            [published.game_date],
        ).fetchone()
        yesterday = con.execute(
            "select system, count(*) filter (where result = 'win'),"
            " count(*) filter (where result = 'loss')"
            " from predictions.fct_prediction_grades where game_date = ?"
            " and recommendation <> 'PASS' group by system order by system",
            [published.game_date - timedelta(days=1)],
        ).fetchall()
    assert len(_load(published, "predictions.json")["predictions"]) == n_rows
    picks = _load(published, "picks.json")
    assert picks["system"] == "catboost"  # the headline system when there is no ensemble
    assert 0 < len(picks["picks"]) <= min(25, n_picks)
    confidences = [p["confidence"] for p in picks["picks"]]
    assert confidences == sorted(confidences, reverse=True)
    assert all(p["reasons"] for p in picks["picks"])
    grades = _load(published, "grades.json")
    assert grades["graded_date"] == (published.game_date - timedelta(days=1)).isoformat()
    assert [(s["system"], s["wins"], s["losses"]) for s in grades["systems"]] == yesterday
    assert yesterday, "the day before has graded picks"


def test_the_same_marts_give_the_same_files(published: Published, tmp_path: Path) -> None:
    again = publish(published.warehouse, published.game_date, "run-second", tmp_path)
    for path in again:
        first = (published.out_dir / path.name).read_bytes()
        second = path.read_bytes()
        if path.suffix in {".json", ".html"}:
            first, second = _without_run(first, "run-first"), _without_run(second, "run-second")
        assert first == second, f"{path.name} differs between two publications"


def _without_run(content: bytes, run_id: str) -> bytes:
    text = content.decode().replace(run_id, "RUN")
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(?=\"| ·)", "AT", text, count=2).encode()


def test_a_schema_violation_names_the_file_the_record_and_the_field(
    published: Published,
) -> None:
    picks = _load(published, "picks.json")
    picks["picks"][1]["confidence"] = 101
    with pytest.raises(PublishValidationError) as raised:
        validate("picks.json", picks)
    error = raised.value
    pick = picks["picks"][1]
    assert (error.file, error.field) == ("picks.json", "confidence")
    assert error.record.startswith("picks[1] (system=catboost")
    assert f"player_id={pick['player_id']}" in error.record
    assert "101" in str(error)

    predictions = _load(published, "predictions.json")
    del predictions["predictions"][0]["market"]
    with pytest.raises(PublishValidationError, match=r"predictions\[0\] .*field market"):
        validate("predictions.json", predictions)


def test_a_missing_mart_stops_publishing_and_leaves_the_files(
    published: Published, tmp_path: Path
) -> None:
    warehouse = _copy(published.warehouse, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table predictions.fct_prediction_calibration")
    out_dir = tmp_path / "public"
    out_dir.mkdir()
    (out_dir / "picks.json").write_text("yesterday's\n")
    with pytest.raises(PublishError, match="prediction mart is missing"):
        publish(warehouse, published.game_date, "run-third", out_dir)
    assert [p.name for p in out_dir.iterdir()] == ["picks.json"]
    assert (out_dir / "picks.json").read_text() == "yesterday's\n"


def test_a_person_opening_the_report_sees_the_picks_and_every_plot(published: Published) -> None:
    page = (published.out_dir / "report.html").read_text()
    probe = published.out_dir / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    try:
        shown = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--allow-file-access-from-files",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    finally:
        probe.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', shown, re.DOTALL)
    assert found, "the page never finished loading"
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["title"].endswith(published.game_date.isoformat())
    assert seen["rows"] == len(_load(published, "picks.json")["picks"]) > 0
    assert sorted(image["src"] for image in seen["images"]) == sorted(PLOTS)
    for image in seen["images"]:
        assert image["complete"], image
        assert image["width"] > 0, f"{image['src']} did not load"


@pytest.mark.parametrize("name", JSON_FILES)
def test_the_quick_check_never_accepts_what_jsonschema_rejects(
    published: Published, name: str
) -> None:
    """`validate` skips jsonschema when its quick check passes: on a thousand seeded mutations
    of each real file (a value retyped, pushed out of range, emptied, a key dropped or added),
    whatever the quick check accepts, jsonschema accepts too; and it accepts the real file."""
    import copy
    import random

    from pipeline.publish import _quick_check, schema

    checker = jsonschema.Draft202012Validator(schema(name))
    original = _load(published, name)
    assert _quick_check(name)(original)
    rng = random.Random(13)
    odd_values = [None, "", "x", -1, 101, 1.5, 10**9, True, [], {}, "2026-13-45", -0.5]
    rejected = 0
    for _ in range(1000):
        document = copy.deepcopy(original)
        path, node = [], document
        while isinstance(node, dict | list) and node and rng.random() < 0.8:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            path.append(key)
            parent, node = node, node[key]
        if not path:
            continue
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.25 and isinstance(parent, dict):
            parent["unexpected_" + str(rng.randrange(9))] = rng.choice(odd_values)
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(odd_values))
        valid = not any(True for _ in checker.iter_errors(document))
        rejected += not valid
        if _quick_check(name)(document):
            assert valid, f"quick check accepted what jsonschema rejects at {path}"
    assert rejected > 100, "the mutations must exercise rejections"
