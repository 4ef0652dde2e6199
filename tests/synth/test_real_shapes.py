"""``repro data generate`` on the shapes real production schemas have (issue 13), on
PostgreSQL 13, 15 and 17: written here, after what public projects' schemas hold.

- keys of every shape: a tenant's composite keys sharing ``tenant_id`` with another key,
  a self-reference inside a tenant (with and without a key of its own on the tenant column),
  a partitioned table whose partitions carry their own foreign keys (pg_dump of a schema
  older than keys on partitioned tables), a key onto a partitioned parent, a ``NOT VALID``
  key kept ``NOT VALID``, deferrable keys;
- CHECKs: exactly one of two columns set, ``num_nonnulls(...) = 1``, ``CASE`` inside
  ``char_length``, ``jsonb_typeof``, a regular expression, a status that must agree with a
  timestamp, one calling a function; unique indexes on expressions and partial ones;
- code: functions, an aggregate, a procedure, a trigger function and its trigger, a view
  and an index calling a function.

The source is loaded schema only (no rows, never analyzed: what a ``structure.sql`` gives),
snapshotted, and generated with ``--default-rows`` into an empty database. Every table must
get rows, every object must come back, every key the source validated must be valid, and the
generated rows must have fired no trigger.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg
import pytest

from repro.redaction import RedactionKey, Redactor
from repro.snapshot.file import FacetResult, Snapshot, write_snapshot
from repro.synth.generate import LoadOptions, Report, generate
from repro.synth.plan import Options
from tests.helpers.capture import capture
from tests.helpers.cli import run_repro
from tests.helpers.pg import PgServer, fresh_database

SHAPES_SQL = """
CREATE SCHEMA shapes;
SET search_path TO shapes;
CREATE TABLE tenants (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (
    tenant_id bigint NOT NULL REFERENCES tenants,
    id bigint NOT NULL,
    email text NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE accounts (
    tenant_id bigint NOT NULL REFERENCES tenants,
    id bigint NOT NULL,
    parent_id bigint,
    owner_id bigint NOT NULL,
    code varchar(40) NOT NULL CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES accounts (tenant_id, id)
        DEFERRABLE INITIALLY DEFERRED,
    FOREIGN KEY (tenant_id, owner_id) REFERENCES users (tenant_id, id)
);
CREATE UNIQUE INDEX accounts_code_key ON accounts (tenant_id, lower(code));
-- a self-reference inside an organisation whose column has no key of its own
CREATE TABLE folders (
    org_id bigint NOT NULL,
    id bigint NOT NULL,
    parent_id bigint,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, parent_id) REFERENCES folders (org_id, id)
);
CREATE TYPE posting_state AS ENUM ('open', 'settled', 'void');
CREATE TABLE postings (
    tenant_id bigint NOT NULL REFERENCES tenants,
    id bigint GENERATED ALWAYS AS IDENTITY,
    account_id bigint NOT NULL,
    user_id bigint,
    invoice_ref text,
    refund_ref text,
    amount numeric(12,2) NOT NULL,
    meta jsonb NOT NULL,
    tags jsonb,
    state posting_state NOT NULL,
    settled_at timestamptz,
    kind text NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id),
    CONSTRAINT one_source CHECK ((invoice_ref IS NOT NULL) <> (refund_ref IS NOT NULL)),
    CONSTRAINT meta_object CHECK (jsonb_typeof(meta) = 'object'),
    CONSTRAINT tags_array CHECK (jsonb_typeof(tags) = 'array'),
    CONSTRAINT settled_when CHECK ((state = 'settled') = (settled_at IS NOT NULL)),
    CONSTRAINT kind_length CHECK (char_length(
        CASE kind WHEN 'wrapper' THEN (meta ->> 'inner') ELSE kind END) <= 40),
    CONSTRAINT positive CHECK (shapes.is_positive(amount))
);
CREATE TABLE contacts (
    id serial PRIMARY KEY,
    email text,
    phone text,
    fax text,
    CONSTRAINT one_channel CHECK (num_nonnulls(email, phone, fax) = 1)
);
-- partitions with their own keys, as pg_dump writes them for a schema that predates keys
-- on partitioned tables; and a key onto the partitioned parent
CREATE TABLE events (
    id bigint NOT NULL,
    at date NOT NULL,
    tenant_id bigint NOT NULL,
    user_id bigint
) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE events ADD PRIMARY KEY (id, at);
ALTER TABLE events_2024 ADD CONSTRAINT events_2024_tenant_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id);
ALTER TABLE events_2025 ADD CONSTRAINT events_2025_user_fkey
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);
CREATE TABLE event_notes (
    id serial PRIMARY KEY,
    event_id bigint NOT NULL,
    event_at date NOT NULL,
    note text,
    FOREIGN KEY (event_id, event_at) REFERENCES events (id, at)
);
CREATE TABLE legacy (id serial PRIMARY KEY, tenant_id bigint);
ALTER TABLE legacy ADD CONSTRAINT legacy_tenant_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) NOT VALID;
CREATE TABLE manifests (id serial PRIMARY KEY, content jsonb NOT NULL);
CREATE UNIQUE INDEX manifests_tracking_key ON manifests ((content ->> 'kind'));
CREATE TABLE roles (
    id serial PRIMARY KEY,
    admin boolean NOT NULL,
    deleted_at timestamptz
);
CREATE UNIQUE INDEX roles_one_admin ON roles (admin) WHERE admin AND deleted_at IS NULL;
CREATE TABLE audit (id serial PRIMARY KEY, what text NOT NULL);
RESET search_path;
"""

# Functions before the tables above use them (a CHECK calls one): loaded first.
CODE_SQL = """
CREATE SCHEMA shapes;
CREATE FUNCTION shapes.is_positive(x numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT x > 0 $$;
"""

MORE_CODE_SQL = """
CREATE FUNCTION shapes.balance(t bigint, a bigint) RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT coalesce(sum(amount), 0) FROM shapes.postings
          WHERE tenant_id = t AND account_id = a $$;
CREATE VIEW shapes.balances AS
    SELECT tenant_id, id, shapes.balance(tenant_id, id) AS balance FROM shapes.accounts;
CREATE FUNCTION shapes.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shapes.audit (what) VALUES (TG_TABLE_NAME || ' ' || TG_OP);
    RETURN NEW;
END $$;
CREATE TRIGGER postings_audit AFTER INSERT ON shapes.postings
    FOR EACH ROW EXECUTE FUNCTION shapes.note();
CREATE TRIGGER contacts_audit BEFORE INSERT ON shapes.contacts
    FOR EACH ROW EXECUTE FUNCTION shapes.note();
CREATE FUNCTION shapes.add(a numeric, b numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
    AS $$ SELECT a + b $$;
CREATE AGGREGATE shapes.total(numeric) (SFUNC = shapes.add, STYPE = numeric, INITCOND = '0');
CREATE PROCEDURE shapes.settle(t bigint) LANGUAGE sql
    AS $$ UPDATE shapes.postings SET state = 'settled', settled_at = now() WHERE tenant_id = t $$;
CREATE INDEX postings_gross ON shapes.postings (shapes.add(amount, 1));
"""

CENSUS = {
    "constraints": """
        SELECT c.conrelid::regclass::text || '.' || c.conname,
               c.contype::text || CASE WHEN c.convalidated THEN '' ELSE ' not valid' END
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'shapes' AND c.conrelid <> 0""",
    "indexes": """
        SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'shapes'""",
    "triggers": """
        SELECT c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'shapes' AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.oid::regprocedure::text, p.prokind::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'shapes'""",
    "views": """
        SELECT c.relname, pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'shapes' AND c.relkind = 'v'""",
}


def census(dsn: str) -> dict[str, dict[str, str]]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET search_path = ''")
        return {what: dict(conn.execute(query).fetchall()) for what, query in CENSUS.items()}


def row_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'shapes' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            """
        ).fetchall()
        return {
            t: int(conn.execute(f'SELECT count(*) FROM shapes."{t}"').fetchone()[0])  # type: ignore[index]
            for (t,) in tables
        }


def redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"shapes-key", "test"))


