"""Schema objects: tables, columns, constraints, indexes, triggers, views, types, sequences,
functions. Keys are ``"schema.name"`` (functions ``"schema.name(args)"``)."""

from __future__ import annotations

from collections.abc import Mapping

from repro.diff.model import Change, Kind, Severity
from repro.diff.rules.base import AssessFn, Assessment, Context, Rule, fixed, kinds
from repro.diff.values import as_number, show

# Sub-maps of a table whose keys name objects (a column, a constraint...).
_MEMBERS = frozenset({"columns", "constraints", "indexes", "triggers", "policies"})


def split(keys: tuple[str, ...]) -> tuple[str, str]:
    """("tables", "public.users", "columns", "email", "type") -> ("public.users.email", "type")."""
    owner, rest = keys[1], keys[2:]
    if len(rest) >= 2 and rest[0] in _MEMBERS:
        owner, rest = f"{owner}.{rest[1]}", rest[2:]
    return owner, ".".join(rest)


def obj(what: str, severity: Severity | Mapping[Kind, Severity]) -> AssessFn:
    """An object present on one side only (a severity, or one per side)."""

    def assess(change: Change, ctx: Context) -> Assessment | None:
        owner, _ = split(change.keys)
        level = severity if isinstance(severity, str) else severity.get(change.kind)
        if level is None:
            return None
        if change.kind == "only_in_prod":
            return Assessment(level, f"{what} {owner} only in {ctx.left_label}")
        if change.kind == "only_in_staging":
            return Assessment(
                level,
                f"{what} {owner} missing in {ctx.left_label} (exists in {ctx.right_label})",
            )
        return None

    return assess


def attr(severity: Severity, what: str | None = None) -> AssessFn:
    """An attribute of an object that differs (or exists on one side)."""

    def assess(change: Change, ctx: Context) -> Assessment:
        owner, name = split(change.keys)
        return Assessment(
            severity,
            f"{owner} {what or name}: {ctx.left_label} {show(change.left)} vs "
            f"{ctx.right_label} {show(change.right)}",
        )

    return assess


def _nullable(change: Change, ctx: Context) -> Assessment:
    owner, _ = split(change.keys)
    state = {True: "NULL allowed", False: "NOT NULL"}
    left = (
        state.get(change.left, show(change.left))
        if isinstance(change.left, bool)
        else show(change.left)
    )
    right = (
        state.get(change.right, show(change.right))
        if isinstance(change.right, bool)
        else show(change.right)
    )
    return Assessment("high", f"{owner}: {left} in {ctx.left_label}, {right} in {ctx.right_label}")


def _sequence_position(change: Change, ctx: Context) -> Assessment:
    """last_value moves with the data; it matters only near the end of the type's range
    ("integer out of range" after two billion orders, only in prod)."""
    name = change.keys[1]
    sides = (("left", ctx.left_label, change.left), ("right", ctx.right_label, change.right))
    for side, label, value in sides:
        last = as_number(value)
        maximum = ctx.value("left" if side == "left" else "right", ("sequences", name, "max"))
        top = as_number(maximum)
        if last is not None and top and last / top >= 0.5:
            return Assessment(
                "high" if side == "left" else "medium",
                f"sequence {name} has used {last / top:.0%} of its range in {label} "
                f"(last value {show(value)} of {show(maximum)})",
            )
    return Assessment("info", "sequence position moves with the data", hide=True)


def _enum_labels(change: Change, ctx: Context) -> Assessment:
    only_left, only_right = ctx.list_delta(change.left, change.right)
    name = change.keys[1]
    if only_right:
        return Assessment(
            "high",
            f"enum {name}: {ctx.left_label} lacks "
            f"{', '.join(map(str, only_right))} (in {ctx.right_label})",
        )
    if only_left:
        return Assessment(
            "high", f"enum {name}: only {ctx.left_label} has {', '.join(map(str, only_left))}"
        )
    return Assessment("medium", f"enum {name}: labels in a different order")


