"""The sandbox's database: PostgreSQL of production's major version with production's
relevant settings, filled with production-shaped rows by ``repro data generate``.

Started with testcontainers (the image template defaults to ``postgres:{major}``), labelled
``repro.managed=true`` and removed when the ``with`` block ends — normally, on an error or on
Ctrl-C; ``repro sandbox prune`` sweeps up after a killed process.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repro.errors import DockerUnavailableError, ReproError
from repro.pg.code_ddl import policy_statements
from repro.pg.ddl import Statement, qualified
from repro.pg.target_db import connect_target, execute_script
from repro.progress import Progress
from repro.redaction import Redactor
from repro.replay.db_wiring import Login, dsn_for
from repro.replay.prune import MANAGED_LABEL
from repro.replay.sandbox_dump import load_dump
from repro.replay.sandbox_pg_cache import cache_enabled, cached_image, set_password, wait_until
from repro.replay.sandbox_roles import role_statements
from repro.shellsafe import comment_text, valid
from repro.snapshot.file import Snapshot, database_of
from repro.targets.docker import DockerTarget, engine_client, engine_environment

if TYPE_CHECKING:  # the generator (numpy, faker) is imported while the database starts
    from repro.synth.generate import Prepared, Report

# Settings that describe the machine or the cluster's files, not behaviour a bug depends on,
# or that cannot be set at server start.
NOT_APPLIED = frozenset(
    {
        "listen_addresses",
        "port",
        "data_directory",
        "config_file",
        "hba_file",
        "ident_file",
        "external_pid_file",
        "unix_socket_directories",
        "unix_socket_group",
        "unix_socket_permissions",
        "lc_collate",
        "lc_ctype",
        "server_encoding",
        "server_version",
        "server_version_num",
        "shared_preload_libraries",
        "dynamic_shared_memory_type",
        "max_stack_depth",
        "archive_command",
        "archive_mode",
        "restore_command",
        "primary_conninfo",
        "cluster_name",
        "ssl",
        "ssl_cert_file",
        "ssl_key_file",
        "ssl_ca_file",
        "log_directory",
        "log_filename",
        "logging_collector",
        "shared_buffers",
        "huge_pages",
        "wal_level",
        "max_wal_senders",
        "hot_standby",
    }
)
USER, DBNAME = "repro", "sandbox"
# Published for repro's own connections only: never on the engine's default address (0.0.0.0 on
# a stock engine), whatever that is.
PUBLISH_ADDRESS = "127.0.0.1"


def database_url(user: str, password: str, host: str, port: int, dbname: str) -> str:
    """A libpq URL with every part percent-encoded: a captured database name such as
    ``shop?host=elsewhere`` stays a name and cannot add connection parameters."""
    return dsn_for("postgresql", Login(host, port, user, password, dbname))


@dataclass
class SandboxDatabase:
    dsn: str  # from the host
    major: int
    image: str
    container_name: str
    settings: dict[str, str]
    skipped_settings: list[str] = field(default_factory=list)
    data: Report | None = None
    network_dsn: str | None = None  # from containers on ``network`` (host = the alias)
    network_login: Login | None = None  # the same, in parts
    app_role: str | None = None  # production's app role, made with its grants; None: superuser
    dump_rows: dict[str, int] | None = None  # rows per table loaded from a dump file

    @property
    def rows(self) -> dict[str, int]:
        if self.dump_rows is not None:
            return dict(self.dump_rows)
        return {t.key: t.rows for t in self.data.tables} if self.data is not None else {}

    start_seconds: float = 0.0  # container start until PostgreSQL answers
    load_seconds: float = 0.0  # schema and rows


def server_settings(database: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Production's non-default settings that a sandbox can take (``-c name=value``), and
    the names left out with why."""
    applied: dict[str, str] = {}
    skipped: list[str] = []
    for name, entry in sorted((database.get("settings") or {}).items()):
        if not isinstance(entry, Mapping) or entry.get("source") in (None, "default", "override"):
            continue
        value = entry.get("value")
        if not valid("PostgreSQL setting name", name):
            skipped.append(f"{comment_text(repr(name))[:80]} (not a setting name)")
        elif name in NOT_APPLIED or name.startswith(("lc_", "ssl_")):
            skipped.append(f"{name} (machine or cluster setting)")
        elif not isinstance(value, str) or value.startswith("hmac-sha256:"):
            skipped.append(f"{name} (a secret: only its fingerprint was captured)")
        elif "\0" in value or "\n" in value:
            skipped.append(f"{name} (its value holds a NUL or a newline)")
        else:
            applied[name] = value
    return applied, skipped


