"""Keys by construction, the planner's part: composite unique keys enumerated as tuples,
foreign keys as picks among parent rows, and foreign keys that share columns.

When keys share a column (the multi-tenant shape: ``tenant_id REFERENCES tenants`` beside
``(tenant_id, user_id) REFERENCES users (tenant_id, id)`` and ``(tenant_id, parent_id)
REFERENCES same (tenant_id, id)``), the column gets one value, consistent with every key:
one key *drives* it (its parent row is picked as usual), and each other key *follows*: its
parent row is picked among those whose values match the columns already fixed. A driver
only picks parents whose values the followers' parents also have, so a follower that may not
be NULL always finds one. A self-reference follows last, and picks an earlier row of its own
table (a forest, never a cycle), or NULL when there is none and the column may be NULL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from repro.pg.meaning import seed_of
from repro.pg.tables import ColumnStats, DataModel, ForeignKey, Table, UniqueIndex, UniqueKey
from repro.synth.cells import Cells, merge
from repro.synth.check_parser import ParsedCheck
from repro.synth.columns import Shuffle, split_rows
from repro.synth.keys import (
    Group,
    ParentIndex,
    coprime_stride,
    digit,
    digit_radix,
    hashes,
    parent_rows_of,
    spread,
    uniform,
)
from repro.synth.space_cells import cells_of
from repro.synth.value_spaces import NULL, Ints, Ordered, Space

if TYPE_CHECKING:
    from repro.pg.tables import Column
    from repro.synth.check_parser import ColumnRule
    from repro.synth.table_plan import Renderer, TablePlan


class _Seeded(Protocol):
    @property
    def seed(self) -> int: ...


class KeyPlanner:
    """Mixed into :class:`repro.synth.plan.Planner` (which provides these attributes)."""

    model: DataModel
    options: _Seeded
    problems: list[str]
    plans: dict[str, TablePlan]
    varied: set[str]  # nullable columns without statistics a judged condition reads
    enumerated: list[frozenset[str]]  # unique keys of the current table made by enumeration
    judged_keys: list[UniqueIndex]  # unique keys of the current table PostgreSQL dedupes by

    if TYPE_CHECKING:

        def _space(
            self, table: Table, column: Column, rule: ColumnRule | None, *, key_space: bool = False
        ) -> Space | None: ...

        def _shift(self, table: Table) -> int: ...

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
        members = set(unique.columns)
        single_reference = len(members) == 1 and any(
            fk.columns == unique.columns for fk in table.foreign_keys
        )  # a unique foreign key column: picked by enumeration, one parent each
        alone = unique_alone & members and not single_reference
        if n == 0 or alone or any(done <= members for done in self.enumerated):
            return n  # no rows (schema only), or holds a key unique already
        if members & set(renderers):
            # an earlier key set some of these columns: enumerating again would undo it
            return self._unique_otherwise(table, unique, n, renderers, unique_alone)
        groups: list[Group] = []
        covered: set[str] = set()
        for fk in sorted(table.foreign_keys, key=lambda f: -len(f.columns)):
            inside = set(fk.columns) & members
            if not inside or set(fk.columns) & covered:
                continue
            # a key partly inside: (membership_id, organization_id) -> memberships (id,
            # organization_id) for a unique (membership_id, role_id): distinct parent rows
            # give distinct membership_ids, since memberships.id is unique
            if set(fk.columns) <= members or self._identifies(fk, inside):
                parents = counts.get(fk.table, 0)
                groups.append(Group(fk.columns, fk, parents))
                covered |= set(fk.columns)
        referencing = {c for fk in table.foreign_keys for c in fk.columns}
        if (members - covered) & referencing:
            # a member belongs to a foreign key that does not pick it alone
            return self._unique_otherwise(table, unique, n, renderers, unique_alone)
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
                if near_unique or (group.desired is None and is_identity_like(column)):
                    unique_alone.add(column.name)
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
        # A nullable unique foreign key column keeps production's share of NULLs (users
        # without a profile): NULLs are never equal, so those rows need no parent of their own.
        nulls = self._unique_reference_nulls(table, unique, n) if single_reference else 0
        if radices[-1] is not None and n - nulls > capacity:
            notes.append(
                f"{unique.name}: only {capacity} distinct ({', '.join(unique.columns)}) "
                f"combinations exist; {capacity + nulls} rows instead of {n}"
            )
            n = capacity + nulls
        self.enumerated.append(frozenset(members))
        shuffle = Shuffle.seeded(max(n, 1), seed_of(self.options.seed, table.key, unique.name))
        for index, group in enumerate(groups):
            digits = digit(shuffle, radices, index)
            if group.fk is not None:
                parents = group.radix or 1
                stride = coprime_stride(parents, seed_of(self.options.seed, group.fk.name))
                picks = spread(digits, stride, parents)
                if nulls:
                    picks = _null_from(picks, shuffle, n - nulls)
                self._render_parent(table, group.fk, picks, renderers)
            else:
                name = group.columns[0]
                shift = 0 if isinstance(free_spaces[name], Ordered) else self._shift(table)
                renderers[name] = SpaceRenderer(free_spaces[name], digits, shift)
        return n

    def _unique_reference_nulls(self, table: Table, unique: UniqueKey, n: int) -> int:
        """How many of ``n`` rows get NULL in a unique foreign key column: production's
        share, when the column may be NULL."""
        column = table.columns[unique.columns[0]]
        stats = column.stats
        if not column.nullable or stats is None or not 0 < stats.null_frac < 1:
            return 0
        return min(n, round(n * stats.null_frac))

    def _identifies(self, fk: ForeignKey, inside: set[str]) -> bool:
        """Whether the parent columns ``inside`` (child columns) point at are unique there."""
        parent = self.model.tables.get(fk.table)
        if parent is None:
            return False
        refs = {r for c, r in zip(fk.columns, fk.ref_columns, strict=False) if c in inside}
        return any(set(u.columns) <= refs for u in parent.uniques)

    def _unique_otherwise(
        self,
        table: Table,
        unique: UniqueKey,
        n: int,
        renderers: dict[str, Renderer],
        unique_alone: set[str],
    ) -> int:
        """A unique key whose tuples cannot be enumerated (its columns are set by other
        keys): a free text column unique by itself keeps it unique; else PostgreSQL
        dedupes the candidates by it."""
        referencing = {c for fk in table.foreign_keys for c in fk.columns}
        for name in unique.columns:
            column = table.columns[name]
            if (
                name not in renderers
                and name not in referencing
                and column.type.kind in ("text", "uuid")
                and not column.type.array
            ):
                unique_alone.add(name)
                return n
        columns = tuple('"' + c.replace('"', '""') + '"' for c in unique.columns)
        self.judged_keys.append(UniqueIndex(unique.name, columns, None, True))
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
        only: set[str] | None = None,
    ) -> None:
        """The child's columns of ``fk`` show the parent's key columns at the slots
        ``parent_rows`` gives (-1: NULL). Looked up when rendering, so the parent may be
        planned (or judged) later. ``only``: render these of the key's columns."""
        plans = self.plans
        for child_column, parent_column in zip(fk.columns, fk.ref_columns, strict=False):
            if only is not None and child_column not in only:
                continue
            renderers[child_column] = ParentRenderer(plans, fk.table, parent_column, parent_rows)

    # -- foreign keys that are not part of a composite unique key

    def _plan_references(
        self,
        table: Table,
        n: int,
        counts: Mapping[str, int],
        renderers: dict[str, Renderer],
        notes: list[str],
        caps: dict[str, int],
        non_null: set[str],
    ) -> None:
        """Every foreign key not rendered yet: drivers first (the widest first, so a
        narrower key on some of its columns agrees with it), self-references last."""
        pending = [fk for fk in table.foreign_keys if not all(c in renderers for c in fk.columns)]
        pending.sort(key=lambda f: (f.table == table.key, -len(f.columns), f.name))
        # tenant_id of (tenant_id, parent_id) -> same (tenant_id, id) is its own referenced
        # column: it comes from another key or its own statistics, never from this one
        own = {
            c
            for fk in pending
            if fk.table == table.key
            for c, r in zip(fk.columns, fk.ref_columns, strict=False)
            if c == r
        }
        for index, fk in enumerate(pending):
            fixed = [
                c for c in fk.columns if c in renderers or (fk.table == table.key and c in own)
            ]
            if len(fixed) == len(fk.columns):
                continue  # every column set by another key, which agrees with this one
            if fixed:
                self._plan_follower(table, fk, fixed, n, counts, renderers, notes)
                continue
            followers = [
                other
                for other in pending[index + 1 :]
                if other.table != table.key and set(other.columns) & set(fk.columns)
            ]
            self._plan_foreign_key(
                table, fk, n, counts, renderers, notes, caps, non_null, followers
            )

    def _plan_follower(
        self,
        table: Table,
        fk: ForeignKey,
        fixed: list[str],
        n: int,
        counts: Mapping[str, int],
        renderers: dict[str, Renderer],
        notes: list[str],
    ) -> None:
        """Some of ``fk``'s columns are set by other keys: pick, for each row, a parent
        row holding those values (NULL when there is none and the rest may be NULL)."""
        if not counts.get(fk.table):
            self._plan_foreign_key(table, fk, 0, counts, renderers, notes, {}, set(), [])
            return
        refs = dict(zip(fk.columns, fk.ref_columns, strict=False))
        free = [c for c in fk.columns if c not in fixed]
        nullable = all(table.columns[c].nullable for c in free)
        if not nullable and fk.table == table.key:
            notes.append(
                f"{fk.name}: a NOT NULL reference to the same table points at a row of "
                "the same values, the row itself when it is the first of them"
            )
        seed = seed_of(self.options.seed, table.key, fk.name, "follow")
        stats = table.columns[free[0]].stats
        null_share = stats.null_frac if stats is not None and nullable else 0.0
        # as many distinct parents as the statistics say: that share of each group
        share = 1.0
        if stats is not None and stats.n_distinct and counts.get(fk.table):
            wanted = stats.distinct(n) if stats.n_distinct < 0 else stats.n_distinct
            share = min(1.0, max(wanted / counts[fk.table], 1e-9))
        # part of a unique key ((tenant_id, project_id, user_id)): rows sharing the other
        # columns take the group's parents in turn, distinct while the group lasts
        partners = next(
            (
                [c for c in u.columns if c not in free]
                for u in table.uniques
                if set(free) <= set(u.columns) and len(u.columns) > len(free)
            ),
            None,
        )
        ranks: list[Ints] = []
        if partners is not None:
            share = 1.0
        plans = self.plans
        fixed_refs = tuple(refs[c] for c in fixed)
        self_reference = fk.table == table.key

        def turns(rows: Ints) -> Ints | None:
            if partners is None:
                return None
            if not ranks:
                every = np.arange(n, dtype=np.int64)
                texts = [renderers[c](every) for c in partners]
                ranks.append(ranks_within(list(zip(*texts, strict=True)), seed))
            return ranks[0][rows]

        def parent_rows(rows: Ints) -> Ints:
            parent = plans[fk.table]
            index = parent.cache.get(("index", fixed_refs))
            if index is None:
                slots = np.arange(parent.n, dtype=np.int64)
                index = ParentIndex(parent.values(fixed_refs), parent.rows_of(slots))
                parent.cache[("index", fixed_refs)] = index
            texts = [renderers[c](rows) for c in fixed]
            keys = list(zip(*texts, strict=True))
            picks = index.pick(
                keys, seed, rows, before=self_reference, share=share, turns=turns(rows)
            )
            if self_reference and not nullable:
                missing = np.flatnonzero(picks < 0)
                if len(missing):
                    again = index.pick([keys[i] for i in missing], seed, rows[missing])
                    picks[missing] = again
            unset = np.array([NULL in k for k in keys], dtype=bool)
            if unset.any():
                # MATCH SIMPLE: a NULL in the key means no parent is needed
                picks[unset] = (
                    -1
                    if nullable
                    else (hashes(seed, rows[unset]) % np.uint64(parent.n)).astype(np.int64)
                )
            if null_share > 0:
                picks[uniform(seed + 1, rows) < null_share] = -1
            if not nullable and (picks < 0).any():
                # no parent holds these values: any parent (PostgreSQL will say so at the end)
                lost = picks < 0
                picks[lost] = (hashes(seed, rows[lost]) % np.uint64(parent.n)).astype(np.int64)
            return picks

        self._render_parent(table, fk, parent_rows, renderers, only=set(free))

    def _allowed_parents(
        self, table: Table, fk: ForeignKey, followers: list[ForeignKey]
    ) -> Callable[[], np.ndarray] | None:
        """Which of ``fk``'s parent slots a driver may pick: those whose values on the
        shared columns the followers' parents hold too (computed when first rendered)."""
        if not followers:
            return None
        plans = self.plans
        refs = dict(zip(fk.columns, fk.ref_columns, strict=False))

        def allowed() -> np.ndarray:
            parent = plans[fk.table]
            mask = np.ones(parent.n, dtype=bool)
            for other in followers:
                if other.table not in plans:
                    continue
                shared = [c for c in fk.columns if c in other.columns]
                other_refs = dict(zip(other.columns, other.ref_columns, strict=False))
                have = set(plans[other.table].values(tuple(other_refs[c] for c in shared)))
                mine = parent.values(tuple(refs[c] for c in shared))
                mask &= np.fromiter((v in have for v in mine), dtype=bool, count=len(mine))
            return mask

        return allowed

    def _plan_foreign_key(
        self,
        table: Table,
        fk: ForeignKey,
        n: int,
        counts: Mapping[str, int],
        renderers: dict[str, Renderer],
        notes: list[str],
        caps: dict[str, int],
        non_null: set[str],
        followers: list[ForeignKey],
    ) -> None:
        first = table.columns[fk.columns[0]]
        nullable = all(table.columns[c].nullable for c in fk.columns)
        nullable = nullable and not (set(fk.columns) & non_null)
        parents = counts.get(fk.table)
        if parents is None or parents == 0:
            reason = "is not generated" if parents is None else "gets no rows"
            if nullable or n == 0:
                notes.append(f"{fk.name}: {fk.table} {reason}; the reference is left NULL")
                for name in fk.columns:
                    renderers.setdefault(name, NullRenderer())
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
        if stats is not None and not nullable and stats.null_frac:
            stats = replace(stats, null_frac=0.0)
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
            default_null_frac=0.5 if set(fk.columns) & self.varied else 0.0,
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
        allowed = self._allowed_parents(table, fk, followers)
        restricted: list[np.ndarray] = []  # [free slots allowed, every slot allowed]

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
            if allowed is not None:
                if not restricted:
                    mask = allowed()
                    restricted.extend([free[mask[free]], np.flatnonzero(mask)])
                some, every = restricted
                bad = (out >= 0) & ~allowed_mask(out, every)
                if bad.any():
                    pool = some if len(some) else every
                    if len(pool):
                        out[bad] = pool[
                            (hashes(stride, rows[bad]) % np.uint64(len(pool))).astype(np.int64)
                        ]
                    elif nullable:
                        out[bad] = -1
            return out

        self._render_parent(table, fk, parent_rows, renderers)


