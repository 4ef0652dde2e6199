"""Database-wide objects outside any schema: procedural languages, event triggers,
publications and subscriptions, foreign data wrappers, foreign servers and user mappings.

    languages:             {name: {trusted, handler, inline, validator, owner, comment}}
    event_triggers:        {name: {event, function, enabled, tags, owner, comment}}
    publications:          {name: {owner, all_tables, publish: [insert, update...],
                                   via_root, tables: {"s.t": {columns, where}},
                                   schemas: [...], comment}}
    subscriptions:         {name: {owner, enabled, connection: {parameter: value} | null,
                                   slot_name, publications, synchronous_commit, binary,
                                   streaming, two_phase, disable_on_error, origin,
                                   password_required, run_as_owner, failover, comment}}
    foreign_data_wrappers: {name: {owner, handler, validator, options, comment}}
    foreign_servers:       {name: {owner, wrapper, type, version, options, comment}}
    user_mappings:         {"user@server": {user, server, options | null}}

Secrets sit in options and connection strings (``password``, ``sslkey``...): each value is
judged by its parameter's name and fingerprinted here, where it is read. A subscription's
connection string is readable by superusers only, and a user mapping's options by the mapped
user or the server's owner: otherwise they are ``null`` (and not compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from repro.pg.session import Part, Rows, Session
from repro.redaction import Redactor
from repro.snapshot.db.relations import not_extension_member
from repro.snapshot.db.schema_objects import FIRST_USER_OID, comment_of, procedure

ENABLED = {"O": "enabled", "D": "disabled", "R": "replica", "A": "always"}
# pg_subscription columns by the version that added them (subconninfo is asked apart).
SUBSCRIPTION_COLUMNS = (
    (0, "subenabled", "enabled"),
    (0, "subslotname", "slot_name"),
    (0, "subsynccommit", "synchronous_commit"),
    (140000, "subbinary", "binary"),
    (140000, "substream", "streaming"),
    (150000, "subtwophasestate", "two_phase"),
    (150000, "subdisableonerr", "disable_on_error"),
    (160000, "suborigin", "origin"),
    (160000, "subpasswordrequired", "password_required"),
    (160000, "subrunasowner", "run_as_owner"),
    (170000, "subfailover", "failover"),
)


def redacted_options(redactor: Redactor, raw: list[str] | None) -> dict[str, Any]:
    """``{"host=db", "password=x"}`` as a map, each value judged by its name."""
    out: dict[str, Any] = {}
    for item in raw or []:
        name, _, value = str(item).partition("=")
        out[name] = redactor.redact_scalar(name, value)
    return out


def redacted_conninfo(redactor: Redactor, text: str) -> dict[str, Any]:
    """A libpq connection string as its parameters, secrets fingerprinted; one that does
    not parse is kept only as a fingerprint."""
    try:
        params = conninfo_to_dict(text)
    except psycopg.Error:
        return {"unparsed": redactor.redact_value(text)}
    return {name: redactor.redact_scalar(name, str(value)) for name, value in params.items()}


@dataclass
class ServerObjectReader:
    session: Session
    data: dict[str, Any]
    subscriptions_readable: bool = False
    conninfo_readable: bool = False

    @property
    def redactor(self) -> Redactor:
        return self.session.redactor

    def first(self) -> Part:
        """Who may read pg_subscription: superusers only before PostgreSQL 15, everyone but
        its connection strings since."""

        def handle(rows: Rows) -> None:
            self.subscriptions_readable = bool(rows[0].readable)
            self.conninfo_readable = bool(rows[0].conninfo)

        return Part(
            "subscription access",
            """
            SELECT pg_catalog.has_column_privilege('pg_catalog.pg_subscription', 'subname',
                                                   'SELECT') AS readable,
                   pg_catalog.has_column_privilege('pg_catalog.pg_subscription',
                                                   'subconninfo', 'SELECT') AS conninfo
            """,
            handle=handle,
        )

    def parts(self) -> list[Part]:
        parts = [
            self._languages(),
            self._event_triggers(),
            self._publications(),
            self._publication_tables(),
            self._wrappers(),
            self._servers(),
            self._user_mappings(),
        ]
        if self.subscriptions_readable:
            parts.append(self._subscriptions())
        else:
            # Not "no subscriptions": unknown, and said (the section stays absent).
            self.session.problems.append(
                f"subscriptions: role {self.session.conn.info.user} may not read "
                "pg_catalog.pg_subscription (before PostgreSQL 15 only superusers may): "
                "snapshot as a superuser, or GRANT SELECT on its columns but subconninfo"
            )
        return parts

    def _section(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = self.data.setdefault(name, {})
        return out

    def _languages(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("languages")
            for r in rows:
                out[r.lanname] = {
                    "trusted": r.lanpltrusted,
                    "handler": r.handler,
                    "inline": r.inline,
                    "validator": r.validator,
                    "owner": r.owner,
                    "comment": r.comment,
                }

        # plpgsql and the other shipped languages come with CREATE EXTENSION.
        return Part(
            "languages",
            f"""
            SELECT l.lanname, l.lanpltrusted, {procedure("l.lanplcallfoid")} AS handler,
                   {procedure("l.laninline")} AS inline, {procedure("l.lanvalidator")} AS validator,
                   pg_catalog.pg_get_userbyid(l.lanowner) AS owner,
                   {comment_of("pg_catalog.pg_language", "l.oid")} AS comment
            FROM pg_catalog.pg_language l
            WHERE l.oid >= {FIRST_USER_OID}
              AND {not_extension_member("pg_catalog.pg_language", "l.oid")}
            """,
            handle=handle,
        )

    def _event_triggers(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("event_triggers")
            for r in rows:
                out[r.evtname] = {
                    "event": r.evtevent,
                    "function": r.function,
                    "enabled": ENABLED.get(r.evtenabled, r.evtenabled),
                    "tags": sorted(r.evttags or []),
                    "owner": r.owner,
                    "comment": r.comment,
                }

        return Part(
            "event triggers",
            f"""
            SELECT et.evtname, et.evtevent, et.evtenabled::text AS evtenabled, et.evttags,
                   {procedure("et.evtfoid")} AS function,
                   pg_catalog.pg_get_userbyid(et.evtowner) AS owner,
                   {comment_of("pg_catalog.pg_event_trigger", "et.oid")} AS comment
            FROM pg_catalog.pg_event_trigger et
            WHERE {not_extension_member("pg_catalog.pg_event_trigger", "et.oid")}
            """,
            handle=handle,
        )

    def _publications(self) -> Part:
        # to_jsonb: pubviaroot (13+) and later flags come and go with versions.
        def handle(rows: Rows) -> None:
            out = self._section("publications")
            for r in rows:
                raw = r.p
                out[raw["pubname"]] = {
                    "owner": r.owner,
                    "all_tables": raw.get("puballtables"),
                    "publish": [
                        action
                        for action in ("insert", "update", "delete", "truncate")
                        if raw.get(f"pub{action}")
                    ],
                    "via_root": raw.get("pubviaroot", False),
                    "tables": {},
                    "schemas": [],
                    "comment": r.comment,
                }

        return Part(
            "publications",
            f"""
            SELECT pg_catalog.to_jsonb(p) AS p, pg_catalog.pg_get_userbyid(p.pubowner) AS owner,
                   {comment_of("pg_catalog.pg_publication", "p.oid")} AS comment
            FROM pg_catalog.pg_publication p
            """,
            handle=handle,
        )

    def _publication_tables(self) -> Part:
        """Published tables (with a column list and row filter from 15 on) and, from 15
        on, whole published schemas."""
        version = self.session.version_num
        columns = where = "NULL"
        schemas = ""
        if version >= 150000:
            columns = """CASE WHEN r.prattrs IS NULL THEN NULL ELSE ARRAY(
                    SELECT a.attname FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = r.prrelid AND a.attnum = ANY(r.prattrs)
                    ORDER BY a.attnum) END"""
            where = "pg_catalog.pg_get_expr(r.prqual, r.prrelid)"
            schemas = """
            UNION ALL
            SELECT p.pubname, 'schema', n.nspname, NULL, NULL
            FROM pg_catalog.pg_publication_namespace s
            JOIN pg_catalog.pg_publication p ON p.oid = s.pnpubid
            JOIN pg_catalog.pg_namespace n ON n.oid = s.pnnspid"""

        def handle(rows: Rows) -> None:
            publications = self._section("publications")
            for r in rows:
                entry = publications.get(r.pubname)
                if entry is None:
                    continue
                if r.member == "schema":
                    entry["schemas"] = sorted([*entry["schemas"], r.name])
                else:
                    entry["tables"][r.name] = {
                        "columns": None if r.columns is None else list(r.columns),
                        "where": r.row_filter,
                    }

        return Part(
            "publication members",
            f"""
            SELECT p.pubname, 'table' AS member, n.nspname || '.' || c.relname AS name,
                   {columns} AS columns, {where} AS row_filter
            FROM pg_catalog.pg_publication_rel r
            JOIN pg_catalog.pg_publication p ON p.oid = r.prpubid
            JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            {schemas}
            """,
            handle=handle,
        )

    def _subscriptions(self) -> Part:
        version = self.session.version_num
        wanted = [
            (column, name) for since, column, name in SUBSCRIPTION_COLUMNS if version >= since
        ]
        select = ", ".join(f"s.{column}" for column, _ in wanted)
        conninfo = "s.subconninfo" if self.conninfo_readable else "NULL"

        def handle(rows: Rows) -> None:
            out = self._section("subscriptions")
            for r in rows:
                entry: dict[str, Any] = {
                    "owner": r.owner,
                    "connection": (
                        None if r.conninfo is None else redacted_conninfo(self.redactor, r.conninfo)
                    ),
                    "publications": list(r.subpublications or []),
                    "comment": r.comment,
                }
                for column, name in wanted:
                    value = getattr(r, column)
                    entry[name] = value.strip() if isinstance(value, str) else value
                out[r.subname] = entry

        return Part(
            "subscriptions",
            f"""
            SELECT s.subname, {select}, s.subpublications, {conninfo} AS conninfo,
                   pg_catalog.pg_get_userbyid(s.subowner) AS owner,
                   {comment_of("pg_catalog.pg_subscription", "s.oid")} AS comment
            FROM pg_catalog.pg_subscription s
            WHERE s.subdbid = (SELECT oid FROM pg_catalog.pg_database
                               WHERE datname = pg_catalog.current_database())
            """,
            handle=handle,
        )

    def _wrappers(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("foreign_data_wrappers")
            for r in rows:
                out[r.fdwname] = {
                    "owner": r.owner,
                    "handler": r.handler,
                    "validator": r.validator,
                    "options": redacted_options(self.redactor, r.fdwoptions),
                    "comment": r.comment,
                }

        # postgres_fdw's and file_fdw's wrappers come with their extension.
        return Part(
            "foreign data wrappers",
            f"""
            SELECT w.fdwname, w.fdwoptions, {procedure("w.fdwhandler")} AS handler,
                   {procedure("w.fdwvalidator")} AS validator,
                   pg_catalog.pg_get_userbyid(w.fdwowner) AS owner,
                   {comment_of("pg_catalog.pg_foreign_data_wrapper", "w.oid")} AS comment
            FROM pg_catalog.pg_foreign_data_wrapper w
            WHERE {not_extension_member("pg_catalog.pg_foreign_data_wrapper", "w.oid")}
            """,
            handle=handle,
        )

    def _servers(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("foreign_servers")
            for r in rows:
                out[r.srvname] = {
                    "owner": r.owner,
                    "wrapper": r.fdwname,
                    "type": r.srvtype,
                    "version": r.srvversion,
                    "options": redacted_options(self.redactor, r.srvoptions),
                    "comment": r.comment,
                }

        return Part(
            "foreign servers",
            f"""
            SELECT s.srvname, w.fdwname, s.srvtype, s.srvversion, s.srvoptions,
                   pg_catalog.pg_get_userbyid(s.srvowner) AS owner,
                   {comment_of("pg_catalog.pg_foreign_server", "s.oid")} AS comment
            FROM pg_catalog.pg_foreign_server s
            JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
            WHERE {not_extension_member("pg_catalog.pg_foreign_server", "s.oid")}
            """,
            handle=handle,
        )

    def _user_mappings(self) -> Part:
        def handle(rows: Rows) -> None:
            out = self._section("user_mappings")
            for r in rows:
                user = "PUBLIC" if r.umuser == 0 else r.usename
                out[f"{user}@{r.srvname}"] = {
                    "user": user,
                    "server": r.srvname,
                    # NULL when this user may not see them (pg_user_mappings hides them).
                    "options": (
                        None
                        if r.umoptions is None
                        else redacted_options(self.redactor, r.umoptions)
                    ),
                }

        return Part(
            "user mappings",
            "SELECT m.srvname, m.umuser, m.usename, m.umoptions FROM pg_catalog.pg_user_mappings m",
            handle=handle,
        )
