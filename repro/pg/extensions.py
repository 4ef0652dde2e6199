"""Extensions a snapshot uses that a target server cannot install: found before anything is
made, with what needs each (columns of its types), so that a data job either goes on
without it (nothing made needs it, and the report says so) or stops in one line naming it
and what depends on it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

import psycopg


def unavailable(conn: psycopg.Connection[Any], names: Collection[str]) -> list[str]:
    """Which of the extensions ``names`` the server has no install script for (and are not
    installed already)."""
    if not names:
        return []
    rows = conn.execute(
        """
        SELECT n FROM pg_catalog.unnest(%s::text[]) n
        WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions a
                          WHERE a.name = n)
        ORDER BY 1
        """,
        (sorted(names),),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _type_name(declared: str) -> str:
    """``public.geometry(Point,4326)[]`` -> ``geometry``."""
    base = re.sub(r"\(.*?\)|\[\]", "", declared).strip()
    return base.rsplit(".", 1)[-1].strip('"')


def dependents(
    database: Mapping[str, Any], extension: str, tables: Collection[str] | None = None
) -> list[str]:
    """The columns (``schema.table.column (type)``) and domains whose types ``extension``
    makes, among ``tables`` (None: all)."""
    entry = (database.get("extensions") or {}).get(extension) or {}
    types = set(entry.get("types") or [])
    if not types:
        return []
    out = []
    for key, domain in sorted((database.get("domains") or {}).items()):
        if isinstance(domain, Mapping) and _type_name(str(domain.get("type") or "")) in types:
            out.append(f"domain {key} ({domain.get('type')})")
    for key, table in sorted((database.get("tables") or {}).items()):
        if (tables is not None and key not in tables) or not isinstance(table, Mapping):
            continue
        for name, column in sorted((table.get("columns") or {}).items()):
            declared = str((column or {}).get("type") or "")
            if not (column or {}).get("inherited") and _type_name(declared) in types:
                out.append(f"{key}.{name} ({declared})")
    return out