def ranks_within(keys: list[tuple[str, ...]], seed: int) -> Ints:
    """Each row's turn among the rows of the same key (0, 1, 2...), started at a place of
    its own for each key so that keys do not all take a group's first parent first."""
    codes: dict[tuple[str, ...], int] = {}
    code = np.fromiter((codes.setdefault(k, len(codes)) for k in keys), np.int64, len(keys))
    order = np.argsort(code, kind="stable")
    sorted_codes = code[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys), dtype=np.int64) - starts
    shift = (hashes(seed, code) >> np.uint64(33)).astype(np.int64)
    return rank + shift


def allowed_mask(picks: Ints, allowed_slots: Ints) -> np.ndarray:
    """Whether each pick is among the (sorted) allowed slots."""
    where = np.searchsorted(allowed_slots, picks)
    inside = where < len(allowed_slots)
    out = np.zeros(len(picks), dtype=bool)
    out[inside] = allowed_slots[where[inside]] == picks[inside]
    return out


def is_identity_like(column: Column) -> bool:
    return bool(column.identity) or (column.default or "").startswith("nextval(")


class SpaceRenderer:
    """Values of ``space`` numbered by a function of the rows (a key's digit)."""

    def __init__(self, space: Space, ks: Callable[[Ints], Ints], shift: int = 0):
        self.space, self.ks, self.shift = space, ks, shift

    def __call__(self, rows: Ints) -> list[str]:
        return self.space.texts(self.ks(rows) + self.shift)

    def cells(self, rows: Ints) -> Cells:
        return cells_of(self.space, self.ks(rows) + self.shift)


