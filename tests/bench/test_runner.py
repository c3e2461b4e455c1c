"""The benchmark runner's behaviour (not speed): results file, failures, and compare ratios."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bench.cli import app
from bench.compare import compare
from bench.core import Benchmark, Figure
from bench.registry import REGISTRY, by_name
from bench.report import results_table
from bench.runner import SCHEMA, default_output, flat_figures, run_benchmarks

STEADY = Benchmark("steady", "tests.bench.trivial:steady", "instant figures", runs=3)
DRIFTING = Benchmark("drifting", "tests.bench.trivial:drifting", "fails like schema drift")
MALFORMED = Benchmark("malformed", "tests.bench.trivial:malformed", "returns dicts")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    echoed: list[str] = []
    written = run_benchmarks(
        [DRIFTING, STEADY, MALFORMED],
        quick=False,
        runs=None,
        out=out,
        command="python -m bench run",
        echo=echoed.append,
    )
    assert json.loads(out.read_text()) == written
    return written, out


def test_results_file_has_machine_facts_and_run_facts(results: tuple[dict, Path]) -> None:
    written, _ = results
    assert written["schema"] == SCHEMA
    assert written["mode"] == "full"
    assert written["command"] == "python -m bench run"
    assert written["duration_s"] >= 0
    machine = written["machine"]
    for key in ("cores", "memory_gib", "python", "git_commit", "date", "load_average_start"):
        assert key in machine
    assert machine["python"].startswith("3.11")
    assert {"dlt", "dbt-core", "duckdb", "catboost"} <= set(machine["packages"])
    assert list(written["benchmarks"]) == ["drifting", "steady", "malformed"]


def test_each_figure_keeps_median_spread_runs_and_command(results: tuple[dict, Path]) -> None:
    steady = results[0]["benchmarks"]["steady"]
    assert steady["status"] == "ok"
    assert steady["runs"] == 3
    assert len(steady["wall_s"]) == 3
    wait = steady["figures"]["wait"]
    assert wait == {
        "unit": "s",
        "better": "lower",
        "target": 1.5,
        "median": 1.0,
        "min": 1.0,
        "max": 1.0,
        "runs": 3,
        "values": [1.0, 1.0, 1.0],
        "status": "pass",
        "command": steady["command"],
    }
    assert steady["command"].endswith("-m bench run --only steady --runs 3")
    assert steady["figures"]["throughput"]["status"] == "miss"
    assert steady["figures"]["rows"]["status"] is None
    rss = steady["figures"]["peak_rss"]
    assert rss["unit"] == "MiB"
    assert 5 < rss["min"] <= rss["median"] <= rss["max"] < 2000


def test_a_failing_benchmark_is_reported_and_the_others_still_run(
    results: tuple[dict, Path],
) -> None:
    benchmarks = results[0]["benchmarks"]
    drifting = benchmarks["drifting"]
    assert drifting["status"] == "failed"
    assert drifting["error"].startswith("RuntimeError: schema drift in raw_espn.events")
    assert drifting["figures"] == {}
    assert "tests/bench/trivial.py" in drifting["traceback"]
    assert len(drifting["wall_s"]) == 1  # the first failure stops its runs
    assert benchmarks["steady"]["status"] == "ok"
    assert benchmarks["malformed"]["status"] == "failed"
    assert "list of Figure" in benchmarks["malformed"]["error"]


def test_quick_mode_reaches_the_benchmark_and_takes_fewer_runs(tmp_path: Path) -> None:
    written = run_benchmarks(
        [STEADY], quick=True, runs=None, out=tmp_path / "q.json", command="x", echo=lambda _: None
    )
    steady = written["benchmarks"]["steady"]
    assert written["mode"] == "quick"
    assert steady["runs"] == STEADY.quick_runs == 1
    assert steady["command"].endswith("--only steady --runs 1 --quick")
    assert steady["figures"]["wait"]["median"] == 2.0
    assert steady["figures"]["wait"]["status"] == "miss"


def _with_median(results: dict, key: str, median: float, spread: float = 0.0) -> dict:
    changed = copy.deepcopy(results)
    bench_name, fig_name = key.split(".", 1)
    figure = changed["benchmarks"][bench_name]["figures"][fig_name]
    figure.update(median=median, min=median - spread, max=median + spread)
    return changed


def test_compare_gives_ratios_and_flags_only_what_got_worse(results: tuple[dict, Path]) -> None:
    baseline = results[0]
    current = _with_median(baseline, "steady.wait", 1.5)  # lower is better: 1.5x slower
    current = _with_median(current, "steady.throughput", 80.0)  # higher is better: 1.6x more
    current = _with_median(current, "steady.rows", 70)  # a count: never judged
    rows = {row.key: row for row in compare(baseline, current, tolerance=0.2)}
    assert rows["steady.wait"].ratio == pytest.approx(1.5)
    assert rows["steady.wait"].verdict == "regression"
    assert rows["steady.throughput"].ratio == pytest.approx(1.6)
    assert rows["steady.throughput"].verdict == "improvement"
    assert rows["steady.rows"].verdict == "unjudged"
    assert rows["steady.peak_rss"].ratio == pytest.approx(1.0)
    assert rows["steady.peak_rss"].verdict == "within"
    loose = {row.key: row.verdict for row in compare(baseline, current, tolerance=0.6)}
    assert loose["steady.wait"] == "within"
    slower = _with_median(baseline, "steady.throughput", 40.0)
    assert {r.key: r.verdict for r in compare(baseline, slower)}["steady.throughput"] == (
        "regression"
    )


def test_compare_calls_a_move_within_the_spreads_noisy_not_a_regression(
    results: tuple[dict, Path],
) -> None:
    baseline = results[0]
    noisy = _with_median(baseline, "steady.wait", 1.5, spread=0.6)  # its fastest run: 0.9 s
    row = next(r for r in compare(baseline, noisy) if r.key == "steady.wait")
    assert row.ratio == pytest.approx(1.5)
    assert row.verdict == "noisy"


def test_compare_names_new_gone_and_failed_figures(results: tuple[dict, Path]) -> None:
    baseline = copy.deepcopy(results[0])
    baseline["benchmarks"]["drifting"] = copy.deepcopy(baseline["benchmarks"]["steady"])
    current = copy.deepcopy(results[0])
    del current["benchmarks"]["steady"]["figures"]["rows"]
    current["benchmarks"]["steady"]["figures"]["fresh"] = current["benchmarks"]["steady"][
        "figures"
    ]["wait"]
    verdicts = {row.key: row.verdict for row in compare(baseline, current)}
    assert verdicts["steady.fresh"] == "new"
    assert verdicts["steady.rows"] == "gone"
    assert verdicts["drifting.wait"] == "failed"
    # a benchmark the current run did not select is not reported as lost
    del current["benchmarks"]["drifting"]
    assert not any(key.startswith("drifting.") for key in flat_figures(current))
    assert all(not row.key.startswith("drifting.") for row in compare(baseline, current))


def test_compare_command_prints_ratios_and_can_fail_on_regression(
    results: tuple[dict, Path], tmp_path: Path
) -> None:
    baseline_path = tmp_path / "baseline.json"
    baseline_path.write_text(json.dumps(_with_median(results[0], "steady.wait", 0.5)))
    args = ["compare", str(results[1]), "--baseline", str(baseline_path)]
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert "steady.wait" in shown.output
    assert "2.00" in shown.output  # 1.0 now against 0.5 committed
    assert "REGRESSION" in shown.output
    strict = CliRunner().invoke(app, [*args, "--fail-on-regression"])
    assert strict.exit_code == 1


def test_registry_names_are_unique_and_entries_point_at_functions() -> None:
    names = [b.name for b in REGISTRY]
    assert len(names) == len(set(names))
    assert by_name(None) == REGISTRY
    with pytest.raises(KeyError, match="registered"):
        by_name(["backfill"])
    for bench in REGISTRY:
        module, _, function = bench.entry.partition(":")
        path = Path(__file__).resolve().parents[2].joinpath(*module.split(".")).with_suffix(".py")
        assert f"def {function}(" in path.read_text(), bench.entry


def test_only_a_full_run_of_everything_replaces_latest() -> None:
    assert default_output(quick=False, only=None).name == "latest.json"
    assert default_output(quick=True, only=None).name == "partial.json"
    assert default_output(quick=False, only=["extract_day"]).name == "partial.json"


def test_figures_refuse_what_cannot_be_compared() -> None:
    with pytest.raises(ValueError, match="finite"):
        Figure("wait", float("nan"), "s")
    with pytest.raises(ValueError, match="target"):
        Figure("rows", 3, "rows", better=None, target=5)


def test_the_table_shows_judged_figures_and_keeps_counts_for_all(
    results: tuple[dict, Path],
) -> None:
    def text(**kwargs: bool) -> str:
        console = Console(record=True, width=200)
        console.print(results_table(results[0], **kwargs))
        return console.export_text()

    short, everything = text(), text(context=True)
    assert "steady.wait" in short
    assert "pass" in short
    assert "miss" in short
    assert "FAILED RuntimeError: schema drift" in short
    assert "steady.rows" not in short
    assert "--all" in short
    assert "steady.rows" in everything


def test_a_derived_figure_is_the_ratio_of_two_measured_in_the_same_run() -> None:
    from bench.core import Derived
    from bench.runner import derive

    def fig(median: float, low: float, high: float) -> dict:
        return {"median": median, "min": low, "max": high, "runs": 3, "command": "c"}

    results = {
        "benchmarks": {
            "daily": {"figures": {"day": fig(30.0, 28.0, 33.0)}},
            "floor": {"figures": {"total": fig(15.0, 14.0, 16.0)}},
        }
    }
    ratio = Derived("ratio", "daily.day", "floor.total", target=2.0)
    absent = Derived("orphan", "daily.day", "missing.total", target=2.0)
    derive(results, [ratio, absent])
    figures = results["benchmarks"]["daily"]["figures"]
    assert figures["ratio"]["median"] == 2.0
    assert figures["ratio"]["status"] == "pass"
    assert figures["ratio"]["min"] == 1.75  # the spread: the fastest day over the slowest floor
    assert figures["ratio"]["max"] == pytest.approx(33.0 / 14.0, rel=1e-8)
    assert "orphan" not in figures, "a ratio to a figure this run did not measure is never made up"
    results["benchmarks"]["daily"]["figures"]["day"]["median"] = 31.0
    derive(results, [ratio])
    assert results["benchmarks"]["daily"]["figures"]["ratio"]["status"] == "miss"


def test_the_floor_ratio_is_registered_against_registered_figures() -> None:
    from bench.registry import DERIVED

    names = {b.name for b in REGISTRY}
    for spec in DERIVED:
        assert spec.numerator.split(".")[0] in names
        assert spec.denominator.split(".")[0] in names
