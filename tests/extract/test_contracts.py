"""The gate every record passes: drift, bad values, quarantine, proposals, and the schema files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from extract import balldontlie, espn, injuries, odds_api
from extract.config import REPO_ROOT, SOURCES
from extract.contracts import (
    MAX_EXTRA,
    Check,
    ColumnSpec,
    Discovery,
    FrozenSchema,
    Issues,
    OneOf,
    Pattern,
    Range,
    TableDef,
    TableGate,
    as_number,
    column_name,
    flatten,
    parse_date,
    parse_timestamp,
    schema_diff,
    schema_path,
    wire_type,
)
from extract.errors import ExtractError, QuarantineError, SchemaDriftError
from extract.redact import Redactor

TABLE = TableDef(
    name="things",
    primary_key=("id",),
    write_disposition="merge",
    declared={"id": "bigint", "at": "timestamp"},
    rules=(Range("price", 1.01, 100.0), OneOf("side", frozenset({"Over", "Under"}))),
)


def frozen() -> FrozenSchema:
    return FrozenSchema(
        "src",
        {
            "things": {
                "id": ColumnSpec("bigint", nullable=False),
                "at": ColumnSpec("timestamp", nullable=False),
                "price": ColumnSpec("double"),
                "side": ColumnSpec("text"),
                "note": ColumnSpec("text", required=False),
            }
        },
    )


def good(**changes: object) -> dict:
    record = {"id": 1, "at": "2026-01-15T17:00:00Z", "price": 1.91, "side": "Over"}
    record.update(changes)
    return record


@pytest.fixture
def issues() -> Issues:
    return Issues("run-x", Redactor(["s3cret-key"]))


def admit(issues: Issues, record: dict, schema: FrozenSchema | None = None) -> list[dict]:
    return list(TableGate("src", TABLE, schema or frozen(), issues).admit("src.things", record))


def test_a_good_record_passes_converted(issues: Issues) -> None:
    [row] = admit(issues, good(price=2))  # an int is a fine double
    assert row["at"] == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert issues.quarantined == []
    assert issues.checked["src"] == 1


def test_a_new_column_is_kept_in_extra_and_reported_without_blocking(issues: Issues) -> None:
    [row] = admit(issues, good(surprise="x"))
    assert row["_extra"] == {"surprise": "x"}
    assert "surprise" not in row
    assert issues.changes() == []  # nothing blocks ...
    [change] = issues.evolutions()  # ... but the change is reported
    assert (change.table, change.column, change.kind, change.new_type) == (
        "things",
        "surprise",
        "new column",
        "text",
    )
    assert issues.quarantined == []


def test_an_unread_column_that_changes_type_moves_to_extra(issues: Issues) -> None:
    [row] = admit(issues, good(price="1.91"))  # `price` is not contracted (TABLE.declared)
    assert row["price"] is None
    assert row["_extra"] == {"price": "1.91"}
    [change] = issues.evolutions()
    assert (change.column, change.old_type, change.new_type) == ("price", "double", "text")
    assert "frozen double, received text" in change.describe()


def test_what_goes_to_extra_is_bounded_like_any_text(issues: Issues) -> None:
    """An unread field (new, or retyped) is kept in `_extra`, but 10 MB of it is an upstream bug,
    and a lone surrogate cannot be written: the record is quarantined naming the field(s)."""
    assert admit(issues, good(blob="x" * 10 * 2**20)) == []
    assert admit(issues, good(id=2, price="x" * MAX_EXTRA)) == []  # a retyped unread column
    assert admit(issues, good(id=3, odd=["fine", "\udc80"])) == []
    huge, retyped, surrogate = (q.reason for q in issues.quarantined)
    assert huge.startswith("`_extra` (unread field(s) blob) is 10,485,772 characters as JSON")
    assert f"(more than {MAX_EXTRA:,})" in huge
    assert retyped.startswith("`_extra` (unread field(s) price) is 100,013 characters")
    assert surrogate == "`_extra` (unread field(s) odd) holds a lone surrogate (not valid text)"
    # at the bound, and with text a contracted column would refuse, an unread field still loads
    fits = "x" * (MAX_EXTRA - len('{"blob": ""}'))
    [row] = admit(issues, good(id=4, blob=fits))
    assert row["_extra"] == {"blob": fits}
    [row] = admit(issues, good(id=5, note2="tab\tand\x00nul"))
    assert row["_extra"] == {"note2": "tab\tand\x00nul"}
    assert len(issues.quarantined) == 3


def test_a_contracted_column_that_changes_type_is_drift(issues: Issues) -> None:
    assert admit(issues, good(at=1768496400)) == []  # `at` is contracted: a timestamp
    [change] = issues.changes()
    assert (change.column, change.old_type, change.new_type) == ("at", "timestamp", "bigint")
    assert "`at` changed type: frozen timestamp, received bigint" in issues.quarantined[0].reason
    assert issues.evolutions() == []


def test_a_missing_field_blocks_only_when_contracted(issues: Issues) -> None:
    record = good()
    del record["side"]
    [row] = admit(issues, record)  # `side` is read by nobody yet: loaded, reported
    assert row["_extra"] is None
    assert issues.evolutions()[0].kind == "missing field"
    assert issues.changes() == []
    record = good(id=2)
    del record["at"]
    assert admit(issues, record) == []
    assert issues.changes()[0].kind == "missing field"
    assert len(admit(issues, good(id=3))) == 1  # `note` is optional: absent is fine


def test_an_unread_column_may_be_null_even_where_it_never_was(issues: Issues) -> None:
    schema = frozen()
    schema.tables["things"]["price"].nullable = False
    assert len(admit(issues, good(price=None), schema)) == 1
    schema.tables["things"]["at"].nullable = False
    assert admit(issues, good(id=2, at=None), schema) == []
    assert "`at` is null" in issues.quarantined[0].reason


def test_accepted_type_passes(issues: Issues) -> None:
    schema = frozen()
    schema.tables["things"]["price"].accepts = ("text",)
    assert len(admit(issues, good(price="1.91"), schema)) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": 0.5}, "outside [1.01, 100]"),
        ({"at": 5}, None),  # a number is drift for a contracted timestamp, not a format problem
        ({"side": "Sideways"}, "not one of"),
        ({"at": "yesterday"}, "not a valid timestamp"),
        ({"id": None}, "`id` is null"),
    ],
)
def test_bad_values_are_quarantined_with_the_reason(
    issues: Issues, change: dict, reason: str | None
) -> None:
    assert admit(issues, good(**change)) == []
    [bad] = issues.quarantined
    assert bad.run_id == "run-x"
    assert bad.endpoint == "src.things"
    if reason is not None:
        assert reason in bad.reason
        assert issues.changes() == []


def test_duplicate_keys_are_quarantined(issues: Issues) -> None:
    gate = TableGate("src", TABLE, frozen(), issues)
    assert len(list(gate.admit("e", good()))) == 1
    assert list(gate.admit("e", good(price=3.0))) == []
    assert "duplicate key" in issues.quarantined[0].reason


def test_quarantined_records_are_redacted(issues: Issues) -> None:
    admit(issues, good(side="s3cret-key"))
    assert "s3cret-key" not in json.dumps(issues.quarantined[0].record)


def test_drift_blocks_the_run_and_writes_a_proposal(issues: Issues, tmp_path: Path) -> None:
    admit(issues, good(surprise=1, at=2.0))
    with pytest.raises(SchemaDriftError) as failure:
        issues.raise_if_blocking(("src",), 0.5, {"src": frozen()}, tmp_path, None)
    message = str(failure.value)
    assert "column `at` changed type: frozen timestamp, received double" in message
    assert "surprise" not in message  # a new column blocks nothing ...
    assert "python -m extract accept-schema --source src" in message
    proposal = FrozenSchema.load(tmp_path / "schema_proposals" / "src.json", "src")
    # ... but the proposal offers it as a column, beside the blocking change
    assert proposal.tables["things"]["surprise"] == ColumnSpec("bigint", True, False)
    assert proposal.tables["things"]["at"].accepts == ("double",)


def test_quarantine_threshold(issues: Issues, tmp_path: Path) -> None:
    admit(issues, good(id=1))
    admit(issues, good(id=2, price=0.1))
    issues.raise_if_blocking(("src",), 0.5, {"src": frozen()}, tmp_path, None)  # 50% is allowed
    with pytest.raises(QuarantineError, match=r"1 of 2 record\(s\) quarantined \(50.0%"):
        issues.raise_if_blocking(("src",), 0.0, {"src": frozen()}, tmp_path, tmp_path / "q.jsonl")


def test_frozen_schema_round_trip_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "src.json"
    frozen().save(path)
    assert FrozenSchema.load(path, "src") == frozen()
    with pytest.raises(ExtractError, match="holds source 'src', expected 'other'"):
        FrozenSchema.load(path, "other")
    with pytest.raises(ExtractError, match="is missing"):
        FrozenSchema.load(tmp_path / "nope.json", "src")
    data = json.loads(path.read_text())
    data["tables"]["things"]["columns"]["id"]["data_type"] = "integer"
    path.write_text(json.dumps(data))
    with pytest.raises(ExtractError, match="unknown data_type 'integer'"):
        FrozenSchema.load(path, "src")
    assert "+" in schema_diff("a\n", "b\n", "src")


def test_gate_refuses_a_table_missing_from_the_frozen_schema(issues: Issues) -> None:
    other = TableDef("others", ("id",), "merge", {})
    with pytest.raises(ExtractError, match="table others is not in the frozen schema"):
        TableGate("src", other, frozen(), issues)


def test_discovery_infers_types_and_presence() -> None:
    discovery = Discovery()
    table = TableDef("t", ("id",), "merge", {"id": "bigint", "at": "timestamp"})
    discovery.observe("s", table, {"id": 1, "at": "2026-01-01T00:00:00Z", "x": 1, "y": None})
    discovery.observe("s", table, {"id": 2, "at": "2026-01-01T00:00:00Z", "x": 1.5, "z": True})
    columns = discovery.schema("s").tables["t"]
    assert columns["at"].data_type == "timestamp"
    assert columns["x"].data_type == "double"
    assert columns["y"] == ColumnSpec("text", nullable=True, required=False)
    assert columns["z"] == ColumnSpec("bool", nullable=True, required=False)
    assert columns["id"] == ColumnSpec("bigint", nullable=False, required=True)
    discovery.observe("s", table, {"id": 3, "at": "x", "x": "text now"})
    with pytest.raises(ExtractError, match="mixed JSON types"):
        discovery.schema("s")
    with pytest.raises(ExtractError, match="no records seen"):
        discovery.schema("nothing")
    lacking = Discovery()
    lacking.observe("s", table, {"id": 1})
    with pytest.raises(ExtractError, match=r"declared column\(s\) \['at'\] never arrived"):
        lacking.schema("s")


def test_rules_and_helpers() -> None:
    assert Pattern("id", "[0-9a-f]{4}").problems({"id": "zz"})
    assert not Pattern("id", "[0-9a-f]{4}").problems({"id": "a1b2"})
    assert Check("boom", lambda r: str(int(r["x"]))).problems({"x": "?"})[0].startswith("boom")
    assert as_number("+7") == 7.0
    with pytest.raises(ValueError, match="boolean"):
        as_number(True)
    assert Range("x", 0, 1).problems({"x": "n/a"}) == ["`x`='n/a' is not a number"]
    assert wire_type(None) == "null"
    assert wire_type([1]) == "json"
    assert column_name("stats", "fieldGoalsMade-fieldGoalsAttempted") == (
        "stats__field_goals_made_field_goals_attempted"
    )
    assert flatten({"a": {"b": 1, "c": {}}, "d": [1, 2]}) == {"a__b": 1, "a__c": None, "d": [1, 2]}
    assert parse_timestamp("2024-01-15T18:00Z") == datetime(2024, 1, 15, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):  # read as UTC, it would be a guess
        parse_timestamp("2024-01-15T18:00:00")
    assert parse_date("2024-01-15") == date(2024, 1, 15)
    assert parse_date("2024-01-15T03:00:00.000Z") == date(2024, 1, 15)
    for garbage in ("2024-01-15junk", "2024-01-15Tjunk", "2024-01-15T03:00:00"):
        with pytest.raises(ValueError, match=r"YYYY-MM-DD|time zone|Invalid isoformat"):
            parse_date(garbage)


MODULES = {"odds_api": odds_api, "balldontlie": balldontlie, "espn": espn, "injuries": injuries}


@pytest.mark.parametrize("source", SOURCES)
def test_repo_schemas_hold_every_declared_column_with_its_declared_type(source: str) -> None:
    schema = FrozenSchema.load(schema_path(REPO_ROOT / "extract" / "schemas", source), source)
    for table in MODULES[source].TABLES:
        assert table.name in schema.tables
        columns = schema.tables[table.name]
        for column, data_type in table.declared.items():
            assert columns[column].data_type == data_type, f"{table.name}.{column}"
        for key in table.primary_key:
            assert not columns[key].nullable, f"{table.name}.{key} is a key: never null"
            assert columns[key].required, f"{table.name}.{key} is a key: always sent"


def test_dates_in_a_date_column_are_dates(issues: Issues) -> None:
    schema = FrozenSchema("src", {"things": {"id": ColumnSpec("bigint"), "d": ColumnSpec("date")}})
    table = TableDef("things", ("id",), "merge", {})
    [row] = TableGate("src", table, schema, issues).admit("e", {"id": 1, "d": "2026-01-14"})
    assert row["d"] == date(2026, 1, 14)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price": float("nan")}, "is not a finite number"),
        ({"price": float("inf")}, "is not a finite number"),
        ({"id": 2**63}, "does not fit a 64-bit integer"),
        ({"id": -(2**63) - 1}, "does not fit a 64-bit integer"),
        ({"side": "Ov\x00er"}, "holds control characters"),
        ({"side": "Over\x1b[31m"}, "holds control characters"),
        ({"side": "\ud800"}, "lone surrogate"),
        ({"side": "x" * 10_001}, "10,001 characters long"),
        ({"at": "2026-01-15T17:00:00"}, "no time zone"),
    ],
)
def test_values_the_warehouse_cannot_trust_are_quarantined(
    issues: Issues, change: dict, reason: str
) -> None:
    assert admit(issues, good(**change)) == []
    [bad] = issues.quarantined
    assert reason in bad.reason


def test_sane_values_at_the_edges_pass(issues: Issues) -> None:
    """The control case for the test above: the same columns, at the limits, load."""
    edge = good(id=2**63 - 1, price=100.0, side="Over\tUnder é 🏀 " + "x" * 9_980)
    schema = frozen()
    schema.tables["things"]["side"] = ColumnSpec("text")
    table = TableDef("things", ("id",), "merge", {"id": "bigint", "at": "timestamp"})
    assert len(list(TableGate("src", table, schema, issues).admit("e", edge))) == 1
    assert issues.quarantined == []


@pytest.mark.parametrize("points", ["1e1", "Infinity", "NaN", "7.0", " 7", "12345"])
def test_espn_numbers_are_integers_written_as_espn_writes_them(points: str) -> None:
    rule = next(
        r for r in espn.PLAYER_BOX_SCORES.rules if getattr(r, "name", "") == "stats__points"
    )
    assert rule.problems({"stats__points": points})
    assert rule.problems({"stats__points": "31"}) == []
    assert rule.problems({"stats__points": "+7"}) == []
