"""Every facet, in one place. Adding a facet: one module, one line here.

A profile that lists no facets captures all of them, in this order (repro.profile.file).
A facet's module is imported when the facet is first used: ``repro snapshot --facets
database`` never loads the packages or files facets (nor a facet's heavy dependencies).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from repro.snapshot.base import Facet

# name -> the module whose FACET it is, in capture order
MODULES: dict[str, str] = {
    "env": "repro.snapshot.env",
    "packages": "repro.snapshot.packages",
    "database": "repro.snapshot.database",
    "files": "repro.snapshot.files",
    "config": "repro.snapshot.config",
    "runtime": "repro.snapshot.runtime",
    "schedules": "repro.snapshot.schedules",
}


class _Registry(Mapping[str, Facet]):
    """The facets by name (``in``, ``sorted()`` and iteration need no import)."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, Facet] = {}

    def __getitem__(self, name: str) -> Facet:
        facet = self._loaded.get(name)
        if facet is None:
            facet = self._loaded[name] = importlib.import_module(self._modules[name]).FACET
        return facet

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, name: object) -> bool:
        return name in self._modules


FACETS: Mapping[str, Facet] = _Registry(MODULES)