def source_snapshot(dsn: str) -> Snapshot:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(CODE_SQL)
        conn.execute(SHAPES_SQL.replace("CREATE SCHEMA shapes;\n", "", 1))
        conn.execute(MORE_CODE_SQL)
    result = capture(dsn, options={"statistics": True})
    assert result.status == "ok", result.problems
    return Snapshot("shapes", "2026-01-01T00:00:00Z", {}, {}, {"database": result}, source="t")


@pytest.fixture(scope="module", params=[13, 15, 17], ids=["pg13", "pg15", "pg17"])
def shapes(request: pytest.FixtureRequest, pg_container: Any) -> Any:
    server: PgServer = pg_container(request.param)
    with fresh_database(server.dsn, prefix="shapes_src") as dsn:
        yield server, dsn, source_snapshot(dsn)


def generate_into(snapshot: Snapshot, dsn: str, rows: int = 120) -> Report:
    return generate(
        snapshot,
        dsn,
        Options(seed=3, default_rows=rows),
        LoadOptions(create_schema=True),
        redactor(),
    )


def test_every_shape_regenerates(shapes: tuple[PgServer, str, Snapshot]) -> None:
    server, source, snapshot = shapes
    with fresh_database(server.dsn, prefix="shapes_gen") as target:
        report = generate_into(snapshot, target)
        counts = row_counts(target)
        # every table filled (no row estimate: --default-rows and its fan-out)...
        assert all(counts.values()), counts
        assert counts["tenants"] == 120 and counts["users"] == 240  # a level down: twice
        # ...nothing fired while loading...
        assert counts["audit"] > 0  # its own default rows
        with psycopg.connect(target) as conn:
            audited = conn.execute(
                "SELECT count(*) FROM shapes.audit WHERE what LIKE 'postings%' "
                "OR what LIKE 'contacts%'"
            ).fetchone()
        assert audited == (0,)
        # ...every object is back, every key the source validated is valid, NOT VALID stays
        before, after = census(source), census(target)
        assert before == after
        assert after["constraints"]["shapes.legacy.legacy_tenant_fkey"] == "f not valid"
        assert report.skipped == [
            "roles, grants and owners: not applied (objects belong to the user running the script)"
        ]
        with psycopg.connect(target) as conn:
            rows = conn.execute(
                """
                SELECT count(*) FILTER (WHERE (invoice_ref IS NULL) = (refund_ref IS NULL)),
                       count(*) FILTER (WHERE jsonb_typeof(tags) <> 'array'),
                       count(*) FILTER (WHERE (state = 'settled') <> (settled_at IS NOT NULL)),
                       count(*) FILTER (WHERE invoice_ref IS NOT NULL),
                       count(*) FILTER (WHERE refund_ref IS NOT NULL),
                       count(*)
                FROM shapes.postings
                """
            ).fetchone()
            assert rows is not None
            assert rows[:3] == (0, 0, 0)
            assert rows[3] > 0 and rows[4] > 0  # both sources used
            # the tenant's keys agree: an account's parent and owner, a posting's account
            # and user, all of its own tenant (the foreign keys say so; here by count)
            roots = conn.execute(
                "SELECT count(*) FILTER (WHERE parent_id IS NULL), count(*), "
                "count(*) FILTER (WHERE parent_id = id) FROM shapes.accounts"
            ).fetchone()
            # a forest inside each tenant: roots, children, no account its own parent
            assert roots is not None and 0 < roots[0] < roots[1] and roots[2] == 0
            admins = conn.execute(
                "SELECT count(*) FROM shapes.roles WHERE admin AND deleted_at IS NULL"
            ).fetchone()
            assert admins == (1,)
            # the code works after the load: a new posting fires its trigger
            conn.execute(
                "INSERT INTO shapes.postings (tenant_id, account_id, amount, meta, state, kind, "
                "invoice_ref) SELECT tenant_id, id, 5, '{}', 'open', 'k', 'x' "
                "FROM shapes.accounts LIMIT 1"
            )
            fired = conn.execute(
                "SELECT count(*) FROM shapes.audit WHERE what = 'postings INSERT'"
            ).fetchone()
            assert fired == (1,)
            total = conn.execute("SELECT shapes.total(amount) > 0 FROM shapes.postings").fetchone()
            assert total == (True,)
    notes = " ".join(note for t in report.tables for note in t.notes)
    assert "judged by PostgreSQL" in notes


