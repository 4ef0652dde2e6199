"""A sandbox database's PostgreSQL image with its cluster already made: ``initdb`` and the
image's first-start dance (a temporary server, stopped, started again) cost about a second of
every sandbox, and their result is the same each time. So the first sandbox of a PostgreSQL
image (and database name) on an engine makes it once — the image's own entrypoint, run with
its data directory outside the image's volume, stopped cleanly and committed — and every later
sandbox starts from that commit (``repro-cache/postgres:<key>``).

What differs between sandboxes is set at each start: the settings (``-c`` options, as before)
and the superuser's password. The password the cluster was made with is random and thrown
away; each sandbox sets its own through the container's local socket (the image's
``pg_hba.conf`` trusts local connections only), before any TCP login can succeed.

Anything unexpected while making it (an image whose entrypoint is not the official one) is
not an error: the sandbox starts from the plain image as before. ``REPRO_SANDBOX_CACHE=0``
always does. The committed images carry ``repro.cache=postgres`` (``docker image prune
--filter label=repro.cache=postgres`` or ``repro sandbox prune --cache`` removes them).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from repro.errors import ReproError
from repro.replay.prune import CACHE_LABEL, MANAGED_LABEL
from repro.targets.docker import DockerTarget

CACHE_REPOSITORY = "repro-cache/postgres"
CACHE_KIND = "postgres"
BASE_LABEL = "repro.cache.base"  # the id of the image the cluster was made from
DATA_DIR = "/var/lib/repro-pgdata"  # outside the image's VOLUME, so that a commit keeps it
FORMAT = "1"  # part of the key: a change to how the cluster is made makes new images
BUILD_TIMEOUT_S = 60
POLL_S = 0.05
PSQL_NO_CONNECTION = 2  # psql's exit code when the server does not answer (yet)


def cache_enabled() -> bool:
    return os.environ.get("REPRO_SANDBOX_CACHE", "1").strip().lower() not in ("0", "no", "off")


def _key(client: Any, base: str, user: str, dbname: str) -> tuple[str, str] | None:
    """(The cached image's name, the base image's id): named by the base image's id (a rebuilt
    or updated image gets a new one), the cluster's user and database name. None when the
    base image cannot be read: the caller's own start says what is wrong with it."""
    import docker

    try:
        base_id = str(client.images.get(base).id)
    except docker.errors.DockerException:
        return None
    key = hashlib.sha256(f"{FORMAT}\0{base_id}\0{user}\0{dbname}".encode()).hexdigest()[:20]
    return f"{CACHE_REPOSITORY}:{key}", base_id


def _exists(client: Any, tag: str) -> bool:
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def cached_image(
    client: Any,
    base: str,
    user: str,
    dbname: str,
    on_make: Callable[[], None] = lambda: None,
) -> str | None:
    """The committed image for ``base`` (made now if missing, after ``on_make``), or None when
    it cannot be made (the caller starts from ``base``)."""
    import docker

    key = _key(client, base, user, dbname)
    if key is None:
        return None
    tag, base_id = key
    try:
        if _exists(client, tag):
            return tag
        on_make()
        _make(client, base, base_id, tag, user, dbname)
    except (docker.errors.DockerException, ReproError):
        return None
    _forget_stale(client)
    return tag


def _make(client: Any, base: str, base_id: str, tag: str, user: str, dbname: str) -> None:
    name = f"repro-cache-build-{uuid.uuid4().hex[:10]}"
    try:
        container = client.containers.run(
            base,
            detach=True,
            name=name,
            environment={
                "POSTGRES_USER": user,
                "POSTGRES_PASSWORD": secrets.token_urlsafe(24),  # thrown away
                "POSTGRES_DB": dbname,
                "PGDATA": DATA_DIR,
            },
            labels={MANAGED_LABEL: "true", "repro.sandbox.role": "cache-build"},
            network_mode="none",  # nothing to reach, nothing reaching it
        )
        # The final server, not the image's temporary one: that listens on the socket only.
        target = DockerTarget(name, user="postgres", client=client)
        wait_until(
            lambda: target.run(["pg_isready", "-q", "-h", "127.0.0.1"], timeout=10).ok,
            container,
            time.monotonic() + BUILD_TIMEOUT_S,
            BUILD_TIMEOUT_S,
        )
        container.stop(timeout=60)  # the image's stop signal: a fast, clean shutdown
        container.reload()
        if (container.attrs.get("State") or {}).get("ExitCode") != 0:
            raise ReproError("the cluster did not shut down cleanly")
        container.commit(
            repository=CACHE_REPOSITORY,
            tag=tag.rsplit(":", 1)[1],
            changes=[
                f"ENV PGDATA={DATA_DIR}",
                f"LABEL {CACHE_LABEL}={CACHE_KIND}",
                f"LABEL {BASE_LABEL}={base_id}",
            ],
        )
    finally:
        _remove(client, name)


def wait_until(
    ready: Callable[[], bool], container: Any, deadline: float, timeout_s: float
) -> None:
    """Poll ``ready`` until it holds. Raises ReproError when the PostgreSQL container exits
    (with its last log lines) or at ``deadline`` (``timeout_s`` after the start)."""
    while not ready():
        container.reload()
        if container.status in ("exited", "dead"):
            tail = container.logs(tail=5).decode("utf-8", "replace")
            raise ReproError(
                f"PostgreSQL exited while starting: {' '.join(tail.split())[-300:]}"
            )
        if time.monotonic() > deadline:
            raise ReproError(f"PostgreSQL did not accept connections in {timeout_s:g} s")
        time.sleep(POLL_S)


def set_password(target: DockerTarget, user: str, password: str) -> bool:
    """The superuser's password of a sandbox started from a cached image, through the local
    socket, on stdin (never on a command line). False while the server is not up yet. Through
    the ``postgres`` database: psql reads a ``-d`` value with ``=`` in it as connection
    parameters, and production's database name is the snapshot's, any text."""
    quoted = password.replace("'", "''")
    result = target.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", "postgres"],
        stdin=f"ALTER ROLE CURRENT_USER PASSWORD '{quoted}';\n".encode(),
        timeout=30,
    )
    if result.returncode in (0, PSQL_NO_CONNECTION):
        return result.ok
    why = result.error_text.replace(quoted, "***").replace(password, "***")  # psql echoes a line
    raise ReproError(f"could not set the sandbox database's password: {why}")


def _forget_stale(client: Any) -> None:
    """Cached images whose base image is gone or has no name any more (rebuilt, updated,
    removed) can never be used again: removed, so that the cache does not grow with every
    new base image. One a container still runs from stays (the engine refuses)."""
    import docker

    with suppress(docker.errors.DockerException):
        for image in client.images.list(filters={"label": f"{CACHE_LABEL}={CACHE_KIND}"}):
            base_id = image.labels.get(BASE_LABEL)
            if not base_id:
                continue
            try:
                # Untagged: replaced by a rebuilt image of the same name (it stays in the
                # store while the cached image, its child, does).
                stale = not client.images.get(base_id).tags
            except docker.errors.ImageNotFound:
                stale = True
            if stale:
                with suppress(docker.errors.DockerException):
                    client.images.remove(image.id)


def _remove(client: Any, name: str) -> None:
    import docker

    with suppress(docker.errors.DockerException):
        client.containers.get(name).remove(force=True, v=True)