SMALL_TABLE = 1000  # lookup tables (products, plans, countries) are kept whole


def sandbox_rows(database: Mapping[str, Any], max_rows: int) -> dict[str, int]:
    """Rows per table: small tables whole, large ones scaled down evenly so the total stays
    near ``max_rows``: enough to keep production's shape (NULL shares, skew), fast to load."""
    estimates = {
        key: int(t.get("rows_estimate") or 0)
        for key, t in (database.get("tables") or {}).items()
        if t.get("kind") in ("table", "partitioned_table") and not t.get("partition_of")
    }
    if max_rows <= 0:
        return dict.fromkeys(estimates, 0)  # schema only
    small = sum(n for n in estimates.values() if n <= SMALL_TABLE)
    large = sum(n for n in estimates.values() if n > SMALL_TABLE)
    scale = min(1.0, max(max_rows - small, 0) / large) if large else 1.0
    return {
        key: n if n <= SMALL_TABLE else max(SMALL_TABLE, round(n * scale))
        for key, n in estimates.items()
    }


READY_TIMEOUT_S = 120


def _fast_ready(base: type[Any]) -> type[Any]:
    """testcontainers' PostgreSQL, ready as soon as a TCP connection succeeds: the image's
    initialisation server listens on the unix socket only, so a TCP answer means the real
    server is up. (testcontainers' own wait execs psql once a second: ~1.5 s slower.)"""

    class FastReadyPostgres(base):  # type: ignore[misc]
        inside: str | None = None  # reached at its address on this network, not a port
        warm: bool = False  # started from a cached image: its password is set at start

        def get_connection_url(self, host: str | None = None, driver: object = None) -> str:
            # testcontainers pastes the database name into the URL as it is.
            if self.inside is not None:
                wrapped = self.get_wrapped_container()
                wrapped.reload()
                address = wrapped.attrs["NetworkSettings"]["Networks"][self.inside]["IPAddress"]
                return database_url(self.username, self.password, address, 5432, self.dbname)
            return database_url(
                self.username,
                self.password,
                host or self.get_container_host_ip(),
                int(self.get_exposed_port(self.port)),
                self.dbname,
            )

        def _connect(self) -> None:
            deadline = time.monotonic() + READY_TIMEOUT_S
            wrapped = self.get_wrapped_container()
            if self.warm:
                # This sandbox's own password, through the local socket as soon as the server
                # is up (no TCP login can succeed before: the cached one was thrown away).
                target = DockerTarget(wrapped.name, user="postgres", client=wrapped.client)
                wait_until(
                    lambda: set_password(target, self.username, self.password),
                    wrapped,
                    deadline,
                    READY_TIMEOUT_S,
                )
            wait_until(_accepts(self.get_connection_url()), wrapped, deadline, READY_TIMEOUT_S)

    return FastReadyPostgres


def _accepts(url: str) -> Callable[[], bool]:
    def connects() -> bool:
        import psycopg

        try:
            with psycopg.connect(url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    return connects


def _cached_image(
    image: str, dbname: str, engine: str | None, progress: Progress | None
) -> str | None:
    """The cached image to start from (made now on first use), or None: start from ``image``."""
    if not cache_enabled():
        return None
    try:
        client = engine_client(engine=engine)
    except ReproError:
        return None  # the start itself reports the engine
    def making() -> None:
        if progress is not None:
            progress.stage(f"making a reusable {image} cluster image (once per image and database)")

    try:
        return cached_image(client, image, USER, dbname, on_make=making)
    finally:
        client.close()


def _row_counts(dsn: str, redactor: Redactor) -> dict[str, int]:
    """Exact rows per user table after a dump load (the dump's tables are few and small
    enough for a sandbox; statistics would lag)."""
    from psycopg import sql

    counts: dict[str, int] = {}
    with connect_target(dsn, redactor, what="the sandbox database") as conn:
        tables = conn.execute(
            "SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY 1, 2"
        ).fetchall()
        for schema, name in tables:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name)
            )
            row = conn.execute(query).fetchone()
            counts[f"{schema}.{name}"] = int(row[0]) if row else 0
        conn.execute("ANALYZE")
    return counts


