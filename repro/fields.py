"""Validating hand-written YAML (profiles and their sections): each check names the file, the
key and what was expected, in one line, as a ProfileError."""

from __future__ import annotations

from typing import Any

from repro.errors import ProfileError


def type_name(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


def expect(where: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProfileError(f"{where}: {key}: expected {what}, got {type_name(value)}")
    return value


def string_list(where: str, key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(f"{where}: {key}: expected a list of strings, got {type_name(value)}")
    return list(value)


def unknown_keys(where: str, prefix: str, raw: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ProfileError(
            f"{where}: {prefix}{unknown[0]}: unknown key (allowed: {', '.join(sorted(allowed))})"
        )
