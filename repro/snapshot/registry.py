"""Every facet, in one place. Adding a facet: one module, one line here.

A profile that lists no facets captures all of them, in this order (repro.profile.file).
"""

from __future__ import annotations

from repro.snapshot import config as config_facet
from repro.snapshot import database as database_facet
from repro.snapshot import env as env_facet
from repro.snapshot import files as files_facet
from repro.snapshot import packages as packages_facet
from repro.snapshot import runtime as runtime_facet
from repro.snapshot import schedules as schedules_facet
from repro.snapshot.base import Facet

FACETS: dict[str, Facet] = {
    "env": env_facet.FACET,
    "packages": packages_facet.FACET,
    "database": database_facet.FACET,
    "files": files_facet.FACET,
    "config": config_facet.FACET,
    "runtime": runtime_facet.FACET,
    "schedules": schedules_facet.FACET,
}
