"""PostgreSQL servers for tests: Docker containers per major version, and temp databases."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.helpers.dockerutil import require_docker, require_image
from tests.helpers.settings import session_labels

PG_MAJORS = (13, 15, 17)
IMAGE_TEMPLATE = "repro/postgres:{major}"

# Credentials of the test containers; plain ASCII so DSNs need no quoting.
PG_USER = "repro"
PG_PASSWORD = "repro-test-pw"
PG_DB = "repro"


def with_dbname(dsn: str, dbname: str) -> str:
    """The same postgresql:// URL pointing at another database (query string kept)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))


@dataclass
class PgServer:
    """A running PostgreSQL server reachable on 127.0.0.1.

    ``container`` is the docker SDK Container (None for a server without Docker).
    """

    dsn: str
    major: int
    host: str
    port: int
    user: str
    password: str
    dbname: str
    container: Any = None
    _owner: Any = field(default=None, repr=False)  # testcontainers object, for stop()

    def dsn_for(self, dbname: str) -> str:
        return with_dbname(self.dsn, dbname)

    def connect(self, dbname: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        dsn = self.dsn if dbname is None else self.dsn_for(dbname)
        return psycopg.connect(dsn, connect_timeout=10, **kwargs)

    def stop(self) -> None:
        import docker

        owner, self._owner = self._owner, None
        if owner is not None:
            with contextlib.suppress(docker.errors.NotFound):  # removed already: fine
                owner.stop()


def start_pg_container(
    major: int,
    *,
    settings: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> PgServer:
    """Start ``repro/postgres:MAJOR`` with testcontainers' PostgresContainer, unchanged.

    ``settings`` become ``-c name=value`` arguments to postgres (the image passes arguments
    through like the official one). Skips, or fails under REPRO_REQUIRE_DOCKER=1, when Docker
    or the image is missing. The caller stops the server (or the session sweep does).
    """
    require_docker()
    import docker
    from testcontainers.community.postgres import PostgresContainer

    image = IMAGE_TEMPLATE.format(major=major)
    client = docker.from_env(timeout=60)
    try:
        require_image(client, image)
    finally:
        client.close()

    pg = PostgresContainer(image, username=PG_USER, password=PG_PASSWORD, dbname=PG_DB, driver=None)
    pg.with_kwargs(labels={**session_labels(), **(labels or {}), "repro.pg-major": str(major)})
    for key, value in (env or {}).items():
        pg.with_env(key, value)
    if settings:
        command: list[str] = []
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        pg.with_command(command)
    try:
        pg.start()
    except BaseException:
        logs = ""
        if pg._container is not None:
            logs = pg._container.logs().decode(errors="replace")[-4000:]
        pg.stop()
        raise RuntimeError(f"{image} did not start; container log tail:\n{logs}") from None
    host = pg.get_container_host_ip()
    port = int(pg.get_exposed_port(5432))
    return PgServer(
        dsn=pg.get_connection_url(driver=None),
        major=major,
        host=host,
        port=port,
        user=PG_USER,
        password=PG_PASSWORD,
        dbname=PG_DB,
        container=pg.get_wrapped_container(),
        _owner=pg,
    )


class PgContainers:
    """Session-wide pool: one container per (major, settings), started on first request."""

    def __init__(self) -> None:
        self._servers: dict[tuple[int, tuple[tuple[str, str], ...]], PgServer] = {}

    def __call__(self, major: int, *, settings: Mapping[str, str] | None = None) -> PgServer:
        key = (major, tuple(sorted((settings or {}).items())))
        if key not in self._servers:
            self._servers[key] = start_pg_container(major, settings=settings)
        return self._servers[key]

    def close(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()


@contextmanager
def fresh_database(
    dsn: str, *, prefix: str = "repro_test", template: str | None = None
) -> Iterator[str]:
    """Create an empty, uniquely named database on the server of ``dsn``; yield its DSN.

    ``dsn`` must be allowed to CREATE DATABASE (the fixtures' users are superusers). The
    database is dropped on exit, with FORCE so leftover connections do not block it.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(create)
    try:
        yield with_dbname(dsn, name)
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
