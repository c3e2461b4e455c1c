"""The facts that make a figure comparable: which machine, versions, commit, and how busy."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

# The packages whose version moves the figures (the pins in pyproject.toml).
KEY_PACKAGES = (
    "dlt",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "catboost",
    "pandas",
    "numpy",
    "pyarrow",
    "sqlglot",
    "requests",
)


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", *args],  # noqa: S607 - git from PATH, as the Makefile uses it
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _meminfo_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return platform.processor() or None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float]:
    """1, 5 and 15 minute load: on cores shared with other work, it says how noisy a run was."""
    return [round(x, 2) for x in os.getloadavg()]


def machine_facts(repo: Path) -> dict:
    """Cores, memory, Python, key package versions, git commit and date of this run."""
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _meminfo_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in KEY_PACKAGES},
        "git_commit": _git(repo, "rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": load_average(),
    }
