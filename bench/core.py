"""What a benchmark is: a function that measures something and returns named figures.

The runner (bench/runner.py) calls each registered function in a fresh child process, N times, and
keeps the median, min and max of every figure; a benchmark only measures and returns. Figures are
printed and kept, never asserted: a missed target shows in the table and in review, fails nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Figure:
    """One measured number. `better=None` marks a count kept for context (rows, calls)."""

    name: str
    value: float
    unit: str
    better: Better | None = "lower"
    target: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"figure name {self.name!r}: use letters, digits, '_' and '.'")
        if not math.isfinite(float(self.value)):
            raise ValueError(f"figure {self.name!r}: value {self.value!r} is not a finite number")
        if self.target is not None and self.better is None:
            raise ValueError(f"figure {self.name!r}: a target needs better='lower' or 'higher'")


@dataclass(frozen=True)
class Context:
    """What a benchmark may know about its run: quick or full, and a scratch folder it owns."""

    quick: bool
    scratch: Path

    def rounds(self, full: int, quick: int = 1) -> int:
        """Inner repetitions: `full` in a full run, `quick` in a quick one."""
        return quick if self.quick else full


BenchFunction = Callable[[Context], list[Figure]]


@dataclass(frozen=True)
class Benchmark:
    """A registered benchmark. `entry` is "module:function", imported only in the child process,
    so listing or comparing never imports dlt, dbt or the sandbox."""

    name: str
    entry: str
    description: str
    runs: int = 5
    quick_runs: int = 1
    timeout_s: float = 600.0
    rss_target_mib: float | None = None
    # the cached warehouses it starts from (bench/season_state.py), built by the runner's setup
    # before anything is timed; `quick_states` when a quick run needs fewer (None: the same)
    states: tuple[str, ...] = ()
    quick_states: tuple[str, ...] | None = None

    def states_for(self, *, quick: bool) -> tuple[str, ...]:
        return self.quick_states if quick and self.quick_states is not None else self.states

    def __post_init__(self) -> None:
        if ":" not in self.entry:
            raise ValueError(f"benchmark {self.name!r}: entry {self.entry!r} is not mod:function")


@dataclass(frozen=True)
class Derived:
    """A figure computed by the runner from two others of the same run: `numerator` /
    `denominator`, each "benchmark.figure". It lands in the numerator's benchmark as `name`, and
    only when both were measured in the run (a ratio to another run's figure would mix machines'
    moods)."""

    name: str
    numerator: str
    denominator: str
    unit: str = "x"
    target: float | None = None


def target_status(figure_median: float, better: Better | None, target: float | None) -> str | None:
    """'pass' or 'miss' against the target, judged on the median; None when there is no target."""
    if target is None or better is None:
        return None
    met = figure_median <= target if better == "lower" else figure_median >= target
    return "pass" if met else "miss"
