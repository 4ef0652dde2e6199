"""The type system's other objects: collations, base types, casts, operators, operator
classes and families, conversions, access methods, transforms and extended statistics.

What ``pg_dump --schema-only`` emits for them, by name and definition, so that "a collation
that exists only in production" is a discrepancy and not silence. Objects that belong to an
extension are left out (the extension is captured by name and version), as are PostgreSQL's
built-in ones. Keys:

    collations:          {"s.name": {schema, name, owner, provider, locale, collate, ctype,
                                     deterministic, rules, encoding, version, comment}}
    base_types:          {"s.name": {schema, name, owner, input, output, receive, send,
                                     typmod_in, typmod_out, analyze, subscript,
                                     internal_length, passed_by_value, alignment, storage,
                                     category, preferred, delimiter, element, collatable,
                                     default, comment}}
    casts:               {"source AS target": {source, target, function, method, context,
                                               comment}}
    operators:           {"s.op(left,right)": {schema, name, left, right, result, function,
                                               commutator, negator, restrict, join, hashes,
                                               merges, owner, comment}}
    operator_families:   {"s.name USING method": {schema, name, method, owner, comment,
                                                  operators: {"strategy(left,right)": op},
                                                  functions: {"number(left,right)": f}}}
    operator_classes:    {"s.name USING method": {schema, name, method, type, family,
                                                  default, key_type, owner, comment}}
    conversions:         {"s.name": {schema, name, source, target, function, default,
                                     owner, comment}}
    access_methods:      {name: {type: table|index, handler, comment}}
    transforms:          {"type LANGUAGE lang": {type, language, from_sql, to_sql}}
    extended_statistics: {"s.name": {schema, name, table, definition, kinds,
                                     statistics_target, owner, comment}}

Functions and operators are named as ``regprocedure``/``regoperator`` print them with an
empty search_path: schema-qualified unless built in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows
from repro.snapshot.db.relations import Catalog, not_extension_member, unless_locked

# Below this OID an object was made by initdb (FirstNormalObjectId): built in.
FIRST_USER_OID = 16384
PROVIDERS = {"c": "libc", "i": "icu", "b": "builtin", "d": "default"}
CAST_CONTEXTS = {"e": "explicit", "a": "assignment", "i": "implicit"}
CAST_METHODS = {"f": "function", "i": "inout", "b": "binary"}
AM_TYPES = {"t": "table", "i": "index"}
STATISTICS_KINDS = {"d": "ndistinct", "f": "dependencies", "m": "mcv", "e": "expressions"}


def comment_of(catalog: str, oid: str) -> str:
    """The object's comment (COMMENT ON), as a scalar subquery."""
    return f"""(SELECT dsc.description FROM pg_catalog.pg_description dsc
               WHERE dsc.objoid = {oid} AND dsc.classoid = '{catalog}'::pg_catalog.regclass
                 AND dsc.objsubid = 0)"""


def qualified(schema: str, name: str) -> str:
    """``schema.name``, or the bare name of a built-in (pg_catalog) object."""
    return f"CASE WHEN {schema} = 'pg_catalog' THEN {name} ELSE {schema} || '.' || {name} END"


def function_key(proc: str, namespace: str) -> str:
    """A function's key in the snapshot, ``schema.name(identity arguments)``, in SQL
    (:mod:`.objects` makes the same from the same parts)."""
    return (
        f"{namespace}.nspname || '.' || {proc}.proname || '(' "
        f"|| pg_catalog.pg_get_function_identity_arguments({proc}.oid) || ')'"
    )


def procedure(oid: str) -> str:
    """A function's signature (NULL for none), as regprocedure prints it."""
    return f"CASE WHEN {oid} = 0 THEN NULL ELSE {oid}::pg_catalog.regprocedure::text END"


