"""COPY text escaping (repro.mask.copy_stream): the fast path changes nothing."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql

from repro.mask.copy_stream import _ESCAPES, column_values, escape, unescape
from tests.helpers.pg import PgServer, fresh_database

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "\\", "\t", "\n", "\r", "a\\tb", "\\N", "x\ty\nz\r\\"]
)


@given(texts)
def test_escape_is_copys_escaping_and_unescape_undoes_it(text: str) -> None:
    assert escape(text) == text.translate(_ESCAPES)
    assert "\t" not in escape(text) and "\n" not in escape(text)
    assert unescape(escape(text)) == text


class Interrupted(Exception):
    """Stands in for KeyboardInterrupt (which pytest itself would take as a stop)."""


def test_a_caller_that_stops_reading_column_values_leaves_a_transaction_that_rolls_back(
    postgres_15: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The distinct values read while masks are built and verified: Ctrl-C lands in the
    caller's loop, with the COPY suspended mid-way. Leaving ``column_values`` cancels it
    before the transaction around it unwinds."""
    with (
        fresh_database(postgres_15.dsn, prefix="column_values") as dsn,
        psycopg.connect(dsn) as conn,
    ):
        conn.execute(
            "CREATE TABLE t AS SELECT i AS id, 'v' || i AS s FROM generate_series(1, 5000) i"
        )
        conn.commit()
        with pytest.raises(Interrupted), conn.transaction():
            query = sql.SQL("SELECT s FROM t ORDER BY id")
            with column_values(conn, query) as values:
                for _ in values:
                    raise Interrupted
        assert "error ignored" not in caplog.text
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (5000,)
