"""The database facet against real PostgreSQL: a rich schema, secrets, personal data, locks.

Most detailed assertions run on ``local_postgres`` (the machine's PostgreSQL 15, no Docker);
the ``postgres_any`` tests repeat the essentials on 13, 15 and 17 in Docker.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from repro.profile.facets import validate_options
from repro.profile.file import DatabaseSpec, Profile
from repro.snapshot.base import CaptureContext
from repro.snapshot.database import FACET
from repro.snapshot.db.sections import SECTIONS
from repro.snapshot.file import FacetResult
from tests.helpers.capture import capture, context, redactor
from tests.helpers.pg import PgServer, fresh_database, with_dbname
from tests.helpers.schema import SCHEMA_SQL
from tests.helpers.wait import free_port, wait_until

GUC_CANARY = "canary-guc-Zq8pW3xV9tLm2Rk7"
PASSWORD_CANARY = "canary-pw-Hs4Kd9Qx2Lm7Wv3"

# Customers: unique emails (personal by name), 5 referral emails in a neutrally named column
# (personal by value), two statuses and three countries (codes, kept).
DATA_SQL = """
INSERT INTO app.customers (email, first_name, last_name, status, country_code, ref, created_at)
SELECT 'person' || g || '@example.com', 'First' || (g % 300), 'Last' || (g % 500),
       (CASE WHEN g % 10 = 0 THEN 'suspended' ELSE 'active' END)::app.account_status,
       (ARRAY['DE', 'FR', 'US'])[1 + g % 3], 'friend' || (g % 5) || '@example.org',
       '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 2000) g;
INSERT INTO app.orders (region, customer_id, total, placed_at)
SELECT (ARRAY['eu', 'us'])[1 + g % 2], 1 + g % 50, (g % 1000) / 10.0,
       '2024-01-01'::date + g % 365
