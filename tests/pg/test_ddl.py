"""repro.pg.ddl: literal snapshot data for the rules, and a round trip on real PostgreSQL
13, 15 and 17 (capture X, recreate in empty Y, capture Y, compare everything schema-related).
"""

from __future__ import annotations

from typing import Any

import psycopg

from repro.pg.ddl import SchemaScript, Statement, quote_ident, schema_script, table_order
from repro.pg.target_db import execute_script
from tests.helpers.capture import capture
from tests.helpers.pg import PgServer, fresh_database
from tests.helpers.schema import SCHEMA_SQL, differences, schema_part


def col(position: int, type_: str = "integer", **extra: Any) -> dict[str, Any]:
    return {
        "position": position,
        "type": type_,
        "nullable": True,
        "default": None,
        "generated": None,
        "identity": None,
        "collation": None,
        "inherited": False,
        "comment": None,
        **extra,
    }


def table(schema: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schema": schema,
        "name": name,
        "kind": "table",
        "persistence": "permanent",
        "options": {},
        "columns": {"id": col(1)},
        "constraints": {},
        "indexes": {},
        "triggers": {},
        "policies": {},
        "partition_by": None,
        "partition_of": None,
        "partition_bound": None,
        "inherits": [],
        "comment": None,
        "row_security": {"enabled": False, "forced": False},
        **extra,
    }


def con(type_: str, definition: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "definition": definition,
        "inherited": False,
        "validated": True,
        "references": None,
        **extra,
    }


def seq(schema: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "schema": schema,
        "name": name,
        "type": "bigint",
        "start": 1,
        "increment": 1,
        "min": 1,
        "max": 9223372036854775807,
        "cache": 1,
        "cycle": False,
        "owned_by": None,
        "identity": False,
        "last_value": 42,
        **extra,
    }


def db(**sections: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"schemas": {}, "tables": {}, "views": {}}
    return {**base, **sections}


def sqls(statements: list[Statement]) -> list[str]:
    return [s.sql for s in statements]


def find(statements: list[Statement], target: str) -> Statement:
    matches = [s for s in statements if s.target == target and s.kind != "comment"]
    assert len(matches) == 1, (target, statements)
    return matches[0]


def test_quote_ident() -> None:
    assert quote_ident('we"ird.Name') == '"we""ird.Name"'


def test_table_order_parents_first_otherwise_sorted() -> None:
    data = db(
        tables={
            "a.child": table("a", "child", partition_of="z.parent", partition_bound="DEFAULT"),
            "a.heir": table("a", "heir", inherits=["a.child", "b.other"]),
            "b.other": table("b", "other"),
            "z.parent": table("z", "parent", kind="partitioned_table", partition_by="LIST (id)"),
            "c.plain": table("c", "plain"),
        }
    )
    assert table_order(data) == ["b.other", "c.plain", "z.parent", "a.child", "a.heir"]


def test_identity_column_carries_its_sequence() -> None:
    data = db(
        tables={
            "public.t": table(
                "public",
                "t",
                columns={
                    "id": col(1, "bigint", identity="always", nullable=False),
                    "n": col(2, nullable=False, default="0"),
                },
            )
        },
        sequences={
            "public.t_id_seq": seq(
                "public", "t_id_seq", owned_by="public.t.id", identity=True, start=100, cycle=True
            )
        },
    )
    script = schema_script(data)
    assert [s.kind for s in script.before_load] == ["table"]
    assert find(script.before_load, "public.t").sql == (
        'CREATE TABLE "public"."t" ("id" bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME '
        '"public"."t_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 '
        'START WITH 100 CACHE 1 CYCLE), "n" integer DEFAULT 0 NOT NULL)'
    )
    assert not [s for s in script.after_load if s.kind == "sequence_owner"]


