"""Rows of migration bookkeeping tables, captured verbatim.

A framework that migrates at start (``alembic upgrade head``, ``manage.py migrate``, ``rails
db:migrate``, Flyway, Liquibase, knex, goose...) reads its own table to know where the schema
stands. A copy of production with *generated* rows there (a random ``version_num``) makes the
app refuse to start or re-run every migration; with production's rows it starts as production
did. These tables hold versions, checksums and timestamps, not personal data, and are small;
they are captured whatever the statistics say (a one-row table is never analysed, so its
``rows_estimate`` is null), bounded in rows and bytes, and their values still pass the
snapshot's secret detector like every other captured value.

Data shape (in the database facet)::

    migration_tables: {"s.t": {tool, columns: [...], rows: [[text | null, ...]] | null,
                               truncated: bool}}

Values are PostgreSQL's text output of each column (what COPY reads back unchanged); ``rows``
is null when the table is larger than the bounds (then nothing is loaded from it: a partial
history would be as wrong as a generated one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from repro.pg.session import Part, Rows, Session

# Table name -> the tool that keeps it. Matched on the table's own name, in any captured schema.
KNOWN: dict[str, str] = {
    "alembic_version": "alembic",
    "django_migrations": "Django",
    "schema_migrations": "Rails / Ecto / golang-migrate / dbmate",
    "ar_internal_metadata": "Rails",
    "flyway_schema_history": "Flyway",
    "databasechangelog": "Liquibase",
    "databasechangeloglock": "Liquibase",
    "knex_migrations": "knex",
    "knex_migrations_lock": "knex",
    "goose_db_version": "goose",
    "_prisma_migrations": "Prisma",
    "__EFMigrationsHistory": "Entity Framework",
    "SequelizeMeta": "Sequelize",
    "pgmigrations": "node-pg-migrate",
    "kysely_migration": "Kysely",
    "kysely_migration_lock": "Kysely",
    "mikro_orm_migrations": "MikroORM",
    "_sqlx_migrations": "sqlx",
    "__diesel_schema_migrations": "Diesel",
    "__drizzle_migrations": "Drizzle",
    "refinery_schema_history": "refinery",
    "atlas_schema_revisions": "Atlas",
}
# Not a history nor a lock but a key/value store (Rails keeps the environment's name and the
# schema's checksum there): held empty (a source loaded from structure.sql), its table is
# generated like any other, since no made-up key stops the app; a history or a lock table
# held empty stays empty (made-up versions or a taken lock would).
GENERATED_WHEN_EMPTY = frozenset({"ar_internal_metadata"})
MAX_ROWS = 10_000
MAX_BYTES = 4 * 1024 * 1024  # of text, all rows of one table


@dataclass
class MigrationReader:
    session: Session
    data: dict[str, Any]
    extra: Iterable[str] = ()  # the facet option migration_tables: "schema.table" or "table"

    def parts(self) -> list[Part]:
        """One part per migration table present (after the tables and columns were read)."""
        wanted = set(self.extra)
        parts: list[Part] = []
        for key, table in sorted((self.data.get("tables") or {}).items()):
            name = table.get("name")
            if table.get("kind") != "table" or not isinstance(name, str):
                continue
            if name in KNOWN or key in wanted or name in wanted:
                parts.append(self._part(key, table, KNOWN.get(name, "profile")))
        return parts

    def _part(self, key: str, table: dict[str, Any], tool: str) -> Part:
        columns = [
            name
            for name, column in sorted(
                (table.get("columns") or {}).items(), key=lambda item: item[1].get("position", 0)
            )
            if not column.get("generated")  # computed by the server: never written
        ]
        out = self.data.setdefault("migration_tables", {})
        out[key] = {"tool": tool, "columns": columns, "rows": None, "truncated": False}
        if not columns:
            return Part(f"migration table {key}")
        query = sql.SQL("SELECT ARRAY[{}]::pg_catalog.text[] AS row FROM {}.{} ORDER BY 1 LIMIT {}")
        text = query.format(
            sql.SQL(", ").join(
                sql.SQL("{}::pg_catalog.text").format(sql.Identifier(c)) for c in columns
            ),
            sql.Identifier(table["schema"]),
            sql.Identifier(table["name"]),
            sql.Literal(MAX_ROWS + 1),
        ).as_string(self.session.conn)

        def handle(rows: Rows) -> None:
            values = [list(row.row) for row in rows]
            size = sum(len(v) for row in values for v in row if v is not None)
            if len(values) > MAX_ROWS or size > MAX_BYTES:
                out[key]["truncated"] = True
                self.session.problems.append(
                    f"migration table {key}: more than {MAX_ROWS:,} rows or "
                    f"{MAX_BYTES // 2**20} MiB: not captured (a sandbox generates its rows)"
                )
                return
            out[key]["rows"] = values

        return Part(f"migration table {key}", text, handle=handle)
