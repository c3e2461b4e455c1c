"""The short tables a person reads after a run or a comparison."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from bench.compare import Comparison

_STATUS = {"pass": "[green]pass[/]", "miss": "[red]miss[/]", None: ""}
_VERDICT = {
    "regression": "[red]REGRESSION[/]",
    "improvement": "[green]improvement[/]",
    "within": "within",
    "noisy": "[yellow]noisy[/]",
    "unjudged": "[dim]count[/]",
    "new": "[cyan]new[/]",
    "gone": "[yellow]gone[/]",
    "failed": "[red]benchmark failed[/]",
}


def number(x: float | None) -> str:
    """Three significant digits at most, thousands grouped: figures, not noise."""
    if x is None:
        return "-"
    if float(x).is_integer() and abs(x) >= 10:
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def results_table(results: dict[str, Any], *, context: bool = False) -> Table:
    """One row per judged figure: median, spread (min-max), runs, target and pass/miss. Context
    figures (counts, the market's description) are in the results file; `context` shows them too."""
    hidden = sum(
        fig["better"] is None
        for bench in results["benchmarks"].values()
        for fig in bench["figures"].values()
    )
    caption = f"{hidden} context figures (counts, market) not shown: --all" if hidden else None
    table = Table(
        title=f"nba-props benchmarks ({results['mode']})",
        title_justify="left",
        caption=None if context else caption,
        caption_justify="left",
    )
    for column in ("figure", "median", "spread", "unit", "runs", "target", ""):
        justify = "left" if column in {"figure", "unit", ""} else "right"
        table.add_column(column, justify=justify)
    for bench_name, bench in results["benchmarks"].items():
        if bench["status"] == "failed":
            first_line = escape((bench["error"] or "failed").splitlines()[0][:90])
            failed = f"[red]FAILED[/] {first_line}"
            table.add_row(f"[red]{bench_name}[/]", "", "", "", "", "", failed)
            continue
        for fig_name, fig in bench["figures"].items():
            if fig["better"] is None and not context:
                continue
            arrow = {"lower": " ↓", "higher": " ↑"}.get(fig["better"], "")
            table.add_row(
                f"{bench_name}.{fig_name}",
                number(fig["median"]),
                f"{number(fig['min'])}–{number(fig['max'])}" if fig["min"] != fig["max"] else "",
                fig["unit"],
                str(fig["runs"]),
                "" if fig["target"] is None else number(fig["target"]) + arrow,
                _STATUS[fig["status"]],
            )
        table.add_section()
    return table


def compare_table(rows: list[Comparison], tolerance: float, *, context: bool = False) -> Table:
    """One row per figure: baseline median, current median, their ratio and the verdict."""
    table = Table(
        title=f"ratio = current / baseline median; flagged: past ±{tolerance:.0%}, spreads apart",
        title_justify="left",
    )
    for column in ("figure", "baseline", "current", "unit", "ratio", ""):
        justify = "left" if column in {"figure", "unit", ""} else "right"
        table.add_column(column, justify=justify)
    for row in rows:
        if row.verdict == "unjudged" and row.ratio == 1 and not context:
            continue  # an unchanged count says nothing
        table.add_row(
            row.key,
            number(row.baseline),
            number(row.current),
            row.unit,
            "-" if row.ratio is None else f"{row.ratio:.2f}",
            _VERDICT[row.verdict],
        )
    return table