def test_a_schema_with_no_valid_row_is_refused_in_one_line(
    shapes: tuple[PgServer, str, Snapshot], tmp_path: Any
) -> None:
    """PostgreSQL accepts the CHECK; no row can pass it: one line, naming the table, the
    constraint and why, exit 2, nothing kept."""
    server, _, snapshot = shapes
    data = dict(snapshot.facets["database"].data)
    tables = dict(data["tables"])
    manifests = dict(tables["shapes.manifests"])
    manifests["constraints"] = {
        **manifests["constraints"],
        "never": {
            "type": "check",
            "definition": "CHECK ((((content ->> 'kind'::text) = upper((content ->> "
            "'kind'::text))) AND (length((content ->> 'kind'::text)) > 3)))",
            "columns": ["content"],
            "inherited": False,
        },
    }
    tables["shapes.manifests"] = manifests
    data["tables"] = tables
    impossible = Snapshot(
        "shapes", snapshot.captured_at, {}, {}, {"database": FacetResult(status="ok", data=data)}
    )
    path = write_snapshot(impossible, tmp_path / "impossible.json")
    with fresh_database(server.dsn, prefix="shapes_none") as target:
        done = run_repro(
            "data",
            "generate",
            str(path),
            "--dsn",
            target,
            "--create-schema",
            "--default-rows",
            "50",
            env={**os.environ, "REPRO_REDACTION_KEY": "k"},
        )
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("repro: error: "), done.stderr
        assert "Traceback" not in done.stderr
        assert "shapes.manifests" in lines[0] and "CHECK never" in lines[0]
        assert "PostgreSQL accepted 0 of" in lines[0]
        with psycopg.connect(target) as conn:
            left = conn.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = 'shapes'"
            ).fetchone()
        assert left == (0,)  # nothing kept


