"""Fixtures giving tests real resources: PostgreSQL 13/15/17 in Docker, a local PostgreSQL,
an sshd, a Docker client. Mock only what cannot run here, and say so where you do (README,
"Development").

Missing resources skip the tests that need them, except under REPRO_REQUIRE_DOCKER=1 (CI),
where they fail: CI provisions everything, so a skip there would hide a broken setup.

Fixtures:
  docker_client   session  docker.DockerClient
  pg_container    session  factory: pg_container(major, settings={...}) -> PgServer
  postgres_13/15/17        session  PgServer for that major version (Docker)
  postgres_any    session  PgServer, parametrized over 13, 15, 17 (ids pg13, pg15, pg17)
  local_postgres  session  PgServer from the machine's PostgreSQL binaries (no Docker)
  sshd_server     session  SshServer: root login by key on 127.0.0.1
Helpers live once in tests/helpers/ (a test module is never imported by another):
  pg.fresh_database(dsn)       a temporary empty database
  cli.run_repro(*args)         `python -m repro` in a subprocess, from the repo root
  schema, capture              a rich schema SQL; facets run as `repro snapshot` runs them
  builders                     literal snapshots and diffs
  containers, target_contract  throw-away containers; what every target must do
  sentry                       a failing app reporting with the real sentry-sdk
Tests using a Docker fixture are marked `docker` automatically.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Importing tests.helpers sets the testcontainers environment defaults; it must happen before
# anything imports testcontainers, which reads them once at import.
from tests.helpers import apply_testcontainers_defaults, skip_or_fail
from tests.helpers.dockerutil import docker_available, docker_problem, sweep_test_leftovers
from tests.helpers.dockerutil import docker_client as _docker_client
from tests.helpers.local_pg import find_pg_bindir, local_postgres_server
from tests.helpers.pg import PG_MAJORS, PgContainers, PgServer
from tests.helpers.sshd import SshServer
from tests.helpers.sshd import sshd_server as _sshd_server

apply_testcontainers_defaults()

DOCKER_FIXTURES = frozenset(
    {"docker_client", "pg_container", "postgres_13", "postgres_15", "postgres_17", "postgres_any"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Lets `-m "not docker"` deselect every test that needs the engine, marked or not.
    for item in items:
        if DOCKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is not None:
        problem = docker_problem()
        if problem is not None:
            skip_or_fail(problem)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Ryuk is off, so nothing else removes what tests (or product code under test) started.
    # Session fixtures are torn down already; sweep whatever escaped them, plus leftovers of
    # dead sessions, but not the containers of a pytest running alongside.
    if not docker_available():
        return
    import docker

    client = docker.from_env(timeout=60)
    try:
        sweep_test_leftovers(client)
    finally:
        client.close()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    client = _docker_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def pg_container() -> Iterator[PgContainers]:
    """Factory: ``pg_container(15)`` or ``pg_container(15, settings={"work_mem": "8MB"})``.

    One container per (major, settings) for the whole session, started on first use.
    Tests share the server: use ``fresh_database`` for isolation.
    """
    pool = PgContainers()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def postgres_13(pg_container: PgContainers) -> PgServer:
    return pg_container(13)


@pytest.fixture(scope="session")
def postgres_15(pg_container: PgContainers) -> PgServer:
    return pg_container(15)


@pytest.fixture(scope="session")
def postgres_17(pg_container: PgContainers) -> PgServer:
    return pg_container(17)


@pytest.fixture(scope="session", params=PG_MAJORS, ids=[f"pg{m}" for m in PG_MAJORS])
def postgres_any(request: pytest.FixtureRequest, pg_container: PgContainers) -> PgServer:
    major: int = request.param
    return pg_container(major)


@pytest.fixture(scope="session")
def local_postgres() -> Iterator[PgServer]:
    """PostgreSQL from the machine's binaries (15 here), on 127.0.0.1, password auth."""
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    with local_postgres_server(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def sshd_server() -> Iterator[SshServer]:
    with _sshd_server() as server:
        yield server
