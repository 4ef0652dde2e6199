"""ddmin on synthetic predicates (pure, no Docker): whatever the predicate, the result fails and
removing any one of its items does not (1-minimality); a single planted cause is found exactly;
the verdict cache never runs a subset twice; --jobs does not change the answer; the budget
stops the search with what it has."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from repro.bisect.ddmin import BatchTest, Outcome, Search, Subset, ddmin, split

Predicate = Callable[[Subset], Outcome]


def _predicate(causes: list[frozenset[int]], unresolved: set[Subset]) -> Predicate:
    def outcome(subset: Subset) -> Outcome:
        if subset in unresolved:
            return Outcome.UNRESOLVED
        chosen = set(subset)
        return Outcome.FAIL if any(c <= chosen for c in causes) else Outcome.PASS

    return outcome


def _runner(outcome: Predicate, seen: list[Subset]) -> BatchTest:
    def run(subsets: Sequence[Subset]) -> list[Outcome]:
        seen.extend(subsets)
        return [outcome(s) for s in subsets]

    return run


@st.composite
def problems(draw: st.DrawFn) -> tuple[int, list[frozenset[int]], set[Subset]]:
    size = draw(st.integers(1, 24))
    items = st.integers(0, size - 1)
    causes = draw(st.lists(st.frozensets(items, min_size=1, max_size=4), min_size=1, max_size=3))
    noise = draw(st.lists(st.frozensets(items, min_size=1), max_size=6))
    full = tuple(range(size))
    unresolved = {tuple(sorted(n)) for n in noise} - {full}
    return size, causes, unresolved


@settings(max_examples=300, deadline=None)
@given(problems(), st.integers(1, 4))
def test_result_fails_and_is_one_minimal(
    problem: tuple[int, list[frozenset[int]], set[Subset]], jobs: int
) -> None:
    size, causes, unresolved = problem
    outcome = _predicate(causes, unresolved)
    seen: list[Subset] = []
    search = ddmin(Search(size=size, jobs=jobs), _runner(outcome, seen))
    assert search.minimal
    assert outcome(search.result) is Outcome.FAIL
    for item in search.result:
        rest = tuple(i for i in search.result if i != item)
        assert outcome(rest) is not Outcome.FAIL, (search.result, item)
    assert len(seen) == len(set(seen)) == search.tests_run  # the cache: never twice
    assert () not in seen and tuple(range(size)) not in seen  # the endpoints are known


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 50), st.data())
def test_a_single_cause_is_found_exactly(size: int, data: st.DataObject) -> None:
    cause = data.draw(st.frozensets(st.integers(0, size - 1), min_size=1, max_size=2))
    outcome = _predicate([cause], set())
    search = ddmin(Search(size=size), _runner(outcome, []))
    assert set(search.result) == cause
    # Zeller's bound for one failure-inducing item: about 2 log2(n) tests.
    if len(cause) == 1 and size > 1:
        assert search.tests_run <= 2 * size.bit_length() + 2


@settings(max_examples=150, deadline=None)
@given(problems(), st.integers(2, 4))
def test_jobs_do_not_change_the_answer(
    problem: tuple[int, list[frozenset[int]], set[Subset]], jobs: int
) -> None:
    size, causes, unresolved = problem
    outcome = _predicate(causes, unresolved)
    one = ddmin(Search(size=size, jobs=1), _runner(outcome, []))
    many = ddmin(Search(size=size, jobs=jobs), _runner(outcome, []))
    assert many.result == one.result


@settings(max_examples=150, deadline=None)
@given(problems(), st.integers(0, 6))
def test_the_budget_stops_the_search_with_a_failing_set(
    problem: tuple[int, list[frozenset[int]], set[Subset]], budget: int
) -> None:
    size, causes, unresolved = problem
    outcome = _predicate(causes, unresolved)
    search = ddmin(Search(size=size, budget=budget), _runner(outcome, []))
    assert search.tests_run <= budget
    assert outcome(search.result) is Outcome.FAIL
    unbounded = ddmin(Search(size=size), _runner(outcome, []))
    if unbounded.tests_run <= budget:
        assert search.minimal and search.result == unbounded.result


@given(st.lists(st.integers(), max_size=40, unique=True), st.integers(1, 50))
def test_split_keeps_every_item_once_in_order(items: list[int], parts: int) -> None:
    pieces = split(tuple(items), parts)
    assert [i for p in pieces for i in p] == items
    assert all(pieces) or not items
