"""Suite-wide pytest setup: the sandbox's fixtures, and which tests are slow.

A test is slow when it runs a real pipeline end to end: an extract run over loopback HTTP into a
DuckDB file (any extract test that uses the sandbox server) or a dbt build. `make test-fast`
skips those for the edit loop; `make test` (and CI) runs everything.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["sandbox.pytest_plugin"]

END_TO_END_FIXTURES = frozenset({"sandbox", "sandbox_server", "dbt_build"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        in_extract = "tests/extract/" in item.nodeid.replace("\\", "/")
        if ("dbt_build" in fixtures) or (in_extract and fixtures & END_TO_END_FIXTURES):
            item.add_marker(pytest.mark.slow)
