"""What a database enforces on its rows (foreign keys, primary keys, unique constraints and
unique indexes), read from its catalog, and whether a masked copy enforces the same.

The comparison is with the *source*, not with an ideal: a foreign key the source holds
``NOT VALID`` (rows older than the key may break it) is only required to exist in the copy,
and a unique index that is not a constraint (``CREATE UNIQUE INDEX``, on expressions or
partial) is required like a unique constraint. Objects are matched by table and name, then
by definition (a partition's index or key may be named otherwise when it was recreated).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg

_KINDS = {"f": "foreign key", "p": "primary key", "u": "unique", "x": "exclusion"}

# Constraints made on a partition by its parent's (conparentid, PostgreSQL 11+) and indexes
# attached to a parent's index come with the parent: the parent's entry stands for them.
_CONSTRAINTS_SQL = """
SELECT n.nspname || '.' || c.relname, co.contype::text, co.conname, co.convalidated,
       pg_catalog.pg_get_constraintdef(co.oid)
FROM pg_catalog.pg_constraint co
JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE co.contype IN ('f', 'p', 'u', 'x') AND {own}
  AND n.nspname || '.' || c.relname = ANY(%(tables)s)
"""
_UNIQUE_INDEXES_SQL = """
SELECT n.nspname || '.' || c.relname, 'i', i.relname, x.indisvalid AND x.indisready,
       pg_catalog.pg_get_indexdef(x.indexrelid)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE x.indisunique
  AND n.nspname || '.' || c.relname = ANY(%(tables)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
                  WHERE co.conindid = x.indexrelid AND co.conrelid = x.indrelid
                    AND co.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = x.indexrelid)
"""
# "CREATE UNIQUE INDEX name ON [ONLY] schema.table USING ...": what follows the name.
_INDEX_HEAD = re.compile(r"^CREATE UNIQUE INDEX .*? ON (?:ONLY )?", re.DOTALL)


@dataclass(frozen=True)
class Enforced:
    table: str  # schema.name
    kind: str  # foreign key | primary key | unique | exclusion | unique index
    name: str
    valid: bool  # a key: validated; an index: valid and ready
    definition: str  # without the object's own name

    @property
    def label(self) -> str:
        return f"{self.table}.{self.name}"


def read_enforced(conn: psycopg.Connection[Any], tables: Collection[str]) -> list[Enforced]:
    """The keys and unique indexes of ``tables`` (``schema.name`` keys)."""
    version = conn.info.server_version
    own = "co.conparentid = 0" if version >= 110000 else "true"
    params = {"tables": sorted(tables)}
    out = []
    for table, kind, name, valid, definition in conn.execute(
        _CONSTRAINTS_SQL.format(own=own), params
    ).fetchall():
        out.append(Enforced(table, _KINDS[kind], name, bool(valid), str(definition)))
    for table, _, name, valid, definition in conn.execute(_UNIQUE_INDEXES_SQL, params):
        body = _INDEX_HEAD.sub("", str(definition).replace(" ON ONLY ", " ON ", 1))
        out.append(Enforced(table, "unique index", name, bool(valid), body))
    return out


@dataclass
class Comparison:
    """Per kind of object: how many the source has, and what the copy lacks."""

    checked: dict[str, int]
    not_valid_in_source: int
    missing: list[str]
    not_valid: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.not_valid


def compare(source: list[Enforced], target: list[Enforced], kinds: Collection[str]) -> Comparison:
    """Does ``target`` enforce every one of ``kinds`` that ``source`` does? A source object
    not valid there (a ``NOT VALID`` key, an index a failed concurrent build left behind)
    needs only to exist in the target."""
    by_name = {(e.table, e.kind, e.name): e for e in target}
    by_definition = {(e.table, e.kind, e.definition): e for e in target}
    result = Comparison({}, 0, [], [])
    for wanted in source:
        if wanted.kind not in kinds:
            continue
        result.checked[wanted.kind] = result.checked.get(wanted.kind, 0) + 1
        found = by_name.get((wanted.table, wanted.kind, wanted.name)) or by_definition.get(
            (wanted.table, wanted.kind, wanted.definition)
        )
        if not wanted.valid:
            result.not_valid_in_source += 1
        if found is None:
            result.missing.append(f"{wanted.label} ({wanted.kind})")
        elif wanted.valid and not found.valid:
            result.not_valid.append(f"{wanted.label} ({wanted.kind})")
    return result


def describe(comparison: Comparison, what: str) -> str:
    if comparison.ok:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(comparison.checked.items()))
        detail = f"as in the source: {counts or f'no {what}'}"
        if comparison.not_valid_in_source:
            detail += f" ({comparison.not_valid_in_source} NOT VALID in the source, kept so)"
        return detail
    parts = []
    if comparison.missing:
        parts.append("missing: " + ", ".join(comparison.missing[:5]))
    if comparison.not_valid:
        parts.append("valid in the source, not here: " + ", ".join(comparison.not_valid[:5]))
    return "; ".join(parts)