@dataclass
class SchemaObjectReader:
    catalog: Catalog
    data: dict[str, Any]

    def parts(self) -> list[Part]:
        return [
            self._collations(),
            self._base_types(),
            self._casts(),
            self._operators(),
            self._operator_families(),
            self._operator_members(),
            self._operator_classes(),
            self._conversions(),
            self._access_methods(),
            self._transforms(),
            self._extended_statistics(),
        ]

    def _section(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = self.data.setdefault(name, {})
        return out

    def _collations(self) -> Part:
        # to_jsonb: the locale columns moved between versions (colliculocale 15-16,
        # colllocale 17+, collicurules 16+).
        def handle(rows: Rows) -> None:
            out = self._section("collations")
            for r in rows:
                raw = r.c
                out[f"{r.nspname}.{raw['collname']}"] = {
                    "schema": r.nspname,
                    "name": raw["collname"],
                    "owner": r.owner,
                    "provider": PROVIDERS.get(
                        str(raw.get("collprovider")), raw.get("collprovider")
                    ),
                    "locale": raw.get("colllocale", raw.get("colliculocale")),
                    "collate": raw.get("collcollate"),
                    "ctype": raw.get("collctype"),
                    "deterministic": raw.get("collisdeterministic", True),
                    "rules": raw.get("collicurules"),
                    "encoding": r.encoding,
                    "version": raw.get("collversion"),
                    "comment": r.comment,
                }

        return Part(
            "collations",
            f"""
            SELECT n.nspname, pg_catalog.to_jsonb(co) AS c,
                   pg_catalog.pg_get_userbyid(co.collowner) AS owner,
                   CASE WHEN co.collencoding = -1 THEN NULL
                        ELSE pg_catalog.pg_encoding_to_char(co.collencoding) END AS encoding,
                   {comment_of("pg_catalog.pg_collation", "co.oid")} AS comment
            FROM pg_catalog.pg_collation co
            JOIN pg_catalog.pg_namespace n ON n.oid = co.collnamespace
            WHERE co.collnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_collation", "co.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _base_types(self) -> Part:
        """``CREATE TYPE name (INPUT = ..., OUTPUT = ...)``: what pg_dump writes as a shell
        type and a type. Array types made along with them are left out."""

        def handle(rows: Rows) -> None:
            out = self._section("base_types")
            for r in rows:
                raw = r.t

                def proc(field: str, raw: dict[str, Any] = raw) -> Any:
                    value = raw.get(field)
                    return None if value in (None, "-", 0, "0") else value

                out[f"{r.nspname}.{raw['typname']}"] = {
                    "schema": r.nspname,
                    "name": raw["typname"],
                    "owner": r.owner,
                    "input": proc("typinput"),
                    "output": proc("typoutput"),
                    "receive": proc("typreceive"),
                    "send": proc("typsend"),
                    "typmod_in": proc("typmodin"),
                    "typmod_out": proc("typmodout"),
                    "analyze": proc("typanalyze"),
                    "subscript": proc("typsubscript"),
                    "internal_length": raw.get("typlen"),
                    "passed_by_value": raw.get("typbyval"),
                    "alignment": raw.get("typalign"),
                    "storage": raw.get("typstorage"),
                    "category": raw.get("typcategory"),
                    "preferred": raw.get("typispreferred"),
                    "delimiter": raw.get("typdelim"),
                    "element": r.element,
                    "collatable": r.collatable,
                    "default": raw.get("typdefault"),
                    "comment": r.comment,
                }

        return Part(
            "base types",
            f"""
            SELECT n.nspname, pg_catalog.to_jsonb(t) AS t,
                   pg_catalog.pg_get_userbyid(t.typowner) AS owner,
                   CASE WHEN t.typelem <> 0
                        THEN pg_catalog.format_type(t.typelem, NULL) END AS element,
                   t.typcollation <> 0 AS collatable,
                   {comment_of("pg_catalog.pg_type", "t.oid")} AS comment
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typnamespace = ANY(%(nsp)s) AND t.typtype = 'b'
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type a WHERE a.typarray = t.oid)
              AND {not_extension_member("pg_catalog.pg_type", "t.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _casts(self) -> Part:
        """User-defined casts that touch the selected schemas (or only built-in types)."""

        def handle(rows: Rows) -> None:
            out = self._section("casts")
            for r in rows:
                out[f"{r.source} AS {r.target}"] = {
                    "source": r.source,
                    "target": r.target,
                    "function": r.function,
                    "method": CAST_METHODS.get(r.castmethod, r.castmethod),
                    "context": CAST_CONTEXTS.get(r.castcontext, r.castcontext),
                    "comment": r.comment,
                }

        return Part(
            "casts",
            f"""
            SELECT pg_catalog.format_type(c.castsource, NULL) AS source,
                   pg_catalog.format_type(c.casttarget, NULL) AS target,
                   {procedure("c.castfunc")} AS function, c.castmethod::text AS castmethod,
                   c.castcontext::text AS castcontext,
                   {comment_of("pg_catalog.pg_cast", "c.oid")} AS comment
            FROM pg_catalog.pg_cast c
            JOIN pg_catalog.pg_type s ON s.oid = c.castsource
            JOIN pg_catalog.pg_type t ON t.oid = c.casttarget
            LEFT JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc
            WHERE c.oid >= {FIRST_USER_OID}
              AND {not_extension_member("pg_catalog.pg_cast", "c.oid")}
              -- made by PostgreSQL along with a type (range -> multirange, 14+)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
                              WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                AND i.objid = c.castfunc AND i.deptype = 'i')
              AND (s.typnamespace = ANY(%(nsp)s) OR t.typnamespace = ANY(%(nsp)s)
                   OR p.pronamespace = ANY(%(nsp)s)
                   OR (s.typnamespace = 'pg_catalog'::pg_catalog.regnamespace
                       AND t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace))
            """,
            self.catalog.params,
            handle=handle,
        )

    def _operators(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("operators")
            for r in rows:
                out[f"{r.nspname}.{r.oprname}({r.left or 'NONE'},{r.right or 'NONE'})"] = {
                    "schema": r.nspname,
                    "name": r.oprname,
                    "left": r.left,
                    "right": r.right,
                    "result": r.result,
                    "function": r.function,
                    "commutator": r.commutator,
                    "negator": r.negator,
                    "restrict": r.restrict,
                    "join": r.join,
                    "hashes": r.oprcanhash,
                    "merges": r.oprcanmerge,
                    "owner": r.owner,
                    "comment": r.comment,
                }

        def operator(oid: str) -> str:
            return f"CASE WHEN {oid} = 0 THEN NULL ELSE {oid}::pg_catalog.regoperator::text END"

        def type_name(oid: str) -> str:
            return f"CASE WHEN {oid} = 0 THEN NULL ELSE pg_catalog.format_type({oid}, NULL) END"

        return Part(
            "operators",
            f"""
            SELECT n.nspname, o.oprname, {type_name("o.oprleft")} AS left,
                   {type_name("o.oprright")} AS right,
                   {type_name("o.oprresult")} AS result,
                   {procedure("o.oprcode")} AS function,
                   {operator("o.oprcom")} AS commutator, {operator("o.oprnegate")} AS negator,
                   {procedure("o.oprrest")} AS restrict, {procedure("o.oprjoin")} AS join,
                   o.oprcanhash, o.oprcanmerge,
                   pg_catalog.pg_get_userbyid(o.oprowner) AS owner,
                   {comment_of("pg_catalog.pg_operator", "o.oid")} AS comment
            FROM pg_catalog.pg_operator o
            JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
            WHERE o.oprnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_operator", "o.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _operator_families(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("operator_families")
            for r in rows:
                out[f"{r.nspname}.{r.opfname} USING {r.amname}"] = {
                    "schema": r.nspname,
                    "name": r.opfname,
                    "method": r.amname,
                    "owner": r.owner,
                    "comment": r.comment,
                    "operators": {},
                    "functions": {},
                }

        return Part(
            "operator families",
            f"""
            SELECT n.nspname, f.opfname, am.amname,
                   pg_catalog.pg_get_userbyid(f.opfowner) AS owner,
                   {comment_of("pg_catalog.pg_opfamily", "f.oid")} AS comment
            FROM pg_catalog.pg_opfamily f
            JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
            JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
            WHERE f.opfnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_opfamily", "f.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _operator_members(self) -> Part:
        """The operators (by strategy) and support functions (by number) of each family,
        whichever of its classes they came with."""

        def handle(rows: Rows) -> None:
            families = self._section("operator_families")
            for r in rows:
                family = families.get(r.family)
                if family is not None:
                    family["operators" if r.member == "operator" else "functions"][r.slot] = r.what

        return Part(
            "operator family members",
            """
            SELECT n.nspname || '.' || f.opfname || ' USING ' || am.amname AS family,
                   'operator' AS member,
                   o.amopstrategy || '(' || pg_catalog.format_type(o.amoplefttype, NULL) || ','
                       || pg_catalog.format_type(o.amoprighttype, NULL) || ')' AS slot,
                   o.amopopr::pg_catalog.regoperator::text
                       || CASE WHEN o.amoppurpose = 'o' THEN ' FOR ORDER BY' ELSE '' END AS what
            FROM pg_catalog.pg_amop o
            JOIN pg_catalog.pg_opfamily f ON f.oid = o.amopfamily
            JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
            JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
            WHERE f.opfnamespace = ANY(%(nsp)s)
            UNION ALL
            SELECT n.nspname || '.' || f.opfname || ' USING ' || am.amname, 'function',
                   p.amprocnum || '(' || pg_catalog.format_type(p.amproclefttype, NULL) || ','
                       || pg_catalog.format_type(p.amprocrighttype, NULL) || ')',
                   p.amproc::pg_catalog.regprocedure::text
            FROM pg_catalog.pg_amproc p
            JOIN pg_catalog.pg_opfamily f ON f.oid = p.amprocfamily
            JOIN pg_catalog.pg_namespace n ON n.oid = f.opfnamespace
            JOIN pg_catalog.pg_am am ON am.oid = f.opfmethod
            WHERE f.opfnamespace = ANY(%(nsp)s)
            """,
            self.catalog.params,
            handle=handle,
        )

    def _operator_classes(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("operator_classes")
            for r in rows:
                out[f"{r.nspname}.{r.opcname} USING {r.amname}"] = {
                    "schema": r.nspname,
                    "name": r.opcname,
                    "method": r.amname,
                    "type": r.type,
                    "family": r.family,
                    "default": r.opcdefault,
                    "key_type": r.key_type,
                    "owner": r.owner,
                    "comment": r.comment,
                }

        return Part(
            "operator classes",
            f"""
            SELECT n.nspname, c.opcname, am.amname,
                   pg_catalog.format_type(c.opcintype, NULL) AS type,
                   fn.nspname || '.' || f.opfname || ' USING ' || am.amname AS family,
                   c.opcdefault,
                   CASE WHEN c.opckeytype <> 0
                        THEN pg_catalog.format_type(c.opckeytype, NULL) END AS key_type,
                   pg_catalog.pg_get_userbyid(c.opcowner) AS owner,
                   {comment_of("pg_catalog.pg_opclass", "c.oid")} AS comment
            FROM pg_catalog.pg_opclass c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
            JOIN pg_catalog.pg_am am ON am.oid = c.opcmethod
            JOIN pg_catalog.pg_opfamily f ON f.oid = c.opcfamily
            JOIN pg_catalog.pg_namespace fn ON fn.oid = f.opfnamespace
            WHERE c.opcnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_opclass", "c.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _conversions(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("conversions")
            for r in rows:
                out[f"{r.nspname}.{r.conname}"] = {
                    "schema": r.nspname,
                    "name": r.conname,
                    "source": r.source,
                    "target": r.target,
                    "function": r.function,
                    "default": r.condefault,
                    "owner": r.owner,
                    "comment": r.comment,
                }

        return Part(
            "conversions",
            f"""
            SELECT n.nspname, c.conname,
                   pg_catalog.pg_encoding_to_char(c.conforencoding) AS source,
                   pg_catalog.pg_encoding_to_char(c.contoencoding) AS target,
                   {procedure("c.conproc")} AS function, c.condefault,
                   pg_catalog.pg_get_userbyid(c.conowner) AS owner,
                   {comment_of("pg_catalog.pg_conversion", "c.oid")} AS comment
            FROM pg_catalog.pg_conversion c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
            WHERE c.connamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_conversion", "c.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _access_methods(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("access_methods")
            for r in rows:
                out[r.amname] = {
                    "type": AM_TYPES.get(r.amtype, r.amtype),
                    "handler": r.handler,
                    "comment": r.comment,
                }

        return Part(
            "access methods",
            f"""
            SELECT a.amname, a.amtype::text AS amtype, {procedure("a.amhandler")} AS handler,
                   {comment_of("pg_catalog.pg_am", "a.oid")} AS comment
            FROM pg_catalog.pg_am a
            WHERE a.oid >= {FIRST_USER_OID}
              AND {not_extension_member("pg_catalog.pg_am", "a.oid")}
            """,
            handle=handle,
        )

    def _transforms(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("transforms")
            for r in rows:
                out[f"{r.type} LANGUAGE {r.language}"] = {
                    "type": r.type,
                    "language": r.language,
                    "from_sql": r.from_sql,
                    "to_sql": r.to_sql,
                    "comment": r.comment,
                }

        return Part(
            "transforms",
            f"""
            SELECT pg_catalog.format_type(t.trftype, NULL) AS type, l.lanname AS language,
                   {procedure("t.trffromsql")} AS from_sql, {procedure("t.trftosql")} AS to_sql,
                   {comment_of("pg_catalog.pg_transform", "t.oid")} AS comment
            FROM pg_catalog.pg_transform t
            JOIN pg_catalog.pg_language l ON l.oid = t.trflang
            WHERE t.oid >= {FIRST_USER_OID}
              AND {not_extension_member("pg_catalog.pg_transform", "t.oid")}
            """,
            handle=handle,
        )

    def _extended_statistics(self) -> Part:
        """CREATE STATISTICS objects (what the planner knows about correlated columns)."""

        def handle(rows: Rows) -> None:
            out = self._section("extended_statistics")
            for r in rows:
                target = r.target
                out[f"{r.nspname}.{r.stxname}"] = {
                    "schema": r.nspname,
                    "name": r.stxname,
                    "table": r.table_key,
                    "definition": r.definition,
                    "kinds": sorted(STATISTICS_KINDS.get(k, k) for k in r.kinds or []),
                    # -1 (before 17) and NULL (17+) both mean "the column's own target".
                    "statistics_target": None if target is None or target < 0 else target,
                    "owner": r.owner,
                    "comment": r.comment,
                }

        return Part(
            "extended statistics",
            f"""
            SELECT n.nspname, s.stxname, tn.nspname || '.' || c.relname AS table_key,
                   {
                unless_locked("s.stxrelid", "pg_catalog.pg_get_statisticsobjdef(s.oid)")
            } AS definition,
                   s.stxkind::text[] AS kinds, s.stxstattarget AS target,
                   pg_catalog.pg_get_userbyid(s.stxowner) AS owner,
                   {comment_of("pg_catalog.pg_statistic_ext", "s.oid")} AS comment
            FROM pg_catalog.pg_statistic_ext s
            JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
            JOIN pg_catalog.pg_class c ON c.oid = s.stxrelid
            JOIN pg_catalog.pg_namespace tn ON tn.oid = c.relnamespace
            WHERE s.stxnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_statistic_ext", "s.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )
