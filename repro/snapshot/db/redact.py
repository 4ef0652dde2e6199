"""The database facet fingerprints its own secrets, knowing which fields can hold one.

The capture layer's generic walk (:meth:`repro.redaction.Redactor.redact_tree`) rebuilds every
node of a facet and judges each leaf by its key: for a large schema that is an 8 MB tree,
most of it numbers, and some keys are data rather than names (a role called ``auth_service``
would have its privileges fingerprinted, a most-common value ``password`` its frequency).
Here the same redactor judges, in place, what can hold a secret:

- every string (and string list) of every entry, by its field's name and its own shape —
  definitions, defaults, expressions, comments, labels, partition bounds, options — except
  fields that hold identifiers PostgreSQL produced (names, owners, types, kinds: the map
  keys repeat them anyway); a field added later is judged by default;
- planner statistics: columns judged personal were fingerprinted as they were read
  (:mod:`.stats`; a secret-looking value or name makes a column personal); the values kept
  for the others (most common values, text histogram bounds) are judged as values here,
  which also covers columns a profile declared public;
- privileges and default privileges hold only role and privilege names, keyed by role:
  nothing to judge, and judging by those keys would be wrong.

Options and connection strings (foreign servers, user mappings, subscriptions) were judged
by name where they were read; their fingerprints are recognised and left alone.
"""

from __future__ import annotations

import re
from typing import Any

from repro.redaction import Redactor

# Sections (top-level keys) that hold only role and privilege names.
NAMES_ONLY = frozenset({"default_privileges"})
# Member maps that hold only role and privilege names, keyed by role.
NAME_MEMBERS = frozenset({"privileges"})
# Fields holding identifiers, keywords or flags that PostgreSQL itself produced (a map under
# one of these names is still judged: a table's ``columns`` hold defaults).
IDENTIFIERS = frozenset(
    {
        "schema",
        "name",
        "kind",
        "owner",
        "type",
        "method",
        "identity",
        "persistence",
        "enabled",
        "command",
        "event",
        "language",
        "volatility",
        "parallel",
        "provider",
        "partition_of",
        "foreign_server",
        "function",
        "table",
        "family",
        "parent_index",
        "constraint",
        "match",
        "on_update",
        "on_delete",
        "replica_identity",
        "access_method",
        "tablespace",
        "storage",
        "compression",
        "member_of",
        "used_by",
        "inherits",
        "include",
        "roles",
        "body_sha256",
        "valid_until",
        "collation",
        # functions, operators and types that other objects name
        "handler",
        "validator",
        "inline",
        "input",
        "output",
        "receive",
        "send",
        "typmod_in",
        "typmod_out",
        "analyze",
        "subscript",
        "element",
        "category",
        "alignment",
        "delimiter",
        "left",
        "right",
        "result",
        "commutator",
        "negator",
        "restrict",
        "join",
        "source",
        "target",
        "from_sql",
        "to_sql",
        "parser",
        "template",
        "start",
        "gettoken",
        "end",
        "headline",
        "lextypes",
        "init",
        "lexize",
        "wrapper",
        "server",
        "user",
        "publications",
        "slot_name",
        "synchronous_commit",
        "origin",
        "two_phase",
    }
)
# Members of tables and views judged field by field (a large schema has tens of thousands):
# the fields that can hold text from outside PostgreSQL's vocabulary. Every other field of
# theirs must be in MEMBER_PLAIN: tests/snapshot/test_database.py fails on a field in
# neither, so a field added later cannot go unjudged by oversight.
MEMBER_TEXT: dict[str, tuple[str, ...]] = {
    "columns": ("default", "generated", "comment", "options", "foreign_options"),
    "constraints": ("definition", "comment"),
    "indexes": ("definition", "predicate", "columns", "comment", "options"),
}
MEMBER_PLAIN: dict[str, frozenset[str]] = {
    "columns": frozenset(
        {"position", "type", "nullable", "identity", "collation", "inherited", "privileges",
         "storage", "statistics_target", "compression"}
    ),
    "constraints": frozenset(
        {"type", "columns", "references", "on_update", "on_delete", "match", "deferrable",
         "initially_deferred", "validated", "inherited", "no_inherit"}
    ),
    "indexes": frozenset(
        {"unique", "primary", "valid", "method", "include", "expressions", "constraint",
         "parent_index", "clustered", "replica_identity", "tablespace"}
    ),
}  # fmt: skip
# What a value is called when it is judged as data (its shape only, not a name).
VALUE = "value"