FROM generate_series(1, 5000) g;
INSERT INTO app.events (happened_at, kind, payload)
SELECT '2024-06-01 00:00+00'::timestamptz + g * interval '1 day', 'k' || g % 4, '{}'
FROM generate_series(1, 600) g;
ANALYZE;
"""

TABLES = {
    "app.customers",
    "app.orders",
    "app.order_lines",
    "app.events",
    "app.events_2024",
    "app.events_2025",
    "app.events_default",
    "audit.log",
}


def dumps(result: FacetResult) -> str:
    return json.dumps(result.to_json(), sort_keys=True)


def execute(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement.encode())


def dbname(dsn: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


@dataclass
class RichDb:
    dsn: str
    app_role: str


@pytest.fixture(scope="module")
def rich_db(local_postgres: PgServer) -> Iterator[RichDb]:
    """The rich schema with data, ANALYZEd, a secret in a database setting, and an app role
    with a few grants and a per-database setting."""
    role = f"repro_app_{uuid.uuid4().hex[:8]}"
    with fresh_database(local_postgres.dsn, prefix="repro_dbfacet") as dsn:
        name = sql.Identifier(dbname(dsn)).as_string(None)
        execute(
            dsn,
            SCHEMA_SQL,
            DATA_SQL,
            f"CREATE ROLE {role} NOLOGIN",
            f"GRANT USAGE ON SCHEMA app TO {role}",
            f"GRANT SELECT, INSERT ON app.customers TO {role}",
            f"ALTER DATABASE {name} SET app.api_token = '{GUC_CANARY}'",
            f"ALTER DATABASE {name} SET statement_timeout = '5s'",
            f"ALTER ROLE {role} IN DATABASE {name} SET work_mem = '8MB'",
        )
        yield RichDb(dsn, role)
    execute(local_postgres.dsn, f"DROP ROLE IF EXISTS {role}")


@pytest.fixture(scope="module")
def rich(rich_db: RichDb) -> FacetResult:
    return capture(rich_db.dsn, role=rich_db.app_role)


# --- the schema ---------------------------------------------------------------------------


def test_captures_every_section(rich: FacetResult, rich_db: RichDb) -> None:
    assert rich.status == "ok", rich.problems
    data = rich.data
    assert set(data) == SECTIONS  # every one, even empty
    assert set(data["schemas"]) == {"app", "audit", "public"}
    assert set(data["tables"]) == TABLES
    assert set(data["views"]) == {"app.active_customers", "app.daily_orders"}
    assert set(data["enums"]) == {"app.account_status"}
    assert set(data["domains"]) == {"app.email", "app.positive_amount"}
    assert set(data["composite_types"]) == {"app.money_pair"}
    assert set(data["range_types"]) == {"app.float_range"}
    assert set(data["sequences"]) == {
        "app.invoice_no",
        "app.customers_id_seq",
        "app.orders_id_seq",
        "app.events_id_seq",
        "audit.log_id_seq",
    }
    # Signatures, not bodies; extension members (hstore's, pg_trgm's functions) left out.
    assert set(data["functions"]) == {
        "app.customer_count(p_status app.account_status)",
        "audit.touch()",
    }
    assert {"hstore", "pg_trgm", "plpgsql"} <= set(data["extensions"])
    assert data["extensions"]["hstore"]["schema"] == "public"
    assert set(data["statistics"]) == TABLES | {"app.daily_orders"}

    assert data["server"]["major"] == 15
    assert data["server"]["version"].startswith("PostgreSQL 15.")
    assert data["server"]["version_num"] // 10000 == 15
    assert data["database"]["encoding"] == "UTF8"
    # The test database's random name may look like a token to the capture layer's entropy
    # check (so may its socket directory): compare what the facet itself returned.
    raw = FACET.capture(context(rich_db.dsn, role=rich_db.app_role, red=redactor()))
    assert raw.data["connection"] == {
        "host": "127.0.0.1",
        "port": data["connection"]["port"],
        "dbname": dbname(rich_db.dsn),
        "user": "repro",
    }


def test_columns(rich: FacetResult) -> None:
    customers = rich.data["tables"]["app.customers"]
    columns = customers["columns"]
    assert sorted(columns, key=lambda c: columns[c]["position"]) == [
        "id",
        "email",
        "first_name",
        "last_name",
        "full_name",
        "status",
        "country_code",
        "ref",
        "referred_by",
        "attrs",
        "created_at",
    ]
    assert columns["id"] == {
        "position": 1,
        "type": "bigint",
        "nullable": False,
        "default": None,
        "generated": None,
        "identity": "always",
        "collation": None,
        "inherited": False,
        "comment": None,
    }
    assert columns["email"]["type"] == "app.email"
    assert columns["email"]["comment"] == "login"
    assert columns["full_name"]["generated"] == "((first_name || ' '::text) || last_name)"
    assert columns["full_name"]["default"] is None
    assert columns["status"]["default"] == "'active'::app.account_status"
    assert columns["status"]["nullable"] is False
    assert columns["attrs"]["type"] == "public.hstore"
    assert columns["created_at"]["default"] == "now()"
    assert customers["comment"] == "people who buy"
    orders = rich.data["tables"]["app.orders"]["columns"]
    assert orders["id"]["identity"] == "by_default"
    assert orders["invoice"]["default"] == "nextval('app.invoice_no'::regclass)"
    assert orders["total"]["type"] == "app.positive_amount"
    assert rich.data["tables"]["app.order_lines"]["columns"]["sku"]["collation"] == "C"


def test_constraints(rich: FacetResult) -> None:
    tables = rich.data["tables"]
    customers = tables["app.customers"]["constraints"]
    assert set(customers) == {
        "customers_pkey",
        "customers_email_key",
        "customers_referred_by_fkey",
        "name_not_blank",
    }
    assert customers["customers_pkey"]["type"] == "primary_key"
    assert customers["customers_pkey"]["definition"] == "PRIMARY KEY (id)"
    self_ref = customers["customers_referred_by_fkey"]
    assert self_ref["references"] == {"table": "app.customers", "columns": ["id"]}
    assert (self_ref["on_delete"], self_ref["on_update"]) == ("set null", "no action")
    assert customers["name_not_blank"]["type"] == "check"
    assert customers["name_not_blank"]["columns"] == ["first_name", "last_name"]
    assert customers["name_not_blank"]["definition"] == (
        "CHECK (((first_name <> ''::text) AND (last_name <> ''::text)))"
    )
    orders = tables["app.orders"]["constraints"]
    assert orders["orders_pkey"]["columns"] == ["id", "region"]
    assert orders["orders_invoice_region_key"]["type"] == "unique"
    assert orders["orders_invoice_region_key"]["columns"] == ["invoice", "region"]
    fk = orders["orders_customer_fk"]
    assert fk["definition"] == (
        "FOREIGN KEY (customer_id) REFERENCES app.customers(id) ON UPDATE CASCADE "
        "ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED"
    )
    assert (fk["deferrable"], fk["initially_deferred"], fk["validated"]) == (True, True, True)
    assert (fk["on_update"], fk["on_delete"], fk["match"]) == ("cascade", "restrict", "simple")
    lines = tables["app.order_lines"]["constraints"]
    assert lines["order_lines_order_fk"]["columns"] == ["order_id", "region"]
    assert lines["order_lines_order_fk"]["references"] == {
        "table": "app.orders",
        "columns": ["id", "region"],
    }
    assert lines["order_lines_order_fk"]["on_delete"] == "cascade"
    assert lines["qty_positive"]["definition"] == "CHECK ((qty > 0))"


def test_indexes_triggers_policies(rich: FacetResult) -> None:
    tables = rich.data["tables"]
    indexes = tables["app.customers"]["indexes"]
    assert set(indexes) == {
        "customers_pkey",
        "customers_email_key",
        "customers_name_trgm",
        "customers_lower_email",
    }
    assert indexes["customers_pkey"]["constraint"] == "customers_pkey"
    assert indexes["customers_pkey"]["primary"] is True
    trgm = indexes["customers_name_trgm"]
    assert trgm["method"] == "gin"
    assert trgm["definition"] == (
        "CREATE INDEX customers_name_trgm ON app.customers USING gin "
        "(last_name public.gin_trgm_ops)"
    )
    lower = indexes["customers_lower_email"]
    assert lower["expressions"] is True
    assert lower["columns"] == ["lower((email)::text)"]
    assert lower["predicate"] == "(status <> 'closed'::app.account_status)"
    assert lower["constraint"] is None
    sku = tables["app.order_lines"]["indexes"]["order_lines_sku"]
    assert (sku["columns"], sku["include"]) == (["sku"], ["qty"])
    assert tables["app.order_lines"]["options"] == {"fillfactor": "90"}

    trigger = tables["app.customers"]["triggers"]["customers_audit"]
    assert trigger == {
        "definition": "CREATE TRIGGER customers_audit AFTER INSERT OR UPDATE ON app.customers "
        "FOR EACH ROW EXECUTE FUNCTION audit.touch()",
        "enabled": "enabled",
        "function": "audit.touch",
        "inherited": False,
    }
    assert tables["app.customers"]["row_security"] == {"enabled": True, "forced": False}
    assert tables["app.customers"]["policies"] == {
        "customers_visible": {
            "command": "select",
            "permissive": True,
            "roles": ["public"],
            "using": "(status <> 'closed'::app.account_status)",
            "with_check": None,
        }
    }


def test_partitions_and_persistence(rich: FacetResult) -> None:
    tables = rich.data["tables"]
    events = tables["app.events"]
    assert events["kind"] == "partitioned_table"
    assert events["partition_by"] == "RANGE (happened_at)"
    assert tables["app.events_2024"]["partition_of"] == "app.events"
    # Rendered in UTC whatever the server's TimeZone: prod and staging compare.
    assert tables["app.events_2024"]["partition_bound"] == (
        "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00')"
    )
    assert tables["app.events_default"]["partition_bound"] == "DEFAULT"
    partition_index = tables["app.events_2024"]["indexes"]["events_2024_kind_idx"]
    assert partition_index["parent_index"] == "app.events_kind"
    assert tables["app.events_2024"]["constraints"]["events_2024_pkey"]["inherited"] is True
    assert events["constraints"]["events_pkey"]["inherited"] is False
    assert tables["audit.log"]["persistence"] == "unlogged"
    assert tables["app.customers"]["persistence"] == "permanent"


def test_types_sequences_functions_views(rich: FacetResult) -> None:
    data = rich.data
    assert data["enums"]["app.account_status"]["labels"] == ["active", "suspended", "closed"]
    assert data["domains"]["app.email"] == {
        "schema": "app",
        "name": "email",
        "comment": None,
        "type": "text",
        "nullable": False,
        "default": None,
        "collation": None,
        "checks": {"email_has_at": "CHECK ((VALUE ~ '@'::text))"},
        "privileges": {"PUBLIC": ["USAGE"]},
    }
    assert data["domains"]["app.positive_amount"]["default"] == "0"
    assert data["composite_types"]["app.money_pair"]["attributes"] == {
        "amount": {"position": 1, "type": "numeric(12,2)", "collation": None},
        "currency": {"position": 2, "type": "character(3)", "collation": None},
    }
    assert data["range_types"]["app.float_range"]["subtype"] == "double precision"
    invoice = data["sequences"]["app.invoice_no"]
    assert (invoice["type"], invoice["start"], invoice["increment"], invoice["cache"]) == (
        "integer",
        1000,
        5,
        10,
    )
    assert invoice["owned_by"] is None
    assert invoice["last_value"] == 1000 + 5 * 4999  # 5,000 orders drew from it
    identity = data["sequences"]["app.customers_id_seq"]
    assert (identity["identity"], identity["owned_by"]) == (True, "app.customers.id")

    function = data["functions"]["app.customer_count(p_status app.account_status)"]
    assert function["arguments"] == (
        "p_status app.account_status DEFAULT 'active'::app.account_status"
    )
    assert (function["returns"], function["language"], function["volatility"]) == (
        "bigint",
        "sql",
        "stable",
    )
    assert function["security_definer"] is True
    assert function["config"] == {"search_path": "pg_catalog"}
    assert len(function["body_sha256"]) == 64
    # the whole definition, as pg_get_functiondef writes it (names schema-qualified)
    assert function["definition"].startswith(
        "CREATE OR REPLACE FUNCTION app.customer_count(p_status app.account_status DEFAULT "
    )
    assert "SELECT count(*) FROM app.customers WHERE status = p_status" in function["definition"]
    trigger = data["tables"]["app.customers"]["triggers"]["customers_audit"]
    assert trigger["definition"].startswith("CREATE TRIGGER customers_audit AFTER INSERT")

    active = data["views"]["app.active_customers"]
    assert active["materialized"] is False
    assert "FROM app.customers" in active["definition"]
    daily = data["views"]["app.daily_orders"]
    assert daily["materialized"] is True
    assert daily["indexes"]["daily_orders_day"]["unique"] is True


def test_roles_and_privileges(rich: FacetResult, rich_db: RichDb) -> None:
    """Every role (the cluster's other roles too), and the privileges granted on each
    object; what the owner holds by default is not repeated."""
    roles = rich.data["roles"]
    assert {"repro", rich_db.app_role} <= set(roles)
    assert not [name for name in roles if name.startswith("pg_")]
    assert roles["repro"]["superuser"] is True
    assert roles["repro"]["used_by"] == ["app", "login", "replication"]
    app = roles[rich_db.app_role]
    assert (app["exists"], app["login"], app["superuser"], app["member_of"]) == (
        True,
        False,
        False,
        [],
    )
    assert app["used_by"] == ["app"]  # the profile's database.role
    tables = rich.data["tables"]
    assert tables["app.customers"]["privileges"] == {rich_db.app_role: ["INSERT", "SELECT"]}
    assert tables["app.orders"]["privileges"] == {}
    assert rich.data["schemas"]["app"]["privileges"] == {rich_db.app_role: ["USAGE"]}
    assert rich.data["database"]["privileges"] == {"PUBLIC": ["CONNECT", "TEMPORARY"]}
    functions = [f for f in rich.data["functions"].values() if f["kind"] != "procedure"]
    assert functions and all(f["privileges"] == {"PUBLIC": ["EXECUTE"]} for f in functions)
    assert rich.data["schemas"]["app"]["comment"] == "the application"


def test_missing_app_role_is_a_problem(rich_db: RichDb) -> None:
    result = capture(rich_db.dsn, role="no_such_role", options={"statistics": False})
    assert result.status == "partial"
    assert result.problems == ["role 'no_such_role' (database.role) does not exist"]
    assert result.data["roles"]["no_such_role"] == {"exists": False}
    assert "statistics" not in result.data


# --- settings and secrets -------------------------------------------------------------------

AWS_CANARY = "AKIA" + "QZ7VW2XK4LM9TR3P"
TOKEN_CANARY = "canary-tok-Vq7Lm2Xw9Rk4Pz8"
DSN_CANARY = "canary-dsnpw-Jx3Wq8Lm5Tz"
SETTING_CANARY = "canary-set-Nb6Hy2Qw8Ko"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----"

CODE_SECRETS_SQL = f"""
CREATE SCHEMA code;
CREATE FUNCTION code.call_api() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    api_key text := '{TOKEN_CANARY}';
    aws text := '{AWS_CANARY}';
    target text := 'postgresql://app:{DSN_CANARY}@db.internal:5432/app';
BEGIN
    -- it's the body that holds them
    RETURN api_key || aws || target;
END $$;
CREATE FUNCTION code.conn() RETURNS text LANGUAGE sql
    SET app.token = '{SETTING_CANARY}'
    AS $$ SELECT 'host=db password={DSN_CANARY} dbname=app' $$;
CREATE FUNCTION code.key() RETURNS text LANGUAGE sql AS $$ SELECT '{PEM}' $$;
CREATE FUNCTION code.plain() RETURNS text LANGUAGE sql AS $$ SELECT 'status = ok' $$;
"""


def test_secrets_in_code_are_masked(local_postgres: PgServer) -> None:
    """A function body is code someone wrote, and may hold a key, a password in a
    connection string, a token in a variable or a setting: never in the snapshot. What is
    left is the definition with each of them replaced by ***. Fingerprints of the original
    still compare two environments."""
    with fresh_database(local_postgres.dsn, prefix="repro_dbcode") as dsn:
        execute(dsn, CODE_SECRETS_SQL)
        result = capture(dsn, options={"statistics": False})
        again = capture(dsn, options={"statistics": False})
    text = dumps(result)
    for canary in (AWS_CANARY, TOKEN_CANARY, DSN_CANARY, SETTING_CANARY, "PRIVATE KEY"):
        assert canary not in text, canary
    functions = result.data["functions"]
    call = functions["code.call_api()"]["definition"]
    assert call["redacted"] is True
    assert "api_key text := '***';" in call["masked"]
    assert "it's the body" in call["masked"]  # the rest is kept as written
    assert (
        call["fingerprint"]
        == again.data["functions"]["code.call_api()"]["definition"]["fingerprint"]
    )
    conn = functions["code.conn()"]["definition"]
    assert "SET \"app.token\" TO '***'" in conn["masked"] or "TO '***'" in conn["masked"]
    assert "password=" not in conn["masked"]
    key = functions["code.key()"]["definition"]
    assert "SELECT '***'" in key["masked"]  # a literal holding a private key is one secret
    assert functions["code.plain()"]["definition"].endswith("$function$\n")


def test_settings(rich: FacetResult, rich_db: RichDb) -> None:
    settings = rich.data["settings"]
    # The database's own value, not the statement_timeout the capture sets for itself.
    assert settings["statement_timeout"] == {"value": "5000", "unit": "ms", "source": "database"}
    for name in (
        "TimeZone",
        "DateStyle",
        "default_transaction_isolation",
        "lock_timeout",
        "max_connections",
        "work_mem",
        "shared_buffers",
    ):
        assert name in settings, name
    for noise in (
        "application_name",
        "client_encoding",
        "transaction_isolation",
        "transaction_read_only",
    ):
        assert noise not in settings
    token = settings["app.api_token"]
    assert token["source"] == "database"
    assert token["value"]["redacted"] is True
    scoped = rich.data["scoped_settings"]
    assert scoped["database"]["statement_timeout"] == "5s"
    assert scoped["database"]["app.api_token"]["redacted"] is True
    assert scoped[f"database+role:{rich_db.app_role}"] == {"work_mem": "8MB"}


def test_secrets_never_in_output(rich: FacetResult, local_postgres: PgServer) -> None:
    text = dumps(rich)
    assert GUC_CANARY not in text
    assert local_postgres.password not in text  # the DSN's password
    fingerprint = rich.data["settings"]["app.api_token"]["value"]["fingerprint"]
    assert fingerprint == redactor().fingerprint(GUC_CANARY)


def redacted_paths(node: Any, path: str = "") -> list[str]:
    if isinstance(node, dict):
        if node.get("redacted") is True:
            return [path]
        return [p for k, v in node.items() for p in redacted_paths(v, f"{path}/{k}")]
    if isinstance(node, list):
        return [p for v in node for p in redacted_paths(v, path)]
    return []


def test_only_secrets_are_redacted(rich: FacetResult) -> None:
    """The capture layer redacts by key name: no schema fact must look like a secret to it
    (why the partition key is called partition_by). It also redacts random-looking values,
    such as the test database's name: those are not schema facts."""
    paths = redacted_paths(rich.data)
    assert "/scoped_settings/database/app.api_token" in paths
    assert "/settings/app.api_token/value" in paths
    schema_sections = SECTIONS - {"connection", "database", "settings", "scoped_settings"}
    assert [p for p in paths if p.split("/")[1] in schema_sections] == []


def test_changing_the_secret_changes_its_fingerprint(local_postgres: PgServer) -> None:
    with fresh_database(local_postgres.dsn, prefix="repro_dbfacet") as dsn:
        name = sql.Identifier(dbname(dsn)).as_string(None)
        prints = []
        for value in (GUC_CANARY, GUC_CANARY, GUC_CANARY + "-rotated"):
            execute(dsn, f"ALTER DATABASE {name} SET app.api_token = '{value}'")
            result = capture(dsn, options={"statistics": False})
            assert value not in dumps(result)
            prints.append(result.data["scoped_settings"]["database"]["app.api_token"])
        assert prints[0] == prints[1]
        assert prints[1] != prints[2]


# --- statistics and personal data -----------------------------------------------------------


def test_personal_values_are_fingerprinted(rich: FacetResult) -> None:
    stats = rich.data["statistics"]["app.customers"]
    assert stats["rows_estimate"] == 2000
    columns = stats["columns"]
    email = columns["email"]
    assert (email["analyzed"], email["personal"]) == (True, True)
    assert email["histogram"] == {"buckets": 100, "bounds": None, "bounds_omitted": "personal"}
    # A neutral name, but its values are e-mail addresses: judged by the values.
    ref = columns["ref"]
    assert ref["personal"] is True
    assert ref["personal_reason"] == "values look personal"
    assert ref["mcv"]["values_fingerprinted"] is True
    assert len(ref["mcv"]["frequencies"]) == 5
    assert all(k.startswith("hmac-sha256:") for k in ref["mcv"]["frequencies"])
    assert sum(ref["mcv"]["frequencies"].values()) == pytest.approx(1.0, abs=0.01)
    assert columns["first_name"]["mcv"]["values_fingerprinted"] is True
    assert len(columns["first_name"]["mcv"]["frequencies"]) == 20  # mcv_limit
    assert columns["first_name"]["mcv"]["count"] > 20
    # Codes keep their values: they make generated data production-shaped.
    status = columns["status"]
    assert status["personal"] is False
    assert set(status["mcv"]["frequencies"]) == {"active", "suspended"}
    assert status["mcv"]["frequencies"]["active"] == pytest.approx(0.9, abs=0.01)
    assert set(columns["country_code"]["mcv"]["frequencies"]) == {"DE", "FR", "US"}
    created = columns["created_at"]
    assert created["personal"] is False
    assert len(created["histogram"]["bounds"]) == 21
    assert created["histogram"]["bounds"][0] == "2024-01-01 01:00:00+00"
    total = rich.data["statistics"]["app.orders"]["columns"]["total"]["histogram"]["bounds"]
    assert all(isinstance(b, int | float) for b in total) and total == sorted(total)
    assert rich.data["statistics"]["app.orders"]["columns"]["customer_id"]["personal"] is True

    text = dumps(rich)
    for leaked in ("@example.com", "@example.org", "person1@", "friend0", "First1", "Last1"):
        assert leaked not in text


def test_unanalyzed_tables_are_not_an_error(local_postgres: PgServer) -> None:
    with fresh_database(local_postgres.dsn, prefix="repro_dbfacet") as dsn:
        execute(
            dsn,
            "CREATE TABLE fresh (id int, name text) WITH (autovacuum_enabled = false)",
            "INSERT INTO fresh SELECT g, 'n' || g FROM generate_series(1, 10) g",
        )
        result = capture(dsn)
    assert result.status == "ok", result.problems
    stats = result.data["statistics"]["public.fresh"]
    assert stats["columns"] == {
        "id": {"analyzed": False, "personal": False},
        "name": {"analyzed": False, "personal": True},
    }


def test_hidden_statistics_make_a_partial_capture(rich_db: RichDb) -> None:
    """A read-only role that may read app.orders only: the other tables' statistics are
    hidden from it, which is reported; its password never shows."""
    role = f"repro_ro_{uuid.uuid4().hex[:8]}"
    name = sql.Identifier(dbname(rich_db.dsn)).as_string(None)
    execute(
        rich_db.dsn,
        f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD_CANARY}'",
        f"GRANT CONNECT ON DATABASE {name} TO {role}",
        f"GRANT USAGE ON SCHEMA app TO {role}",
        f"GRANT SELECT ON app.orders TO {role}",
    )
    try:
        parts = psycopg.conninfo.conninfo_to_dict(rich_db.dsn)
        dsn = psycopg.conninfo.make_conninfo(
            "", **{**parts, "user": role, "password": PASSWORD_CANARY}
        )
        result = capture(dsn)
    finally:
        execute(rich_db.dsn, f"DROP OWNED BY {role}", f"DROP ROLE {role}")
    assert result.status == "partial"
    [problem] = result.problems
    assert problem.startswith("statistics: no SELECT privilege on ")
    columns = result.data["statistics"]["app.customers"]["columns"]
    assert columns["email"] == {"analyzed": None, "readable": False}
    assert result.data["statistics"]["app.orders"]["columns"]["region"]["analyzed"] is True
    assert result.data["roles"][role]["superuser"] is False
    assert result.data["connection"]["user"] == role
    assert PASSWORD_CANARY not in dumps(result)


@pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "one-connection"])
def test_unreadable_catalogs_make_a_partial_capture(
    local_postgres: PgServer, parallel: bool
) -> None:
    """A hardened server where PUBLIC may not read pg_policy nor pg_stats: those parts
    become problems, the rest is captured."""
    role = f"repro_ro_{uuid.uuid4().hex[:8]}"
    with fresh_database(local_postgres.dsn, prefix="repro_dbfacet") as dsn:
        execute(
            dsn,
            "CREATE TABLE t (id int PRIMARY KEY, email text)",
            "INSERT INTO t SELECT g, 'p' || g || '@example.com' FROM generate_series(1, 50) g",
            "ANALYZE t",
            "REVOKE SELECT ON pg_catalog.pg_policy, pg_catalog.pg_stats FROM PUBLIC",
            f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD_CANARY}'",
            f"GRANT SELECT ON t TO {role}",
        )
        parts = psycopg.conninfo.conninfo_to_dict(dsn)
        as_role = psycopg.conninfo.make_conninfo(
            "", **{**parts, "user": role, "password": PASSWORD_CANARY}
        )
        try:
            result = capture(as_role, options={"parallel": parallel})
        finally:
            execute(dsn, f"DROP OWNED BY {role}")
    execute(local_postgres.dsn, f"DROP ROLE {role}")
    assert result.status == "partial"
    assert result.problems == [
        "policies: permission denied (permission denied for table pg_policy)",
        "policy comments: permission denied (permission denied for table pg_policy)",
        "statistics: permission denied (permission denied for view pg_stats)",
    ]
    table = result.data["tables"]["public.t"]
    assert table["constraints"]["t_pkey"]["definition"] == "PRIMARY KEY (id)"
    assert table["policies"] == {}
    assert result.data["statistics"]["public.t"]["columns"]["email"]["analyzed"] is False
    assert PASSWORD_CANARY not in dumps(result)