def _major(database: Mapping[str, Any]) -> int:
    server = database.get("server") or {}
    major = server.get("major")
    if not isinstance(major, int):
        raise ReproError("the snapshot does not say which PostgreSQL major version it ran")
    return major


@contextmanager
def sandbox_database(
    snapshot: Snapshot,
    redactor: Redactor,
    *,
    image_template: str = "postgres:{major}",
    rows: int = 100_000,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
    network: str | None = None,
    alias: str = "db",
    closed: bool = False,
    progress: Progress | None = None,
    app_role: str | None = None,
    data_dump: Path | None = None,
    engine: str | None = None,
) -> Iterator[SandboxDatabase]:
    """A running sandbox database with production-shaped data (at most about ``rows``
    rows in all, scaled down evenly from production's counts; 0: schema only), or the masked
    copy in ``data_dump`` (``repro data anonymize --to FILE.sql``). With ``network``, it also
    joins that Docker network as ``alias``; ``closed``: only that (internal) network, no port
    published at all, reached at its address there (a local engine). Otherwise the port is
    published on 127.0.0.1 only."""
    database = database_of(snapshot)
    major = _major(database)
    image = image_template.format(major=major)
    settings, skipped = server_settings(database)
    # Ryuk (testcontainers' reaper) is not needed: everything is labelled and removed here.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    if not (engine or os.environ.get("DOCKER_HOST", "unix://")).startswith("tcp://"):
        # A local engine publishes ports on this machine; testcontainers would otherwise guess
        # the bridge gateway, which engines configured for loopback-only ports do not serve.
        os.environ.setdefault("TC_HOST", "127.0.0.1")
        os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
    try:
        import docker
        from testcontainers.community.postgres import PostgresContainer
    except ImportError as exc:  # pragma: no cover - dependencies of the package
        raise ReproError(f"sandbox dependencies missing: {exc}") from None
    name = f"repro-sandbox-db-{uuid.uuid4().hex[:10]}"
    # Production's database name: an app may name it (search paths, logs, a hard-coded DSN).
    captured = (database.get("database") or {}).get("name")
    dbname = str(captured) if valid("PostgreSQL identifier", captured) else DBNAME
    # A password of its own: nothing else on this machine can guess its way into a sandbox.
    password = secrets.token_urlsafe(24)
    environment = engine_environment(engine)
    # The plans first: they run in a thread while the cached image is made (once) and while
    # PostgreSQL starts, which are mostly waiting.
    planner = ThreadPoolExecutor(1, "sandbox-plan")
    planning = (
        planner.submit(_plan, snapshot, sandbox_rows(database, rows), seed, redactor)
        if data_dump is None
        else None
    )
    planner.shutdown(wait=False)
    started = time.perf_counter()
    cached = _cached_image(image, dbname, engine, progress)
    container = _fast_ready(PostgresContainer)(
        cached or image, username=USER, password=password, dbname=dbname, driver=None,
        docker_client_kw={"environment": environment} if environment else None,
    )  # fmt: skip
    container.warm = cached is not None
    if closed and network is not None:
        # Born on the internal network: never a moment with a route out, nothing published.
        container.with_network(_Named(network))
        container.with_network_aliases(alias)
        container.ports = {}
        container.inside = network
    else:
        container.ports[str(container.port)] = (PUBLISH_ADDRESS, None)
    container.with_name(name)
    container.with_kwargs(
        labels={**(labels or {}), MANAGED_LABEL: "true", "repro.sandbox.role": "database"}
    )
    command: list[str] = []
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    if command:
        container.with_command(command)
    try:
        container.start()
    except BaseException as exc:
        # Ctrl-C may land while the engine creates the container, before testcontainers
        # holds it: remove it by name too.
        _remove(container, name, environment)
        if isinstance(exc, docker.errors.ImageNotFound):
            raise ReproError(
                f"no image {image} for the sandbox's PostgreSQL {major}",
                hint="build it (make images) or pass another image template",
            ) from None
        if isinstance(exc, docker.errors.DockerException):
            raise DockerUnavailableError(
                f"the sandbox database did not start: {' '.join(str(exc).split())}"
            ) from None
        raise
    try:
        dsn = str(container.get_connection_url(driver=None))
        sandbox = SandboxDatabase(dsn, major, image, name, settings, skipped)
        sandbox.start_seconds = time.perf_counter() - started
        if network is not None:
            if not closed:
                docker.from_env(environment=environment).networks.get(network).connect(
                    container.get_wrapped_container().id, aliases=[alias]
                )
            sandbox.network_login = Login(alias, 5432, USER, password, dbname)
            sandbox.network_dsn = dsn_for("postgresql", sandbox.network_login)
        loading = time.perf_counter()
        if planning is None:
            assert data_dump is not None
            load_dump(container.get_wrapped_container(), data_dump, USER, dbname)
            sandbox.dump_rows = _row_counts(dsn, redactor)
        else:
            sandbox.data = _load(planning, dsn, redactor, progress)
        if app_role:
            role_password = secrets.token_hex(16)
            statements = role_statements(database, app_role, role_password)
            if statements:
                with connect_target(dsn, redactor, what="the sandbox database") as conn:
                    execute_script(conn, [Statement(sql, "role", app_role) for sql in statements])
                    _policies_naming(conn, database, app_role, sandbox)
                sandbox.app_role = app_role
                if sandbox.network_dsn is not None:
                    sandbox.network_login = Login(alias, 5432, app_role, role_password, dbname)
                    sandbox.network_dsn = dsn_for("postgresql", sandbox.network_login)
        sandbox.load_seconds = time.perf_counter() - loading
        yield sandbox
    finally:
        _remove(container, name, environment)


