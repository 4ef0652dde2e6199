"""The code of a captured schema, recreated: functions, procedures and aggregates, triggers
and row-level-security policies (the :mod:`repro.pg.ddl` script's code part).

Functions go in three places of the script, as their signatures allow: before the types
when they use only built-in types (a domain's check may call one), after the types, or
after the tables (a table's row type in the signature, or an SQL-standard body, which
PostgreSQL resolves when the function is made). Other bodies are not resolved until called:
the script turns ``check_function_bodies`` off, as pg_dump does. Views, defaults, checks and
indexes that call a function come after it. Triggers come after the load, so that the
rows a data job writes do not fire them; policies after row security is enabled.

A snapshot's code runs in the target like a restored dump's: only languages a database
trusts (SQL, PL/pgSQL, the trusted PLs) are recreated from one; C, internal and untrusted
languages (plpython3u...) are listed as not recreated. Every definition must lex as one
statement (:mod:`repro.pg.sql_text`) and is made in a savepoint: one that fails is listed
with PostgreSQL's reason, the rest of the schema is made.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.pg.sql_text import SqlTextError, check_expression, check_statement

Entry = Mapping[str, Any]

# Languages whose code cannot reach outside the database (PostgreSQL's trusted PLs): the only
# ones a snapshot's code is run in. C, internal, plpython3u, plperlu, plsh... are not.
_TRUSTED = frozenset({"sql", "plpgsql", "plperl", "pltcl", "pllua", "plv8", "java"})
_ENABLED = {"disabled": "DISABLE", "replica": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}
_COMMANDS = {"select": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


@dataclass
class FunctionPlan:
    """Statement texts (kind, target, sql) per place in the script."""

    before_types: list[tuple[str, str, str]] = field(default_factory=list)
    after_types: list[tuple[str, str, str]] = field(default_factory=list)
    after_tables: list[tuple[str, str, str]] = field(default_factory=list)
    after_views: list[tuple[str, str, str]] = field(default_factory=list)  # a view's row type
    skipped: list[str] = field(default_factory=list)
    # functions made only after the tables: a default calling one is set then
    late: set[str] = field(default_factory=set)
    # functions not made: whatever calls one is not made either
    absent: dict[str, Entry] = field(default_factory=dict)

    @property
    def any_early(self) -> bool:
        """Whether functions are made before the load (their bodies then go unchecked)."""
        return bool(self.before_types or self.after_types or self.after_tables)


def definition_text(entry: Entry) -> tuple[str | None, bool]:
    """The definition to run, and whether secrets in it were masked; None if not captured
    or withheld."""
    definition = entry.get("definition")
    if isinstance(definition, str):
        return definition, False
    if isinstance(definition, Mapping) and isinstance(definition.get("masked"), str):
        return str(definition["masked"]), True
    return None, False


def why_not(entry: Entry) -> str | None:
    """Why a captured function cannot be made from the snapshot (None: it can)."""
    definition = entry.get("definition")
    if definition is None:
        return "definition not captured (a snapshot of an older repro keeps only a hash)"
    text, _ = definition_text(entry)
    if text is None:
        return "definition withheld: it holds a secret that cannot be masked out of it"
    language = str(entry.get("language") or "")
    # an aggregate's own language is "internal": its code is its support functions'
    if language not in _TRUSTED and entry.get("kind") != "aggregate":
        return f"language {language or '?'} is not trusted: a snapshot's code is not run in it"
    if not re.match(
        r"\s*CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE|AGGREGATE)\b", text, re.IGNORECASE
    ):
        return "definition is not a CREATE FUNCTION, PROCEDURE or AGGREGATE"
    try:
        check_statement(text)
    except SqlTextError as exc:
        return f"definition is not one SQL statement ({exc})"
    return None


def _standard_body(entry: Entry, text: str) -> bool:
    """An SQL-standard body (BEGIN ATOMIC / RETURN, PostgreSQL 14+) is resolved when made."""
    return str(entry.get("language")) == "sql" and not re.search(r"^\s*AS\s", text, re.MULTILINE)


def plan_functions(
    functions: Mapping[str, Entry],
    uses_types: Callable[[str], bool],
    uses_tables: Callable[[str], bool],
    uses_views: Callable[[str], bool],
    calls: Callable[[str], list[str]],
    order: Callable[[list[str], Mapping[str, list[str]]], list[str]],
) -> FunctionPlan:
    """``uses_types(text)`` (and tables, views): whether a text names a captured type
    (table, view); ``calls(text)``: the function keys a text calls, ``order(keys, deps)``
    the schema's dependency order (to order late ones)."""
    plan = FunctionPlan()
    late: dict[str, str] = {}
    aggregates: list[tuple[str, str, str]] = []
    for key, entry in sorted(functions.items()):
        reason = why_not(entry)
        if reason is not None:
            plan.absent[key] = entry
            plan.skipped.append(f"{entry.get('kind') or 'function'} {key}: {reason}")
            continue
        text, masked = definition_text(entry)
        assert text is not None
        kind = str(entry.get("kind") or "function")
        if masked:
            plan.skipped.append(
                f"{kind} {key}: recreated with the secrets in its definition masked (***)"
            )
        signature = f"{entry.get('arguments') or ''} {entry.get('returns') or ''}"
        if kind == "aggregate":
            # after every function it may use (made with the tables' functions); no
            # default, check or index can call an aggregate
            aggregates.append((kind, key, text))
        elif uses_views(signature) or (_standard_body(entry, text) and uses_views(text)):
            plan.after_views.append((kind, key, text))
        elif uses_tables(signature) or _standard_body(entry, text):
            late[key] = text
        elif uses_types(signature):
            plan.after_types.append((kind, key, text))
        else:
            plan.before_types.append((kind, key, text))
    plan.late = set(late)
    # Late ones in the order their bodies call each other (a cycle keeps name order).
    late_order = order(sorted(late), {k: [c for c in calls(late[k]) if c != k] for k in late})
    plan.after_tables = [
        (str(functions[k].get("kind") or "function"), k, late[k]) for k in late_order
    ] + aggregates
    return plan


