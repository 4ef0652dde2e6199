"""Showing captured values to people: short, one line, and safe for secrets.

A redacted value is shown by its masked form (URLs: ``postgresql://app:***@db/x``) or its
fingerprint, never anything else — the snapshot holds nothing else, and nothing here may
invent it.
"""

from __future__ import annotations

import math
from typing import Any

from repro.diff.model import MISSING
from repro.redacted import is_redacted
from repro.text import one_line

ABSENT = "(absent)"


def short_fingerprint(value: Any) -> str:
    """``hmac-sha256:<key-id>:<first 8 hex>…``: enough to tell two apart in a table."""
    fingerprint = str(value.get("fingerprint", "")) if isinstance(value, dict) else ""
    algo, _, rest = fingerprint.partition(":")
    key_id, _, digest = rest.partition(":")
    if not digest:
        return fingerprint or "?"
    return f"{algo}:{key_id}:{digest[:8]}…"


def secret_text(value: Any) -> str:
    masked = value.get("masked") if isinstance(value, dict) else None
    if isinstance(masked, str) and masked:
        return f"{masked} (secret {short_fingerprint(value)})"
    return f"secret {short_fingerprint(value)}"


def show(value: Any, limit: int = 60) -> str:
    """One line, at most ``limit`` characters (a secret's fingerprint is never cut: only its
    masked text is, so two secrets stay distinguishable)."""
    if is_redacted(value):
        masked = value.get("masked")
        if isinstance(masked, str) and masked:
            return f"{_clip(' '.join(masked.split()), limit)} (secret {short_fingerprint(value)})"
        return f"secret {short_fingerprint(value)}"
    return _clip(_show(value, limit), limit)


def masked_text(value: Any, limit: int = 80) -> str:
    """What a person may read of a value: a secret's masked form (or "<secret>"), else
    :func:`show`."""
    if is_redacted(value):
        masked = value.get("masked")
        return _clip(one_line(masked), limit) if isinstance(masked, str) else "<secret>"
    return show(value, limit)


def _clip(text: str, limit: int) -> str:
    if "\n" in text or "\t" in text or "\r" in text:
        text = one_line(text)
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _show(value: Any, limit: int) -> str:
    if value is MISSING:
        return ABSENT
    if isinstance(value, dict) and value.get("withheld") is True and len(value) == 1:
        return "(withheld)"
    if is_redacted(value):
        return secret_text(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list):
        inner = ", ".join(_show(item, limit) for item in value[:limit])
        return f"[{inner}]"
    if isinstance(value, dict):
        parts: list[str] = []
        size = 0
        for key, item in value.items():
            part = f"{key}: {_show(item, 24) if not isinstance(item, dict) else '{…}'}"
            parts.append(part)
            size += len(part) + 2
            if size > limit:
                break
        return "{" + ", ".join(parts) + "}"
    return str(value)


def human_bytes(value: Any) -> str:
    if value is None:
        return "unlimited"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return show(value)
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if size.is_integer() else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)  # pragma: no cover - the loop always returns


def human_count(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return show(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "unbounded" if value > 0 else show(value)
    return f"{round(value):,}"


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
