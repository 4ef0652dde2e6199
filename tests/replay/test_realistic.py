"""The importers on a few hundred realistic inputs (see tests/replay/realistic.py): at least 98%
imported right, the rest refused with a line that says why, never a traceback, never a planted
credential in clear."""

from __future__ import annotations

from tests.replay.realistic import cases, measure


def test_realistic_inputs_are_imported_right() -> None:
    all_cases = cases()
    numbers = measure(all_cases)
    assert numbers["total"] >= 300
    assert not numbers["wrong"], numbers["wrong"][:5]
    assert numbers["right"] >= 0.98 * numbers["total"]
    for line in numbers["refused"]:
        assert "\n" not in line and "CANARY" not in line
    # every shape of every source is exercised and mostly right
    assert all(n >= 10 for n in numbers["by_shape"].values()), numbers["by_shape"]