def _plan(snapshot: Snapshot, rows: dict[str, int], seed: int, redactor: Redactor) -> Prepared:
    from repro.synth.generate import LoadOptions, prepare
    from repro.synth.plan import Options

    options = Options(seed=seed, rows=rows)
    return prepare(snapshot, options, LoadOptions(create_schema=True), redactor)


def _load(
    planning: Future[Prepared], dsn: str, redactor: Redactor, progress: Progress | None
) -> Report:
    from repro.synth.generate import load_prepared

    return load_prepared(planning.result(), dsn, redactor, progress)


@dataclass(frozen=True)
class _Named:
    """What testcontainers needs of a network it did not create: its name."""

    name: str


def _policies_naming(
    conn: Any, database: Mapping[str, Any], role: str, sandbox: SandboxDatabase
) -> None:
    """Row-level-security policies naming the app role: made now that the role exists (the
    data, with its policies, came first); the data report stops listing them as not made."""
    statements = []
    for key, table in sorted((database.get("tables") or {}).items()):
        if not isinstance(table, Mapping) or not isinstance(table.get("policies"), Mapping):
            continue
        naming = {
            name: policy
            for name, policy in table["policies"].items()
            if isinstance(policy, Mapping) and role in (policy.get("roles") or [])
        }
        made, _ = policy_statements(key, qualified(table), naming)
        statements += [Statement(sql, kind, target, optional=True) for kind, target, sql in made]
    failed = execute_script(conn, statements)
    done = {s.target for s in statements} - {
        line.split(":")[0].split(" ", 1)[-1] for line in failed
    }
    if sandbox.data is not None:
        sandbox.data.skipped = [
            line
            for line in sandbox.data.skipped
            if not any(line.startswith(f"policy {target}:") for target in done)
        ]


def _remove(container: Any, name: str, environment: dict[str, str] | None = None) -> None:
    """Remove the container and its anonymous volume, whatever state it got to."""
    import docker

    with suppress(docker.errors.DockerException):
        container.stop()
    # Gone already in the usual case (stop removes it): that is what we wanted.
    with suppress(docker.errors.DockerException):
        docker.from_env(environment=environment).containers.get(name).remove(force=True, v=True)
