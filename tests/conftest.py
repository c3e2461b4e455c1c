"""Suite-wide pytest setup: the sandbox's fixtures, and which tests are slow.

A test is slow when it runs a real pipeline end to end: an extract run over loopback HTTP into a
DuckDB file (any extract test that uses the sandbox server) or a dbt build. `make test-fast`
skips those for the edit loop; `make test` (and CI) runs everything.

`make test` runs on two workers (pytest-xdist, `--dist loadgroup`). Each test file is one group, so
a file's module fixtures are built once; every test that reads the backfilled weeks or their dbt
build joins one `warehouse` group, so that costly session fixture is built once, on one worker.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["sandbox.pytest_plugin"]

END_TO_END_FIXTURES = frozenset({"sandbox", "sandbox_server", "dbt_build"})
# The session fixtures worth building once per run, not once per worker.
WAREHOUSE_FIXTURES = frozenset({"raw_weeks", "dbt_build"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        in_extract = "tests/extract/" in item.nodeid.replace("\\", "/")
        if ("dbt_build" in fixtures) or (in_extract and fixtures & END_TO_END_FIXTURES):
            item.add_marker(pytest.mark.slow)
        group = "warehouse" if fixtures & WAREHOUSE_FIXTURES else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))
