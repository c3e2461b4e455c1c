"""Where the daily job reads and writes, and the bounds it holds inputs to: one place, from the
environment (every variable is listed in .env.example), each with its default here.

The warehouse is extract's (`NBA_PROPS_DUCKDB_PATH`, or `NBA_PROPS_TEST_DUCKDB_PATH` on the test
target): extract, dbt and models_ml all read the same setting, so the three cannot disagree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from extract.config import REPO_ROOT, ExtractConfig
from pipeline.errors import ConfigError

DBT_TARGETS = ("dev", "test")


@dataclass(frozen=True)
class Settings:
    """One daily run's settings. Build it with `from_env`; tests use `with_changes`."""

    extract: ExtractConfig
    # the dbt target (profiles.yml): dev, or test for the suite's own file
    dbt_target: str = "dev"
    # one target path per target keeps dbt's partial parsing warm (as the Makefile does)
    dbt_target_path: Path = REPO_ROOT / "target" / "dev"
    dbt_log_path: Path = REPO_ROOT / "logs"
    # published files go to <public_dir>/<date>/
    public_dir: Path = REPO_ROOT / "public"
    # predictions made over player lines offered, per system, that a run must reach
    coverage_target: float = 0.95
    # the latest line snapshot of the day's games and the latest injury report may be this old
    # at the run's now; older stops scoring (the injury bound is the source's freshness warning)
    max_line_age_hours: float = 12.0
    max_injury_age_hours: float = 36.0

    @property
    def warehouse(self) -> Path:
        return self.extract.duckdb_path

    @property
    def lock_path(self) -> Path:
        """Beside the file it guards, as before: `warehouse/nba_props.duckdb.daily.lock`."""
        return self.warehouse.with_name(self.warehouse.name + ".daily.lock")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        target = (env.get("NBA_PROPS_TARGET") or "dev").strip().lower()
        if target not in DBT_TARGETS:
            raise ConfigError(
                f"NBA_PROPS_TARGET={target!r}: the daily job keeps its run log and checks in a "
                f"DuckDB warehouse; use one of {', '.join(DBT_TARGETS)} (BigQuery: `make build`)"
            )
        d = cls(extract=ExtractConfig())
        settings = cls(
            extract=ExtractConfig.from_env(env),
            dbt_target=target,
            dbt_target_path=_path(env, "DBT_TARGET_PATH", REPO_ROOT / "target" / target),
            dbt_log_path=_path(env, "DBT_LOG_PATH", d.dbt_log_path),
            public_dir=_path(env, "NBA_PROPS_PUBLIC_DIR", d.public_dir),
            coverage_target=_float(env, "NBA_PROPS_COVERAGE_TARGET", d.coverage_target),
            max_line_age_hours=_float(env, "NBA_PROPS_MAX_LINE_AGE_HOURS", d.max_line_age_hours),
            max_injury_age_hours=_float(
                env, "NBA_PROPS_MAX_INJURY_AGE_HOURS", d.max_injury_age_hours
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        if not 0.0 <= self.coverage_target <= 1.0:
            raise ConfigError(
                f"coverage target {self.coverage_target:g}: a share between 0 and 1 (0.95 = 95%)"
            )
        if self.max_line_age_hours <= 0 or self.max_injury_age_hours <= 0:
            raise ConfigError("NBA_PROPS_MAX_LINE_AGE_HOURS and ..._INJURY_AGE_HOURS must be > 0")

    def with_changes(self, **changes: object) -> Settings:
        settings = replace(self, **changes)  # type: ignore[arg-type]
        settings.check()
        return settings


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = (env.get(name) or "").strip()
    return Path(raw).expanduser().resolve() if raw else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: expected a number") from exc
