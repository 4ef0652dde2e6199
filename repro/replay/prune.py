"""``repro sandbox prune``: remove what repro's sandboxes left behind, found by label.

Every container, network and volume repro starts carries ``repro.managed=true``; a sandbox
removes its own on success, failure and Ctrl-C, and this is the broom for the rest (a
killed process, a rebooted engine). Containers go first (a network in use cannot go).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.targets.docker import engine_client, engine_unavailable

MANAGED_LABEL = "repro.managed"
CACHE_LABEL = "repro.cache"  # images repro keeps to start sandboxes faster (sandbox_pg_cache)


@dataclass
class PruneResult:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # with cache=True
    failed: list[str] = field(default_factory=list)  # "container x: why", kept going

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "repro.sandbox-prune/v1",
            "containers": self.containers,
            "networks": self.networks,
            "volumes": self.volumes,
            "images": self.images,
            "failed": self.failed,
        }


def prune(
    *,
    dry_run: bool = False,
    labels: Mapping[str, str] | None = None,
    client: Any = None,
    cache: bool = False,
) -> PruneResult:
    """Remove every object labelled ``repro.managed=true`` (and ``labels``, when given:
    a narrower sweep); with ``cache``, also the images repro keeps to start sandboxes
    faster. ``dry_run`` lists without removing."""
    import docker

    client = client or engine_client()
    wanted = [f"{MANAGED_LABEL}=true", *(f"{k}={v}" for k, v in (labels or {}).items())]
    result = PruneResult()
    try:
        containers = client.containers.list(all=True, filters={"label": wanted})
        networks = client.networks.list(filters={"label": wanted})
        volumes = client.volumes.list(filters={"label": wanted})
        images = client.images.list(filters={"label": CACHE_LABEL}) if cache else []
    except docker.errors.DockerException as exc:
        raise engine_unavailable(exc) from None
    for kind, objects, out in (
        ("container", containers, result.containers),
        ("network", networks, result.networks),
        ("volume", volumes, result.volumes),
        ("image", images, result.images),
    ):
        for obj in objects:
            name = _name(kind, obj)
            if not dry_run:
                try:
                    if kind == "container":
                        obj.remove(force=True, v=True)
                    elif kind == "image":
                        client.images.remove(obj.id, force=True)
                    else:
                        obj.remove()
                except docker.errors.NotFound:
                    pass  # gone meanwhile: that is what we wanted
                except docker.errors.APIError as exc:
                    result.failed.append(f"{kind} {name}: {exc.explanation or exc}")
                    continue
            out.append(name)
    return result


def _name(kind: str, obj: Any) -> str:
    if kind == "image":
        return str(obj.tags[0] if obj.tags else obj.id)
    return str(obj.name)
