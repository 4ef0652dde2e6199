"""Zeller's minimizing delta debugging (ddmin), pure: no Docker, no clock, no I/O.

The items are the applicable differences between a good and a bad environment; a *test* of a
subset applies those differences to the good one and says whether the failure shows:

- ``FAIL``: the failure reproduced (the subset is enough to cause it),
- ``PASS``: it did not,
- ``UNRESOLVED``: no verdict about the bug (the sandbox broke, a different failure).

:func:`ddmin` narrows the full set (which must FAIL) to a *1-minimal* one: removing any single
item makes the failure go away (or the test unresolved). Tests run in batches of ``jobs``
(parallel sandboxes): within one round the subsets, then the complements, are tried in order,
``jobs`` at a time, and the first failing one in list order wins, so the result does not depend
on which sandbox finished first. Every subset's outcome is cached; a repeated subset costs
nothing. ``budget`` caps the number of tests actually run: when it is spent the current set is
returned with ``minimal=False``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    FAIL = "fail"  # the failure reproduced
    PASS = "pass"  # it did not
    UNRESOLVED = "unresolved"  # no verdict about the bug


Subset = tuple[int, ...]  # indices into the items, ascending
# Runs the given subsets (at most ``jobs`` at once) and returns their outcomes in order.
BatchTest = Callable[[Sequence[Subset]], list[Outcome]]


class BudgetSpent(Exception):
    """The cap on tests is reached; ddmin stops with what it has."""


@dataclass
class Search:
    """The state and result of one ddmin run."""

    size: int  # number of items
    jobs: int = 1
    budget: int | None = None  # tests allowed (cache hits are free); None: unbounded
    cache: dict[Subset, Outcome] = field(default_factory=dict)
    tests_run: int = 0
    hits: int = 0  # lookups answered from the cache
    history: list[tuple[Subset, Outcome]] = field(default_factory=list)  # in order of running
    result: Subset = ()
    minimal: bool = False  # the result is proven 1-minimal

    def outcomes(self, subsets: Sequence[Subset], run: BatchTest) -> list[Outcome]:
        """The cached outcomes, running the missing ones (within the budget)."""
        missing = list(dict.fromkeys(s for s in subsets if s not in self.cache))
        self.hits += sum(1 for s in subsets if s in self.cache)
        if missing:
            if self.budget is not None:
                room = self.budget - self.tests_run
                if room <= 0:
                    raise BudgetSpent
                missing = missing[:room]
            results = run(missing)
            if len(results) != len(missing):
                raise ValueError("the test returned a different number of outcomes")
            for subset, outcome in zip(missing, results, strict=True):
                self.cache[subset] = outcome
                self.history.append((subset, outcome))
            self.tests_run += len(missing)
        known = [self.cache.get(s) for s in subsets]
        if any(o is None for o in known):  # part of the batch fell outside the budget
            first_fail = next(
                (i for i, o in enumerate(known) if o is Outcome.FAIL), len(known)
            )
            if any(o is None for o in known[:first_fail]):
                raise BudgetSpent
        return [o if o is not None else Outcome.UNRESOLVED for o in known]

    def first_failing(self, candidates: Sequence[Subset], run: BatchTest) -> Subset | None:
        """The first candidate (in list order) that FAILs, testing ``jobs`` at a time."""
        for start in range(0, len(candidates), max(1, self.jobs)):
            chunk = candidates[start : start + max(1, self.jobs)]
            for subset, outcome in zip(chunk, self.outcomes(chunk, run), strict=True):
                if outcome is Outcome.FAIL:
                    return subset
        return None


def split(items: Subset, parts: int) -> list[Subset]:
    """``items`` in ``parts`` contiguous, nearly equal, non-empty pieces."""
    parts = max(1, min(parts, len(items)))
    out: list[Subset] = []
    start = 0
    for index in range(parts):
        end = start + (len(items) - start) // (parts - index)
        out.append(items[start:end])
        start = end
    return out


def ddmin(search: Search, run: BatchTest, known_failing: Subset | None = None) -> Search:
    """Narrow ``range(search.size)`` (or ``known_failing``) to a 1-minimal failing subset.

    The caller has established that the starting set FAILs and the empty set does not (the
    endpoints); they are put in the cache as such if not there yet."""
    current: Subset = (
        tuple(range(search.size)) if known_failing is None else tuple(sorted(known_failing))
    )
    search.cache.setdefault(current, Outcome.FAIL)
    search.cache.setdefault((), Outcome.PASS)
    search.result = current
    granularity = 2
    try:
        while len(current) >= 2:
            pieces = split(current, granularity)
            found = search.first_failing(pieces, run)
            if found is not None:
                current, granularity = found, 2
                search.result = current
                continue
            complements = [tuple(i for i in current if i not in set(p)) for p in pieces]
            if granularity == 2:
                complements = []  # with two pieces the complements are the pieces
            found = search.first_failing(complements, run) if complements else None
            if found is not None:
                current, granularity = found, max(granularity - 1, 2)
                search.result = current
                continue
            if granularity >= len(current):
                break  # every single removal tried: 1-minimal
            granularity = min(len(current), granularity * 2)
        search.minimal = True
    except BudgetSpent:
        search.minimal = False
    search.result = current
    return search
