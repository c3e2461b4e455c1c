"""How efficient is the sandbox's market? Prints the market-report figures of the default season.

Figures only (the bounds are asserted in tests/sandbox/test_market.py):

    .venv/bin/python bench/bench_sandbox_market.py [--seed N] [--season YYYY]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED
from sandbox.league import load_league
from sandbox.market_report import market_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--season", type=int, default=DEFAULT_SEASON)
    args = parser.parse_args()
    league = load_league(args.seed, args.season)
    started = time.perf_counter()
    rows = market_report(league).as_rows()
    elapsed = time.perf_counter() - started
    for name, value in rows:
        print(f"{name:<32} {value}")
    print(f"{'report_seconds':<32} {elapsed:.2f}")


if __name__ == "__main__":
    main()
