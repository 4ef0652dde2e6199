"""Which schemas a diff looks at: the profiles' ``database.schemas`` and ``--schema`` /
``--exclude-schema`` (globs, as pg_dump's ``-n``/``-N``).

The database facet's schema-scoped sections are keyed ``"schema.name"``; entries outside
the scope are left out of both sides before the walk, so they are neither compared nor
reported. Database-wide objects (roles, extensions, casts, publications, servers...) stay:
they matter whichever schemas the app uses.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

# Sections keyed "schema.name" (their entries also carry "schema").
QUALIFIED_SECTIONS = frozenset(
    {
        "tables",
        "views",
        "sequences",
        "functions",
        "enums",
        "domains",
        "composite_types",
        "range_types",
        "base_types",
        "collations",
        "operators",
        "operator_families",
        "operator_classes",
        "conversions",
        "extended_statistics",
        "text_search_configurations",
        "text_search_dictionaries",
        "text_search_parsers",
        "text_search_templates",
        "statistics",
        "grants",
    }
)


@dataclass(frozen=True)
class SchemaScope:
    """A schema is in scope when every profile that lists ``database.schemas`` lists it (a
    schema one side never captured cannot be compared), it matches one of ``include``
    (when given) and none of ``exclude``. Options match exactly or as fnmatch globs."""

    profiles: tuple[frozenset[str], ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        profiles: list[list[str] | None],
        include: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> SchemaScope:
        return cls(
            tuple(frozenset(p) for p in profiles if p is not None),
            tuple(include or ()),
            tuple(exclude or ()),
        )

    @property
    def everything(self) -> bool:
        return not (self.profiles or self.include or self.exclude)

    def keeps(self, schema: str) -> bool:
        if any(schema not in names for names in self.profiles):
            return False
        if self.include and not _matches(schema, self.include):
            return False
        return not _matches(schema, self.exclude)

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """The database facet's data within the scope (a new top-level map; entries are
        shared, not copied)."""
        if self.everything:
            return data
        out = dict(data)
        for section in QUALIFIED_SECTIONS & set(data):
            entries = data[section]
            if isinstance(entries, dict):
                out[section] = {
                    key: entry
                    for key, entry in entries.items()
                    if self.keeps(_schema_of(key, entry))
                }
        if isinstance(data.get("schemas"), dict):
            out["schemas"] = {k: v for k, v in data["schemas"].items() if self.keeps(k)}
        if isinstance(data.get("default_privileges"), dict):
            out["default_privileges"] = {
                role: {s: v for s, v in schemas.items() if s == "*" or self.keeps(s)}
                if isinstance(schemas, dict)
                else schemas
                for role, schemas in data["default_privileges"].items()
            }
        return out


def _schema_of(key: str, entry: Any) -> str:
    schema = entry.get("schema") if isinstance(entry, dict) else None
    return schema if isinstance(schema, str) else key.split(".", 1)[0]


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns)
