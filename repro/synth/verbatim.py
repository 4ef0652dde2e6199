"""Tables loaded with production's own rows instead of generated ones: the migration
bookkeeping tables the snapshot captured verbatim (:mod:`repro.snapshot.db.migrations`).

``alembic_version`` with a random ``version_num`` stops an app whose start runs ``alembic
upgrade head``; with production's row it starts as production did. The rows are written by
COPY, as text PostgreSQL itself produced, in the load's own transaction, after the generated
tables and before the constraints are added; sequences then continue past them like past any
generated row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from repro.pg.target_db import qualified
from repro.redaction import is_redacted
from repro.snapshot.db.migrations import GENERATED_WHEN_EMPTY
from repro.text import plural


@dataclass(frozen=True)
class VerbatimTable:
    key: str  # "public.alembic_version"
    schema: str
    name: str
    tool: str  # "alembic"
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]

    @property
    def note(self) -> str:
        rows = plural(len(self.rows), "row")
        return f"{rows} copied verbatim from the snapshot ({self.tool} history)"


def verbatim_tables(database: Mapping[str, Any]) -> tuple[dict[str, VerbatimTable], list[str]]:
    """The captured tables that can be loaded as they are, and why others cannot."""
    tables = database.get("tables") or {}
    loadable: dict[str, VerbatimTable] = {}
    problems: list[str] = []
    for key, entry in sorted((database.get("migration_tables") or {}).items()):
        table = tables.get(key)
        if not isinstance(entry, Mapping) or not isinstance(table, Mapping):
            continue
        rows, columns = entry.get("rows"), entry.get("columns")
        if rows == [] and table.get("name") in GENERATED_WHEN_EMPTY:
            continue  # generated like any table (see GENERATED_WHEN_EMPTY)
        if rows is None or not isinstance(columns, list):
            problems.append(f"{key}: its rows were not captured (too large): generated instead")
            continue
        if any(is_redacted(value) for row in rows for value in row):
            problems.append(
                f"{key}: a captured value was judged secret (only its fingerprint is in the "
                "snapshot): generated instead"
            )
            continue
        known = set((table.get("columns") or {}).keys())
        if not all(isinstance(c, str) and c in known for c in columns) or not all(
            isinstance(row, list) and len(row) == len(columns) for row in rows
        ):
            problems.append(f"{key}: the captured rows do not fit its columns: generated instead")
            continue
        loadable[key] = VerbatimTable(
            key,
            str(table.get("schema")),
            str(table.get("name")),
            str(entry.get("tool") or "migration"),
            tuple(columns),
            tuple(tuple(None if v is None else str(v) for v in row) for row in rows),
        )
    return loadable, problems


def copy_rows(conn: psycopg.Connection[Any], table: VerbatimTable) -> int:
    """Write the table's rows with COPY (values as PostgreSQL's text output, NULL as NULL)."""
    if not table.rows:
        return 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        qualified(table.schema, table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in table.rows:
            copy.write("\t".join(_copy_text(v) for v in row) + "\n")
    return len(table.rows)


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
