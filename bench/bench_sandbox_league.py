"""How long does the simulated season take to build and to load, and how much memory does it use?

Prints figures only (no assertions on speed): a cold build into a throw-away cache directory
(generation plus writing the cache), a load of that cache in a fresh process (what a test session
or a server start pays), the in-process memo hit, the cache file size and peak resident memory.

    .venv/bin/python bench/bench_sandbox_league.py [--seed N] [--season YYYY]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from sandbox.league import build_league
t1 = time.perf_counter()
league = build_league({seed}, {season})
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{rss:.0f}} {{len(league.props)}}")
"""


def _child(seed: int, season: int, cache: str) -> tuple[float, float, float, int]:
    """Run one build_league in a fresh interpreter, so each figure starts from a cold process."""
    env = {**os.environ, "NBA_PROPS_SANDBOX_CACHE": cache}
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own snippet
        [sys.executable, "-c", _CHILD.format(seed=seed, season=season)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    imp, build, rss, n_props = out.stdout.split()
    return float(imp), float(build), float(rss), int(n_props)


def main() -> None:
    """Print build, load and memory figures for one (seed, season)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20251021)
    parser.add_argument("--season", type=int, default=2025)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-league-") as cache:
        imp, cold, cold_rss, n_props = _child(args.seed, args.season, cache)
        _, warm, warm_rss, _ = _child(args.seed, args.season, cache)
        size = sum(p.stat().st_size for p in Path(cache).iterdir()) / 2**20

        os.environ["NBA_PROPS_SANDBOX_CACHE"] = cache
        sys.path.insert(0, str(REPO))
        from sandbox.league import generate_league, load_league

        t0 = time.perf_counter()
        generate_league(args.seed, args.season)
        gen = time.perf_counter() - t0
        load_league(args.seed, args.season)
        t0 = time.perf_counter()
        load_league(args.seed, args.season)
        memo = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"league seed={args.seed} season={args.season}: {n_props:,} prop quotes")
    print(f"  import sandbox.league           {imp:7.2f} s")
    print(f"  cold build (generate + cache)   {cold:7.2f} s   peak RSS {cold_rss:6.0f} MiB")
    print(f"  generate only (warm process)    {gen:7.2f} s")
    print(f"  load from disk cache            {warm:7.2f} s   peak RSS {warm_rss:6.0f} MiB")
    print(f"  load_league memo hit            {memo * 1e3:7.2f} ms")
    print(f"  cache file                      {size:7.1f} MiB")
    print(f"  this process peak RSS           {peak:7.0f} MiB")


if __name__ == "__main__":
    main()
