"""The database facet's top-level sections, for whoever reads its data without running it.

A capture writes every section, empty when the database has none of its objects (absent only
when it could not be read: then the facet is ``partial`` and says why). ``SINCE_PRIVILEGES``
are those a capture before per-object privileges did not write: a snapshot without them was
made by an older repro (see :mod:`repro.diff.fold`).
"""

from __future__ import annotations

ORIGINAL = frozenset(
    {
        "connection",
        "server",
        "database",
        "settings",
        "scoped_settings",
        "extensions",
        "schemas",
        "tables",
        "views",
        "enums",
        "domains",
        "composite_types",
        "range_types",
        "sequences",
        "functions",
        "roles",
        "statistics",
    }
)
SINCE_PRIVILEGES = frozenset(
    {
        "default_privileges",
        "collations",
        "base_types",
        "casts",
        "operators",
        "operator_families",
        "operator_classes",
        "conversions",
        "access_methods",
        "transforms",
        "extended_statistics",
        "text_search_configurations",
        "text_search_dictionaries",
        "text_search_parsers",
        "text_search_templates",
        "languages",
        "event_triggers",
        "publications",
        "subscriptions",
        "foreign_data_wrappers",
        "foreign_servers",
        "user_mappings",
        "security_labels",
    }
)
# Sections of snapshots from before per-object privileges (effective privileges of two roles).
RETIRED = frozenset({"grants"})
SECTIONS = ORIGINAL | SINCE_PRIVILEGES
