"""Privileges, default privileges and roles: "permission denied" only on one side.

Paths: ``<object>.privileges.GRANTEE`` (a list of privilege names) on tables, views, columns,
sequences, functions, schemas, types, languages, foreign data wrappers and servers, and the
database; ``default_privileges.ROLE.SCHEMA.OBJECTS.GRANTEE``; ``roles.NAME``.

A privilege one side has and the other lacks is **high** when the role is used — the app's
role, one something logs in as (an app, a job, a person), a replication role, a pg_cron
job's owner, a group such a role belongs to, or PUBLIC — in either direction: production
lacking it is "permission denied only in prod", staging lacking it makes staging fail where
production works (and no reproduction there). For a role nobody uses it is **medium**. The
hint names the role, the privilege and the object: "role reporting lacks SELECT on
public.orders in staging".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from repro.diff.model import MISSING, Change, Severity
from repro.diff.rules.base import Assessment, Context, Rule, kinds
from repro.diff.values import show

PUBLIC = "PUBLIC"
GRANT_OPTION = " WITH GRANT OPTION"
_SECTIONS = {
    "tables": "",
    "views": "view ",
    "sequences": "sequence ",
    "functions": "function ",
    "schemas": "schema ",
    "enums": "type ",
    "domains": "domain ",
    "composite_types": "type ",
    "range_types": "type ",
    "base_types": "type ",
    "languages": "language ",
    "foreign_data_wrappers": "foreign data wrapper ",
    "foreign_servers": "foreign server ",
}
ONE_SIDE = kinds("only_in_prod", "only_in_staging")
_OBJECTS = {
    "tables": "tables",
    "sequences": "sequences",
    "functions": "functions",
    "types": "types",
    "schemas": "schemas",
}


def role_used(ctx: Context, role: str) -> bool:
    """Whether something uses the role on either side (see the module docstring). A
    snapshot from before ``used_by`` held only the app's roles: those are used."""
    if role == PUBLIC:
        return True
    for side in ("left", "right"):
        entry = ctx.value(side, ("roles", role))
        if isinstance(entry, dict):
            used_by = entry.get("used_by", MISSING)
            if used_by is MISSING or used_by:
                return True
    return False


def _object(keys: tuple[str, ...]) -> str:
    """What the object at ``keys`` (the path before ``privileges``) is, for a hint:
    "public.orders", "column public.orders.email", "schema public", "the database"."""
    section = keys[0]
    if section == "database":
        return "the database"
    if len(keys) == 4 and keys[2] == "columns":
        return f"column {keys[1]}.{keys[3]}"
    return _SECTIONS.get(section, section + " ") + keys[1]


