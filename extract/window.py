"""The dates one source load covers: a single date (the daily path) or a chunk of a backfill.

A date D means: results of D-1, slate and lines of D. A window [first, last] is the union of its
dates, so loading a window gives the same rows as loading each of its dates in turn (every table
merges on its keys): games and scoreboards of first-1..last, box scores of first-1..last-1, lines
of first..last. One window is one dlt load per source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Window:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"window ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def of(cls, day: date) -> Window:
        return cls(day, day)

    @property
    def single(self) -> bool:
        return self.first == self.last

    def days(self) -> list[date]:
        """The dates of the window, each a date of the daily path."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def slate_days(self) -> list[date]:
        """Scoreboards and game lists: the day before the first date through the last."""
        return [self.first - timedelta(days=1), *self.days()]

    def result_days(self) -> list[date]:
        """Box scores: the day before each date."""
        return [d - timedelta(days=1) for d in self.days()]

    def __str__(self) -> str:
        return self.first.isoformat() if self.single else f"{self.first}..{self.last}"


def chunks(first: date, last: date, size: int) -> list[Window]:
    """[first, last] cut into windows of `size` dates, aligned on `first` (the last may be short),
    so that a rerun with the same start and size finds the same chunks."""
    if size < 1:
        raise ValueError(f"chunk size {size} must be at least one date")
    out = []
    start = first
    while start <= last:
        end = min(start + timedelta(days=size - 1), last)
        out.append(Window(start, end))
        start = end + timedelta(days=1)
    return out
