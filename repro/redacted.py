"""What a fingerprinted value looks like in a snapshot: ``{"redacted": true, "fingerprint":
"hmac-sha256:<key-id>:<hex>"}``. Reading one needs none of :mod:`repro.redaction`'s
detectors, so the diff (which only compares fingerprints) does not load them."""

from __future__ import annotations

from typing import Any


def is_redacted(value: Any) -> bool:
    return isinstance(value, dict) and value.get("redacted") is True


def fingerprint_key_id(value: Any) -> str | None:
    """The key id of a redacted value's fingerprint, or None if it is not redacted."""
    if not is_redacted(value):
        return None
    parts = str(value.get("fingerprint", "")).split(":")
    return parts[1] if len(parts) == 3 else None
