"""Schemas, tables, views and their columns: what the data generator recreates first.

Relations are keyed ``"schema.name"`` (names unquoted; each entry also carries ``schema`` and
``name`` so no consumer has to split the key). Internally they are tracked by OID, which never
leaves this package: OIDs differ between environments and between restores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repro.pg.session import Part, Rows, Session

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
KINDS = {
    "r": "table",
    "p": "partitioned_table",
    "f": "foreign_table",
    "v": "view",
    "m": "materialized_view",
}
TABLE_KINDS = ("table", "partitioned_table", "foreign_table")
PERSISTENCE = {"p": "permanent", "u": "unlogged", "t": "temporary"}
IDENTITY = {"a": "always", "d": "by_default"}


def not_extension_member(catalog: str, oid: str) -> str:
    """Objects created by CREATE EXTENSION belong to the extension (captured as name and
    version); listing them again would make the data generator create them twice."""
    return f"""NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_depend e
        WHERE e.classid = '{catalog}'::pg_catalog.regclass AND e.objid = {oid}
          AND e.deptype = 'e')"""


def unless_locked(oid: str, call: str) -> str:
    """``call`` (a pg_get_*def or pg_get_expr with a relation, which take ACCESS SHARE on
    it) only for relations nobody locks: NULL instead of queueing behind a migration.
    Queries using it take the ``locked`` parameter."""
    return f"CASE WHEN {oid} = ANY(%(locked)s) THEN NULL ELSE {call} END"


def rows_estimate(reltuples: float) -> int | None:
    """pg_class.reltuples; -1 (PostgreSQL 14+) means never vacuumed nor analyzed."""
    return None if reltuples < 0 else round(reltuples)


def _options(raw: list[str] | None) -> dict[str, str]:
    if not raw:
        return {}
    return dict(str(o).partition("=")[::2] for o in raw or [])


@dataclass
class Relation:
    key: str
    kind: str
    entry: dict[str, Any]  # what goes into the snapshot
    # pg_attribute.attnum -> column name, and per column its pg_type category (for stats)
    columns_by_attnum: dict[int, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)


@dataclass
class Catalog:
    """What the parts share: selected namespaces and relations by OID."""

    only_schemas: list[str] | None = None
    namespaces: dict[int, str] = field(default_factory=dict)
    relations: dict[int, Relation] = field(default_factory=dict)
    composites: dict[int, dict[str, Any]] = field(default_factory=dict)  # by typrelid
    # Relations another session locks (or waits to lock) in a mode that would block our
    # deparse functions: they are skipped rather than waited for.
    locked: list[int] = field(default_factory=list)

    @property
    def namespace_oids(self) -> list[int]:
        return sorted(self.namespaces)

    @property
    def params(self) -> dict[str, Any]:
        return {"nsp": self.namespace_oids, "locked": self.locked}


@dataclass
class RelationReader:
    session: Session
    catalog: Catalog
    data: dict[str, Any]

    def schemas(self) -> Part:
        return Part(
            "schemas",
            f"""
            SELECT n.oid, n.nspname, pg_catalog.pg_get_userbyid(n.nspowner) AS owner,
                   d.description
            FROM pg_catalog.pg_namespace n
            LEFT JOIN pg_catalog.pg_description d ON d.objoid = n.oid
                 AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                 AND d.objsubid = 0
            WHERE n.nspname <> ALL(%(system)s) AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
              AND {not_extension_member("pg_catalog.pg_namespace", "n.oid")}
            """,
            {"system": list(SYSTEM_SCHEMAS)},
            handle=self._schemas,
        )

    def _schemas(self, rows: Rows) -> None:
        only = self.catalog.only_schemas
        out = self.data.setdefault("schemas", {})
        for row in rows:
            if only is not None and row.nspname not in only:
                continue
            self.catalog.namespaces[row.oid] = row.nspname
            out[row.nspname] = {"owner": row.owner, "comment": row.description}
        for name in only or []:
            if name not in out:
                self.session.problems.append(f"schema {name!r} (database.schemas) does not exist")

    def locks(self) -> Part:
        """Who would make us wait: ACCESS EXCLUSIVE (ALTER TABLE, REINDEX, VACUUM FULL...)
        held or awaited, since a waiting request queues ours behind it too; for sequences,
        the modes that block reading their last value; and views reading a locked relation
        (deparsing a view opens what it reads). A lock taken after this check is still
        bounded by lock_timeout."""
        return Part(
            "locks",
            """
            WITH held AS (
                SELECT DISTINCT l.relation
                FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_class c ON c.oid = l.relation
                WHERE l.locktype = 'relation'
                  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
                  AND l.database = (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = pg_catalog.current_database())
                  AND (l.mode = 'AccessExclusiveLock'
                       OR (c.relkind = 'S' AND l.mode IN
                           ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock')))),
            blocked AS (
                SELECT relation AS oid FROM held
                UNION
                SELECT r.ev_class FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
                WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.refobjid IN (SELECT relation FROM held))
            SELECT b.oid, c.relnamespace, n.nspname || '.' || c.relname AS name
            FROM blocked b JOIN pg_catalog.pg_class c ON c.oid = b.oid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            """,
            handle=self._locks,
        )

    def _locks(self, rows: Rows) -> None:
        mine = [r for r in rows if r.relnamespace in self.catalog.namespaces]
        self.catalog.locked = sorted(r.oid for r in mine)
        for name in sorted({r.name for r in mine}):
            self.session.problems.append(
                f"{name}: locked by another session (a migration?), or reads a relation that "
                "is; its definitions were not read, rather than wait for the lock"
            )

    def relations(self) -> Part:
        """Tables (incl. partitions and foreign tables) and views (incl. materialized)."""
        return Part(
            "tables and views",
            f"""
            SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence,
                   pg_catalog.pg_get_userbyid(c.relowner) AS owner, c.reloptions,
                   c.relrowsecurity, c.relforcerowsecurity, c.reltuples, d.description,
                   CASE WHEN c.relkind = 'p' THEN {
                unless_locked("c.oid", "pg_catalog.pg_get_partkeydef(c.oid)")
            } END AS partkey,
                   -- relid 0: a bound holds no column references, and this takes no lock
                   CASE WHEN c.relispartition
                        THEN pg_catalog.pg_get_expr(c.relpartbound, 0) END AS partbound,
                   CASE WHEN c.relkind IN ('v', 'm') THEN {
                unless_locked("c.oid", "pg_catalog.pg_get_viewdef(c.oid)")
            } END AS viewdef,
                   fs.srvname,
                   -- Sizes from relpages (as of the last VACUUM/ANALYZE): no lock, no file
                   -- access, and stable while nothing is written.
                   (c.relpages::bigint + COALESCE(t.relpages, 0)
                    + COALESCE((SELECT sum(i.relpages) FROM pg_catalog.pg_index x
                                JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                                WHERE x.indrelid = c.oid), 0))
                    * pg_catalog.current_setting('block_size')::bigint AS size_bytes
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
            LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid
                 AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
            LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
            LEFT JOIN pg_catalog.pg_foreign_server fs ON fs.oid = ft.ftserver
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
              AND {not_extension_member("pg_catalog.pg_class", "c.oid")}
            """,
            self.catalog.params,
            handle=self._relations,
        )

    def _relations(self, rows: Rows) -> None:
        tables = self.data.setdefault("tables", {})
        views = self.data.setdefault("views", {})
        for row in rows:
            key = f"{row.nspname}.{row.relname}"
            kind = KINDS[row.relkind]
            entry: dict[str, Any] = {
                "schema": row.nspname,
                "name": row.relname,
                "kind": kind,
                "owner": row.owner,
                "comment": row.description,
                "options": _options(row.reloptions),
                "columns": {},
            }
            if kind in TABLE_KINDS:
                entry.update(
                    {
                        "persistence": PERSISTENCE.get(row.relpersistence, row.relpersistence),
                        # Not "partition_key": a key named *_key is redacted as a secret.
                        "partition_by": row.partkey,
                        "partition_of": None,
                        "partition_bound": row.partbound,
                        "inherits": [],
                        "row_security": {
                            "enabled": row.relrowsecurity,
                            "forced": row.relforcerowsecurity,
                        },
                        "foreign_server": row.srvname,
                        "constraints": {},
                        "indexes": {},
                        "triggers": {},
                        "policies": {},
                        "rows_estimate": rows_estimate(row.reltuples),
                        "size_bytes": int(row.size_bytes),
                    }
                )
                tables[key] = entry
            else:
                entry.update(
                    {
                        "materialized": kind == "materialized_view",
                        "definition": row.viewdef,
                        "triggers": {},
                    }
                )
                if kind == "materialized_view":
                    entry.update(
                        {
                            "indexes": {},
                            "rows_estimate": rows_estimate(row.reltuples),
                            "size_bytes": int(row.size_bytes),
                        }
                    )
                views[key] = entry
            self.catalog.relations[row.oid] = Relation(key, kind, entry)

    def inheritance(self) -> Part:
        """``partition_of`` for partitions, ``inherits`` (in order) for classic inheritance."""
        return Part(
            "inheritance",
            """
            SELECT i.inhrelid, c.relispartition, pn.nspname || '.' || p.relname AS parent
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
            JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f')
            ORDER BY i.inhrelid, i.inhseqno
            """,
            self.catalog.params,
            handle=self._inheritance,
        )

    def _inheritance(self, rows: Rows) -> None:
        for row in rows:
            rel = self.catalog.relations.get(row.inhrelid)
            if rel is None:
                continue
            if row.relispartition:
                rel.entry["partition_of"] = row.parent
            else:
                rel.entry["inherits"].append(row.parent)

    def columns(self) -> Part:
        """Columns of every selected relation and standalone composite type, in one query."""
        return Part(
            "columns",
            f"""
            SELECT a.attrelid, a.attnum, a.attname, c.relkind,
                   pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, t.typcategory,
                   NOT a.attnotnull AS nullable, a.attidentity, a.attgenerated, a.attislocal,
                   -- Defaults hold no column references: relid 0 deparses them without a
                   -- lock. Generated expressions do reference columns.
                   CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(ad.adbin, 0)
                        ELSE {
                unless_locked("c.oid", "pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)")
            }
                   END AS expr,
                   CASE WHEN a.attcollation <> t.typcollation THEN
                       (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN co.collname
                                    ELSE cn.nspname || '.' || co.collname END
                        FROM pg_catalog.pg_collation co
                        JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                        WHERE co.oid = a.attcollation)
                   END AS collation,
                   -- Few relations have column comments: look only there (col_description
                   -- on every column costs more than the rest of this query).
                   CASE WHEN c.oid = ANY(ARRAY(
                            SELECT objoid FROM pg_catalog.pg_description
                            WHERE classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                              AND objsubid > 0))
                        THEN pg_catalog.col_description(c.oid, a.attnum) END AS description
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_catalog.pg_attrdef ad
                 ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')
              AND a.attnum > 0 AND NOT a.attisdropped
            """,
            self.catalog.params,
            handle=self._columns,
        )

    def _columns(self, rows: Rows) -> None:
        relations = self.catalog.relations
        by_relation: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for row in rows:
            name = row.attname
            column: dict[str, Any]
            if row.relkind == "c":
                column = {"type": row.type, "collation": row.collation}
                self.catalog.composites.setdefault(row.attrelid, {})[name] = column
            else:
                rel = relations.get(row.attrelid)
                if rel is None:
                    continue
                rel.columns_by_attnum[row.attnum] = name
                rel.categories[name] = row.typcategory
                column = {"type": row.type}
                if rel.kind in TABLE_KINDS:
                    generated = bool(row.attgenerated)
                    column.update(
                        {
                            "nullable": row.nullable,
                            "default": None if generated else row.expr,
                            "generated": row.expr if generated else None,
                            "identity": IDENTITY.get(row.attidentity),
                            "collation": row.collation,
                            "inherited": not row.attislocal,
                            "comment": row.description,
                        }
                    )
                rel.entry["columns"][name] = column
            by_relation.setdefault(row.attrelid, []).append((row.attnum, column))
        # The position among live columns (attnum counts dropped ones too): two databases
        # with the same columns in the same order compare equal whatever their history.
        for columns in by_relation.values():
            columns.sort(key=lambda item: item[0])
            for position, (_, column) in enumerate(columns, start=1):
                column["position"] = position
