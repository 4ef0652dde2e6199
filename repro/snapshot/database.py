"""The ``database`` facet: a PostgreSQL server, database, schema and planner statistics.

How it reads (PostgreSQL 12 and later), harmless to production:

- one ``REPEATABLE READ READ ONLY`` transaction, bounded by statement_timeout (the profile's
  ``database.statement_timeout_ms``), lock_timeout and idle_in_transaction_session_timeout;
- a handful of set-based catalog queries, pipelined, never one per table; planner statistics
  on a second connection that imports the same snapshot (as ``pg_dump --jobs`` does), unless
  option ``parallel`` is false or the server refuses it;
- relations that another session locks (a migration) are skipped, not waited for: their
  definitions are null and a problem says so;
- values are rendered the same way everywhere: empty search_path (every name in SQL text is
  schema-qualified), TimeZone UTC, ISO dates; settings are read before those are set.

Passwords never appear, in the data or in error messages; secrets in options, connection
strings and free text are fingerprinted by the facet itself (:mod:`repro.snapshot.db.redact`).
A part that cannot be read (permission denied, timeout) makes the status ``partial`` and is
listed in ``problems``.

Data shape (maps keyed by name; lists only where order means something — enum labels, key
columns, ``inherits``, ``member_of``). Relation, type and sequence keys are ``"schema.name"``
(unquoted; entries repeat ``schema`` and ``name``); function keys ``"schema.name(args)"``.
SQL text (``definition``, ``default``, ``generated``, ``type``, ``partition_by``...) is
PostgreSQL's own rendering, which the data generator can emit verbatim in ``CREATE``
statements::

    connection: {host, port, dbname, user}                   # provenance; never a password
    server:     {version, version_num, major, in_recovery}
    database:   {name, encoding, collate, ctype, locale_provider, locale, collation_version,
                 collation_actual_version, connection_limit}
    settings:   {name: {value, unit, source}}   # non-default, always-kept ones (TimeZone,
                                                # statement_timeout, work_mem...), and custom
                                                # GUCs (app.x); secret-named values redacted
    scoped_settings: {"database" | "role:R" | "database+role:R" | "all": {name: value}}
    extensions: {name: {version, schema, types: [the types it makes]}}
    schemas:    {name: {owner, comment, privileges: {role: [CREATE, USAGE]}}}
    tables: {"s.t": {
        schema, name, kind: table|partitioned_table|foreign_table, owner, comment,
        persistence: permanent|unlogged, options: {reloption: value},
        partition_by ("RANGE (col)"; not partition_key: *_key names are redacted),
        partition_of: "s.parent"|null, partition_bound, inherits: ["s.p"],
        row_security: {enabled, forced}, foreign_server, rows_estimate, size_bytes,
        columns: {name: {position (1-based, dropped columns skipped), type (format_type),
                         nullable, default, generated (expression)|null,
                         identity: always|by_default|null, collation|null, inherited, comment}},
        constraints: {name: {type: primary_key|unique|foreign_key|check|exclusion, definition,
                             columns: [...], references: {table, columns: [...]}|null,
                             on_update, on_delete, match, deferrable, initially_deferred,
                             validated, inherited (cloned onto a partition), no_inherit}},
        indexes: {name: {definition, unique, primary, valid, method, columns: [column or
                         expression], include: [...], expressions, predicate,
                         constraint|null, parent_index|null, options}},
        triggers: {name: {definition, enabled: enabled|disabled|replica|always, function,
                          inherited}},
        policies: {name: {command, permissive, roles: [...], using, with_check}}}}
    views: {"s.v": {schema, name, kind: view|materialized_view, materialized, definition,
                    owner, comment, options, columns: {name: {position, type}}, triggers,
                    and for materialized views: indexes, rows_estimate, size_bytes}}
    enums:           {"s.t": {schema, name, comment, labels: [...]}}
    domains:         {"s.t": {schema, name, comment, type, nullable, default, collation,
                              checks: {name: definition}}}
    composite_types: {"s.t": {schema, name, comment, attributes: {name: {position, type,
                                                                          collation}}}}
    range_types:     {"s.t": {schema, name, comment, subtype}}
    sequences: {"s.q": {schema, name, type, start, increment, min, max, cache, cycle,
                        owned_by: "s.t.col"|null, identity, last_value|null}}
    functions: {"s.f(argtypes)": {schema, name, kind: function|procedure|aggregate|window,
                 arguments, returns, language, volatility, security_definer, strict,
                 parallel, owner, config: {name: value}, body_sha256,
                 definition}}   # CREATE text; secrets in it masked (repro.snapshot.db.code)
    roles:  {name: {exists, superuser, inherit, createrole, createdb, login, replication,
                    bypassrls, connection_limit, valid_until, member_of: [...],
                    used_by: [app, login, replication, job, member]}}  # every role
    privileges (in tables, views, columns, sequences, functions, schemas, types, languages,
                wrappers, servers and the database): {grantee | PUBLIC: [PRIVILEGE, ...]}
    default_privileges: {role: {schema | "*": {tables | sequences | ...: {grantee: [...]}}}}
    rules, replica_identity, access_method, tablespace (tables); collations, base_types,
    casts, operators, operator_families/classes, conversions, access_methods, transforms,
    extended_statistics, text_search_*, languages, event_triggers, publications,
    subscriptions, foreign_data_wrappers, foreign_servers, user_mappings, security_labels:
    see repro.snapshot.db (privileges, schema_objects, text_search, server_objects,
    table_details)
    migration_tables: {"s.t": {tool, columns: [...], rows: [[text|null, ...]] | null,
                       truncated}}   # alembic_version, django_migrations...: rows verbatim
                                     # (see .db.migrations), loaded as they are by a sandbox
    statistics: {"s.t": {rows_estimate, size_bytes, columns: {name: {
        analyzed: true|false (no pg_stats row yet) | null (hidden: then readable: false),
        personal: bool, personal_reason (only when personal), null_frac, avg_width,
        n_distinct, correlation,
        mcv: {values_fingerprinted: bool, count (of all MCVs), frequency_sum (of all),
              frequencies: {value, or fingerprint when personal: frequency}} | null,
        histogram: {buckets, bounds: [<= histogram_points quantiles; numbers for numeric
                    columns] | null, bounds_omitted: "personal"} | null}}}}

Nothing volatile is captured (no OIDs, xids, activity counters); sizes are estimated from
``pg_class.relpages``, which changes only with writes, VACUUM and ANALYZE.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg

from repro.errors import ReproError
from repro.gcpause import gc_paused
from repro.pg.personal import PersonalRules
from repro.pg.session import (
    Session,
    connect,
    provenance,
    run_with_snapshot,
)
from repro.profile.facets import Option
from repro.profile.file import DatabaseSpec
from repro.snapshot.base import CaptureContext
from repro.snapshot.db.code import CodeReader
from repro.snapshot.db.constraints import ConstraintReader
from repro.snapshot.db.migrations import MigrationReader
from repro.snapshot.db.objects import ObjectReader
from repro.snapshot.db.privileges import PrivilegeReader
from repro.snapshot.db.redact import redact_database, redact_statistics
from repro.snapshot.db.relations import Catalog, RelationReader
from repro.snapshot.db.schema_objects import SchemaObjectReader
from repro.snapshot.db.server import ServerReader
from repro.snapshot.db.server_objects import ServerObjectReader
from repro.snapshot.db.stats import StatsReader
from repro.snapshot.db.table_details import TableDetailReader
from repro.snapshot.db.text_search import TextSearchReader
from repro.snapshot.file import FacetResult
from repro.text import one_line, plural


@dataclass
class DatabaseFacet:
    name: str = "database"
    # Its secrets are judged by the facet, which knows its fields (repro.snapshot.db.redact).
    redacts_own_data: bool = True
    summary: str = (
        "PostgreSQL version, settings, extensions, schema, roles, grants and planner "
        "statistics (personal values fingerprinted)"
    )
    options: dict[str, Option] = field(
        default_factory=lambda: {
            "statistics": Option(bool, True, "capture planner statistics (pg_stats)"),
            "mcv_limit": Option(int, 20, "most common values kept per column"),
            "histogram_points": Option(
                int, 21, "histogram bounds kept per column (evenly spaced quantiles, at least 2)"
            ),
            "personal_columns": Option(
                list,
                [],
                "globs (column, table.column or schema.table.column) always treated as personal",
                item_kind=str,
            ),
            "public_columns": Option(
                list, [], "globs never treated as personal (their values are kept)", item_kind=str
            ),
            "parallel": Option(
                bool,
                True,
                "read statistics on a second connection sharing the same snapshot "
                "(as pg_dump --jobs does); false: a single connection",
            ),
            "migration_tables": Option(
                list,
                [],
                "more tables (schema.table or table) whose rows are captured verbatim, as the "
                "known migration tables' are (alembic_version, django_migrations, ...)",
                item_kind=str,
            ),
        }
    )

    def capture(self, ctx: CaptureContext) -> FacetResult:
        spec = ctx.profile.database
        dsn = spec.resolve_dsn() if spec is not None else None
        if spec is None or not dsn:
            return FacetResult(status="skipped", message="no database configured")
        conn = connect(dsn, ctx.redactor)
        where = provenance(conn)
        session = Session(conn, ctx.redactor, ctx.log)
        try:
            with gc_paused():  # ~15% of a large capture: its objects are all kept
                data = _Capture(session, ctx, spec, dsn).read()
        finally:
            session.end()
        data["connection"] = where
        if session.problems:
            return FacetResult(
                status="partial",
                data=data,
                problems=session.problems,
                message=f"{plural(len(session.problems), 'problem')} while reading the database",
            )
        return FacetResult(status="ok", data=data)


@dataclass
class _Capture:
    session: Session
    ctx: CaptureContext
    spec: DatabaseSpec
    dsn: str
    data: dict[str, Any] = field(default_factory=dict)

    def read(self) -> dict[str, Any]:
        session, options = self.session, self.ctx.options
        catalog = Catalog(only_schemas=self.spec.schemas)
        server = ServerReader(session, self.data, self.spec.role)
        relations = RelationReader(session, catalog, self.data)
        privileges = PrivilegeReader(session, catalog, self.data, server.app_roles)
        server_objects = ServerObjectReader(session, self.data)
        stats: StatsReader | None = None
        if options.get("statistics", True):
            stats = StatsReader(
                session,
                catalog,
                PersonalRules(
                    redactor=self.ctx.redactor,
                    personal=list(options.get("personal_columns") or []),
                    public=list(options.get("public_columns") or []),
                ),
                mcv_limit=int(options.get("mcv_limit", 20)),
                histogram_points=int(options.get("histogram_points", 21)),
            )

        parallel_stats = stats is not None and bool(options.get("parallel", True))
        snapshot = session.begin_exporting() if parallel_stats else None
        if not parallel_stats:
            session.begin()
        first = [
            # Before the timeouts: our own SET LOCALs would show instead of the server's.
            server.settings(),
            session.protect_part(self.spec.statement_timeout_ms),
            server.server(),
            server.database(),
            server.scoped_settings(),
            server.extensions(),
            relations.schemas(),
            relations.locks(),
            server.file_settings_check(),
            server.role_names(),
            *privileges.first(),
            server_objects.first(),
        ]
        session.run(first)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="repro-db") as pool:
            parallel: Future[list[str]] | None = None
            if stats is not None and snapshot is not None:
                # Statistics are read and judged on a second connection and thread, while
                # this one reads the schema: the server work and ours overlap.
                parallel = pool.submit(
                    run_with_snapshot,
                    self.dsn,
                    self.ctx.redactor,
                    snapshot,
                    self.spec.statement_timeout_ms,
                    [stats.meta_query(), stats.query()],
                )
            constraints = ConstraintReader(catalog)
            objects = ObjectReader(session, catalog, self.data)
            parts = [
                relations.relations(),
                relations.inheritance(),
                relations.columns(),
                constraints.constraints(),
                constraints.indexes(),
                constraints.triggers(session.version_num),
                constraints.policies(),
                objects.types(),
                objects.sequences(),
                objects.sequence_values(),
                objects.functions(),
                *CodeReader(session, catalog, self.data).parts(),
                server.custom_settings(),
                *SchemaObjectReader(catalog, self.data).parts(),
                *TextSearchReader(catalog, self.data).parts(),
                *server_objects.parts(),
                *TableDetailReader(session, catalog, self.data).parts(),
                *privileges.parts(),
            ]
            if stats is not None and parallel is None:
                parts += [stats.meta_from_catalog(), stats.query()]
            session.run(parts)
            # While the other thread still reads statistics: complete and judge the rest.
            privileges.finish()
            redact_database(self.data, self.ctx.redactor)
            if stats is not None and parallel is not None:
                try:
                    session.problems += parallel.result()
                except (psycopg.Error, ReproError) as exc:
                    # A second connection may be refused (max_connections, a pooler...):
                    # read the statistics on this one.
                    self.ctx.log(
                        self.ctx.redactor.scrub(
                            f"database: statistics in parallel failed: {one_line(str(exc))}"
                        )
                    )
                    session.run([stats.meta_from_catalog(), stats.query()])
        # After the tables and columns are known, in the same transaction.
        migrations = MigrationReader(session, self.data, options.get("migration_tables") or [])
        session.run(migrations.parts())
        if stats is not None:
            self.data["statistics"] = stats.build()
            stats.finish()
            redact_statistics(self.data["statistics"], self.ctx.redactor)
        return self.data


FACET = DatabaseFacet()
