"""What a masked copy wrote, for its verification: the digests of the distinct masked values
of a column, each judged as the leak check judges a value found in the target (identifying or
common), kept as 64-bit integer arrays (8 bytes a value, not a Python int in a set).

The leak check then compares these with the digests of the source values read by the same
copy, instead of reading every masked column of the target back with a DISTINCT query: the
target was empty and holds only what the copy wrote. Its row, NULL and empty counts and its
constraints are still read from the target itself.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _digests() -> array[int]:
    return array("q")  # Python's str hash is a signed 64-bit integer


@dataclass
class Written:
    identifying: array[int] = field(default_factory=_digests)
    common: array[int] = field(default_factory=_digests)

    def add(self, values: list[str], transform: Any, known: set[int] | None = None) -> None:
        """``values``: distinct non-empty outputs of ``transform`` (a batch's). ``known``: the
        digests of every source value to compare with, when they are all known before the copy
        (an avoid set): only written values among them can be found, so only they are kept
        (and judged)."""
        if known is not None:
            values = [value for value in values if hash(value) in known]
            if not values:
                return
        judge = judgement(transform)
        if isinstance(judge, bool):
            (self.identifying if judge else self.common).extend(map(hash, values))
            return
        for value in values:
            (self.identifying if judge(value) else self.common).append(hash(value))

    def merge(self, other: Written) -> None:
        self.identifying.extend(other.identifying)
        self.common.extend(other.common)

    def found(self, seen: set[int]) -> tuple[int, int]:
        """How many distinct written values are source values (their digests in ``seen``):
        (identifying ones, common ones)."""
        if not seen:
            return 0, 0
        return len(seen.intersection(self.identifying)), len(seen.intersection(self.common))


def judgement(transform: Any) -> bool | Callable[[str], bool]:
    """How ``transform``'s outputs are judged: a constant when the judgement does not depend
    on the value (a fake email is identifying, a fake name common), else the judge itself (a
    mask identifies when enough characters are masked)."""
    inner = getattr(transform, "inner", transform)  # a unique mapping judges as its transformer
    judge = getattr(inner, "identifying", None)
    if judge is None:
        return True  # unknown: the strict answer
    if not getattr(inner, "judges_by_value", True):
        return bool(judge(""))
    return judge  # type: ignore[no-any-return]
