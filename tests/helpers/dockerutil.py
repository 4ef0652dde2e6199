"""Is there a Docker engine, and sweeping what the tests left in it."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Mapping
from typing import Any

from tests.helpers.settings import (
    PID_LABEL,
    SESSION_ID,
    SESSION_LABEL,
    TEST_LABEL,
    TEST_LABELS,
    skip_or_fail,
)


@functools.cache
def docker_problem() -> str | None:
    """Why Docker cannot be used here, or None if the engine answers. Checked once a session."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"no Docker engine ({type(exc).__name__}: {exc}); run `make docker-up`"
    return None


def docker_available() -> bool:
    return docker_problem() is None


def require_docker() -> None:
    problem = docker_problem()
    if problem is not None:
        skip_or_fail(problem)


def docker_client() -> Any:
    """A docker.DockerClient (skips/fails like require_docker when there is no engine)."""
    require_docker()
    import docker

    return docker.from_env(timeout=60)


def require_image(client: Any, image: str) -> None:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        skip_or_fail(f"Docker image {image} is missing: run `make images`")


def label_filters(labels: Mapping[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in labels.items()]


def remove_labelled(client: Any, labels: Mapping[str, str] = TEST_LABELS) -> tuple[int, int]:
    """Remove every container, then every network, carrying all of ``labels``.

    Containers go first: a network with containers attached cannot be removed.
    Returns (containers removed, networks removed).
    """
    import docker

    filters = {"label": label_filters(labels)}
    containers = client.containers.list(all=True, filters=filters)
    for container in containers:
        with contextlib.suppress(docker.errors.NotFound):  # already gone: fine
            container.remove(force=True, v=True)
    networks = client.networks.list(filters=filters)
    for network in networks:
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
    return len(containers), len(networks)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_sweepable(labels: Mapping[str, str]) -> bool:
    """Left by this session, or by a test session whose process is gone."""
    if labels.get(SESSION_LABEL) == SESSION_ID:
        return True
    pid = labels.get(PID_LABEL, "")
    if not pid.isdigit():
        return True  # labelled repro.test=true by something that does not say who: sweep
    return int(pid) != os.getpid() and not _pid_alive(int(pid))


def sweep_test_leftovers(client: Any, within: Mapping[str, str] | None = None) -> tuple[int, int]:
    """Remove containers, then networks, labelled repro.test=true that is_sweepable.

    ``within`` narrows the sweep to objects also carrying these labels (for testing the sweep
    without removing the session's own live servers).
    """
    import docker

    filters = {"label": [f"{TEST_LABEL}=true", *label_filters(within or {})]}
    containers = [
        c for c in client.containers.list(all=True, filters=filters) if is_sweepable(c.labels)
    ]
    for container in containers:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)
    networks = [
        n
        for n in client.networks.list(filters=filters)
        if is_sweepable(n.attrs.get("Labels") or {})
    ]
    for network in networks:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            network.remove()  # APIError: still in use by a container we did not remove
    return len(containers), len(networks)


SANDBOX_LABEL = "repro.sandbox.id"


def sandbox_leftovers(client: Any) -> list[str]:
    """Containers and networks of repro sandboxes still on ``client``'s engine. The low-level
    API lists without inspecting each object (no race with a removal)."""
    containers = client.api.containers(all=True, filters={"label": SANDBOX_LABEL})
    networks = client.api.networks(filters={"label": SANDBOX_LABEL})
    return [f"container {c['Names']}" for c in containers] + [
        f"network {n['Name']}" for n in networks
    ]
