"""Frozen schemas, drift detection and quarantine: nothing reaches dlt unchecked.

Each source has one reviewed file, `extract/schemas/<source>.json`, listing every column of every
raw table with its warehouse type, whether the field is always sent (`required`), whether it may be
null (`nullable`) and which other JSON types an accepted change allows (`accepts`). Every record is
checked against it *before* dlt sees it:

- a field the file does not list, a JSON type the column does not allow, or a required field that is
  absent is a **schema change**. What happens next depends on whether the warehouse reads the
  column (the table's `declared` columns and its key: the contract, checked against dbt's source
  declarations by a test):
  - a column nobody reads yet never stops a run: the value is kept in the row's `_extra` JSON
    column (a new field, or a value of another type than frozen, whose typed column stays null),
    and the change is reported as a warning and recorded in the run log;
  - a contracted column that is retyped or missing is **drift**: that source fails for that date,
    naming source, table, column and old/new type;
  either way a proposal with the change is written for `python -m extract accept-schema`;
- a value outside its range, a bad format or a null in a non-nullable column is a **bad record**:
  it is quarantined (kept with source, endpoint, record, reason and run id) and the run fails when
  the quarantined share passes the threshold.

dlt then gets the file's columns as declared hints (types are never inferred) and a frozen
`schema_contract` as a second line of defence.
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dlt.common.normalizers.naming.snake_case import NamingConvention

from extract.config import REPO_ROOT
from extract.errors import ColumnChange, ExtractError, QuarantineError, SchemaDriftError
from extract.redact import Redactor

_NAMING = NamingConvention()

# which JSON types (as dlt type names) each warehouse type takes without an accepted change
WIRE_COMPATIBLE: dict[str, frozenset[str]] = {
    "text": frozenset({"text"}),
    "timestamp": frozenset({"text"}),
    "date": frozenset({"text"}),
    "bigint": frozenset({"bigint"}),
    "double": frozenset({"bigint", "double"}),
    "bool": frozenset({"bool"}),
    "json": frozenset({"json"}),
}


def wire_type(value: Any) -> str:
    """The JSON type of a value, in dlt's type names."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "text"
    return "json"


# remembered per path: a source sends a few hundred distinct key paths, over and over (a season's
# odds rows named 1.9 million columns through dlt's normalizer); bounded should one send more
@functools.lru_cache(maxsize=8192)
def column_name(*path: str) -> str:
    """The warehouse column for a path of JSON keys: dlt's snake_case, levels joined by `__`."""
    return "__".join(_NAMING.normalize_identifier(p) for p in path)


# JSON's leaf types: never a Mapping, so `flatten` needs no (slow, ABC) isinstance check for them
_LEAVES = frozenset({str, int, float, bool, type(None), list})


