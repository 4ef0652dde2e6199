"""Masking one table's COPY stream on more than one core.

The work per row is Python (split, unescape, keyed transforms, escape), so one process masks
at a fraction of what a raw COPY pipe moves. Here forked worker processes mask whole batches
(~256 KB of whole rows) while this process reads the next batches from the source and writes
finished ones to the target, in order. The output is byte for byte what
:func:`repro.mask.copy_stream.transform_rows` makes in one process: a batch holds whole rows,
and every transform is a pure function of its value (its cache only remembers outputs).

Workers are forked once the table's transforms exist, so nothing is pickled to them (the key
included); batches go to them and masked batches, counts and the salted hashes of source
and written values come back (a forked child shares the parent's string-hash salt, so its
hashes match the parent's). They ignore Ctrl-C and SIGTERM's handler: the parent unwinds,
cancels what is queued and waits for the batch in hand. A worker that dies is one clear
error, not a hang.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from repro.errors import DataGenerationError
from repro.mask.copy_stream import Counts, LeafTracking, Tracking, Transform, transform_rows
from repro.mask.written import Written

# Batches in flight per worker: enough that a worker never waits for the reader, few enough
# that memory stays a few MB.
IN_FLIGHT_PER_WORKER = 3
# Below this many rows (the planner's estimate) forking costs more than it saves.
MIN_ROWS = 20_000


@dataclass(frozen=True)
class _Job:
    width: int
    transforms: dict[int, Transform]
    tracked: tuple[int, ...]  # the columns whose source and written values come back hashed
    # Tracked columns whose source hashes are an avoid set filled before the copy: the set
    # (inherited by the fork, never sent), against which written values are kept; their
    # source hashes need not come back.
    known: Mapping[int, set[int]]


# The table being masked, set before the workers fork (they inherit it; nothing is pickled).
_job: _Job | None = None

_BatchResult = tuple[
    bytes, int, list[int], list[int], dict[int, list[int]], dict[int, int], dict[int, Written]
]


def available_workers() -> int:
    """Cores this process may use (cpusets honoured); 1 where fork is not available."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_parallelize(
    tracking: Mapping[int, Tracking | LeafTracking] | None, rows_estimate: int | None
) -> bool:
    """Whether a table is worth workers: enough rows, and no container column (their leaf
    tracking lives in the transform itself, in this process)."""
    if rows_estimate is None or rows_estimate < MIN_ROWS:
        return False
    return not any(isinstance(t, LeafTracking) for t in (tracking or {}).values())


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}
_PR_SET_PDEATHSIG = 1


def _worker_start(parent: int) -> None:
    # The parent owns interruption: Ctrl-C reaches the whole process group, and the parent's
    # SIGTERM handler (raise KeyboardInterrupt) must not run here and print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)  # blocked while forking
    # A parent killed outright (SIGKILL, OOM) sends no "stop": the siblings keep the task
    # pipe open, so a worker would wait for work forever, holding the command's stdout.
    # The kernel ends it with its parent instead (Linux; elsewhere the stop is the only way).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent was gone before that took effect
        os._exit(1)


def _ready() -> None:
    """A first task: submitting it forks every worker."""


def _mask_batch(chunk: bytes) -> _BatchResult:
    job = _job
    if job is None:  # a worker forked outside transform_rows_parallel
        raise RuntimeError("no masking job in this worker")
    counts = Counts()
    tracking = {
        i: Tracking(collect=False, seen=job.known[i]) if i in job.known else Tracking()
        for i in job.tracked
    }
    out = b"".join(transform_rows([chunk], job.width, job.transforms, counts, tracking=tracking))
    seen = {i: list(t.seen) for i, t in tracking.items() if t.collect}
    unchanged = {i: t.unchanged for i, t in tracking.items()}
    written = {i: t.written for i, t in tracking.items()}
    return out, counts.rows, counts.nulls, counts.empties, seen, unchanged, written


def transform_rows_parallel(
    chunks: Iterable[bytes],
    width: int,
    transforms: dict[int, Transform],
    counts: Counts,
    *,
    workers: int,
    tracking: Mapping[int, Tracking] | None = None,
) -> Generator[bytes, None, None]:
    """:func:`transform_rows` with the masking done by ``workers`` forked processes.

    ``chunks`` must hold whole rows each (as :func:`repro.pg.copy_out.copy_out` hands them
    over). Counts and tracking are merged here as batches come back,
    in order."""
    global _job
    if _job is not None:
        raise RuntimeError("one parallel masking at a time")
    tracks = dict(tracking or {})
    counts.nulls = [0] * width
    counts.empties = [0] * width
    _job = _Job(
        width,
        dict(transforms),
        tuple(tracks),
        {i: t.seen for i, t in tracks.items() if not t.collect},
    )
    # Ctrl-C or SIGTERM while the workers fork would leave one unknown to the executor (and
    # never told to stop): interruptions wait until every worker is forked and registered.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )
        executor.submit(_ready)  # with "fork", the first task starts every worker
    except BaseException:
        _job = None
        raise
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    pending: deque[Future[_BatchResult]] = deque()

    def merged(future: Future[_BatchResult]) -> bytes:
        try:
            out, rows, nulls, empties, seen, unchanged, written = future.result()
        except BrokenProcessPool:
            raise DataGenerationError(
                "a masking worker process died (out of memory, or killed)",
                hint="nothing was kept; run again with --jobs 1 to mask in one process",
            ) from None
        counts.rows += rows
        for i in range(width):
            counts.nulls[i] += nulls[i]
            counts.empties[i] += empties[i]
        for i, hashes in seen.items():
            tracks[i].seen.update(hashes)
        for i, n in unchanged.items():
            tracks[i].unchanged += n
        for i, blocks in written.items():
            tracks[i].written.merge(blocks)
        return out

    try:
        for chunk in chunks:
            pending.append(executor.submit(_mask_batch, bytes(chunk)))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield merged(pending.popleft())
        while pending:
            yield merged(pending.popleft())
    finally:
        # Normally nothing is queued here; on an error or Ctrl-C the queued batches are
        # dropped and the workers finish the batch in hand, then exit.
        executor.shutdown(wait=True, cancel_futures=True)
        _job = None
