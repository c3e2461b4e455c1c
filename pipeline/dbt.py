"""dbt in this process (`dbtRunner`), one invocation per dbt step: no CLI start-up per step.

Two selections (pipeline/selection.py) split the project where scoring sits: everything that does
not read what the daily job itself writes (the feature store and all it stands on, the outcomes),
then what does (the prediction marts over `raw_models_ml`, the pipeline-health mart over
`raw_pipeline`).

The run id reaches dbt as `DBT_ENV_CUSTOM_ENV_NBA_PROPS_RUN_ID` (dbt writes it into the metadata
of run_results.json) and the run log maps it to dbt's invocation id. Not a `--vars run_id`: a new
var every run throws dbt's partial parse away, about 3 s per invocation here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from dbt.cli.main import dbtRunner
from dbt_common.events.functions import reset_metadata_vars
from dbt_common.invocation import get_invocation_id

from extract.config import REPO_ROOT
from pipeline.settings import Settings

OK_STATUSES = frozenset({"success", "pass", "warn", "skipped"})


@dataclass
class DbtOutcome:
    """What one invocation did: nodes by status, the failures in words, dbt's invocation id."""

    invocation_id: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def nodes(self) -> int:
        return sum(self.counts.values())


class DbtInvocationError(Exception):
    """dbt itself could not run (the project does not parse, the profile is wrong)."""


def _environment(settings: Settings, run_id: str) -> None:
    """dbt reads its profile from the environment: point it at this run's warehouse."""
    variable = (
        "NBA_PROPS_TEST_DUCKDB_PATH" if settings.dbt_target == "test" else "NBA_PROPS_DUCKDB_PATH"
    )
    os.environ[variable] = str(settings.warehouse)
    os.environ["DBT_ENV_CUSTOM_ENV_NBA_PROPS_RUN_ID"] = run_id
    reset_metadata_vars()  # dbt reads them once per process; a second run must not show the first


def _release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the process after an invocation: left
    open, it holds the file in dbt's configuration and models_ml's read-only connection (or any
    other configuration) is refused in this process."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def build(settings: Settings, selection: tuple[str, ...], run_id: str) -> DbtOutcome:
    """`dbt build <selection>` on the run's warehouse; raises only when dbt could not run."""
    _environment(settings, run_id)
    started = time.monotonic()
    result = dbtRunner().invoke(
        [
            "build",
            *selection,
            "--project-dir",
            str(REPO_ROOT),
            "--profiles-dir",
            str(REPO_ROOT),
            "--target",
            settings.dbt_target,
            "--target-path",
            str(settings.dbt_target_path),
            "--log-path",
            str(settings.dbt_log_path),
            "--quiet",
        ]
    )
    _release_warehouse()
    outcome = DbtOutcome(get_invocation_id(), round(time.monotonic() - started, 3))
    if result.exception is not None:
        raise DbtInvocationError(f"{type(result.exception).__name__}: {result.exception}")
    for node in getattr(result.result, "results", None) or []:
        status = str(node.status)
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        said = f"{node.node.unique_id}: {status}" + (f" ({node.message})" if node.message else "")
        if status not in OK_STATUSES:
            outcome.failures.append(said)
        elif status == "warn":
            outcome.warnings.append(said)
    if not result.success and not outcome.failures:
        outcome.failures.append("dbt reported failure without a failed node (see the dbt log)")
    return outcome
