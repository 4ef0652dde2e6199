"""A captured database as typed objects: tables, columns, keys and statistics.

Built once from a snapshot's ``database`` facet data (or a live source's, for a masked copy);
everything downstream (the generator's plan and fidelity report, the masked copy's subset,
copy and checks) reads this instead of the raw snapshot dict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.errors import DataGenerationError
from repro.pg.sql_text import SqlTextError, check_expression
from repro.pg.types import TypeInfo, resolve_type

GENERATABLE_KINDS = ("table", "partitioned_table")


@dataclass(frozen=True)
class ColumnStats:
    """pg_stats of one column, as the snapshot kept them."""

    null_frac: float
    n_distinct: float  # pg_stats form: a count, or minus a fraction of the rows
    avg_width: int | None
    mcv_values: tuple[str, ...]  # the kept values (or fingerprints when fingerprinted)
    mcv_freqs: tuple[float, ...]
    mcv_fingerprinted: bool
    mcv_count: int  # how many MCVs pg_stats had (the snapshot may keep fewer)
    mcv_frequency_sum: float  # of all of them
    bounds: tuple[Any, ...] | None  # histogram bounds (quantiles), None if omitted/absent

    def distinct(self, rows: float) -> float:
        """The number of distinct non-null values as a count, for ``rows`` rows."""
        if self.n_distinct >= 0:
            return self.n_distinct
        return -self.n_distinct * rows


@dataclass
class Column:
    name: str
    type: TypeInfo
    nullable: bool
    default: str | None
    generated: bool  # GENERATED ALWAYS AS (...) STORED: PostgreSQL computes it
    identity: str | None  # "always" / "by_default"
    stats: ColumnStats | None
    personal: bool

    @property
    def copied(self) -> bool:
        """Whether COPY writes this column (generated columns are computed by the server)."""
        return not self.generated


@dataclass(frozen=True)
class UniqueKey:
    name: str
    columns: tuple[str, ...]
    primary: bool
    predicate: str | None = None  # a partial unique index's WHERE: unique among those rows


@dataclass(frozen=True)
class UniqueIndex:
    """A unique index no set of plain columns stands for (on expressions): the generator
    has PostgreSQL evaluate it on candidate rows and keeps one row per value."""

    name: str
    items: tuple[str, ...]  # SQL: quoted column names and parenthesized expressions
    predicate: str | None  # a partial index's WHERE
    nulls_distinct: bool  # False: NULLS NOT DISTINCT (PostgreSQL 15+)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    table: str  # referenced table key
    ref_columns: tuple[str, ...]
    deferrable: bool


@dataclass
class Table:
    key: str
    schema: str
    name: str
    kind: str
    columns: dict[str, Column]  # in position order
    uniques: list[UniqueKey]
    foreign_keys: list[ForeignKey]
    checks: dict[str, str]  # constraint name -> definition
    rows_estimate: int | None
    partition_of: str | None
    partition_by: str | None = None  # "RANGE (created_at)": how a partitioned table splits
    partition_bound: str | None = None  # "FOR VALUES FROM (...) TO (...)" of a partition
    partitions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what the generator cannot satisfy
    unique_indexes: list[UniqueIndex] = field(default_factory=list)

    @property
    def copied_columns(self) -> list[Column]:
        return [c for c in self.columns.values() if c.copied]


@dataclass
class DataModel:
    tables: dict[str, Table]  # only the tables rows are written to (partitions resolved)
    sequences: dict[str, Mapping[str, Any]]
    major: int | None


def _stats(raw: Mapping[str, Any] | None) -> ColumnStats | None:
    if not raw or not raw.get("analyzed"):
        return None
    mcv = raw.get("mcv") or {}
    frequencies: Mapping[str, float] = mcv.get("frequencies") or {}
    histogram = raw.get("histogram") or {}
    bounds = histogram.get("bounds")
    n_distinct = raw.get("n_distinct")
    return ColumnStats(
        null_frac=float(raw.get("null_frac") or 0.0),
        n_distinct=float(n_distinct) if n_distinct is not None else 0.0,
        avg_width=raw.get("avg_width"),
        mcv_values=tuple(frequencies),
        mcv_freqs=tuple(float(f) for f in frequencies.values()),
        mcv_fingerprinted=bool(mcv.get("values_fingerprinted")),
        mcv_count=int(mcv.get("count") or len(frequencies)),
        mcv_frequency_sum=float(mcv.get("frequency_sum") or sum(frequencies.values())),
        bounds=tuple(bounds) if bounds else None,
    )


def _column(name: str, raw: Mapping[str, Any], stats: Any, database: Mapping[str, Any]) -> Column:
    info = resolve_type(str(raw.get("type") or "text"), database)
    return Column(
        name=name,
        type=info,
        nullable=bool(raw.get("nullable", True)) and not info.domain_not_null,
        default=raw.get("default"),
        generated=bool(raw.get("generated")),
        identity=raw.get("identity"),
        stats=_stats(stats),
        personal=bool((stats or {}).get("personal")),
    )


def build_model(database: Mapping[str, Any]) -> DataModel:
    """The generator's model of ``database`` (a snapshot's database facet data)."""
    raw_tables: Mapping[str, Any] = database.get("tables") or {}
    if not raw_tables:
        raise DataGenerationError("the snapshot's database facet holds no tables")
    statistics: Mapping[str, Any] = database.get("statistics") or {}
    tables: dict[str, Table] = {}
    for key, raw in sorted(raw_tables.items()):
        if raw.get("kind") not in GENERATABLE_KINDS:
            continue
        column_stats = (statistics.get(key) or {}).get("columns") or {}
        ordered = sorted(
            (raw.get("columns") or {}).items(), key=lambda item: item[1].get("position") or 0
        )
        columns = {
            name: _column(name, col, column_stats.get(name), database) for name, col in ordered
        }
        uniques: list[UniqueKey] = []
        unsupported_uniques: list[str] = []
        foreign_keys: list[ForeignKey] = []
        checks: dict[str, str] = {}
        for cname, con in sorted((raw.get("constraints") or {}).items()):
            kind = con.get("type")
            cols = tuple(con.get("columns") or ())
            if kind in ("primary_key", "unique") and cols:
                uniques.append(UniqueKey(cname, cols, kind == "primary_key"))
            elif kind == "foreign_key" and cols and con.get("references"):
                ref = con["references"]
                foreign_keys.append(
                    ForeignKey(
                        cname,
                        cols,
                        str(ref.get("table")),
                        tuple(ref.get("columns") or ()),
                        bool(con.get("deferrable")),
                    )
                )
            elif kind == "check" and con.get("definition") and not con.get("inherited"):
                checks[cname] = str(con["definition"])
        # Unique indexes without a constraint (CREATE UNIQUE INDEX) bind the data just the
        # same. One on expressions of single columns (lower(email)) stands for those columns
        # being unique, which generated text (never differing by case alone) carries over.
        # The data generator has PostgreSQL judge the others, partial ones ((admin) WHERE
        # admin binds the rows its predicate picks) and NULLS NOT DISTINCT ones (NULLs
        # collide) on candidate rows: unique_indexes.
        judged: list[UniqueIndex] = []
        for iname, index in sorted((raw.get("indexes") or {}).items()):
            if not index.get("unique") or index.get("constraint") or not index.get("columns"):
                continue
            if index.get("parent_index"):
                continue  # a partition's share of its parent's index
            unique_columns = index_columns(index, columns_by_name=raw.get("columns") or {})
            nulls_distinct = " NULLS NOT DISTINCT" not in str(index.get("definition") or "")
            predicate = index.get("predicate")
            if unique_columns is not None:
                uniques.append(
                    UniqueKey(iname, unique_columns, False, str(predicate) if predicate else None)
                )
            if unique_columns is None or predicate or not nulls_distinct:
                judged_index = unique_index(iname, index, raw.get("columns") or {}, nulls_distinct)
                if judged_index is None:
                    unsupported_uniques.append(
                        f"{key}: unique index {iname}: its expressions cannot be read as SQL"
                    )
                else:
                    judged.append(judged_index)
        estimate = raw.get("rows_estimate")
        tables[key] = Table(
            key=key,
            schema=str(raw.get("schema")),
            name=str(raw.get("name")),
            kind=str(raw.get("kind")),
            columns=columns,
            uniques=uniques,
            foreign_keys=foreign_keys,
            checks=checks,
            rows_estimate=None if estimate is None or estimate < 0 else int(estimate),
            partition_of=raw.get("partition_of"),
            partition_by=raw.get("partition_by"),
            partition_bound=raw.get("partition_bound"),
            problems=unsupported_uniques,
            unique_indexes=judged,
        )
    for table in tables.values():
        if table.partition_of in tables:
            tables[table.partition_of].partitions.append(table.key)
    server = database.get("server") or {}
    return DataModel(tables, dict(database.get("sequences") or {}), server.get("major"))


_SIMPLE_EXPRESSION = re.compile(
    r'^\(?(?:lower|upper|btrim|trim)?\(?\(?("?[A-Za-z_][\w$ ]*"?)\)?(?:::\w+(?: \w+)*)?\)?\)?$'
)


def index_columns(
    index: Mapping[str, Any], columns_by_name: Mapping[str, Any]
) -> tuple[str, ...] | None:
    """The columns a unique index makes unique, expressions of one column included; None
    when an expression is anything else."""
    out = []
    for item in index.get("columns") or ():
        text = str(item).strip()
        if text in columns_by_name:
            out.append(text)
            continue
        match = _SIMPLE_EXPRESSION.match(text)
        name = match.group(1).strip('"') if match else None
        if name is None or name not in columns_by_name:
            return None
        out.append(name)
    return tuple(out)


def unique_index(
    name: str, index: Mapping[str, Any], columns_by_name: Mapping[str, Any], nulls_distinct: bool
) -> UniqueIndex | None:
    """A unique index as SQL the judge can evaluate (None: a text that is not one
    expression, which a snapshot from elsewhere may hold)."""
    items = []
    for item in index.get("columns") or ():
        text = str(item).strip()
        if text in columns_by_name:
            items.append('"' + text.replace('"', '""') + '"')
            continue
        try:
            check_expression(text)
        except SqlTextError:
            return None
        items.append(f"({text})")
    predicate = index.get("predicate")
    if predicate is not None:
        try:
            check_expression(str(predicate))
        except SqlTextError:
            return None
    return UniqueIndex(name, tuple(items), predicate and str(predicate), nulls_distinct)


def scaled(count: int | None, scale: float) -> int:
    if count is None:
        return 0
    return max(0, math.floor(count * scale + 0.5))
