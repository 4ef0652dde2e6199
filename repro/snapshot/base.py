"""What a facet is: a small module that captures one aspect of an environment.

Each facet returns a keyed (maps, never lists), sorted structure plus its own status. Adding one is
one module and one line in :mod:`repro.snapshot.registry`. A facet's options are a table of
:class:`~repro.profile.facets.Option`, checked when the profile is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from repro.profile.facets import Option
from repro.redaction import Redactor
from repro.snapshot.file import FacetResult

if TYPE_CHECKING:
    from repro.profile.file import Profile
    from repro.targets.base import Target


@dataclass
class CaptureContext:
    """Everything a facet may use. Facets do no I/O except through the target or the database."""

    target: Target
    profile: Profile
    options: dict[str, Any]
    redactor: Redactor
    log: Callable[[str], None] = field(default=lambda message: None)

    @property
    def app_user(self) -> str | None:
        return self.profile.app.user or self.profile.target_options.get("user")


class Facet(Protocol):
    """``redacts_own_data = True`` (optional) says the facet fingerprints its secrets itself,
    where it knows they can be: the capture layer then skips its generic walk."""

    name: str
    summary: str
    options: dict[str, Option]

    def capture(self, ctx: CaptureContext) -> FacetResult:
        """Capture the facet. Raise CaptureError for a clean 'error' status with a reason;
        return status 'partial' with ``problems`` when some parts could not be read."""
        ...


def sorted_tree(node: Any) -> Any:
    """Recursively sort mapping keys so snapshots are stable across runs."""
    if isinstance(node, dict):
        return {str(k): sorted_tree(node[k]) for k in sorted(node, key=str)}
    if isinstance(node, list):
        return [sorted_tree(v) for v in node]
    return node
