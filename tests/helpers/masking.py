"""Assertions shared by the masking tests (repro.mask.copy_stream, repro.mask.parallel_copy)."""

from __future__ import annotations

from collections.abc import Mapping

from repro.mask.copy_stream import Counts, Tracking


def assert_same_counts_and_tracking(
    got_counts: Counts,
    got_tracking: Mapping[int, Tracking],
    want_counts: Counts,
    want_tracking: Mapping[int, Tracking],
) -> None:
    """Two maskings of the same rows agree on what the verification uses: row, NULL and empty
    counts, and per tracked column its source digests and the rows left unchanged."""
    assert (got_counts.rows, got_counts.nulls, got_counts.empties) == (
        want_counts.rows,
        want_counts.nulls,
        want_counts.empties,
    )
    for i in want_tracking:
        assert got_tracking[i].seen == want_tracking[i].seen
        assert got_tracking[i].unchanged == want_tracking[i].unchanged
