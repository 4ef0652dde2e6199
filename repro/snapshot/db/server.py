"""The server and database as a whole: version, settings, extensions, the app's roles.

Every role's attributes and privileges are read by :mod:`.privileges`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows, Session
from repro.redaction import Redactor

# Sources that say nothing about the server: the value is PostgreSQL's built-in default, or
# was chosen by this very connection (application_name, client_encoding...) or is a
# per-transaction value (transaction_isolation shows as "override" inside our transaction).
NOISE_SOURCES = frozenset({"default", "client", "session", "override"})
# Per-connection state, never configuration, whatever its source.
NOISE_NAMES = frozenset(
    {
        "application_name",
        "client_encoding",
        "is_superuser",
        "role",
        "session_authorization",
        "transaction_deferrable",
        "transaction_isolation",
        "transaction_read_only",
    }
)
# Kept even at their defaults, so that "prod sets statement_timeout, staging does not" is a
# value-against-value difference, and the sandbox knows the values to reproduce.
ALWAYS = frozenset(
    {
        "TimeZone",
        "DateStyle",
        "IntervalStyle",
        "default_transaction_isolation",
        "default_transaction_read_only",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "max_connections",
        "work_mem",
        "maintenance_work_mem",
        "shared_buffers",
        "effective_cache_size",
        "search_path",
        "standard_conforming_strings",
        "server_encoding",
        "lc_collate",
        "lc_ctype",
        "lc_messages",
        "lc_monetary",
        "lc_numeric",
        "lc_time",
        "default_text_search_config",
        "bytea_output",
        "jit",
        "random_page_cost",
        "default_statistics_target",
        "max_locks_per_transaction",
        "row_security",
        "wal_level",
        "max_parallel_workers_per_gather",
        "temp_buffers",
        "synchronous_commit",
        "ssl",
        "password_encryption",
        "enable_partition_pruning",
        "plan_cache_mode",
        "extra_float_digits",
        "array_nulls",
        "escape_string_warning",
    }
)
# Where a custom setting can come from, least specific first (PostgreSQL's precedence).
SOURCE_PRECEDENCE = ("configuration file", "database", "user", "database user")
CURRENT_DATABASE = (
    "(SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
)


def setting_value(redactor: Redactor, name: str, value: str | None) -> Any:
    """A setting's value, as a fingerprint when its name says it is a secret
    (``app.api_token``, ``primary_conninfo``...)."""
    if value is not None and redactor.name_is_secret(name):
        return redactor.redact_value(value)
    return value


@dataclass
class ServerReader:
    """Parts for the server as a whole; their results land in ``data``."""

    session: Session
    data: dict[str, Any]
    app_role: str | None
    file_settings_readable: bool = False

    @property
    def redactor(self) -> Redactor:
        return self.session.redactor

    def settings(self) -> Part:
        """Must run *before* the timeouts part: our own SET LOCALs would hide the server's
        values of statement_timeout and lock_timeout."""
        return Part(
            "settings",
            "SELECT name, setting, unit, source FROM pg_catalog.pg_settings",
            handle=self._settings,
        )

    def _settings(self, rows: Rows) -> None:
        out = self.data.setdefault("settings", {})
        for row in rows:
            name, source = row.name, row.source
            if name in NOISE_NAMES:
                continue
            if source == "client" or (source in NOISE_SOURCES and name not in ALWAYS):
                # A default says nothing; a client or session value is this connection's
                # choice (PGTZ, PGDATESTYLE...), not the server's.
                continue
            out[name] = {
                "value": setting_value(self.redactor, name, row.setting),
                "unit": row.unit,
                "source": source,
            }

    def server(self) -> Part:
        return Part(
            "server",
            "SELECT pg_catalog.version() AS version, pg_catalog.pg_is_in_recovery() AS in_recovery",
            handle=self._server,
        )

    def _server(self, rows: Rows) -> None:
        version_num = self.session.version_num
        self.data["server"] = {
            "version": rows[0].version,
            "version_num": version_num,
            "major": version_num // 10000,
            "in_recovery": rows[0].in_recovery,
        }

    def database(self) -> Part:
        """Encoding, locale and collation version of the database; to_jsonb() because these
        columns differ between major versions (daticulocale became datlocale in 17...)."""
        actual = (
            "pg_catalog.pg_database_collation_actual_version(d.oid)"
            if self.session.version_num >= 150000
            else "NULL"
        )
        return Part(
            "database",
            f"""
            SELECT pg_catalog.to_jsonb(d) AS d,
                   pg_catalog.pg_encoding_to_char(d.encoding) AS encoding, {actual} AS actual
            FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()
            """,
            handle=self._database,
        )

    def _database(self, rows: Rows) -> None:
        raw: dict[str, Any] = rows[0].d
        provider = {"c": "libc", "i": "icu", "b": "builtin"}.get(
            str(raw.get("datlocprovider", "c"))
        )
        self.data["database"] = {
            "name": raw.get("datname"),
            "encoding": rows[0].encoding,
            "collate": raw.get("datcollate"),
            "ctype": raw.get("datctype"),
            "locale_provider": provider,
            "locale": raw.get("datlocale", raw.get("daticulocale")),
            "collation_version": raw.get("datcollversion"),
            "collation_actual_version": rows[0].actual,
            "connection_limit": raw.get("datconnlimit"),
        }

    def scoped_settings(self) -> Part:
        """``ALTER DATABASE/ROLE ... SET`` values (pg_db_role_setting), for this database and
        for every database. Keyed by scope without the database's name, so that prod's
        ``app`` and staging's ``app_staging`` compare: ``database``, ``role:NAME``,
        ``database+role:NAME`` and ``all``."""
        return Part(
            "scoped settings",
            f"""
            SELECT s.setdatabase <> 0 AS for_database, r.rolname AS role, s.setconfig
            FROM pg_catalog.pg_db_role_setting s
            LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
            WHERE s.setdatabase IN (0, {CURRENT_DATABASE})
            """,
            handle=self._scoped_settings,
        )

    def _scoped_settings(self, rows: Rows) -> None:
        out = self.data.setdefault("scoped_settings", {})
        for row in rows:
            if row.role is None:
                scope = "database" if row.for_database else "all"
            else:
                scope = ("database+role:" if row.for_database else "role:") + row.role
            values: dict[str, Any] = {}
            for item in row.setconfig or []:
                name, _, value = str(item).partition("=")
                values[name] = setting_value(self.redactor, name, value)
            out[scope] = values

    def file_settings_check(self) -> Part:
        def handle(rows: Rows) -> None:
            self.file_settings_readable = bool(rows[0].ok)

        return Part(
            "configuration file access",
            "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_file_settings', 'SELECT') AS ok",
            handle=handle,
        )

    def custom_settings(self) -> Part:
        """Placeholder GUCs (``app.api_token``) are hidden from pg_settings: find their names
        where they are set (ALTER DATABASE/ROLE, and postgresql.conf when pg_file_settings
        is readable) and ask this session for their values."""
        from_file = (
            "UNION ALL SELECT name, 'configuration file' FROM pg_catalog.pg_file_settings"
            " WHERE applied"
            if self.file_settings_readable
            else ""
        )
        return Part(
            "custom settings",
            f"""
            SELECT n.name, n.source, pg_catalog.current_setting(n.name, true) AS value
            FROM (SELECT pg_catalog.split_part(c, '=', 1) AS name,
                         CASE WHEN s.setrole = 0 THEN 'database'
                              WHEN s.setdatabase = 0 THEN 'user'
                              ELSE 'database user' END AS source
                  FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) c
                  WHERE s.setdatabase IN (0, {CURRENT_DATABASE})
                    -- other roles' settings do not apply here (scoped_settings has them)
                    AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles
                                          WHERE rolname = session_user))
                  {from_file}) n
            WHERE pg_catalog.strpos(n.name, '.') > 0
            """,
            handle=self._custom_settings,
        )

    def _custom_settings(self, rows: Rows) -> None:
        out = self.data.setdefault("settings", {})
        for row in sorted(rows, key=lambda r: SOURCE_PRECEDENCE.index(r.source)):
            if row.value is not None:  # the last (most specific) source wins
                out[row.name] = {
                    "value": setting_value(self.redactor, row.name, row.value),
                    "unit": None,
                    "source": row.source,
                }

    def extensions(self) -> Part:
        def handle(rows: Rows) -> None:
            self.data["extensions"] = {
                r.extname: {"version": r.extversion, "schema": r.nspname} for r in rows
            }

        return Part(
            "extensions",
            """
            SELECT e.extname, e.extversion, n.nspname
            FROM pg_catalog.pg_extension e
            JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
            """,
            handle=handle,
        )

    @property
    def app_roles(self) -> list[str]:
        """The connected user and the profile's app role: what the app logs in as."""
        return [self.session.conn.info.user] + ([self.app_role] if self.app_role else [])

    def role_names(self) -> Part:
        """Which of the app roles exist."""
        wanted = self.app_roles

        def handle(rows: Rows) -> None:
            found = {r.rolname for r in rows}
            roles = self.data.setdefault("roles", {})
            for name in wanted:
                if name not in found:
                    roles[name] = {"exists": False}
                    self.session.problems.append(f"role {name!r} (database.role) does not exist")

        return Part(
            "app roles",
            "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%(names)s)",
            {"names": wanted},
            handle=handle,
        )
