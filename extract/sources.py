"""The registry of upstream sources: one entry per API, its dlt source and its raw tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from extract import balldontlie, espn, injuries, odds_api
from extract.config import DATASETS
from extract.contracts import TableDef


@dataclass(frozen=True)
class Source:
    name: str
    dataset: str
    factory: Callable[..., Any]  # (RunContext, date) -> dlt source
    tables: tuple[TableDef, ...]


REGISTRY: dict[str, Source] = {
    s.name: s
    for s in (
        Source("odds_api", DATASETS["odds_api"], odds_api.odds_api_source, odds_api.TABLES),
        Source(
            "balldontlie",
            DATASETS["balldontlie"],
            balldontlie.balldontlie_source,
            balldontlie.TABLES,
        ),
        Source("espn", DATASETS["espn"], espn.espn_source, espn.TABLES),
        Source("injuries", DATASETS["injuries"], injuries.injuries_source, injuries.TABLES),
    )
}
