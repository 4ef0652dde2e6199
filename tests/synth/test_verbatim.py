"""Migration bookkeeping tables: captured verbatim by the database facet, loaded as they are by
``repro data generate`` (and so by a replay's sandbox), on real PostgreSQL 13, 15 and 17.

alembic's one-row table is never analysed (rows_estimate null): its row must be captured and
loaded anyway, or an app whose start runs ``alembic upgrade head`` meets a generated
``version_num`` and stops ("Can't locate revision"). The other tools' tables carry NULLs,
timestamps, booleans, serial keys and awkward text (tabs, newlines, backslashes), which must
come back byte for byte; a serial key continues past the copied rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from repro.redaction import RedactionKey, Redactor
from repro.snapshot.db import migrations
from repro.snapshot.file import FacetResult, Snapshot
from repro.synth.generate import LoadOptions, generate
from repro.synth.plan import Options
from tests.helpers.capture import capture
from tests.helpers.pg import PgServer, fresh_database

SCHEMA_SQL = r"""
CREATE TABLE public.alembic_version (
    version_num varchar(32) NOT NULL CONSTRAINT alembic_version_pkc PRIMARY KEY
);
INSERT INTO public.alembic_version VALUES ('5d08b6a4c7e3');
CREATE TABLE public.django_migrations (
    id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
    applied timestamptz NOT NULL
);
INSERT INTO public.django_migrations (app, name, applied) VALUES
    ('contenttypes', '0001_initial', '2025-01-02 03:04:05.123456+00'),
    ('auth', '0012_alter_user_first_name_max_length', '2025-01-02 03:04:06+00'),
    ('shop', '0042_orders_note', '2026-06-30 23:59:59.999999+00');
CREATE TABLE public.flyway_schema_history (
    installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
    installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
    execution_time integer NOT NULL, success boolean NOT NULL
);
INSERT INTO public.flyway_schema_history VALUES
    (1, '1', E'init\tschema', 'SQL', 'V1__init.sql', -1187364623, 'app', '2025-01-01', 12, true),
    (2, NULL, E'repeatable\nview \\ with backslash', 'SQL', 'R__views.sql', NULL, 'app',
     '2025-02-01', 3, false);
CREATE TABLE public.knex_migrations (
    id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz
);
INSERT INTO public.knex_migrations (name, batch, migration_time) VALUES
    ('20250101_init.js', 1, '2025-01-01 00:00:00+00'), ('20250201_more.js', 2, NULL);