def _function_body(change: Change, ctx: Context) -> Assessment:
    owner, _ = split(change.keys)
    return Assessment(
        "medium",
        f"function {owner}: body differs between {ctx.left_label} and "
        f"{ctx.right_label} (only hashes are captured)",
    )


T = "database.tables.*"
RULES: list[Rule] = [
    # Tables and columns.
    Rule("database.table", T, obj("table", "high")),
    Rule("database.column", f"{T}.columns.*", obj("column", "high")),
    Rule("database.column-type", f"{T}.columns.*.type", attr("high", "type")),
    Rule("database.column-nullable", f"{T}.columns.*.nullable", _nullable),
    Rule("database.column-order", f"{T}.columns.*.position", attr("low", "column position")),
    Rule("database.column", f"{T}.columns.*.inherited", attr("low")),
    Rule("database.column", f"{T}.columns.*.*", attr("medium")),
    # Constraints and indexes: what the database refuses, and how fast it answers.
    Rule("database.constraint", f"{T}.constraints.*", obj("constraint", "high")),
    Rule("database.constraint", f"{T}.constraints.*.validated", attr("medium")),
    Rule("database.constraint", f"{T}.constraints.*.inherited", attr("low")),
    Rule("database.constraint", f"{T}.constraints.*.**", attr("high")),
    Rule("database.index", f"{T}.indexes.*", obj("index", "high")),
    Rule("database.index", f"{T}.indexes.*.options.**", attr("medium")),
    Rule("database.index", f"{T}.indexes.*.**", attr("high")),
    Rule("database.trigger", f"{T}.triggers.*", obj("trigger", "medium")),
    Rule("database.trigger", f"{T}.triggers.*.**", attr("medium")),
    Rule("database.policy", f"{T}.policies.*", obj("row security policy", "high")),
    Rule("database.policy", f"{T}.policies.*.**", attr("high")),
    Rule("database.table", f"{T}.row_security.**", attr("high", "row security")),
    Rule("database.table", f"{T}.kind", attr("high")),
    Rule("database.table", f"{T}.partition_by", attr("high", "partitioning")),
    Rule("database.table", f"{T}.**", attr("medium")),
    # Views and functions change behaviour, not structure.
    Rule("database.view", "database.views.*", obj("view", "medium")),
    Rule("database.view", "database.views.*.**", attr("medium")),
    Rule("database.function", "database.functions.*", obj("function", "medium")),
    Rule("database.function", "database.functions.*.body_sha256", _function_body),
    Rule("database.function", "database.functions.*.**", attr("medium")),
    # Types: a label or check missing in prod makes writes fail there.
    Rule("database.enum", "database.enums.*.labels", _enum_labels, kinds("changed")),
    Rule("database.type", "database.enums.*", obj("enum type", "high")),
    Rule("database.type", "database.domains.*", obj("domain", "high")),
    Rule("database.type", "database.composite_types.*", obj("composite type", "high")),
    Rule("database.type", "database.range_types.*", obj("range type", "high")),
    Rule("database.type", "database.enums.*.**", attr("high")),
    Rule("database.type", "database.domains.*.**", attr("high")),
    Rule("database.type", "database.composite_types.*.**", attr("high")),
    Rule("database.type", "database.range_types.*.**", attr("high")),
    # Sequences.
    Rule("database.sequence", "database.sequences.*.last_value", _sequence_position),
    Rule("database.sequence", "database.sequences.*", obj("sequence", "medium")),
    Rule("database.sequence", "database.sequences.*.owned_by", attr("low", "owned by")),
    Rule("database.sequence", "database.sequences.*.**", attr("medium")),
    # Migration history (alembic_version...): another version is another schema; the schema's
    # own differences are listed beside it, this says which migration explains them.
    Rule(
        "database.migration-history",
        "database.migration_tables.*.rows",
        fixed("medium", "migration history of {parent}: {L} {left} vs {R} {right}"),
        kinds("changed"),
    ),
    Rule(
        "database.migration-history",
        "database.migration_tables.*",
        obj("migration table", "medium"),
    ),
    Rule("database.migration-history", "database.migration_tables.*.**", attr("low")),
]
