"""One table's generation plan: how every column of any row is rendered as COPY text.

Rows are numbered *candidates*; the plan writes ``n`` of them. Usually candidate r is row r.
A table with conditions PostgreSQL judges (:mod:`repro.synth.judge`) is planned with more
candidates than rows, and ``row_map`` lists the candidates kept: slot i of the table (what a
child's foreign key points at) is candidate ``row_map[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from repro.pg.tables import Table, UniqueIndex
from repro.synth.cells import MAX_WIDTH, Bools, Cells, copy_text, merge
from repro.synth.check_forms import NonNullCount
from repro.synth.check_parser import PairRule
from repro.synth.columns import ColumnPlan
from repro.synth.derived import Derived
from repro.synth.keys import uniform
from repro.synth.space_cells import ordered_cells
from repro.synth.table_checks import Judged
from repro.synth.value_spaces import NULL, Floats, Ints, Ordered


class Renderer(Protocol):
    """A column's values for any rows: as texts, one by one, or as cells, all at once."""

    def __call__(self, rows: Ints) -> list[str]: ...

    def cells(self, rows: Ints) -> Cells: ...


_ORDER_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


@dataclass
class TablePlan:
    table: Table
    n: int
    columns: list[str]  # written by COPY, in order
    renderers: dict[str, Renderer]
    column_plans: dict[str, ColumnPlan]
    pairs: list[PairRule]
    notes: list[str] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    # column -> the distinct values it should have when that is not the snapshot's own
    # figure (a foreign key whose parent table was scaled)
    caps: dict[str, int] = field(default_factory=dict)
    # column -> the most distinct values its rows can hold as planned (common values keep
    # their share: a tiny table has room for fewer others)
    limits: dict[str, int] = field(default_factory=dict)
    # how many of some columns are NULL: met after the row is rendered
    counts: list[NonNullCount] = field(default_factory=list)
    # conditions PostgreSQL judges on candidates, and unique indexes it dedupes them by
    judged: list[Judged] = field(default_factory=list)
    judged_uniques: list[UniqueIndex] = field(default_factory=list)
    seed: int = 0
    row_map: Ints | None = None
    # values and indexes of this table's rows, computed once for children's lookups
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def needs_judging(self) -> bool:
        return bool(self.judged or self.judged_uniques) and self.n > 0

    def keep(self, candidates: Ints) -> None:
        """Write these candidates (ascending), in this order: slots 0..len-1."""
        self.row_map = np.asarray(candidates, dtype=np.int64)
        self.n = len(self.row_map)
        self.cache.clear()
        # a column cannot hold more distinct values than the rows kept
        for figures in (self.caps, self.limits):
            for name, count in figures.items():
                figures[name] = min(count, self.n)

    def rows_of(self, slots: Ints) -> Ints:
        """The candidates at ``slots`` (a slot past the end wraps: a child planned for more
        rows than the judge kept still points at rows that exist)."""
        if self.row_map is None:
            return slots
        if len(self.row_map) == 0:
            return np.full(len(slots), -1, dtype=np.int64)
        return self.row_map[slots % len(self.row_map)]

    def chunk(self, start: int, end: int) -> str:
        """COPY text of slots [start, end), value by value (the reference :meth:`copy_bytes`
        is held to)."""
        return self.render(self.rows_of(np.arange(start, end, dtype=np.int64)))

    def copy_bytes(self, start: int, end: int) -> bytes:
        """COPY text of slots [start, end), the way a load writes it: a column at a time,
        by numpy (the same bytes as ``chunk(start, end).encode()``)."""
        rows = self.rows_of(np.arange(start, end, dtype=np.int64))
        columns = self.rendered_cells(rows)
        ordered = [columns[name] for name in self.columns]
        if not ordered or any(c.width > MAX_WIDTH for c in ordered):
            # a very wide column makes a matrix too large to be worth it: join strings
            texts = [c.texts() for c in ordered]
            return ("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n").encode()
        return copy_text(ordered)

    def render(self, rows: Ints, *, numbered: bool = False) -> str:
        """COPY text of candidates ``rows``; ``numbered``: each line ends with its candidate
        number (the judge's staging table has that column last)."""
        rendered = self.rendered(rows)
        columns = [rendered[name] for name in self.columns]
        if numbered:
            columns.append([str(r) for r in rows.tolist()])
        lines = map("\t".join, zip(*columns, strict=True))
        return "\n".join(lines) + "\n"

    def rendered(self, rows: Ints) -> dict[str, list[str]]:
        rendered: dict[str, list[str]] = {}
        for pair in self.pairs:
            a, b = self._pair_numbers(pair, rows)
            rendered[pair.left] = self.column_plans[pair.left].render_numbers(a, rows)
            rendered[pair.right] = self.column_plans[pair.right].render_numbers(b, rows)
        for rule in self.derived:
            target = self.column_plans[rule.target]
            assert isinstance(target.space, Ordered)
            values = self._derived_numbers(rule, rows)
            finite = ~np.isnan(values)
            out = np.full(len(rows), NULL, dtype=object)
            out[finite] = np.array(target.space.render(values[finite]), dtype=object)
            rendered[rule.target] = list(out.tolist())
        for name in self.columns:
            if name not in rendered:
                rendered[name] = self.renderers[name](rows)
        for count in self.counts:
            names = [c for c in count.columns if c in rendered]
            if len(names) != len(count.columns):
                continue
            keep = self._count_keep(count, names, rows)
            for i, name in enumerate(names):
                if not keep[:, i].all():
                    column = np.array(rendered[name], dtype=object)
                    column[~keep[:, i]] = NULL
                    rendered[name] = list(column.tolist())
        return rendered

    def rendered_cells(self, rows: Ints) -> dict[str, Cells]:
        """:meth:`rendered` as cells."""
        rendered: dict[str, Cells] = {}
        size = len(rows)
        for pair in self.pairs:
            a, b = self._pair_numbers(pair, rows)
            rendered[pair.left] = self.column_plans[pair.left].numbers_cells(a, rows)
            rendered[pair.right] = self.column_plans[pair.right].numbers_cells(b, rows)
        for rule in self.derived:
            target = self.column_plans[rule.target]
            assert isinstance(target.space, Ordered)
            values = self._derived_numbers(rule, rows)
            finite = np.flatnonzero(~np.isnan(values))
            unset = np.flatnonzero(np.isnan(values))
            rendered[rule.target] = merge(
                size,
                [
                    (finite, ordered_cells(target.space, values[finite])),
                    (unset, Cells.constant(NULL, len(unset))),
                ],
            )
        for name in self.columns:
            if name not in rendered:
                rendered[name] = self.renderers[name].cells(rows)
        for count in self.counts:
            names = [c for c in count.columns if c in rendered]
            if len(names) != len(count.columns):
                continue
            keep = self._count_keep(count, names, rows)
            for i, name in enumerate(names):
                cleared = np.flatnonzero(~keep[:, i])
                if len(cleared):
                    kept = np.flatnonzero(keep[:, i])
                    rendered[name] = merge(
                        size,
                        [
                            (kept, rendered[name].take(kept)),
                            (cleared, Cells.constant(NULL, len(cleared))),
                        ],
                    )
        return rendered

    def values(self, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The texts of ``columns`` in every slot (for children's lookups)."""
        key = ("values", columns)
        if key not in self.cache:
            rows = self.rows_of(np.arange(self.n, dtype=np.int64))
            texts = [self.renderers[c](rows) for c in columns]
            self.cache[key] = list(zip(*texts, strict=True)) if texts else []
        out: list[tuple[str, ...]] = self.cache[key]
        return out

    def _count_keep(self, count: NonNullCount, names: list[str], rows: Ints) -> Bools:
        """Between low and high of the columns stay set: exactly k of them picked by their
        NULL shares in the snapshot; a range from each column's own NULLs, corrected.
        Which of ``names`` (columns) each row keeps set."""
        m, size = len(names), len(rows)
        fixed = np.array([not self.table.columns[c].nullable for c in names])
        weights = np.array([self._set_share(c) for c in names], dtype=np.float64)
        keep = np.zeros((size, m), dtype=bool)
        if count.low == count.high:
            need = count.low - int(fixed.sum())
            keep[:, fixed] = True
            free = np.flatnonzero(~fixed)
            if need > 0 and len(free):
                # weighted picks without replacement: the largest (u ** (1 / w)) win
                u = np.stack([uniform(self.seed + int(i), rows) for i in free], axis=1)
                score = u ** (1.0 / np.maximum(weights[free], 1e-6))
                best = np.argsort(-score, axis=1)[:, :need]
                keep[np.arange(size)[:, None], free[best]] = True
        else:
            for i in range(m):
                keep[:, i] = fixed[i] | (uniform(self.seed + i, rows) < weights[i])
            for i in range(m):  # too few set: set more, in column order
                keep[(keep.sum(axis=1) < count.low), i] = True
            for i in reversed(range(m)):  # too many: clear the last ones
                if not fixed[i]:
                    keep[(keep.sum(axis=1) > count.high) & keep[:, i], i] = False
        return keep

    def _set_share(self, name: str) -> float:
        stats = self.table.columns[name].stats
        return 1.0 - stats.null_frac if stats is not None else 0.5

    def _derived_numbers(self, rule: Derived, rows: Ints) -> Floats:
        """``target = left op right``: the target's numbers, NaN (NULL) when a source is."""
        plans = self.column_plans
        a, b = plans[rule.left].numbers(rows), plans[rule.right].numbers(rows)
        out: Floats = {"+": np.add, "-": np.subtract, "*": np.multiply}[rule.op](a, b)
        return out

    def _pair_numbers(self, pair: PairRule, rows: Ints) -> tuple[Floats, Floats]:
        """``left op right`` on two ordered columns: where a row breaks it, the two values
        swap (both columns keep their distributions); equal values a strict rule forbids
        are moved a unit apart."""
        left, right = self.column_plans[pair.left], self.column_plans[pair.right]
        a, b = left.numbers(rows), right.numbers(rows)
        if pair.op in _ORDER_OPS:
            test = _ORDER_OPS[pair.op]
            both = ~(np.isnan(a) | np.isnan(b))
            bad = both & ~test(a, b)
            a[bad], b[bad] = b[bad], a[bad].copy()
            still = both & ~test(a, b)  # equal under a strict rule
            unit = max(_unit(left), _unit(right))
            if pair.op in ("<", "<="):
                b[still] = a[still] + unit
            else:
                a[still] = b[still] + unit
        elif pair.op == "<>":
            same = a == b
            b[same] = b[same] + _unit(right)
        return a, b


def _unit(plan: ColumnPlan) -> float:
    return plan.space.unit if isinstance(plan.space, Ordered) else 1.0