-- held empty, as a source loaded from structure.sql holds them
CREATE TABLE public.ar_internal_metadata (
    key varchar NOT NULL PRIMARY KEY, value varchar,
    created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL
);
CREATE TABLE public.knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
CREATE TABLE public.schema_info (version integer NOT NULL);
INSERT INTO public.schema_info VALUES (7);
CREATE TABLE public.orders (id serial PRIMARY KEY, note text);
INSERT INTO public.orders (note) SELECT 'order ' || g FROM generate_series(1, 50) g;
ANALYZE public.orders;
"""
TABLES = (
    "public.alembic_version",
    "public.django_migrations",
    "public.flyway_schema_history",
    "public.knex_migrations",
)

EMPTY = ("public.ar_internal_metadata", "public.knex_migrations_lock")


def _redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"verbatim-test-key", "test"))


def _rows(dsn: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


@pytest.fixture(scope="module", params=[13, 15, 17], ids=["pg13", "pg15", "pg17"])
def source(request: pytest.FixtureRequest, pg_container: Any) -> Iterator[tuple[PgServer, str]]:
    server: PgServer = request.getfixturevalue(f"postgres_{request.param}")
    with fresh_database(server.dsn, prefix="migr_src") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA_SQL.encode())
        yield server, dsn


def _snapshot(dsn: str, **options: Any) -> Snapshot:
    facet = capture(dsn, schemas=["public"], options=options)
    return Snapshot("app", "2026-12-01T00:00:00Z", {}, {}, {"database": facet}, source="app")


def test_known_and_named_tables_are_captured_whatever_the_statistics(
    source: tuple[PgServer, str],
) -> None:
    _server, dsn = source
    facet = capture(dsn, schemas=["public"], options={"migration_tables": ["schema_info"]})
    assert facet.status == "ok", facet.problems
    data = facet.data
    assert data["tables"]["public.alembic_version"]["rows_estimate"] in (None, 0, -1)
    captured = data["migration_tables"]
    assert sorted(captured) == sorted(
        [*TABLES, *EMPTY, "public.schema_info"]
    )
    assert captured["public.alembic_version"] == {
        "tool": "alembic",
        "columns": ["version_num"],
        "rows": [["5d08b6a4c7e3"]],
        "truncated": False,
    }
    assert captured["public.schema_info"]["tool"] == "profile"
    flyway = captured["public.flyway_schema_history"]["rows"]
    assert flyway[1][1] is None and flyway[1][2] == "repeatable\nview \\ with backslash"
    assert "public.orders" not in captured  # an ordinary table: never its rows


def test_generate_loads_them_as_they_are(source: tuple[PgServer, str]) -> None:
    server, dsn = source
    snapshot = _snapshot(dsn)
    with fresh_database(server.dsn, prefix="migr_dst") as target:
        report = generate(
            snapshot, target, Options(seed=3), LoadOptions(create_schema=True), _redactor()
        )
        for table in TABLES:
            assert _rows(target, table) == _rows(dsn, table), table
        loads = {t.key: t for t in report.tables}
        assert loads["public.alembic_version"].rows == 1
        assert "1 row copied verbatim from the snapshot (alembic history)" in " ".join(
            loads["public.alembic_version"].notes
        )
        assert loads["public.orders"].rows == 50  # generated as usual
        with psycopg.connect(target) as conn:
            # serial keys continue past the copied rows
            assert conn.execute(
                "INSERT INTO public.knex_migrations (name) VALUES ('x') RETURNING id"
            ).fetchone() == (3,)


def test_held_empty_a_lock_stays_empty_and_a_key_value_store_is_generated(
    source: tuple[PgServer, str],
) -> None:
    # A made-up lock row would hold knex's lock forever; Rails' ar_internal_metadata is a
    # key/value store no made-up key disturbs, so it is filled like the source's other tables.
    server, dsn = source
    snapshot = _snapshot(dsn)
    with fresh_database(server.dsn, prefix="migr_empty") as target:
        report = generate(snapshot, target, Options(seed=3, default_rows=40),
                          LoadOptions(create_schema=True), _redactor())  # fmt: skip
        loads = {t.key: t for t in report.tables}
        assert loads["public.knex_migrations_lock"].rows == 0
        assert "0 rows copied verbatim" in " ".join(loads["public.knex_migrations_lock"].notes)
        assert loads["public.ar_internal_metadata"].rows == 40
        assert len(_rows(target, "public.ar_internal_metadata")) == 40
        for table in TABLES:
            assert _rows(target, table) == _rows(dsn, table), table


def test_too_large_is_not_captured_and_generated_instead(
    source: tuple[PgServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, dsn = source
    monkeypatch.setattr(migrations, "MAX_ROWS", 2)
    facet = capture(dsn, schemas=["public"])
    assert facet.status == "partial"
    assert any("public.django_migrations: more than 2 rows" in p for p in facet.problems)
    entry = facet.data["migration_tables"]["public.django_migrations"]
    assert entry["rows"] is None and entry["truncated"] is True
    snapshot = Snapshot("app", "2026-12-01T00:00:00Z", {}, {}, {"database": facet}, source="app")
    with fresh_database(server.dsn, prefix="migr_dst") as target:
        report = generate(snapshot, target, Options(), LoadOptions(create_schema=True), _redactor())
        skipped = " ".join(report.skipped)
        assert "public.django_migrations: its rows were not captured" in skipped
        assert _rows(target, "public.alembic_version") == [("5d08b6a4c7e3",)]


def test_a_value_judged_secret_is_never_loaded(source: tuple[PgServer, str]) -> None:
    server, dsn = source
    facet = capture(dsn, schemas=["public"])
    data = dict(facet.data)
    tables = dict(data["migration_tables"])
    tables["public.knex_migrations"] = {
        **tables["public.knex_migrations"],
        "rows": [["1", {"redacted": True, "fingerprint": "hmac-sha256:k:00"}, "1", None]],
    }
    data["migration_tables"] = tables
    snapshot = Snapshot(
        "app", "2026-12-01T00:00:00Z", {}, {}, {"database": FacetResult("ok", data)}, source="x"
    )
    with fresh_database(server.dsn, prefix="migr_dst") as target:
        report = generate(snapshot, target, Options(), LoadOptions(create_schema=True), _redactor())
        assert any("judged secret" in s for s in report.skipped)
