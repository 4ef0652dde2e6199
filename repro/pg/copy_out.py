"""``COPY ... TO STDOUT`` read in batches, straight from libpq.

psycopg's ``Copy.read()`` returns one row per call through its generator-and-wait machinery,
a microsecond or two of Python per row: for a million-row table the busiest part of a masking
process. Here the rows libpq already holds are taken in a tight loop and joined into batches;
the process waits (``select``, so Ctrl-C still works) only when none is there. Same bytes,
about half the cost. Only the libpq calls of psycopg's public ``Connection.pgconn`` are used.

An early stop (the consumer failed, Ctrl-C) cancels the query and reads it to its end, so the
connection is usable (or at least closable) afterwards, as psycopg's own ``Copy`` does.
"""

from __future__ import annotations

import select
from collections.abc import Generator
from typing import Any

import psycopg
from psycopg import errors, pq, sql

BATCH_BYTES = 1 << 18


def copy_out(
    conn: psycopg.Connection[Any], statement: sql.Composable, batch_bytes: int = BATCH_BYTES
) -> Generator[bytes, None, None]:
    """The output of ``statement`` (a ``COPY ... TO STDOUT``), whole rows in ~``batch_bytes``
    batches. Errors are psycopg's own (``errors.error_from_result``)."""
    pgconn = conn.pgconn
    if pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
        raise errors.ProgrammingError("the connection is busy with another query")
    query = statement.as_bytes(conn)
    # Everything from the send on is covered: Ctrl-C may come while the server has not
    # answered yet (a lock wait) or while its last result is read, not only between batches,
    # and a signal that arrives during the send is raised right after it, the query sent.
    try:
        _send(pgconn, query)
        first = _next_result(pgconn)
        if first is None or first.status != pq.ExecStatus.COPY_OUT:
            _drain(pgconn)
            if first is not None and first.status == pq.ExecStatus.FATAL_ERROR:
                raise errors.error_from_result(first, encoding=conn.info.encoding)
            raise errors.ProgrammingError("copy_out() needs a COPY ... TO STDOUT statement")
        parts: list[bytes] = []
        size = 0
        while True:
            nbytes, data = pgconn.get_copy_data(1)
            if nbytes > 0:
                parts.append(bytes(data))
                size += nbytes
                if size >= batch_bytes:
                    yield b"".join(parts)
                    parts, size = [], 0
            elif nbytes == 0:  # nothing buffered: wait for the server
                _wait(pgconn)
                pgconn.consume_input()
            elif nbytes == -1:
                break
            else:
                raise errors.OperationalError(_message(pgconn, conn))
        final = _next_result(pgconn)
        _drain(pgconn)
        if final is not None and final.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(final, encoding=conn.info.encoding)
        if parts:
            yield b"".join(parts)
    finally:
        # a query still in progress: sent, and not read to its end (drained, it is not ACTIVE)
        if (
            pgconn.status != pq.ConnStatus.BAD
            and pgconn.transaction_status == pq.TransactionStatus.ACTIVE
        ):
            _abandon(conn)


def _send(pgconn: Any, query: bytes) -> None:
    pgconn.send_query(query)
    while pgconn.flush():
        _wait(pgconn, write=True)


def _wait(pgconn: Any, write: bool = False) -> None:
    poller = select.poll()  # not select(): a descriptor above 1023 is fine too
    poller.register(pgconn.socket, select.POLLIN | (select.POLLOUT if write else 0))
    poller.poll()


def _next_result(pgconn: Any) -> Any:
    while pgconn.is_busy():
        _wait(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _drain(pgconn: Any) -> None:
    while _next_result(pgconn) is not None:
        pass


def _message(pgconn: Any, conn: psycopg.Connection[Any]) -> str:
    return bytes(pgconn.error_message).decode(conn.info.encoding, "replace").strip()


def _abandon(conn: psycopg.Connection[Any]) -> None:
    """Stopped at any point after the query was sent: cancel it and read what is left (the
    rest of the data, then every result), so the connection can be rolled back or closed.
    Best effort: a broken connection is closed by its owner anyway."""
    pgconn = conn.pgconn
    try:
        conn.cancel_safe(timeout=5.0)
        while (result := _next_result(pgconn)) is not None:
            if result.status == pq.ExecStatus.COPY_OUT:  # libpq repeats it while copying
                _skip_copy_data(pgconn)
    except (psycopg.Error, OSError):
        pass


def _skip_copy_data(pgconn: Any) -> None:
    while True:
        nbytes, _ = pgconn.get_copy_data(1)
        if nbytes == 0:
            _wait(pgconn)
            pgconn.consume_input()
        elif nbytes < 0:
            return
