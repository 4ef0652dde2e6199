"""COPY ... TO STDOUT read straight from libpq (repro.pg.copy_out), on a real PostgreSQL.

Against psycopg's own Copy: the same bytes for rows with every escape COPY makes, whatever the
batch size. Then what must not break the connection: a failing statement, a statement that is
no COPY, and a consumer that stops half-way.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from repro.pg import copy_out as copy_out_module
from repro.pg.copy_out import copy_out
from tests.helpers.pg import PgServer, fresh_database

ROWS_SQL = r"""
CREATE TABLE t (id int PRIMARY KEY, s text, b bytea, j jsonb);
INSERT INTO t
SELECT i,
       CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\there\nnew\\back'
                  WHEN 3 THEN 'Zoë ✓ ' || i ELSE repeat('x', i % 300) END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END,
       jsonb_build_object('k', i, 'q', E'"quoted"\t')
FROM generate_series(1, 5000) i;
"""
COPY = sql.SQL("COPY (SELECT * FROM t ORDER BY id) TO STDOUT")


@pytest.fixture(scope="module")
def dsn(postgres_15: PgServer) -> Iterator[str]:
    with fresh_database(postgres_15.dsn, prefix="copy_out") as name:
        with psycopg.connect(name, autocommit=True) as conn:
            conn.execute(ROWS_SQL)
        yield name


def psycopg_bytes(conn: psycopg.Connection[object]) -> bytes:
    with conn.cursor() as cur, cur.copy(COPY) as copy:
        return b"".join(bytes(block) for block in copy)


@pytest.mark.parametrize("batch", [1, 100, 1 << 18])
def test_same_bytes_as_psycopg_whole_rows_per_batch(dsn: str, batch: int) -> None:
    with psycopg.connect(dsn) as conn:
        expected = psycopg_bytes(conn)
        batches = list(copy_out(conn, COPY, batch_bytes=batch))
        assert b"".join(batches) == expected
        assert all(b.endswith(b"\n") for b in batches)
        if batch == 1:
            assert len(batches) == 5000  # one row each
        # still in the transaction psycopg opened, and usable
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (5000,)


def test_a_failing_copy_raises_psycopgs_error_and_leaves_the_connection_usable(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(errors.UndefinedTable):
            list(copy_out(conn, sql.SQL("COPY (SELECT * FROM missing) TO STDOUT")))
        with pytest.raises(errors.DivisionByZero):  # fails after rows were sent
            list(
                copy_out(
                    conn,
                    sql.SQL("COPY (SELECT 1 / (5000 - id) FROM t ORDER BY id) TO STDOUT"),
                    batch_bytes=10,
                )
            )
        with pytest.raises(errors.ProgrammingError, match="COPY"):
            list(copy_out(conn, sql.SQL("SELECT 1")))
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_consumer_that_stops_early_leaves_the_connection_usable(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        batches = copy_out(conn, COPY, batch_bytes=100)
        assert next(batches).startswith(b"1\t")
        batches.close()  # the target failed: the COPY is cancelled and read to its end
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (5000,)


class Interrupted(Exception):
    """Stands in for KeyboardInterrupt (which pytest itself would take as a stop)."""


def test_interrupted_before_the_server_answers_leaves_a_transaction_that_rolls_back(
    dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Ctrl-C while the COPY still waits for its first result (here: a lock another session
    holds) must cancel it too: the transaction around it then rolls back without psycopg's
    "error ignored in rollback ... another command is already in progress"."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with (
            psycopg.connect(dsn) as locker,
            psycopg.connect(dsn) as conn,
        ):
            locker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(Interrupted), conn.transaction():
                signal.setitimer(signal.ITIMER_REAL, 0.3)
                next(copy_out(conn, COPY))
            locker.rollback()
            assert "error ignored" not in caplog.text
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (5000,)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_interrupted_as_the_query_is_sent_leaves_a_transaction_that_rolls_back(
    dsn: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gap that made a CI run red: Ctrl-C during the send left the COPY running, and the
    transaction around it could not roll back ("another command is already in progress").
    Python runs a signal handler right after the C call it arrived in: the query has gone to
    the server when the exception is raised, as here."""
    send = copy_out_module._send

    def sent_then_interrupted(pgconn: object, query: bytes) -> None:
        send(pgconn, query)
        raise Interrupted

    monkeypatch.setattr(copy_out_module, "_send", sent_then_interrupted)
    with psycopg.connect(dsn) as conn:
        with pytest.raises(Interrupted), conn.transaction():
            next(copy_out(conn, COPY))
        assert "error ignored" not in caplog.text
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (5000,)
