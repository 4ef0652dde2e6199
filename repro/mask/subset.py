"""Which rows to copy: everything, filtered tables with their foreign keys kept whole, or a
subset (the bug's rows) with the rows they need.

Without a subset every table is copied, but a row whose parent was filtered out (a table's
``where`` in the rules, or a skipped table) is left out too, so every foreign key holds in
the copy. With a subset the seed rows are found, then their parents (always, recursively)
and their children (up to a limit per table), tracked by ``ctid`` inside the source's
single REPEATABLE READ snapshot, where a ctid is a stable row address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from repro.errors import UsageError
from repro.pg.tables import DataModel, ForeignKey, Table
from repro.pg.target_db import qualified
from repro.text import one_line

TRUE = sql.SQL("true")


@dataclass
class Selection:
    """Per table: a SQL condition on its rows (alias ``t``)."""

    where: dict[str, sql.Composable] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def condition(self, key: str) -> sql.Composable:
        return self.where.get(key, TRUE)


def _join(fk: ForeignKey, child: str, parent: str) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(parent), sql.Identifier(p), sql.Identifier(child), sql.Identifier(c)
        )
        for c, p in zip(fk.columns, fk.ref_columns, strict=False)
    )


def _null(fk: ForeignKey, alias: str) -> sql.Composable:
    # MATCH SIMPLE: a reference with any NULL column points nowhere, and holds
    return sql.SQL(" OR ").join(
        sql.SQL("{}.{} IS NULL").format(sql.Identifier(alias), sql.Identifier(c))
        for c in fk.columns
    )


def full_copy(model: DataModel, filters: Mapping[str, str | None], excluded: set[str]) -> Selection:
    """Every row, except those a ``where`` filter or an excluded table takes out, and the
    rows that would then point at a missing parent (recursively, along the keys)."""
    selection = Selection()
    building: set[str] = set()

    def condition(key: str, depth: int) -> sql.Composable:
        if key in selection.where:
            return selection.where[key]
        if key in excluded:
            selection.where[key] = sql.SQL("false")
            return selection.where[key]
        table = model.tables[key]
        parts: list[sql.Composable] = []
        if filters.get(key):
            parts.append(sql.SQL("({})").format(sql.SQL(str(filters[key]))))
        building.add(key)
        for fk in table.foreign_keys:
            parent = model.tables.get(fk.table)
            if parent is None or fk.table in building or depth > 20:
                continue
            inner = condition(fk.table, depth + 1)
            if inner is TRUE:
                continue
            alias = f"p{depth}"
            parts.append(
                sql.SQL("({} OR EXISTS (SELECT 1 FROM {} {} WHERE {} AND {}))").format(
                    _null(fk, "t"),
                    qualified(parent.schema, parent.name),
                    sql.Identifier(alias),
                    _join(fk, "t", alias),
                    _rename(inner, alias),
                )
            )
        building.discard(key)
        result: sql.Composable = sql.SQL(" AND ").join(parts) if parts else TRUE
        selection.where[key] = result
        return result

    for key in model.tables:
        condition(key, 0)
    for key, where in list(selection.where.items()):
        if where is not TRUE and key not in excluded and not filters.get(key):
            selection.notes.append(f"{key}: rows whose parent row is not copied are left out too")
    return selection


def _rename(condition: sql.Composable, alias: str) -> sql.Composable:
    """Conditions name their own row ``t`` (bare column names resolve there too); nested
    inside a parent's EXISTS, ``t`` is re-bound to the parent row ``alias``."""
    if condition is TRUE:
        return condition
    return sql.SQL("EXISTS (SELECT 1 FROM (SELECT {}.*) t WHERE {})").format(
        sql.Identifier(alias), condition
    )


# ------------------------------------------------------------------------------- subsets


@dataclass(frozen=True)
class Seed:
    table: str
    condition: str


