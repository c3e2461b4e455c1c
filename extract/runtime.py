"""One invocation's shared state: run id, clock, HTTP sessions, schemas, issues, quota.

Source modules receive a `RunContext` and ask it for their session and for gated dlt resources; they
never read the environment or the filesystem themselves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from extract.capture import ReplayStore, ResponseRecorder
from extract.config import SOURCES, ExtractConfig
from extract.contracts import (
    FROZEN_CONTRACT,
    Discovery,
    DiscoveryGate,
    FrozenSchema,
    Issues,
    TableDef,
    TableGate,
    schema_path,
    to_arrow,
)
from extract.http import ApiSession
from extract.odds_quota import QuotaTracker
from extract.ratelimit import Paced, Policies, RateLimiter
from extract.redact import Redactor

log = logging.getLogger("extract")

ARROW_BATCH = 20_000

Rows = Callable[[], Iterator[tuple[str, dict[str, Any]]]]


def new_run_id() -> str:
    """Sortable and unique: UTC start time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass
class RunContext:
    config: ExtractConfig
    run_id: str
    now: datetime
    redactor: Redactor
    recorder: ResponseRecorder
    replay: ReplayStore | None
    quota: QuotaTracker
    issues: Issues
    frozen: dict[str, FrozenSchema]
    # (source, table) -> dlt schema contract for this run; set by the runner per pipeline
    contracts: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    sessions: dict[str, ApiSession] = field(default_factory=dict)
    limiters: dict[str, RateLimiter] = field(default_factory=dict)
    # set by `export-schemas`: gates observe instead of checking (no frozen schema yet)
    discovery: Discovery | None = None
    # the DuckDB connection a loading run holds from start to end (see extract/lock.py)
    warehouse: Any = None
    # how many Odds API calls the run log already holds (a backfill writes it after each chunk)
    calls_logged: int = 0
    # set by a backfill: a source without history (injury reports) then treats past dates apart
    backfill: bool = False

    @classmethod
    def create(
        cls, config: ExtractConfig, run_id: str | None = None, *, discovery: bool = False
    ) -> RunContext:
        run_id = run_id or new_run_id()
        redactor = Redactor(config.secrets())
        replay = ReplayStore(config.replay_dir) if config.replay_dir is not None else None
        now = config.clock()
        if replay is not None and config.now is None and replay.manifest.get("now"):
            # a replay must see the same "today" as the captured run did
            now = datetime.fromisoformat(replay.manifest["now"]).astimezone(UTC)
        frozen = (
            {}
            if discovery
            else {s: FrozenSchema.load(schema_path(config.schemas_dir, s), s) for s in SOURCES}
        )
        return cls(
            config=config,
            run_id=run_id,
            now=now,
            redactor=redactor,
            recorder=ResponseRecorder(run_id, redactor, config.landing_dir, config.capture_dir),
            replay=replay,
            quota=QuotaTracker(config.odds.credit_budget, config.odds.min_remaining),
            issues=Issues(run_id, redactor),
            frozen=frozen,
            discovery=Discovery() if discovery else None,
        )

    def session(
        self,
        source: str,
        base_url: str,
        classify: Callable[[str], str],
        api_key: str | None = None,
        key_in: str = "none",
        *,
        api: str | None = None,
    ) -> ApiSession:
        """`source`'s session for one upstream API. `api` names that API when it is not the
        source's own (injuries reads ESPN and balldontlie): its calls are then paced by that API's
        limiter, shared with the API's own source, since the plan's limit is per API."""
        api = api or source
        key = source if api == source else f"{source}.{api}"
        if key not in self.sessions:
            self.sessions[key] = ApiSession(
                source=source,
                base_url=base_url,
                classify=classify,
                settings=self.config.http,
                redactor=self.redactor,
                recorder=self.recorder,
                run_id=self.run_id,
                api_key=api_key,
                key_in=key_in,
                replay=self.replay,
                # every API is paced to its plan; the Odds API also bills per call, so its
                # credit rules ride on its session only. A replay asks no network: no pacing.
                call_policy=Policies(
                    None if self.replay is not None else Paced(self.limiter(api)),
                    self.quota if source == "odds_api" else None,
                ),
                # the Odds API's calls run several at once (extract/fanout.py): one kept-alive
                # connection each
                pool_size=self.config.odds.concurrency if source == "odds_api" else 10,
            )
        return self.sessions[key]

    def http_seconds(self, source: str) -> float:
        """Seconds `source`'s sessions (one per API it reads) had a call on the wire."""
        return sum(s.http_seconds for s in self.sessions.values() if s.source == source)

    def limiter(self, source: str) -> RateLimiter:
        """One rate limiter per API for the whole run (shared by a backfill's threads)."""
        if source not in self.limiters:
            self.limiters[source] = RateLimiter(self.config.rates.per_second(source))
        return self.limiters[source]

    def gate(self, source: str, table: TableDef) -> TableGate | DiscoveryGate:
        if self.discovery is not None:
            return DiscoveryGate(source, table, self.discovery)
        return TableGate(source, table, self.frozen[source], self.issues)

    def hints(self, source: str, table: TableDef) -> dict[str, Any]:
        """dlt hints for a table: declared columns from the frozen schema, keys, disposition."""
        columns = (
            {}
            if self.discovery is not None
            else self.frozen[source].dlt_columns(table.name, table.primary_key)
        )
        return {
            "table_name": table.name,
            "write_disposition": table.write_disposition,
            "primary_key": list(table.primary_key),
            "columns": columns,
            "schema_contract": self.contracts.get((source, table.name), dict(FROZEN_CONTRACT)),
        }

    def resource(self, source: str, table: TableDef, rows: Rows) -> DltResource:
        """A dlt resource that yields only records the gate admits, as Arrow tables of
        `ARROW_BATCH` rows typed from the frozen schema: dlt normalizes Arrow in bulk, where
        dict rows cost it a Python call each (a season's 1.6 million line rows)."""
        gate = self.gate(source, table)
        if self.discovery is not None:  # exporting a schema: no frozen types to build from yet

            def observed() -> Iterator[dict[str, Any]]:
                for endpoint, record in rows():
                    yield from gate.admit(endpoint, record)

            return dlt.resource(observed, name=table.name, **self.hints(source, table))
        arrow = self.frozen[source].arrow_schema(table.name, table.primary_key)

        def admitted() -> Iterator[Any]:
            batch: list[dict[str, Any]] = []
            for endpoint, record in rows():
                batch.extend(gate.admit(endpoint, record))
                if len(batch) >= ARROW_BATCH:
                    yield to_arrow(batch, arrow)
                    batch = []
            if batch:
                yield to_arrow(batch, arrow)

        return dlt.resource(admitted, name=table.name, **self.hints(source, table))

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
