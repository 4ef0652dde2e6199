"""The second demo app, the ledger (fixtures/demo_ledger, issue 16): an app of another shape
than the shop, on real containers.

- Its start command runs `alembic upgrade head` before gunicorn: on an empty database the
  migrations make the schema; a database whose ``alembic_version`` names a revision the release
  does not know (what a sandbox with generated rows in that table gives) stops the start.
- Its database settings come from separate variables (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD,
  DB_NAME), not a DSN.
- No Sentry SDK: the evidence of a failure is its log (Flask's traceback, gunicorn's access
  line).
- Its production-only bug: the daily revenue report assumes the database's TimeZone is UTC.
  Production's database runs with Europe/Berlin, so the report's day buckets come back at
  Berlin midnight and the lookup in the UTC-keyed table fails with KeyError; staging's (UTC)
  answers 200 with the same kind of data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from repro.replay.tracebacks import parse_tracebacks
from tests.helpers.demo_env import App, Net, start_net, stdout_of, wait_db
from tests.helpers.demo_ledger import (
    HEAD,
    IMAGE,
    PROD,
    STAGING,
    LedgerEnv,
    create_database,
    ledger_app,
    pg_settings,
    seed,
)
from tests.helpers.dockerutil import remove_labelled, require_image
from tests.helpers.settings import session_labels
from tests.helpers.wait import wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPORT = "/reports/revenue/daily?from=2025-03-01&to=2025-03-31"
# gunicorn's default access-log format is nginx/Apache "combined".
ACCESS_LINE = re.compile(r'^\S+ - - \[[^\]]+\] "GET /reports/revenue/daily\?\S+ HTTP/1\.[01]" 500 ')


@dataclass
class Running:
    net: Net
    env: LedgerEnv
    password: str
    app: App


@pytest.fixture(scope="module")
def ledgers(docker_client: Any) -> Iterator[dict[str, Running]]:
    for image in (IMAGE, "repro/postgres:15"):
        require_image(docker_client, image)
    labels = {**session_labels(), "repro.test.module": "demo-ledger"}
    try:
        nets = {
            env.name: start_net(
                docker_client,
                labels,
                f"ledger-{env.name}",
                pg_major=15,
                pg_settings=pg_settings(env),
            )
            for env in (PROD, STAGING)
        }
        result: dict[str, Running] = {}
        for env in (PROD, STAGING):
            net = wait_db(nets[env.name])
            password = create_database(net)
            app = ledger_app(net, password, name="app").start()  # migrates the empty database
            seed(net, env)
            result[env.name] = Running(net, env, password, app)
        yield result
    finally:
        remove_labelled(docker_client, labels)


def test_migrations_run_at_start(ledgers: dict[str, Running]) -> None:
    for running in ledgers.values():
        health = running.app.request("GET", "/health").json()
        assert health["database"]["revision"] == HEAD
        log = running.app.stderr()
        assert "Running upgrade  -> 1a7c3e9f0b21, clients and invoices" in log
        assert f"Running upgrade 5d08b6a4c7e3 -> {HEAD}" in log


def test_wired_by_separate_variables(ledgers: dict[str, Running]) -> None:
    prod = ledgers["prod"]
    env = prod.app.container.attrs["Config"]["Env"]
    names = {entry.split("=", 1)[0] for entry in env}
    assert {"DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME"} <= names
    assert "DATABASE_URL" not in names
    broken = ledger_app(prod.net, prod.password, name="no-password", DB_PASSWORD="")
    broken.container.start()
    state = broken.wait_exit()
    assert state["ExitCode"] != 0
    assert "database settings missing: DB_PASSWORD" in broken.stderr()
    broken.remove()


def test_report_fails_in_prod_with_its_traceback(ledgers: dict[str, Running]) -> None:
    app = ledgers["prod"].app
    reply = app.request("GET", REPORT)
    assert reply.status == 500, reply
    chains = parse_tracebacks(app.stderr())
    assert chains, app.stderr()[-2000:]
    main = chains[-1][-1]
    assert main.type == "KeyError"
    assert (
        main.value is not None
        and "tzinfo=datetime.timezone(datetime.timedelta(seconds=3600))" in main.value
    )
    in_app = [
        (f.function, f.context_line)
        for f in main.frames
        if f.filename and f.filename.startswith("/srv/ledger/ledger/")
    ]
    assert ("daily_revenue", "entry = days[bucket]") in in_app
    # Evidence without an SDK: the access line that a log import reads.
    # gunicorn writes the access line once the response is sent: poll for it.
    wait_until(
        lambda: any(ACCESS_LINE.match(line) for line in stdout_of(app.container).splitlines()),
        timeout=10,
        what="gunicorn's access line",
    )


def test_report_works_in_staging(ledgers: dict[str, Running]) -> None:
    app = ledgers["staging"].app
    reply = app.request("GET", REPORT)
    assert reply.status == 200, reply
    body = reply.json()
    assert len(body["days"]) == 31 and body["total_cents"] > 0
    assert "Traceback" not in app.stderr()


def test_a_foreign_migration_version_stops_the_start(ledgers: dict[str, Running]) -> None:
    """What issue 16 saw in the sandbox: generated rows in alembic_version."""
    prod = ledgers["prod"]
    prod.net.psql(
        "CREATE DATABASE ledger_foreign OWNER app;\n"
        "\\connect ledger_foreign\n"
        "SET ROLE app;\n"
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\n"
        "INSERT INTO alembic_version VALUES ('reach leg');\n"
    )
    app = ledger_app(prod.net, prod.password, name="foreign-version", DB_NAME="ledger_foreign")
    app.container.start()
    state = app.wait_exit()
    assert state["ExitCode"] != 0
    assert "Can't locate revision identified by 'reach leg'" in app.stderr()
    app.remove()
