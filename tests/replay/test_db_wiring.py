"""How the sandboxed app finds the sandbox database (repro.replay.db_wiring): the profile's
DSN variable or map of parts, else what production's environment in the snapshot shows — on
the demo snapshots (a DSN in DATABASE_URL for the shop and the Node.js service; DB_HOST,
DB_PORT, DB_USER, DB_PASSWORD, DB_NAME for the ledger) and on the conventions of other
platforms (Azure's AZURE_POSTGRESQL_*, libpq's PG*, Django/Laravel style, JDBC). No Docker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repro.errors import ProfileError
from repro.profile.sandbox import SandboxDatabaseSpec, parse_sandbox
from repro.replay.db_wiring import Login, app_role, wiring_env, wiring_for
from repro.snapshot.file import FacetResult, Snapshot
from repro.snapshot.store import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "fixtures" / "snapshots"
LOGIN = Login("db", 5432, "app", "s3cr/t pw", "ledger")
SECRET = {"redacted": True, "fingerprint": "hmac-sha256:k:0"}


def env_snapshot(variables: dict[str, Any], roles: dict[str, Any] | None = None) -> Snapshot:
    facets = {"env": FacetResult("ok", {"vars": variables})}
    if roles is not None:
        facets["database"] = FacetResult("ok", {"roles": roles})
    return Snapshot("x", "2026-12-01T00:00:00Z", {}, {}, facets)


def test_the_ledger_is_inferred_from_its_separate_variables() -> None:
    snapshot = load_snapshot(SNAPSHOTS / "ledger-prod.json")
    wiring = wiring_for(snapshot, SandboxDatabaseSpec())
    assert wiring.dsn_env is None
    assert wiring.parts == {
        "host": "DB_HOST",
        "name": "DB_NAME",
        "password": "DB_PASSWORD",
        "port": "DB_PORT",
        "user": "DB_USER",
    }
    assert wiring.user == "app" and wiring.origin == "inferred from production's environment"
    assert wiring_env(wiring, LOGIN) == {
        "DB_HOST": "db",
        "DB_PORT": "5432",
        "DB_USER": "app",
        "DB_PASSWORD": "s3cr/t pw",
        "DB_NAME": "ledger",
    }
    database = snapshot.facets["database"].data
    assert app_role(database, None, wiring) == "app"  # in the snapshot's roles: created


@pytest.mark.parametrize("name", ["prod.json", "accounts-prod.json"])
def test_a_masked_dsn_variable_is_found_with_its_user(name: str) -> None:
    wiring = wiring_for(load_snapshot(SNAPSHOTS / name), SandboxDatabaseSpec())
    assert (wiring.dsn_env, wiring.parts, wiring.user) == ("DATABASE_URL", {}, "app")
    env = wiring_env(wiring, LOGIN)
    # the password is URL-quoted: any random password makes a valid DSN
    assert env == {"DATABASE_URL": "postgresql://app:s3cr%2Ft%20pw@db:5432/ledger"}


@pytest.mark.parametrize(
    ("variables", "dsn_env", "parts", "user"),
    [
        pytest.param(
            {
                "AZURE_POSTGRESQL_HOST": "x.postgres.database.azure.com",
                "AZURE_POSTGRESQL_USER": "webapp",
                "AZURE_POSTGRESQL_PASSWORD": SECRET,
                "AZURE_POSTGRESQL_NAME": "restaurants",
                "REDIS_HOST": "cache",
                "REDIS_PASSWORD": SECRET,
            },
            None,
            {"host": "AZURE_POSTGRESQL_HOST", "user": "AZURE_POSTGRESQL_USER",
             "password": "AZURE_POSTGRESQL_PASSWORD", "name": "AZURE_POSTGRESQL_NAME"},
            "webapp",
            id="azure",
        ),
        pytest.param(
            {"PGHOST": "db", "PGUSER": "svc", "PGPASSWORD": SECRET, "PGDATABASE": "svc",
             "PGSSLMODE": "require"},
            None,
            {"host": "PGHOST", "user": "PGUSER", "password": "PGPASSWORD", "name": "PGDATABASE",
             "sslmode": "PGSSLMODE"},
            "svc",
            id="libpq",
        ),
        pytest.param(
            {"POSTGRES_HOST": "db", "POSTGRES_DB": "app", "POSTGRES_USER": "u",
             "POSTGRES_PASSWORD": SECRET, "MYSQL_HOST": "legacy", "MYSQL_DATABASE": "old"},
            None,
            {"host": "POSTGRES_HOST", "name": "POSTGRES_DB", "user": "POSTGRES_USER",
             "password": "POSTGRES_PASSWORD"},
            "u",
            id="postgres-image-names-and-mysql-left-alone",
        ),
        pytest.param(
            {"SPRING_DATASOURCE_URL": "jdbc:postgresql://db:5432/orders?user=orders_app",
             "SPRING_DATASOURCE_PASSWORD": SECRET},
            "SPRING_DATASOURCE_URL",
            {},
            "orders_app",
            id="jdbc",
        ),
        pytest.param(
            {"DATABASE_URL": SECRET, "DB_POOL_SIZE": "5"},
            "DATABASE_URL",
            {},
            None,
            id="fingerprinted-dsn-by-name",
        ),
        pytest.param(
            {"LEGACY_DSN": "host=db dbname=shop user=shop_ro"},
            "LEGACY_DSN",
            {},
            "shop_ro",
            id="keyword-dsn",
        ),
    ],
)  # fmt: skip
def test_other_platforms_conventions(
    variables: dict[str, Any], dsn_env: str | None, parts: dict[str, str], user: str | None
) -> None:
    wiring = wiring_for(env_snapshot(variables), SandboxDatabaseSpec())
    assert (wiring.dsn_env, wiring.parts, wiring.user) == (dsn_env, parts, user)
    env = wiring_env(wiring, LOGIN)
    if "sslmode" in parts:
        assert env[parts["sslmode"]] == "disable"  # the sandbox's PostgreSQL has no TLS
    if dsn_env == "SPRING_DATASOURCE_URL":
        assert env[dsn_env] == "jdbc:postgresql://db:5432/ledger?user=app&password=s3cr%2Ft%20pw"


def test_production_scheme_is_kept() -> None:
    wiring = wiring_for(
        env_snapshot({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://app@db/shop"}),
        SandboxDatabaseSpec(),
    )
    assert wiring.dsn_env == "SQLALCHEMY_DATABASE_URI"
    assert wiring_env(wiring, LOGIN)[wiring.dsn_env].startswith("postgresql+psycopg2://app:")


def test_nothing_found_falls_back_to_database_url_and_says_so() -> None:
    wiring = wiring_for(env_snapshot({"PATH": "/usr/bin"}), SandboxDatabaseSpec())
    assert wiring.dsn_env == "DATABASE_URL" and wiring.origin == "default"
    assert "no database variable found in production's environment" in wiring.notes[0]


def test_the_profile_wins_dsn_or_parts() -> None:
    snapshot = load_snapshot(SNAPSHOTS / "ledger-prod.json")
    spec = parse_sandbox(
        "p.yaml", {"database": {"env": {"host": "DB_HOST", "password": "DB_PASSWORD"}}}
    ).database
    wiring = wiring_for(snapshot, spec)
    assert wiring.parts == {"host": "DB_HOST", "password": "DB_PASSWORD"}
    assert wiring.origin == "profile sandbox.database.env"
    spec = parse_sandbox("p.yaml", {"database": {"env": "APP_DSN"}}).database
    assert wiring_for(snapshot, spec).variables == ["APP_DSN"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"env": {"hostname": "DB_HOST"}}, "sandbox.database.env.hostname: unknown key"),
        ({"env": {"port": "DB_PORT"}}, "needs at least host or name"),
        ({"env": {"host": "DB HOST"}}, "is not an environment variable name"),
        ({"env": "1BAD"}, "is not an environment variable name"),
    ],
)
def test_profile_mistakes_are_one_line(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_sandbox("p.yaml", {"database": raw})


def test_the_app_role_is_never_a_superuser_nor_a_stranger() -> None:
    wiring = wiring_for(
        env_snapshot({"DB_HOST": "db", "DB_USER": "postgres"}), SandboxDatabaseSpec()
    )
    assert (
        app_role({"roles": {"postgres": {"exists": True, "superuser": True}}}, None, wiring) is None
    )
    assert app_role({"roles": {}}, None, wiring) is None
    assert app_role({"roles": {}}, "app", wiring) == "app"  # the profile's word is final


def test_libpq_sslmode_is_turned_off_whatever_carries_the_dsn() -> None:
    snapshot = env_snapshot({"DATABASE_URL": "postgresql://app@db/shop", "PGSSLMODE": "require"})
    wiring = wiring_for(snapshot, SandboxDatabaseSpec())
    assert wiring.dsn_env == "DATABASE_URL" and wiring.parts == {"sslmode": "PGSSLMODE"}
    assert wiring_env(wiring, LOGIN)["PGSSLMODE"] == "disable"
