"""How many rows each generated table gets.

From the snapshot's row estimate times ``--scale``; ``--rows`` overrides a table; and with
``--default-rows N`` a table the snapshot estimates at no rows (never analyzed, or empty:
a schema-only snapshot) gets N rows as a root table, and more as a child: each level of
foreign keys below a root multiplies by :data:`FAN_OUT`, for at most :data:`FAN_OUT_LEVELS`
levels (orders under customers, items under orders). A default count never asks for more
rows than the table's unique keys can hold (one profile per user, a pair of parents).
"""

from __future__ import annotations

from collections.abc import Mapping

from repro.pg.tables import DataModel, Table, scaled

FAN_OUT = 2
FAN_OUT_LEVELS = 3


def estimated(model: DataModel, table: Table) -> int | None:
    """The snapshot's estimate, a partitioned table's as the sum of its partitions'."""
    estimate = table.rows_estimate
    if table.partitions and not estimate:
        parts = [model.tables[p].rows_estimate for p in table.partitions]
        if any(p is not None for p in parts):
            estimate = sum(p or 0 for p in parts)
    return estimate


def row_counts(
    model: DataModel,
    keys: list[str],
    *,
    scale: float,
    rows: Mapping[str, int],
    default_rows: int | None,
) -> dict[str, int]:
    """Rows for each of ``keys`` (the generated tables)."""
    out: dict[str, int] = {}
    soft: list[str] = []
    for key in keys:
        table = model.tables[key]
        if key in rows:
            out[key] = max(0, int(rows[key]))
            continue
        estimate = estimated(model, table)
        if default_rows is not None and not estimate:
            soft.append(key)
        else:
            out[key] = scaled(estimate, scale)
    if soft:
        assert default_rows is not None
        depth = _depths(model, set(keys))
        for key in parents_first(model, soft):
            level = min(depth.get(key, 0), FAN_OUT_LEVELS)
            wanted = default_rows * FAN_OUT**level
            out[key] = min(wanted, _capacity(model.tables[key], out))
    return out


def _generated_parents(table: Table, keys: set[str]) -> list[str]:
    return [fk.table for fk in table.foreign_keys if fk.table in keys and fk.table != table.key]


def _depths(model: DataModel, keys: set[str]) -> dict[str, int]:
    """Longest chain of foreign keys above each table (a cycle is cut where it closes)."""
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(key: str) -> int:
        if key in depth:
            return depth[key]
        if key in visiting:
            return -1  # closes a cycle: this edge does not count
        visiting.add(key)
        above = [visit(p) for p in _generated_parents(model.tables[key], keys)]
        visiting.discard(key)
        depth[key] = max((a + 1 for a in above if a >= 0), default=0)
        return depth[key]

    for key in sorted(keys):
        visit(key)
    return depth


def parents_first(model: DataModel, keys: list[str]) -> list[str]:
    """``keys`` with each table after the tables it references (cycles cut)."""
    wanted = set(keys)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str) -> None:
        if state.get(key):
            return
        state[key] = 1
        for parent in _generated_parents(model.tables[key], wanted):
            visit(parent)
        state[key] = 2
        order.append(key)

    for key in sorted(keys):
        visit(key)
    return order


def _capacity(table: Table, counts: Mapping[str, int]) -> int:
    """The most rows the table's unique keys allow, judged from what bounds them cheaply:
    foreign keys (as many as the parents' combinations) and booleans and enums."""
    best = 2**62
    for unique in table.uniques:
        capacity = 1
        covered: set[str] = set()
        for fk in sorted(table.foreign_keys, key=lambda f: -len(f.columns)):
            if set(fk.columns) <= set(unique.columns) and not set(fk.columns) & covered:
                covered |= set(fk.columns)
                if fk.table == table.key or fk.table not in counts:
                    capacity = 2**62
                    break
                capacity *= max(counts[fk.table], 0)
        else:
            for name in unique.columns:
                if name in covered:
                    continue
                column = table.columns.get(name)
                if column is None:
                    continue
                if column.type.array:
                    capacity = 2**62
                elif column.type.kind == "bool":
                    capacity *= 2
                elif column.type.kind == "enum" and column.type.labels:
                    capacity *= len(column.type.labels)
                else:
                    capacity = 2**62
                if capacity >= 2**62:
                    break
        best = min(best, capacity)
    return best
