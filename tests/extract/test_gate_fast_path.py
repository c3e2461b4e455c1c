"""The gate's fast path (values already seen fine) must end exactly where the long way does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extract.contracts import (
    Check,
    ColumnSpec,
    FrozenSchema,
    Issues,
    OneOf,
    Pattern,
    PersonName,
    Range,
    TableDef,
    TableGate,
    column_name,
    flatten,
)
from extract.redact import Redactor

TABLE = TableDef(
    name="things",
    primary_key=("id",),
    write_disposition="merge",
    declared={"id": "bigint", "at": "timestamp"},
    rules=(
        Range("price", 1.01, 100.0),
        Check("cheap over", lambda r: "over too dear" if r.get("price", 0) > 50 else ""),
        OneOf("side", frozenset({"Over", "Under"})),
        PersonName("player"),
    ),
)
SCHEMA = FrozenSchema(
    "src",
    {
        "things": {
            "id": ColumnSpec("bigint", nullable=False),
            "at": ColumnSpec("timestamp", nullable=False),
            "price": ColumnSpec("double"),
            "side": ColumnSpec("text"),
            "player": ColumnSpec("text", required=False),
            "score": ColumnSpec("double", required=False),
        }
    },
)


def good(**changes: object) -> dict:
    record = {"id": 1, "at": "2026-01-15T17:00:00Z", "price": 1.91, "side": "Over", "player": "Al"}
    record.update(changes)
    return record


@pytest.fixture
def issues() -> Issues:
    return Issues("run-x", Redactor(["s3cret-key"]))


def test_a_record_of_known_values_loads_as_the_first_did(issues: Issues) -> None:
    gate = TableGate("src", TABLE, SCHEMA, issues)
    [first] = gate.admit("e", good())
    [again] = gate.admit("e", good(id=2))
    assert again == {**first, "id": 2}
    assert again["at"] == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    assert list(gate.admit("e", good(id=2))) == []  # the key is checked on the fast path too
    assert issues.quarantined[-1].reason == "duplicate key ('id',) = (2,)"
    assert issues.checked["src"] == 3


def test_known_values_still_meet_the_rules_of_the_whole_row(issues: Issues) -> None:
    gate = TableGate("src", TABLE, SCHEMA, issues)
    assert len(list(gate.admit("e", good(id=1, price=60.0)))) == 0
    assert len(list(gate.admit("e", good(id=2, price=60.0)))) == 0
    assert [q.reason for q in issues.quarantined] == ["over too dear", "over too dear"]


def test_a_value_that_failed_a_rule_fails_it_every_time(issues: Issues) -> None:
    gate = TableGate("src", TABLE, SCHEMA, issues)
    for key in (1, 2):
        assert list(gate.admit("e", good(id=key, side="over", player="R2D2"))) == []
    reason = "`side`='over' is not one of ['Over', 'Under']; `player`='R2D2' is not a person's name"
    assert [q.reason for q in issues.quarantined] == [f"{reason} (letters only)"] * 2


def test_a_missing_field_is_reported_after_records_that_had_it(issues: Issues) -> None:
    gate = TableGate("src", TABLE, SCHEMA, issues)
    assert len(list(gate.admit("e", good(id=1)))) == 1
    record = good(id=2)
    del record["player"]  # optional in the schema, but a rule reads it: a blank name
    del record["side"]  # required, not contracted: reported, loaded
    assert list(gate.admit("e", record)) == []
    assert issues.quarantined[0].reason == "`player` (a name) is blank"
    assert [c.column for c in issues.evolutions()] == ["side"]


def test_known_values_beside_a_new_field_keep_it_in_extra(issues: Issues) -> None:
    gate = TableGate("src", TABLE, SCHEMA, issues)
    assert len(list(gate.admit("e", good(id=1)))) == 1
    [row] = gate.admit("e", good(id=2, surprise=5))
    assert row["_extra"] == {"surprise": 5}
    assert [(c.column, c.kind, c.records) for c in issues.evolutions()] == [
        ("surprise", "new column", 1)
    ]


@pytest.mark.parametrize("order", [(0.0, -0.0), (-0.0, 0.0)])
def test_minus_zero_is_read_apart_from_zero_by_a_rule(issues: Issues, order: tuple) -> None:
    """-0.0 == 0.0 (one key in any memo), but a pattern or a message reads the sign."""
    table = TableDef("things", ("id",), "merge", {"id": "bigint"}, (Pattern("score", r"\d\.\d"),))
    gate = TableGate("src", table, SCHEMA, issues)
    admitted = [len(list(gate.admit("e", good(id=i, score=v)))) for i, v in enumerate(order)]
    assert admitted == [1 if str(v) == "0.0" else 0 for v in order]
    assert [q.reason for q in issues.quarantined] == ["`score`=-0.0 does not match \\d\\.\\d"]


def test_flatten_names_nested_and_empty_objects() -> None:
    record = {"A b": 1, "n": {"x": None, "y": {"z": [1]}, "e": {}}, "l": [{"k": 1}], "t": True}
    assert flatten(record, "p") == {
        "p__a_b": 1,
        "p__n__x": None,
        "p__n__y__z": [1],
        "p__n__e": None,
        "p__l": [{"k": 1}],
        "p__t": True,
    }
    assert flatten(record, skip=frozenset({"n"})) == {"a_b": 1, "l": [{"k": 1}], "t": True}
    for _ in range(2):  # the second time from the cache
        assert column_name("Stats", "fieldGoals") == "stats__field_goals"
