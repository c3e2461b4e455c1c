"""`python -m extract upstream`: the one "is a real API configured" rule, asked by the Makefile."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from extract.cli import app
from extract.config import ExtractConfig

UPSTREAM_VARS = (
    "ODDS_API_KEY",
    "ODDS_API_BASE_URL",
    "BALLDONTLIE_API_KEY",
    "BALLDONTLIE_BASE_URL",
    "ESPN_BASE_URL",
)


def ask(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in (*UPSTREAM_VARS, "NBA_PROPS_TARGET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["upstream"], catch_exceptions=False)
    return result.exit_code, result.output.strip()


def test_nothing_configured_is_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ask(monkeypatch) == (0, "sandbox")
    assert ask(monkeypatch, ODDS_API_KEY="") == (0, "sandbox")  # an empty key is no key
    # a base URL equal to the default points nowhere new: the run would still start the sandbox
    assert ask(monkeypatch, ESPN_BASE_URL=ExtractConfig().espn_base_url) == (0, "sandbox")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ODDS_API_KEY", "k"),
        ("BALLDONTLIE_API_KEY", "k"),
        ("ODDS_API_BASE_URL", "http://127.0.0.1:9"),
        ("BALLDONTLIE_BASE_URL", "http://127.0.0.1:9"),
        ("ESPN_BASE_URL", "http://127.0.0.1:9"),
    ],
)
def test_any_key_or_other_base_url_is_real(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    assert ask(monkeypatch, **{name: value}) == (0, "real")


def test_a_bad_configuration_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = ask(monkeypatch, NBA_PROPS_TARGET="nope")
    assert code == 2
    assert "NBA_PROPS_TARGET" in output
    assert not {"real", "sandbox"} & set(output.split())


def test_from_env_with_nothing_set_is_the_dataclass_defaults() -> None:
    """Defaults live in the dataclasses once: an empty environment changes none of them."""
    assert ExtractConfig.from_env({}) == ExtractConfig()
