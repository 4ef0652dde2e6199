"""The generation plan: per table, how many rows and how every column is rendered.

Everything that can go wrong is found here, before a row is loaded: unsupported types,
checks the generator cannot satisfy, unique keys with fewer possible values than rows,
foreign keys to tables that get no rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from repro.errors import DataGenerationError
from repro.pg.meaning import seed_of
from repro.pg.sql_text import SqlTextError, tokens
from repro.pg.tables import Column, DataModel, Table, UniqueIndex
from repro.synth import column_space
from repro.synth.check_parser import ColumnRule, admits
from repro.synth.columns import ColumnPlan, Shuffle, split_rows
from repro.synth.key_planner import KeyPlanner, is_identity_like
from repro.synth.model_view import planning_view
from repro.synth.row_counts import row_counts
from repro.synth.table_checks import Judged, table_checks
from repro.synth.table_plan import Renderer, TablePlan
from repro.synth.value_spaces import Listed, Ordered, Space, copy_escape

__all__ = ["Existing", "Options", "Planner", "TablePlan", "build_plans"]

# Distinct values a column without statistics gets, as a share of its rows.
DEFAULT_DISTINCT_SHARE = 0.5
# NULLs in a nullable column without statistics that a judged condition reads: candidates
# then differ in what the condition tests ((status = 'approved') = (approved_at IS NOT NULL))
JUDGED_NULL_SHARE = 0.5


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
    # rows for tables the snapshot estimates at none (a schema-only snapshot); None: none
    default_rows: int | None = None


# ------------------------------------------------------------------------------ the planner


class Planner(KeyPlanner):
    options: Options

    def __init__(self, model: DataModel, options: Options):
        model = planning_view(model)
        self.model = model
        self.options = options
        self.problems: list[str] = []
        self.plans: dict[str, TablePlan] = {}
        self.counts: dict[str, int] = {}
        # of the table being planned: nullable columns without statistics a judged
        # condition reads, unique keys enumerated, unique keys PostgreSQL dedupes by
        self.varied: set[str] = set()
        self.enumerated: list[frozenset[str]] = []
        self.judged_keys: list[UniqueIndex] = []
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

    def plan(self) -> list[TablePlan]:
        self.counts = row_counts(
            self.model,
            self.generated,
            scale=self.options.scale,
            rows=self.options.rows,
            default_rows=self.options.default_rows,
        )
        for key in self.generated:
            self.plans[key] = self._plan_table(self.model.tables[key], self.counts[key])
        self._settle(self.generated)
        self.raise_problems()
        return [self.plans[key] for key in self.generated]

    def raise_problems(self) -> None:
        if self.problems:
            shown = "; ".join(dict.fromkeys(self.problems[:8]))
            more = f" (and {len(self.problems) - 8} more)" if len(self.problems) > 8 else ""
            raise DataGenerationError(
                f"cannot generate valid data: {shown}{more}",
                hint="nothing was loaded",
            )

    def replan(self, key: str, candidates: int) -> TablePlan:
        """Plan ``key`` again for this many candidate rows (children keep their view of it:
        ``counts``); for the judge, which keeps the candidates PostgreSQL accepts."""
        table = _with_basis(self.model.tables[key], self.counts[key], candidates)
        self.plans[key] = self._plan_table(table, candidates)
        self.raise_problems()
        return self.plans[key]

    def resize(self, key: str, rows: int) -> None:
        """``key`` holds ``rows`` now (fewer than planned: the judge kept fewer): the tables
        pointing at it (not judged yet) are planned again, for rows that exist."""
        self.counts[key] = rows
        self._replan_children([key])
        self._settle(self.generated)
        self.raise_problems()

    def _settle(self, keys: list[str]) -> None:
        """A table planned for fewer rows than counted (its unique keys hold no more) is
        counted as it is, and its children planned again, until nothing changes."""
        for _ in range(len(keys) + 1):
            shrunk = [
                key
                for key in keys
                if self.plans[key].row_map is None and self.plans[key].n < self.counts[key]
            ]
            if not shrunk:
                return
            for key in shrunk:
                self.counts[key] = self.plans[key].n
            self._replan_children(shrunk)

    def _replan_children(self, parents: list[str]) -> None:
        changed = set(parents)
        for child_key in self.generated:
            child = self.plans.get(child_key)
            if child is None or child.row_map is not None:
                continue
            if any(fk.table in changed for fk in child.table.foreign_keys):
                self.plans[child_key] = self._plan_table(child.table, self.counts[child_key])

    # -- one table

    def _plan_table(self, table: Table, n: int) -> TablePlan:
        counts = self.counts
        checks = table_checks(self.model, table, self.problems)
        rules = checks.parsed
        self.problems.extend(table.problems)
        copied = [c.name for c in table.copied_columns]
        renderers: dict[str, Renderer] = {}
        column_plans: dict[str, ColumnPlan] = {}
        notes: list[str] = []
        caps: dict[str, int] = {}
        limits: dict[str, int] = {}
        unique_alone = {u.columns[0] for u in table.uniques if len(u.columns) == 1}
        judged = list(checks.judged)
        self.enumerated, self.judged_keys = [], []
        # NULL counts that need a value set: those columns are planned without NULLs
        non_null = {c for count in checks.counts if count.low > 0 for c in count.columns}
        for name in non_null:
            rule = rules.columns.setdefault(name, ColumnRule())
            rule.not_null = True
        self.varied = {
            c
            for c in _mentioned(
                table,
                [j.expression for j in judged]
                + [u.predicate for u in table.unique_indexes if u.predicate],
            )
            if table.columns[c].nullable and table.columns[c].stats is None
        }
        for count in checks.counts:
            fixed = sum(1 for c in count.columns if not table.columns[c].nullable)
            if fixed > count.high or count.low > len(count.columns):
                self.problems.append(
                    f"{table.key}: CHECK {count.name} allows at most {count.high} of "
                    f"{', '.join(count.columns)} to be set, and {fixed} are NOT NULL"
                )

        # 1. composite unique keys (and single-column unique foreign keys): enumerate tuples
        for unique in self._composite_keys(table, unique_alone):
            n = self._plan_composite(
                table, unique, n, counts, rules, renderers, notes, unique_alone, caps
            )
        # 2. foreign keys not already rendered (one value per shared column)
        self._plan_references(table, n, counts, renderers, notes, caps, non_null)
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
                renderers[name] = plan
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
                judged.append(
                    Judged(
                        f"CHECK {pair.left} {pair.op} {pair.right}",
                        f"{_quote(pair.left)} {pair.op} {_quote(pair.right)}",
                        "compares columns the generator does not order",
                    )
                )
        derived = []
        for computed in checks.derived:
            names = (computed.target, computed.left, computed.right)
            if all(name in column_plans and column_plans[name].ordered for name in names):
                derived.append(computed)
            else:
                judged.append(
                    Judged(
                        f"CHECK {computed.target} = {computed.left} {computed.op} {computed.right}",
                        f"{_quote(computed.target)} = ({_quote(computed.left)} {computed.op} "
                        f"{_quote(computed.right)})",
                        "the generator computes a column only from two numeric ones",
                    )
                )
        return TablePlan(
            table,
            n,
            copied,
            renderers,
            column_plans,
            pairs,
            notes,
            derived,
            caps,
            limits,
            counts=list(checks.counts),
            judged=judged,
            judged_uniques=list(table.unique_indexes) + self.judged_keys,
            seed=seed_of(self.options.seed, table.key, "rows"),
        )

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
            table, column, rule, key_space=unique and (is_identity_like(column) or appending)
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
            default_null_frac=JUDGED_NULL_SHARE if column.name in self.varied else 0.0,
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
            if unique and isinstance(space, Ordered) and is_identity_like(column)
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


def build_plans(model: DataModel, options: Options) -> list[TablePlan]:
    return Planner(model, options).plan()


def _mentioned(table: Table, expressions: list[str]) -> set[str]:
    """The table's columns that SQL expressions name (quoted or not)."""
    found: set[str] = set()
    for expression in expressions:
        try:
            for kind, piece in tokens(expression):
                if kind == "literal" and piece.startswith('"'):
                    found.add(piece[1:-1].replace('""', '"'))
                elif kind == "other":
                    found.update(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", piece))
        except SqlTextError:
            continue
    return found & set(table.columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _with_basis(table: Table, rows: int, candidates: int) -> Table:
    """``table`` with distinct counts given as a share of the rows (pg_stats' negative
    n_distinct) turned into counts for ``candidates`` rows such that the ``rows`` kept of
    them hold as many distinct values as ``rows`` rows should: a value used by few rows
    may lose them all to the judge, one used by many keeps some."""
    if candidates <= rows or rows <= 0:
        return table
    columns = {}
    for name, column in table.columns.items():
        stats = column.stats
        if stats is not None and stats.n_distinct < 0:
            wanted = stats.distinct(rows)
            set_share = max(1.0 - stats.null_frac, 1e-9)  # only set values are values
            distinct = _distinct_for(wanted, rows, candidates, set_share)
            stats = replace(stats, n_distinct=float(distinct))
            column = replace(column, stats=stats)
        columns[name] = column
    return replace(table, columns=columns)


def _distinct_for(wanted: float, rows: int, candidates: int, set_share: float = 1.0) -> int:
    """D distinct values over ``candidates`` rows (``set_share`` of them not NULL), of
    which a random ``rows`` are kept, leave about D * (1 - (1 - rows / candidates) **
    (set candidates / D)): the D leaving ``wanted``."""
    keep = 1.0 - rows / candidates
    uses = candidates * set_share

    def left(d: float) -> float:
        return float(d * (1.0 - keep ** (uses / d)))

    low, high = max(wanted, 1.0), max(uses, wanted, 1.0)
    for _ in range(40):
        middle = (low + high) / 2
        if left(middle) < wanted:
            low = middle
        else:
            high = middle
    return max(1, round(high))
