"""The two deliberate ways the frozen schemas change: first export, and accepting reviewed drift.

- `export_schemas`: run the sources for a date without loading, record every column and JSON type
  that arrives, and write `extract/schemas/<source>.json` (declared columns keep their declared
  types). Used once to create the files, or to regenerate them after a code change; review the diff.
- `accept_schema`: after a run failed on drift it left a proposal (the frozen file plus exactly
  the reported changes) under `<NBA_PROPS_DLT_DIR>/schema_proposals/`; accepting copies it over the
  frozen file. New columns come in optional and nullable; a changed type is accepted as an
  additional JSON type for the same warehouse column (dlt coerces it; a value that cannot be
  coerced still fails); a missing field becomes optional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from extract.config import SOURCES, ExtractConfig
from extract.contracts import FrozenSchema, proposal_path, schema_diff, schema_path
from extract.errors import ConfigError, ExtractError
from extract.redact import redacted_logging
from extract.runner import quiet_dlt
from extract.runtime import RunContext
from extract.sources import REGISTRY
from extract.window import Window


@dataclass
class SchemaChange:
    source: str
    path: Path
    diff: str


def export_schemas(
    config: ExtractConfig, day: date, sources: Sequence[str] = SOURCES, *, write: bool = True
) -> list[SchemaChange]:
    quiet_dlt()
    ctx = RunContext.create(config, discovery=True)
    out = []
    try:
        with redacted_logging(ctx.redactor):
            for source in sources:
                for _item in REGISTRY[source].factory(ctx, Window.of(day)):
                    pass
        assert ctx.discovery is not None
        for source in sources:
            schema = ctx.discovery.schema(source)
            path = schema_path(config.schemas_dir, source)
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            new = schema.to_json()
            if write:
                schema.save(path)
            out.append(SchemaChange(source, path, schema_diff(old, new, source)))
    finally:
        ctx.close()
    return out


def accept_schema(config: ExtractConfig, source: str, *, write: bool = True) -> SchemaChange:
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    proposal = proposal_path(config.dlt_dir, source)
    if not proposal.exists():
        raise ExtractError(
            f"{source}: no schema proposal at {proposal}; a proposal is written when a run fails "
            "on schema drift"
        )
    target = schema_path(config.schemas_dir, source)
    proposed = FrozenSchema.load(proposal, source)  # validates the file before it replaces ours
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    new = proposed.to_json()
    if write:
        proposed.save(target)
        proposal.unlink()
    return SchemaChange(source, target, schema_diff(old, new, source))
