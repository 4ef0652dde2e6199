"""What pg_dump writes about tables beyond their columns, keys and indexes, and the comments
and security labels of every member, added to the entries the other readers made:

- on every table and view: ``rules`` (``CREATE RULE``; a view's own ``_RETURN`` rule is the
  view): ``{name: {event, instead, enabled, definition, comment}}``;
- on every table: ``replica_identity`` (default | nothing | full | index: which rows logical
  replication and triggers see), ``access_method`` (``heap`` unless ``USING`` another;
  null for partitioned tables without one) and ``tablespace`` (null: the database's);
  on foreign tables ``foreign_options``;
- only where set: a column's ``storage``, ``statistics_target``, ``compression``,
  ``options`` (``ALTER COLUMN SET (n_distinct = ...)``) and ``foreign_options``; an index's
  ``clustered``, ``replica_identity`` and ``tablespace``;
- ``comment`` of constraints, indexes, triggers, policies, rules, sequences, functions and
  extensions, where one is set (tables, columns, views, types and schemas always carry theirs);
- ``security_labels``: ``{"objtype name": {provider: label}}`` (``SECURITY LABEL``).

Each is one query over the selected schemas that returns only the rows that differ from the
defaults, so a large schema with nothing unusual costs next to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows, Session
from repro.redaction import Redactor
from repro.snapshot.db.relations import TABLE_KINDS, Catalog, unless_locked
from repro.snapshot.db.schema_objects import function_key
from repro.snapshot.db.server_objects import ENABLED, redacted_options

RULE_EVENTS = {"1": "select", "2": "update", "3": "insert", "4": "delete"}
REPLICA_IDENTITY = {"d": "default", "n": "nothing", "f": "full", "i": "index"}
STORAGE = {"p": "plain", "e": "external", "m": "main", "x": "extended"}
COMPRESSION = {"p": "pglz", "l": "lz4"}
MEMBER_SECTIONS = {
    "constraint": "constraints",
    "index": "indexes",
    "trigger": "triggers",
    "policy": "policies",
}


@dataclass
class TableDetailReader:
    session: Session
    catalog: Catalog
    data: dict[str, Any]

    @property
    def redactor(self) -> Redactor:
        return self.session.redactor

    def parts(self) -> list[Part]:
        return [
            self._rules(),
            self._tables(),
            self._indexes(),
            self._columns(),
            *self._comments(),
            self._security_labels(),
        ]

    def _entry(self, oid: int) -> dict[str, Any] | None:
        rel = self.catalog.relations.get(oid)
        return None if rel is None else rel.entry

    def _rules(self) -> Part:
        def handle(rows: Rows) -> None:
            for rel in self.catalog.relations.values():
                rel.entry.setdefault("rules", {})
            for r in rows:
                entry = self._entry(r.ev_class)
                if entry is not None:
                    entry["rules"][r.rulename] = {
                        "event": RULE_EVENTS.get(r.ev_type, r.ev_type),
                        "instead": r.is_instead,
                        "enabled": ENABLED.get(r.ev_enabled, r.ev_enabled),
                        "definition": r.definition,
                        "comment": r.comment,
                    }

        return Part(
            "rules",
            f"""
            SELECT r.ev_class, r.rulename, r.ev_type::text AS ev_type, r.is_instead,
                   r.ev_enabled::text AS ev_enabled,
                   {unless_locked("r.ev_class", "pg_catalog.pg_get_ruledef(r.oid)")} AS definition,
                   pg_catalog.obj_description(r.oid, 'pg_rewrite') AS comment
            FROM pg_catalog.pg_rewrite r
            JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
            WHERE c.relnamespace = ANY(%(nsp)s) AND r.rulename <> '_RETURN'
            """,
            self.catalog.params,
            handle=handle,
        )

    def _tables(self) -> Part:
        """Replica identity, access method and tablespace where not the default, and
        foreign tables' options; the defaults are filled in for the others."""

        def handle(rows: Rows) -> None:
            for rel in self.catalog.relations.values():
                if rel.kind in TABLE_KINDS:
                    rel.entry["replica_identity"] = "default"
                    rel.entry["access_method"] = "heap" if rel.kind == "table" else None
                    rel.entry["tablespace"] = None
                if rel.kind == "foreign_table":
                    rel.entry["access_method"] = None
                    rel.entry["foreign_options"] = {}
                if rel.kind == "materialized_view":
                    rel.entry["tablespace"] = None
            for r in rows:
                found = self.catalog.relations.get(r.oid)
                if found is None:
                    continue
                rel, entry = found, found.entry
                if rel.kind in TABLE_KINDS:
                    entry["replica_identity"] = REPLICA_IDENTITY.get(r.replident, r.replident)
                    if rel.kind != "foreign_table":
                        entry["access_method"] = r.amname
                if "tablespace" in entry:
                    entry["tablespace"] = r.spcname
                if r.ftoptions is not None:
                    entry["foreign_options"] = redacted_options(self.redactor, r.ftoptions)

        return Part(
            "table storage and replication",
            """
            SELECT c.oid, c.relreplident::text AS replident, am.amname, ts.spcname,
                   ft.ftoptions
            FROM pg_catalog.pg_class c
            LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
            LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = c.reltablespace
            LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'm')
              AND (c.relreplident <> 'd' OR c.reltablespace <> 0 OR ft.ftoptions IS NOT NULL
                   OR (c.relkind IN ('r', 'm') AND am.amname <> 'heap')
                   OR (c.relkind = 'p' AND c.relam <> 0))
            """,
            self.catalog.params,
            handle=handle,
        )

    def _indexes(self) -> Part:
        def handle(rows: Rows) -> None:
            for r in rows:
                entry = self._entry(r.indrelid)
                index = (entry or {}).get("indexes", {}).get(r.relname)
                if index is None:
                    continue
                if r.indisclustered:
                    index["clustered"] = True
                if r.indisreplident:
                    index["replica_identity"] = True
                if r.spcname is not None:
                    index["tablespace"] = r.spcname

        return Part(
            "index clustering and tablespaces",
            """
            SELECT x.indrelid, i.relname, x.indisclustered, x.indisreplident, ts.spcname
            FROM pg_catalog.pg_index x
            JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
            LEFT JOIN pg_catalog.pg_tablespace ts ON ts.oid = i.reltablespace
            WHERE i.relnamespace = ANY(%(nsp)s)
              AND (x.indisclustered OR x.indisreplident OR i.reltablespace <> 0)
            """,
            self.catalog.params,
            handle=handle,
        )

    def _columns(self) -> Part:
        version = self.session.version_num
        # attstattarget: -1 until 16, NULL from 17 on, for "the default target".
        target = "a.attstattarget" if version >= 170000 else "NULLIF(a.attstattarget, -1)"
        compression = "NULLIF(a.attcompression, '')" if version >= 140000 else "NULL"

        def handle(rows: Rows) -> None:
            for r in rows:
                rel = self.catalog.relations.get(r.attrelid)
                column = None if rel is None else rel.entry["columns"].get(r.attname)
                if column is None:
                    continue
                if r.storage is not None:
                    column["storage"] = STORAGE.get(r.storage, r.storage)
                if r.target is not None:
                    column["statistics_target"] = r.target
                if r.compression is not None:
                    column["compression"] = COMPRESSION.get(r.compression, r.compression)
                if r.options is not None:
                    column["options"] = redacted_options(self.redactor, r.options)
                if r.attfdwoptions is not None:
                    column["foreign_options"] = redacted_options(self.redactor, r.attfdwoptions)

        return Part(
            "column storage",
            f"""
            SELECT a.attrelid, a.attname, a.storage, a.target, a.compression,
                   -- pg_*: the server's own bookkeeping (some 17 builds stamp every column
                   -- with pg_attver), never a setting someone made
                   NULLIF(ARRAY(SELECT o FROM pg_catalog.unnest(a.attoptions) o
                                WHERE o NOT LIKE 'pg\\_%%'), '{{}}') AS options,
                   a.attfdwoptions
            FROM (
                SELECT a.attrelid, a.attname, a.attoptions, a.attfdwoptions,
                       CASE WHEN a.attstorage <> t.typstorage
                            THEN a.attstorage::text END AS storage,
                       {target} AS target, {compression}::text AS compression
                FROM pg_catalog.pg_attribute a
                JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
                JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'm')
                  AND a.attnum > 0 AND NOT a.attisdropped) a
            WHERE a.storage IS NOT NULL OR a.target IS NOT NULL OR a.compression IS NOT NULL
               OR a.attoptions IS NOT NULL OR a.attfdwoptions IS NOT NULL
            """,
            self.catalog.params,
            handle=handle,
        )

    def _comments(self) -> list[Part]:
        """Comments on members that the other readers do not read (most have none).
        Policies' apart: a hardened server may hide pg_policy, and only those would be
        lost then."""

        def handle(rows: Rows) -> None:
            for r in rows:
                self._attach_comment(r.kind, r.owner_oid, r.key, r.name, r.description)

        policies = Part(
            "policy comments",
            """
            SELECT 'policy' AS kind, p.polrelid AS owner_oid, NULL AS key, p.polname AS name,
                   d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_policy p ON p.oid = d.objoid
            JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
            WHERE d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass
              AND c.relnamespace = ANY(%(nsp)s)
            """,
            self.catalog.params,
            handle=handle,
        )
        members = Part(
            "comments",
            f"""
            SELECT 'constraint' AS kind, k.conrelid AS owner_oid, NULL AS key,
                   k.conname AS name, d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_constraint k ON k.oid = d.objoid
            JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
            WHERE d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
              AND c.relnamespace = ANY(%(nsp)s)
            UNION ALL
            SELECT 'domain constraint', 0, n.nspname || '.' || t.typname, k.conname,
                   d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_constraint k ON k.oid = d.objoid
            JOIN pg_catalog.pg_type t ON t.oid = k.contypid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
            WHERE d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
              AND t.typnamespace = ANY(%(nsp)s)
            UNION ALL
            SELECT CASE WHEN i.relkind = 'S' THEN 'sequence' ELSE 'index' END,
                   COALESCE(x.indrelid, 0), n.nspname || '.' || i.relname, i.relname,
                   d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_class i ON i.oid = d.objoid
            JOIN pg_catalog.pg_namespace n ON n.oid = i.relnamespace
            LEFT JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid
            WHERE d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
              AND i.relkind IN ('i', 'I', 'S') AND i.relnamespace = ANY(%(nsp)s)
            UNION ALL
            SELECT 'trigger', t.tgrelid, NULL, t.tgname, d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_trigger t ON t.oid = d.objoid
            JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
            WHERE d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
              AND c.relnamespace = ANY(%(nsp)s)

            UNION ALL
            SELECT 'function', 0, {function_key("p", "n")}, NULL, d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_proc p ON p.oid = d.objoid
            JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
              AND p.pronamespace = ANY(%(nsp)s)
            UNION ALL
            SELECT 'extension', 0, e.extname, NULL, d.description
            FROM pg_catalog.pg_description d
            JOIN pg_catalog.pg_extension e ON e.oid = d.objoid
            WHERE d.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass
            """,
            self.catalog.params,
            handle=handle,
        )
        return [members, policies]

    def _attach_comment(
        self, kind: str, owner_oid: int, key: str | None, name: str | None, text: str
    ) -> None:
        data = self.data
        target: dict[str, Any] | None = None
        if kind in ("constraint", "index", "trigger", "policy"):
            members = (self._entry(owner_oid) or {}).get(MEMBER_SECTIONS[kind], {})
            target = members.get(name)
        elif kind == "domain constraint":
            domain = data.get("domains", {}).get(key)
            if domain is not None:
                domain.setdefault("check_comments", {})[name] = text
            return
        elif kind == "sequence":
            target = data.get("sequences", {}).get(key)
        elif kind == "function":
            target = data.get("functions", {}).get(key)
        elif kind == "extension":
            target = data.get("extensions", {}).get(key)
        if target is not None and target.get("comment") is None:
            target["comment"] = text

    def _security_labels(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self.data.setdefault("security_labels", {})
            for r in rows:
                out.setdefault(f"{r.objtype} {r.objname}", {})[r.provider] = r.label

        return Part(
            "security labels",
            """
            SELECT l.objtype, l.objname, l.provider, l.label
            FROM pg_catalog.pg_seclabels l
            WHERE l.objnamespace IS NULL OR l.objnamespace = ANY(%(nsp)s)
            """,
            self.catalog.params,
            handle=handle,
        )
