"""How close the generated data is to the snapshot: pg_stats of the target after ANALYZE,
compared with the snapshot's, column by column."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from repro.pg.tables import Column, Table

NULL_FRAC_TOLERANCE = 0.02
DISTINCT_TOLERANCE = 0.10


@dataclass
class Measure:
    expected: float | None
    generated: float | None
    ok: bool

    def to_json(self) -> dict[str, Any]:
        return {"snapshot": self.expected, "generated": self.generated, "ok": self.ok}


@dataclass
class ColumnFidelity:
    column: str
    null_frac: Measure
    n_distinct: Measure
    computed: bool = False  # from other columns (a CHECK says so): its statistics follow

    @property
    def ok(self) -> bool:
        return self.null_frac.ok and self.n_distinct.ok


@dataclass
class TableFidelity:
    table: str
    rows: Measure
    columns: list[ColumnFidelity] = field(default_factory=list)

    @property
    def off(self) -> list[ColumnFidelity]:
        return [c for c in self.columns if not c.ok]


def _distinct_count(n_distinct: float | None, rows: float) -> float | None:
    if n_distinct is None:
        return None
    return n_distinct if n_distinct >= 0 else -n_distinct * rows


def expected_distinct(column: Column, rows: int) -> float | None:
    """Distinct non-null values the snapshot's statistics call for in ``rows`` rows."""
    stats = column.stats
    if stats is None:
        return None
    non_null = rows * (1 - (stats.null_frac if column.nullable else 0.0))
    count = stats.distinct(rows) if stats.n_distinct < 0 else stats.n_distinct
    return round(min(count, non_null), 1)


def distinct_ok(expected: float, generated: float) -> bool:
    """Within 10%, or exact (to one value) for small domains."""
    return abs(generated - expected) <= max(DISTINCT_TOLERANCE * expected, 1.0)


def measure(
    conn: psycopg.Connection[Any],
    tables: Mapping[str, tuple[Table, int, int]],
    computed: Collection[tuple[str, str]] = (),
    caps: Mapping[tuple[str, str], int] | None = None,
    limits: Mapping[tuple[str, str], int] | None = None,
) -> list[TableFidelity]:
    """``tables``: key -> (the snapshot's table, rows asked for, rows generated);
    ``computed``: (table, column) pairs derived from other columns, reported not judged;
    ``caps``: distinct counts that replace the snapshot's (a foreign key whose parent
    table was scaled or cut down); ``limits``: the most distinct values the planned rows
    can hold (a tiny table whose common values fill most of it)."""
    keys = sorted(tables)
    rows = conn.execute(
        """
        SELECT s.schemaname || '.' || s.tablename, s.attname, s.inherited, s.null_frac,
               s.n_distinct
        FROM pg_catalog.pg_stats s
        WHERE s.schemaname || '.' || s.tablename = ANY(%s)
        """,
        (keys,),
    ).fetchall()
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for key, column, inherited, null_frac, n_distinct in rows:
        table = tables[key][0]
        # a partitioned table's statistics are the inherited ones (over its partitions)
        if bool(inherited) == bool(table.partitions) or (key, column) not in found:
            found[(key, column)] = (float(null_frac), float(n_distinct))
    out = []
    for key in keys:
        table, expected_rows, generated_rows = tables[key]
        result = TableFidelity(
            key,
            Measure(
                float(expected_rows),
                float(generated_rows),
                abs(generated_rows - expected_rows) <= DISTINCT_TOLERANCE * expected_rows,
            ),
        )
        for column in table.columns.values():
            if column.stats is None or generated_rows == 0:
                continue
            got = found.get((key, column.name))
            want_null = column.stats.null_frac if column.nullable else 0.0
            want_distinct = expected_distinct(column, generated_rows)
            override = (caps or {}).get((key, column.name))
            if want_distinct is not None and override is not None:
                want_distinct = float(override)  # a foreign key, with its parent scaled
            limit = (limits or {}).get((key, column.name))
            if want_distinct is not None and limit is not None:
                want_distinct = min(want_distinct, float(limit))
            if got is None:
                result.columns.append(
                    ColumnFidelity(
                        column.name,
                        Measure(want_null, None, False),
                        Measure(want_distinct, None, False),
                    )
                )
                continue
            null_frac, n_distinct = got
            distinct = _distinct_count(n_distinct, generated_rows)
            derived = (key, column.name) in computed or column.generated
            result.columns.append(
                ColumnFidelity(
                    column.name,
                    Measure(
                        round(want_null, 4),
                        round(null_frac, 4),
                        abs(null_frac - want_null) <= NULL_FRAC_TOLERANCE,
                    ),
                    Measure(
                        want_distinct,
                        None if distinct is None else round(distinct, 1),
                        want_distinct is None
                        or derived
                        or (distinct is not None and distinct_ok(want_distinct, distinct)),
                    ),
                    computed=derived,
                )
            )
        out.append(result)
    return out