def test_same_seed_same_rows(shapes: tuple[PgServer, str, Snapshot]) -> None:
    """Judged tables too: the same snapshot, options and seed give the same rows."""
    server, _, snapshot = shapes
    dumps = []
    for _ in range(2):
        with fresh_database(server.dsn, prefix="shapes_seed") as target:
            generate_into(snapshot, target, rows=40)
            with psycopg.connect(target) as conn:
                dumps.append(
                    [
                        conn.execute(
                            f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) "
                            f"FROM shapes.{name} t"
                        ).fetchone()
                        for name in ("postings", "contacts", "roles", "folders", "accounts")
                    ]
                )
    assert dumps[0] == dumps[1]


def test_the_command_line_takes_default_rows(
    shapes: tuple[PgServer, str, Snapshot], tmp_path: Any
) -> None:
    server, _, snapshot = shapes
    path = write_snapshot(snapshot, tmp_path / "shapes.json")
    with fresh_database(server.dsn, prefix="shapes_cli") as target:
        done = run_repro(
            "data",
            "generate",
            str(path),
            "--dsn",
            target,
            "--create-schema",
            "--default-rows",
            "30",
            "--json",
            env={**os.environ, "REPRO_REDACTION_KEY": "k"},
        )
        assert done.returncode == 0, done.stderr
        assert row_counts(target)["tenants"] == 30
    bad = run_repro(
        "data", "generate", str(path), "--dsn", "postgresql://x/y", "--default-rows", "-1"
    )
    assert bad.returncode == 2 and "--default-rows" in bad.stderr
