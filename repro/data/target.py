"""The database rows are loaded into: connecting, and what it already holds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from repro.errors import DatabaseError, DataGenerationError
from repro.redaction import Redactor
from repro.snapshot.db.session import describe_endpoint, parse_dsn
from repro.text import one_line

APPLICATION_NAME = "repro data"


def connect_target(
    dsn: str, redactor: Redactor, *, what: str = "the target database"
) -> psycopg.Connection[Any]:
    """Connect (not in autocommit: the whole load is one transaction), or raise a one-line
    DatabaseError without the password."""
    try:
        params = parse_dsn(dsn, redactor)
    except Exception as exc:  # parse_dsn raises CaptureError with a clear line
        raise DatabaseError(str(exc)) from None
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = 10
    if "application_name" not in params:
        extra["application_name"] = APPLICATION_NAME
    try:
        return psycopg.connect(dsn, **extra)
    except psycopg.Error as exc:
        reason = one_line(str(exc)).removeprefix("connection failed: ")
        message = f"cannot connect to {what} {describe_endpoint(params)}: {reason}"
        raise DatabaseError(redactor.scrub(message)) from None


def qualified(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def existing_tables(conn: psycopg.Connection[Any], keys: Iterable[str]) -> set[str]:
    """Which of the ``schema.name`` keys exist in the target as tables."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s)
        """,
        (sorted(keys),),
    ).fetchall()
    return {r[0] for r in rows}


def user_relations(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables, views and sequences outside the system schemas: an "empty" database has none."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_(toast|temp_)'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                            AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1
        """
    ).fetchall()
    return [r[0] for r in rows]


def has_rows(conn: psycopg.Connection[Any], schema: str, name: str) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(qualified(schema, name))
    row = conn.execute(query).fetchone()
    return bool(row and row[0])


def target_columns(conn: psycopg.Connection[Any], schema: str, name: str) -> set[str]:
    rows = conn.execute(
        """
        SELECT a.attname FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        """,
        (f"{sql.Identifier(schema).as_string(conn)}.{sql.Identifier(name).as_string(conn)}",),
    ).fetchall()
    return {r[0] for r in rows}


def check_ready(
    conn: psycopg.Connection[Any],
    tables: dict[str, tuple[str, str, list[str]]],
    *,
    create_schema: bool,
    truncate: bool,
) -> None:
    """Refuse to touch a target that is not what the options say: never overwrite rows the
    user did not ask to replace. ``tables``: key -> (schema, name, columns written)."""
    if create_schema:
        present = user_relations(conn)
        if present:
            shown = ", ".join(present[:5]) + (" ..." if len(present) > 5 else "")
            raise DataGenerationError(
                f"the target database is not empty ({len(present)} relations: {shown}); "
                "--create-schema needs an empty database",
                hint="drop them, use a new database, or load into the existing tables "
                "without --create-schema",
            )
        return
    exists = existing_tables(conn, tables)
    missing = sorted(set(tables) - exists)
    if missing:
        raise DataGenerationError(
            f"tables missing in the target: {', '.join(missing[:8])}",
            hint="create the schema first, or add --create-schema on an empty database",
        )
    for key, (schema, name, columns) in sorted(tables.items()):
        absent = sorted(set(columns) - target_columns(conn, schema, name))
        if absent:
            raise DataGenerationError(
                f"{key} in the target lacks columns of the snapshot: {', '.join(absent)}",
                hint="the target's schema differs from the snapshot's (repro diff shows how)",
            )
    if not truncate:
        full = [
            key for key, (schema, name, _) in sorted(tables.items()) if has_rows(conn, schema, name)
        ]
        if full:
            raise DataGenerationError(
                f"the target already holds rows in {', '.join(full[:8])}",
                hint="add --truncate to replace them, or --append to add to them",
            )
