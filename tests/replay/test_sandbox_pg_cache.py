"""The cached PostgreSQL cluster image, on the real engine: made once per base image and
database name, labelled, never shared with a password; a base image that cannot make one is
no error; ``REPRO_SANDBOX_CACHE=0`` and the cache give the same sandbox."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import psycopg
import pytest

from repro.redaction import RedactionKey, Redactor
from repro.replay.prune import CACHE_LABEL, prune
from repro.replay.sandbox_db import sandbox_database
from repro.replay.sandbox_pg_cache import _exists, _key, cached_image, set_password
from repro.snapshot.file import load_snapshot
from repro.targets.docker import DockerTarget
from tests.helpers.containers import busybox_image
from tests.helpers.dockerutil import require_image
from tests.helpers.pg import IMAGE_TEMPLATE
from tests.helpers.settings import session_labels

PROD = "fixtures/snapshots/prod.json"


@contextmanager
def _started(client: Any, image: str) -> Iterator[tuple[Any, int]]:
    container = client.containers.run(
        image,
        detach=True,
        labels={**session_labels(), "repro.managed": "true"},
        ports={"5432/tcp": ("127.0.0.1", None)},
    )
    try:
        container.reload()
        yield container, int(container.ports["5432/tcp"][0]["HostPort"])
    finally:
        container.remove(force=True, v=True)


def _password_set(container: Any, password: str) -> None:
    target = DockerTarget(container.name, user="postgres", client=container.client)
    deadline = time.monotonic() + 60
    while not set_password(target, "repro", password):
        assert time.monotonic() < deadline, "the cached cluster never started"
        time.sleep(0.1)


def _logs_in(port: int, password: str, dbname: str) -> bool:
    url = f"postgresql://repro:{password}@127.0.0.1:{port}/{dbname}"
    for _ in range(100):
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                return conn.execute("SELECT current_database()").fetchone() == (dbname,)
        except psycopg.OperationalError as exc:
            if "password authentication failed" in str(exc):
                return False
            time.sleep(0.1)  # the server is still starting
    raise AssertionError("no answer from the cached cluster")


def test_made_once_labelled_and_each_start_sets_its_own_password(docker_client: Any) -> None:
    base = IMAGE_TEMPLATE.format(major=15)
    require_image(docker_client, base)
    dbname = f"cache_{uuid.uuid4().hex[:8]}"  # a name no other test made an image for
    key = _key(docker_client, base, "repro", dbname)
    assert key is not None and not _exists(docker_client, key[0])
    tag = cached_image(docker_client, base, "repro", dbname)
    try:
        assert tag == key[0] and _exists(docker_client, tag)
        image = docker_client.images.get(tag)
        assert image.labels[CACHE_LABEL] == "postgres"
        assert cached_image(docker_client, base, "repro", dbname) == tag
        assert docker_client.images.get(tag).id == image.id  # not made again
        left = docker_client.containers.list(
            all=True, filters={"label": "repro.sandbox.role=cache-build"}
        )
        assert not left  # the container that made it is gone
        listed = prune(dry_run=True, cache=True, client=docker_client)
        assert tag in listed.images and docker_client.images.get(tag)
        # Two sandboxes from it: each logs in with its own password only; the one the cluster
        # was made with was thrown away, so nothing logs in before a password is set.
        with (
            _started(docker_client, tag) as (first, first_port),
            _started(docker_client, tag) as (second, second_port),
        ):
            _password_set(first, "first-Pw4q8Zr2")
            _password_set(second, "second-Kx7m3Tn9")
            assert _logs_in(first_port, "first-Pw4q8Zr2", dbname)
            assert not _logs_in(first_port, "second-Kx7m3Tn9", dbname)
            assert _logs_in(second_port, "second-Kx7m3Tn9", dbname)
            assert not _logs_in(second_port, "first-Pw4q8Zr2", dbname)
    finally:
        if tag is not None:
            docker_client.images.remove(tag, force=True)


def test_an_image_that_cannot_make_a_cluster_is_no_error(docker_client: Any) -> None:
    busybox = busybox_image(docker_client)  # made here when no earlier test has made it
    assert cached_image(docker_client, busybox, "repro", "sandbox") is None
    assert cached_image(docker_client, "repro-test/no-such-image:0", "repro", "x") is None
    left = docker_client.containers.list(
        all=True, filters={"label": "repro.sandbox.role=cache-build"}
    )
    assert not left


def _shape(dsn: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        return (
            conn.execute("SHOW server_version_num").fetchone(),
            conn.execute("SHOW TimeZone").fetchone(),
            conn.execute("SELECT current_database(), current_user").fetchone(),
            conn.execute("SELECT count(*), count(email) FROM customers").fetchone(),
            conn.execute(
                "SELECT datcollate, datctype FROM pg_database WHERE datname = current_database()"
            ).fetchone(),
        )


def test_the_cached_start_gives_the_sandbox_a_fresh_start_gives(
    docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_image(docker_client, IMAGE_TEMPLATE.format(major=13))
    snapshot = load_snapshot(PROD)
    redactor = Redactor(RedactionKey.from_bytes(b"sandbox-test", "test"))
    shapes = []
    for cache in ("0", "1"):
        monkeypatch.setenv("REPRO_SANDBOX_CACHE", cache)
        with sandbox_database(
            snapshot, redactor, image_template=IMAGE_TEMPLATE, rows=2000,
            labels={"repro.test": "true"},
        ) as sandbox:  # fmt: skip
            shapes.append(_shape(sandbox.dsn))
            image = docker_client.containers.get(sandbox.container_name).image
            made_from = image.tags[0] if image.tags else image.id
            assert made_from.startswith("repro-cache/postgres:") == (cache == "1")
    assert shapes[0] == shapes[1]


def test_a_cached_image_whose_base_was_replaced_is_removed(docker_client: Any) -> None:
    from repro.replay.sandbox_pg_cache import _forget_stale

    base = IMAGE_TEMPLATE.format(major=15)
    require_image(docker_client, base)
    # A base image of its own (a new id): what a rebuilt or updated postgres image is.
    maker = docker_client.containers.create(base, labels=session_labels())
    name = f"repro-test/pg-replaced:{uuid.uuid4().hex[:8]}"
    try:
        maker.commit(repository=name.split(":")[0], tag=name.split(":")[1])
    finally:
        maker.remove(force=True)
    tag = cached_image(docker_client, name, "repro", "replaced")
    assert tag is not None
    try:
        _forget_stale(docker_client)
        assert docker_client.images.get(tag)  # its base still has its name: kept
        docker_client.images.remove(name)  # the name goes (a rebuild moves it elsewhere)
        _forget_stale(docker_client)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(tag)
    finally:
        for image in (tag, name):
            with contextlib.suppress(Exception):
                docker_client.images.remove(image, force=True)
