"""User-defined types, sequences and functions of the selected schemas.

Functions are captured by signature and a hash of their body here; their definitions (with
secrets in them masked) are added by :mod:`repro.snapshot.db.code`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows, Session
from repro.snapshot.db.relations import Catalog, not_extension_member
from repro.snapshot.db.server import setting_value

VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}


@dataclass
class ObjectReader:
    session: Session
    catalog: Catalog
    data: dict[str, Any]

    def types(self) -> Part:
        """Enums, domains, standalone composite types and range types."""
        return Part(
            "types",
            f"""
            SELECT t.oid, n.nspname, t.typname, t.typtype, t.typrelid, t.typnotnull,
                   CASE WHEN t.typtype = 'd'
                        THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END
                       AS base_type,
                   pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default_expr,
                   CASE WHEN t.typtype = 'r'
                        THEN pg_catalog.format_type(r.rngsubtype, NULL) END AS subtype,
                   ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
                         WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels,
                   ARRAY(SELECT ARRAY[k.conname, pg_catalog.pg_get_constraintdef(k.oid)]
                         FROM pg_catalog.pg_constraint k
                         WHERE k.contypid = t.oid AND k.contype = 'c') AS checks,
                   CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation
                        THEN co.collname END AS collation,
                   d.description
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
            LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
            LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
            LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
            LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
            LEFT JOIN pg_catalog.pg_description d ON d.objoid = t.oid
                 AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objsubid = 0
            WHERE t.typnamespace = ANY(%(nsp)s)
              AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
              AND {not_extension_member("pg_catalog.pg_type", "t.oid")}
            """,
            self.catalog.params,
            handle=self._types,
        )

    def _types(self, rows: Rows) -> None:
        out = {
            name: self.data.setdefault(name, {})
            for name in ("enums", "domains", "composite_types", "range_types")
        }
        for row in rows:
            key = f"{row.nspname}.{row.typname}"
            base = {"schema": row.nspname, "name": row.typname, "comment": row.description}
            if row.typtype == "e":
                out["enums"][key] = {**base, "labels": list(row.labels)}
            elif row.typtype == "d":
                out["domains"][key] = {
                    **base,
                    "type": row.base_type,
                    "nullable": not row.typnotnull,
                    "default": row.default_expr,
                    "collation": row.collation,
                    "checks": {name: definition for name, definition in row.checks},
                }
            elif row.typtype == "r":
                out["range_types"][key] = {**base, "subtype": row.subtype}
            else:
                out["composite_types"][key] = {
                    **base,
                    "attributes": self.catalog.composites.get(row.typrelid, {}),
                }

    def sequences(self) -> Part:
        return Part(
            "sequences",
            f"""
            SELECT n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL) AS type,
                   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                   own.owned_by, own.deptype = 'i' AS identity
            FROM pg_catalog.pg_sequence s
            JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN LATERAL (
                SELECT tn.nspname || '.' || tc.relname || '.' || a.attname AS owned_by,
                       d.deptype
                FROM pg_catalog.pg_depend d
                JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
                JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
                JOIN pg_catalog.pg_attribute a
                  ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.objid = c.oid
                  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
                LIMIT 1) own ON true
            WHERE c.relnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_class", "c.oid")}
            """,
            self.catalog.params,
            handle=self._sequences,
        )

    def _sequences(self, rows: Rows) -> None:
        out = self.data.setdefault("sequences", {})
        for r in rows:
            out[f"{r.nspname}.{r.relname}"] = {
                "schema": r.nspname,
                "name": r.relname,
                "type": r.type,
                "start": r.seqstart,
                "increment": r.seqincrement,
                "min": r.seqmin,
                "max": r.seqmax,
                "cache": r.seqcache,
                "cycle": r.seqcycle,
                "owned_by": r.owned_by,
                "identity": bool(r.identity),
                "last_value": None,
            }

    def sequence_values(self) -> Part:
        """How far each sequence has gone ("an int4 id is about to overflow in prod"). Apart
        from the definitions: it needs privileges and a (light) lock on each sequence."""

        def handle(rows: Rows) -> None:
            sequences = self.data.get("sequences", {})
            for row in rows:
                if row.key in sequences:
                    sequences[row.key]["last_value"] = row.last_value

        return Part(
            "sequence values",
            """
            SELECT n.nspname || '.' || c.relname AS key,
                   CASE WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
                             AND c.oid <> ALL(%(locked)s)
                        THEN pg_catalog.pg_sequence_last_value(c.oid) END AS last_value
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind = 'S'
            """,
            self.catalog.params,
            handle=handle,
        )

    def functions(self) -> Part:
        # SQL-standard bodies (BEGIN ATOMIC, 14+) live in prosqlbody; prosrc is empty then.
        body = (
            "CASE WHEN p.prosqlbody IS NOT NULL"
            " THEN pg_catalog.pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
            if self.session.version_num >= 140000
            else "p.prosrc"
        )
        return Part(
            "functions",
            f"""
            SELECT n.nspname, p.proname, p.prokind, p.provolatile, p.prosecdef,
                   p.proisstrict, p.proparallel, p.proconfig, l.lanname,
                   pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
                   pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
                   pg_catalog.pg_get_function_result(p.oid) AS result,
                   pg_catalog.pg_get_userbyid(p.proowner) AS owner,
                   {body} AS body
            FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_proc", "p.oid")}
              -- Made by PostgreSQL itself along with a type (multirange constructors, 14+).
              AND NOT EXISTS (
                  SELECT 1 FROM pg_catalog.pg_depend i
                  WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    AND i.objid = p.oid AND i.deptype = 'i')
            """,
            self.catalog.params,
            handle=self._functions,
        )

    def _functions(self, rows: Rows) -> None:
        out = self.data.setdefault("functions", {})
        redactor = self.session.redactor
        for r in rows:
            config: dict[str, Any] = {}
            for item in r.proconfig or []:
                name, _, value = str(item).partition("=")
                config[name] = setting_value(redactor, name, value)
            out[f"{r.nspname}.{r.proname}({r.identity_args})"] = {
                "schema": r.nspname,
                "name": r.proname,
                "kind": FUNCTION_KINDS.get(r.prokind, r.prokind),
                "arguments": r.arguments,
                "returns": r.result,
                "language": r.lanname,
                "volatility": VOLATILITY.get(r.provolatile, r.provolatile),
                "security_definer": r.prosecdef,
                "strict": r.proisstrict,
                "parallel": PARALLEL.get(r.proparallel, r.proparallel),
                "owner": r.owner,
                "config": config,
                "body_sha256": hashlib.sha256((r.body or "").encode()).hexdigest(),
            }
