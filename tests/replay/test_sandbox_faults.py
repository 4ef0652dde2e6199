"""Evidence that the sandbox itself is broken (repro.replay.sandbox_faults), on the messages
real drivers and frameworks print: libpq (psycopg, psycopg2, Ruby's pg), node-postgres, pgjdbc,
alembic, Django, Rails, Flyway, and an import error at start. No Docker needed; the replays
that meet these end to end are in test_replay.py and test_replay_ledger.py."""

from __future__ import annotations

import pytest

from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.sandbox_faults import find_fault, placeholder

VIEW = Frame("shop.views", "index", "rows = db.execute(q)")


def failure(type_: str, value: str) -> Signature:
    return Signature(500, (ExceptionInfo(type_, value, (VIEW,)),))


@pytest.mark.parametrize(
    ("signature", "log", "kind", "reason"),
    [
        pytest.param(
            failure(
                "psycopg.OperationalError",
                'missing "=" after "repro-placeholder-database-url" in connection info string',
            ),
            [],
            "placeholder",
            "the app failed on a placeholder: DATABASE_URL held production's secret",
            id="psycopg-placeholder-dsn",
        ),
        pytest.param(
            failure(
                "sqlalchemy.exc.OperationalError",
                '(psycopg2.OperationalError) connection to server at "db" (172.20.0.2), port '
                '5432 failed: FATAL:  password authentication failed for user "app"',
            ),
            [],
            "database",
            "the app cannot use the sandbox database: password authentication failed for "
            'user "app"',
            id="sqlalchemy-auth",
        ),
        pytest.param(
            None,
            [
                "[2026-12-04T16:22:53.621Z] error: GET /api/users failed: error: password "
                'authentication failed for user "app"',
                "    at Parser.parseErrorMessage (/srv/accounts/node_modules/pg-protocol/dist/"
                "parser.js:283:98)",
            ],
            "database",
            'password authentication failed for user "app"',
            id="node-postgres-auth-in-log",
        ),
        pytest.param(
            failure("Error", "connect ECONNREFUSED 127.0.0.1:5432"),
            [],
            "database",
            "connection to 127.0.0.1:5432 refused",
            id="node-refused",
        ),
        pytest.param(
            failure("Error", "getaddrinfo ENOTFOUND postgres.internal.example"),
            [],
            "database",
            'host "postgres.internal.example" is unknown in the sandbox',
            id="node-host",
        ),
        pytest.param(
            failure(
                "org.postgresql.util.PSQLException",
                "Connection to localhost:5432 refused. Check that the hostname and port are "
                "correct and that the postmaster is accepting TCP/IP connections.",
            ),
            [],
            "database",
            "connection to localhost:5432 refused",
            id="pgjdbc",
        ),
        pytest.param(
            failure(
                "psycopg2.OperationalError",
                'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No '
                "such file or directory",
            ),
            [],
            "database",
            "No such file or directory",
            id="no-host-given-unix-socket",
        ),
        pytest.param(
            failure("PG::ConnectionBad", 'FATAL:  database "ledger" does not exist'),
            [],
            "database",
            'database "ledger" does not exist there',
            id="ruby-pg-database",
        ),
        pytest.param(
            None,
            [
                '  File "/usr/lib/python3/dist-packages/alembic/script/base.py", line 255, in '
                "_catch_revision_errors",
                "alembic.util.exc.CommandError: Can't locate revision identified by 'reach leg'",
            ],
            "migration",
            "alembic cannot locate revision 'reach leg'",
            id="alembic",
        ),
        pytest.param(
            None,
            [
                "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateTable) relation "
                '"clients" already exists',
                "",
                "[SQL: ",
            ],
            "migration",
            'relation "clients" already exists',
            id="migrations-rerun-on-an-existing-schema",
        ),
        pytest.param(
            failure("django.db.migrations.exceptions.InconsistentMigrationHistory", "x"),
            [],
            "migration",
            "the app's migrations failed (Django)",
            id="django",
        ),
        pytest.param(
            failure("ActiveRecord::PendingMigrationError", "Migrations are pending."),
            [],
            "migration",
            "(Rails)",
            id="rails",
        ),
        pytest.param(
            failure("ModuleNotFoundError", "No module named 'shop.reports'"),
            [],
            "import",
            "the app cannot import shop.reports",
            id="python-import",
        ),
        pytest.param(
            None,
            ["Error: Cannot find module 'pg-native'", "Require stack:"],
            "import",
            "pg-native",
            id="node-require",
        ),
    ],
)
def test_faults_are_named(
    signature: Signature | None, log: list[str], kind: str, reason: str
) -> None:
    placeholders = {placeholder("DATABASE_URL"): "DATABASE_URL"}
    fault = find_fault(signature, log, placeholders, production=Signature(500, ()))
    assert fault is not None
    assert fault.kind == kind
    assert reason in fault.reason
    assert "\n" not in fault.reason


def test_the_same_kind_of_fault_in_production_is_left_to_the_comparison() -> None:
    """A bug that *is* a failed import in production (a package missing there) is compared,
    not called a broken sandbox."""
    prod = failure("ModuleNotFoundError", "No module named 'reportlab'")
    sandbox = failure("ModuleNotFoundError", "No module named 'reportlab'")
    assert find_fault(sandbox, [], {}, production=prod) is None
    # ...but a database the sandbox cannot log in to still is the sandbox's
    auth = failure("psycopg.OperationalError", 'password authentication failed for user "app"')
    assert find_fault(auth, [], {}, production=prod) is not None


def test_ordinary_failures_are_no_fault() -> None:
    key_error = failure("KeyError", "datetime.datetime(2025, 3, 1, 0, 0, tzinfo=...)")
    log = ['10.0.0.1 - - [04/Dec/2026:16:22:48 +0000] "GET /reports HTTP/1.1" 500 265']
    assert find_fault(key_error, log, {placeholder("SECRET_KEY"): "SECRET_KEY"}) is None
    # a placeholder the app merely logs at start, in no failure, is not a fault
    assert find_fault(None, ["config: SECRET_KEY=repro-placeholder-secret-key"], {
        placeholder("SECRET_KEY"): "SECRET_KEY"}) is None  # fmt: skip
    # a third party refusing connections (the payments stub) is no database fault
    refused = failure("Error", "connect ECONNREFUSED 172.20.0.5:9000")
    assert find_fault(refused, [], {}) is None


def test_a_runaway_log_is_read_from_its_end() -> None:
    noise = ["x" * 1000] * 2000
    auth = 'password authentication failed for user "app"'
    assert find_fault(None, [*noise, auth], {}) is not None
    assert find_fault(None, [auth, *noise], {}) is None
