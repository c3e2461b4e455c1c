"""Benchmarks for the runner's tests: instant, deterministic, and one failing like schema drift."""

from __future__ import annotations

from bench.core import Context, Figure


def steady(ctx: Context) -> list[Figure]:
    """Two judged figures with targets (one met, one missed) and a count."""
    print("steady: measured nothing, quickly")
    (ctx.scratch / "touched").write_text("the scratch folder is writable")
    return [
        Figure("wait", 2.0 if ctx.quick else 1.0, "s", target=1.5),
        Figure("throughput", 50.0, "rows/s", better="higher", target=100.0),
        Figure("rows", 7, "rows", better=None),
    ]


def drifting(ctx: Context) -> list[Figure]:
    """Fails the way an extract benchmark does while extract/ and sandbox/ change under it."""
    raise RuntimeError("schema drift in raw_espn.events: column venue__id int -> text")


def malformed(ctx: Context) -> list[Figure]:
    """Returns something that is not a list of figures."""
    return [{"name": "wait", "value": 1.0}]  # type: ignore[list-item]
