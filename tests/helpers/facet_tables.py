"""Literal database facets for generator tests: columns, keys and tables of schema "s"."""

from __future__ import annotations

from typing import Any


def column(position: int, type_: str, **extra: Any) -> dict[str, Any]:
    return {
        "position": position,
        "type": type_,
        "nullable": True,
        "default": None,
        "generated": None,
        "identity": None,
        **extra,
    }


def unique(*columns: str, kind: str = "unique") -> dict[str, Any]:
    return {"type": kind, "columns": list(columns), "definition": "", "inherited": False}


def fk(columns: list[str], table: str, ref: list[str]) -> dict[str, Any]:
    return {
        "type": "foreign_key",
        "columns": columns,
        "definition": "",
        "inherited": False,
        "references": {"table": table, "columns": ref},
        "deferrable": False,
    }


def table(name: str, columns: dict[str, Any], constraints: dict[str, Any], rows: int) -> Any:
    return {
        "schema": "s",
        "name": name,
        "kind": "table",
        "columns": columns,
        "constraints": constraints,
        "indexes": {},
        "rows_estimate": rows,
        "partition_of": None,
        "partition_by": None,
        "partition_bound": None,
    }
