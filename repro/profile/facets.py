"""The profile's ``facets:`` section: which facets to capture, with which options.

A facet declares its options as a table of :class:`Option` (see :mod:`repro.snapshot.base`);
this module checks a profile's values against such a table. Which facets exist is the
snapshot's business: the profile is handed that catalog (``repro.snapshot.registry.FACETS``)
when it is read, so it never imports the facets it validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from repro.errors import ProfileError
from repro.fields import expect, string_list


@dataclass(frozen=True)
class Option:
    """One facet option: its type (for validation), default and meaning (for docs)."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    item_kind: type | None = None  # for lists: the type of each item


class FacetOptions(Protocol):
    """What the profile knows of a facet: the options it takes."""

    @property
    def options(self) -> Mapping[str, Option]: ...


# name -> facet, in capture order; the first entries are what a profile without a list gets
FacetCatalog = Mapping[str, FacetOptions]


def validate_options(facet: FacetOptions, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
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


def parse_facets(where: str, raw: Any, catalog: FacetCatalog) -> dict[str, dict[str, Any]]:
    """The section's facets with their checked options. A facet named without options (a
    list of names, ``name: {}``) gets ``{}``: its defaults are filled in when it is captured
    (:func:`validate_options` on an empty mapping cannot fail), so naming a facet does not
    load it."""
    if isinstance(raw, list):
        raw = {name: {} for name in string_list(where, "facets", raw)}
    expect(where, "facets", raw, dict, "a list of facet names or a mapping")
    facets: dict[str, dict[str, Any]] = {}
    for name, options in raw.items():
        if name not in catalog:
            raise ProfileError(
                f"{where}: facets.{name}: unknown facet (known: {', '.join(sorted(catalog))})"
            )
        if options is None or options is True:
            options = {}
        if options is False:
            continue
        expect(where, f"facets.{name}", options, dict, "a mapping of options")
        facets[name] = (
            validate_options(catalog[name], options, f"{where}: facets.{name}") if options else {}
        )
    return facets
