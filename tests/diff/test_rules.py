"""Every default rule, with the severity issue 3 asks for. One row per behaviour: an edit of
the baseline (prod, staging), and the discrepancy it must produce."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from repro.diff.rules import DEFAULT_RULES
from tests.helpers.builders import Side, diff, find, secret

Edit = Callable[[Side, Side], object]


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    path: str
    kind: str
    severity: str
    rule: str
    hint: str = ""  # a substring the hint must contain


TABLE = "public.customers"
SETTINGS_YAML = "/etc/demo-app/settings.yaml"
CRON = "cron:/etc/cron.d/backup:/usr/local/bin/backup.sh"
BACKUP_JOB = {
    "command": "/usr/local/bin/backup.sh",
    "schedule": "0 3 * * *",
    "source": "/etc/cron.d/backup",
    "user": "root",
}


TOUCH = """CREATE OR REPLACE FUNCTION public.touch()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    NEW.updated_at := %s;
    RETURN NEW;
END $function$
"""


def column(p: Side, s: Side, name: str, value: object) -> None:
    s.put("database", "tables", TABLE, "columns", "email", name, value)


CASES = [
    # --- incomparable, comments, catch-all ---
    Case(
        "facet error",
        lambda p, s: s.set_status("env", "error", "boom"),
        "env",
        "incomparable",
        "medium",
        "incomparable",
        "error in staging: boom",
    ),
    Case(
        "key ids differ",
        lambda p, s: s.put("env", "vars", "SECRET_KEY", secret("secret-key", key_id="other")),
        "env.vars.SECRET_KEY",
        "incomparable",
        "medium",
        "incomparable",
        "REPRO_REDACTION_KEY",
    ),
    Case(
        "comment",
        lambda p, s: s.put("database", "tables", TABLE, "comment", "x"),
        f"database.tables.{TABLE}.comment",
        "changed",
        "info",
        "comment",
    ),
    Case(
        "unknown facet changed",
        lambda p, s: (
            p.data.__setitem__("future", {"a": 1}),
            s.data.__setitem__("future", {"a": 2}),
        ),
        "future.a",
        "changed",
        "medium",
        "default",
    ),
    Case(
        "unknown facet only in staging",
        lambda p, s: (p.data.__setitem__("future", {}), s.data.__setitem__("future", {"b": 1})),
        "future.b",
        "only_in_staging",
        "low",
        "default",
    ),
    # --- env ---
    Case(
        "env only in prod",
        lambda p, s: p.put("env", "vars", "FEATURE_NEW_CHECKOUT", "1"),
        "env.vars.FEATURE_NEW_CHECKOUT",
        "only_in_prod",
        "high",
        "env.only-in-prod",
        "set only in prod: FEATURE_NEW_CHECKOUT=1",
    ),
    Case(
        "env only in staging",
        lambda p, s: s.put("env", "vars", "DEBUG", "1"),
        "env.vars.DEBUG",
        "only_in_staging",
        "medium",
        "env.only-in-staging",
    ),
    Case(
        "env value differs",
        lambda p, s: s.put("env", "vars", "WORKERS", "8"),
        "env.vars.WORKERS",
        "changed",
        "medium",
        "env.value-differs",
        "prod 4 vs staging 8",
    ),
    Case(
        "env secret differs",
        lambda p, s: s.put("env", "vars", "SECRET_KEY", secret("x")),
        "env.vars.SECRET_KEY",
        "changed",
        "medium",
        "env.secret-differs",
        "compared by fingerprint",
    ),
    Case(
        "env TZ",
        lambda p, s: p.put("env", "vars", "TZ", "America/New_York"),
        "env.vars.TZ",
        "only_in_prod",
        "high",
        "env.locale",
    ),
    Case(
        "env LANG",
        lambda p, s: s.put("env", "vars", "LANG", "de_DE.UTF-8"),
        "env.vars.LANG",
        "changed",
        "high",
        "env.locale",
    ),
    Case(
        "env PATH",
        lambda p, s: s.put("env", "vars", "PATH", "/bin"),
        "env.vars.PATH",
        "changed",
        "low",
        "env.host-paths",
    ),
    Case(
        "env k8s link",
        lambda p, s: p.put("env", "vars", "REDIS_PORT", "tcp://10.0.0.7:6379"),
        "env.vars.REDIS_PORT",
        "only_in_prod",
        "info",
        "env.service-link",
    ),
    Case(
        "env own FOO_PORT is config",
        lambda p, s: p.put("env", "vars", "APP_PORT", "8080"),
        "env.vars.APP_PORT",
        "only_in_prod",
        "high",
        "env.only-in-prod",
    ),
    Case(
        "env source",
        lambda p, s: s.put("env", "source", "shell"),
        "env.source",
        "changed",
        "low",
        "env.source",
    ),
    # --- packages ---
    Case(
        "python major",
        lambda p, s: s.put("packages", "python", "distributions", "demo-pricing", "1.4.2"),
        "packages.python.distributions.demo-pricing",
        "changed",
        "high",
        "packages.python.distribution",
        "2.1.0 in prod vs 1.4.2 in staging (major)",
    ),
    Case(
        "python minor",
        lambda p, s: s.put("packages", "python", "distributions", "flask", "2.3.0"),
        "packages.python.distributions.flask",
        "changed",
        "medium",
        "packages.python.distribution",
        "(minor)",
    ),
    Case(
        "python patch",
        lambda p, s: s.put("packages", "python", "distributions", "requests", "2.28.2"),
        "packages.python.distributions.requests",
        "changed",
        "low",
        "packages.python.distribution",
        "(patch)",
    ),
    Case(
        "python only in prod",
        lambda p, s: p.put("packages", "python", "distributions", "sentry-sdk", "1.40.0"),
        "packages.python.distributions.sentry-sdk",
        "only_in_prod",
        "high",
        "packages.python.only-in-prod",
    ),
    Case(
        "python only in staging",
        lambda p, s: s.put("packages", "python", "distributions", "pytest", "8.0.0"),
        "packages.python.distributions.pytest",
        "only_in_staging",
        "low",
        "packages.python.only-in-staging",
    ),
    Case(
        "debian revision is a patch",
        lambda p, s: s.put("packages", "os", "packages", "libc6", "2.36-9+deb12u3"),
        "packages.os.packages.libc6",
        "changed",
        "low",
        "packages.os.package",
    ),
    Case(
        "debian epoch is major",
        lambda p, s: s.put("packages", "os", "packages", "openssl", "1:3.0.11-1~deb12u2"),
        "packages.os.packages.openssl",
        "changed",
        "high",
        "packages.os.package",
    ),
    Case(
        "os only in prod",
        lambda p, s: p.put("packages", "os", "packages", "imagemagick", "8:6.9.11"),
        "packages.os.packages.imagemagick",
        "only_in_prod",
        "medium",
        "packages.os.only-in-prod",
    ),
    Case(
        "os only in staging",
        lambda p, s: s.put("packages", "os", "packages", "strace", "6.1"),
        "packages.os.packages.strace",
        "only_in_staging",
        "low",
        "packages.os.only-in-staging",
    ),
    Case(
        "python interpreter minor",
        lambda p, s: s.put("packages", "python", "version", "3.12.1"),
        "packages.python.version",
        "changed",
        "high",
        "packages.interpreter",
    ),
    Case(
        "runtime python patch",
        lambda p, s: s.put("packages", "runtime", "python", "3.11.4"),
        "packages.runtime.python",
        "changed",
        "low",
        "packages.interpreter",
    ),
    Case(
        "openssl major",
        lambda p, s: s.put("packages", "runtime", "openssl", "OpenSSL 1.1.1w 11 Sep 2023"),
        "packages.runtime.openssl",
        "changed",
        "high",
        "packages.runtime-library",
    ),
    Case(
        "interpreter path",
        lambda p, s: s.put("packages", "python", "interpreter", "/opt/venv/bin/python"),
        "packages.python.interpreter",
        "changed",
        "low",
        "packages.interpreter-path",
    ),
    Case(
        "os manager",
        lambda p, s: s.put("packages", "os", "manager", "apk"),
        "packages.os.manager",
        "changed",
        "medium",
        "packages.os.manager",
    ),
    # --- database server ---
    Case(
        "major version",
        lambda p, s: (
            p.put("database", "server", "major", 13),
            p.put("database", "server", "version_num", 130011),
        ),
        "database.server.major",
        "changed",
        "critical",
        "database.major-version",
        "PostgreSQL 13 in prod vs 15 in staging",
    ),
    Case(
        "version_num with the major differing is info",
        lambda p, s: (
            p.put("database", "server", "major", 13),
            p.put("database", "server", "version_num", 130011),
        ),
        "database.server.version_num",
        "changed",
        "info",
        "database.minor-version",
    ),
    Case(
        "minor version",
        lambda p, s: s.put("database", "server", "version_num", 150006),
        "database.server.version_num",
        "changed",
        "medium",
        "database.minor-version",
    ),
    Case(
        "build string only",
        lambda p, s: s.put("database", "server", "version", "PostgreSQL 15.4 (Ubuntu)"),
        "database.server.version",
        "changed",
        "low",
        "database.minor-version",
    ),
    Case(
        "in recovery",
        lambda p, s: p.put("database", "server", "in_recovery", True),
        "database.server.in_recovery",
        "changed",
        "medium",
        "database.in-recovery",
    ),
    Case(
        "database collation",
        lambda p, s: s.put("database", "database", "collate", "C"),
        "database.database.collate",
        "changed",
        "high",
        "database.locale",
    ),
    Case(
        "collation version",
        lambda p, s: s.put("database", "database", "collation_version", "2.31"),
        "database.database.collation_version",
        "changed",
        "low",
        "database.locale",
    ),
    Case(
        "risky setting changed",
        lambda p, s: p.put("database", "settings", "TimeZone", "value", "America/New_York"),
        "database.settings.TimeZone.value",
        "changed",
        "high",
        "database.setting",
        "risky setting TimeZone: prod America/New_York vs staging UTC",
    ),
    Case(
        "risky setting only in prod",
        lambda p, s: p.put(
            "database",
            "settings",
            "idle_in_transaction_session_timeout",
            {"source": "configuration file", "unit": "ms", "value": "60000"},
        ),
        "database.settings.idle_in_transaction_session_timeout",
        "only_in_prod",
        "high",
        "database.setting",
        "prod 60000 ms vs staging not set (default)",
    ),
    Case(
        "work_mem",
        lambda p, s: s.put("database", "settings", "work_mem", "value", "65536"),
        "database.settings.work_mem.value",
        "changed",
        "high",
        "database.setting",
    ),
    Case(
        "other setting",
        lambda p, s: s.put("database", "settings", "random_page_cost", "value", "1.1"),
        "database.settings.random_page_cost.value",
        "changed",
        "medium",
        "database.setting",
    ),
    Case(
        "logging setting",
        lambda p, s: s.put("database", "settings", "log_min_duration_statement", "value", "250"),
        "database.settings.log_min_duration_statement.value",
        "changed",
        "low",
        "database.setting",
    ),
    Case(
        "setting unit",
        lambda p, s: s.put("database", "settings", "work_mem", "unit", "MB"),
        "database.settings.work_mem.unit",
        "changed",
        "low",
        "database.setting",
    ),
    Case(
        "scoped setting",
        lambda p, s: s.put("database", "scoped_settings", "role:app", "statement_timeout", "0"),
        "database.scoped_settings.role:app.statement_timeout",
        "changed",
        "high",
        "database.setting",
        "(role:app)",
    ),
    Case(
        "scope only in prod",
        lambda p, s: p.put("database", "scoped_settings", "database", {"search_path": "app"}),
        "database.scoped_settings.database",
        "only_in_prod",
        "medium",
        "database.scoped-settings",
    ),
    Case(
        "extension version",
        lambda p, s: p.put("database", "extensions", "hstore", "version", "1.4"),
        "database.extensions.hstore.version",
        "changed",
        "high",
        "database.extension",
        "hstore 1.4 in prod vs 1.8 in staging",
    ),
    Case(
        "extension missing in prod",
        lambda p, s: s.put(
            "database", "extensions", "pg_trgm", {"schema": "public", "version": "1.6"}
        ),
        "database.extensions.pg_trgm",
        "only_in_staging",
        "high",
        "database.extension",
    ),
    Case(
        "extension only in prod",
        lambda p, s: p.put(
            "database", "extensions", "citext", {"schema": "public", "version": "1.6"}
        ),
        "database.extensions.citext",
        "only_in_prod",
        "high",
        "database.extension",
    ),
    Case(
        "extension schema",
        lambda p, s: s.put("database", "extensions", "hstore", "schema", "ext"),
        "database.extensions.hstore.schema",
        "changed",
        "medium",
        "database.extension",
    ),
    Case(
        "prod lacks a privilege of a used role",
        lambda p, s: p.put("database", "tables", TABLE, "privileges", "readers", []),
        "database.tables.public.customers.privileges.readers",
        "changed",
        "high",
        "database.privilege",
        "role readers lacks SELECT on public.customers in prod (has it in staging)",
    ),
    Case(
        "staging lacks a privilege of a used role",
        lambda p, s: s.put("database", "tables", TABLE, "privileges", "readers", []),
        "database.tables.public.customers.privileges.readers",
        "changed",
        "high",
        "database.privilege",
        "role readers lacks SELECT on public.customers in staging (has it in prod)",
    ),
    Case(
        "a role nobody uses lacks a privilege",
        lambda p, s: s.put("database", "tables", TABLE, "privileges", "legacy", []),
        "database.tables.public.customers.privileges.legacy",
        "changed",
        "medium",
        "database.privilege",
        "no app, job, replica or login uses this role",
    ),
    Case(
        "a grant only in staging",
        lambda p, s: s.put("database", "tables", TABLE, "privileges", "reporting", ["SELECT"]),
        "database.tables.public.customers.privileges.reporting",
        "only_in_staging",
        "high",
        "database.privilege",
        "role reporting lacks SELECT on public.customers in prod",
    ),
    Case(
        "the grant option only in prod",
        lambda p, s: p.put(
            "database", "tables", TABLE, "privileges", "readers", ["SELECT WITH GRANT OPTION"]
        ),
        "database.tables.public.customers.privileges.readers",
        "changed",
        "high",
        "database.privilege",
        "lacks the grant option on SELECT on public.customers in staging",
    ),
    Case(
        "a column privilege",
        lambda p, s: p.put(
            "database", "tables", TABLE, "columns", "email", "privileges", {"reporting": ["SELECT"]}
        ),
        "database.tables.public.customers.columns.email.privileges",
        "only_in_prod",
        "high",
        "database.privilege",
        "column public.customers.email",
    ),
    Case(
        "schema privilege",
        lambda p, s: p.put("database", "schemas", "public", "privileges", "app", []),
        "database.schemas.public.privileges.app",
        "changed",
        "high",
        "database.privilege",
        "role app lacks USAGE on schema public in prod",
    ),
    Case(
        "default privileges lacking in staging",
        lambda p, s: s.put(
            "database", "default_privileges", "app", "public", "tables", "reporting", []
        ),
        "database.default_privileges.app.public.tables.reporting",
        "changed",
        "high",
        "database.default-privilege",
        "role reporting lacks SELECT on tables that app creates in schema public in staging",
    ),
    Case(
        "pre-0.2 effective grants on both sides",
        lambda p, s: (
            p.put("database", "grants", "public.orders", "app", ["SELECT"]),
            s.put("database", "grants", "public.orders", "app", ["SELECT", "INSERT"]),
        ),
        "database.grants.public.orders.app",
        "changed",
        "high",
        "database.grant",
        "lacks INSERT on public.orders in prod",
    ),
    Case(
        "role superuser in staging only",
        lambda p, s: s.put("database", "roles", "app", "superuser", True),
        "database.roles.app.superuser",
        "changed",
        "high",
        "database.role",
    ),
    Case(
        "role missing in prod",
        lambda p, s: p.put("database", "roles", "app", {"exists": False}),
        "database.roles.app.exists",
        "changed",
        "high",
        "database.role",
    ),
    Case(
        "role membership lacking in prod",
        lambda p, s: p.put("database", "roles", "app", "member_of", []),
        "database.roles.app.member_of",
        "changed",
        "high",
        "database.role",
    ),
    Case(
        "role connection limit",
        lambda p, s: p.put("database", "roles", "app", "connection_limit", 10),
        "database.roles.app.connection_limit",
        "changed",
        "medium",
        "database.role",
    ),
    Case(
        "schema only in prod",
        lambda p, s: p.put("database", "schemas", "audit", {}),
        "database.schemas.audit",
        "only_in_prod",
        "high",
        "database.schema",
    ),
    Case(
        "schema owner",
        lambda p, s: p.put("database", "schemas", "public", "owner", "app"),
        "database.schemas.public.owner",
        "changed",
        "medium",
        "database.schema",
    ),
    # --- database schema objects ---
    Case(
        "table only in prod",
        lambda p, s: p.put("database", "tables", "public.audit", {"kind": "table"}),
        "database.tables.public.audit",
        "only_in_prod",
        "high",
        "database.table",
        "table public.audit only in prod",
    ),
    Case(
        "column missing in prod",
        lambda p, s: s.put("database", "tables", TABLE, "columns", "phone", {"type": "text"}),
        f"database.tables.{TABLE}.columns.phone",
        "only_in_staging",
        "high",
        "database.column",
    ),
    Case(
        "column type",
        lambda p, s: column(p, s, "type", "character varying(255)"),
        f"database.tables.{TABLE}.columns.email.type",
        "changed",
        "high",
        "database.column-type",
    ),
    Case(
        "column nullability",
        lambda p, s: column(p, s, "nullable", False),
        f"database.tables.{TABLE}.columns.email.nullable",
        "changed",
        "high",
        "database.column-nullable",
        "NULL allowed in prod, NOT NULL in staging",
    ),
    Case(
        "column default",
        lambda p, s: column(p, s, "default", "''::text"),
        f"database.tables.{TABLE}.columns.email.default",
        "changed",
        "medium",
        "database.column",
    ),
    Case(
        "column position",
        lambda p, s: column(p, s, "position", 3),
        f"database.tables.{TABLE}.columns.email.position",
        "changed",
        "low",
        "database.column-order",
    ),
    Case(
        "constraint missing in prod",
        lambda p, s: p.drop("database", "tables", TABLE, "constraints", "customers_email_key"),
        f"database.tables.{TABLE}.constraints.customers_email_key",
        "only_in_staging",
        "high",
        "database.constraint",
    ),
    Case(
        "constraint definition",
        lambda p, s: s.put(
            "database", "tables", TABLE, "constraints", "customers_pkey", "deferrable", True
        ),
        f"database.tables.{TABLE}.constraints.customers_pkey.deferrable",
        "changed",
        "high",
        "database.constraint",
    ),
    Case(
        "constraint not validated",
        lambda p, s: p.put(
            "database", "tables", TABLE, "constraints", "customers_pkey", "validated", False
        ),
        f"database.tables.{TABLE}.constraints.customers_pkey.validated",
        "changed",
        "medium",
        "database.constraint",
    ),
    Case(
        "index only in staging",
        lambda p, s: s.put(
            "database", "tables", TABLE, "indexes", "customers_email_idx", {"unique": False}
        ),
        f"database.tables.{TABLE}.indexes.customers_email_idx",
        "only_in_staging",
        "high",
        "database.index",
    ),
    Case(
        "index invalid in prod",
        lambda p, s: p.put(
            "database", "tables", TABLE, "indexes", "customers_pkey", "valid", False
        ),
        f"database.tables.{TABLE}.indexes.customers_pkey.valid",
        "changed",
        "high",
        "database.index",
    ),
    Case(
        "trigger disabled",
        lambda p, s: p.put(
            "database", "tables", TABLE, "triggers", "customers_touch", "enabled", "disabled"
        ),
        f"database.tables.{TABLE}.triggers.customers_touch.enabled",
        "changed",
        "medium",
        "database.trigger",
    ),
    Case(
        "trigger only in prod",
        lambda p, s: p.put(
            "database", "tables", TABLE, "triggers", "audit", {"enabled": "enabled"}
        ),
        f"database.tables.{TABLE}.triggers.audit",
        "only_in_prod",
        "medium",
        "database.trigger",
    ),
    Case(
        "policy",
        lambda p, s: p.put("database", "tables", TABLE, "policies", "tenant", {"command": "all"}),
        f"database.tables.{TABLE}.policies.tenant",
        "only_in_prod",
        "high",
        "database.policy",
    ),
    Case(
        "table owner",
        lambda p, s: p.put("database", "tables", TABLE, "owner", "postgres"),
        f"database.tables.{TABLE}.owner",
        "changed",
        "medium",
        "database.table",
    ),
    Case(
        "view definition",
        lambda p, s: p.put("database", "views", "public.big_customers", "definition", "SELECT 1"),
        "database.views.public.big_customers.definition",
        "changed",
        "medium",
        "database.view",
    ),
    Case(
        "view only in staging",
        lambda p, s: p.drop("database", "views", "public.big_customers"),
        "database.views.public.big_customers",
        "only_in_staging",
        "medium",
        "database.view",
    ),
    Case(
        "function body",
        lambda p, s: p.put("database", "functions", "public.touch()", "body_sha256", "bb" * 32),
        "database.functions.public.touch().body_sha256",
        "changed",
        "medium",
        "database.function",
        "body differs",
    ),
    Case(
        "function definition",
        lambda p, s: (
            p.put("database", "functions", "public.touch()", "definition", TOUCH % "now()"),
            s.put("database", "functions", "public.touch()", "definition", TOUCH % "NULL"),
            p.put("database", "functions", "public.touch()", "body_sha256", "bb" * 32),
        ),
        "database.functions.public.touch().definition",
        "changed",
        "medium",
        "database.function",
        "function public.touch(): definition differs between prod and staging",
    ),
    Case(
        "view definition",
        lambda p, s: s.put(
            "database", "views", "public.big_customers", "definition", "SELECT 1 AS id"
        ),
        "database.views.public.big_customers.definition",
        "changed",
        "medium",
        "database.view",
        "view public.big_customers: definition differs",
    ),
    Case(
        "trigger definition",
        lambda p, s: s.put(
            "database",
            "tables",
            TABLE,
            "triggers",
            "customers_touch",
            "definition",
            "CREATE TRIGGER customers_touch AFTER UPDATE ON public.customers FOR EACH ROW "
            "EXECUTE FUNCTION public.touch()",
        ),
        "database.tables.public.customers.triggers.customers_touch.definition",
        "changed",
        "medium",
        "database.trigger",
        "trigger public.customers.customers_touch: definition differs",
    ),
    Case(
        "function only in prod",
        lambda p, s: p.put("database", "functions", "public.f(int)", {"kind": "function"}),
        "database.functions.public.f(int)",
        "only_in_prod",
        "medium",
        "database.function",
    ),
    Case(
        "enum label missing in prod",
        lambda p, s: s.put(
            "database",
            "enums",
            "public.order_status",
            "labels",
            ["new", "paid", "shipped", "refunded"],
        ),
        "database.enums.public.order_status.labels",
        "changed",
        "high",
        "database.enum",
        "prod lacks refunded",
    ),
    Case(
        "domain only in prod",
        lambda p, s: p.put("database", "domains", "public.email", {"type": "text"}),
        "database.domains.public.email",
        "only_in_prod",
        "high",
        "database.type",
    ),
    Case(
        "sequence near exhaustion in prod",
        lambda p, s: p.put(
            "database", "sequences", "public.orders_id_seq", "last_value", 2_000_000_000
        ),
        "database.sequences.public.orders_id_seq.last_value",
        "changed",
        "high",
        "database.sequence",
        "93% of its range in prod",
    ),
    Case(
        "sequence type",
        lambda p, s: s.put("database", "sequences", "public.orders_id_seq", "type", "bigint"),
        "database.sequences.public.orders_id_seq.type",
        "changed",
        "medium",
        "database.sequence",
    ),
    # --- statistics ---
    Case(
        "rows by orders of magnitude",
        lambda p, s: s.put("database", "statistics", TABLE, "rows_estimate", 3),
        f"database.statistics.{TABLE}.rows_estimate",
        "changed",
        "medium",
        "database.data-volume",
        "20,000 rows in prod vs 3 in staging",
    ),
    Case(
        "size by orders of magnitude",
        lambda p, s: s.put("database", "statistics", TABLE, "size_bytes", 8192),
        f"database.statistics.{TABLE}.size_bytes",
        "changed",
        "low",
        "database.data-volume",
    ),
    Case(
        "NULLs in prod, none in staging: the commonest production-only crash",
        lambda p, s: s.put("database", "statistics", TABLE, "columns", "email", "null_frac", 0.0),
        f"database.statistics.{TABLE}.columns.email.null_frac",
        "changed",
        "high",
        "database.data-shape",
        "5.0% NULL in prod vs none in staging: NULLs only in prod",
    ),
    Case(
        "NULLs in staging, none in prod",
        lambda p, s: (
            p.put("database", "statistics", TABLE, "columns", "email", "null_frac", 0.0),
            s.put("database", "statistics", TABLE, "columns", "email", "null_frac", 0.05),
        ),
        f"database.statistics.{TABLE}.columns.email.null_frac",
        "changed",
        "medium",
        "database.data-shape",
    ),
    Case(
        "null fraction by more than 0.2",
        lambda p, s: s.put("database", "statistics", TABLE, "columns", "email", "null_frac", 0.3),
        f"database.statistics.{TABLE}.columns.email.null_frac",
        "changed",
        "medium",
        "database.data-shape",
    ),
    Case(
        "n_distinct 10x",
        lambda p, s: s.put("database", "statistics", TABLE, "columns", "email", "n_distinct", 3.0),
        f"database.statistics.{TABLE}.columns.email.n_distinct",
        "changed",
        "medium",
        "database.data-shape",
    ),
    Case(
        "never analyzed",
        lambda p, s: s.put("database", "statistics", TABLE, "columns", "email", "analyzed", False),
        f"database.statistics.{TABLE}.columns.email.analyzed",
        "changed",
        "low",
        "database.data-shape",
    ),
    Case(
        "statistics only in prod",
        lambda p, s: p.put("database", "statistics", "public.orders", {"rows_estimate": 5}),
        "database.statistics.public.orders",
        "only_in_prod",
        "low",
        "database.statistics",
    ),
    # --- files ---
    Case(
        "file missing in prod",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, {"exists": False}),
        f"files.paths.{SETTINGS_YAML}.exists",
        "changed",
        "critical",
        "files.exists",
        "missing in prod",
    ),
    Case(
        "file only exists in prod",
        lambda p, s: s.put("files", "paths", SETTINGS_YAML, {"exists": False}),
        f"files.paths.{SETTINGS_YAML}.exists",
        "changed",
        "high",
        "files.exists",
    ),
    Case(
        "unreadable for the app user in prod",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "access", "read", False),
        f"files.paths.{SETTINGS_YAML}.access.read",
        "changed",
        "critical",
        "files.less-accessible",
        "app cannot read /etc/demo-app/settings.yaml in prod",
    ),
    Case(
        "not traversable in prod",
        lambda p, s: p.put(
            "files", "paths", "/var/lib/demo-app", "access", "path_traversable", False
        ),
        "files.paths./var/lib/demo-app.access.path_traversable",
        "changed",
        "critical",
        "files.less-accessible",
    ),
    Case(
        "more accessible in prod",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "access", "write", True),
        f"files.paths.{SETTINGS_YAML}.access.write",
        "changed",
        "low",
        "files.less-accessible",
    ),
    Case(
        "access unknown on one side",
        lambda p, s: s.drop("files", "paths", SETTINGS_YAML, "access"),
        f"files.paths.{SETTINGS_YAML}.access",
        "only_in_prod",
        "low",
        "files.access",
    ),
    Case(
        "path checked by one profile",
        lambda p, s: p.put("files", "paths", "/srv/x", {"exists": True}),
        "files.paths./srv/x",
        "only_in_prod",
        "low",
        "files.listed",
    ),
    Case(
        "mode",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "mode", "0600"),
        f"files.paths.{SETTINGS_YAML}.mode",
        "changed",
        "medium",
        "files.mode",
        "prod 0600 vs staging 0640",
    ),
    Case(
        "owner",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "group", "root"),
        f"files.paths.{SETTINGS_YAML}.group",
        "changed",
        "medium",
        "files.owner",
    ),
    Case(
        "type",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "type", "symlink"),
        f"files.paths.{SETTINGS_YAML}.type",
        "changed",
        "high",
        "files.type",
    ),
    Case(
        "content",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "sha256", "cd" * 32),
        f"files.paths.{SETTINGS_YAML}.sha256",
        "changed",
        "medium",
        "files.content",
    ),
    Case(
        "symlink target",
        lambda p, s: p.put("files", "paths", SETTINGS_YAML, "target", "a"),
        f"files.paths.{SETTINGS_YAML}.target",
        "only_in_prod",
        "medium",
        "files.symlink",
    ),
    Case(
        "glob matches",
        lambda p, s: (
            p.put("files", "paths", "/etc/*.d", "matched", 2),
            s.put("files", "paths", "/etc/*.d", "matched", 0),
        ),
        "files.paths./etc/*.d.matched",
        "changed",
        "low",
        "files.glob",
    ),
    Case(
        "app user",
        lambda p, s: p.put("files", "app_user", "uid", 999),
        "files.app_user.uid",
        "changed",
        "medium",
        "files.app-user",
    ),
    # --- config ---
    Case(
        "config key only in prod",
        lambda p, s: p.put(
            "config", "files", SETTINGS_YAML, "keys", "pricing.rounding", "half_even"
        ),
        f"config.files.{SETTINGS_YAML}.keys.pricing.rounding",
        "only_in_prod",
        "medium",
        "config.key",
    ),
    Case(
        "config key only in staging",
        lambda p, s: s.put("config", "files", SETTINGS_YAML, "keys", "debug", True),
        f"config.files.{SETTINGS_YAML}.keys.debug",
        "only_in_staging",
        "low",
        "config.key",
    ),
    Case(
        "config key changed",
        lambda p, s: s.put("config", "files", SETTINGS_YAML, "keys", "pricing.currency", "USD"),
        f"config.files.{SETTINGS_YAML}.keys.pricing.currency",
        "changed",
        "medium",
        "config.key",
    ),
    Case(
        "config secret changed",
        lambda p, s: s.put(
            "config", "files", SETTINGS_YAML, "keys", "mail.smtp_password", secret("other")
        ),
        f"config.files.{SETTINGS_YAML}.keys.mail.smtp_password",
        "changed",
        "medium",
        "config.key",
        "secret mail.smtp_password",
    ),
    Case(
        "config file read by one profile",
        lambda p, s: p.put("config", "files", "/etc/other.ini", {"format": "ini", "keys": {}}),
        "config.files./etc/other.ini",
        "only_in_prod",
        "low",
        "config.file",
    ),
    Case(
        "config format",
        lambda p, s: p.put("config", "files", SETTINGS_YAML, "format", "json"),
        f"config.files.{SETTINGS_YAML}.format",
        "changed",
        "low",
        "config.format",
    ),
    # --- runtime ---
    Case(
        "lower memory limit in prod",
        lambda p, s: p.put("runtime", "cgroup", "memory_limit_bytes", 256 * 1024 * 1024),
        "runtime.cgroup.memory_limit_bytes",
        "changed",
        "high",
        "runtime.memory-limit",
        "256 MiB in prod vs 512 MiB in staging",
    ),
    Case(
        "unlimited memory in staging",
        lambda p, s: s.put("runtime", "cgroup", "memory_limit_bytes", None),
        "runtime.cgroup.memory_limit_bytes",
        "changed",
        "high",
        "runtime.memory-limit",
    ),
    Case(
        "higher memory limit in prod",
        lambda p, s: s.put("runtime", "cgroup", "memory_limit_bytes", 128 * 1024 * 1024),
        "runtime.cgroup.memory_limit_bytes",
        "changed",
        "low",
        "runtime.memory-limit",
    ),
    Case(
        "cpu limit",
        lambda p, s: p.put("runtime", "cgroup", "cpu_limit", 0.5),
        "runtime.cgroup.cpu_limit",
        "changed",
        "high",
        "runtime.cpu-limit",
    ),
    Case(
        "pids limit",
        lambda p, s: p.put("runtime", "cgroup", "pids_limit", 100),
        "runtime.cgroup.pids_limit",
        "changed",
        "high",
        "runtime.pids-limit",
    ),
    Case(
        "fewer cpus",
        lambda p, s: p.put("runtime", "cpu_count", 1),
        "runtime.cpu_count",
        "changed",
        "high",
        "runtime.cpus",
    ),
    Case(
        "less host memory",
        lambda p, s: p.put("runtime", "memory_total_bytes", 1024**3),
        "runtime.memory_total_bytes",
        "changed",
        "medium",
        "runtime.memory",
    ),
    Case(
        "open files",
        lambda p, s: s.put("runtime", "open_files", "soft", 65536),
        "runtime.open_files.soft",
        "changed",
        "high",
        "runtime.open-files",
    ),
    Case(
        "timezone",
        lambda p, s: p.put("runtime", "timezone", "Europe/Berlin"),
        "runtime.timezone",
        "changed",
        "high",
        "runtime.timezone",
    ),
    Case(
        "locale",
        lambda p, s: p.put("runtime", "locale", "LC_ALL", "de_DE.UTF-8"),
        "runtime.locale.LC_ALL",
        "changed",
        "high",
        "runtime.locale",
    ),
    Case(
        "kernel",
        lambda p, s: p.put("runtime", "kernel", "5.10.0-28-amd64"),
        "runtime.kernel",
        "changed",
        "low",
        "runtime.kernel",
    ),
    Case(
        "os version",
        lambda p, s: p.put("runtime", "os", "version_id", "11"),
        "runtime.os.version_id",
        "changed",
        "medium",
        "runtime.os",
    ),
    Case(
        "os pretty name",
        lambda p, s: p.put("runtime", "os", "pretty_name", "Debian 12.5"),
        "runtime.os.pretty_name",
        "changed",
        "info",
        "runtime.os",
    ),
    Case(
        "arch",
        lambda p, s: p.put("runtime", "arch", "aarch64"),
        "runtime.arch",
        "changed",
        "medium",
        "runtime.arch",
    ),
    Case(
        "cgroup version",
        lambda p, s: p.put("runtime", "cgroup", "version", 1),
        "runtime.cgroup.version",
        "changed",
        "low",
        "runtime.cgroup",
    ),
    Case(
        "runtime user",
        lambda p, s: p.put("runtime", "user", "name", "www-data"),
        "runtime.user.name",
        "changed",
        "medium",
        "runtime.user",
    ),
    # --- schedules ---
    Case(
        "job only in prod",
        lambda p, s: p.put("schedules", "jobs", CRON, BACKUP_JOB),
        f"schedules.jobs.{CRON}",
        "only_in_prod",
        "medium",
        "schedules.job",
        "runs 0 3 * * * as root in prod only: /usr/local/bin/backup.sh",
    ),
    Case(
        "job only in staging",
        lambda p, s: s.put("schedules", "jobs", CRON, BACKUP_JOB),
        f"schedules.jobs.{CRON}",
        "only_in_staging",
        "low",
        "schedules.job",
    ),
    Case(
        "job schedule",
        lambda p, s: p.put(
            "schedules",
            "jobs",
            "cron:/etc/cron.d/logrotate:/usr/sbin/logrotate /etc/logrotate.conf",
            "schedule",
            "0 * * * *",
        ),
        "schedules.jobs.cron:/etc/cron.d/logrotate:/usr/sbin/logrotate /etc/logrotate.conf"
        ".schedule",
        "changed",
        "medium",
        "schedules.job",
    ),
    Case(
        "cron env",
        lambda p, s: p.put("schedules", "cron_env", "/etc/crontab", "MAILTO", "ops@example.com"),
        "schedules.cron_env./etc/crontab.MAILTO",
        "only_in_prod",
        "low",
        "schedules.cron-env",
    ),
    Case(
        "systemd",
        lambda p, s: s.put("schedules", "systemd_running", True),
        "schedules.systemd_running",
        "changed",
        "medium",
        "schedules.systemd",
    ),
    # --- every object kind pg_dump knows ---
    Case(
        "collation only in prod",
        lambda p, s: p.put("database", "collations", "public.german", {"provider": "icu"}),
        "database.collations.public.german",
        "only_in_prod",
        "high",
        "database.collation",
        "collation public.german only in prod",
    ),
    Case(
        "collation library version",
        lambda p, s: (
            p.put("database", "collations", "public.german", {"version": "153.14"}),
            s.put("database", "collations", "public.german", {"version": "153.80"}),
        ),
        "database.collations.public.german.version",
        "changed",
        "low",
        "database.collation",
    ),
    Case(
        "cast missing in prod",
        lambda p, s: s.put("database", "casts", "text AS public.money_pair", {}),
        "database.casts.text AS public.money_pair",
        "only_in_staging",
        "high",
        "database.cast",
        "cast text AS public.money_pair missing in prod",
    ),
    *(
        Case(
            f"{section} only in prod",
            lambda p, s, section=section: p.put("database", section, "public.x", {"owner": "app"}),
            f"database.{section}.public.x",
            "only_in_prod",
            severity,
            rule,
        )
        for section, severity, rule in (
            ("operators", "high", "database.operator"),
            ("operator_classes", "high", "database.operator-class"),
            ("operator_families", "high", "database.operator-family"),
            ("conversions", "medium", "database.conversion"),
            ("access_methods", "medium", "database.access-method"),
            ("transforms", "medium", "database.transform"),
            ("extended_statistics", "medium", "database.extended-statistics"),
            ("text_search_configurations", "high", "database.text-search-configuration"),
            ("text_search_dictionaries", "high", "database.text-search-dictionary"),
            ("text_search_parsers", "medium", "database.text-search-parser"),
            ("text_search_templates", "medium", "database.text-search-template"),
            ("languages", "high", "database.language"),
            ("event_triggers", "high", "database.event-trigger"),
            ("publications", "high", "database.publication"),
            ("subscriptions", "medium", "database.subscription"),
            ("foreign_data_wrappers", "high", "database.foreign-data-wrapper"),
            ("foreign_servers", "high", "database.foreign-server"),
            ("security_labels", "medium", "database.security-label"),
        )
    ),
    Case(
        "user mapping missing in prod",
        lambda p, s: s.put("database", "user_mappings", "app@remote", {"user": "app"}),
        "database.user_mappings.app@remote",
        "only_in_staging",
        "high",
        "database.user-mapping",
        "user mapping app@remote missing in prod",
    ),
    Case(
        "table published only in prod",
        lambda p, s: (
            p.put("database", "publications", "cdc", "tables", TABLE, {"columns": None}),
            s.put("database", "publications", "cdc", "tables", {}),
        ),
        "database.publications.cdc.tables.public.customers",
        "only_in_prod",
        "high",
        "database.publication",
        "UPDATE and DELETE on it fail there without a replica identity",
    ),
    Case(
        "rule only in prod",
        lambda p, s: (
            p.put("database", "tables", TABLE, "rules", "no_delete", {"event": "delete"}),
            s.put("database", "tables", TABLE, "rules", {}),
        ),
        "database.tables.public.customers.rules.no_delete",
        "only_in_prod",
        "high",
        "database.rule",
    ),
    Case(
        "tablespace",
        lambda p, s: (
            p.put("database", "tables", TABLE, "tablespace", "fast_ssd"),
            s.put("database", "tables", TABLE, "tablespace", None),
        ),
        "database.tables.public.customers.tablespace",
        "changed",
        "low",
        "database.storage",
    ),
    Case(
        "domain check comment",
        lambda p, s: p.put("database", "domains", "public.email", {"check_comments": {"c": "x"}}),
        "database.domains.public.email",
        "only_in_prod",
        "high",
        "database.type",
    ),
]


CASES += [
    Case(
        "negative n_distinct is a fraction of the rows",
        lambda p, s: (
            p.put("database", "statistics", TABLE, "columns", "email", "n_distinct", -1.0),
            s.put("database", "statistics", TABLE, "columns", "email", "n_distinct", 1500.0),
        ),
        f"database.statistics.{TABLE}.columns.email.n_distinct",
        "changed",
        "medium",
        "database.data-shape",
        "20,000 distinct values in prod vs 1,500 in staging",
    ),
    Case(
        "migration history at another version",
        lambda p, s: (
            p.put(
                "database",
                "migration_tables",
                "public.alembic_version",
                {"tool": "alembic", "columns": ["version_num"], "rows": [["5d08"]]},
            ),
            s.put(
                "database",
                "migration_tables",
                "public.alembic_version",
                {"tool": "alembic", "columns": ["version_num"], "rows": [["1a7c"]]},
            ),
        ),
        "database.migration_tables.public.alembic_version.rows",
        "changed",
        "medium",
        "database.migration-history",
        "migration history of public.alembic_version: prod",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    from tests.helpers.builders import pair

    prod, staging = pair()
    case.edit(prod, staging)
    item = find(diff(prod, staging), case.path)
    assert (item.kind, item.severity, item.rule) == (case.kind, case.severity, case.rule), item
    assert case.hint in item.hint
    assert "\n" not in item.hint


def test_every_rule_is_covered() -> None:
    covered = {case.rule for case in CASES}
    assert {rule.name for rule in DEFAULT_RULES} - covered == set()


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        (
            "database.statistics.public.customers.rows_estimate",
            lambda p, s: s.put("database", "statistics", TABLE, "rows_estimate", 9000),
        ),
        (
            "database.statistics.public.customers.columns.email.null_frac",
            lambda p, s: s.put(
                "database", "statistics", TABLE, "columns", "email", "null_frac", 0.1
            ),
        ),
        (
            "database.statistics.public.customers.columns.email.n_distinct",
            lambda p, s: s.put(
                "database", "statistics", TABLE, "columns", "email", "n_distinct", 5000.0
            ),
        ),
        (
            "database.statistics.public.customers.columns.email.avg_width",
            lambda p, s: s.put(
                "database", "statistics", TABLE, "columns", "email", "avg_width", 30
            ),
        ),
        (
            "database.statistics.public.customers.size_bytes",
            lambda p, s: s.put("database", "statistics", TABLE, "size_bytes", 900_000),
        ),
        (
            "database.sequences.public.orders_id_seq.last_value",
            lambda p, s: s.put("database", "sequences", "public.orders_id_seq", "last_value", 4),
        ),
    ],
)
def test_statistics_within_tolerance_are_hidden_with_a_reason(path: str, edit: Edit) -> None:
    from tests.helpers.builders import pair

    prod, staging = pair()
    edit(prod, staging)
    result = diff(prod, staging)
    assert path not in [d.path for d in result.discrepancies]
    hidden = [i for i in result.ignored if i.discrepancy.path == path]
    assert len(hidden) == 1 and hidden[0].by == "rule"
    assert hidden[0].reason.startswith("database.")


def test_rules_survive_any_shape() -> None:
    """Facets are written by others and shapes drift: a rule must never crash on a value of
    an unexpected type, whatever the path."""
    from tests.helpers.builders import baseline, pair

    def scramble(node: object, flip: int) -> object:
        if isinstance(node, dict):
            return {k: scramble(v, flip + i) for i, (k, v) in enumerate(node.items())}
        return [None, "x", 3, 1.5, True, [1], {"y": 1}][flip % 7]

    for flip in range(7):
        prod, staging = pair()
        staging.data = scramble(baseline(), flip)  # type: ignore[assignment]
        result = diff(prod, staging)
        assert result.discrepancies


@pytest.mark.parametrize("what", ["columns.id.n_distinct", "size_bytes"])
def test_what_follows_the_row_count_is_reported_once(what: str) -> None:
    from tests.helpers.builders import pair

    prod, staging = pair()
    staging.put("database", "statistics", TABLE, "rows_estimate", 3)
    staging.put("database", "statistics", TABLE, "columns", "id", "n_distinct", -1.0)
    staging.put("database", "statistics", TABLE, "size_bytes", 8192)
    result = diff(prod, staging)
    path = f"database.statistics.{TABLE}.{what}"
    assert path not in [d.path for d in result.discrepancies]
    (hidden,) = [i for i in result.ignored if i.discrepancy.path == path]
    assert "follows the data volume" in hidden.reason
    assert find(result, f"database.statistics.{TABLE}.rows_estimate").severity == "medium"


def test_a_changed_definition_shows_a_unified_diff() -> None:
    """The changed lines with one of context, labelled by side, in every format; the hash
    of the body says nothing more and is hidden with a reason."""
    import json

    from repro.diff.renderers.markdown import render_markdown
    from repro.diff.renderers.table import render_table
    from tests.helpers.builders import pair

    prod, staging = pair()
    prod.put("database", "functions", "public.touch()", "definition", TOUCH % "now()")
    staging.put("database", "functions", "public.touch()", "definition", TOUCH % "NULL")
    prod.put("database", "functions", "public.touch()", "body_sha256", "bb" * 32)
    result = diff(prod, staging)
    item = find(result, "database.functions.public.touch().definition")
    assert item.detail == (
        "--- prod\n+++ staging\n@@ -5,3 +5,3 @@\n BEGIN\n-    NEW.updated_at := now();\n"
        "+    NEW.updated_at := NULL;\n     RETURN NEW;"
    )
    assert json.loads(json.dumps(item.to_json()))["detail"] == item.detail
    assert "body_sha256" not in [d.keys[-1] for d in result.discrepancies]
    assert "+    NEW.updated_at := NULL;" in render_markdown(result)
    assert "```diff" in render_markdown(result)
    assert "-    NEW.updated_at := now();" in render_table(result)


def test_a_secret_in_a_definition_stays_masked_in_the_diff() -> None:
    from tests.helpers.builders import pair

    prod, staging = pair()
    masked = {"redacted": True, "fingerprint": "hmac-sha256:k:1", "masked": TOUCH % "'***'"}
    other = {"redacted": True, "fingerprint": "hmac-sha256:k:2", "masked": TOUCH % "'***'"}
    prod.put("database", "functions", "public.touch()", "definition", masked)
    staging.put("database", "functions", "public.touch()", "definition", other)
    item = find(diff(prod, staging), "database.functions.public.touch().definition")
    assert item.detail is None
    assert "a secret in it differs" in item.hint