def test_serial_sequence_before_table_and_owned_after_load() -> None:
    data = db(
        tables={
            "s.t": table(
                "s",
                "t",
                columns={"id": col(1, default="nextval('s.t_id_seq'::regclass)", nullable=False)},
            )
        },
        sequences={
            "s.t_id_seq": seq("s", "t_id_seq", type="integer", max=2147483647, owned_by="s.t.id")
        },
        schemas={"s": {"comment": "mine"}},
    )
    script = schema_script(data)
    assert sqls(script.before_load) == [
        'CREATE SCHEMA IF NOT EXISTS "s"',
        'CREATE SEQUENCE "s"."t_id_seq" AS integer INCREMENT BY 1 MINVALUE 1 '
        "MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE",
        'CREATE TABLE "s"."t" ("id" integer DEFAULT nextval(\'s.t_id_seq\'::regclass) NOT NULL)',
    ]
    assert sqls(script.after_load) == [
        'ALTER SEQUENCE "s"."t_id_seq" OWNED BY "s"."t"."id"',
        "COMMENT ON SCHEMA \"s\" IS 'mine'",
    ]
    assert "42" not in " ".join(sqls(script.before_load))  # never the last value


def test_partitions_and_inherited_pieces() -> None:
    parent = table(
        "p",
        "ev",
        kind="partitioned_table",
        partition_by="RANGE (at)",
        columns={"id": col(1, nullable=False), "at": col(2, "date", nullable=False)},
        constraints={"ev_pkey": con("primary_key", "PRIMARY KEY (id, at)")},
        indexes={
            "ev_pkey": {
                "definition": "CREATE UNIQUE INDEX ev_pkey ON ONLY p.ev USING btree (id, at)",
                "constraint": "ev_pkey",
                "parent_index": None,
            },
            "ev_at": {
                "definition": "CREATE INDEX ev_at ON ONLY p.ev USING btree (at)",
                "constraint": None,
                "parent_index": None,
                "unique": False,
            },
        },
    )
    part = table(
        "p",
        "ev_2024",
        partition_of="p.ev",
        partition_bound="FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        columns={"id": col(1, inherited=True), "at": col(2, "date", inherited=True)},
        constraints={"ev_2024_pkey": con("primary_key", "PRIMARY KEY (id, at)", inherited=True)},
        indexes={
            "ev_2024_at_idx": {
                "definition": "CREATE INDEX ev_2024_at_idx ON p.ev_2024 USING btree (at)",
                "parent_index": "p.ev_at",
            }
        },
        persistence="unlogged",
        options={"fillfactor": "70"},
    )
    heir = table(
        "p",
        "heir",
        inherits=["p.ev_2024"],
        columns={
            "id": col(1, inherited=True),
            "at": col(2, "date", inherited=True),
            "extra": col(3, "text", collation="C"),
        },
        constraints={"x": con("check", "CHECK ((id > 0))", inherited=True)},
    )
    script = schema_script(db(tables={"p.ev": parent, "p.ev_2024": part, "p.heir": heir}))
    assert sqls(script.before_load) == [
        'CREATE TABLE "p"."ev" ("id" integer NOT NULL, "at" date NOT NULL) PARTITION BY RANGE (at)',
        'CREATE UNLOGGED TABLE "p"."ev_2024" PARTITION OF "p"."ev" '
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') WITH (fillfactor='70')",
        'CREATE TABLE "p"."heir" ("extra" text COLLATE "C") INHERITS ("p"."ev_2024")',
    ]
    assert sqls(script.after_load) == [
        'ALTER TABLE "p"."ev" ADD CONSTRAINT "ev_pkey" PRIMARY KEY (id, at)',
        # ON ONLY would leave the partitions without their index
        "CREATE INDEX ev_at ON p.ev USING btree (at)",
    ]


