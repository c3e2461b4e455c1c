"""A source's load is all or nothing, even when the warehouse refuses one table after another
table of the same load was merged.

dlt loads a package table by table, each table's merge in its own transaction: when one table's
job fails (a constraint, a value the column cannot take, a full disk), the tables merged before it
stay, and the (source, window) would be half-loaded. The checks before the load (extract/
contracts.py) reject what the warehouse is known to refuse; this is for what they cannot foresee.

On DuckDB, before dlt loads a normalized package, `RestorePoint.take` copies what the load can
change: for a table merged on its key (delete-insert or upsert), the warehouse rows whose key the
package holds (read from the package's own parquet files); an insert-only or append table needs
no copy, since its existing rows are never touched. If the load fails, `restore` puts the tables
back in one transaction: every row carrying the failed load's id is deleted (data tables and dlt's
`_dlt_pipeline_state`; dlt writes `_dlt_loads` only for a complete load), and the copied rows the
load had replaced are put back as they were, load ids included. A table the failed load created
stays, empty (dlt's stored schema says it exists). After a good load the copies are dropped.

BigQuery: not covered (dlt's jobs there commit one by one, with no rollback across them); a
failed load there is reported, and a rerun of the window merges the same rows again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dlt

from extract.contracts import TableDef

log = logging.getLogger("extract")

_PIPELINE_STATE = "_dlt_pipeline_state"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _keyed(table: TableDef) -> bool:
    """True when a load can replace existing rows of `table` (merged on its key)."""
    disposition = table.write_disposition
    if isinstance(disposition, str):
        return disposition in ("merge", "replace")
    kind = disposition.get("disposition")
    return kind == "replace" or (kind == "merge" and disposition.get("strategy") != "insert-only")


@dataclass
class RestorePoint:
    """What one load of one source's dataset can change, copied before it runs (DuckDB only)."""

    cursor: Any  # a DuckDB connection of its own: the copies are its temp tables
    dataset: str
    load_ids: list[str]
    tables: dict[str, TableDef]  # the package's data tables that exist in the warehouse
    copies: dict[str, str] = field(default_factory=dict)  # table -> temp table of its old rows

    @classmethod
    def take(
        cls, warehouse: Any, pipeline: dlt.Pipeline, dataset: str, tables: Iterable[TableDef]
    ) -> RestorePoint | None:
        """None when there is nothing to protect (no DuckDB connection held, no package)."""
        if warehouse is None:
            return None
        load_ids = list(pipeline.list_normalized_load_packages())
        if not load_ids:
            return None
        defs = {t.name: t for t in tables}
        files: dict[str, list[str]] = {}
        for load_id in load_ids:
            for jobs in pipeline.get_load_package_info(load_id).jobs.values():
                for job in jobs:
                    name = job.job_file_info.table_name
                    if name in defs:
                        files.setdefault(name, []).append(str(job.file_path))
        cursor = warehouse.cursor()
        present = {
            name
            for (name,) in cursor.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [dataset],
            ).fetchall()
        }
        point = cls(cursor, dataset, load_ids, {n: defs[n] for n in files if n in present})
        try:
            for name, table in point.tables.items():
                if _keyed(table):
                    point._copy(name, table, files[name])
        except BaseException:
            point.drop()
            raise
        return point

    def _copy(self, name: str, table: TableDef, files: list[str]) -> None:
        copy = _quote(f"restore__{self.dataset}__{name}")
        target = f"{_quote(self.dataset)}.{_quote(name)}"
        if isinstance(table.write_disposition, dict) and (
            table.write_disposition.get("disposition") == "replace"
        ):
            where = ""
        else:
            keys = ", ".join(_quote(k) for k in table.primary_key)
            parquet = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            where = f" where ({keys}) in (select {keys} from read_parquet([{parquet}]))"
        self.cursor.execute(f"create or replace temp table {copy} as select * from {target}{where}")
        self.copies[name] = copy

    def restore(self) -> dict[str, int]:
        """Undo the load in one transaction; returns the rows removed per table."""
        removed: dict[str, int] = {}
        ids = ", ".join("'" + i.replace("'", "''") + "'" for i in self.load_ids)
        cursor = self.cursor
        cursor.execute("begin transaction")
        try:
            for name in self.tables:
                target = f"{_quote(self.dataset)}.{_quote(name)}"
                (count,) = cursor.execute(
                    f"select count(*) from {target} where _dlt_load_id in ({ids})"
                ).fetchone()
                cursor.execute(f"delete from {target} where _dlt_load_id in ({ids})")
                removed[name] = int(count)
                copy = self.copies.get(name)
                if copy is not None:
                    cursor.execute(
                        f"insert into {target} by name select * from {copy} as old where not "
                        f"exists (select 1 from {target} as now where now._dlt_id = old._dlt_id)"
                    )
            state = cursor.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [self.dataset, _PIPELINE_STATE],
            ).fetchone()[0]
            if state:
                cursor.execute(
                    f"delete from {_quote(self.dataset)}.{_PIPELINE_STATE} "
                    f"where _dlt_load_id in ({ids})"
                )
            cursor.execute("commit")
        except BaseException:
            cursor.execute("rollback")
            raise
        return removed

    def drop(self) -> None:
        try:
            for copy in self.copies.values():
                self.cursor.execute(f"drop table if exists {copy}")
        finally:
            self.cursor.close()
