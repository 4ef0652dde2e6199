"""Schema objects beyond tables and types: collations, casts, operators, text search,
languages, event triggers, publications, subscriptions, foreign data wrappers, servers and
user mappings, extended statistics; and what pg_dump writes about tables besides columns and
keys (rules, replica identity, storage).

Severities follow what breaks where:

- *high*: an object a query names that one side lacks (a collation, a cast, an operator or
  its class, a text search configuration, a base type: "does not exist" there), a collation
  or cast that behaves differently (sort order, which cast applies), a rule rewriting writes,
  an event trigger only in prod (it can refuse the migration that works in staging), a
  publication only in prod (UPDATE and DELETE fail on a published table without a replica
  identity), a user mapping missing in prod (its foreign tables fail there);
- *medium*: what changes results or plans without failing (text search mappings, extended
  statistics, replica identity, access methods), subscriptions and foreign servers;
- *low*: storage details and versions (a column's storage, statistics target, compression,
  a clustered index, tablespaces, a collation's library version).
"""

from __future__ import annotations

from collections.abc import Mapping

from repro.diff.model import Change, Kind, Severity
from repro.diff.rules.base import AssessFn, Assessment, Context, Rule, fixed
from repro.diff.rules.db_schema import obj
from repro.diff.values import show


def detail(what: str, severity: Severity) -> AssessFn:
    """An attribute of such an object: "collation app.german locale: prod de-DE vs ..."."""

    def assess(change: Change, ctx: Context) -> Assessment:
        attribute = ".".join(change.keys[2:]) or change.name
        return Assessment(
            severity,
            f"{what} {change.keys[1]} {attribute}: {ctx.left_label} {show(change.left)} vs "
            f"{ctx.right_label} {show(change.right)}",
        )

    return assess


def _published_table(change: Change, ctx: Context) -> Assessment:
    publication, table = change.keys[1], change.keys[3]
    if change.kind == "only_in_prod":
        return Assessment(
            "high",
            f"publication {publication} publishes {table} only in {ctx.left_label} "
            "(UPDATE and DELETE on it fail there without a replica identity)",
        )
    if change.kind == "only_in_staging":
        return Assessment(
            "medium", f"publication {publication} publishes {table} only in {ctx.right_label}"
        )
    return Assessment(
        "medium",
        f"publication {publication} of {table} {'.'.join(change.keys[4:])}: "
        f"{ctx.left_label} {show(change.left)} vs {ctx.right_label} {show(change.right)}",
    )


BOTH_HIGH: dict[Kind, Severity] = {"only_in_prod": "high", "only_in_staging": "high"}
PROD_HIGH: dict[Kind, Severity] = {"only_in_prod": "high", "only_in_staging": "medium"}
STAGING_HIGH: dict[Kind, Severity] = {"only_in_prod": "medium", "only_in_staging": "high"}
BOTH_MEDIUM: dict[Kind, Severity] = {"only_in_prod": "medium", "only_in_staging": "medium"}

# section, what it is called, severity of one present on one side, of an attribute change
_SECTIONS: tuple[tuple[str, str, Mapping[Kind, Severity], Severity], ...] = (
    ("collations", "collation", BOTH_HIGH, "high"),
    ("base_types", "type", BOTH_HIGH, "high"),
    ("casts", "cast", BOTH_HIGH, "high"),
    ("operators", "operator", BOTH_HIGH, "high"),
    ("operator_classes", "operator class", BOTH_HIGH, "high"),
    ("operator_families", "operator family", BOTH_HIGH, "medium"),
    ("conversions", "conversion", BOTH_MEDIUM, "medium"),
    ("access_methods", "access method", BOTH_MEDIUM, "medium"),
    ("transforms", "transform", BOTH_MEDIUM, "medium"),
    ("extended_statistics", "extended statistics", BOTH_MEDIUM, "medium"),
    ("text_search_configurations", "text search configuration", BOTH_HIGH, "medium"),
    ("text_search_dictionaries", "text search dictionary", BOTH_HIGH, "medium"),
    ("text_search_parsers", "text search parser", BOTH_MEDIUM, "medium"),
    ("text_search_templates", "text search template", BOTH_MEDIUM, "medium"),
    ("languages", "language", BOTH_HIGH, "medium"),
    ("event_triggers", "event trigger", PROD_HIGH, "high"),
    ("publications", "publication", PROD_HIGH, "high"),
    ("subscriptions", "subscription", BOTH_MEDIUM, "medium"),
    ("foreign_data_wrappers", "foreign data wrapper", BOTH_HIGH, "medium"),
    ("foreign_servers", "foreign server", BOTH_HIGH, "medium"),
    ("user_mappings", "user mapping", STAGING_HIGH, "medium"),
    ("security_labels", "security label", BOTH_MEDIUM, "medium"),
)


def _name(what: str) -> str:
    """The rule's name: "database.text-search-configuration"."""
    return "database." + what.replace(" ", "-")


T = "database.tables.*"
RULES: list[Rule] = [
    Rule("comment", "database.domains.*.check_comments.**", fixed("info", "{default}")),
    # A collation's library version differs between any two builds; an index sorted by the
    # other version may be corrupt, but the planner and queries behave alike.
    Rule("database.collation", "database.collations.*.version", detail("collation", "low")),
    Rule("database.publication", "database.publications.*.tables.*", _published_table),
    Rule("database.publication", "database.publications.*.tables.*.**", _published_table),
    *(
        rule
        for section, what, presence, change in _SECTIONS
        for rule in (
            Rule(_name(what), f"database.{section}.*", obj(what, presence)),
            Rule(_name(what), f"database.{section}.*.**", detail(what, change)),
        )
    ),
    # What pg_dump writes about tables besides columns and keys.
    *(
        Rule("database.rule", f"database.{section}.*.rules.*{deeper}", fixed("high", hint))
        for section in ("tables", "views")
        for deeper, hint in (("", "{default}"), (".**", "rule {parent}: {default}"))
    ),
    Rule("database.table", f"{T}.replica_identity", fixed("medium", "replica identity: {default}")),
    Rule("database.table", f"{T}.access_method", fixed("medium", "table access method: {default}")),
    Rule(
        "database.table",
        f"{T}.foreign_options.**",
        fixed("medium", "foreign table option: {default}"),
    ),
    Rule("database.storage", f"{T}.tablespace", fixed("low", "tablespace: {default}")),
    Rule("database.storage", "database.views.*.tablespace", fixed("low", "tablespace: {default}")),
    Rule("database.storage", f"{T}.indexes.*.tablespace", fixed("low", "tablespace: {default}")),
    Rule("database.storage", f"{T}.indexes.*.clustered", fixed("low", "CLUSTER ON: {default}")),
    Rule(
        "database.table",
        f"{T}.indexes.*.replica_identity",
        fixed("medium", "replica identity index: {default}"),
    ),
    *(
        Rule("database.storage", f"{T}.columns.*.{field}", fixed("low", f"{label}: {{default}}"))
        for field, label in (
            ("storage", "column storage"),
            ("statistics_target", "column statistics target"),
            ("compression", "column compression"),
        )
    ),
    Rule("database.column", f"{T}.columns.*.options.**", fixed("low", "column option: {default}")),
    Rule(
        "database.column",
        f"{T}.columns.*.foreign_options.**",
        fixed("medium", "foreign column option: {default}"),
    ),
]
