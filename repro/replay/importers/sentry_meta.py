"""Sentry's ``_meta``: what the SDK or the server filtered, removed or truncated in a request.

``_meta`` mirrors the event's shape; a node whose ``""`` key holds ``{"rem": [[rule, type,
...]], "len": N}`` says what happened to the value at that place. Rule ``!limit`` truncated it,
``!config`` (SDK settings such as ``send_default_pii=False``) or ``@...`` (server-side data
scrubbing) removed (``x``) or substituted (``s``, the ``[Filtered]`` value) it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FILTERED = "filtered by Sentry ([Filtered])"
TRUNCATED = "truncated by Sentry (_meta)"


@dataclass(frozen=True)
class MetaNote:
    keys: tuple[str, ...]  # path inside the request: ("headers", "Authorization"), ("data",)
    why: str


def meta_notes(meta: Any) -> list[MetaNote]:
    """Every annotated place under a request's ``_meta``, in document order."""
    out: list[MetaNote] = []
    _walk(meta, (), out)
    return out


def _walk(node: Any, keys: tuple[str, ...], out: list[MetaNote]) -> None:
    if not isinstance(node, dict):
        return
    annotation = node.get("")
    if isinstance(annotation, dict) and keys:
        why = _why(annotation)
        if why is not None:
            out.append(MetaNote(keys, why))
    for key, child in node.items():
        if key != "":
            _walk(child, (*keys, str(key)), out)


def _why(annotation: dict[str, Any]) -> str | None:
    rem = annotation.get("rem")
    rules: list[tuple[str, str]] = []
    if isinstance(rem, list):
        for item in rem:
            if isinstance(item, list) and len(item) >= 2:
                rules.append((str(item[0]), str(item[1])))
    if not rules:
        return None
    if any(rule.startswith("!limit") for rule, _ in rules):
        return TRUNCATED
    if any(kind == "s" for _, kind in rules):
        return FILTERED
    rule, kind = rules[0]
    if rule == "!raw":
        return "removed by Sentry (raw body not captured)"
    action = {"x": "removed", "m": "masked", "p": "pseudonymized", "e": "encrypted"}.get(
        kind, "changed"
    )
    if rule == "!config":
        return f"{action} by Sentry (SDK settings, e.g. send_default_pii off)"
    return f"{action} by Sentry (data scrubbing rule {rule[:40]})"