def trigger_statements(
    key: str, table_sql: str, triggers: Mapping[str, Any], absent_names: set[str]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """CREATE TRIGGER (and the enabled state) for one relation's own triggers."""
    out: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for name, trigger in sorted(triggers.items()):
        if not isinstance(trigger, Mapping) or trigger.get("inherited"):
            continue  # a partition's clone comes with its parent's trigger
        definition = trigger.get("definition")
        function = str(trigger.get("function") or "")
        if not isinstance(definition, str):
            skipped.append(f"trigger {key}.{name}: definition not captured (relation locked)")
            continue
        if function in absent_names:
            skipped.append(f"trigger {key}.{name}: calls {function}, not recreated")
            continue
        if not re.match(r"\s*CREATE\s+(CONSTRAINT\s+)?TRIGGER\b", definition, re.IGNORECASE):
            skipped.append(f"trigger {key}.{name}: definition is not a CREATE TRIGGER")
            continue
        try:
            check_statement(definition)
        except SqlTextError as exc:
            skipped.append(f"trigger {key}.{name}: definition is not one SQL statement ({exc})")
            continue
        out.append(("trigger", f"{key}.{name}", definition))
        state = _ENABLED.get(str(trigger.get("enabled")))
        if state is not None:
            out.append(
                (
                    "trigger",
                    f"{key}.{name}",
                    f"ALTER TABLE {table_sql} {state} TRIGGER {_quote_ident(name)}",
                )
            )
    return out, skipped


def policy_statements(
    key: str, table_sql: str, policies: Mapping[str, Any]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """CREATE POLICY for one table's policies (its roles must exist in the target)."""
    out: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for name, policy in sorted(policies.items()):
        if not isinstance(policy, Mapping):
            skipped.append(f"policy {key}.{name}: not captured")
            continue
        sql = f"CREATE POLICY {_quote_ident(name)} ON {table_sql}"
        sql += " AS PERMISSIVE" if policy.get("permissive", True) else " AS RESTRICTIVE"
        sql += f" FOR {_COMMANDS.get(str(policy.get('command')), 'ALL')}"
        roles = [str(r) for r in policy.get("roles") or []]
        if roles:
            sql += " TO " + ", ".join(
                "PUBLIC" if role == "public" else _quote_ident(role) for role in roles
            )
        problem = None
        for clause, field_name in (("USING", "using"), ("WITH CHECK", "with_check")):
            expression = policy.get(field_name)
            if expression is None:
                continue
            if not isinstance(expression, str):
                problem = f"{field_name} expression not captured"
                break
            try:
                check_expression(expression)
            except SqlTextError as exc:
                problem = f"{field_name} is not one SQL expression ({exc})"
                break
            sql += f" {clause} ({expression})"
        if problem is not None:
            skipped.append(f"policy {key}.{name}: {problem}")
            continue
        out.append(("policy", f"{key}.{name}", sql))
    return out, skipped


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
