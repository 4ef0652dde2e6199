"""Connecting to PostgreSQL for a snapshot, and the one read-only transaction it runs in.

The capture must be harmless to production: one ``REPEATABLE READ READ ONLY`` transaction (a
consistent picture, no writes), bounded by statement, lock and idle timeouts, so a capture
never queues behind a migration for long nor holds a snapshot open after the client died.

The capture is a list of :class:`Part` (one set-based query and what to do with its rows),
sent together in pipeline mode: a remote database costs one round trip for the lot, not two
or three per query. A part that fails (permission denied, timeout) becomes a *problem*
(status ``partial``) instead of losing the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import namedtuple_row

from repro.errors import CaptureError
from repro.redaction import Redactor
from repro.text import one_line

CONNECT_TIMEOUT_S = 5
# A capture that waits for a lock waits behind a migration, and every later query on that
# table then waits behind both: give up quickly and report the part as a problem instead.
LOCK_TIMEOUT_MS = 3_000
APPLICATION_NAME = "repro-snapshot"

Connection = psycopg.Connection[Any]
Rows = list[Any]  # named tuples: row.column


def parse_dsn(dsn: str, redactor: Redactor) -> dict[str, Any]:
    """The DSN's parameters; its password is remembered by the redactor, so no message
    (ours or libpq's) can carry it afterwards."""
    redactor.redact_url(dsn)
    env_password = os.environ.get("PGPASSWORD")
    if env_password:
        redactor.remember(env_password)
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        # libpq's parse errors quote the DSN, password included: say nothing about its text.
        raise CaptureError(
            "invalid database DSN (expected a postgresql:// URL or key=value pairs)"
        ) from None
    password = params.get("password")
    if password:
        redactor.remember(str(password))
    return params


def describe_endpoint(params: Mapping[str, Any]) -> str:
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    db = params.get("dbname") or params.get("user") or "(default)"
    user = params.get("user")
    return f"{host}:{port}/{db}" + (f" as {user}" if user else "")


def connect(dsn: str, redactor: Redactor) -> Connection:
    """Connect, or raise CaptureError with one scrubbed line saying why not."""
    params = parse_dsn(dsn, redactor)
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in params:
        # Lets a production DBA see in pg_stat_activity who is reading the catalog.
        extra["application_name"] = APPLICATION_NAME
    try:
        return psycopg.connect(dsn, autocommit=True, row_factory=namedtuple_row, **extra)
    except psycopg.Error as exc:
        reason = one_line(str(exc)).removeprefix("connection failed: ")
        message = f"cannot connect to PostgreSQL {describe_endpoint(params)}: {reason}"
        raise CaptureError(redactor.scrub(message)) from None


def provenance(conn: Connection) -> dict[str, Any]:
    """Where the snapshot was read from; never the password."""
    info = conn.info
    return {"host": info.host, "port": info.port, "dbname": info.dbname, "user": info.user}


@dataclass(frozen=True)
class Part:
    """One query of the capture and what to do with its rows (in order, after the parts
    before it have been handled, so a handler may use what earlier ones found). A part
    without a query is a step run in that order."""

    what: str
    query: str = ""
    params: Mapping[str, Any] | None = None
    handle: Callable[[Rows], None] = lambda rows: None


class Session:
    """The capture's transaction: queries, failure-isolated parts, and the problems met."""

    def __init__(
        self, conn: Connection, redactor: Redactor, log: Callable[[str], None] = lambda m: None
    ) -> None:
        self.conn = conn
        self.redactor = redactor
        self.log = log
        self.problems: list[str] = []
        self.version_num = conn.info.server_version

    def begin(self, snapshot: str | None = None) -> None:
        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if snapshot is not None:
            # Another session's exported snapshot: both read the very same database state.
            self.conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))

    def begin_exporting(self) -> str | None:
        """Begin, and export the transaction's snapshot for a second connection; None where
        that is not possible (e.g. some standbys, poolers), and the transaction is fine."""
        self.begin()
        try:
            rows = self.rows("SELECT pg_catalog.pg_export_snapshot() AS id")
            return str(rows[0].id)
        except psycopg.Error as exc:
            self._check_alive(exc, Part("snapshot export", ""))
            self.log(f"database: no snapshot export ({one_line(str(exc))}); one connection")
            self.conn.execute("ROLLBACK")
            self.begin()
            return None

    def protect_part(self, statement_timeout_ms: int) -> Part:
        """Bound every later statement, and render values the same way in every
        environment: an empty search_path makes format_type() and the pg_get_*def()
        functions schema-qualify every name (pg_dump does the same); a fixed time zone and
        date style keep a partition bound or a histogram of timestamps from differing
        between prod and staging only because their servers' TimeZone differ."""
        # Below the statement timeout, so that waiting for a lock is reported as such.
        lock_ms = LOCK_TIMEOUT_MS
        if statement_timeout_ms > 0:
            lock_ms = max(1, min(LOCK_TIMEOUT_MS, statement_timeout_ms // 2))
        return Part(
            "timeouts",
            "SELECT pg_catalog.set_config('statement_timeout', %(st)s, true) AS st,"
            " pg_catalog.set_config('lock_timeout', %(lt)s, true) AS lt,"
            " pg_catalog.set_config('idle_in_transaction_session_timeout', %(st)s, true)"
            " AS it, pg_catalog.set_config('search_path', '', true) AS sp,"
            " pg_catalog.set_config('TimeZone', 'UTC', true) AS tz,"
            " pg_catalog.set_config('DateStyle', 'ISO, YMD', true) AS ds,"
            " pg_catalog.set_config('IntervalStyle', 'postgres', true) AS ist,"
            " pg_catalog.set_config('extra_float_digits', '1', true) AS efd,"
            " pg_catalog.set_config('bytea_output', 'hex', true) AS bo",
            {"st": str(max(statement_timeout_ms, 0)), "lt": str(lock_ms)},
        )

    def end(self) -> None:
        """Read-only: there is nothing to commit."""
        try:
            if not self.conn.closed:
                self.conn.execute("ROLLBACK")
        finally:
            self.conn.close()

    def rows(self, query: str, params: Mapping[str, Any] | None = None) -> Rows:
        return self.conn.execute(query, params).fetchall()

    def run(self, parts: Sequence[Part]) -> None:
        """Run the parts pipelined. If one fails, the server skips the rest of the pipeline,
        and psycopg may report the error on another part's fetch: roll back to before the
        batch and run the parts not yet handled one by one, each under its own savepoint
        (reads are repeatable in this transaction, so nothing is lost but time)."""
        done = 0
        try:
            with self.conn.pipeline():
                self.conn.execute("SAVEPOINT repro_batch")
                cursors = [self.conn.execute(p.query, p.params) if p.query else None for p in parts]
                for part, cursor in zip(parts, cursors, strict=True):
                    started = time.perf_counter()
                    part.handle(cursor.fetchall() if cursor is not None else [])
                    done += 1
                    self._timed(part, started)
                self.conn.execute("RELEASE SAVEPOINT repro_batch")
            return
        except psycopg.Error as exc:
            self._check_alive(exc, parts[min(done, len(parts) - 1)])
            self.conn.execute("ROLLBACK TO SAVEPOINT repro_batch")
        for part in parts[done:]:
            self._run_one(part)

    def _run_one(self, part: Part) -> None:
        if not part.query:
            part.handle([])
            return
        self.conn.execute("SAVEPOINT repro_part")
        started = time.perf_counter()
        try:
            rows = self.rows(part.query, part.params)
        except psycopg.Error as exc:
            self._check_alive(exc, part)
            self.conn.execute("ROLLBACK TO SAVEPOINT repro_part")
            self.problems.append(self.redactor.scrub(f"{part.what}: {_reason(exc)}"))
            return
        self.conn.execute("RELEASE SAVEPOINT repro_part")
        part.handle(rows)
        self._timed(part, started)

    def _timed(self, part: Part, started: float) -> None:
        self.log(f"database: {part.what} in {(time.perf_counter() - started) * 1000:.0f} ms")

    def _check_alive(self, exc: psycopg.Error, part: Part) -> None:
        if self.conn.broken or self.conn.closed:
            raise CaptureError(
                self.redactor.scrub(
                    f"lost the database connection while reading {part.what}: {one_line(str(exc))}"
                )
            ) from None


def run_with_snapshot(
    dsn: str, redactor: Redactor, snapshot: str, statement_timeout_ms: int, parts: list[Part]
) -> list[str]:
    """Run parts on a second connection that shares the capture's snapshot (as
    ``pg_dump --jobs`` does), so that the server works on them alongside the others.
    Returns the problems met; raises when the connection or the snapshot is refused."""
    session = Session(connect(dsn, redactor), redactor)
    try:
        session.begin(snapshot)
        session.run([session.protect_part(statement_timeout_ms), *parts])
        return session.problems
    finally:
        session.end()


def _reason(exc: psycopg.Error) -> str:
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return f"permission denied ({one_line(str(exc))})"
    if isinstance(exc, pg_errors.QueryCanceled):
        return "timed out (statement_timeout); raise database.statement_timeout_ms"
    if isinstance(exc, pg_errors.LockNotAvailable):
        return "a lock was held too long by another session (lock_timeout); try again later"
    return one_line(str(exc)).split(" LINE ", 1)[0]
