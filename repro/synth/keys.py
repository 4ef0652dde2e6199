"""Keys by construction: composite unique keys as mixed-radix digits of a shuffled row
position, and foreign keys as picks among parent rows."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from repro.pg.meaning import seed_of
from repro.pg.tables import ForeignKey
from repro.synth.columns import Shuffle
from repro.synth.value_spaces import Ints, mix64


@dataclass
class Group:
    """Part of a composite unique key: the columns of one foreign key, or one free column."""

    columns: tuple[str, ...]
    fk: ForeignKey | None
    radix: int | None  # distinct values it can take (None: unbounded)
    desired: int | None = None  # distinct values its statistics ask for


def digit_radix(group: Group, n: int) -> int:
    if group.radix is None:
        return group.desired or n
    return min(group.radix, group.desired or group.radix)


def digit(shuffle: Shuffle, radices: list[int | None], index: int) -> Callable[[Ints], Ints]:
    """Digit ``index`` of the row's shuffled position in mixed radix. Each digit is offset
    by a hash of the digits before it: still one tuple per position (for fixed earlier
    digits the offset is fixed), but the slow digits no longer all start at zero."""
    last = len(radices) - 1

    def digits(rows: Ints) -> Ints:
        q = shuffle(rows)
        salt = np.zeros(len(rows), dtype=np.uint64)
        for i, radix in enumerate(radices[: index + 1]):
            offset = (salt % np.uint64(radix)).astype(np.int64) if radix else 0
            if i == last:
                d = q if radix is None else (q + offset) % radix
            else:
                assert radix is not None
                d = (q % radix + offset) % radix
                q = q // radix
            if i == index:
                return d
            # 64-bit multiply-and-add (wrapping), then a xorshift: an offset spread evenly
            # over any radix (a small multiplier shares factors with some radices)
            salt = salt * np.uint64(6364136223846793005) + d.astype(np.uint64) + np.uint64(1)
            salt ^= salt >> np.uint64(29)
        raise AssertionError("unreachable")

    return digits


def spread(digits: Callable[[Ints], Ints], stride: int, parents: int) -> Callable[[Ints], Ints]:
    """Digit d -> parent row (d * stride) mod parents: distinct digits, distinct parents,
    spread over the whole table rather than its first rows."""

    def rows_of(rows: Ints) -> Ints:
        return (digits(rows) * stride) % parents

    return rows_of


def coprime_stride(n: int, seed: int) -> int:
    if n <= 1:
        return 1
    stride = max(1, int(n * 0.381966)) + seed % 13
    while math.gcd(stride, n) != 1:
        stride += 1
    return stride % n or 1


def parent_rows_of(values: Iterable[str], parents: int) -> list[int]:
    """The parent rows the most common FK values stand for: the same number when the
    parent's key counts up from 1 (identity columns do) and that row is free, otherwise a
    stable pick among the free rows: distinct values, distinct parents, while they last."""
    taken: set[int] = set()
    out = []
    for value in values:
        try:
            row = int(value) - 1
        except ValueError:
            row = -1
        if not 0 <= row < parents or row in taken:
            row = seed_of(value) % parents
            if len(taken) < parents:
                while row in taken:
                    row = (row + 1) % parents
        taken.add(row)
        out.append(row)
    return out


def hashes(seed: int, rows: Ints) -> npt.NDArray[np.uint64]:
    """A random-looking 64-bit number per row (splitmix64), the same for a seed and row."""
    return mix64(rows, seed)


def uniform(seed: int, rows: Ints) -> npt.NDArray[np.float64]:
    """A number in [0, 1) per row, the same for a seed and row."""
    return (hashes(seed, rows) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class ParentIndex:
    """A table's slots grouped by the texts of some of its columns: which parent rows a
    child may point at when some of its key columns are already fixed (the tenant)."""

    def __init__(self, values: list[tuple[str, ...]], rows: Ints) -> None:
        self.codes: dict[tuple[str, ...], int] = {}
        slot_codes = np.fromiter(
            (self.codes.setdefault(v, len(self.codes)) for v in values),
            dtype=np.int64,
            count=len(values),
        )
        self.order = np.lexsort((rows, slot_codes))  # slots by value, then by row
        self.sorted_codes = slot_codes[self.order]
        self.sorted_rows = rows[self.order]
        every = np.arange(len(self.codes), dtype=np.int64)
        self.starts = np.searchsorted(self.sorted_codes, every, side="left")
        self.ends = np.searchsorted(self.sorted_codes, every, side="right")
        self.span = int(rows.max()) + 2 if len(rows) else 1

    def pick(
        self,
        keys: list[tuple[str, ...]],
        seed: int,
        rows: Ints,
        *,
        before: bool = False,
        share: float = 1.0,
        turns: Ints | None = None,
    ) -> Ints:
        """For each row, a slot whose values are ``keys[i]`` (-1: none). ``before``: only
        slots of lower candidate number than the row (a self-reference then forms a forest,
        never a cycle); ``share``: only the first share of each group's slots (so many
        distinct parents); ``turns``: each row's turn in its group (instead of a hash), so
        rows of distinct turns get distinct slots while the group has enough."""
        codes = np.fromiter((self.codes.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        out = np.full(len(keys), -1, dtype=np.int64)
        found = np.flatnonzero(codes >= 0)
        if not len(found):
            return out
        code = codes[found]
        start, count = self.starts[code], self.ends[code] - self.starts[code]
        if share < 1.0:
            count = np.maximum(np.ceil(count * share).astype(np.int64), 1)
        if before:
            combined = self.sorted_codes * self.span + self.sorted_rows
            limit = np.searchsorted(combined, code * self.span + rows[found], side="left")
            count = np.minimum(count, limit - start)
        ok = count > 0
        if turns is not None:
            step = turns[found[ok]] % count[ok]
        else:
            step = (hashes(seed, rows[found[ok]]) % count[ok].astype(np.uint64)).astype(np.int64)
        out[found[ok]] = self.order[start[ok] + step]
        return out
