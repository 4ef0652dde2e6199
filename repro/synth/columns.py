"""Which value each row of a column gets: the statistics, made exact.

Rows are first shuffled by a bijective affine map (``position = (a * row + b) mod n``), then
cut into consecutive runs of positions: the first ``null_frac * n`` positions are NULL, the
next runs are the most common values with their frequencies, and the rest cycle through the
column's other distinct values. So frequencies and distinct counts come out exact, not
merely likely, and the value of row r is a pure function of r: any chunk can be rendered
alone, in any order, and a child table can compute its parent's keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from repro.pg.tables import ColumnStats
from repro.synth.cells import Cells, merge
from repro.synth.space_cells import cells_of, ordered_cells
from repro.synth.value_spaces import NULL, Floats, Ints, Ordered, Space


@dataclass(frozen=True)
class Shuffle:
    """A bijection on [0, n): ``(a * row + b) mod n`` with gcd(a, n) = 1."""

    n: int
    a: int
    b: int

    @classmethod
    def seeded(cls, n: int, seed: int) -> Shuffle:
        if n <= 1:
            return cls(max(n, 1), 1, 0)
        # a multiplier near n times the golden ratio scatters neighbours well
        a = max(1, int(n * 0.6180339887) | 1) + 2 * (seed % 97)
        while math.gcd(a, n) != 1:
            a += 1
        return cls(n, a % n or 1, seed % n)

    @classmethod
    def identity(cls, n: int) -> Shuffle:
        return cls(max(n, 1), 1, 0)

    def __call__(self, rows: Ints) -> Ints:
        if self.a == 1 and self.b == 0:
            return rows
        # object-free int64 arithmetic: a < 2**31 and rows < 2**32 keep the product in range
        return (rows * self.a + self.b) % self.n


@dataclass
class Split:
    """How many rows are NULL, each most common value, and the rest; and how many distinct
    values the rest cycles through."""

    nulls: int
    mcv_rows: list[int]
    rest_rows: int
    rest_distinct: int

    @property
    def thresholds(self) -> Ints:
        """Cumulative ends of the runs: NULL, each MCV, rest."""
        runs = [self.nulls, *self.mcv_rows, self.rest_rows]
        return np.cumsum(np.asarray(runs, dtype=np.int64))


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Integers in proportion to ``weights`` that add up to ``total`` exactly."""
    if not weights or total <= 0:
        return [0] * len(weights)
    weight_sum = sum(weights) or 1.0
    raw = [total * w / weight_sum for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def split_rows(
    n: int,
    stats: ColumnStats | None,
    *,
    nullable: bool,
    unique: bool,
    mcv_count: int,
    space_size: int | None,
    default_distinct: int,
    default_null_frac: float = 0.0,
) -> Split:
    """The runs for ``n`` rows. ``mcv_count`` MCVs are used (those the plan could render),
    ``space_size`` caps the distinct values the rest can have; ``default_null_frac``: the
    NULLs of a nullable column without statistics."""
    null_frac = 0.0
    if nullable:
        null_frac = stats.null_frac if stats is not None else default_null_frac
    nulls = min(n, round(n * null_frac))
    non_null = n - nulls
    if unique or stats is None:
        distinct = non_null if unique else min(default_distinct, non_null)
        if space_size is not None:
            distinct = min(distinct, space_size)
        return Split(nulls, [], non_null, max(distinct, 1 if non_null else 0))
    freqs = list(stats.mcv_freqs[:mcv_count])
    total_distinct = min(stats.distinct(n) if stats.n_distinct < 0 else stats.n_distinct, non_null)
    covered_all = len(freqs) == stats.mcv_count and stats.mcv_frequency_sum + null_frac >= 0.9995
    if covered_all and freqs and total_distinct > len(freqs) + 0.5:
        # every value was a most common one, but at this size there are more values (a
        # scaled table, a grown parent): the common ones give up share in proportion
        factor = len(freqs) / total_distinct
        freqs = [f * factor for f in freqs]
    mcv_rows = [round(n * f) for f in freqs]
    if sum(mcv_rows) > non_null:
        mcv_rows = _largest_remainder(non_null, freqs)
    rest = non_null - sum(mcv_rows)
    # MCVs the snapshot did not keep (or the plan could not use) are among the rest
    rest_distinct = round(total_distinct) - len(freqs)
    covered = covered_all and sum(freqs) + null_frac >= 0.9995
    if (rest_distinct <= 0 or covered) and freqs:
        # every value is a most common one: the rest are rounding crumbs, spread over them
        mcv_rows = _largest_remainder(non_null, freqs)
        return Split(nulls, mcv_rows, 0, 0)
    rest_distinct = max(1, min(rest_distinct if rest_distinct > 0 else rest, rest))
    if space_size is not None:
        rest_distinct = min(rest_distinct, max(space_size - len(freqs), 1))
    return Split(nulls, mcv_rows, rest, rest_distinct if rest else 0)


# The most one column's table of formatted-once values may take as a byte matrix.
REST_TABLE_BYTES = 8 << 20


@dataclass
class ColumnPlan:
    """Renders one column for any set of rows."""

    name: str
    n: int
    shuffle: Shuffle
    split: Split
    mcv_texts: list[str]
    space: Space
    mcv_numbers: list[float] = field(default_factory=list)  # ordered spaces: MCVs as numbers
    rest_offset: int = 0  # the rest use space values [rest_offset, rest_offset + distinct)
    _thresholds: Ints = field(init=False, repr=False)
    _rest_texts: Any = field(init=False, default=None, repr=False)
    _rest_cells: Cells | None = field(init=False, default=None, repr=False)
    _mcv_cells: Cells | None = field(init=False, default=None, repr=False)
    _rest_wide: bool = field(init=False, default=False, repr=False)

    def __post_init__(self) -> None:
        self._thresholds = self.split.thresholds
        distinct = self.split.rest_distinct
        if 0 < distinct <= 200_000 and distinct * 2 <= max(self.n, 1):
            # few distinct values, each used by several rows: format each once
            ks = np.arange(self.rest_offset, self.rest_offset + distinct, dtype=np.int64)
            self._rest_texts = np.array(self.space.texts(ks), dtype=object)

    @property
    def ordered(self) -> bool:
        return isinstance(self.space, Ordered)

    def _runs(self, rows: Ints) -> tuple[Ints, Ints]:
        positions = self.shuffle(rows)
        runs = np.searchsorted(self._thresholds, positions, side="right")
        return positions, runs

    def _rest_ks(self, positions: Ints) -> Ints:
        start = int(self._thresholds[-2]) if len(self._thresholds) > 1 else 0
        return (positions - start) % max(self.split.rest_distinct, 1)

    def __call__(self, rows: Ints) -> list[str]:
        return self.texts(rows)

    def texts(self, rows: Ints) -> list[str]:
        positions, runs = self._runs(rows)
        out = np.empty(len(rows), dtype=object)
        rest_run = len(self._thresholds) - 1
        out[runs == 0] = NULL
        if self.mcv_texts:
            mcv = (runs > 0) & (runs < rest_run)
            if mcv.any():
                table = np.array(self.mcv_texts, dtype=object)
                out[mcv] = table[runs[mcv] - 1]
        rest = runs == rest_run
        if rest.any():
            ks = self._rest_ks(positions[rest])
            if self._rest_texts is not None:
                out[rest] = self._rest_texts[ks]
            else:
                out[rest] = self.space.texts(ks + self.rest_offset)
        # rows past every run (n smaller than asked): NULL-safe default, never happens in plans
        out[runs > rest_run] = NULL
        return list(out.tolist())

    def cells(self, rows: Ints) -> Cells:
        """:meth:`texts` as cells."""
        positions, runs = self._runs(rows)
        rest_run = len(self._thresholds) - 1
        pieces: list[tuple[Ints, Cells]] = []
        # rows past every run (n smaller than asked) are NULL too, as in texts()
        unset = np.flatnonzero((runs == 0) | (runs > rest_run))
        if len(unset):
            pieces.append((unset, Cells.constant(NULL, len(unset))))
        if self.mcv_texts:
            mcv = np.flatnonzero((runs > 0) & (runs < rest_run))
            if len(mcv):
                if self._mcv_cells is None:
                    self._mcv_cells = Cells.of_texts(self.mcv_texts)
                pieces.append((mcv, self._mcv_cells.take(runs[mcv] - 1)))
        rest = np.flatnonzero(runs == rest_run)
        if len(rest):
            ks = self._rest_ks(positions[rest])
            if self._rest_texts is not None:
                pieces.append((rest, self._rest_table(ks)))
            else:
                pieces.append((rest, cells_of(self.space, ks + self.rest_offset)))
        if len(pieces) == 1 and len(pieces[0][0]) == len(rows):
            return pieces[0][1]
        return merge(len(rows), pieces)

    def _rest_table(self, ks: Ints) -> Cells:
        """The formatted-once values ``ks`` as cells: from a matrix of them all when it is
        small, else encoded per chunk (a 200,000-value table of long texts would cost more
        memory than the whole load may use)."""
        texts = self._rest_texts
        if self._rest_cells is None and not self._rest_wide:
            widest = max((len(t.encode()) for t in texts.tolist()), default=0)
            if len(texts) * widest <= REST_TABLE_BYTES:
                self._rest_cells = Cells.of_texts(texts.tolist())
            else:
                self._rest_wide = True
        if self._rest_cells is not None:
            return self._rest_cells.take(ks)
        return Cells.of_texts(texts[ks].tolist())

    def numbers_cells(self, values: Floats, rows: Ints) -> Cells:
        """:meth:`render_numbers` as cells."""
        assert isinstance(self.space, Ordered)
        finite = np.flatnonzero(~np.isnan(values))
        if len(finite) == len(rows):
            return ordered_cells(self.space, values)
        unset = np.flatnonzero(np.isnan(values))
        return merge(
            len(rows),
            [
                (unset, self.cells(rows[unset])),
                (finite, ordered_cells(self.space, values[finite])),
            ],
        )

    def numbers(self, rows: Ints) -> Floats:
        """Ordered columns only: values as numbers, NaN for NULL (and unparsable MCVs)."""
        assert isinstance(self.space, Ordered)
        positions, runs = self._runs(rows)
        out = np.full(len(rows), np.nan)
        rest_run = len(self._thresholds) - 1
        if self.mcv_numbers:
            mcv = (runs > 0) & (runs < rest_run)
            table = np.asarray(self.mcv_numbers, dtype=np.float64)
            out[mcv] = table[runs[mcv] - 1]
        rest = runs == rest_run
        out[rest] = self.space.numbers(self._rest_ks(positions[rest]) + self.rest_offset)
        return out

    def render_numbers(self, values: Floats, rows: Ints) -> list[str]:
        """Texts for ``values`` (after a pair rule moved some), keeping MCV texts that do not
        parse as numbers and NULLs."""
        assert isinstance(self.space, Ordered)
        texts = self.texts(rows)
        finite = ~np.isnan(values)
        rendered = self.space.render(values[finite])
        out = np.array(texts, dtype=object)
        out[finite] = np.array(rendered, dtype=object)
        return list(out.tolist())
