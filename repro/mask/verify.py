"""Is the copy safe and whole? Checked on the target after the load (and by
``repro data verify``): no identifying source value of a masked column survives, no row
keeps its own value, NULL and empty counts are unchanged, every foreign key and unique
constraint or index the source enforces holds, the row counts agree.

A source value found in the target is judged by what it is (see
:func:`repro.mask.specs.leak_class`): an email, phone, id, card or token is a leak wherever
it turns up; a common value (a fake name, a city, a shifted date) that equals another row's
real one is a coincidence, reported as information. Containers are judged leaf by leaf
(each email of a ``text[]``, each value under a masked JSON key).

Source values are remembered as 64-bit keyed digests, never as text: the check itself must
not become a copy of personal data.

Right after ``repro data anonymize``, a scalar column's written values are not read back: the
copy digested them as it wrote them into the empty target (see :mod:`repro.mask.written`),
which saves a DISTINCT scan of every masked column. Counts and constraints are read from the
target; ``repro data verify`` reads both databases whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import sql

from repro.errors import DataGenerationError
from repro.mask.containers import Container, units
from repro.mask.copy_stream import (
    LeafTracking,
    Tracking,
    column_values,
    copy_text,
    tracking_for,
)
from repro.mask.enforced import compare, describe, read_enforced
from repro.pg.tables import DataModel
from repro.pg.target_db import qualified

LEAK_CHECK = "no source value of a masked column in the target"
UNCHANGED_CHECK = "no masked value left unchanged"
COMMON_CHECK = "common values also in the source (information)"


def digest(value: str) -> int:
    """A source value as the process's salted string hash (PYTHONHASHSEED): cheap, never
    the text, and meaningless outside this run."""
    return hash(value)


class _Mask(Protocol):
    spec: str

    @property
    def transform(self) -> Any: ...


class _Copied(Protocol):
    key: str
    rows: int
    masked: dict[str, str]

    @property
    def counts(self) -> Any: ...


@dataclass
class Leaks:
    """Per masked column, what the copy tracked (see :class:`repro.mask.copy_stream.Tracking`)."""

    tracked: dict[tuple[str, str], Tracking | LeafTracking] = field(default_factory=dict)

    def track(self, table: str, column: str, transformer: Any) -> Tracking | LeafTracking:
        found = self.tracked.get((table, column))
        if found is None:
            found = self.tracked[(table, column)] = tracking_for(transformer)
        return found

    def by_spec(self, table: str, column: str, spec: str) -> dict[str, Tracking]:
        """The column's trackings by leaf spec (a scalar column has one: its own spec)."""
        found = self.tracked.get((table, column))
        if isinstance(found, LeafTracking):
            return found.by_spec
        return {spec: found} if found is not None else {}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    info: bool = False  # reported, never a failure

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.name, "ok": self.ok, "detail": self.detail}
        if self.info:
            out["info"] = True
        return out


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


@dataclass
class _Found:
    """Distinct target leaves that are source values, by what they are."""

    identifying: dict[str, int] = field(default_factory=dict)  # spec -> count
    common: dict[str, int] = field(default_factory=dict)

    def describe(self, where: str, kind: str) -> list[str]:
        found = self.identifying if kind == "identifying" else self.common
        return [f"{where}: {n:,} values ({spec})" for spec, n in sorted(found.items())]


