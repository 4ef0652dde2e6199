"""Every target kind, in one place. Adding a target: one module, one line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from repro.errors import ProfileError
from repro.targets.base import Target
from repro.targets.docker import DockerTarget
from repro.targets.kubectl import KubectlTarget
from repro.targets.local import LocalTarget
from repro.targets.ssh import SshTarget

# kind -> (factory, allowed options)
TARGETS: dict[str, tuple[Callable[[dict[str, Any]], Target], dict[str, type]]] = {
    "local": (LocalTarget.from_options, {"user": str}),
    "docker": (DockerTarget.from_options, DockerTarget.OPTIONS),
    "ssh": (SshTarget.from_options, SshTarget.OPTIONS),
    "kubectl": (KubectlTarget.from_options, KubectlTarget.OPTIONS),
}


# Options without which a target cannot be reached at all.
REQUIRED: dict[str, tuple[str, ...]] = {
    "docker": ("container",),
    "ssh": ("host",),
    "kubectl": ("pod",),
}


def validate_target_options(kind: str, options: dict[str, Any], where: str) -> dict[str, Any]:
    allowed = TARGETS[kind][1]
    for key in REQUIRED.get(kind, ()):
        if not options.get(key):
            raise ProfileError(f"{where}.{key}: required for a {kind} target")
    for key, value in options.items():
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise ProfileError(
                f"{where}.{key}: unknown option for {kind} target (allowed: {names})"
            )
        expected = allowed[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is int):
            raise ProfileError(
                f"{where}.{key}: expected {expected.__name__}, got {type(value).__name__}"
            )
    return dict(options)


def open_target(kind: str, options: dict[str, Any]) -> Target:
    return TARGETS[kind][0](options)