class ParentRenderer:
    """A foreign key's column: the parent's key column at the parent slots ``parent_rows``
    picks (-1: NULL). Looked up when rendering, so the parent may be planned (or judged)
    later."""

    def __init__(
        self,
        plans: Mapping[str, TablePlan],
        table: str,
        column: str,
        parent_rows: Callable[[Ints], Ints],
    ):
        self.plans, self.table, self.column, self.parent_rows = plans, table, column, parent_rows

    def __call__(self, rows: Ints) -> list[str]:
        picks = self.parent_rows(rows)
        parent = self.plans[self.table]
        valid = picks >= 0
        if valid.all():
            return parent.renderers[self.column](parent.rows_of(picks))
        out = np.full(len(rows), NULL, dtype=object)
        if valid.any():
            out[valid] = np.array(
                parent.renderers[self.column](parent.rows_of(picks[valid])), dtype=object
            )
        return list(out.tolist())

    def cells(self, rows: Ints) -> Cells:
        picks = self.parent_rows(rows)
        parent = self.plans[self.table]
        valid = np.flatnonzero(picks >= 0)
        found = parent.renderers[self.column].cells(parent.rows_of(picks[valid]))
        if len(valid) == len(rows):
            return found
        unset = np.flatnonzero(picks < 0)
        return merge(len(rows), [(valid, found), (unset, Cells.constant(NULL, len(unset)))])


class NullRenderer:
    def __call__(self, rows: Ints) -> list[str]:
        return [NULL] * len(rows)

    def cells(self, rows: Ints) -> Cells:
        return Cells.constant(NULL, len(rows))


def _null_from(
    picks: Callable[[Ints], Ints], shuffle: Shuffle, first_null: int
) -> Callable[[Ints], Ints]:
    """``picks``, but -1 (NULL) for the rows whose shuffled position is ``first_null`` or
    later: the enumeration's first positions stay distinct parents, the rest are NULL."""

    def rows_of(rows: Ints) -> Ints:
        out = picks(rows)
        out[shuffle(rows) >= first_null] = -1
        return out

    return rows_of
