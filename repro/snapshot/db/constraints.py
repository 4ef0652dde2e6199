"""Constraints, indexes, triggers and row-level-security policies of the selected relations.

Each carries PostgreSQL's own definition text (pg_get_constraintdef, pg_get_indexdef,
pg_get_triggerdef, pg_get_expr), so the data generator can recreate it verbatim, plus the
parsed facts (columns, referenced table, actions) the diff engine compares. Column names are
mapped from attnums here, with the columns already read: cheaper than asking the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.pg.session import Part, Rows
from repro.snapshot.db.relations import Catalog, unless_locked

CONSTRAINT_TYPES = {
    "p": "primary_key",
    "u": "unique",
    "f": "foreign_key",
    "c": "check",
    "x": "exclusion",
}
FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
FK_MATCH = {"f": "full", "p": "partial", "s": "simple"}
TRIGGER_ENABLED = {"O": "enabled", "D": "disabled", "R": "replica", "A": "always"}
POLICY_COMMANDS = {"r": "select", "a": "insert", "w": "update", "d": "delete", "*": "all"}


def _options(raw: list[str] | None) -> dict[str, str]:
    if not raw:
        return {}
    return dict(str(o).partition("=")[::2] for o in raw or [])


@dataclass
class ConstraintReader:
    catalog: Catalog

    def _names(self, relid: int, attnums: list[int] | None) -> list[str] | None:
        rel = self.catalog.relations.get(relid)
        if rel is None or attnums is None:
            return None
        try:
            return [rel.columns_by_attnum[n] for n in attnums]
        except KeyError:
            return None

    def constraints(self) -> Part:
        return Part(
            "constraints",
            f"""
            SELECT co.conrelid, co.conname, co.contype,
                   {unless_locked("co.conrelid", "pg_catalog.pg_get_constraintdef(co.oid)")}
                       AS definition,
                   co.conkey, co.confrelid, co.confkey,
                   rn.nspname || '.' || rc.relname AS ref_table,
                   -- a foreign key to a table outside the selected schemas: its column
                   -- names are not among those read
                   CASE WHEN rc.relnamespace <> ALL(%(nsp)s) THEN
                       ARRAY(SELECT a.attname FROM pg_catalog.unnest(co.confkey)
                                 WITH ORDINALITY k(attnum, ord)
                             JOIN pg_catalog.pg_attribute a
                               ON a.attrelid = co.confrelid AND a.attnum = k.attnum
                             ORDER BY k.ord) END AS outside_ref_columns,
                   co.confupdtype, co.confdeltype, co.confmatchtype, co.condeferrable,
                   co.condeferred, co.convalidated, co.conislocal, co.connoinherit
            FROM pg_catalog.pg_constraint co
            JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
            LEFT JOIN pg_catalog.pg_class rc ON rc.oid = co.confrelid
            LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
            WHERE c.relnamespace = ANY(%(nsp)s) AND co.contype IN ('p', 'u', 'f', 'c', 'x')
            """,
            self.catalog.params,
            handle=self._constraints,
        )

    def _constraints(self, rows: Rows) -> None:
        for row in rows:
            rel = self.catalog.relations.get(row.conrelid)
            if rel is None or "constraints" not in rel.entry:
                continue
            kind = CONSTRAINT_TYPES[row.contype]
            foreign = kind == "foreign_key"
            references = None
            if foreign:
                ref_columns = row.outside_ref_columns or self._names(row.confrelid, row.confkey)
                references = {"table": row.ref_table, "columns": list(ref_columns or [])}
            rel.entry["constraints"][row.conname] = {
                "type": kind,
                "definition": row.definition,
                "columns": self._names(row.conrelid, row.conkey) or [],
                "references": references,
                "on_update": FK_ACTIONS.get(row.confupdtype) if foreign else None,
                "on_delete": FK_ACTIONS.get(row.confdeltype) if foreign else None,
                "match": FK_MATCH.get(row.confmatchtype) if foreign else None,
                "deferrable": row.condeferrable,
                "initially_deferred": row.condeferred,
                "validated": row.convalidated,
                # Cloned onto a partition / inherited from a parent: made with the parent.
                "inherited": not row.conislocal,
                "no_inherit": row.connoinherit,
            }

    def indexes(self) -> Part:
        # pg_get_indexdef(oid, column) only for indexes with expressions: plain key columns
        # are mapped from attnums, much cheaper across thousands of indexes.
        free = "x.indrelid <> ALL(%(locked)s) AND x.indexrelid <> ALL(%(locked)s)"
        return Part(
            "indexes",
            f"""
            SELECT x.indrelid, i.relname,
                   CASE WHEN {free} THEN pg_catalog.pg_get_indexdef(x.indexrelid) END
                       AS definition,
                   x.indisunique, x.indisprimary, x.indisvalid, am.amname, i.reloptions,
                   x.indkey::pg_catalog.int2[] AS indkey, x.indnkeyatts,
                   x.indexprs IS NOT NULL AS has_expressions,
                   CASE WHEN x.indexprs IS NOT NULL AND {free} THEN
                       ARRAY(SELECT pg_catalog.pg_get_indexdef(x.indexrelid, k, false)
                             FROM pg_catalog.generate_series(1, x.indnatts) k) END AS rendered,
                   CASE WHEN {free} THEN pg_catalog.pg_get_expr(x.indpred, x.indrelid) END
                       AS predicate,
                   con.conname,
                   (SELECT pn.nspname || '.' || p.relname FROM pg_catalog.pg_inherits h
                    JOIN pg_catalog.pg_class p ON p.oid = h.inhparent
                    JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                    WHERE h.inhrelid = x.indexrelid) AS parent_index
            FROM pg_catalog.pg_index x
            JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
            JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
            JOIN pg_catalog.pg_am am ON am.oid = i.relam
            LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = x.indexrelid
                 AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'm')
            """,
            self.catalog.params,
            handle=self._indexes,
        )

    def _indexes(self, rows: Rows) -> None:
        for row in rows:
            rel = self.catalog.relations.get(row.indrelid)
            if rel is None or "indexes" not in rel.entry:
                continue
            keys = row.indnkeyatts
            names = row.rendered or [rel.columns_by_attnum.get(n, str(n)) for n in row.indkey]
            rel.entry["indexes"][row.relname] = {
                "definition": row.definition,
                "unique": row.indisunique,
                "primary": row.indisprimary,
                # An invalid index (a failed CREATE INDEX CONCURRENTLY) is never used by the
                # planner: a classic production-only slowness.
                "valid": row.indisvalid,
                "method": row.amname,
                "columns": names[:keys],
                "include": names[keys:],
                "expressions": row.has_expressions,
                "predicate": row.predicate,
                "constraint": row.conname,
                "parent_index": row.parent_index,
                "options": _options(row.reloptions),
            }

    def triggers(self, version_num: int) -> Part:
        # tgparentid (13+): a trigger cloned onto a partition; on 12 clones are internal.
        inherited = "t.tgparentid <> 0" if version_num >= 130000 else "false"
        return Part(
            "triggers",
            f"""
            SELECT t.tgrelid, t.tgname,
                   {unless_locked("t.tgrelid", "pg_catalog.pg_get_triggerdef(t.oid)")}
                       AS definition,
                   t.tgenabled, {inherited} AS inherited,
                   pn.nspname || '.' || p.proname AS function
            FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
            WHERE NOT t.tgisinternal AND c.relnamespace = ANY(%(nsp)s)
            """,
            self.catalog.params,
            handle=self._triggers,
        )

    def _triggers(self, rows: Rows) -> None:
        for row in rows:
            rel = self.catalog.relations.get(row.tgrelid)
            if rel is None:
                continue
            rel.entry["triggers"][row.tgname] = {
                "definition": row.definition,
                "enabled": TRIGGER_ENABLED.get(row.tgenabled, row.tgenabled),
                "function": row.function,
                "inherited": row.inherited,
            }

    def policies(self) -> Part:
        return Part(
            "policies",
            f"""
            SELECT p.polrelid, p.polname, p.polcmd, p.polpermissive,
                   ARRAY(SELECT CASE WHEN r = 0 THEN 'public'
                                     ELSE pg_catalog.pg_get_userbyid(r) END
                         FROM pg_catalog.unnest(p.polroles) r ORDER BY 1) AS roles,
                   {unless_locked("p.polrelid", "pg_catalog.pg_get_expr(p.polqual, p.polrelid)")}
                       AS using_expr,
                   {
                unless_locked("p.polrelid", "pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)")
            }
                       AS check_expr
            FROM pg_catalog.pg_policy p
            JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
            WHERE c.relnamespace = ANY(%(nsp)s)
            """,
            self.catalog.params,
            handle=self._policies,
        )

    def _policies(self, rows: Rows) -> None:
        for row in rows:
            rel = self.catalog.relations.get(row.polrelid)
            if rel is None or "policies" not in rel.entry:
                continue
            rel.entry["policies"][row.polname] = {
                "command": POLICY_COMMANDS.get(row.polcmd, row.polcmd),
                "permissive": row.polpermissive,
                "roles": list(row.roles),
                "using": row.using_expr,
                "with_check": row.check_expr,
            }
