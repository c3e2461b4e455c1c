"""Where extract points and how hard it tries: everything comes from the environment or the CLI.

Base URLs and keys are read from the environment only (never from files in the repo). With no key
and no base URL configured at all, the CLI starts the sandbox in-process and fills these fields with
its loopback URLs; this module itself knows nothing about the sandbox.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import urlsplit

from extract.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
# `injuries` reads ESPN's and balldontlie's injury reports (extract/injuries.py): its own source,
# since a report is a snapshot of "now" where the others are keyed by game dates
SOURCES = ("odds_api", "balldontlie", "espn", "injuries")
DATASETS = {
    "odds_api": "raw_odds_api",
    "balldontlie": "raw_balldontlie",
    "espn": "raw_espn",
    "injuries": "raw_injuries",
}
LOG_DATASET = "extract_log"

PROP_MARKETS = ("player_points", "player_rebounds", "player_assists", "player_threes")
FEATURED_MARKETS = ("h2h", "spreads", "totals")
# Historical snapshots taken per event for a past date: "pick" is the date at PICK_HOUR Eastern (the
# line a pick made that day is graded against), "close" the tip-off (the last pre-game line, for
# closing-line value), "open" a day before tip-off. Each costs 10 x markets x regions credits.
HISTORICAL_ANCHORS = ("open", "pick", "close")
DEFAULT_HISTORICAL_ANCHORS = ("pick", "close")


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, the retry budget and the bounds no upstream can move; the defaults suit the
    real APIs, tests shrink them."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_seconds: float = 120.0
    # a response's body past this is cut and fails the source (the largest real body, a busy
    # slate's historical snapshot, is well under 2 MB); decoded bytes, so a gzip bomb is cut too
    max_response_mb: float = 20.0
    # wall-clock seconds one call may take, attempts, waits, headers and body included (a server
    # trickling a byte at a time beats every socket timeout); None: the retry budget plus two
    # attempts' timeouts, so it only ever cuts a call the other settings would let run on
    call_deadline: float | None = None

    @property
    def max_response_bytes(self) -> int:
        return int(self.max_response_mb * 2**20)

    def deadline(self) -> float:
        """Seconds one call may take in all (`call_deadline`, or derived from the others)."""
        if self.call_deadline is not None:
            return self.call_deadline
        return self.max_retry_seconds + 2 * (self.connect_timeout + self.read_timeout)


@dataclass(frozen=True)
class OddsSettings:
    """What the Odds API is asked for and how many credits one run may spend."""

    regions: str = "us"
    bookmakers: str | None = None
    prop_markets: tuple[str, ...] = PROP_MARKETS
    featured_markets: tuple[str, ...] = FEATURED_MARKETS
    historical_anchors: tuple[str, ...] = DEFAULT_HISTORICAL_ANCHORS
    pick_hour_eastern: int = 12
    # stop before a call whose estimated cost would take this run past `credit_budget` credits, or
    # leave fewer than `min_remaining` credits on the account
    credit_budget: int = 2000
    min_remaining: int = 0
    # historical (and live per-event) odds calls made at once: the API has no range read, so a
    # past date is one call per event and snapshot; the rate limiter still paces every call
    concurrency: int = 4


# sanity ceilings: beyond these a setting is a typo, not a choice
MAX_RESPONSE_MB = 1024
MAX_CALL_DEADLINE = 3600
MAX_ODDS_CONCURRENCY = 32

# balldontlie's plans, in requests a minute (its docs: free 5, ALL-STAR 60, GOAT 600)
BALLDONTLIE_PLANS = {"free": 5.0, "all-star": 60.0, "goat": 600.0}


@dataclass(frozen=True)
class RateLimits:
    """Requests a second per API, so a backfill never turns into a 429 storm. 0 = unlimited
    (the in-process sandbox, unless a limit is set). The Odds API allows about 30 a second."""

    odds_api: float = 25.0
    balldontlie: float = BALLDONTLIE_PLANS["free"] / 60
    espn: float = 10.0

    def per_second(self, source: str) -> float:
        return float(getattr(self, source))


@dataclass(frozen=True)
class ExtractConfig:
    """One run's settings. Build it with `from_env`; tests use `dataclasses.replace`."""

    odds_api_key: str | None = None
    odds_api_base_url: str = "https://api.the-odds-api.com"
    balldontlie_key: str | None = None
    balldontlie_base_url: str = "https://api.balldontlie.io"
    balldontlie_prefix: str = "/v1"
    espn_base_url: str = "https://site.api.espn.com"
    target: str = "duckdb"  # "duckdb" or "bigquery"
    duckdb_path: Path = REPO_ROOT / "warehouse" / "nba_props.duckdb"
    # DuckDB's buffer pool during a run (pages beyond it are evicted, the file is the truth)
    duckdb_memory_limit: str = "512MB"
    # where NBA_PROPS_TARGET=test loads (NBA_PROPS_TEST_DUCKDB_PATH), read only by `from_env`
    test_duckdb_path: ClassVar[Path] = REPO_ROOT / "warehouse" / "nba_props_test.duckdb"
    bigquery_project: str | None = None
    bigquery_location: str | None = None
    dlt_dir: Path = REPO_ROOT / ".dlt_pipelines"
    landing_dir: Path = REPO_ROOT / "landing"
    landing_retention_days: int = 30
    schemas_dir: Path = REPO_ROOT / "extract" / "schemas"
    capture_dir: Path | None = None
    replay_dir: Path | None = None
    # "now" decides which dates are past (historical Odds API endpoints) and stamps live snapshots;
    # None = the wall clock. The CLI sets it to the sandbox's clock when it starts one.
    now: datetime | None = None
    # balldontlie's plan (BALLDONTLIE_PLAN): paces its calls, and decides whether its paid
    # endpoints (`player_injuries`, ALL-STAR and up) are asked at all
    balldontlie_plan: str = "free"
    # the sandbox's root URL, set only when extract runs against the sandbox (the CLI sets it when
    # it starts one; NBA_PROPS_SANDBOX_URL for `make sandbox`): the one upstream with a clock that
    # can be moved, so that a backfill can replay its past injury reports (extract/injuries.py)
    sandbox_url: str | None = None
    quarantine_threshold: float = 0.0
    http: HttpSettings = field(default_factory=HttpSettings)
    odds: OddsSettings = field(default_factory=OddsSettings)
    rates: RateLimits = field(default_factory=RateLimits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExtractConfig:
        """Read every setting from the environment (see extract/README.md for the list).

        An unset or empty variable keeps the field's default: the defaults live in the dataclasses.
        """
        env = os.environ if env is None else env
        target_name = (env.get("NBA_PROPS_TARGET") or "dev").strip().lower()
        if target_name not in ("dev", "test", "duckdb", "bigquery"):
            raise ConfigError(
                f"NBA_PROPS_TARGET={target_name!r}: extract loads into dev, test or bigquery"
            )
        d = cls()
        duckdb_var, duckdb_default = (
            ("NBA_PROPS_TEST_DUCKDB_PATH", cls.test_duckdb_path)
            if target_name == "test"
            else ("NBA_PROPS_DUCKDB_PATH", d.duckdb_path)
        )
        config = cls(
            odds_api_key=_text(env, "ODDS_API_KEY", d.odds_api_key),
            odds_api_base_url=_text(env, "ODDS_API_BASE_URL", d.odds_api_base_url),
            balldontlie_key=_text(env, "BALLDONTLIE_API_KEY", d.balldontlie_key),
            balldontlie_base_url=_text(env, "BALLDONTLIE_BASE_URL", d.balldontlie_base_url),
            balldontlie_prefix=_text(env, "BALLDONTLIE_API_PREFIX", d.balldontlie_prefix),
            espn_base_url=_text(env, "ESPN_BASE_URL", d.espn_base_url),
            target="bigquery" if target_name == "bigquery" else "duckdb",
            duckdb_path=_path(env, duckdb_var, duckdb_default),
            duckdb_memory_limit=_text(env, "NBA_PROPS_DUCKDB_MEMORY_LIMIT", d.duckdb_memory_limit),
            bigquery_project=_text(env, "NBA_PROPS_BQ_PROJECT", d.bigquery_project),
            bigquery_location=_text(env, "NBA_PROPS_BQ_LOCATION", d.bigquery_location),
            dlt_dir=_path(env, "NBA_PROPS_DLT_DIR", d.dlt_dir),
            landing_dir=_path(env, "NBA_PROPS_LANDING_DIR", d.landing_dir),
            landing_retention_days=int(
                _float(env, "NBA_PROPS_LANDING_RETENTION_DAYS", d.landing_retention_days)
            ),
            schemas_dir=_path(env, "NBA_PROPS_SCHEMAS_DIR", d.schemas_dir),
            quarantine_threshold=_float(
                env, "NBA_PROPS_QUARANTINE_THRESHOLD", d.quarantine_threshold
            ),
            now=parse_now(env["NBA_PROPS_NOW"]) if env.get("NBA_PROPS_NOW") else d.now,
            http=_http_from_env(env, d.http),
            odds=_odds_from_env(env, d.odds),
            rates=_rates_from_env(env, d.rates),
            balldontlie_plan=_plan(env),
            sandbox_url=_text(env, "NBA_PROPS_SANDBOX_URL", d.sandbox_url),
        )
        config.check()
        return config

    def check(self) -> None:
        """Refuse settings that would silently do the wrong thing."""
        if self.target not in ("duckdb", "bigquery"):
            raise ConfigError(f"target {self.target!r}: expected duckdb or bigquery")
        if not 0.0 <= self.quarantine_threshold < 1.0:
            raise ConfigError(
                f"quarantine threshold {self.quarantine_threshold!r} must be a share in [0, 1)"
            )
        unknown = [a for a in self.odds.historical_anchors if a not in HISTORICAL_ANCHORS]
        if unknown or not self.odds.historical_anchors:
            raise ConfigError(
                f"ODDS_API_HISTORICAL_SNAPSHOTS={','.join(self.odds.historical_anchors)!r}: "
                f"use one or more of {', '.join(HISTORICAL_ANCHORS)}"
            )
        if self.http.max_attempts < 1 or self.http.read_timeout <= 0:
            raise ConfigError("HTTP settings: max attempts must be >= 1 and timeouts > 0")
        if not 0 < self.http.max_response_mb <= MAX_RESPONSE_MB:
            raise ConfigError(
                f"NBA_PROPS_HTTP_MAX_RESPONSE_MB={self.http.max_response_mb:g}: a size in MB "
                f"above 0 and at most {MAX_RESPONSE_MB:,}"
            )
        deadline = self.http.call_deadline
        if deadline is not None and not 0 < deadline <= MAX_CALL_DEADLINE:
            raise ConfigError(
                f"NBA_PROPS_HTTP_CALL_DEADLINE={deadline:g}: seconds above 0 and at most "
                f"{MAX_CALL_DEADLINE:,} (leave it empty for the retry budget plus two attempts' "
                "timeouts)"
            )
        if not 1 <= self.odds.concurrency <= MAX_ODDS_CONCURRENCY:
            raise ConfigError(
                f"ODDS_API_CONCURRENCY={self.odds.concurrency}: calls at once, from 1 "
                f"(one after the other) to {MAX_ODDS_CONCURRENCY}"
            )
        if self.landing_retention_days < 1:
            raise ConfigError("NBA_PROPS_LANDING_RETENTION_DAYS must be at least 1 day")
        if self.capture_dir is not None and self.replay_dir is not None:
            raise ConfigError("--capture and --replay cannot be combined")
        if self.duckdb_memory_limit and not re.fullmatch(
            r"[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", self.duckdb_memory_limit
        ):
            raise ConfigError(
                f"NBA_PROPS_DUCKDB_MEMORY_LIMIT={self.duckdb_memory_limit!r}: use e.g. 512MB or 2GB"
            )
        if self.balldontlie_plan not in BALLDONTLIE_PLANS:
            raise ConfigError(
                f"BALLDONTLIE_PLAN={self.balldontlie_plan!r}: use one of "
                f"{', '.join(BALLDONTLIE_PLANS)}"
            )
        if self.sandbox_url is not None and not _loopback(self.sandbox_url):
            raise ConfigError(
                f"NBA_PROPS_SANDBOX_URL={self.sandbox_url!r}: the sandbox only listens on "
                "loopback (http://127.0.0.1:<port>); a real API has no clock to move"
            )
        if self.now is not None and self.now.tzinfo is None:
            raise ConfigError(f"now={self.now!r} must be timezone-aware")

    @property
    def has_upstream(self) -> bool:
        """True when anything points at a real or external API (so no sandbox is started)."""
        d = type(self)()
        return any(
            [
                self.odds_api_key,
                self.balldontlie_key,
                self.odds_api_base_url != d.odds_api_base_url,
                self.balldontlie_base_url != d.balldontlie_base_url,
                self.espn_base_url != d.espn_base_url,
            ]
        )

    def secrets(self) -> list[str]:
        return [s for s in (self.odds_api_key, self.balldontlie_key) if s]

    def with_changes(self, **changes: object) -> ExtractConfig:
        config = replace(self, **changes)  # type: ignore[arg-type]
        config.check()
        return config

    def clock(self) -> datetime:
        """The run's notion of now, in UTC, to the second."""
        now = self.now if self.now is not None else datetime.now(UTC)
        return now.astimezone(UTC).replace(microsecond=0)


def _http_from_env(env: Mapping[str, str], d: HttpSettings) -> HttpSettings:
    return HttpSettings(
        connect_timeout=_float(env, "NBA_PROPS_HTTP_CONNECT_TIMEOUT", d.connect_timeout),
        read_timeout=_float(env, "NBA_PROPS_HTTP_READ_TIMEOUT", d.read_timeout),
        max_attempts=int(_float(env, "NBA_PROPS_HTTP_MAX_ATTEMPTS", d.max_attempts)),
        backoff_base=_float(env, "NBA_PROPS_HTTP_BACKOFF_BASE", d.backoff_base),
        backoff_cap=_float(env, "NBA_PROPS_HTTP_BACKOFF_CAP", d.backoff_cap),
        max_retry_seconds=_float(env, "NBA_PROPS_HTTP_MAX_RETRY_SECONDS", d.max_retry_seconds),
        max_response_mb=_float(env, "NBA_PROPS_HTTP_MAX_RESPONSE_MB", d.max_response_mb),
        call_deadline=_optional_float(env, "NBA_PROPS_HTTP_CALL_DEADLINE", d.call_deadline),
    )


def _odds_from_env(env: Mapping[str, str], d: OddsSettings) -> OddsSettings:
    anchors = _text(env, "ODDS_API_HISTORICAL_SNAPSHOTS", ",".join(d.historical_anchors))
    return replace(
        d,
        regions=_text(env, "ODDS_API_REGIONS", d.regions),
        bookmakers=_text(env, "ODDS_API_BOOKMAKERS", d.bookmakers),
        historical_anchors=tuple(a.strip() for a in anchors.split(",") if a.strip()),
        credit_budget=int(_float(env, "ODDS_API_CREDIT_BUDGET", d.credit_budget)),
        min_remaining=int(_float(env, "ODDS_API_MIN_REMAINING", d.min_remaining)),
        concurrency=_int(env, "ODDS_API_CONCURRENCY", d.concurrency),
    )


_Default = TypeVar("_Default", bound=str | None)


def _text(env: Mapping[str, str], name: str, default: _Default) -> str | _Default:
    """A variable's text; unset or empty keeps the default (an empty key means no key)."""
    return env.get(name) or default


def _plan(env: Mapping[str, str]) -> str:
    plan = (env.get("BALLDONTLIE_PLAN") or "free").strip().lower()
    if plan not in BALLDONTLIE_PLANS:
        raise ConfigError(f"BALLDONTLIE_PLAN={plan!r}: use one of {', '.join(BALLDONTLIE_PLANS)}")
    return plan


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _rates_from_env(env: Mapping[str, str], d: RateLimits) -> RateLimits:
    plan = _plan(env)
    return RateLimits(
        odds_api=_float(env, "ODDS_API_REQUESTS_PER_SECOND", d.odds_api),
        balldontlie=_float(env, "BALLDONTLIE_REQUESTS_PER_MINUTE", BALLDONTLIE_PLANS[plan]) / 60,
        espn=_float(env, "ESPN_REQUESTS_PER_SECOND", d.espn),
    )


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def _optional_float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return _float(env, name, 0.0)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _float(env, name, default)
    if value != int(value):
        raise ConfigError(f"{name}={env.get(name)!r} is not a whole number")
    return int(value)


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name)
    if not raw:
        return default
    path = Path(raw)
    return path if path.is_absolute() else REPO_ROOT / path


def parse_now(raw: str, where: str = "NBA_PROPS_NOW") -> datetime:
    """A run clock from text (`where` names the setting in the error): tz-aware, in UTC."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"{where}={raw!r} is not an ISO timestamp") from exc
    if value.tzinfo is None:
        raise ConfigError(f"{where}={raw!r} needs a timezone (e.g. a trailing Z)")
    return value.astimezone(UTC)
