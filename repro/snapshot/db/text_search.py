"""Text search configurations, dictionaries, parsers and templates of the selected schemas:
``to_tsvector('app.english_unaccent', ...)`` finds other words when a configuration maps a
token type to other dictionaries.

    text_search_configurations: {"s.name": {schema, name, owner, parser, comment,
                                            mappings: {token type: [dictionary, ...]}}}
    text_search_dictionaries:   {"s.name": {schema, name, owner, template, options, comment}}
    text_search_parsers:        {"s.name": {schema, name, start, gettoken, end, headline,
                                            lextypes, comment}}
    text_search_templates:      {"s.name": {schema, name, init, lexize, comment}}

Referenced objects are ``schema.name``, or the bare name of a built-in one (``simple``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows
from repro.snapshot.db.relations import Catalog, not_extension_member
from repro.snapshot.db.schema_objects import comment_of, qualified


def _function(oid: str) -> str:
    return f"CASE WHEN {oid} = 0 THEN NULL ELSE {oid}::pg_catalog.regproc::text END"


@dataclass
class TextSearchReader:
    catalog: Catalog
    data: dict[str, Any]

    def parts(self) -> list[Part]:
        return [
            self._parsers(),
            self._templates(),
            self._dictionaries(),
            self._configurations(),
            self._mappings(),
        ]

    def _section(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = self.data.setdefault(name, {})
        return out

    def _parsers(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("text_search_parsers")
            for r in rows:
                out[f"{r.nspname}.{r.prsname}"] = {
                    "schema": r.nspname,
                    "name": r.prsname,
                    "start": r.start,
                    "gettoken": r.gettoken,
                    "end": r.end_function,
                    "headline": r.headline,
                    "lextypes": r.lextypes,
                    "comment": r.comment,
                }

        return Part(
            "text search parsers",
            f"""
            SELECT n.nspname, p.prsname, {_function("p.prsstart")} AS start,
                   {_function("p.prstoken")} AS gettoken, {_function("p.prsend")} AS end_function,
                   {_function("p.prsheadline")} AS headline,
                   {_function("p.prslextype")} AS lextypes,
                   {comment_of("pg_catalog.pg_ts_parser", "p.oid")} AS comment
            FROM pg_catalog.pg_ts_parser p
            JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
            WHERE p.prsnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_ts_parser", "p.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _templates(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("text_search_templates")
            for r in rows:
                out[f"{r.nspname}.{r.tmplname}"] = {
                    "schema": r.nspname,
                    "name": r.tmplname,
                    "init": r.init,
                    "lexize": r.lexize,
                    "comment": r.comment,
                }

        return Part(
            "text search templates",
            f"""
            SELECT n.nspname, t.tmplname, {_function("t.tmplinit")} AS init,
                   {_function("t.tmpllexize")} AS lexize,
                   {comment_of("pg_catalog.pg_ts_template", "t.oid")} AS comment
            FROM pg_catalog.pg_ts_template t
            JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
            WHERE t.tmplnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_ts_template", "t.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _dictionaries(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("text_search_dictionaries")
            for r in rows:
                out[f"{r.nspname}.{r.dictname}"] = {
                    "schema": r.nspname,
                    "name": r.dictname,
                    "owner": r.owner,
                    "template": r.template,
                    "options": r.dictinitoption,
                    "comment": r.comment,
                }

        return Part(
            "text search dictionaries",
            f"""
            SELECT n.nspname, d.dictname, d.dictinitoption,
                   {qualified("tn.nspname", "t.tmplname")} AS template,
                   pg_catalog.pg_get_userbyid(d.dictowner) AS owner,
                   {comment_of("pg_catalog.pg_ts_dict", "d.oid")} AS comment
            FROM pg_catalog.pg_ts_dict d
            JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
            JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
            JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
            WHERE d.dictnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_ts_dict", "d.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _configurations(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("text_search_configurations")
            for r in rows:
                out[f"{r.nspname}.{r.cfgname}"] = {
                    "schema": r.nspname,
                    "name": r.cfgname,
                    "owner": r.owner,
                    "parser": r.parser,
                    "mappings": {},
                    "comment": r.comment,
                }

        return Part(
            "text search configurations",
            f"""
            SELECT n.nspname, c.cfgname, {qualified("pn.nspname", "p.prsname")} AS parser,
                   pg_catalog.pg_get_userbyid(c.cfgowner) AS owner,
                   {comment_of("pg_catalog.pg_ts_config", "c.oid")} AS comment
            FROM pg_catalog.pg_ts_config c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
            JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
            JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
            WHERE c.cfgnamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_ts_config", "c.oid")}
            """,
            self.catalog.params,
            handle=handle,
        )

    def _mappings(self) -> Part:
        """Which dictionaries (in order) each token type goes through."""

        def handle(rows: Rows) -> None:
            configurations = self._section("text_search_configurations")
            for r in rows:
                entry = configurations.get(r.config)
                if entry is not None:
                    entry["mappings"][r.token] = list(r.dictionaries)

        return Part(
            "text search mappings",
            f"""
            SELECT n.nspname || '.' || c.cfgname AS config, t.alias AS token,
                   ARRAY(SELECT {qualified("dn.nspname", "d.dictname")}
                         FROM pg_catalog.pg_ts_config_map m2
                         JOIN pg_catalog.pg_ts_dict d ON d.oid = m2.mapdict
                         JOIN pg_catalog.pg_namespace dn ON dn.oid = d.dictnamespace
                         WHERE m2.mapcfg = c.oid AND m2.maptokentype = t.tokid
                         ORDER BY m2.mapseqno) AS dictionaries
            FROM pg_catalog.pg_ts_config c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace,
                 LATERAL pg_catalog.ts_token_type(c.cfgparser) t
            WHERE c.cfgnamespace = ANY(%(nsp)s)
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config_map m
                          WHERE m.mapcfg = c.oid AND m.maptokentype = t.tokid)
            """,
            self.catalog.params,
            handle=handle,
        )
