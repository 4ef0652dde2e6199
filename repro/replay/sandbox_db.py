"""The sandbox's database: PostgreSQL of production's major version with production's
relevant settings, filled with production-shaped rows by ``repro data generate``.

Started with testcontainers (the image template defaults to ``postgres:{major}``), labelled
``repro.managed=true`` and removed when the ``with`` block ends — normally, on an error or on
Ctrl-C; ``repro sandbox prune`` sweeps up after a killed process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from repro.data.generate import LoadOptions, Report, database_of, generate
from repro.data.plan import Options
from repro.errors import DockerUnavailableError, ReproError
from repro.redaction import Redactor
from repro.replay.prune import MANAGED_LABEL
from repro.snapshot.model import Snapshot

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
USER, PASSWORD, DBNAME = "repro", "repro-sandbox", "sandbox"


@dataclass
class SandboxDatabase:
    dsn: str  # from the host
    major: int
    image: str
    container_name: str
    settings: dict[str, str]
    skipped_settings: list[str] = field(default_factory=list)
    data: Report | None = None


def server_settings(database: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Production's non-default settings that a sandbox can take (``-c name=value``), and
    the names left out with why."""
    applied: dict[str, str] = {}
    skipped: list[str] = []
    for name, entry in sorted((database.get("settings") or {}).items()):
        if not isinstance(entry, Mapping) or entry.get("source") in (None, "default", "override"):
            continue
        value = entry.get("value")
        if name in NOT_APPLIED or name.startswith(("lc_", "ssl_")):
            skipped.append(f"{name} (machine or cluster setting)")
        elif not isinstance(value, str) or value.startswith("hmac-sha256:"):
            skipped.append(f"{name} (a secret: only its fingerprint was captured)")
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
    small = sum(n for n in estimates.values() if n <= SMALL_TABLE)
    large = sum(n for n in estimates.values() if n > SMALL_TABLE)
    scale = min(1.0, max(max_rows - small, 0) / large) if large else 1.0
    return {
        key: n if n <= SMALL_TABLE else max(SMALL_TABLE, round(n * scale))
        for key, n in estimates.items()
    }


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
    max_rows: int = 100_000,
    seed: int = 0,
    labels: Mapping[str, str] | None = None,
) -> Iterator[SandboxDatabase]:
    """A running sandbox database with production-shaped data (at most about ``max_rows``
    rows in all, scaled down evenly from production's counts)."""
    database = database_of(snapshot)
    major = _major(database)
    image = image_template.format(major=major)
    settings, skipped = server_settings(database)
    # Ryuk (testcontainers' reaper) is not needed: everything is labelled and removed here.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    try:
        import docker
        from testcontainers.community.postgres import PostgresContainer
    except ImportError as exc:  # pragma: no cover - dependencies of the package
        raise ReproError(f"sandbox dependencies missing: {exc}") from None
    name = f"repro-sandbox-db-{uuid.uuid4().hex[:10]}"
    container = PostgresContainer(
        image, username=USER, password=PASSWORD, dbname=DBNAME, driver=None
    )
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
    except docker.errors.ImageNotFound:
        container.stop()
        raise ReproError(
            f"no image {image} for the sandbox's PostgreSQL {major}",
            hint="build it (make images) or pass another image template",
        ) from None
    except docker.errors.DockerException as exc:
        container.stop()
        raise DockerUnavailableError(f"the sandbox database did not start: {exc}") from None
    try:
        dsn = str(container.get_connection_url(driver=None))
        sandbox = SandboxDatabase(dsn, major, image, name, settings, skipped)
        sandbox.data = generate(
            snapshot,
            dsn,
            Options(seed=seed, rows=sandbox_rows(database, max_rows)),
            LoadOptions(create_schema=True),
            redactor,
        )
        yield sandbox
    finally:
        container.stop()  # removes the container (and its anonymous volume)
