"""``repro sandbox prune`` against the real Docker engine: only labelled objects go."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from repro.replay.prune import prune
from tests.helpers.dockerutil import require_image
from tests.helpers.settings import session_labels

IMAGE = "repro/python-app:bookworm"


def test_prune_removes_only_managed_objects(docker_client: Any) -> None:
    require_image(docker_client, IMAGE)
    sweep = {"repro.test.prune": uuid.uuid4().hex}
    managed = {**session_labels(), **sweep, "repro.managed": "true"}
    unmanaged = {**sweep, "repro.test": "true"}
    network = docker_client.networks.create(
        f"repro-prune-{sweep['repro.test.prune'][:8]}", labels=managed
    )
    volume = docker_client.volumes.create(labels=managed)
    left = docker_client.containers.create(
        IMAGE, command=["true"], labels=managed, network=network.name
    )
    kept = docker_client.containers.create(IMAGE, command=["true"], labels=unmanaged)
    try:
        listed = prune(dry_run=True, labels=sweep, client=docker_client)
        assert listed.containers == [left.name] and listed.networks == [network.name]
        assert docker_client.containers.get(left.id)  # a dry run removes nothing
        done = prune(labels=sweep, client=docker_client)
        assert done.containers == [left.name]
        assert done.networks == [network.name] and done.volumes == [volume.name]
        assert not done.failed
        names = {c.name for c in docker_client.containers.list(all=True)}
        assert left.name not in names and kept.name in names
        assert network.name not in {n.name for n in docker_client.networks.list()}
    finally:
        kept.remove(force=True)
        for obj in (left, network, volume):
            with contextlib.suppress(Exception):  # removed by the test already
                obj.remove(force=True) if obj is left else obj.remove()