def test_keys_in_order_not_valid_and_foreign_keys_last() -> None:
    a = table(
        "s",
        "a.b",
        columns={"id": col(1), "b": col(2)},
        constraints={
            "fk": con(
                "foreign_key",
                "FOREIGN KEY (b) REFERENCES s.c(id) DEFERRABLE",
                references={"table": "s.c", "columns": ["id"]},
            ),
            "chk": con("check", "CHECK ((b > 0))", validated=False),
            "chk2": con("check", "CHECK ((b > 1)) NOT VALID", validated=False),
            "uq": con("unique", "UNIQUE (b)"),
            "pk": con("primary_key", "PRIMARY KEY (id)"),
            "gone": con(
                "foreign_key",
                "FOREIGN KEY (b) REFERENCES s.zz(id)",
                references={"table": "s.zz", "columns": ["id"]},
            ),
        },
        indexes={
            "u": {
                "definition": 'CREATE UNIQUE INDEX u ON s."a.b" USING btree (b, id)',
                "unique": True,
            }
        },
    )
    c = table("s", "c", columns={"id": col(1, generated="(1 + 1)")})
    script = schema_script(db(tables={"s.a.b": a, "s.c": c}))
    assert 'CREATE TABLE "s"."c" ("id" integer GENERATED ALWAYS AS ((1 + 1)) STORED)' in sqls(
        script.before_load
    )
    assert [(s.kind, s.target) for s in script.after_load] == [
        ("primary_key", "s.a.b.pk"),
        ("unique", "s.a.b.uq"),
        ("check", "s.a.b.chk"),
        ("check", "s.a.b.chk2"),
        ("index", "s.a.b.u"),
        ("foreign_key", "s.a.b.fk"),
    ]
    assert find(script.after_load, "s.a.b.chk").sql.endswith("CHECK ((b > 0)) NOT VALID")
    assert find(script.after_load, "s.a.b.chk2").sql.endswith("CHECK ((b > 1)) NOT VALID")
    assert find(script.after_load, "s.a.b.fk").sql == (
        'ALTER TABLE "s"."a.b" ADD CONSTRAINT "fk" FOREIGN KEY (b) REFERENCES s.c(id) DEFERRABLE'
    )
    assert script.skipped == ["constraint s.a.b.gone: references s.zz, not created"]


def test_nulls_are_skipped_with_a_reason() -> None:
    data = db(
        tables={
            "s.locked": table(
                "s",
                "locked",
                constraints={"c": con("check", None)},
                indexes={"i": {"definition": None}},
            ),
            "s.part": table("s", "part", kind="partitioned_table", partition_by=None),
            "s.nothing": None,
        },
        views={
            "s.v": {"schema": "s", "name": "v", "definition": None, "materialized": False},
            "s.w": {
                "schema": "s",
                "name": "w",
                "definition": " SELECT 1 FROM s.v;",
                "materialized": False,
            },
        },
        sequences=None,
        enums={"s.e": None},
        extensions={"x": None},
    )
    script = schema_script(data)
    assert sqls(script.before_load) == [
        'CREATE EXTENSION IF NOT EXISTS "x"',
        'CREATE TABLE "s"."locked" ("id" integer)',
    ]
    assert script.skipped == [
        "tables s.nothing: not captured (null entry)",
        "enums s.e: not captured (null entry)",
        "table s.locked: locked at capture; a generated column (its expression unread) would "
        "have been captured, and made, as a plain column",
        "table s.part: partition key not captured (relation locked at capture)",
        "constraint s.locked.c: definition not captured (relation locked)",
        "index s.locked.i: definition not captured (relation locked)",
        "view s.v: definition not captured (relation locked at capture)",
        "view s.w: reads s.v, not created",
    ]