def _judge_target(
    conn: psycopg.Connection[Any],
    schema: str,
    name: str,
    column: str,
    transformer: Any,
    sources: Mapping[str, set[int]],
) -> _Found:
    found = _Found()
    if not isinstance(transformer, Container):  # a scalar column: values are distinct
        seen = sources.get(transformer.spec)
        if not seen:
            return found
        with _distinct_text(conn, schema, name, column) as values:
            for value in values:
                if digest(value) in seen:
                    bucket = found.identifying if transformer.identifying(value) else found.common
                    bucket[transformer.spec] = bucket.get(transformer.spec, 0) + 1
        return found
    counted: set[tuple[str, int]] = set()
    with _distinct_text(conn, schema, name, column) as values:
        for value in values:
            for leaf, unit in units(transformer, value):
                seen = sources.get(leaf.spec)
                if not seen or not unit:
                    continue
                key = digest(unit)
                if key not in seen or (leaf.spec, key) in counted:
                    continue
                counted.add((leaf.spec, key))
                bucket = found.identifying if leaf.identifying(unit) else found.common
                bucket[leaf.spec] = bucket.get(leaf.spec, 0) + 1
    return found


def _judge_written(spec: str, tracking: Tracking) -> _Found:
    """:func:`_judge_target` of a scalar column from the copy's own digests: its distinct
    written values that are source values, as judged when they were written."""
    found = _Found()
    identifying, common = tracking.written.found(tracking.seen)
    if identifying:
        found.identifying[spec] = identifying
    if common:
        found.common[spec] = common
    return found


def _source_digests(
    conn: psycopg.Connection[Any], schema: str, name: str, column: str, transformer: Any
) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    with _distinct_text(conn, schema, name, column) as values:
        for value in values:
            for leaf, unit in units(transformer, value):
                if unit:
                    out.setdefault(leaf.spec, set()).add(digest(unit))
    return out


def _checked(spec: str) -> bool:
    """Whether a column's values are looked for in the target at all: not when the rules
    keep it, NULL it or write a constant."""
    return not (spec.startswith("constant:") or spec in ("null", "keep"))


def constraints_hold(
    source: psycopg.Connection[Any], target: psycopg.Connection[Any], model: DataModel
) -> list[Check]:
    """Every foreign key, primary key, unique constraint and unique index the source
    enforces, enforced by the target (valid, unless the source's own is NOT VALID)."""
    tables = list(model.tables)
    wanted = read_enforced(source, tables)
    present = read_enforced(target, tables)
    out = []
    for label, kinds, what in (
        ("foreign keys hold", ("foreign key",), "foreign keys"),
        ("unique keys hold", ("primary key", "unique", "unique index"), "unique keys"),
    ):
        comparison = compare(wanted, present, kinds)
        out.append(Check(label, comparison.ok, describe(comparison, what)))
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


@contextlib.contextmanager
def _distinct_text(
    conn: psycopg.Connection[Any], schema: str, name: str, column: str
) -> Iterator[Iterator[str]]:
    query = sql.SQL("SELECT DISTINCT {v} FROM {t} WHERE {c} IS NOT NULL").format(
        v=copy_text(column), c=sql.Identifier(column), t=qualified(schema, name)
    )
    with column_values(conn, query) as values:
        yield (value for value in values if value != "")


def _leak_checks(leaked: list[str], common: list[str]) -> list[Check]:
    return [
        _check(LEAK_CHECK, leaked, "none found", "identifying values found: "),
        Check(
            COMMON_CHECK,
            True,
            "none"
            if not common
            else "equal to some row's source value, as values drawn from small pools (names, "
            "cities, dates, short codes) are; whether a row kept its own value is the check "
            f"{UNCHANGED_CHECK!r}: " + "; ".join(common[:5]),
            info=True,
        ),
    ]


