"""Is the copy safe and whole? Checked on the target after the load (and by
``repro data verify``): no source value of a masked column survives, NULL and empty counts
are unchanged, every foreign key and unique constraint holds, the row counts agree.

Source values are remembered as 64-bit keyed digests, never as text: the check itself must
not become a copy of personal data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import sql

from repro.mask.copy_stream import Tracking
from repro.pg.tables import DataModel
from repro.pg.target_db import qualified

LEAK_CHECK = "no source value of a masked column in the target"
_SALT = os.urandom(16)  # per process: digests mean nothing outside this run


def digest(value: str) -> int:
    """A source value as the process's salted string hash (PYTHONHASHSEED): cheap, never
    the text, and meaningless outside this run."""
    return hash(value)


class _Mask(Protocol):
    spec: str


class _Copied(Protocol):
    key: str
    rows: int
    masked: dict[str, str]

    @property
    def counts(self) -> Any: ...


@dataclass
class Leaks:
    """Per masked column, what the copy tracked (see :class:`repro.mask.copy_stream.Tracking`)."""

    tracked: dict[tuple[str, str], Tracking] = field(default_factory=dict)

    def track(self, table: str, column: str) -> Tracking:
        return self.tracked.setdefault((table, column), Tracking())


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class VerifyResult:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_json() for c in self.checks]}


def _check(name: str, problems: list[str], fine: str, prefix: str = "") -> Check:
    return Check(name, not problems, fine if not problems else prefix + "; ".join(problems[:5]))


def _leaked(
    conn: psycopg.Connection[Any], schema: str, name: str, column: str, sources: set[int]
) -> int:
    """How many distinct target values of a column are source values (by digest)."""
    return sum(1 for d in _target_digests(conn, schema, name, column) if d in sources)


def _constant(spec: str) -> bool:
    """Transformers whose output is not checked against the source values: constants and
    NULL by construction, and ``mask``/``shift_date``, which keep a value's domain (a date
    stays a nearby date, a code another code), so an output may equal another row's
    original. For them the check that matters is that no row keeps its own value."""
    return spec.startswith(("constant:", "mask", "shift_date")) or spec in ("null", "keep")


def constraints_hold(conn: psycopg.Connection[Any], model: DataModel) -> list[Check]:
    """Foreign keys and unique constraints of the source exist in the target, validated."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname, co.conname, co.contype, co.convalidated
        FROM pg_catalog.pg_constraint co JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE co.contype IN ('f', 'u', 'p')
        """
    ).fetchall()
    present = {(r[0], r[1]): bool(r[3]) for r in rows}
    out = []
    for kind, label in (("foreign_key", "foreign keys hold"), ("unique", "unique keys hold")):
        expected = [
            (t.key, name)
            for t in model.tables.values()
            for name in (
                [fk.name for fk in t.foreign_keys]
                if kind == "foreign_key"
                else [u.name for u in t.uniques]
            )
        ]
        missing = [f"{t}.{n}" for t, n in expected if not present.get((t, n), False)]
        invalid_indexes = []
        if kind == "unique":
            invalid_indexes = [
                r[0]
                for r in conn.execute(
                    "SELECT i.indexrelid::regclass::text FROM pg_catalog.pg_index i "
                    "WHERE i.indisunique AND NOT i.indisvalid"
                )
            ]
        ok = not missing and not invalid_indexes
        detail = (
            f"{len(expected)} checked"
            if ok
            else (f"missing or not validated: {', '.join((missing + invalid_indexes)[:5])}")
        )
        out.append(Check(label, ok, detail))
    return out


def _target_counts(
    conn: psycopg.Connection[Any], schema: str, name: str, columns: list[str]
) -> tuple[int, dict[str, tuple[int, int]]]:
    parts: list[sql.Composable] = [sql.SQL("count(*)")]
    for column in columns:
        ident = sql.Identifier(column)
        parts.append(sql.SQL("count(*) - count({})").format(ident))
        parts.append(sql.SQL("count(*) FILTER (WHERE {}::text = '')").format(ident))
    row = conn.execute(
        sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(parts), qualified(schema, name))
    ).fetchone()
    assert row is not None
    values = list(row)
    return int(values[0]), {
        column: (int(values[1 + 2 * i]), int(values[2 + 2 * i])) for i, column in enumerate(columns)
    }


def _target_digests(
    conn: psycopg.Connection[Any], schema: str, name: str, column: str
) -> Iterable[int]:
    query = sql.SQL("SELECT DISTINCT {c}::text FROM {t} WHERE {c} IS NOT NULL").format(
        c=sql.Identifier(column), t=qualified(schema, name)
    )
    # a server-side cursor (the values never all sit in memory) needs a transaction
    with conn.transaction(), conn.cursor(name="repro_verify") as cur:
        cur.itersize = 50_000
        cur.execute(query)
        for row in cur:
            if row[0] != "":
                yield digest(str(row[0]))


def verify_copy(
    conn: psycopg.Connection[Any],
    model: DataModel,
    tables: Iterable[_Copied],
    masks: Mapping[tuple[str, str], _Mask],
    leaks: Leaks,
) -> VerifyResult:
    result = VerifyResult()
    leaked: list[str] = []
    unchanged: list[str] = []
    count_problems: list[str] = []
    for copied in tables:
        table = model.tables[copied.key]
        columns = [c.name for c in table.copied_columns]
        masked = [c for c in columns if (copied.key, c) in masks]
        rows, counts = _target_counts(conn, table.schema, table.name, masked)
        if rows != copied.rows:
            count_problems.append(f"{copied.key}: {rows} rows in the target, {copied.rows} copied")
        for column in masked:
            index = columns.index(column)
            want = (copied.counts.nulls[index], copied.counts.empties[index])
            spec = masks[(copied.key, column)].spec
            if spec != "null" and counts[column] != want:
                count_problems.append(
                    f"{copied.key}.{column}: NULL/empty {counts[column]} in the target, "
                    f"{want} in the source"
                )
            if _constant(spec):
                continue
            tracking = leaks.tracked.get((copied.key, column), Tracking())
            sources = tracking.seen
            found = _leaked(conn, table.schema, table.name, column, sources)
            if found:
                leaked.append(f"{copied.key}.{column}: {found} values")
            same = tracking.unchanged
            if same:
                unchanged.append(f"{copied.key}.{column}: {same} rows")
    result.checks += [
        _check(LEAK_CHECK, leaked, "none found", "found: "),
        _check("no masked value left unchanged", unchanged, "none"),
        _check("row, NULL and empty counts equal", count_problems, "equal"),
    ]
    result.checks += constraints_hold(conn, model)
    return result


def verify_databases(
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    model: DataModel,
    masked: Mapping[tuple[str, str], str],
) -> VerifyResult:
    """``repro data verify``: the same checks from the two databases alone. ``masked``:
    (table, column) -> spec, from the rules. NULL/empty counts are compared for tables
    copied whole (same row count); a subset cannot be matched row for row afterwards."""
    result = VerifyResult()
    leaked: list[str] = []
    count_problems: list[str] = []
    by_table: dict[str, list[str]] = {}
    for (table_key, column), _spec in sorted(masked.items()):
        by_table.setdefault(table_key, []).append(column)
    for table_key, columns in sorted(by_table.items()):
        table = model.tables[table_key]
        src_rows, src_counts = _target_counts(source, table.schema, table.name, columns)
        dst_rows, dst_counts = _target_counts(target, table.schema, table.name, columns)
        for column in columns:
            spec = masked[(table_key, column)]
            if src_rows == dst_rows and spec != "null" and src_counts[column] != dst_counts[column]:
                count_problems.append(
                    f"{table_key}.{column}: NULL/empty {dst_counts[column]} in the target, "
                    f"{src_counts[column]} in the source"
                )
            if _constant(spec):
                continue
            sources = set(_target_digests(source, table.schema, table.name, column))
            found = _leaked(target, table.schema, table.name, column, sources)
            if found:
                leaked.append(f"{table_key}.{column}: {found} values")
    result.checks += [
        _check(LEAK_CHECK, leaked, "none found", "found: "),
        _check("NULL and empty counts equal (tables copied whole)", count_problems, "equal"),
    ]
    result.checks += constraints_hold(target, model)
    return result
