"""COPY text in and out (repro.mask.copy_stream): the fast paths change nothing.

Escaping takes four C scans instead of a per-character table; masking goes column by column
and masks each distinct value of a batch once. Both are held to the plain, field-by-field
way of doing it."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql

from repro.mask.copy_stream import (
    _ESCAPES,
    NULL,
    Counts,
    Tracking,
    Transform,
    column_values,
    could_change,
    escape,
    transform_rows,
    unescape,
)
from repro.mask.transforms import build
from tests.helpers.masking import assert_same_counts_and_tracking
from tests.helpers.pg import PgServer, fresh_database

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", "\\", "\t", "\n", "\r", "a\\tb", "\\N", "x\ty\nz\r\\"]
)


@given(texts)
def test_escape_is_copys_escaping_and_unescape_undoes_it(text: str) -> None:
    assert escape(text) == text.translate(_ESCAPES)
    assert "\t" not in escape(text) and "\n" not in escape(text)
    assert unescape(escape(text)) == text


def _transformer(spec: str) -> Transform:
    key = b"copy-stream-test-key-0123456789"
    return build(spec, key=key, column="c", type_name="text", max_length=None, nullable=True)


def _row_by_row(
    lines: list[str], transforms: dict[int, Transform], tracking: dict[int, Tracking]
) -> tuple[bytes, Counts]:
    """The plain way: every field of every row, one at a time."""
    width = len(lines[0].split("\t"))
    counts = Counts(rows=len(lines), nulls=[0] * width, empties=[0] * width)
    out = []
    for line in lines:
        fields = line.split("\t")
        for i, transform in transforms.items():
            if fields[i] == NULL:
                counts.nulls[i] += 1
            elif fields[i] == "":
                counts.empties[i] += 1
            else:
                plain = unescape(fields[i])
                new = transform(plain)
                tracking[i].seen.add(hash(plain))
                if new == plain and could_change(transform, plain):
                    tracking[i].unchanged += 1
                fields[i] = NULL if new is None else escape(new)
        out.append("\t".join(fields) + "\n")
    return "".join(out).encode(), counts


field_values = st.one_of(
    st.just(NULL),
    st.just(""),
    texts.map(escape),
    st.sampled_from(["+49 160 1234", "---", "x", "Anna Weber"]),  # repeats; nothing to mask
)


@given(
    rows=st.lists(st.tuples(field_values, field_values, field_values), min_size=1, max_size=50),
    batch=st.integers(min_value=1, max_value=50),
)
def test_masking_column_by_column_gives_what_field_by_field_gives(
    rows: list[tuple[str, str, str]], batch: int
) -> None:
    """Output bytes, NULL and empty counts, source digests and rows left unchanged: the same,
    for repeated values, escapes, NULLs, empties and values a mask cannot change."""
    lines = ["\t".join(row) for row in rows]
    chunks = [
        "".join(line + "\n" for line in lines[at : at + batch]).encode()
        for at in range(0, len(lines), batch)
    ]
    specs = {0: "mask:keep_last=4", 2: "keep"}
    want_tracking = {i: Tracking() for i in specs}
    want, want_counts = _row_by_row(
        lines, {i: _transformer(s) for i, s in specs.items()}, want_tracking
    )
    tracking = {i: Tracking() for i in specs}
    counts = Counts()
    transforms = {i: _transformer(s) for i, s in specs.items()}
    got = b"".join(transform_rows(chunks, 3, transforms, counts, tracking=tracking))
    assert got == want
    assert_same_counts_and_tracking(counts, tracking, want_counts, want_tracking)


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


def test_the_garbage_collector_is_back_as_it_was_after_each_batch_and_on_errors() -> None:
    import gc

    def seen_by_transform(value: str) -> str:
        states.append(gc.isenabled())
        if value == "boom":
            raise ValueError("cannot mask")
        return value.upper()

    states: list[bool] = []
    assert gc.isenabled()
    rows = transform_rows([b"a\n", b"b\n"], 1, {0: seen_by_transform}, Counts())
    assert next(rows) == b"A\n"
    assert gc.isenabled()  # between batches, the caller's code runs with it on
    assert next(rows) == b"B\n"
    with pytest.raises(ValueError):
        list(transform_rows([b"boom\n"], 1, {0: seen_by_transform}, Counts()))
    assert gc.isenabled()
    assert states == [False, False, False]  # off while masking
    gc.disable()
    try:
        list(transform_rows([b"c\n"], 1, {0: seen_by_transform}, Counts()))
        assert not gc.isenabled()  # left off when it was off
    finally:
        gc.enable()
