"""What the walk needs to know about each facet's data beyond "maps of maps".

Kept apart from the engine so that a facet changing its shape is a one-line change here:

- ``atomic``: maps compared as one value (their keys are values, not identities — most
  common values keyed by value), so one change is reported instead of dozens.
- ``error_nodes``: entries that are ``{"error": ...}`` when they could not be read. Such an
  entry on either side makes the entry *incomparable*, never "only in" or "changed".
- ``presence``: entries with an existence flag (``files.paths.*`` ``exists``). When the flag
  differs, that is the one discrepancy; the missing side's absent details are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.diff.paths import KeyPattern


@dataclass(frozen=True)
class Shape:
    atomic: tuple[KeyPattern, ...] = ()
    error_nodes: tuple[KeyPattern, ...] = ()
    presence: tuple[tuple[KeyPattern, str], ...] = ()


def _p(*texts: str) -> tuple[KeyPattern, ...]:
    return tuple(KeyPattern(text) for text in texts)


SHAPES: dict[str, Shape] = {
    "files": Shape(
        error_nodes=_p("files.paths.*", "files.app_user"),
        presence=((KeyPattern("files.paths.*"), "exists"),),
    ),
    "config": Shape(error_nodes=_p("config.files.*")),
    "runtime": Shape(error_nodes=_p("runtime.user")),
    "database": Shape(
        atomic=_p(
            "database.statistics.*.columns.*.mcv",
            "database.statistics.*.columns.*.histogram",
        ),
        presence=((KeyPattern("database.roles.*"), "exists"),),
    ),
}

EMPTY = Shape()
