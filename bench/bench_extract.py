"""How long does one date's extraction of all three sources take, end to end?

Run: `.venv/bin/python bench/bench_extract.py [--date 2026-01-15] [--past 2026-01-14] [--rounds 3]`.
Against the sandbox on loopback (started in-process, not counted), into a throw-away DuckDB file:
a cold run (empty warehouse), warm reruns of the same date (what the daily job pays), a past date
(historical Odds API snapshots), and the split of one run into its steps. Prints figures only.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from extract.config import ExtractConfig
from extract.runner import run_extract
from sandbox.server import SandboxServer


def _config(server: SandboxServer, root: Path) -> ExtractConfig:
    return ExtractConfig(
        odds_api_key=server.odds_api_key,
        odds_api_base_url=server.odds_api_url,
        balldontlie_key=server.balldontlie_key,
        balldontlie_base_url=server.balldontlie_url,
        espn_base_url=server.espn_url,
        now=server.now,
        duckdb_path=root / "warehouse.duckdb",
        dlt_dir=root / "dlt",
        landing_dir=root / "landing",
    )


def _timed(config: ExtractConfig, day: date) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = run_extract(config, [day])
    rows = sum(n for tables in report.dates[0].rows.values() for n in tables.values())
    return time.perf_counter() - started, rows, report.http_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-01-15", help="a live date (the sandbox's today)")
    parser.add_argument("--past", default="2026-01-14", help="a past date (historical odds)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    today, past = date.fromisoformat(args.date), date.fromisoformat(args.past)

    started = time.perf_counter()
    with SandboxServer(quota=10_000_000) as server, tempfile.TemporaryDirectory() as tmp:
        print(f"sandbox start (league load + index): {time.perf_counter() - started:.2f} s")
        config = _config(server, Path(tmp))
        seconds, rows, calls = _timed(config, today)
        print(f"cold run {today}: {seconds:.2f} s, {rows} rows, {calls} HTTP calls")
        warm = [_timed(config, today)[0] for _ in range(args.rounds)]
        print(
            f"warm rerun {today} x{args.rounds}: median {statistics.median(warm):.2f} s, "
            f"max {max(warm):.2f} s"
        )
        seconds, rows, calls = _timed(config, past)
        print(f"past date {past} (historical): {seconds:.2f} s, {rows} rows, {calls} HTTP calls")

        marks: list[tuple[float, str]] = []
        t0 = time.perf_counter()
        run_extract(config, [today], step=lambda msg: marks.append((time.perf_counter(), msg)))
        marks.append((time.perf_counter(), "end"))
        print("one warm run, step by step (the last step includes writing the run log):")
        previous = t0
        labels = ["setup", *(m for _, m in marks[:-1])]
        for (at, _), label in zip(marks, labels, strict=True):
            print(f"  {at - previous:6.2f} s  {label}")
            previous = at


if __name__ == "__main__":
    main()
