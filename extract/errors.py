"""Failures of an extraction run, each naming the source, the endpoint or table, and the field.

Every failure is an exception: the CLI turns any `ExtractError` into a non-zero exit and one clear
message. Messages are built from redacted URLs only; `redact()` is applied once more at the CLI
boundary, so a key that slipped into a message from a third-party library is still masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class ExtractError(Exception):
    """Base class: an extraction run cannot complete; nothing of this run was loaded."""

    exit_code = 1


class ConfigError(ExtractError):
    """The environment or the command line is inconsistent (e.g. a key without a base URL)."""

    exit_code = 2


class ApiError(ExtractError):
    """The API refused the request for a reason retrying cannot fix (401, 403, 404, 422, ...)."""

    exit_code = 3

    def __init__(
        self,
        source: str,
        endpoint: str,
        status: int,
        error_code: str,
        detail: str,
        url: str,
    ) -> None:
        self.source = source
        self.endpoint = endpoint
        self.status = status
        self.error_code = error_code
        self.detail = detail
        self.url = url
        said = f"{error_code}: {detail}" if detail and detail != error_code else error_code
        super().__init__(
            f"{source} {endpoint}: HTTP {status} {said} (GET {url}); "
            "not retried: this status means the request itself is wrong or not allowed"
        )


class RetriesExhaustedError(ExtractError):
    """A transient failure (429, 5xx, timeout, truncated body) outlasted the retry budget."""

    exit_code = 4

    def __init__(self, source: str, endpoint: str, url: str, attempts: int, last: str) -> None:
        self.source = source
        self.endpoint = endpoint
        self.url = url
        self.attempts = attempts
        self.last = last
        super().__init__(
            f"{source} {endpoint}: gave up after {attempts} attempt(s) on GET {url}; last: {last}"
        )


class QuotaBudgetError(ExtractError):
    """The next Odds API call would spend more credits than this run is allowed to."""

    exit_code = 5


class ReplayMissError(ExtractError):
    """Replay mode was asked for a response that the capture folder does not hold."""

    exit_code = 6


class RunLockedError(ExtractError):
    """Another run (or another process) holds the warehouse or the pipelines folder."""

    exit_code = 9


@dataclass(frozen=True)
class ColumnChange:
    """One difference between what arrived and the frozen schema of a table."""

    source: str
    table: str
    column: str
    kind: str  # "new column" | "changed type" | "missing field"
    old_type: str | None
    new_type: str | None
    records: int
    endpoint: str
    example: str

    def describe(self) -> str:
        if self.kind == "new column":
            what = f"new column `{self.column}` ({self.new_type})"
        elif self.kind == "changed type":
            what = (
                f"column `{self.column}` changed type: "
                f"frozen {self.old_type}, received {self.new_type}"
            )
        else:
            what = f"field `{self.column}` ({self.old_type}) is missing"
        seen = f" in {self.records} record(s)" if self.records else ""
        return (
            f"source {self.source}, table {self.table}: {what}{seen} "
            f"from {self.endpoint}; e.g. {self.example}"
        )


class SchemaDriftError(ExtractError):
    """What arrived does not match the frozen schema: new columns, changed types, missing fields."""

    exit_code = 7

    def __init__(self, changes: list[ColumnChange], proposals: dict[str, str]) -> None:
        self.changes = changes
        self.proposals = proposals
        lines = ["schema drift: the upstream data no longer matches the frozen schema"]
        lines += [f"  - {change.describe()}" for change in changes]
        lines.append("Nothing was loaded and the extracted packages were aborted.")
        for source in sorted({c.source for c in changes}):
            lines.append(
                f"To accept the change for {source} after review: "
                f"`python -m extract accept-schema --source {source}` "
                f"(shows the diff of extract/schemas/{source}.json, then rewrites it; commit it "
                "like code). Proposal: " + proposals.get(source, "(none)")
            )
        super().__init__("\n".join(lines))


class QuarantineError(ExtractError):
    """More records failed validation than the configured share allows."""

    exit_code = 8


@dataclass(frozen=True)
class SourceFailure:
    """One source that loaded nothing for one date, and why."""

    day: date
    source: str
    error: ExtractError

    def describe(self) -> str:
        kind = type(self.error).__name__
        body = str(self.error).replace("\n", "\n    ")
        return f"{self.source} {self.day.isoformat()} ({kind}, exit {self.error.exit_code}): {body}"


class SourcesFailedError(ExtractError):
    """Some (source, date) pairs failed; each loaded nothing, every other pair was loaded.

    The exit code is the first failure's, so a single failing source exits as it always did
    (7 for drift, 8 for quarantine, ...). `loaded` lists what did load, so the count is true.
    """

    def __init__(self, failures: list[SourceFailure], loaded: list[tuple[date, str]]) -> None:
        self.failures = failures
        self.loaded = loaded
        self.exit_code = failures[0].error.exit_code
        lines = [f"{len(failures)} source-date(s) failed and loaded nothing; {len(loaded)} loaded:"]
        lines += [f"  - {failure.describe()}" for failure in failures]
        if loaded:
            shown = ", ".join(f"{source} {day.isoformat()}" for day, source in loaded)
            lines.append(f"Loaded: {shown}.")
        else:
            lines.append("Nothing was loaded.")
        lines.append("Rerun the failed dates once fixed: loaded data is not loaded twice.")
        super().__init__("\n".join(lines))


class LoadRefusedError(ExtractError):
    """The warehouse refused part of a load the checks let through (a constraint, a value the
    column cannot take, a full disk); the source's load was rolled back (extract/atomic.py)."""

    exit_code = 1


class UpstreamBoundError(ExtractError):
    """A response passed a bound the upstream must not be able to move: its size, or the
    wall-clock time one call may take (a body trickled a byte at a time beats a read timeout)."""

    exit_code = 4  # like retries exhausted: the upstream misbehaves, rerun later

    def __init__(self, source: str, endpoint: str, url: str, what: str, bound: str) -> None:
        self.source = source
        self.endpoint = endpoint
        self.url = url
        self.bound = bound
        super().__init__(
            f"{source} {endpoint}: {what} (GET {url}); bound: {bound}. The partial body is kept "
            "in landing; rerun later, or raise the bound if such a response is legitimate"
        )


class ResponseTooLargeError(UpstreamBoundError):
    """A body larger than `NBA_PROPS_HTTP_MAX_RESPONSE_MB`: not retried (it would come back
    as large), the source fails for that date."""


class CallDeadlineError(UpstreamBoundError):
    """A call (every attempt, wait and body of it) outlasted `NBA_PROPS_HTTP_CALL_DEADLINE`."""


class InvalidJsonError(ExtractError):
    """A body that parses only with JavaScript's constants (`NaN`, `Infinity`): not JSON, and
    not retried, since the same request gets the same body."""

    exit_code = 4  # like retries exhausted: the upstream misbehaves, rerun later

    def __init__(self, source: str, endpoint: str, url: str, constant: str) -> None:
        self.source = source
        self.endpoint = endpoint
        self.url = url
        super().__init__(
            f"{source} {endpoint}: the body holds `{constant}`, which is not a JSON number "
            f"(GET {url}); nothing of it was read. The body is kept in landing"
        )
