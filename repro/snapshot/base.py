"""What a facet is: a small module that captures one aspect of an environment.

Each facet returns a keyed (maps, never lists), sorted structure plus its own status. Adding one is
one module and one line in :mod:`repro.snapshot.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from repro.errors import ProfileError
from repro.redaction import Redactor
from repro.snapshot.model import FacetResult

if TYPE_CHECKING:
    from repro.profile import Profile
    from repro.targets.base import Target


@dataclass(frozen=True)
class Option:
    """One facet option: its type (for validation), default and meaning (for docs)."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    item_kind: type | None = None  # for lists: the type of each item


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
    name: str
    summary: str
    options: dict[str, Option]

    def capture(self, ctx: CaptureContext) -> FacetResult:
        """Capture the facet. Raise CaptureError for a clean 'error' status with a reason;
        return status 'partial' with ``problems`` when some parts could not be read."""
        ...


def validate_options(facet: Facet, raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Check a profile's options for a facet and fill in defaults."""
    unknown = sorted(set(raw) - set(facet.options))
    if unknown:
        allowed = ", ".join(sorted(facet.options)) or "none"
        raise ProfileError(f"{where}.{unknown[0]}: unknown option (allowed: {allowed})")
    out: dict[str, Any] = {}
    for key, spec in facet.options.items():
        if key not in raw:
            out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
            continue
        value = raw[key]
        if spec.kind is list and isinstance(value, str):
            value = [value]
        if not isinstance(value, spec.kind) or (isinstance(value, bool) and spec.kind is int):
            raise ProfileError(
                f"{where}.{key}: expected {_kind_name(spec.kind)}, got {type(value).__name__}"
            )
        if spec.item_kind is not None and isinstance(value, list):
            for item in value:
                if not isinstance(item, spec.item_kind):
                    raise ProfileError(
                        f"{where}.{key}: expected a list of {spec.item_kind.__name__}, "
                        f"found {type(item).__name__}"
                    )
        out[key] = value
    return out


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {
        "list": "a list",
        "dict": "a mapping",
        "bool": "true/false",
        "int": "an integer",
        "str": "a string",
    }.get(kind.__name__, kind.__name__)


def sorted_tree(node: Any) -> Any:
    """Recursively sort mapping keys so snapshots are stable across runs."""
    if isinstance(node, dict):
        return {str(k): sorted_tree(node[k]) for k in sorted(node, key=str)}
    if isinstance(node, list):
        return [sorted_tree(v) for v in node]
    return node
