"""SQL text the fix script writes: literals and identifiers that mean exactly the captured
value, whatever ``standard_conforming_strings`` says, on one line."""

from __future__ import annotations

import re
from typing import Any

_LOWER_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")
_ANY_CASE_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# PostgreSQL's reserved and type/function-name keywords: not usable as a bare identifier.
_KEYWORDS = frozenset(
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
        "authorization", "binary", "both", "case", "cast", "check", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant",
        "group", "having", "ilike", "in", "initially", "inner", "intersect", "into", "is",
        "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime",
        "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
        "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right",
        "select", "session_user", "similar", "some", "symmetric", "system_user", "table",
        "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using",
        "variadic", "verbose", "when", "where", "window", "with",
    }
)


def sql_literal(value: Any) -> str:
    """A literal valid whatever standard_conforming_strings says, on one line."""
    text = str(value)
    if re.search(r"[\\\x00-\x1f\x7f]", text):
        escaped = (
            text.replace("\\", "\\\\")
            .replace("'", "''")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group(0)):02x}", escaped)
        return f"E'{escaped}'"
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """Bare when PostgreSQL would read it back unchanged, else double-quoted."""
    if _LOWER_IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def sql_setting_name(name: str) -> str:
    """A (validated) setting name for ALTER SYSTEM: setting names are case-insensitive, so
    any-case parts stay bare; keywords are quoted."""
    return ".".join(
        part
        if _ANY_CASE_IDENTIFIER.fullmatch(part) and part.lower() not in _KEYWORDS
        else sql_identifier(part)
        for part in name.split(".")
    )
