"""The report's plots: each a function from a mart's frame to PNG bytes.

Agg only (no display on a server), one fixed size and resolution, and no metadata that changes
between runs (matplotlib writes its version as 'Software'; it is dropped), so that the same marts
draw byte-identical images.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no display on a server

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

SIZE = (8.0, 3.6)
DPI = 100
STYLE = {
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
}


def hit_rate_and_roi(daily: pd.DataFrame) -> bytes:
    """Running hit rate and running ROI per system, by game date."""
    with plt.rc_context(STYLE):
        figure, (left, right) = plt.subplots(1, 2, figsize=SIZE, dpi=DPI)
        for system, rows in _by_system(daily):
            left.plot(rows["game_date"], rows["cumulative_hit_rate"], label=system)
            right.plot(rows["game_date"], rows["cumulative_roi"], label=system)
        left.axhline(
            0.5238, color="grey", linestyle="--", linewidth=0.8, label="break-even at -110"
        )
        right.axhline(0.0, color="grey", linestyle="--", linewidth=0.8)
        left.set_title("Hit rate (running)")
        right.set_title("ROI per unit staked (running)")
        _finish(figure, [left, right], daily.empty)
        return _png(figure)


def calibration(frame: pd.DataFrame) -> bytes:
    """Observed over rate against the predicted over probability, by bucket of 0.1."""
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=SIZE, dpi=DPI)
        axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="calibrated")
        for system, rows in _by_system(frame):
            axes.plot(
                rows["mean_probability_over"], rows["observed_over_rate"], marker="o", label=system
            )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("predicted probability of the over")
        axes.set_ylabel("observed over rate")
        axes.set_title("Calibration")
        _finish(figure, [axes], frame.empty)
        return _png(figure)


def closing_line_value(daily: pd.DataFrame) -> bytes:
    """Each day's mean CLV of the picks and its running mean, in probability points."""
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=SIZE, dpi=DPI)
        for system, rows in _by_system(daily):
            line = axes.plot(rows["game_date"], rows["cumulative_mean_clv"], label=system)[0]
            axes.scatter(
                rows["game_date"], rows["mean_clv"], s=6, alpha=0.4, color=line.get_color()
            )
        axes.axhline(0.0, color="grey", linestyle="--", linewidth=0.8)
        axes.set_ylabel("close minus pick no-vig probability")
        axes.set_title("Closing-line value (dots: each day; line: running mean)")
        _finish(figure, [axes], daily.empty)
        return _png(figure)


def coverage(frame: pd.DataFrame, target: float) -> bytes:
    """Predictions made over lines offered, per day, against the target."""
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(figsize=SIZE, dpi=DPI)
        for system, rows in _by_system(frame):
            axes.plot(rows["game_date"], rows["coverage"], marker=".", label=system)
        axes.axhline(target, color="firebrick", linestyle="--", linewidth=0.8, label="target")
        axes.set_ylim(0, 1.05)
        axes.set_title("Coverage: predictions made / lines offered")
        _finish(figure, [axes], frame.empty)
        return _png(figure)


def _by_system(frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    if frame.empty:
        return []
    return [(str(s), rows) for s, rows in frame.groupby("system", sort=True)]


def _finish(figure: Figure, axes: list, empty: bool) -> None:
    for ax in axes:
        if empty:
            ax.text(
                0.5, 0.5, "nothing graded yet", ha="center", va="center", transform=ax.transAxes
            )
        elif ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=7, frameon=False)
        ax.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()
