"""Set a results file against the committed one: each figure's ratio, and what moved too far.

The baseline is read from git (`git show HEAD:bench/results/latest.json`), not from the working
tree, so a fresh `make bench` (which rewrites latest.json) is compared with what review last saw
rather than with itself.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.runner import REPO, flat_figures

DEFAULT_TOLERANCE = 0.20
BASELINE_PATH = "bench/results/latest.json"


@dataclass(frozen=True)
class Comparison:
    """One figure, then and now. `ratio` is current / baseline of the medians."""

    key: str
    unit: str
    better: str | None
    baseline: float | None
    current: float | None
    ratio: float | None
    verdict: str  # regression, improvement, noisy, within, unjudged, new, gone, failed


def committed_results(ref: str = "HEAD", path: str = BASELINE_PATH) -> dict[str, Any] | None:
    """The results file as committed at `ref`, or None when it is not in git yet."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", "show", f"{ref}:{path}"],  # noqa: S607 - git from PATH
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return json.loads(out.stdout)


def read_results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _verdict(old: dict[str, Any], new: dict[str, Any], tolerance: float) -> str:
    """Past the tolerance is a regression (or an improvement) only when the two runs' spreads do
    not overlap; otherwise "noisy": on cores shared with other work, one slow run is not a trend."""
    better, ratio = new["better"], new["median"] / old["median"]
    if better is None:
        return "unjudged"
    higher, lower = ratio > 1 + tolerance, ratio < 1 / (1 + tolerance)
    if not (higher or lower):
        return "within"
    apart = new["min"] > old["max"] or new["max"] < old["min"]
    if not apart:
        return "noisy"
    return "regression" if higher == (better == "lower") else "improvement"


def compare(
    baseline: dict[str, Any], current: dict[str, Any], tolerance: float = DEFAULT_TOLERANCE
) -> list[Comparison]:
    """Every figure of the benchmarks the current file ran, in its order, then the ones it lost."""
    then, now = flat_figures(baseline), flat_figures(current)
    rows: list[Comparison] = []
    for key, fig in now.items():
        old = then.get(key)
        unit, better = fig["unit"], fig["better"]
        if old is None:
            rows.append(Comparison(key, unit, better, None, fig["median"], None, "new"))
            continue
        ratio = fig["median"] / old["median"] if old["median"] else None
        verdict = "unjudged" if ratio is None else _verdict(old, fig, tolerance)
        rows.append(Comparison(key, unit, better, old["median"], fig["median"], ratio, verdict))
    for name, bench in current.get("benchmarks", {}).items():
        for key, old in then.items():
            if not key.startswith(f"{name}.") or key in now:
                continue
            verdict = "failed" if bench.get("status") == "failed" else "gone"
            rows.append(
                Comparison(key, old["unit"], old["better"], old["median"], None, None, verdict)
            )
    return rows
