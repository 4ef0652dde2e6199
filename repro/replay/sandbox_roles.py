"""Production's app role in the sandbox: its attributes, its groups and the privileges the
snapshot recorded, so the app meets production's permissions (a missing GRANT is a classic
production-only failure). Never SUPERUSER.

The snapshot holds each object's declared privileges (``privileges: {grantee: [...]}``): the
sandbox grants what production granted to the app role, to the groups it is a member of
(made as NOLOGIN roles) and to PUBLIC, which together are what the app role could do. A
snapshot made before privileges were captured per object carries ``grants`` (the app role's
effective privileges) instead, and those are granted directly.

Every name is quoted, every privilege checked against PostgreSQL's own list: a snapshot is a
file from another machine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from repro.pg.ddl import quote_ident, quote_literal

PUBLIC = "PUBLIC"
# What GRANT accepts, per object kind (MAINTAIN: PostgreSQL 17).
TABLE_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}
)
SEQUENCE_PRIVILEGES = frozenset({"SELECT", "UPDATE", "USAGE"})
SCHEMA_PRIVILEGES = frozenset({"CREATE", "USAGE"})
COLUMN_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "REFERENCES"})
GRANT_OPTION = " WITH GRANT OPTION"


def role_statements(database: Mapping[str, Any], role: str, password: str) -> list[str]:
    """SQL making production's app role ``role`` in the sandbox, with its privileges."""
    roles = database.get("roles") or {}
    entry = roles.get(role)
    if not isinstance(entry, Mapping):
        return []
    flags = [
        "LOGIN" if entry.get("login", True) else "NOLOGIN",
        "CREATEDB" if entry.get("createdb") else "NOCREATEDB",
        "CREATEROLE" if entry.get("createrole") else "NOCREATEROLE",
        "INHERIT" if entry.get("inherit", True) else "NOINHERIT",
        "BYPASSRLS" if entry.get("bypassrls") else "NOBYPASSRLS",
    ]
    limit = entry.get("connection_limit")
    if isinstance(limit, int):
        flags.append(f"CONNECTION LIMIT {limit}")
    statements = [
        f"CREATE ROLE {quote_ident(role)} {' '.join(flags)} PASSWORD {quote_literal(password)}"
    ]
    groups = [g for g in entry.get("member_of") or [] if isinstance(g, str)]
    for group in groups:
        statements.append(
            f"DO $$BEGIN CREATE ROLE {quote_ident(group)} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END$$"
        )
        statements.append(f"GRANT {quote_ident(group)} TO {quote_ident(role)}")
    if isinstance(database.get("grants"), Mapping):
        statements += _effective_grants(database, role)
    else:
        statements += _declared_grants(database, {role, *groups, PUBLIC})
    statements += _ownership(database, role)
    return statements


def _grantee(name: str) -> str:
    return PUBLIC if name == PUBLIC else quote_ident(name)


def _qualified(key: str) -> str | None:
    if "." not in key:
        return None
    schema, name = key.split(".", 1)
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _grants(
    privileges: Any, grantees: set[str], allowed: frozenset[str]
) -> Iterator[tuple[str, list[str]]]:
    """(grantee, [privileges]) among ``grantees``, only privileges GRANT accepts."""
    if not isinstance(privileges, Mapping):
        return
    for grantee, names in sorted(privileges.items()):
        if grantee not in grantees or not isinstance(names, list):
            continue
        granted = sorted(
            {n.removesuffix(GRANT_OPTION) for n in names if isinstance(n, str)} & allowed
        )
        if granted:
            yield grantee, granted


def _declared_grants(database: Mapping[str, Any], grantees: set[str]) -> list[str]:
    statements = []
    for section, kind in (("tables", "TABLE"), ("views", "TABLE"), ("sequences", "SEQUENCE")):
        allowed = SEQUENCE_PRIVILEGES if kind == "SEQUENCE" else TABLE_PRIVILEGES
        for key, entry in sorted((database.get(section) or {}).items()):
            target = _qualified(key)
            if target is None or not isinstance(entry, Mapping):
                continue
            for grantee, granted in _grants(entry.get("privileges"), grantees, allowed):
                statements.append(
                    f"GRANT {', '.join(granted)} ON {kind} {target} TO {_grantee(grantee)}"
                )
            for column, column_entry in sorted((entry.get("columns") or {}).items()):
                if not isinstance(column_entry, Mapping):
                    continue
                for grantee, granted in _grants(
                    column_entry.get("privileges"), grantees, COLUMN_PRIVILEGES
                ):
                    statements.append(
                        f"GRANT {', '.join(f'{p} ({quote_ident(column)})' for p in granted)} "
                        f"ON TABLE {target} TO {_grantee(grantee)}"
                    )
    for name, schema in sorted((database.get("schemas") or {}).items()):
        if not isinstance(schema, Mapping):
            continue
        for grantee, granted in _grants(schema.get("privileges"), grantees, SCHEMA_PRIVILEGES):
            statements.append(
                f"GRANT {', '.join(granted)} ON SCHEMA {quote_ident(name)} TO {_grantee(grantee)}"
            )
    return statements


def _effective_grants(database: Mapping[str, Any], role: str) -> list[str]:
    """Snapshots from before per-object privileges: the app role's effective ones."""
    statements = []
    tables = database.get("tables") or {}
    sequences = database.get("sequences") or {}
    for key, grantees in sorted(database["grants"].items()):
        kind = "TABLE" if key in tables else "SEQUENCE" if key in sequences else None
        target = _qualified(key)
        if kind is None or target is None:
            continue
        allowed = SEQUENCE_PRIVILEGES if kind == "SEQUENCE" else TABLE_PRIVILEGES
        for _, granted in _grants(grantees, {role}, allowed):
            statements.append(
                f"GRANT {', '.join(granted)} ON {kind} {target} TO {quote_ident(role)}"
            )
    for name, schema in sorted((database.get("schemas") or {}).items()):
        if isinstance(schema, Mapping):
            for _, granted in _grants(schema.get("privileges"), {role}, SCHEMA_PRIVILEGES):
                statements.append(
                    f"GRANT {', '.join(granted)} ON SCHEMA {quote_ident(name)} "
                    f"TO {quote_ident(role)}"
                )
    return statements


def _ownership(database: Mapping[str, Any], role: str) -> list[str]:
    """Objects production's app role owns: ownership carries privileges no GRANT lists
    (ALTER, DROP, TRUNCATE) and a table's owned sequences follow it."""
    role_sql = quote_ident(role)
    statements = []
    for name, schema in sorted((database.get("schemas") or {}).items()):
        if isinstance(schema, Mapping) and schema.get("owner") == role:
            statements.append(f"ALTER SCHEMA {quote_ident(name)} OWNER TO {role_sql}")
    for key, table in sorted((database.get("tables") or {}).items()):
        target = _qualified(key)
        if isinstance(table, Mapping) and table.get("owner") == role and target is not None:
            what = {"view": "VIEW", "materialized_view": "MATERIALIZED VIEW"}.get(
                str(table.get("kind")), "TABLE"
            )
            statements.append(f"ALTER {what} {target} OWNER TO {role_sql}")
    return statements