def test_two_captures_are_identical(rich_db: RichDb, rich: FacetResult) -> None:
    again = capture(rich_db.dsn, role=rich_db.app_role)
    assert json.dumps(again.data, sort_keys=True) == json.dumps(rich.data, sort_keys=True)
    single = capture(rich_db.dsn, role=rich_db.app_role, options={"parallel": False})
    assert single.data == rich.data


def test_schemas_filter(rich_db: RichDb) -> None:
    result = capture(rich_db.dsn, schemas=["audit", "nope"], options={"statistics": False})
    assert result.status == "partial"
    assert result.problems == ["schema 'nope' (database.schemas) does not exist"]
    assert set(result.data["schemas"]) == {"audit"}
    assert set(result.data["tables"]) == {"audit.log"}
    assert set(result.data["functions"]) == {"audit.touch()"}


# --- harmless to production -----------------------------------------------------------------


def test_a_locked_table_is_skipped_not_waited_for(rich_db: RichDb) -> None:
    """A migration holding ACCESS EXCLUSIVE on a table: the capture neither waits for it
    nor queues ahead of everyone else; that table's definitions are reported missing."""
    with psycopg.connect(rich_db.dsn, connect_timeout=10) as locker:
        locker.execute("LOCK TABLE app.order_lines IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        result = capture(rich_db.dsn, timeout_ms=20_000)
        elapsed = time.monotonic() - started
        locker.rollback()
    assert elapsed < 2.5  # lock_timeout (3 s) never had to fire
    assert result.status == "partial"
    assert result.problems == [
        "app.order_lines: locked by another session (a migration?), or reads a relation "
        "that is; its definitions were not read, rather than wait for the lock"
    ]
    lines = result.data["tables"]["app.order_lines"]
    assert lines["constraints"]["order_lines_pkey"]["definition"] is None
    assert lines["constraints"]["order_lines_pkey"]["columns"] == ["order_id", "region", "line_no"]
    assert lines["indexes"]["order_lines_sku"]["definition"] is None
    customers = result.data["tables"]["app.customers"]
    assert customers["constraints"]["customers_pkey"]["definition"] == "PRIMARY KEY (id)"


def test_no_connection_is_left_behind(rich_db: RichDb) -> None:
    """Both connections (the second one reads statistics) are closed when it returns."""
    capture(rich_db.dsn)

    def gone() -> bool:
        with psycopg.connect(rich_db.dsn, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'repro-snapshot'"
            ).fetchone()
            return row is not None and row[0] == 0

    # A backend leaves pg_stat_activity just after its client hangs up: poll briefly.
    wait_until(lambda: gone() or None, timeout=10, what="the capture's backends to exit")


# --- failures -------------------------------------------------------------------------------


def test_no_database_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = CaptureContext(
        target=None,  # type: ignore[arg-type]
        profile=Profile(name="t", path=None, database=None),
        options=validate_options(FACET, {}, "t"),
        redactor=redactor(),
    )
    assert FACET.capture(ctx).status == "skipped"
    monkeypatch.delenv("REPRO_TEST_UNSET_DSN", raising=False)
    ctx.profile = Profile(
        name="t", path=None, database=DatabaseSpec(dsn_env="REPRO_TEST_UNSET_DSN", optional=True)
    )
    result = FACET.capture(ctx)
    assert (result.status, result.message) == ("skipped", "no database configured")


def test_unreachable_database_is_a_clean_error() -> None:
    port = free_port()
    dsn = f"postgresql://someone:{PASSWORD_CANARY}@127.0.0.1:{port}/nowhere"
    result = capture(dsn)
    assert result.status == "error"
    assert result.message is not None
    assert result.message.startswith(
        f"cannot connect to PostgreSQL 127.0.0.1:{port}/nowhere as someone: "
    )
    assert "Connection refused" in result.message
    assert "\n" not in result.message
    assert PASSWORD_CANARY not in dumps(result)


def test_wrong_password_is_a_clean_error(local_postgres: PgServer) -> None:
    dsn = with_dbname(local_postgres.dsn, "postgres").replace(
        f":{local_postgres.password}@", f":{PASSWORD_CANARY}@"
    )
    assert PASSWORD_CANARY in dsn
    result = capture(dsn)
    assert result.status == "error"
    assert result.message is not None
    assert 'password authentication failed for user "repro"' in result.message
    assert PASSWORD_CANARY not in dumps(result)


def test_a_garbled_dsn_is_not_echoed() -> None:
    result = capture(f"host=127.0.0.1 password={PASSWORD_CANARY} bogus")
    assert result.status == "error"
    assert result.message == (
        "invalid database DSN (expected a postgresql:// URL or key=value pairs)"
    )


# --- PostgreSQL 13, 15 and 17 -----------------------------------------------------------------


@pytest.mark.docker
def test_every_major_version(postgres_any: PgServer) -> None:
    with fresh_database(postgres_any.dsn, prefix="repro_dbfacet") as dsn:
        name = sql.Identifier(dbname(dsn)).as_string(None)
        execute(
            dsn, SCHEMA_SQL, DATA_SQL, f"ALTER DATABASE {name} SET app.api_token = '{GUC_CANARY}'"
        )
        result = capture(dsn)
        again = capture(dsn)
        single = capture(dsn, options={"parallel": False})
    assert result.status == "ok", result.problems
    data = result.data
    assert data["server"]["major"] == postgres_any.major
    assert set(data["tables"]) == TABLES
    assert set(data["functions"]) == {
        "app.customer_count(p_status app.account_status)",
        "audit.touch()",
    }
    customers = data["tables"]["app.customers"]
    assert customers["columns"]["id"]["identity"] == "always"
    assert customers["columns"]["full_name"]["generated"] == (
        "((first_name || ' '::text) || last_name)"
    )
    assert customers["constraints"]["customers_referred_by_fkey"]["references"] == {
        "table": "app.customers",
        "columns": ["id"],
    }
    assert data["tables"]["app.events"]["partition_by"] == "RANGE (happened_at)"
    assert data["tables"]["app.events_2024"]["partition_bound"] == (
        "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00')"
    )
    stats = data["statistics"]["app.customers"]["columns"]
    assert set(stats["status"]["mcv"]["frequencies"]) == {"active", "suspended"}
    assert stats["email"]["personal"] is True
    assert stats["ref"]["mcv"]["values_fingerprinted"] is True
    assert data["settings"]["app.api_token"]["value"]["redacted"] is True
    text = dumps(result)
    for secret in (GUC_CANARY, postgres_any.password, "@example.com", "@example.org"):
        assert secret not in text
    assert again.data == data
    assert single.data == data


# --- the facet's own redaction ----------------------------------------------------------------


def test_every_member_field_is_judged_or_known_plain(rich: FacetResult) -> None:
    """Columns, constraints and indexes are judged field by field (repro.snapshot.db.redact):
    a field added to them must be classified there, or a secret in it would pass."""
    from repro.snapshot.db.redact import MEMBER_PLAIN, MEMBER_TEXT

    for section in ("tables", "views"):
        for relation in rich.data[section].values():
            for member in ("columns", "constraints", "indexes"):
                known = set(MEMBER_TEXT[member]) | MEMBER_PLAIN[member]
                for entry in relation.get(member, {}).values():
                    assert set(entry) <= known, (member, sorted(set(entry) - known))


TOKEN_CANARY = "sk_live_canaryMemberField7Hq2Lm9"


def test_secrets_in_member_definitions_are_fingerprinted(local_postgres: PgServer) -> None:
    with fresh_database(local_postgres.dsn, prefix="repro_dbfacet") as dsn:
        execute(
            dsn,
            f"""CREATE TABLE t (id int PRIMARY KEY, token text,
                    kind text GENERATED ALWAYS AS (token || '{TOKEN_CANARY}') STORED,
                    CHECK (token <> '{TOKEN_CANARY}'))""",
            f"CREATE INDEX t_partial ON t (id) WHERE token = '{TOKEN_CANARY}'",
            f"CREATE INDEX t_expression ON t ((token = '{TOKEN_CANARY}'))",
            f"CREATE VIEW v AS SELECT id FROM t WHERE token = '{TOKEN_CANARY}'",
        )
        result = capture(dsn, options={"statistics": False})
    assert TOKEN_CANARY not in dumps(result)
    table = result.data["tables"]["public.t"]
    assert table["columns"]["kind"]["generated"]["redacted"] is True
    assert table["indexes"]["t_partial"]["predicate"]["redacted"] is True
    assert table["indexes"]["t_expression"]["columns"][0]["redacted"] is True
    assert result.data["views"]["public.v"]["definition"]["redacted"] is True
