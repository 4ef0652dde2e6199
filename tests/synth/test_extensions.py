"""Snapshots that use widely packaged extensions regenerate on the repro/postgres images
(PostGIS and pg_partman on 13, 15, 17; pgvector on 17), values of their types included; an
extension the target cannot install is named with what needs it, before anything is made."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from repro.errors import DataGenerationError
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.file import FacetResult, Snapshot
from repro.synth.generate import LoadOptions, Report, generate
from repro.synth.plan import Options
from tests.helpers.capture import capture
from tests.helpers.pg import PgServer, fresh_database

GIS_SQL = """
CREATE EXTENSION postgis;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE places (
    id serial PRIMARY KEY,
    name text NOT NULL,
    spot geometry(Point, 4326) NOT NULL,
    area geometry(MultiPolygon, 4326),
    height geometry(PointZ, 3857),
    seen geography(Point)
);
CREATE INDEX places_spot ON places USING gist (spot);
CREATE TABLE routes (id serial PRIMARY KEY, place_id integer REFERENCES places, path geometry);
"""
VECTOR_SQL = """
CREATE EXTENSION vector;
CREATE TABLE docs (id serial PRIMARY KEY, embedding vector(8) NOT NULL);
CREATE INDEX docs_embedding ON docs USING ivfflat (embedding vector_l2_ops) WITH (lists = 4);
"""


def run(snapshot: Snapshot, dsn: str) -> Report:
    return generate(
        snapshot,
        dsn,
        Options(seed=5, default_rows=60),
        LoadOptions(create_schema=True),
        Redactor(RedactionKey.from_bytes(b"ext-key", "test")),
    )


def snapshot_of(dsn: str, sql: str) -> Snapshot:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)
    result = capture(dsn, options={"statistics": False})
    assert result.status == "ok", result.problems
    return Snapshot("ext", "2026-01-01T00:00:00Z", {}, {}, {"database": result})


def test_postgis_and_pg_partman(postgres_any: PgServer) -> None:
    with (
        fresh_database(postgres_any.dsn, prefix="gis_src") as source,
        fresh_database(postgres_any.dsn, prefix="gis_gen") as target,
    ):
        snapshot = snapshot_of(source, GIS_SQL)
        types = snapshot.facets["database"].data["extensions"]["postgis"]["types"]
        assert "geometry" in types and "geography" in types
        run(snapshot, target)
        with psycopg.connect(target) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT spot), bool_and(ST_IsValid(spot)), "
                "bool_and(ST_SRID(spot) = 4326), bool_and(ST_Z(height) IS NOT NULL), "
                "min(GeometryType(area)) FROM places"
            ).fetchone()
            # no statistics: half as many distinct values as rows, as for any column
            assert row == (60, 30, True, True, True, "MULTIPOLYGON")
            assert conn.execute("SELECT count(*) > 0 FROM routes").fetchone() == (True,)
            assert conn.execute(
                "SELECT extname FROM pg_extension WHERE extname IN ('postgis', 'pg_partman') "
                "ORDER BY 1"
            ).fetchall() == [("pg_partman",), ("postgis",)]


def test_pgvector(postgres_17: PgServer) -> None:
    with (
        fresh_database(postgres_17.dsn, prefix="vec_src") as source,
        fresh_database(postgres_17.dsn, prefix="vec_gen") as target,
    ):
        run(snapshot_of(source, VECTOR_SQL), target)
        with psycopg.connect(target) as conn:
            row = conn.execute(
                "SELECT count(*), count(DISTINCT embedding), min(vector_dims(embedding)) FROM docs"
            ).fetchone()
        assert row == (60, 30, 8)


def test_an_extension_the_target_lacks(postgres_15: PgServer) -> None:
    """No install script on the target: named with the columns that need it, before
    anything is made; when nothing needs it, the rest is made and the report says so."""
    with fresh_database(postgres_15.dsn, prefix="noext_src") as source:
        snapshot = snapshot_of(source, "CREATE TABLE t (id serial PRIMARY KEY, label text);")
    data: dict[str, Any] = dict(snapshot.facets["database"].data)
    data["extensions"] = {
        **data["extensions"],
        "gadgets": {"version": "1.0", "schema": "public", "types": ["gadget"]},
    }
    unused = Snapshot("x", "t", {}, {}, {"database": FacetResult(status="ok", data=data)})
    with fresh_database(postgres_15.dsn, prefix="noext_gen") as target:
        report = run(unused, target)
    assert (
        "extension gadgets 1.0: cannot be installed on the target server; nothing "
        "recreated needs its types" in report.skipped
    )
    tables = dict(data["tables"])
    table = dict(tables["public.t"])
    table["columns"] = {
        **table["columns"],
        "g": {"position": 3, "type": "public.gadget", "nullable": True},
    }
    tables["public.t"] = table
    needed = Snapshot(
        "x", "t", {}, {}, {"database": FacetResult(status="ok", data={**data, "tables": tables})}
    )
    with (
        fresh_database(postgres_15.dsn, prefix="noext_gen") as target,
        pytest.raises(DataGenerationError) as caught,
    ):
        generate(
            needed,
            target,
            Options(seed=5, default_rows=10, rows={}),
            LoadOptions(create_schema=True),
            Redactor(RedactionKey.from_bytes(b"ext-key", "test")),
        )
    assert "gadget" in caught.value.one_line()
