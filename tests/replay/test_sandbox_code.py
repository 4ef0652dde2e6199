"""A sandbox built from a snapshot with functions and triggers runs them: the sandbox's
database is made by ``repro data generate``'s code, which recreates the code objects, and
its triggers come after the generated rows (they fired on none of them) and fire on the
replayed request's writes."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from repro.redaction import RedactionKey, Redactor
from repro.replay.sandbox_db import sandbox_database
from repro.snapshot.file import Snapshot
from tests.helpers.capture import capture
from tests.helpers.dockerutil import require_image
from tests.helpers.pg import IMAGE_TEMPLATE, PgServer, fresh_database

SHOP_SQL = """
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    total numeric(10,2) NOT NULL CHECK (total >= 0),
    updated_at timestamptz
);
CREATE TABLE order_log (id serial PRIMARY KEY, order_id bigint NOT NULL, what text NOT NULL);
CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO order_log (order_id, what) VALUES (NEW.id, TG_OP);
    RETURN NEW;
END $$;
CREATE FUNCTION refuse_big() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.total > 10000 THEN
        RAISE EXCEPTION 'order % over the limit', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER orders_log AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order();
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY small_orders ON orders FOR SELECT TO {role} USING (total < 100);
GRANT SELECT ON orders TO {role};
CREATE TRIGGER orders_limit BEFORE INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION refuse_big();
INSERT INTO orders (email, total)
SELECT 'c' || g || '@example.com', g % 900 FROM generate_series(1, 500) g;
ANALYZE;
"""


def test_the_sandbox_runs_production_triggers(docker_client: Any, postgres_13: PgServer) -> None:
    require_image(docker_client, IMAGE_TEMPLATE.format(major=13))
    role = f"shop_app_{uuid.uuid4().hex[:6]}"
    with fresh_database(postgres_13.dsn, prefix="sandbox_code") as source:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {role} LOGIN")
            conn.execute(SHOP_SQL.replace("{role}", role))
        result = capture(source, role=role)
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    assert result.status == "ok", result.problems
    snapshot = Snapshot("prod", "2026-01-01T00:00:00Z", {}, {}, {"database": result})
    redactor = Redactor(RedactionKey.from_bytes(b"sandbox-code", "test"))
    with sandbox_database(
        snapshot,
        redactor,
        image_template=IMAGE_TEMPLATE,
        labels={"repro.test": "true"},
        app_role=role,
    ) as sandbox:
        assert sandbox.data is not None
        assert not [
            s for s in sandbox.data.skipped if "trigger" in s or "function" in s or "policy" in s
        ]
        with psycopg.connect(sandbox.dsn) as conn:
            # production-shaped rows, loaded before the triggers existed: none logged
            assert conn.execute("SELECT count(*) FROM orders").fetchone() == (500,)
            logged = conn.execute("SELECT count(*) FROM order_log").fetchone()
            assert logged is not None
            before = logged[0]
            # the replayed request's write fires them
            conn.execute("INSERT INTO orders (email, total) VALUES ('x@example.com', 5)")
            after = conn.execute("SELECT count(*) FROM order_log WHERE what = 'INSERT'").fetchone()
            assert after is not None and after[0] >= 1
            assert conn.execute("SELECT count(*) FROM order_log").fetchone() == (before + 1,)
            with pytest.raises(psycopg.errors.CheckViolation, match="over the limit"):
                conn.execute("INSERT INTO orders (email, total) VALUES ('y@example.com', 20000)")
        with psycopg.connect(sandbox.dsn) as conn:
            # production's policy for the app role, made once the role exists
            policy = conn.execute(
                "SELECT roles::text[], qual FROM pg_policies WHERE policyname = 'small_orders'"
            ).fetchone()
            assert policy is not None and policy[0] == [role] and "100" in policy[1]
