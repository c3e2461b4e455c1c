"""What does a day cost, and does it grow with history? Issues 12 and 13 (items 2 and 3).

`next_day`: from the state a fresh clone's first `make daily` leaves (bench/season_state.py: the
season so far backfilled from the sandbox, the models trained, the demo day 2026-01-15 run; built
once per code version, untimed here), each round runs `python -m pipeline daily --date 2026-01-16`
on a fresh copy in a new process, exactly what `make daily DATE=2026-01-16` runs: results of the
15th, the 16th's injuries, slate and lines, dbt, scoring, the prediction marts and publishing.
Target: under 20 s. `next_day_peak_rss` is that process's (the in-process sandbox included).

`history_next_day`: the same day on the same state with two earlier full seasons (2023-24 and
2024-25, served by the sandbox too) loaded under it, the models trained on all three.
`history_ratio` = history_next_day / next_day, target at most 1.25: a day's cost must not grow
with the history behind it. Rounds alternate between the two states so that a neighbour's load
falls on both.

The toolchain floor is its own benchmark; the runner derives `floor_ratio` (next_day / the floor,
target at most 2) when both ran (bench/registry.py, DERIVED).
"""

from __future__ import annotations

import statistics

from bench.core import Context, Figure
from bench.season_state import live_history, live_season, run_daily

NEXT_DAY = "2026-01-16"
TARGET_S = 20.0
HISTORY_RATIO_TARGET = 1.25


def run(ctx: Context) -> list[Figure]:
    one, three, peaks, history_peaks = [], [], [], []
    for n in range(ctx.rounds(3, 1)):
        with live_season() as state:
            wall, peak = run_daily(NEXT_DAY, state)
        one.append(wall)
        peaks.append(peak)
        print(f"round {n + 1}: daily {NEXT_DAY} on one season {wall:.1f} s, peak {peak:.0f} MiB")
        if n < ctx.rounds(2, 0):
            with live_history() as state:
                wall, peak = run_daily(NEXT_DAY, state)
            three.append(wall)
            history_peaks.append(peak)
            print(f"         on three seasons {wall:.1f} s, peak {peak:.0f} MiB")

    median = statistics.median
    figures = [
        Figure("next_day", median(one), "s", target=TARGET_S),
        Figure("next_day_peak_rss", max(peaks), "MiB"),
    ]
    if three:
        figures += [
            Figure("history_next_day", median(three), "s"),
            Figure("history_ratio", median(three) / median(one), "x", target=HISTORY_RATIO_TARGET),
            Figure("history_peak_rss", max(history_peaks), "MiB"),
        ]
    return figures
