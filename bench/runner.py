"""Run benchmarks in child processes, repeat them, and keep median, spread and machine facts.

Each run of a benchmark is a fresh `python -m bench child ...` process: imports and caches start
cold every time, a crash or a schema drift in one benchmark cannot take the others down, and the
kernel's rusage of the child (os.wait4) gives its peak RSS, the largest of the process and the
children it waited for (dbt or Python sub-processes a benchmark starts).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from bench.core import Benchmark, Derived, target_status
from bench.machine import load_average, machine_facts

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
LATEST = RESULTS_DIR / "latest.json"
PARTIAL = RESULTS_DIR / "partial.json"
SCHEMA = "nba-props-bench/1"
# Added by the runner to every benchmark, from the child's rusage.
RSS_FIGURE = "peak_rss"


@dataclass(frozen=True)
class RunOutcome:
    """One child process: its wall time, peak RSS, figures (or error) and what it printed."""

    wall_s: float
    peak_rss_mib: float
    figures: list[dict[str, Any]] | None
    error: str | None
    traceback: str | None
    stdout: str
    stderr: str


def python_command() -> str:
    """The interpreter as a reader would type it: `.venv/bin/python` from the repository root."""
    exe = Path(sys.executable)
    try:
        return str(exe.relative_to(REPO))
    except ValueError:
        return str(exe)


def reproduce_command(name: str, runs: int, *, quick: bool) -> str:
    """The command that measures one benchmark again, exactly as this run did."""
    quick_flag = " --quick" if quick else ""
    return f"{python_command()} -m bench run --only {name} --runs {runs}{quick_flag}"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def run_once(bench: Benchmark, *, quick: bool, cwd: Path = REPO) -> RunOutcome:
    """Run the benchmark once in a fresh child process and read its figures and rusage."""
    with tempfile.TemporaryDirectory(prefix=f"nba-props-bench-{bench.name}-") as tmp:
        work = Path(tmp)
        out, stdout, stderr = work / "figures.json", work / "stdout.log", work / "stderr.log"
        command = [sys.executable, "-m", "bench", "child", bench.entry]
        command += ["--out", str(out), "--scratch", str(work / "scratch")]
        command += ["--quick"] if quick else []
        paths = [str(cwd), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        with stdout.open("w") as out_fh, stderr.open("w") as err_fh:
            started = time.perf_counter()
            proc = subprocess.Popen(  # noqa: S603 - our interpreter running our own module
                command, cwd=cwd, env=env, stdout=out_fh, stderr=err_fh, start_new_session=True
            )
            timer = threading.Timer(bench.timeout_s, _kill_group, [proc.pid])
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # Ctrl-C: its own session does not get the signal, so stop it
                _kill_group(proc.pid)
                proc.wait()
                raise
            finally:
                timer.cancel()
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        _kill_group(proc.pid)  # anything the benchmark left running in its session
        printed, errors = stdout.read_text(errors="replace"), stderr.read_text(errors="replace")
        payload = json.loads(out.read_text()) if out.exists() else {}
    figures, error = payload.get("figures"), payload.get("error")
    if figures is None and error is None:
        how = "was killed after the timeout" if wall >= bench.timeout_s else "wrote no figures"
        error = f"child exited with code {proc.returncode} and {how}; stderr: {_tail(errors, 5)}"
    return RunOutcome(
        wall_s=wall,
        # the child's own measure when it wrote one (see bench.cli.own_peak_rss_kib), else the
        # kernel's rusage of it, which also counts what it was forked with
        peak_rss_mib=(payload.get("peak_rss_kib") or usage.ru_maxrss) / 1024,  # KiB on Linux
        figures=figures if error is None else None,
        error=error,
        traceback=payload.get("traceback") or (_tail(errors, 30) if error else None),
        stdout=printed,
        stderr=errors,
    )


def _tidy(x: float) -> float:
    """Nine significant digits: drops float noise, keeps counts up to a billion exact."""
    return float(f"{x:.9g}")


def aggregate(bench: Benchmark, outcomes: Sequence[RunOutcome], command: str) -> dict[str, Any]:
    """Per figure: median, min, max and number of runs over the successful runs."""
    collected: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        if outcome.figures is None:
            continue
        rss = {"name": RSS_FIGURE, "value": outcome.peak_rss_mib, "unit": "MiB", "better": "lower"}
        for fig in [*outcome.figures, {**rss, "target": bench.rss_target_mib}]:
            meta = {"unit": fig["unit"], "better": fig["better"], "target": fig["target"]}
            entry = collected.setdefault(fig["name"], {**meta, "values": []})
            entry["values"].append(_tidy(fig["value"]))
    figures = {}
    for name, entry in collected.items():
        values = entry.pop("values")
        median = _tidy(statistics.median(values))
        figures[name] = {
            **entry,
            "median": median,
            "min": min(values),
            "max": max(values),
            "runs": len(values),
            "values": values,
            "status": target_status(median, entry["better"], entry["target"]),
            "command": command,
        }
    return figures


def run_benchmark(
    bench: Benchmark,
    *,
    quick: bool,
    runs: int | None,
    echo: Callable[[str], None],
    verbose: bool = False,
) -> dict[str, Any]:
    """Run one benchmark N times; the first failure stops its runs and is kept as its error."""
    n = runs or (bench.quick_runs if quick else bench.runs)
    command = reproduce_command(bench.name, n, quick=quick)
    outcomes: list[RunOutcome] = []
    error, trace = None, None
    for i in range(1, n + 1):
        outcome = run_once(bench, quick=quick)
        outcomes.append(outcome)
        echo(
            f"[bold]{bench.name}[/] run {i}/{n}: {outcome.wall_s:.1f} s, "
            f"peak RSS {outcome.peak_rss_mib:.0f} MiB"
            + (" [red]FAILED[/]" if outcome.error else "")
        )
        if (i == 1 or verbose) and outcome.stdout.strip():
            lines = outcome.stdout.rstrip().splitlines()
            echo("[dim]" + escape("\n".join("  " + line for line in lines)) + "[/]")
        if outcome.error:
            error, trace = outcome.error, outcome.traceback
            echo(f"[red]  {escape(error)}[/]")
            break
    return {
        "description": bench.description,
        "entry": bench.entry,
        "status": "failed" if error else "ok",
        "error": error,
        "traceback": trace,
        "command": command,
        "runs": n,
        "wall_s": [round(o.wall_s, 3) for o in outcomes],
        "figures": aggregate(bench, outcomes, command) if error is None else {},
    }


def default_output(*, quick: bool, only: Sequence[str] | None) -> Path:
    """Only a full run of every benchmark replaces latest.json (the committed baseline)."""
    return PARTIAL if quick or only else LATEST


def run_benchmarks(
    benchmarks: Sequence[Benchmark],
    *,
    quick: bool,
    runs: int | None,
    out: Path,
    command: str,
    echo: Callable[[str], None] = print,
    verbose: bool = False,
    derived: Sequence[Derived] = (),
) -> dict[str, Any]:
    """Run every benchmark given, write the results file, and return what was written."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "mode": "quick" if quick else "full",
        "command": command,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_facts(REPO),
        "benchmarks": {},
    }
    needed = tuple(dict.fromkeys(n for b in benchmarks for n in b.states_for(quick=quick)))
    if needed:  # the cached warehouses, built before anything is timed (bench/season_state.py)
        from bench.season_state import prepare

        results["setup"] = prepare(needed, echo=lambda line: echo(escape(line)))
    for bench in benchmarks:
        results["benchmarks"][bench.name] = run_benchmark(
            bench, quick=quick, runs=runs, echo=echo, verbose=verbose
        )
    derive(results, derived)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["duration_s"] = round(time.perf_counter() - t0, 1)
    results["machine"]["load_average_end"] = load_average()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def derive(results: dict[str, Any], derived: Sequence[Derived]) -> None:
    """Add each derived figure whose two inputs this run measured: the ratio of their medians
    (min and max likewise from the inputs' spreads, the widest ratio either way)."""
    figures = flat_figures(results)
    for spec in derived:
        top, bottom = figures.get(spec.numerator), figures.get(spec.denominator)
        if top is None or bottom is None or not bottom["median"]:
            continue
        median = _tidy(top["median"] / bottom["median"])
        into = results["benchmarks"][spec.numerator.split(".", 1)[0]]["figures"]
        into[spec.name] = {
            "unit": spec.unit,
            "better": "lower",
            "target": spec.target,
            "median": median,
            "min": _tidy(top["min"] / bottom["max"]),
            "max": _tidy(top["max"] / bottom["min"]),
            "runs": min(top["runs"], bottom["runs"]),
            "values": [median],
            "status": target_status(median, "lower", spec.target),
            "command": f"{spec.numerator} / {spec.denominator}: {top['command']}; "
            f"{bottom['command']}",
        }


def flat_figures(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every figure of a results file as "benchmark.figure" -> its record."""
    return {
        f"{bench_name}.{fig_name}": fig
        for bench_name, bench in results.get("benchmarks", {}).items()
        for fig_name, fig in bench.get("figures", {}).items()
    }
