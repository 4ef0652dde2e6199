"""Every facet, in one place. Adding a facet: one module, one line here."""

from __future__ import annotations

from repro.snapshot import config, database, env, files, packages, runtime, schedules
from repro.snapshot.base import Facet

FACETS: dict[str, Facet] = {
    "env": env.FACET,
    "packages": packages.FACET,
    "database": database.FACET,
    "files": files.FACET,
    "config": config.FACET,
    "runtime": runtime.FACET,
    "schedules": schedules.FACET,
}

# Captured when a profile does not list its facets.
DEFAULT_FACETS: tuple[str, ...] = tuple(FACETS)
