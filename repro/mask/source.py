"""The database rows are copied from: its schema (through the snapshot's database facet, so
anonymize and generate share one schema model and one DDL writer) and a read-only,
consistent view of its rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg

from repro.errors import DatabaseError
from repro.pg.target_db import connect_target
from repro.profile.facets import validate_options
from repro.profile.file import DatabaseSpec, Profile
from repro.redaction import Redactor
from repro.snapshot.base import CaptureContext
from repro.snapshot.database import FACET


def read_schema(
    dsn: str, redactor: Redactor, *, schemas: list[str] | None = None
) -> Mapping[str, Any]:
    """The source's schema as the database facet captures it (no statistics: faster, and
    nothing about the data is needed to copy it)."""
    spec = DatabaseSpec(dsn=dsn, statement_timeout_ms=60_000, schemas=schemas, role=None)
    ctx = CaptureContext(
        target=None,  # type: ignore[arg-type]  # the database facet reaches the DSN itself
        profile=Profile(name="anonymize-source", path=None, database=spec),
        options=validate_options(FACET, {"statistics": False}, "anonymize"),
        redactor=redactor,
    )
    try:
        result = FACET.capture(ctx)
    except Exception as exc:  # CaptureError and friends: already one scrubbed line
        raise DatabaseError(redactor.scrub(f"reading the source's schema: {exc}")) from None
    if result.status == "error":
        raise DatabaseError(f"reading the source's schema: {result.message}")
    return result.data


def connect_source(dsn: str, redactor: Redactor) -> psycopg.Connection[Any]:
    """Read-only and REPEATABLE READ: every table is read as of one moment, so the copy is
    consistent (an order never arrives without its customer), and nothing is written."""
    conn = connect_target(dsn, redactor, what="the source database")
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return conn