def test_views_by_dependency_and_materialized_after_load() -> None:
    def view(name: str, definition: str, materialized: bool = False) -> dict[str, Any]:
        return {
            "schema": "s",
            "name": name,
            "definition": definition,
            "materialized": materialized,
            "options": {},
            "indexes": {},
            "comment": "c",
        }

    data = db(
        tables={"s.t": table("s", "t")},
        views={
            "s.a": view("a", " SELECT id FROM s.b;"),
            "s.b": view("b", " SELECT id FROM s.t;"),
            "s.m": view("m", ' SELECT id FROM s."Q r";', materialized=True)
            | {"indexes": {"m_id": {"definition": "CREATE INDEX m_id ON s.m USING btree (id)"}}},
            "s.Q r": view("Q r", " SELECT id FROM s.t;"),
            "s.after_m": view("after_m", " SELECT id FROM s.m;"),
            "s.f": view("f", " SELECT s.fn(1) AS x;"),
        },
        functions={"s.fn(integer)": {"schema": "s", "name": "fn", "kind": "function"}},
    )
    script = schema_script(data)
    assert not [s for s in script.before_load if s.kind in ("view", "materialized_view")]
    # After the load and its keys (a view grouping by a primary key needs the key), each
    # after what it reads.
    made = [(s.kind, s.target) for s in script.after_load if s.kind != "comment"]
    assert made == [
        ("view", "s.Q r"),
        ("view", "s.b"),
        ("view", "s.a"),
        ("materialized_view", "s.m"),
        ("index", "s.m.m_id"),
        ("view", "s.after_m"),
    ]
    assert find(script.after_load, "s.Q r").sql == 'CREATE VIEW "s"."Q r" AS SELECT id FROM s.t'
    assert find(script.after_load, "s.m").sql == (
        'CREATE MATERIALIZED VIEW "s"."m" AS SELECT id FROM s."Q r" WITH DATA'
    )
    assert 'COMMENT ON MATERIALIZED VIEW "s"."m" IS \'c\'' in sqls(script.after_load)
    assert script.skipped == [
        "view s.f: calls s.fn(integer) (not recreated)",
        "function s.fn(integer): definition not captured (a snapshot of an older repro "
        "keeps only a hash)",
    ]


def test_table_selection_takes_what_it_needs() -> None:
    data = db(
        tables={
            "s.parent": table("s", "parent", kind="partitioned_table", partition_by="LIST (id)"),
            "s.p1": table("s", "p1", partition_of="s.parent", partition_bound="DEFAULT"),
            "s.other": table(
                "s", "other", columns={"id": col(1, default="nextval('s.other_seq'::regclass)")}
            ),
            "s.user": table(
                "s",
                "user",
                columns={"id": col(1, default="nextval('s.used_seq'::regclass)")},
                constraints={
                    "fk": con(
                        "foreign_key",
                        "FOREIGN KEY (id) REFERENCES s.other(id)",
                        references={"table": "s.other"},
                    )
                },
            ),
        },
        sequences={
            "s.other_seq": seq("s", "other_seq", owned_by="s.other.id"),
            "s.used_seq": seq("s", "used_seq"),
        },
        views={
            "s.v": {
                "schema": "s",
                "name": "v",
                "definition": "SELECT * FROM s.other",
                "materialized": False,
            }
        },
        enums={"s.e": {"schema": "s", "name": "e", "labels": ["a'b", "c\\d"]}},
    )
    script = schema_script(data, tables=["s.p1", "s.user", "s.nope"])
    assert [(s.kind, s.target) for s in script.before_load] == [
        ("sequence", "s.used_seq"),
        ("enum", "s.e"),
        ("table", "s.parent"),
        ("table", "s.p1"),
        ("table", "s.user"),
    ]
    assert find(script.before_load, "s.e").sql == (
        "CREATE TYPE \"s\".\"e\" AS ENUM ('a''b', E'c\\\\d')"
    )
    assert script.skipped == [
        "table s.nope: not in the snapshot",
        "constraint s.user.fk: references s.other, not created",
    ]


def test_triggers_policies_roles_are_listed() -> None:
    t = table(
        "s",
        "t",
        triggers={
            "tr": {"function": "s.f", "inherited": False},
            "clone": {"function": "s.f", "inherited": True},
        },
        policies={"pol": {"command": "all"}},
        row_security={"enabled": True, "forced": True},
    )
    script = schema_script(db(tables={"s.t": t}, roles={"app": {}}))
    assert sqls(script.after_load) == [
        'ALTER TABLE "s"."t" ENABLE ROW LEVEL SECURITY',
        'ALTER TABLE "s"."t" FORCE ROW LEVEL SECURITY',
        'CREATE POLICY "pol" ON "s"."t" AS PERMISSIVE FOR ALL',
    ]
    policy = find(script.after_load, "s.t.pol")
    assert policy.optional  # its roles may not exist in the target: reported, not fatal
    assert script.skipped == [
        "trigger s.t.tr: definition not captured (relation locked)",
        "roles, grants and owners: not applied (objects belong to the user running the script)",
    ]


