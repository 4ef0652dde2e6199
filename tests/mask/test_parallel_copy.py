"""Masking in forked worker processes (repro.mask.parallel_copy) against one process.

The property: for any rows (escapes, NULLs, empty strings, non-ASCII) cut into any whole-row
batches, the workers' output, counts and tracking are exactly what transform_rows makes.
Then the ways it can go wrong: an error raised in a worker keeps its class and hint, a worker
killed mid-batch is one clear error, and no worker outlives the copy.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.errors import DataGenerationError, ReproError
from repro.mask.copy_stream import Counts, Tracking, Transform, escape, transform_rows
from repro.mask.parallel_copy import transform_rows_parallel
from repro.mask.transforms import build
from repro.replay.sandbox import SandboxError
from tests.helpers.masking import assert_same_counts_and_tracking

KEY = b"parallel-copy-test-key-0123456789"
WIDTH = 4


def transformer(spec: str) -> Transform:
    return build(spec, key=KEY, column="c", type_name="text", max_length=None, nullable=True)


TRANSFORMS: dict[int, Transform] = {
    0: transformer("fake:email"),
    2: transformer("mask:keep_last=2"),
    3: transformer("hash"),
}

fields = st.one_of(
    st.none(),
    st.just(""),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["a\tb", "back\\slash", "line\nbreak", "Zoë", "x@y.example", "+1 555"]),
)
rows_strategy = st.lists(st.tuples(*[fields] * WIDTH), min_size=1, max_size=60)


def copy_text(rows: list[tuple[str | None, ...]]) -> list[bytes]:
    return [
        ("\t".join("\\N" if v is None else escape(v) for v in row) + "\n").encode() for row in rows
    ]


def batches(lines: list[bytes], cuts: list[int]) -> list[bytes]:
    """Whole-row batches, cut after the given row numbers."""
    out, start = [], 0
    for cut in sorted({c % len(lines) for c in cuts} | {len(lines)}):
        if cut > start:
            out.append(b"".join(lines[start:cut]))
            start = cut
    return out


def trackings() -> dict[int, Tracking]:
    # column 2's source hashes are an avoid set filled before the copy: nothing collected
    return {0: Tracking(), 2: Tracking(seen={1, 2, 3}, collect=False), 3: Tracking()}


@settings(max_examples=25, deadline=None)
@given(rows=rows_strategy, cuts=st.lists(st.integers(min_value=0, max_value=59), max_size=6))
def test_workers_make_exactly_what_one_process_makes(
    rows: list[tuple[str | None, ...]], cuts: list[int]
) -> None:
    chunks = batches(copy_text(rows), cuts)
    one_counts, one_tracking = Counts(), trackings()
    one = b"".join(
        transform_rows(chunks, WIDTH, dict(TRANSFORMS), one_counts, tracking=one_tracking)
    )
    two_counts, two_tracking = Counts(), trackings()
    two = b"".join(
        transform_rows_parallel(
            iter(chunks), WIDTH, dict(TRANSFORMS), two_counts, workers=2, tracking=two_tracking
        )
    )
    assert two == one
    assert_same_counts_and_tracking(two_counts, two_tracking, one_counts, one_tracking)
    for i in one_tracking:
        seen = one_tracking[i].seen | {hash(escape(v)) for row in rows for v in row if v}
        assert two_tracking[i].written.found(seen) == one_tracking[i].written.found(seen)


def failing(value: str) -> str:
    raise DataGenerationError(f"cannot mask {len(value)} characters", hint="use another spec")


def dying(value: str) -> str:
    os.kill(os.getpid(), signal.SIGKILL)
    return value


def many_batches() -> Iterator[bytes]:
    for i in range(50):
        yield f"value{i}\tkept\n".encode() * 10


def test_an_error_in_a_worker_keeps_its_class_and_hint() -> None:
    with pytest.raises(DataGenerationError) as raised:
        list(transform_rows_parallel(many_batches(), 2, {0: failing}, Counts(), workers=2))
    assert raised.value.one_line() == "cannot mask 6 characters (use another spec)"
    assert not multiprocessing.active_children()


def test_a_killed_worker_is_one_clear_error_not_a_hang() -> None:
    with pytest.raises(DataGenerationError, match="worker process died"):
        list(transform_rows_parallel(many_batches(), 2, {0: dying}, Counts(), workers=2))
    assert not multiprocessing.active_children()


def test_a_consumer_that_stops_early_leaves_no_worker() -> None:
    rows = transform_rows_parallel(many_batches(), 2, {0: str.upper}, Counts(), workers=2)
    assert next(rows).startswith(b"VALUE0\tkept\n")
    rows.close()  # the sink failed: the generator is closed mid-table
    assert not multiprocessing.active_children()


@pytest.mark.parametrize(
    "error",
    [
        DataGenerationError("no room", hint="widen the column"),
        ReproError("plain"),
        SandboxError("app did not start", log_tail=["boom"]),
    ],
)
def test_repro_errors_cross_processes_whole(error: ReproError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert back.one_line() == error.one_line()
    assert vars(back) == vars(error)
