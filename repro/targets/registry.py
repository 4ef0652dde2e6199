"""Every target kind, in one place. Adding a target: one module, one line here (its class
has ``from_options`` and ``OPTIONS``)."""

from __future__ import annotations

import importlib
from typing import Any

from repro.errors import ProfileError
from repro.targets.base import Target

# kind -> (module, class): a target's module is imported when that kind is used, so a local
# capture does not load the docker, ssh and kubectl machinery.
TARGETS: dict[str, tuple[str, str]] = {
    "local": ("repro.targets.local", "LocalTarget"),
    "docker": ("repro.targets.docker", "DockerTarget"),
    "ssh": ("repro.targets.ssh", "SshTarget"),
    "kubectl": ("repro.targets.kubectl", "KubectlTarget"),
}


def _target_class(kind: str) -> Any:
    module, name = TARGETS[kind]
    return getattr(importlib.import_module(module), name)


# Options without which a target cannot be reached at all.
REQUIRED: dict[str, tuple[str, ...]] = {
    "docker": ("container",),
    "ssh": ("host",),
    "kubectl": ("pod",),
}


def validate_target_options(kind: str, options: dict[str, Any], where: str) -> dict[str, Any]:
    allowed: dict[str, type] = _target_class(kind).OPTIONS
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
    target: Target = _target_class(kind).from_options(options)
    return target