# Round trip ---------------------------------------------------------------------------------

EXTRA_SQL = """
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."Tab.le" (
    "Col" integer PRIMARY KEY,
    "x.y" text[] DEFAULT '{}',
    "Mixed" jsonb NOT NULL DEFAULT '{}'::jsonb
);
COMMENT ON COLUMN "Odd Schema"."Tab.le"."x.y" IS 'it''s odd';
CREATE INDEX "Tab.le expr" ON "Odd Schema"."Tab.le" (("Mixed" ->> 'k'));
CREATE VIEW "Odd Schema"."V" AS SELECT "Col", "x.y" FROM "Odd Schema"."Tab.le";
CREATE TABLE app.teams (id integer PRIMARY KEY, lead_id integer NOT NULL, tags text[]);
CREATE TABLE app.members (
    id integer PRIMARY KEY,
    team_id integer REFERENCES app.teams (id),
    nickname varchar(40),
    UNIQUE (team_id, nickname)
);
ALTER TABLE app.teams ADD CONSTRAINT teams_lead_fk FOREIGN KEY (lead_id)
    REFERENCES app.members (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE app.members ADD CONSTRAINT members_id_positive CHECK (id > 0) NOT VALID;
CREATE TABLE app.bookings (
    room integer NOT NULL, during tstzrange NOT NULL,
    CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)
);
CREATE TABLE app.notes (id integer NOT NULL, body text NOT NULL CHECK (body <> ''));
CREATE TABLE app.urgent_notes (priority smallint NOT NULL DEFAULT 1) INHERITS (app.notes);
CREATE TABLE app.events_2026 PARTITION OF app.events
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00')
    PARTITION BY RANGE (happened_at);
CREATE TABLE app.events_2026_h1 PARTITION OF app.events_2026
    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-07-01 00:00+00');
CREATE TABLE app.events_2026_rest PARTITION OF app.events_2026 DEFAULT;
CREATE VIEW app.a_recent AS SELECT id, email FROM app.active_customers WHERE id > 10;
CREATE VIEW app.busy_days AS SELECT placed_at FROM app.daily_orders WHERE n > 10;
CREATE VIEW app.eu_orders WITH (security_barrier) AS
    SELECT * FROM app.orders WHERE region = 'eu' WITH LOCAL CHECK OPTION;
CREATE VIEW app.counts AS SELECT app.customer_count() AS n;
CREATE SEQUENCE app.ticket_seq AS smallint MINVALUE -5 START -5 CYCLE;
CREATE TABLE app.tickets (no smallint DEFAULT nextval('app.ticket_seq'), code text COLLATE "C");
ALTER SEQUENCE app.ticket_seq OWNED BY app.tickets.no;
COMMENT ON VIEW app.active_customers IS 'who may log in';
COMMENT ON TYPE app.account_status IS 'lifecycle';
COMMENT ON DOMAIN app.email IS 'an address';
ALTER TABLE app.customers FORCE ROW LEVEL SECURITY;
"""