def parse_seed(text: str, model: DataModel, *, include: bool) -> Seed:
    """``--subset "orders: created_at > now() - interval '7 days'"`` or
    ``--include "orders.id = 4711"`` (a table without a schema is looked up by name)."""
    if include:
        head, sep, rest = text.partition(" ")
        table_part, dot, column = head.rpartition(".")
        if not dot or not table_part or not sep:
            raise UsageError(f"--include {text!r}: expected TABLE.COLUMN = VALUE")
        return Seed(_table(table_part, model, text), f"{_quote(column)} {rest.strip()}")
    table_part, sep, condition = text.partition(":")
    if not sep or not condition.strip():
        raise UsageError(f"--subset {text!r}: expected 'TABLE: CONDITION'")
    return Seed(_table(table_part.strip(), model, text), condition.strip())


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _table(name: str, model: DataModel, text: str) -> str:
    if name in model.tables:
        return name
    matches = [key for key, t in model.tables.items() if t.name == name]
    if len(matches) == 1:
        return matches[0]
    raise UsageError(
        f"{text!r}: no table {name!r} in the source"
        + (f" (ambiguous: {', '.join(matches)})" if matches else "")
    )


def subset(
    conn: psycopg.Connection[Any],
    model: DataModel,
    seeds: list[Seed],
    filters: Mapping[str, str | None],
    children_limit: int,
) -> Selection:
    rows: dict[str, set[str]] = {}
    children_taken: dict[str, int] = {}
    queue: list[tuple[str, list[str], bool]] = []

    def add(key: str, ctids: list[str], expand_children: bool) -> None:
        have = rows.setdefault(key, set())
        new = [c for c in ctids if c not in have]
        if new:
            have.update(new)
            queue.append((key, new, expand_children))

    for seed in seeds:
        table = model.tables[seed.table]
        where: sql.Composable = sql.SQL(seed.condition)
        if filters.get(seed.table):
            where = sql.SQL("({}) AND ({})").format(where, sql.SQL(str(filters[seed.table])))
        query = sql.SQL("SELECT t.ctid::text FROM {} t WHERE {}").format(
            qualified(table.schema, table.name), where
        )
        try:
            found = [r[0] for r in conn.execute(query)]
        except psycopg.Error as exc:
            raise UsageError(
                f"subset condition on {seed.table} failed: {one_line(str(exc))}"
            ) from None
        add(seed.table, found, True)
    children_of: dict[str, list[tuple[Table, ForeignKey]]] = {}
    for table in model.tables.values():
        for fk in table.foreign_keys:
            children_of.setdefault(fk.table, []).append((table, fk))
    while queue:
        key, ctids, expand = queue.pop(0)
        table = model.tables[key]
        for fk in table.foreign_keys:
            parent = model.tables.get(fk.table)
            if parent is None:
                continue
            query = sql.SQL(
                "SELECT DISTINCT p.ctid::text FROM {} p JOIN {} t ON {} "
                "WHERE t.ctid = ANY({}::tid[])"
            ).format(
                qualified(parent.schema, parent.name),
                qualified(table.schema, table.name),
                _join(fk, "t", "p"),
                sql.Literal(ctids),
            )
            add(fk.table, [r[0] for r in conn.execute(query)], False)
        if not expand:
            continue
        for child, fk in children_of.get(key, []):
            room = children_limit - children_taken.get(child.key, 0)
            if room <= 0:
                continue
            query = sql.SQL(
                "SELECT c.ctid::text FROM {} c JOIN {} t ON {} "
                "WHERE t.ctid = ANY({}::tid[]) LIMIT {}"
            ).format(
                qualified(child.schema, child.name),
                qualified(table.schema, table.name),
                _join(fk, "c", "t"),
                sql.Literal(ctids),
                sql.Literal(room),
            )
            found = [r[0] for r in conn.execute(query)]
            children_taken[child.key] = children_taken.get(child.key, 0) + len(found)
            add(child.key, found, True)
    selection = Selection()
    for key in model.tables:
        ctids = sorted(rows.get(key, ()))
        selection.where[key] = (
            sql.SQL("t.ctid = ANY({}::tid[])").format(sql.Literal(ctids))
            if ctids
            else sql.SQL("false")
        )
    for key, taken in sorted(children_taken.items()):
        if taken >= children_limit:
            selection.notes.append(
                f"{key}: children cut at {children_limit} rows (--children-limit)"
            )
    return selection
