"""The target database: the one a data job loads rows into (generate, anonymize, the replay
sandbox). Connecting (also to the databases those jobs read), what it already holds, and the
steps around a bulk load: the schema script's halves, keys merged per table, sequences after.

Not to be confused with :mod:`repro.targets`, which reaches the environment a snapshot reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from repro.errors import DatabaseError, DataGenerationError
from repro.pg.ddl import SchemaScript, Statement
from repro.pg.session import describe_endpoint, parse_dsn
from repro.pg.sql_text import SqlTextError, check_statement
from repro.pg.tables import DataModel, Table
from repro.redaction import Redactor
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


@contextmanager
def all_or_nothing(
    conn: psycopg.Connection[Any], what: str, redactor: Redactor
) -> Iterator[psycopg.Connection[Any]]:
    """Use ``conn`` for a job whose writes are one transaction, and close it after. A
    PostgreSQL error on the way rolled that transaction back: it becomes one scrubbed line,
    ``{what} failed, nothing was kept: ...``."""
    try:
        yield conn
    except psycopg.Error as exc:
        raise DataGenerationError(
            redactor.scrub(f"{what} failed, nothing was kept: {one_line(str(exc))}")
        ) from None
    finally:
        conn.close()


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


def execute_script(conn: psycopg.Connection[Any], statements: list[Statement]) -> list[str]:
    """Run a script's statements; returns what optional ones could not make (one line each,
    with PostgreSQL's reason). Every statement must lex as one: definitions in a snapshot are
    text from another machine, and a semicolon in one must not start a statement of its own.
    (The extended protocol, forced by ``binary=True``, makes the server refuse a second
    statement too; and no ``%`` is read as a placeholder.)"""
    failed: list[str] = []
    for statement in statements:
        try:
            check_statement(statement.sql)
        except SqlTextError as exc:
            raise DataGenerationError(
                f"refusing to run the snapshot's {statement.kind} {statement.target}: {exc}",
                hint="nothing was kept",
            ) from None
        if statement.preferred is not None:
            try:
                with conn.transaction():  # a savepoint: a failure leaves the rest intact
                    conn.execute(statement.preferred.encode(), binary=True)
                continue
            except psycopg.Error:
                pass  # not installable here: the portable form below
        if statement.optional:
            try:
                with conn.transaction():
                    conn.execute(statement.sql.encode(), binary=True)
            except psycopg.Error as exc:
                reason = one_line(str(exc)).split(" LINE ", 1)[0]
                failed.append(f"{statement.kind} {statement.target}: not recreated: {reason}")
            continue
        try:
            conn.execute(statement.sql.encode(), binary=True)
        except psycopg.Error as exc:
            raise DataGenerationError(
                f"creating {statement.kind} {statement.target} failed: {one_line(str(exc))}",
                hint="nothing was kept",
            ) from None
    return failed


_MERGEABLE = frozenset({"primary_key", "unique", "check", "exclusion"})
_ADD = " ADD CONSTRAINT "


def finish_schema(conn: psycopg.Connection[Any], script: SchemaScript) -> list[str]:
    """The after-load half of a schema script: keys, checks and foreign keys validated,
    indexes built, one ALTER TABLE per table for its keys and checks; returns what optional
    statements could not make."""
    # Index builds sort in memory when they can; the default 64 MB spills to disk early.
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    return execute_script(conn, merge_table_constraints(script.after_load))


def merge_table_constraints(statements: list[Statement]) -> list[Statement]:
    """One ALTER TABLE per table for its keys and checks: PostgreSQL then validates all of
    a table's new CHECKs in one scan instead of one scan each. Foreign keys and indexes
    keep their own statements (and their order after the keys)."""
    out: list[Statement] = []
    merged: dict[str, int] = {}
    for statement in statements:
        head, sep, clause = statement.sql.partition(_ADD)
        if statement.kind not in _MERGEABLE or not sep or not head.startswith("ALTER TABLE "):
            out.append(statement)
            continue
        if head in merged:
            first = out[merged[head]]
            out[merged[head]] = Statement(
                f"{first.sql},{_ADD.rstrip()} {clause}", first.kind, first.target
            )
        else:
            merged[head] = len(out)
            out.append(statement)
    return out


def set_sequences(
    conn: psycopg.Connection[Any], model: DataModel, tables: list[tuple[Table, list[str]]]
) -> None:
    """Identity and serial columns continue past the largest value written (``tables``:
    each table with the columns written); other sequences resume where production's were."""
    owned: set[str] = set()
    for table, written in tables:
        for column in table.columns.values():
            if not (column.identity or (column.default or "").startswith("nextval(")):
                continue
            if column.name not in written:
                continue
            row = conn.execute(
                "SELECT pg_catalog.pg_get_serial_sequence(%s, %s)",
                (qualified(table.schema, table.name).as_string(conn), column.name),
            ).fetchone()
            if not row or not row[0]:
                continue
            owned.add(row[0])
            conn.execute(
                sql.SQL(
                    "SELECT pg_catalog.setval(%s, COALESCE((SELECT max({}) FROM {}), 0) + 1, false)"
                ).format(sql.Identifier(column.name), qualified(table.schema, table.name)),
                (row[0],),
            )
    for seq in model.sequences.values():
        last = seq.get("last_value")
        if last is None or seq.get("owned_by") or seq.get("identity"):
            continue
        name = qualified(str(seq.get("schema")), str(seq.get("name"))).as_string(conn)
        if name in owned:
            continue
        exists = conn.execute("SELECT pg_catalog.to_regclass(%s)", (name,)).fetchone()
        if exists and exists[0]:
            conn.execute("SELECT pg_catalog.setval(%s, %s)", (name, int(last)))
