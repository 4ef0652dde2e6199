"""The generation plan: per table, how many rows and how every column is rendered.

Everything that can go wrong is found here, before a row is loaded: unsupported types,
checks the generator cannot satisfy, unique keys with fewer possible values than rows,
foreign keys to tables that get no rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from repro.errors import DataGenerationError
from repro.pg.meaning import seed_of
from repro.pg.tables import Column, ColumnStats, DataModel, ForeignKey, Table, UniqueKey, scaled
from repro.synth import column_space
from repro.synth.check_parser import (
    ColumnRule,
    PairRule,
    ParsedCheck,
    admits,
)
from repro.synth.columns import ColumnPlan, Shuffle, split_rows
from repro.synth.derived import Derived
from repro.synth.keys import Group, coprime_stride, digit, digit_radix, parent_rows_of, spread
from repro.synth.table_checks import table_rules
from repro.synth.value_spaces import NULL, Ints, Listed, Ordered, Space, copy_escape

Renderer = Callable[[Ints], list[str]]
# Distinct values a column without statistics gets, as a share of its rows.
DEFAULT_DISTINCT_SHARE = 0.5
_ORDER_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


class Existing:
    """Rows a table already holds (``--append``): new keys must not meet theirs."""

    def __init__(self, rows: int, maxima: Mapping[str, str | None]) -> None:
        self.rows = rows
        self.maxima = dict(maxima)  # key column -> its largest value, as text


@dataclass
class Options:
    seed: int = 0
    scale: float = 1.0
    rows: Mapping[str, int] = field(default_factory=dict)
    tables: Iterable[str] | None = None
    existing: Mapping[str, Existing] = field(default_factory=dict)


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

    def chunk(self, start: int, end: int) -> str:
        """COPY text of rows [start, end)."""
        rows = np.arange(start, end, dtype=np.int64)
        texts = {name: self.renderers[name] for name in self.columns}
        rendered: dict[str, list[str]] = {}
        for pair in self.pairs:
            self._apply_pair(pair, rows, rendered)
        for rule in self.derived:
            self._apply_derived(rule, rows, rendered)
        for name, render in texts.items():
            if name not in rendered:
                rendered[name] = render(rows)
        lines = map("\t".join, zip(*(rendered[name] for name in self.columns), strict=True))
        return "\n".join(lines) + "\n"

    def _apply_derived(self, rule: Derived, rows: Ints, rendered: dict[str, list[str]]) -> None:
        """``target = left op right``: the target is computed, NULL when a source is."""
        plans = self.column_plans
        a, b = plans[rule.left].numbers(rows), plans[rule.right].numbers(rows)
        values = {"+": np.add, "-": np.subtract, "*": np.multiply}[rule.op](a, b)
        target = plans[rule.target]
        assert isinstance(target.space, Ordered)
        finite = ~np.isnan(values)
        out = np.full(len(rows), NULL, dtype=object)
        out[finite] = np.array(target.space.render(values[finite]), dtype=object)
        rendered[rule.target] = list(out.tolist())

    def _apply_pair(self, pair: PairRule, rows: Ints, rendered: dict[str, list[str]]) -> None:
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
        rendered[pair.left] = left.render_numbers(a, rows)
        rendered[pair.right] = right.render_numbers(b, rows)


def _unit(plan: ColumnPlan) -> float:
    return plan.space.unit if isinstance(plan.space, Ordered) else 1.0


# ------------------------------------------------------------------------------ the planner


class Planner:
    def __init__(self, model: DataModel, options: Options):
        self.model = model
        self.options = options
        self.problems: list[str] = []
        self.plans: dict[str, TablePlan] = {}
        selected = set(options.tables) if options.tables is not None else None
        unknown = sorted((selected or set()) - set(model.tables))
        unknown += sorted(set(options.rows) - set(model.tables))
        if unknown:
            raise DataGenerationError(
                f"not a table of the snapshot: {', '.join(unknown)}",
                hint="names are schema.table, as in the snapshot",
            )
        # Partitions get their rows through the partitioned parent.
        self.generated = [
            key
            for key, table in model.tables.items()
            if (selected is None or key in selected)
            and not (table.partition_of and table.partition_of in model.tables)
        ]

    def row_count(self, table: Table) -> int:
        if table.key in self.options.rows:
            return max(0, int(self.options.rows[table.key]))
        estimate = table.rows_estimate
        if table.partitions and not estimate:
            estimate = sum(self.model.tables[p].rows_estimate or 0 for p in table.partitions)
        return scaled(estimate, self.options.scale)

    def plan(self) -> list[TablePlan]:
        counts = {key: self.row_count(self.model.tables[key]) for key in self.generated}
        for key in self.generated:
            self.plans[key] = self._plan_table(self.model.tables[key], counts[key], counts)
        if self.problems:
            shown = "; ".join(self.problems[:8])
            more = f" (and {len(self.problems) - 8} more)" if len(self.problems) > 8 else ""
            raise DataGenerationError(
                f"cannot generate valid data: {shown}{more}",
                hint="nothing was loaded",
            )
        return [self.plans[key] for key in self.generated]

    # -- one table

    def _plan_table(self, table: Table, n: int, counts: Mapping[str, int]) -> TablePlan:
        rules, derived = table_rules(self.model, table, self.problems)
        self.problems.extend(table.problems)
        copied = [c.name for c in table.copied_columns]
        renderers: dict[str, Renderer] = {}
        column_plans: dict[str, ColumnPlan] = {}
        notes: list[str] = []
        caps: dict[str, int] = {}
        limits: dict[str, int] = {}
        unique_alone = {u.columns[0] for u in table.uniques if len(u.columns) == 1}

        # 1. composite unique keys (and single-column unique foreign keys): enumerate tuples
        for unique in self._composite_keys(table, unique_alone):
            n = self._plan_composite(
                table, unique, n, counts, rules, renderers, notes, unique_alone, caps
            )
        # 2. foreign keys not already rendered; the widest first, so a narrower key on
        # some of its columns (tenant_id of (tenant_id, user_id)) agrees with it
        for fk in sorted(table.foreign_keys, key=lambda f: -len(f.columns)):
            if all(c in renderers for c in fk.columns):
                continue
            if any(c in renderers for c in fk.columns):
                self.problems.append(
                    f"{table.key}: foreign key {fk.name} shares columns with another key that "
                    "points elsewhere; references consistent across both are not supported"
                )
                continue
            self._plan_foreign_key(table, fk, n, counts, renderers, notes, caps)
        # 3. every other column from its statistics
        for name in copied:
            if name in renderers:
                continue
            column = table.columns[name]
            plan = self._column_plan(
                table, column, n, rules.columns.get(name), unique=name in unique_alone
            )
            if plan is not None:
                column_plans[name] = plan
                renderers[name] = plan.texts
                limits[name] = plan.split.rest_distinct + sum(1 for r in plan.split.mcv_rows if r)
        pairs = []
        for pair in rules.pairs:
            if (
                pair.left in column_plans
                and pair.right in column_plans
                and (column_plans[pair.left].ordered and column_plans[pair.right].ordered)
            ):
                pairs.append(pair)
            else:
                self.problems.append(
                    f"{table.key}: check {pair.left} {pair.op} {pair.right} compares columns "
                    "the generator cannot order (only numbers, dates and times are supported)"
                )
        for rule in derived:
            names = (rule.target, rule.left, rule.right)
            if not all(name in column_plans and column_plans[name].ordered for name in names):
                self.problems.append(
                    f"{table.key}: check {rule.target} = {rule.left} {rule.op} {rule.right} "
                    "needs three numeric columns the generator computes"
                )
        return TablePlan(
            table, n, copied, renderers, column_plans, pairs, notes, derived, caps, limits
        )

    def _composite_keys(self, table: Table, unique_alone: set[str]) -> list[UniqueKey]:
        out = []
        fk_single = {fk.columns[0] for fk in table.foreign_keys if len(fk.columns) == 1}
        for unique in table.uniques:
            if any(c in unique_alone for c in unique.columns) and not (
                len(unique.columns) == 1 and unique.columns[0] in fk_single
            ):
                continue  # one member is unique by itself: the tuple is too
            out.append(unique)
        return out

    def _plan_composite(
        self,
        table: Table,
        unique: UniqueKey,
        n: int,
        counts: Mapping[str, int],
        rules: ParsedCheck,
        renderers: dict[str, Renderer],
        notes: list[str],
        unique_alone: set[str],
        caps: dict[str, int],
    ) -> int:
        """A member that is (nearly) unique in production anyway becomes unique here, and
        the others keep their own statistics. Otherwise rows enumerate distinct tuples:
        the row's shuffled position written in mixed radix, one digit per foreign key (a
        parent row) or free column (a value number)."""
        if n == 0 or all(c in renderers for c in unique.columns):
            return n  # no rows (schema only): nothing to enumerate
        if unique_alone & set(unique.columns):
            return n
        groups: list[Group] = []
        covered: set[str] = set()
        members = set(unique.columns)
        for fk in sorted(table.foreign_keys, key=lambda f: -len(f.columns)):
            if set(fk.columns) <= members and not set(fk.columns) & covered:
                parents = counts.get(fk.table, 0)
                groups.append(Group(fk.columns, fk, parents))
                covered |= set(fk.columns)
        free_spaces: dict[str, Space] = {}
        for name in unique.columns:
            if name in covered:
                continue
            column = table.columns[name]
            space = self._space(table, column, rules.columns.get(name), key_space=True)
            if space is None:
                return n
            free_spaces[name] = space
            groups.append(Group((name,), None, getattr(space, "size", None)))
        # The column that needs the most distinct values varies fastest; the last group
        # carries the quotient. A digit's radix is what its statistics ask for (orders with
        # items, not every order), the carrier's is everything it can hold.
        for group in groups:
            group.desired = self._desired_distinct(table, group, n)
            if group.fk is not None and group.desired is not None:
                caps[group.columns[0]] = group.desired
        for group in groups:
            if group.fk is None and (group.radix is None or group.radix >= n):
                column = table.columns[group.columns[0]]
                near_unique = group.desired is not None and group.desired >= 0.9 * n
                if near_unique or (group.desired is None and _is_identity_like(column)):
                    unique_alone.add(column.name)
                    return n
        tangled = [
            fk.name
            for fk in table.foreign_keys
            if set(fk.columns) & covered
            and not any(set(fk.columns) <= set(g.columns) for g in groups if g.fk is not None)
        ]
        if tangled:
            # A key column also belongs to a foreign key reaching outside this key
            # ((tenant_id, owner_id) besides (tenant_id, name)): enumerating tuples here
            # would fix tenant_id without the owner. A free text column unique by itself
            # keeps the tuple unique and leaves the foreign keys to themselves.
            for name in unique.columns:
                column = table.columns[name]
                if name not in covered and column.type.kind in ("text", "uuid"):
                    unique_alone.add(name)
                    return n
            self.problems.append(
                f"{table.key}: unique key {unique.name} shares columns with foreign keys "
                f"{', '.join(tangled)} that point elsewhere; keeping both is not supported"
            )
            return n
        groups.sort(key=lambda g: -(g.desired if g.desired is not None else math.inf))
        radices: list[int | None] = [digit_radix(g, n) for g in groups[:-1]]
        radices.append(groups[-1].radix)
        if any(r == 0 for r in radices):
            self.problems.append(
                f"{table.key}: unique key {unique.name} references a table that gets no rows"
            )
            return n
        capacity = math.prod(r for r in radices if r is not None)
        if radices[-1] is not None and n > capacity:
            notes.append(
                f"{unique.name}: only {capacity} distinct ({', '.join(unique.columns)}) "
                f"combinations exist; {capacity} rows instead of {n}"
            )
            n = capacity
        shuffle = Shuffle.seeded(max(n, 1), seed_of(self.options.seed, table.key, unique.name))
        for index, group in enumerate(groups):
            digits = digit(shuffle, radices, index)
            if group.fk is not None:
                parents = group.radix or 1
                stride = coprime_stride(parents, seed_of(self.options.seed, group.fk.name))
                self._render_parent(table, group.fk, spread(digits, stride, parents), renderers)
            else:
                name = group.columns[0]
                shift = 0 if isinstance(free_spaces[name], Ordered) else self._shift(table)
                renderers[name] = _space_renderer(free_spaces[name], digits, shift)
        return n

    def _fk_stats(
        self, stats: ColumnStats | None, fk: ForeignKey, parents: int
    ) -> ColumnStats | None:
        """A foreign key's distinct count, when the snapshot gives it as a count, grows
        with its parent table: 40 of 40 products referenced stays "all of them" when
        products are scaled to 200."""
        source = self.model.tables.get(fk.table)
        before = source.rows_estimate if source is not None else None
        if stats is None or stats.n_distinct <= 0 or not before:
            return stats
        if stats.n_distinct < 0.9 * before:
            # a fixed handful of parents (5 managers): as many, if there are parents enough
            return replace(stats, n_distinct=min(stats.n_distinct, float(parents)))
        # (nearly) every parent is referenced: still every parent, however many there are
        grown = max(min(float(parents), stats.n_distinct * parents / before), 1.0)
        return replace(stats, n_distinct=grown)

    def _desired_distinct(self, table: Table, group: Group, n: int) -> int | None:
        stats = table.columns[group.columns[0]].stats
        if group.fk is not None:
            stats = self._fk_stats(stats, group.fk, group.radix or 0)
        if stats is None:
            return None
        wanted = stats.distinct(n) if stats.n_distinct < 0 else stats.n_distinct
        wanted = max(1, min(round(wanted), n))
        return wanted if group.radix is None else min(wanted, group.radix)

    def _render_parent(
        self,
        table: Table,
        fk: ForeignKey,
        parent_rows: Callable[[Ints], Ints],
        renderers: dict[str, Renderer],
    ) -> None:
        """The child's columns of ``fk`` show the parent's key columns at ``parent_rows``
        (-1: NULL). Looked up when rendering, so the parent may be planned later."""
        plans = self.plans
        for child_column, parent_column in zip(fk.columns, fk.ref_columns, strict=False):

            def render(rows: Ints, parent_column: str = parent_column) -> list[str]:
                picks = parent_rows(rows)
                parent = plans[fk.table]
                valid = picks >= 0
                if valid.all():
                    return parent.renderers[parent_column](picks)
                out = np.full(len(rows), NULL, dtype=object)
                if valid.any():
                    out[valid] = np.array(
                        parent.renderers[parent_column](picks[valid]), dtype=object
                    )
                return list(out.tolist())

            renderers[child_column] = render

    def _plan_foreign_key(
        self,
        table: Table,
        fk: ForeignKey,
        n: int,
        counts: Mapping[str, int],
        renderers: dict[str, Renderer],
        notes: list[str],
        caps: dict[str, int],
    ) -> None:
        first = table.columns[fk.columns[0]]
        nullable = all(table.columns[c].nullable for c in fk.columns)
        parents = counts.get(fk.table)
        if parents is None or parents == 0:
            reason = "is not generated" if parents is None else "gets no rows"
            if nullable or n == 0:
                notes.append(f"{fk.name}: {fk.table} {reason}; the reference is left NULL")
                for name in fk.columns:
                    renderers[name] = lambda rows: [NULL] * len(rows)
            else:
                self.problems.append(
                    f"{table.key}.{', '.join(fk.columns)} must reference {fk.table}, which "
                    f"{reason} (add it to --tables, or give it rows with --rows)"
                )
            return
        # a composite key's shape is its most varied column's (user_id, not tenant_id)
        first = max(
            (table.columns[c] for c in fk.columns),
            key=lambda c: (
                c.stats.distinct(n)
                if c.stats and c.stats.n_distinct < 0
                else (c.stats.n_distinct if c.stats else 0)
            ),
        )
        stats = self._fk_stats(first.stats, fk, parents)
        mcv_rows: list[int] = []
        freqs: list[float] = []
        if stats is not None:
            mcv_rows = parent_rows_of(stats.mcv_values, parents)
            freqs = list(stats.mcv_freqs[: len(mcv_rows)])
        mcv_table = np.asarray(mcv_rows or [0], dtype=np.int64)
        # The rest point at parents that are not most common ones (else a distinct
        # count comes out short); with many parents a clash is too rare to matter.
        free = np.arange(parents, dtype=np.int64)
        if mcv_rows and len(set(mcv_rows)) < parents:
            keep = np.ones(parents, dtype=bool)
            keep[mcv_table] = False
            free = free[keep]
        split = split_rows(
            n,
            stats,
            nullable=nullable,
            unique=False,
            mcv_count=len(freqs),
            space_size=len(free) + len(freqs),
            default_distinct=parents,
        )
        shuffle = Shuffle.seeded(max(n, 1), seed_of(self.options.seed, table.key, fk.name))
        thresholds = split.thresholds
        rest_start = int(thresholds[-2]) if len(thresholds) > 1 else 0
        distinct = max(split.rest_distinct, 1)
        if stats is not None:
            wanted = stats.distinct(n) if stats.n_distinct < 0 else stats.n_distinct
            caps[first.name] = min(round(wanted), parents)
        stride = coprime_stride(len(free), seed_of(self.options.seed, fk.name))
        offset = seed_of(self.options.seed, fk.name, "offset") % len(free)

        def parent_rows(rows: Ints) -> Ints:
            positions = shuffle(rows)
            runs = np.searchsorted(thresholds, positions, side="right")
            out = np.full(len(rows), -1, dtype=np.int64)
            rest_run = len(thresholds) - 1
            mcv = (runs > 0) & (runs < rest_run)
            out[mcv] = mcv_table[runs[mcv] - 1]
            rest = runs == rest_run
            ks = (positions[rest] - rest_start) % distinct
            out[rest] = free[(ks * stride + offset) % len(free)]
            return out

        self._render_parent(table, fk, parent_rows, renderers)

    # -- columns

    def _space(
        self, table: Table, column: Column, rule: ColumnRule | None, *, key_space: bool = False
    ) -> Space | None:
        offset = seed_of(self.options.seed, table.key, column.name) % 1_000_000
        space = column_space.space_for(column, column.type, rule, offset)
        if isinstance(space, column_space.Unsupported):
            self.problems.append(f"{table.key}.{column.name}: {space.reason}")
            return None
        if key_space and isinstance(space, Ordered):
            # a key column counts up from its lowest value, one unit at a time; appended
            # rows start past the largest value already there
            low = space.bounds[0]
            existing = self.options.existing.get(table.key)
            top = existing.maxima.get(column.name) if existing else None
            above = space.parse(top) if top is not None else None
            if above is not None:
                low = max(low, above + space.unit)
            space = Ordered(space.kind, [low, low], space.unit, None, scale=space.scale)
        return space

    def _shift(self, table: Table) -> int:
        """Appending: value numbers already used by the rows there (text, uuid keys)."""
        existing = self.options.existing.get(table.key)
        return existing.rows if existing else 0

    def _column_plan(
        self, table: Table, column: Column, n: int, rule: ColumnRule | None, *, unique: bool
    ) -> ColumnPlan | None:
        # identity and serial keys count up from their lowest value, as they do in production
        appending = table.key in self.options.existing
        space = self._space(
            table, column, rule, key_space=unique and (_is_identity_like(column) or appending)
        )
        if space is None:
            return None
        stats = column.stats
        nullable = column.nullable and not (rule is not None and rule.not_null)
        numeric = isinstance(space, Ordered) and space.kind in ("int", "numeric", "float")
        mcv_texts: list[str] = []
        mcv_numbers: list[float] = []
        freqs_kept = 0
        fingerprinted = stats is not None and stats.mcv_fingerprinted
        if stats is not None and not unique:
            for value in stats.mcv_values:
                if fingerprinted:
                    break
                if isinstance(space, Ordered):
                    number = space.parse(value)
                    if number is None or not _within(space, number):
                        break
                    mcv_numbers.append(number)
                elif (rule is not None and not admits(rule, value, numeric=numeric)) or (
                    isinstance(space, Listed) and copy_escape(value) not in space.values
                ):
                    break
                mcv_texts.append(copy_escape(value))
                freqs_kept += 1
            if fingerprinted:
                freqs_kept = len(stats.mcv_values)
        if isinstance(space, Listed) and mcv_texts:
            # the rest are the values that are not most common ones
            space = Listed([v for v in space.values if v not in set(mcv_texts)] or space.values)
        if isinstance(space, Ordered) and stats is not None and not unique:
            wanted = stats.distinct(n) if stats.n_distinct < 0 else stats.n_distinct
            _widen(
                space,
                min(round(wanted), n),
                column_space.type_limit(column.type, rule),
                column_space.type_floor(column.type, rule),
            )
        space_size = getattr(space, "size", None)
        default_distinct = max(1, int(n * DEFAULT_DISTINCT_SHARE))
        if isinstance(space, Listed):
            default_distinct = space.size
        split = split_rows(
            n,
            stats,
            nullable=nullable,
            unique=unique,
            mcv_count=freqs_kept,
            space_size=space_size,
            default_distinct=default_distinct,
        )
        if unique and isinstance(space, Ordered) and space_size is not None:
            needed = n - split.nulls
            if space_size < needed:
                # more rows than the captured range holds: extend it upwards (ids keep
                # counting), within the type's own limits
                limit = column_space.type_limit(column.type, rule)
                top = space.bounds[0] + (needed - 1) * space.unit
                if top <= limit:
                    space.bounds[-1] = top
                    space.size = space_size = needed
                    split = split_rows(
                        n,
                        stats,
                        nullable=nullable,
                        unique=True,
                        mcv_count=0,
                        space_size=space_size,
                        default_distinct=needed,
                    )
        if unique and space_size is not None and split.rest_rows > space_size:
            self.problems.append(
                f"{table.key}.{column.name} is unique but can only hold {space_size} "
                f"distinct values, and {split.rest_rows} rows are asked for"
            )
            return None
        if isinstance(space, Ordered):
            space.spread(split.rest_distinct, avoid=mcv_numbers)
        if fingerprinted and stats is not None:
            # stand-ins: values past the rest's, with the fingerprinted values' frequencies
            ks = np.arange(freqs_kept, dtype=np.int64) + split.rest_distinct
            if isinstance(space, Ordered):
                numbers = space.numbers_beyond(np.arange(freqs_kept, dtype=np.int64))
                mcv_numbers = list(numbers.tolist())
                mcv_texts = space.render(numbers)
            elif isinstance(space, Listed):
                mcv_texts = space.texts(ks)
            else:
                mcv_texts = space.texts(ks)
        shuffle = (
            Shuffle.identity(n)
            if unique and isinstance(space, Ordered) and _is_identity_like(column)
            else Shuffle.seeded(max(n, 1), seed_of(self.options.seed, table.key, column.name))
        )
        plan = ColumnPlan(
            column.name,
            n,
            shuffle,
            split,
            mcv_texts,
            space,
            mcv_numbers=mcv_numbers,
            rest_offset=self._shift(table) if unique and not isinstance(space, Ordered) else 0,
        )
        if rule is not None and not isinstance(space, Ordered):
            self._validate(table, column, plan, rule)
        return plan

    def _validate(self, table: Table, column: Column, plan: ColumnPlan, rule: ColumnRule) -> None:
        """Try the values the column will use against its CHECK rules, before loading."""
        distinct = plan.split.rest_distinct
        head = np.arange(min(distinct, 200))
        ks = np.unique(np.r_[head, np.arange(max(distinct - 200, 0), distinct)])
        samples = plan.space.texts(ks.astype(np.int64)) if distinct else []
        for value in [*plan.mcv_texts, *samples]:
            if not admits(rule, value, numeric=False):
                self.problems.append(
                    f"{table.key}.{column.name}: the generator cannot satisfy its CHECK rules "
                    f"(a candidate value of {len(value)} characters fails them)"
                )
                return


def _widen(space: Ordered, wanted: int, top: float, floor: float) -> None:
    """Make room for ``wanted`` distinct values (a range read from a few kept MCVs, or a
    default range, can be too narrow): up to the type's or CHECK's top, then down."""
    if space.size is None or space.size >= wanted:
        return
    missing = (wanted - space.size) * space.unit
    up = min(missing, max(top - space.bounds[-1], 0.0))
    space.bounds[-1] += up
    space.bounds[0] -= min(missing - up, max(space.bounds[0] - floor, 0.0))
    space.size = round((space.bounds[-1] - space.bounds[0]) / space.unit) + 1


def _within(space: Ordered, number: float) -> bool:
    return space.bounds[0] - 1e-9 <= number <= space.bounds[-1] + 1e-9 or space.kind == "float"


def _is_identity_like(column: Column) -> bool:
    return bool(column.identity) or (column.default or "").startswith("nextval(")


def _space_renderer(space: Space, ks: Callable[[Ints], Ints], shift: int = 0) -> Renderer:
    def render(rows: Ints) -> list[str]:
        return space.texts(ks(rows) + shift)

    return render


def build_plans(model: DataModel, options: Options) -> list[TablePlan]:
    return Planner(model, options).plan()
