"""The sandbox in a process of its own, as a real API is: its league and response caches are not
the extractor's memory, and it serves on the other core.

`python -m extract` with no API configured starts the sandbox in its own process instead, where
the sandbox's rendering and the extractor's record checks take turns on one core under one GIL.
That is the right default for `make daily`, and it is what the daily-run benchmarks measure. A
backfill that only builds a benchmark's starting state (bench/season_state.py) or measures
extraction (backfill_season) talks to this process over loopback, as it would to the real APIs.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import requests

from sandbox.server import PREFIXES

ODDS_KEY = "sandbox-odds-key"  # what `python -m sandbox` accepts by default
BDL_KEY = "sandbox-bdl-key"
QUOTA = 100_000_000  # the sandbox's credits are free: no backfill may run short of them


@contextmanager
def sandbox_process(now: datetime) -> Iterator[str]:
    """`python -m sandbox` at clock `now` on a free loopback port; yields its base URL once it
    answers, and stops it after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "sandbox", "--port", str(port), "--now", now.isoformat(),
               "--quota", str(QUOTA)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(url + "/_sandbox/state", timeout=2).raise_for_status()
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sandbox did not start on {url}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def extract_env(url: str, now: datetime) -> dict[str, str]:
    """What points `python -m extract` at the sandbox process at `url`, exactly as the in-process
    sandbox configures it: its keys and URLs, its clock (a backfill replays its past injury
    reports), no request pacing on loopback, and a credit budget it cannot run short of."""
    return {
        "ODDS_API_KEY": ODDS_KEY,
        "ODDS_API_BASE_URL": url + PREFIXES["odds"],
        "BALLDONTLIE_API_KEY": BDL_KEY,
        "BALLDONTLIE_BASE_URL": url + PREFIXES["bdl"],
        "ESPN_BASE_URL": url + PREFIXES["espn"],
        "NBA_PROPS_SANDBOX_URL": url,
        "NBA_PROPS_NOW": now.isoformat(),
        "ODDS_API_REQUESTS_PER_SECOND": "0",
        "BALLDONTLIE_REQUESTS_PER_MINUTE": "0",
        "ESPN_REQUESTS_PER_SECOND": "0",
        "ODDS_API_CREDIT_BUDGET": str(QUOTA),
    }
