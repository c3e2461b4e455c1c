"""The benchmarks: run, compare, show, list (and the hidden child that each run is)."""

from __future__ import annotations

import contextlib
import importlib
import json
import resource
import shlex
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench.compare import BASELINE_PATH, DEFAULT_TOLERANCE, committed_results, compare, read_results
from bench.core import Context, Figure
from bench.registry import DERIVED, REGISTRY, by_name
from bench.report import compare_table, results_table
from bench.runner import LATEST, PARTIAL, default_output, python_command, run_benchmarks

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(highlight=False)
if not console.is_terminal:  # make's log or a pipe: wide enough for the table
    console.width = 120

_QUICK = typer.Option("--quick", help="Fewer runs (`make bench-quick`): one each by default.")
_ONLY = typer.Option("--only", help="Run only this benchmark (repeatable).")
_RUNS = typer.Option("--runs", min=1, help="Runs per benchmark (default: each one's own).")
_OUT = typer.Option(help="Results file (default: latest.json for a full run of all, else partial).")
_VERBOSE = typer.Option("--verbose", "-v", help="Show every run's output, not only the first.")
_ALL = typer.Option("--all", help="Also show context figures (counts, the market's description).")
_RESULTS = typer.Argument(help="The run to judge (default: the newer of latest and partial).")
_BASELINE = typer.Option(help=f"Compare with this file instead of the committed {BASELINE_PATH}.")
_REF = typer.Option(help="The git revision whose committed results are the baseline.")
_TOLERANCE = typer.Option(min=0.0, help="Flag a figure worse than the baseline by more than this.")
_FAIL = typer.Option(help="Exit 1 when a figure is flagged.")


@app.command()
def run(
    quick: Annotated[bool, _QUICK] = False,
    only: Annotated[list[str] | None, _ONLY] = None,
    runs: Annotated[int | None, _RUNS] = None,
    out: Annotated[Path | None, _OUT] = None,
    verbose: Annotated[bool, _VERBOSE] = False,
    show_all: Annotated[bool, _ALL] = False,
) -> None:
    """Run the registered benchmarks, write the results file and print the figures."""
    try:
        selected = by_name(only)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/]")
        raise typer.Exit(2) from exc
    out = out or default_output(quick=quick, only=only)
    command = shlex.join([python_command(), "-m", "bench", *sys.argv[1:]])
    results = run_benchmarks(
        selected, quick=quick, runs=runs, out=out, command=command, echo=console.print,
        verbose=verbose, derived=DERIVED,
    )  # fmt: skip
    console.print(results_table(results, context=show_all))
    took, setup = results["duration_s"], results.get("setup", {})
    built = setup.get("built")
    said = f" (setup {setup['seconds']:.0f} s: built {', '.join(built)})" if built else ""
    console.print(f"{len(selected)} benchmark(s) in {took:.0f} s{said}, written to {out}")
    failed = [name for name, b in results["benchmarks"].items() if b["status"] == "failed"]
    if failed:
        console.print(f"[red]failed: {', '.join(failed)}[/] (the others ran; see the table)")
        raise typer.Exit(1)


def _newest_results() -> Path:
    written = [p for p in (LATEST, PARTIAL) if p.exists()]
    if not written:
        console.print("no results file yet: run `make bench` or `make bench-quick` first")
        raise typer.Exit(2)
    return max(written, key=lambda p: p.stat().st_mtime)


@app.command("compare")
def compare_command(
    results: Annotated[Path | None, _RESULTS] = None,
    baseline: Annotated[Path | None, _BASELINE] = None,
    ref: Annotated[str, _REF] = "HEAD",
    tolerance: Annotated[float, _TOLERANCE] = DEFAULT_TOLERANCE,
    fail_on_regression: Annotated[bool, _FAIL] = False,
    show_all: Annotated[bool, _ALL] = False,
) -> None:
    """Print each figure's ratio to the committed results and flag regressions past a tolerance."""
    current_path = results or _newest_results()
    then = read_results(baseline) if baseline else committed_results(ref)
    if then is None:
        console.print(f"no {BASELINE_PATH} committed at {ref}: nothing to compare with yet")
        return
    now = read_results(current_path)
    source = baseline or f"{ref}:{BASELINE_PATH}"
    console.print(f"current:  {current_path} ({now['mode']}, {now['started_at']})")
    console.print(f"baseline: {source} ({then['mode']}, {then['started_at']})")
    if now["mode"] != then["mode"]:
        console.print("[yellow]modes differ (quick vs full): fewer runs, wider spreads[/]")
    rows = compare(then, now, tolerance)
    console.print(compare_table(rows, tolerance, context=show_all))
    flagged = [row.key for row in rows if row.verdict == "regression"]
    if flagged:
        console.print(f"[red]{len(flagged)} past {tolerance:.0%}:[/] {', '.join(flagged)}")
        if fail_on_regression:
            raise typer.Exit(1)


@app.command()
def show(
    results: Annotated[Path | None, _RESULTS] = None,
    show_all: Annotated[bool, _ALL] = False,
) -> None:
    """Print the table of a results file without running anything."""
    path = results or _newest_results()
    written = read_results(path)
    console.print(f"{path}: {written['command']} at {written['started_at']}")
    console.print(results_table(written, context=show_all))


@app.command("list")
def list_command() -> None:
    """The registered benchmarks, their default runs and what they measure."""
    for bench in REGISTRY:
        runs = f"runs {bench.runs} (quick {bench.quick_runs})"
        console.print(f"[bold]{bench.name:16}[/] {runs:18} {bench.description}")


@app.command("child", hidden=True)
def child(
    entry: str,
    out: Annotated[Path, typer.Option()],
    scratch: Annotated[Path, typer.Option()],
    quick: Annotated[bool, typer.Option("--quick")] = False,
) -> None:
    """Run one benchmark function in this fresh process; write its figures (or error) as JSON."""
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        module_name, _, function_name = entry.partition(":")
        function = getattr(importlib.import_module(module_name), function_name)
        figures = function(Context(quick=quick, scratch=scratch))
        if not figures or not all(isinstance(f, Figure) for f in figures):
            raise TypeError(f"{entry} must return a non-empty list of Figure, got {figures!r}")
        names = [f.name for f in figures]
        if len(set(names)) != len(names):
            raise ValueError(f"{entry} returned a figure name twice: {names}")
        payload: dict = {"figures": [asdict(f) for f in figures]}
    except Exception as exc:
        payload = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        print(payload["traceback"], file=sys.stderr)
    payload["peak_rss_kib"] = own_peak_rss_kib()
    out.write_text(json.dumps(payload))
    if "error" in payload:
        raise typer.Exit(1)


def own_peak_rss_kib() -> int:
    """This process's peak RSS since it started running Python (VmHWM), or that of the largest
    child it waited for. The kernel's rusage of a child also counts the parent's memory the
    child was forked with (before exec): a 3 GB pytest would make every benchmark look 3 GB."""
    hwm = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