def redact_database(data: dict[str, Any], redactor: Redactor) -> None:
    """Fingerprint, in place, what can hold a secret in the facet's data but its planner
    statistics (:func:`redact_statistics`: they are read apart, often in parallel)."""
    for section, value in data.items():
        if section in NAMES_ONLY or section == "statistics" or not isinstance(value, dict):
            continue
        _judge_map(value, redactor)


def _judge_map(node: dict[str, Any], redactor: Redactor) -> None:
    # Types are tested exactly (JSON-like data): the common cases first, bool before int.
    for key, value in node.items():
        kind = type(value)
        if kind is dict:
            if key in NAME_MEMBERS or value.get("redacted") is True:
                continue
            fields = MEMBER_TEXT.get(key)
            if fields is None:
                _judge_map(value, redactor)  # keyed by names: a table's rules, a type's...
            else:
                _judge_members(value, fields, redactor)
        elif key not in IDENTIFIERS:
            _judge_field(node, key, value, redactor)


def _judge_field(node: dict[str, Any], key: str, value: Any, redactor: Redactor) -> None:
    kind = type(value)
    if kind is str:
        judged = redactor.redact_scalar(key, value)
        if judged is not value:
            node[key] = judged
    elif kind is list:
        if value:
            node[key] = [_judge_item(key, item, redactor) for item in value]
    elif kind is dict:
        if value.get("redacted") is not True:
            _judge_map(value, redactor)
    elif (kind is int or kind is float) and redactor.name_is_secret(key):
        node[key] = redactor.redact_scalar(key, value)


def _judge_members(members: dict[str, Any], fields: tuple[str, ...], redactor: Redactor) -> None:
    """Columns, constraints or indexes: only their text fields (they are the bulk of a
    large schema, and most of their fields are names, flags and numbers)."""
    for name, entry in members.items():
        if type(entry) is not dict:
            if entry is not None:  # not the shape the readers make: judge it whole
                _judge_field(members, name, entry, redactor)
            continue
        for field in fields:
            value = entry.get(field)
            if value is not None:
                _judge_field(entry, field, value, redactor)


def _judge_item(key: str, item: Any, redactor: Redactor) -> Any:
    if isinstance(item, dict):
        if item.get("redacted") is not True:
            _judge_map(item, redactor)
        return item
    return redactor.redact_scalar(key, item)


# Values that are numbers, dates, times or intervals as PostgreSQL prints them: no letters,
# at most digits and separators, so no secret shape (a high-entropy token needs three kinds
# of characters). Most histograms are these: one test spares judging each bound.
_PLAIN_VALUES = re.compile(r"[0-9 :+\-.,/\n]*")


def redact_statistics(tables: dict[str, Any], redactor: Redactor) -> None:
    """The values kept of columns not judged personal, judged as values."""
    for table in tables.values():
        for column in table.get("columns", {}).values():
            if column.get("personal") or not column.get("analyzed"):
                continue
            _judge_mcv(column.get("mcv"), redactor)
            _judge_bounds(column.get("histogram"), redactor)


def _plain(values: list[str]) -> bool:
    return _PLAIN_VALUES.fullmatch("\n".join(values)) is not None


def _judge_mcv(mcv: dict[str, Any] | None, redactor: Redactor) -> None:
    if not mcv or mcv.get("values_fingerprinted"):
        return
    frequencies: dict[str, Any] = mcv.get("frequencies") or {}
    if _plain(list(frequencies)):
        return
    judged = {value: redactor.redact_scalar(VALUE, value) for value in frequencies}
    if all(judged[value] is value for value in frequencies):
        return
    # A secret among them: all become fingerprints, as for a personal column (a consumer
    # treats the keys of one column alike).
    mcv["values_fingerprinted"] = True
    mcv["frequencies"] = {
        redactor.fingerprint(value): frequency for value, frequency in frequencies.items()
    }


def _judge_bounds(histogram: dict[str, Any] | None, redactor: Redactor) -> None:
    bounds = (histogram or {}).get("bounds")
    if not bounds:
        return
    texts = [b for b in bounds if isinstance(b, str)]
    if not texts or _plain(texts):
        return
    for bound in texts:
        if redactor.redact_scalar(VALUE, bound) is not bound:
            assert histogram is not None
            histogram["bounds"] = None
            histogram["bounds_omitted"] = "secret"
            return