def verify_copy(
    source: psycopg.Connection[Any],
    conn: psycopg.Connection[Any],
    model: DataModel,
    tables: Iterable[_Copied],
    masks: Mapping[tuple[str, str], _Mask],
    leaks: Leaks,
) -> VerifyResult:
    result = VerifyResult()
    leaked: list[str] = []
    common: list[str] = []
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
            mask = masks[(copied.key, column)]
            if mask.spec != "null" and counts[column] != want:
                count_problems.append(
                    f"{copied.key}.{column}: NULL/empty {counts[column]} in the target, "
                    f"{want} in the source"
                )
            if not _checked(mask.spec):
                continue
            where = f"{copied.key}.{column}"
            tracked = leaks.by_spec(copied.key, column, mask.spec)
            sources = {spec: t.seen for spec, t in tracked.items()}
            scalar = leaks.tracked.get((copied.key, column))
            if isinstance(scalar, Tracking):  # what the copy wrote, digested on the way
                found = _judge_written(mask.spec, scalar)
            else:  # a container column: its leaves are judged in the target
                found = _judge_target(
                    conn, table.schema, table.name, column, mask.transform, sources
                )
            leaked += found.describe(where, "identifying")
            common += found.describe(where, "common")
            same = sum(t.unchanged for t in tracked.values())
            if same:
                unchanged.append(f"{where}: {same:,} rows")
    result.checks += _leak_checks(leaked, common)
    result.checks += [
        _check(UNCHANGED_CHECK, unchanged, "none"),
        _check("row, NULL and empty counts equal", count_problems, "equal"),
    ]
    result.checks += constraints_hold(source, conn, model)
    return result


def verify_databases(
    source: psycopg.Connection[Any],
    target: psycopg.Connection[Any],
    model: DataModel,
    masked: Mapping[tuple[str, str], Any],
) -> VerifyResult:
    """``repro data verify``: the same checks from the two databases alone. ``masked``:
    (table, column) -> its transformer (built from the rules; only its structure and its
    judgement of values are used). NULL/empty counts are compared for tables copied whole
    (same row count); a subset cannot be matched row for row afterwards."""
    _require_columns(target, set(masked))
    result = VerifyResult()
    leaked: list[str] = []
    common: list[str] = []
    count_problems: list[str] = []
    by_table: dict[str, list[str]] = {}
    for (table_key, column), _transformer in sorted(masked.items()):
        by_table.setdefault(table_key, []).append(column)
    for table_key, columns in sorted(by_table.items()):
        table = model.tables[table_key]
        src_rows, src_counts = _target_counts(source, table.schema, table.name, columns)
        dst_rows, dst_counts = _target_counts(target, table.schema, table.name, columns)
        for column in columns:
            transformer = masked[(table_key, column)]
            spec = str(transformer.spec)
            if src_rows == dst_rows and spec != "null" and src_counts[column] != dst_counts[column]:
                count_problems.append(
                    f"{table_key}.{column}: NULL/empty {dst_counts[column]} in the target, "
                    f"{src_counts[column]} in the source"
                )
            if not _checked(spec):
                continue
            sources = _source_digests(source, table.schema, table.name, column, transformer)
            found = _judge_target(target, table.schema, table.name, column, transformer, sources)
            leaked += found.describe(f"{table_key}.{column}", "identifying")
            common += found.describe(f"{table_key}.{column}", "common")
    result.checks += _leak_checks(leaked, common)
    result.checks.append(
        _check("NULL and empty counts equal (tables copied whole)", count_problems, "equal")
    )
    result.checks += constraints_hold(source, target, model)
    return result


def _require_columns(target: psycopg.Connection[Any], masked: set[tuple[str, str]]) -> None:
    """The target must hold the masked tables and columns: they are what verify reads there
    (a missing key or index is a failed check; a missing masked column is no copy at all)."""
    rows = target.execute(
        """
        SELECT n.nspname || '.' || c.relname, a.attname
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
             AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY(%s)
        """,
        (sorted({table for table, _ in masked}),),
    ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    problems = []
    for table, column in sorted(masked):
        if table not in columns:
            if f"table {table}" not in problems:
                problems.append(f"table {table}")
        elif column not in columns[table]:
            problems.append(f"column {table}.{column}")
    if problems:
        shown = ", ".join(problems[:5]) + (
            f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise DataGenerationError(
            f"the target lacks what the rules mask in the source: {shown}",
            hint="verify compares a masked copy with its source: is --to the copy?",
        )
