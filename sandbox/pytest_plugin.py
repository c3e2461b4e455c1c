"""pytest fixtures for the sandbox: one league and one server per test session.

Enable with `pytest_plugins = ["sandbox.pytest_plugin"]` in the root conftest.py. `sandbox` is the
fixture most tests want: the session server, reset before and after the test (no faults, default
`now`, a fresh quota), so tests stay independent while the league is generated and indexed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.defaults import DEFAULT_SEASON, DEFAULT_SEED
from sandbox.server import SandboxServer


@pytest.fixture(scope="session")
def sandbox_league() -> Any:
    """The default simulated season, built or read from the disk cache once per session."""
    from sandbox.league import load_league

    return load_league(DEFAULT_SEED, DEFAULT_SEASON)


@pytest.fixture(scope="session")
def sandbox_server(sandbox_league: Any) -> Iterator[SandboxServer]:
    """The sandbox serving `sandbox_league` on a free loopback port for the whole session."""
    with SandboxServer(sandbox_league) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session server in its start state: faults cleared, default now, quota reset."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()