CODE_SQL = """
CREATE FUNCTION app.is_code(t text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT t ~ '^[A-Z]{3}$' $$;
CREATE DOMAIN app.code AS text CHECK (app.is_code(VALUE));
CREATE FUNCTION app.add_tax(amount numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN amount * 1.2;  -- a semicolon; and a quote: it's fine
END $$;
CREATE FUNCTION app.sum_sq_step(acc numeric, x numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS $$ SELECT acc + x * x $$;
CREATE AGGREGATE app.sum_sq(numeric) (SFUNC = app.sum_sq_step, STYPE = numeric, INITCOND = '0');
CREATE FUNCTION app.open_notes() RETURNS SETOF app.notes LANGUAGE sql STABLE
    AS $$ SELECT * FROM app.notes WHERE body <> '' $$;
CREATE PROCEDURE app.purge(days integer) LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit.log WHERE at < now() - make_interval(days => days);
END $$;
CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.body := NEW.body || ' (stamped)'; RETURN NEW; END $$;
CREATE FUNCTION app.redirect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO app.notes VALUES (NEW.id, NEW.body); RETURN NEW; END $$;
CREATE TABLE app.codes (
    code app.code PRIMARY KEY,
    price numeric NOT NULL CHECK (app.add_tax(price) < 1000),
    gross numeric DEFAULT app.add_tax(10)
);
CREATE INDEX codes_taxed ON app.codes (app.add_tax(price));
CREATE TRIGGER notes_stamp BEFORE INSERT ON app.notes FOR EACH ROW EXECUTE FUNCTION app.stamp();
CREATE TRIGGER notes_quiet BEFORE UPDATE ON app.notes FOR EACH ROW EXECUTE FUNCTION app.stamp();
ALTER TABLE app.notes DISABLE TRIGGER notes_quiet;
CREATE CONSTRAINT TRIGGER codes_check AFTER INSERT ON app.codes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION app.stamp();
CREATE VIEW app.note_view AS SELECT id, body FROM app.notes;
CREATE TRIGGER note_view_insert INSTEAD OF INSERT ON app.note_view
    FOR EACH ROW EXECUTE FUNCTION app.redirect();
CREATE VIEW app.taxed AS SELECT code, app.add_tax(price) AS gross, (SELECT app.sum_sq(price)
    FROM app.codes) AS spread FROM app.codes;
CREATE POLICY notes_mine ON app.notes AS RESTRICTIVE FOR UPDATE TO PUBLIC
    USING (id > 0) WITH CHECK (body <> '');
"""


def run(dsn: str, statements: list[Statement]) -> None:
    """The statements as a data job runs them: one transaction, optional ones in a savepoint
    (none may fail here)."""
    with psycopg.connect(dsn, connect_timeout=10) as conn, conn.transaction():
        failed = execute_script(conn, statements)
    assert not failed, failed


def test_round_trip(postgres_any: PgServer) -> None:
    with (
        fresh_database(postgres_any.dsn, prefix="repro_ddl_x") as x,
        fresh_database(postgres_any.dsn, prefix="repro_ddl_y") as y,
    ):
        with psycopg.connect(x, autocommit=True, connect_timeout=10) as conn:
            conn.execute(SCHEMA_SQL.encode())
            conn.execute(EXTRA_SQL.encode())
            conn.execute(CODE_SQL.encode())
            if postgres_any.major >= 14:  # an SQL-standard body, resolved when made
                conn.execute(
                    "CREATE FUNCTION app.note_count() RETURNS bigint LANGUAGE sql "
                    "BEGIN ATOMIC SELECT count(*) FROM app.notes; END"
                )
        original = capture(x, options={"statistics": False})
        assert original.status == "ok", original.problems
        script: SchemaScript = schema_script(original.data)
        run(y, script.before_load + script.after_load)
        recreated = capture(y, options={"statistics": False})
    assert recreated.status == "ok", recreated.problems

    # Everything comes back: functions, procedures, aggregates, triggers (disabled ones
    # disabled), policies, and the views, defaults, checks and indexes that call them.
    problems = differences(schema_part(original.data), schema_part(recreated.data))
    assert not problems, "\n".join(problems)
    functions = original.data["functions"]
    assert functions["app.sum_sq(numeric)"]["definition"].startswith(
        'CREATE AGGREGATE "app"."sum_sq"(numeric)'
    )
    assert "it's fine" in functions["app.add_tax(amount numeric)"]["definition"]
    assert script.skipped == [
        "roles, grants and owners: not applied (objects belong to the user running the script)"
    ]
    # Triggers and policies come last, after the load: generated rows never fire them.
    after = [s.kind for s in script.after_load]
    assert "trigger" not in [s.kind for s in script.before_load]
    first = min(after.index("trigger"), after.index("policy"))
    assert set(after[first:]) == {"trigger", "policy"}
    kinds = {s.kind for s in script.before_load + script.after_load}
    assert kinds >= {
        "extension",
        "schema",
        "enum",
        "domain",
        "type",
        "sequence",
        "table",
        "view",
        "primary_key",
        "unique",
        "check",
        "exclusion",
        "foreign_key",
        "index",
        "sequence_owner",
        "materialized_view",
        "comment",
    }
