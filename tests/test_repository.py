"""House rules that live in files rather than code: setup, secrets, ignores, CI, make targets."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

# Any quoted name with one of the project's prefixes counts as read: code reads settings through
# mappings (`env.get(...)`) as well as os.environ, and dbt through env_var(...).
ENV_READ = re.compile(
    r"""["']((?:NBA_PROPS|ODDS_API|BALLDONTLIE|ESPN|GOOGLE|DBT)_[A-Z0-9_]+)["']"""
)


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [REPO / line for line in out.splitlines() if line]


def test_profiles_hold_no_secrets() -> None:
    profiles = yaml.safe_load((REPO / "profiles.yml").read_text())["nba_props"]["outputs"]
    assert set(profiles) >= {"dev", "test", "lint", "bigquery"}
    assert profiles["lint"]["path"] == ":memory:"
    for key in ("project", "dataset", "location", "keyfile"):
        assert "env_var(" in str(profiles["bigquery"][key]), key
    for field in ("password", "token", "private_key", "refresh_token", "client_secret"):
        assert field not in str(profiles)


def test_env_example_names_every_variable_the_code_reads() -> None:
    read = set()
    for path in _tracked("*.py", "*.yml", "*.sql", "Makefile"):
        if "tests/" in str(path.relative_to(REPO)) or not path.exists():
            continue
        read |= set(ENV_READ.findall(path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    assert read, "found no environment reads: the pattern is broken"
    assert read - documented == set()


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        "warehouse/nba_props.duckdb",
        "target/manifest.json",
        "logs/dbt.log",
        ".dlt_pipelines/x",
        "landing/x.json.gz",
        "artifacts/model.cbm",
        "published/picks.csv",
        ".env",
        "x.duckdb",
    ],
)
def test_generated_and_secret_files_are_ignored(path: str) -> None:
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
    assert result.returncode == 0, f"{path} is not git-ignored"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    lines = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    # one guarded block may install the browser the report and docs tests open, and nothing else
    start = lines.index("if [ ! -x /usr/bin/chromium ]; then")
    end = lines.index("fi", start)
    browser = " ".join(lines[start + 1 : end])
    assert browser.count("apt-get install") == 1
    assert browser.split("apt-get install", 1)[1].split()[-1] == "chromium"
    commands = lines[:start] + lines[end + 1 :]
    assert commands[-1] == "make test"
    assert all(c == "make test" or c.startswith(("set ", "cd ")) for c in commands)
    assert "make test" in (REPO / "README.md").read_text()


def test_make_help_lists_the_public_targets() -> None:
    out = subprocess.run(
        ["make", "help"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    listed = {line.split()[0] for line in plain.splitlines() if line.strip()}
    public = {"install", "test", "lint", "format", "docs", "sql", "clean", "sandbox", "bench"}
    assert public <= listed


def test_a_second_install_installs_nothing() -> None:
    # The stamp is newer than pyproject.toml once installed: make has nothing to do.
    result = subprocess.run(["make", "--question", "install"], cwd=REPO, check=False)
    assert result.returncode == 0


def test_dependencies_are_pinned_exactly() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    loose = [s for s in specs if "==" not in s]
    assert loose == []
    duckdb_pin = next(s for s in specs if s.startswith("duckdb=="))
    assert not duckdb_pin.endswith("==2.0.0"), "dlt 1.31 breaks on duckdb 2.0"