def flatten(obj: Mapping[str, Any], *prefix: str, skip: frozenset[str] = frozenset()) -> dict:
    """Nested objects become `a__b` columns (as dlt would name them); lists stay whole (JSON)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if not prefix and key in skip:
            continue
        if type(value) in _LEAVES or not isinstance(value, Mapping):
            out[column_name(*prefix, str(key))] = value
        elif value:
            out.update(flatten(value, *prefix, str(key)))
        else:
            out[column_name(*prefix, str(key))] = None  # an empty object: no column of its own
    return out


# what dlt enforces on every raw table: new tables may appear, columns and types may not change
FROZEN_CONTRACT = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}
# every raw table's JSON column for what arrived outside the frozen schema (see the module doc)
EXTRA_COLUMN = "_extra"


# --- the frozen schema ----------------------------------------------------------------------------


@dataclass
class ColumnSpec:
    data_type: str
    nullable: bool = True
    required: bool = True
    accepts: tuple[str, ...] = ()

    def allows(self, wire: str) -> bool:
        return wire in WIRE_COMPATIBLE.get(self.data_type, frozenset()) or wire in self.accepts

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "data_type": self.data_type,
            "nullable": self.nullable,
            "required": self.required,
        }
        if self.accepts:
            out["accepts"] = sorted(self.accepts)
        return out


@dataclass
class FrozenSchema:
    """One source's reviewed schema: table -> column -> spec."""

    source: str
    tables: dict[str, dict[str, ColumnSpec]]

    @classmethod
    def load(cls, path: Path, source: str) -> FrozenSchema:
        if not path.exists():
            raise ExtractError(
                f"{source}: frozen schema {path} is missing; restore it from git or create it "
                f"with `python -m extract export-schemas --source {source}` and review it"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("source") != source:
            raise ExtractError(f"{path}: holds source {data.get('source')!r}, expected {source!r}")
        tables: dict[str, dict[str, ColumnSpec]] = {}
        for table, spec in data["tables"].items():
            columns = {}
            for name, col in spec["columns"].items():
                if col["data_type"] not in WIRE_COMPATIBLE:
                    raise ExtractError(
                        f"{path}: table {table} column {name}: "
                        f"unknown data_type {col['data_type']!r}"
                    )
                columns[name] = ColumnSpec(
                    data_type=col["data_type"],
                    nullable=bool(col.get("nullable", True)),
                    required=bool(col.get("required", True)),
                    accepts=tuple(col.get("accepts", ())),
                )
            tables[table] = columns
        return cls(source, tables)

    def to_json(self) -> str:
        data = {
            "source": self.source,
            "about": (
                "Frozen raw schema: reviewed like code. Change it only with "
                "`python -m extract accept-schema` after reading the diff (see extract/README.md)."
            ),
            "tables": {
                table: {"columns": {n: c.to_json() for n, c in sorted(cols.items())}}
                for table, cols in sorted(self.tables.items())
            },
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")

    def dlt_columns(self, table: str, primary_key: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        """Declared column hints for dlt: every column typed, keys not null, plus `_extra`."""
        columns = {
            name: {"data_type": spec.data_type, "nullable": name not in primary_key}
            for name, spec in self.tables[table].items()
        }
        columns[EXTRA_COLUMN] = {"data_type": "json", "nullable": True}
        return columns

    def arrow_schema(self, table: str, primary_key: tuple[str, ...]) -> pa.Schema:
        """The Arrow schema of a table's rows as the gate hands them over (JSON as text), with
        the same nullability as `dlt_columns`, so dlt has nothing to reconcile."""
        fields = [
            pa.field(name, _ARROW[spec.data_type], nullable=name not in primary_key)
            for name, spec in self.tables[table].items()
        ]
        return pa.schema([*fields, pa.field(EXTRA_COLUMN, pa.string(), nullable=True)])

    def with_changes(self, changes: list[ColumnChange]) -> FrozenSchema:
        """The schema as it would be after accepting `changes` (new columns stay optional)."""
        tables = {t: {n: _copy(c) for n, c in cols.items()} for t, cols in self.tables.items()}
        for change in changes:
            if change.source != self.source:
                continue
            columns = tables.setdefault(change.table, {})
            if change.kind == "new column":
                new_type = change.new_type if change.new_type in WIRE_COMPATIBLE else "text"
                columns[change.column] = ColumnSpec(new_type, nullable=True, required=False)
            elif change.kind == "changed type":
                spec = columns[change.column]
                if change.new_type and change.new_type not in spec.accepts:
                    spec.accepts = tuple(sorted({*spec.accepts, change.new_type}))
            else:
                columns[change.column].required = False
        return FrozenSchema(self.source, tables)


_ARROW: dict[str, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "json": pa.string(),  # JSON text: DuckDB and BigQuery load it into their JSON columns
}


def to_arrow(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Admitted rows as one Arrow table: JSON values (lists, objects, `_extra`) as JSON text."""
    json_columns = [f.name for f in schema if f.type == pa.string()]
    for row in rows:
        for name in json_columns:
            value = row.get(name)
            if value is not None and not isinstance(value, str):
                row[name] = json.dumps(value, ensure_ascii=False, default=str)
    return pa.Table.from_pylist(rows, schema=schema)


def _copy(spec: ColumnSpec) -> ColumnSpec:
    return ColumnSpec(spec.data_type, spec.nullable, spec.required, tuple(spec.accepts))


def schema_path(schemas_dir: Path, source: str) -> Path:
    return schemas_dir / f"{source}.json"


def proposal_path(dlt_dir: Path, source: str) -> Path:
    return dlt_dir / "schema_proposals" / f"{source}.json"


def schema_diff(old: str, new: str, source: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"extract/schemas/{source}.json (frozen)",
            tofile=f"extract/schemas/{source}.json (proposed)",
        )
    )


# --- value rules ----------------------------------------------------------------------------------


def as_number(value: Any) -> float:
    """A JSON number, or a numeric string (ESPN sends every stat as text)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a number")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.startswith("+"):
        text = text[1:]
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


@dataclass(frozen=True)
class Range:
    """A numeric column (or numeric text) must lie within [lo, hi]."""

    column: str
    lo: float
    hi: float

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        value = record.get(self.column)
        if value is None or value == "":
            return []
        try:
            number = as_number(value)
        except ValueError:
            return [f"`{self.column}`={value!r} is not a number"]
        if not self.lo <= number <= self.hi:
            return [f"`{self.column}`={value!r} is outside [{self.lo:g}, {self.hi:g}]"]
        return []


@dataclass(frozen=True)
class OneOf:
    column: str
    values: frozenset[Any]

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        value = record.get(self.column)
        if value is None or value in self.values:
            return []
        return [f"`{self.column}`={value!r} is not one of {sorted(map(str, self.values))}"]


@dataclass(frozen=True)
class Pattern:
    column: str
    regex: str

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        value = record.get(self.column)
        if value is None or re.fullmatch(self.regex, str(value)):
            return []
        return [f"`{self.column}`={value!r} does not match {self.regex}"]


@dataclass(frozen=True)
class Check:
    """A rule over several fields; `test` returns the problem, or an empty string when fine."""

    name: str
    test: Callable[[Mapping[str, Any]], str]

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        try:
            problem = self.test(record)
        except (TypeError, ValueError, ArithmeticError) as exc:  # 10**10 as a year overflows
            problem = f"{self.name}: {exc}"
        return [problem] if problem else []


# the seed every source's team codes must be in (read, never imported from the sandbox)
TEAM_CODES = REPO_ROOT / "seeds" / "team_codes.csv"


@functools.cache
def team_codes(column: str) -> frozenset[str]:
    """The values of one column of seeds/team_codes.csv (`bdl_id`, `espn_abbreviation`, ...)."""
    with TEAM_CODES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or column not in rows[0]:
        raise ExtractError(f"{TEAM_CODES}: no column {column!r}")
    return frozenset(row[column].strip() for row in rows if row[column].strip())


@dataclass(frozen=True)
class KnownTeam:
    """A team code or id must be in seeds/team_codes.csv: the three sources are joined through
    it, so a team it does not know (a new franchise, an All-Star side, a typo) would drop out of
    every join. Quarantined, naming the seed, so it is added there or refused on purpose."""

    column: str
    seed_column: str

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        value = record.get(self.column)
        if value is None or str(value).strip() in team_codes(self.seed_column):
            return []
        return [
            f"`{self.column}`={value!r} is not a team of seeds/team_codes.csv "
            f"({self.seed_column}): a new team? add it to the seed"
        ]


# letters (any script), joined by spaces, dots, apostrophes or hyphens: "G.G. Jackson",
# "D'Angelo", "Karl-Anthony", "Jokić", "Trey Murphy III"; digits, emoji and symbols are not names
_NAME = re.compile(r"[^\W\d_]+(?:[ .'\u2019-]+[^\W\d_]+)*\.?")


@dataclass(frozen=True)
class PersonName:
    """A person's name: not blank (unless `optional`) and made of letters."""

    column: str
    optional: bool = False

    def problems(self, record: Mapping[str, Any]) -> list[str]:
        value = record.get(self.column)
        text = "" if value is None else str(value).strip()
        if not text:
            return [] if self.optional else [f"`{self.column}` (a name) is blank"]
        if not _NAME.fullmatch(text):
            return [f"`{self.column}`={text[:60]!r} is not a person's name (letters only)"]
        return []


def season_problem(day: Any, start_year: Any, what: str = "season") -> str:
    """Why a game's date is not in the season it claims (by its start year: 2025 = 2025-26), or
    "". A season runs from September to the October after (the 2020 bubble ended in October)."""
    try:
        played = parse_date(day) if not isinstance(day, date) else day
        year = int(start_year)
    except (TypeError, ValueError):
        return ""  # unreadable: the column's own rule reports it
    if not 1 <= year < 9999:
        return f"{what} {year} is not a year"
    if date(year, 9, 1) <= played <= date(year + 1, 10, 31):
        return ""
    return (
        f"date {played.isoformat()} is not in the {what} it claims ({year}-{(year + 1) % 100:02d})"
    )


Rule = Range | OneOf | Pattern | Check | KnownTeam | PersonName


@dataclass(frozen=True)
class TableDef:
    """How one raw table is loaded, and the columns downstream relies on (declared in code).

    `declared` is the table's contract, the one place it is written: the columns the warehouse
    reads (dbt's source declarations list exactly these, a test compares them) with their types.
    A contracted column that changes stops the source; any other column may change freely.
    """

    name: str
    primary_key: tuple[str, ...]
    write_disposition: str | dict[str, str]
    declared: Mapping[str, str]  # column -> data_type that staging models read
    rules: tuple[Rule, ...] = ()
    # what the source module checks across records (a final game without its box score, ...):
    # named here so every rule of a table reads at a glance; each reason quotes its finding
    findings: tuple[str, ...] = ()

    def contracted(self, column: str) -> bool:
        return column in self.declared or column in self.primary_key


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 with Z or an offset, to the minute at least (ESPN sends minutes).

    A timestamp without a zone is refused: reading it as UTC would be a guess, and a wrong guess
    moves a game to another date.
    """
    text = str(value).strip()
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return parsed.astimezone(UTC)


# --- run-wide bookkeeping -------------------------------------------------------------------------


@dataclass
class Quarantined:
    run_id: str
    source: str
    endpoint: str
    table: str
    reason: str
    record: dict[str, Any]


@dataclass
class _Drift:
    kind: str
    old_type: str | None
    new_type: str | None
    endpoint: str
    example: str
    records: int = 0


@dataclass
class Issues:
    """Everything a run found wrong, kept until the run decides whether it may load.

    `drift` blocks the source (a contracted column changed); `evolved` does not (a column nobody
    reads yet changed: the value went to `_extra`), but is reported and logged all the same.
    """

    run_id: str
    redactor: Redactor
    checked: Counter[str] = field(default_factory=Counter)
    quarantined: list[Quarantined] = field(default_factory=list)
    drift: dict[tuple[str, str, str], _Drift] = field(default_factory=dict)
    evolved: dict[tuple[str, str, str], _Drift] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # the games each source listed per date, (home, away) in the source's own team codes: the
    # slates compared across sources (extract/findings.py)
    slates: dict[tuple[str, date], set[tuple[str, str]]] = field(default_factory=dict)

    def list_slate(self, source: str, day: date, games: Iterable[tuple[Any, Any]] = ()) -> None:
        """Record games a source lists for `day` (none: the source listed the date, empty)."""
        listed = self.slates.setdefault((source, day), set())
        listed.update((str(home), str(away)) for home, away in games)

    def quarantine(
        self, source: str, endpoint: str, table: str, reasons: list[str], record: dict[str, Any]
    ) -> None:
        self.quarantined.append(
            Quarantined(
                self.run_id,
                source,
                endpoint,
                table,
                "; ".join(reasons),
                self.redactor.value(_jsonable(record)),
            )
        )

    def reject(
        self, source: str, endpoint: str, table: str, reason: str, record: dict[str, Any]
    ) -> None:
        """A record that cannot even be shaped into a row: counted and quarantined."""
        self.checked[source] += 1
        self.quarantine(source, endpoint, table, [reason], record)

    def add_drift(
        self,
        source: str,
        table: str,
        column: str,
        kind: str,
        old: str | None,
        new: str | None,
        endpoint: str,
        example: Any,
        *,
        blocking: bool = True,
    ) -> None:
        found = self.drift if blocking else self.evolved
        key = (source, table, column)
        if key not in found:
            shown = self.redactor.text(json.dumps(_jsonable(example), ensure_ascii=False))
            found[key] = _Drift(kind, old, new, endpoint, f"{column}={shown[:80]}")
        found[key].records += 1

    def evolutions(self, source: str | None = None) -> list[ColumnChange]:
        """The non-blocking schema changes (columns nobody reads yet), for warnings and the log."""
        return [
            ColumnChange(s, t, c, d.kind, d.old_type, d.new_type, d.records, d.endpoint, d.example)
            for (s, t, c), d in sorted(self.evolved.items())
            if source is None or s == source
        ]

    def changes(self, source: str | None = None) -> list[ColumnChange]:
        return [
            ColumnChange(s, t, c, d.kind, d.old_type, d.new_type, d.records, d.endpoint, d.example)
            for (s, t, c), d in sorted(self.drift.items())
            if source is None or s == source
        ]

    def write_proposals(
        self, sources: tuple[str, ...], frozen: Mapping[str, FrozenSchema], dlt_dir: Path
    ) -> dict[str, str]:
        """The frozen file plus every change seen (blocking or not), for `accept-schema`."""
        every = [c for c in [*self.changes(), *self.evolutions()] if c.source in sources]
        proposals: dict[str, str] = {}
        for source in sorted({c.source for c in every}):
            path = proposal_path(dlt_dir, source)
            frozen[source].with_changes(every).save(path)
            proposals[source] = str(path)
        return proposals

    def quarantined_share(self, source: str) -> float:
        bad = sum(1 for q in self.quarantined if q.source == source)
        return bad / self.checked[source] if self.checked[source] else 0.0

    def raise_if_blocking(
        self,
        sources: tuple[str, ...],
        threshold: float,
        frozen: Mapping[str, FrozenSchema],
        dlt_dir: Path,
        quarantine_file: Path | None,
    ) -> None:
        """Drift always blocks; bad records block once their share passes `threshold`."""
        changes = [c for c in self.changes() if c.source in sources]
        if changes:
            proposals = self.write_proposals(sources, frozen, dlt_dir)
            raise SchemaDriftError(changes, proposals)
        failing = []
        for source in sources:
            share = self.quarantined_share(source)
            if share > threshold:
                bad = [q for q in self.quarantined if q.source == source]
                first = bad[0]
                failing.append(
                    f"{source}: {len(bad)} of {self.checked[source]} record(s) quarantined "
                    f"({share:.1%}, threshold {threshold:.1%}); first: table {first.table} from "
                    f"{first.endpoint}: {first.reason}"
                )
        if failing:
            where = f" Quarantined records: {quarantine_file}." if quarantine_file else ""
            raise QuarantineError(
                "validation failed, nothing was loaded:\n  - " + "\n  - ".join(failing) + where
            )


def _jsonable(value: Any) -> Any:
    """A record as it can be written (quarantine file, run log): dates as ISO text, and text
    that is not valid UTF-8 (a lone surrogate, the reason it is quarantined) escaped visibly."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return _writable(value)
    if isinstance(value, dict):
        return {_writable(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _writable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# --- the gate every record passes -----------------------------------------------------------------


class TableGate:
    """Checks records of one table against the frozen schema and the table's rules."""

    def __init__(self, source: str, table: TableDef, frozen: FrozenSchema, issues: Issues) -> None:
        if table.name not in frozen.tables:
            raise ExtractError(
                f"{source}: table {table.name} is not in the frozen schema; add it with "
                f"`python -m extract export-schemas --source {source}` and review the file"
            )
        self.source = source
        self.table = table
        self.columns = frozen.tables[table.name]
        self.issues = issues
        self._keys: set[tuple[Any, ...]] = set()
        self._required = frozenset(c for c, spec in self.columns.items() if spec.required)
        # (column, value) -> what checking it found: most values repeat (an event's fields on
        # every outcome row of a snapshot, the same timestamps), and checking is the hot path
        self._seen: dict[tuple[str, type, Any], tuple[str, Any, str]] = {}
        # (column, value) -> what it loads as when it is fine (`_fine_value`), or `_NOT_FINE`
        self._fine: dict[tuple[str, type, Any], Any] = {}
        self._column_rules: dict[str, list[Rule]] = {}
        for rule in table.rules:
            if isinstance(rule, _ONE_COLUMN_RULES):
                self._column_rules.setdefault(rule.column, []).append(rule)
        self._row_rules = [r for r in table.rules if not isinstance(r, _ONE_COLUMN_RULES)]
        # a record without one of these goes the long way: a field is missing, or a rule reads null
        self._expected = self._required.union(self._column_rules)

    def admit(self, endpoint: str, record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield the record converted for loading, or nothing when it was quarantined.

        Each value is classified once per gate (see `_classify`): kept as the frozen column,
        moved to `_extra` (a field nobody reads changed), or drift (a contracted one changed);
        then the table's rules run on the row, and its key must be new.

        Nearly every record is all fine values (`_fine_value`), every field expected present: it
        then only needs its whole-row rules and its key checked, which is what the long way
        (`_check`) would come to for it, at a fraction of the cost. Any other goes the long way.
        """
        self.issues.checked[self.source] += 1
        converted = self._fast(record) if record.keys() >= self._expected else None
        if converted is not None:
            extra: dict[str, Any] = {}
            problems = [p for rule in self._row_rules for p in rule.problems(record)]
        else:
            checked = self._check(endpoint, record)
            if checked is None:
                return
            converted, extra, problems = checked
        key = tuple(map(converted.get, self.table.primary_key))
        if not problems and key in self._keys:
            problems.append(f"duplicate key {self.table.primary_key} = {key}")
        if problems:
            self.issues.quarantine(self.source, endpoint, self.table.name, problems, record)
            return
        self._keys.add(key)
        # an upstream that echoes a key in a data field must not put it in the warehouse
        converted[EXTRA_COLUMN] = self.issues.redactor.value(extra) if extra else None
        yield converted

    def _fast(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The record converted, when every value of it is fine; else None."""
        fine = self._fine
        converted: dict[str, Any] = {}
        for column, value in record.items():
            try:
                # the type is part of the key: True == 1 == 1.0, but they are different JSON types
                out = fine[column, type(value), value]
            except (KeyError, TypeError):  # not seen yet, or not hashable (a list, an object)
                out = self._fine_value(column, value)
            if out is _NOT_FINE:
                return None
            converted[column] = out
        return converted

    def _fine_value(self, column: str, value: Any) -> Any:
        """What a value loads as when it is fine: kept as its frozen column with nothing to
        say, and passing every rule of its column; else `_NOT_FINE`. Remembered with `_seen`.

        A float zero under a rule is never fine: -0.0 == 0.0, but a rule may read them apart
        (its message shows the sign, a pattern may take one and not the other)."""
        key = (column, type(value), value) if type(value) in _SCALARS else None
        kind, out, said = self._classified(column, value, key)
        rules = self._column_rules.get(column, ())
        if (
            kind != _OK
            or said
            or (rules and type(value) is float and not value)
            or any(rule.problems({column: value}) for rule in rules)
        ):
            out = _NOT_FINE
        if key in self._seen:  # (not past `_SEEN_LIMIT`): the long way reads the same `out`
            self._fine[key] = out
        return out

    def _classified(
        self, column: str, value: Any, key: tuple[str, type, Any] | None
    ) -> tuple[str, Any, str]:
        """`_classify`, remembered per (column, type, value) when the value is a scalar."""
        found = self._seen.get(key) if key is not None else None
        if found is None:
            found = self._classify(column, value)
            if key is not None and len(self._seen) < _SEEN_LIMIT:
                self._seen[key] = found
        return found

    def _check(
        self, endpoint: str, record: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], list[str]] | None:
        """The long way of `admit`: (converted row, values for `_extra`, problems), or None when
        a contracted field changed (the record is then quarantined, naming them)."""
        row: dict[str, Any] = {}
        converted: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        reasons: list[str] = []
        problems: list[str] = []
        for column, value in record.items():
            # the type is part of the key: True == 1 == 1.0, but they are different JSON types
            key = (column, type(value), value) if type(value) in _SCALARS else None
            kind, out, said = self._classified(column, value, key)
            if kind == _OK:
                row[column] = value
                converted[column] = out
                if said:
                    problems.append(said)
                continue
            extra[column] = value
            if kind == _NEW:
                self._change(column, "new column", None, said, endpoint, value, blocking=False)
                continue
            spec = self.columns[column]
            blocking = self.table.contracted(column)
            self._change(
                column, "changed type", spec.data_type, said, endpoint, value, blocking=blocking
            )
            if blocking:
                reasons.append(f"`{column}` changed type: frozen {spec.data_type}, received {said}")
            row[column] = converted[column] = None
        missing = self._required.difference(record)
        for column in sorted(missing):
            spec = self.columns[column]
            blocking = self.table.contracted(column)
            self._change(
                column, "missing field", spec.data_type, None, endpoint, None, blocking=blocking
            )
            if blocking:
                reasons.append(f"required field `{column}` is missing")
        if reasons:
            self.issues.quarantine(self.source, endpoint, self.table.name, reasons, record)
            return None
        for rule in self.table.rules:
            problems += rule.problems(row)
        if extra:
            problem = extra_problem(extra)
            if problem:
                problems.append(problem)
        return converted, extra, problems

    def _classify(self, column: str, value: Any) -> tuple[str, Any, str]:
        """(kind, value to load, note) for one value of `column`:
        `_OK` with the converted (and key-masked) value and a problem ("" when fine);
        `_NEW` (no such frozen column) or `_RETYPED` (a JSON type the column does not take),
        each with the value's JSON type as the note."""
        spec = self.columns.get(column)
        wire = wire_type(value)
        if spec is None:
            return _NEW, None, wire
        if value is None:
            # only what the warehouse reads must be present; other columns may come and go
            if not spec.nullable and self.table.contracted(column):
                return _OK, None, f"`{column}` is null"
            return _OK, None, ""
        if not spec.allows(wire):
            return _RETYPED, None, wire
        problem = value_problem(column, spec.data_type, value)
        if problem:
            return _OK, value, problem
        try:
            if wire not in WIRE_COMPATIBLE[spec.data_type]:
                # an accepted change (`accepts`): read it as the warehouse's type, or refuse it
                value = coerce(value, spec.data_type)
            if spec.data_type == "timestamp":
                return _OK, parse_timestamp(value), ""
            if spec.data_type == "date":
                return _OK, parse_date(value), ""
        except ValueError as exc:
            return _OK, value, f"`{column}`={value!r} is not a valid {spec.data_type}: {exc}"
        if isinstance(value, str):
            return _OK, self.issues.redactor.text(value), ""
        return _OK, self.issues.redactor.value(value), ""

    def _change(
        self,
        column: str,
        kind: str,
        old: str | None,
        new: str | None,
        endpoint: str,
        example: Any,
        *,
        blocking: bool,
    ) -> None:
        self.issues.add_drift(
            self.source, self.table.name, column, kind, old, new, endpoint, example,
            blocking=blocking,
        )  # fmt: skip


_OK, _NEW, _RETYPED = "ok", "new", "retyped"
_SCALARS = frozenset({str, int, float, bool, type(None)})
# rules whose verdict depends on the value of their one `column` alone (`Check` reads the row)
_ONE_COLUMN_RULES = (Range, OneOf, Pattern, KnownTeam, PersonName)
_NOT_FINE = object()  # in `TableGate._fine`: the value needs the long way (None is a value)
_SEEN_LIMIT = 200_000  # values remembered per gate: a season's distinct values fit; memory bounded


# what the warehouse can store and a reader can trust, checked on every value of every column
MAX_TEXT = 10_000  # characters: a name or a URL is far shorter; a 10 MB value is an upstream bug
BIGINT = 2**63
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def value_problem(column: str, data_type: str, value: Any) -> str:
    """Why a value cannot be stored as it is (not finite, out of BIGINT, unsafe text), or ""."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"`{column}`={value!r} is not a finite number"
    if isinstance(value, int) and not isinstance(value, bool) and not -BIGINT <= value < BIGINT:
        return f"`{column}`={value} does not fit a 64-bit integer"
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return f"`{column}` is {len(value):,} characters long (more than {MAX_TEXT:,})"
        if _CONTROL.search(value):
            return f"`{column}`={value[:40]!r} holds control characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"`{column}`={value[:40]!r} holds a lone surrogate (not valid text)"
        if data_type in ("double", "bigint") and value.strip().lower() in _NOT_FINITE:
            return f"`{column}`={value!r} is not a finite number"
    return ""


# `_extra` holds what nobody reads yet (a new field, a retyped unread one): a few small values.
# Its JSON text is bounded like any text, more loosely since it gathers several fields at once;
# past it the record is quarantined, like a contracted text over MAX_TEXT.
MAX_EXTRA = 100_000  # characters of the `_extra` JSON


def extra_problem(extra: Mapping[str, Any]) -> str:
    """Why the unread values of a record cannot go to `_extra` as they are, or ""."""
    text = json.dumps(extra, ensure_ascii=False, default=str)
    names = ", ".join(sorted(extra))
    where = f"`{EXTRA_COLUMN}` (unread field(s) {names[:200]})"
    if len(text) > MAX_EXTRA:
        return (
            f"{where} is {len(text):,} characters as JSON (more than {MAX_EXTRA:,}): an upstream "
            "bug, or a field to review before it is accepted into the schema"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{where} holds a lone surrogate (not valid text)"
    return ""


_NOT_FINITE = frozenset({"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


def coerce(value: Any, data_type: str) -> Any:
    """A value of an accepted other JSON type as the column's own type ("1.91" as a double,
    "true" as a bool, 5 as text); ValueError when it cannot be read so."""
    if data_type == "double":
        return as_number(value)
    if data_type == "bigint":
        number = as_number(value)
        if number != int(number):
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if data_type == "bool":
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if data_type in ("text", "timestamp", "date"):
        return value if isinstance(value, str) else json.dumps(value)
    return value


def parse_date(value: Any) -> date:
    """A calendar date, YYYY-MM-DD, or the date of an ISO timestamp (nothing else after it)."""
    text = str(value).strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    if len(text) > 10 and text[10] == "T":
        parse_timestamp(text)  # the rest must be a real time with a zone, not trailing garbage
        return date.fromisoformat(text[:10])
    raise ValueError(f"{text!r} is not YYYY-MM-DD")


# --- discovery: writing a frozen schema for the first time ----------------------------------------


@dataclass
class _Observed:
    records: int = 0
    present: Counter[str] = field(default_factory=Counter)
    nulls: Counter[str] = field(default_factory=Counter)
    wires: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Discovery:
    """What the sources actually sent, per table, to propose a frozen schema from."""

    tables: dict[tuple[str, str], _Observed] = field(default_factory=dict)
    defs: dict[tuple[str, str], TableDef] = field(default_factory=dict)

    def observe(self, source: str, table: TableDef, record: Mapping[str, Any]) -> None:
        key = (source, table.name)
        self.defs[key] = table
        seen = self.tables.setdefault(key, _Observed())
        seen.records += 1
        for column, value in record.items():
            seen.present[column] += 1
            if value is None:
                seen.nulls[column] += 1
            else:
                seen.wires.setdefault(column, set()).add(wire_type(value))

    def schema(self, source: str) -> FrozenSchema:
        """Declared types win; others are inferred (int and float together: double)."""
        tables: dict[str, dict[str, ColumnSpec]] = {}
        for (src, name), seen in sorted(self.tables.items()):
            if src != source:
                continue
            table = self.defs[(src, name)]
            missing = sorted(set(table.declared) - set(seen.present))
            if missing:
                raise ExtractError(
                    f"{source}.{name}: declared column(s) {missing} never arrived; fix the "
                    "declaration in the source module or the data the export ran on"
                )
            columns = {}
            for column in seen.present:
                wires = seen.wires.get(column, set())
                if column in table.declared:
                    data_type = table.declared[column]
                elif wires == {"bigint", "double"}:
                    data_type = "double"
                elif len(wires) == 1:
                    data_type = next(iter(wires))
                elif not wires:
                    data_type = "text"  # only nulls seen: text takes anything later accepted
                else:
                    raise ExtractError(
                        f"{source}.{name}.{column}: mixed JSON types {sorted(wires)}; declare it"
                    )
                # strict where downstream relies on a column (declared, keys), lenient elsewhere
                strict = column in table.declared or column in table.primary_key
                columns[column] = ColumnSpec(
                    data_type=data_type,
                    nullable=seen.nulls[column] > 0 or not strict,
                    required=seen.present[column] == seen.records,
                )
            tables[name] = columns
        if not tables:
            raise ExtractError(f"{source}: no records seen; export on a date with games")
        return FrozenSchema(source, tables)


class DiscoveryGate:
    """Stands in for `TableGate` while exporting: records what arrives, checks nothing."""

    def __init__(self, source: str, table: TableDef, discovery: Discovery) -> None:
        self.source = source
        self.table = table
        self.discovery = discovery

    def admit(self, endpoint: str, record: dict[str, Any]) -> Iterator[dict[str, Any]]:
        self.discovery.observe(self.source, self.table, record)
        yield record
