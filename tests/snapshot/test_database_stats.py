"""The database facet's statistics helpers: bounds kept typed, distinct counts made absolute."""

from __future__ import annotations

import math

import pytest

from repro.snapshot.db.stats import distinct_count, typed_bound, typed_bounds


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("1", 1),
        ("-5", -5),
        ("1.50", 1.5),
        ("0.001", 0.001),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("1234567890.123456789", "1234567890.123456789"),  # a double would round it
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
    ],
)
def test_typed_bound(text: str, typed: object) -> None:
    assert typed_bound(text) == typed
    assert type(typed_bound(text)) is type(typed)
    assert typed_bounds([text]) == [typed]


def test_typed_bounds_of_hostile_numbers() -> None:
    """Captured data is hostile: digits past what Python parses stay text, never a crash."""
    huge = "9" * 5000
    assert typed_bounds(["1", huge]) == [1, huge]
    assert typed_bounds(["--5", "1"]) == ["--5", 1]


def test_distinct_count() -> None:
    assert distinct_count(12.0, 1000.0) == 12.0
    assert distinct_count(-0.5, 1000.0) == 500.0
    assert distinct_count(-0.5, None) == math.inf  # unknown size: assume many
    assert distinct_count(None, 1000.0) is None