def _items(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _lacks(have: set[str], other: set[str]) -> str:
    """What the side holding ``have`` lacks of ``other``: privileges, or only the grant
    option on one ("SELECT WITH GRANT OPTION" against "SELECT")."""
    plain = {p.removesuffix(GRANT_OPTION) for p in have}
    options = {p.removesuffix(GRANT_OPTION) for p in have if p.endswith(GRANT_OPTION)}
    lacking = []
    for name in sorted(other - have):
        base = name.removesuffix(GRANT_OPTION)
        if base not in plain:
            lacking.append(base)
        elif name != base and base not in options:
            lacking.append(f"the grant option on {base}")
    return ", ".join(dict.fromkeys(lacking))


def privilege_delta(change: Change, ctx: Context, grantee: str, what: str) -> Assessment:
    """The assessment of one grantee's privileges on one object (or a default-privilege
    rule) differing between the sides."""
    left, right = _items(change.left), _items(change.right)
    severity: Severity = "high" if role_used(ctx, grantee) else "medium"
    who = "PUBLIC" if grantee == PUBLIC else f"role {grantee}"
    parts = []
    left_lacks, right_lacks = _lacks(left, right), _lacks(right, left)
    if left_lacks:
        parts.append(
            f"{who} lacks {left_lacks} on {what} in {ctx.left_label} (has it in {ctx.right_label})"
        )
    if right_lacks:
        prefix = f"{who} " if not parts else ""
        parts.append(
            f"{prefix}lacks {right_lacks} on {what} in {ctx.right_label} "
            f"(has it in {ctx.left_label})"
        )
    if not parts:
        parts.append(
            f"{who} on {what}: {ctx.left_label} {show(change.left)} vs "
            f"{ctx.right_label} {show(change.right)}"
        )
    if severity == "medium":
        parts.append("(no app, job, replica or login uses this role)")
    return Assessment(severity, "; ".join(parts))


def _privileges(change: Change, ctx: Context) -> Assessment:
    keys = change.keys
    if keys[-1] == "privileges":  # the whole map on one side (what it holds comes with it)
        owner = _object(keys[:-1])
        side = ctx.left_label if change.kind == "only_in_prod" else ctx.right_label
        value = change.left if change.kind == "only_in_prod" else change.right
        grantees = value if isinstance(value, dict) else {}
        severity: Severity = "high" if any(role_used(ctx, g) for g in grantees) else "medium"
        return Assessment(severity, f"privileges on {owner} granted only in {side}: {show(value)}")
    return privilege_delta(change, ctx, keys[-1], _object(keys[:-2]))


def _default_privileges(change: Change, ctx: Context) -> Assessment:
    """default_privileges.ROLE.SCHEMA.OBJECTS.GRANTEE: what a role's future objects grant.
    A migration creating a table in production then leaves it without the grant."""
    keys = change.keys[1:]
    if len(keys) == 4:
        return privilege_delta(change, ctx, keys[3], _future_objects(*keys[:3]))
    side, value = (
        (ctx.left_label, change.left)
        if change.kind == "only_in_prod"
        else (ctx.right_label, change.right)
    )
    rules = list(_default_rules(keys, value))
    used = any(role_used(ctx, grantee) for grantee, _, _ in rules) or not rules
    severity: Severity = "high" if used else "medium"
    said = [
        f"{what} grant {grantee} {', '.join(map(str, names))}" for grantee, what, names in rules
    ]
    more = f" and {len(said) - 2} more" if len(said) > 2 else ""
    text = "; ".join(said[:2]) + more if said else show(value)
    return Assessment(severity, f"default privileges only in {side}: {text}")


def _future_objects(creator: str, schema: str, objects: str) -> str:
    where = f" in schema {schema}" if schema != "*" else ""
    return f"{_OBJECTS.get(objects, objects)} that {creator} creates{where}"


def _default_rules(keys: tuple[str, ...], value: Any) -> Iterator[tuple[str, str, list[Any]]]:
    """(grantee, "tables that app creates in schema public", privileges) for every rule
    in a default_privileges subtree at ``keys`` (ROLE[, SCHEMA[, OBJECTS]])."""
    if len(keys) == 3:
        if isinstance(value, dict):
            for grantee, names in sorted(value.items()):
                if isinstance(names, list):
                    yield str(grantee), _future_objects(*keys), names
        return
    if isinstance(value, dict):
        for key, child in sorted(value.items()):
            yield from _default_rules((*keys, str(key)), child)


def _role(change: Change, ctx: Context) -> Assessment:
    role = change.keys[1]
    L, R = ctx.left_label, ctx.right_label
    used = role_used(ctx, role)
    if len(change.keys) == 2 or change.name == "exists":
        if change.kind == "only_in_staging" or change.left is False:
            # Prod lacks a role staging has: whatever logs in as it fails in prod.
            severity: Severity = "high" if used else "low"
            return Assessment(severity, f"role {role} does not exist in {L} (exists in {R})")
        severity = "high" if used else "medium"
        return Assessment(severity, f"role {role} exists only in {L}")
    attribute = change.name
    if (
        attribute in _ROLE_POWERS
        and isinstance(change.left, bool)
        and isinstance(change.right, bool)
    ):
        if change.right and not change.left:
            return Assessment(
                "high" if used else "medium",
                f"role {role} is {attribute} in {R} but not in {L}: "
                f"what works in {R} may be denied in {L}",
            )
        return Assessment("medium", f"role {role} is {attribute} in {L} only")
    if attribute == "member_of":
        only_left, only_right = ctx.list_delta(change.left, change.right)
        if only_right:
            return Assessment(
                "high" if used else "medium",
                f"role {role} is not a member of "
                f"{', '.join(map(str, only_right))} in {L} (is in {R})",
            )
        return Assessment(
            "medium", f"role {role} is a member of {', '.join(map(str, only_left))} only in {L}"
        )
    return Assessment(
        "medium", f"role {role} {attribute}: {L} {show(change.left)} vs {R} {show(change.right)}"
    )


_ROLE_POWERS = frozenset(
    {"superuser", "createrole", "createdb", "login", "replication", "bypassrls", "inherit"}
)


_PRIVILEGE_PATHS = (
    "database.database",
    *(f"database.{section}.*" for section in _SECTIONS),
    "database.tables.*.columns.*",
    "database.views.*.columns.*",
)

RULES: list[Rule] = [
    *(Rule("database.privilege", f"{path}.privileges.*", _privileges) for path in _PRIVILEGE_PATHS),
    *(
        Rule("database.privilege", f"{path}.privileges", _privileges, ONE_SIDE)
        for path in _PRIVILEGE_PATHS
    ),
    Rule("database.default-privilege", "database.default_privileges.**", _default_privileges),
    Rule("database.role", "database.roles.*.**", _role),
]
