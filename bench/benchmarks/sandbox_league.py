"""How long does the simulated season take to build and to load, and how much memory does it use?

A cold build into a throw-away cache directory (generation plus writing the cache) and a load of
that cache, each in a fresh interpreter (what a test session or a server start pays), generation
alone in a warm process, the in-process memo hit, the cache file size and peak resident memory.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.core import Context, Figure
from sandbox.league import CACHE_ENV, DEFAULT_SEASON, DEFAULT_SEED, generate_league, load_league

REPO = Path(__file__).resolve().parents[2]
SEED, SEASON = DEFAULT_SEED, DEFAULT_SEASON

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


def _child(cache: Path) -> tuple[float, float, float, int]:
    """One build_league in a fresh interpreter, so each figure starts from a cold process."""
    env = {**os.environ, CACHE_ENV: str(cache)}
    out = subprocess.run(  # noqa: S603 - our own interpreter running our own snippet
        [sys.executable, "-c", _CHILD.format(seed=SEED, season=SEASON)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"build_league in a fresh process exited {out.returncode}: {last}")
    imp, build, rss, n_props = out.stdout.split()
    return float(imp), float(build), float(rss), int(n_props)


def run(ctx: Context) -> list[Figure]:
    """Build, load and memory figures for the default (seed, season)."""
    cache = ctx.scratch / "league-cache"
    cache.mkdir()
    imp, cold, cold_rss, n_props = _child(cache)
    _, warm, warm_rss, _ = _child(cache)
    size = sum(p.stat().st_size for p in cache.iterdir()) / 2**20

    os.environ[CACHE_ENV] = str(cache)  # read at each call: this process uses the scratch cache
    t0 = time.perf_counter()
    generate_league(SEED, SEASON)
    gen = time.perf_counter() - t0
    load_league(SEED, SEASON)
    t0 = time.perf_counter()
    load_league(SEED, SEASON)
    memo = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"league seed={SEED} season={SEASON}: {n_props:,} prop quotes")
    print(f"  import sandbox.league           {imp:7.2f} s")
    print(f"  cold build (generate + cache)   {cold:7.2f} s   peak RSS {cold_rss:6.0f} MiB")
    print(f"  generate only (warm process)    {gen:7.2f} s")
    print(f"  load from disk cache            {warm:7.2f} s   peak RSS {warm_rss:6.0f} MiB")
    print(f"  load_league memo hit            {memo * 1e3:7.2f} ms")
    print(f"  cache file                      {size:7.1f} MiB")
    print(f"  this process peak RSS           {peak:7.0f} MiB")
    return [
        Figure("import", imp, "s"),
        Figure("cold_build", cold, "s"),
        Figure("cold_build_rss", cold_rss, "MiB"),
        Figure("generate", gen, "s"),
        Figure("load_cache", warm, "s"),
        Figure("load_cache_rss", warm_rss, "MiB"),
        Figure("memo_hit", memo * 1e3, "ms"),
        Figure("cache_size", size, "MiB"),
        Figure("prop_quotes", n_props, "quotes", better=None),
    ]
