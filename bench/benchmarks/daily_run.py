"""What does a day cost? Issue 12: the next date's `make daily` under 20 s and at most 2x the floor.

The state is what a fresh clone's first `make daily` leaves (bench/season_state.py: the season so
far backfilled from the sandbox, the models trained, the demo day 2026-01-15 run; built once per
code version, untimed here). Each round, from a fresh copy of it, runs `python -m pipeline daily
--date 2026-01-16` in a new process, exactly what `make daily DATE=2026-01-16` runs: results of the
15th, the 16th's injuries, slate and lines, dbt, scoring, the prediction marts and publishing.
`next_day_peak_rss` is that process's (the in-process sandbox included). `floor_ratio` divides its
wall time by the toolchain floor measured in the same run (bench.benchmarks.toolchain_floor).
"""

from __future__ import annotations

import shutil
import statistics

from bench.benchmarks import toolchain_floor
from bench.core import Context, Figure
from bench.season_state import run_daily, season_state

NEXT_DAY = "2026-01-16"
TARGET_S = 20.0
FLOOR_RATIO_TARGET = 2.0


def run(ctx: Context) -> list[Figure]:
    walls, peaks = [], []
    for n in range(ctx.rounds(3, 1)):
        state = season_state(ctx.scratch / f"state{n}")
        wall, peak = run_daily(NEXT_DAY, state)
        shutil.rmtree(state)
        walls.append(wall)
        peaks.append(peak)
        print(f"round {n + 1}: daily {NEXT_DAY} {wall:.1f} s, peak {peak:.0f} MiB")

    floor_figures = toolchain_floor.run(Context(quick=ctx.quick, scratch=ctx.scratch / "floor"))
    floor = {f.name: f.value for f in floor_figures}["floor_total"]
    wall = statistics.median(walls)
    print(f"floor {floor:.1f} s: the day costs {wall / floor:.2f}x the floor")
    return [
        Figure("next_day", wall, "s", target=TARGET_S),
        Figure("floor_ratio", wall / floor, "x", target=FLOOR_RATIO_TARGET),
        Figure("next_day_peak_rss", max(peaks), "MiB"),
        Figure("floor_total", floor, "s", better=None),
    ]
