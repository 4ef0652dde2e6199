"""An ``application/x-www-form-urlencoded`` body edited field by field, byte for byte.

Putting a stand-in into one field (or hiding one credential) must not re-encode the others:
``a=x%20y&b=1`` decoded and encoded again is ``a=x+y&b=1``, a different body than production
received, and an app that checks a signature over the body, or parses ``%20`` and ``+``
differently, fails for a reason production never saw. So fields are located in the raw text
and only the edited values are rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote_plus, unquote_plus

# What a form body looks like when no Content-Type says so (curl labels JSON as a form).
FORM_SHAPE = re.compile(r"[\w.\-~%+\[\]]+=[^&\s]*(&[\w.\-~%+\[\]]+=[^&\s]*)*")


@dataclass(frozen=True)
class Field:
    name: str  # decoded
    value: str | None  # decoded; None for a name without '='
    start: int  # the raw field (name[=value]) in the body
    end: int


def fields(body: str) -> list[Field]:
    out: list[Field] = []
    pos = 0
    for part in body.split("&"):
        start, end = pos, pos + len(part)
        pos = end + 1
        if not part:
            continue
        name, sep, value = part.partition("=")
        out.append(Field(unquote_plus(name), unquote_plus(value) if sep else None, start, end))
    return out


def edit(
    body: str,
    decide: Callable[[Field], str | bool | None],
    extra: list[tuple[str, str]] | None = None,
) -> str:
    """``decide(field)`` returns True to keep the field as it is, False to drop it, or a new
    (decoded) value. ``extra`` fields are appended. Untouched fields keep their exact bytes."""
    pieces: list[str] = []
    changed = False
    for item in fields(body):
        verdict = decide(item)
        raw = body[item.start : item.end]
        if verdict is True:
            pieces.append(raw)
        elif verdict is False or verdict is None:
            changed = True
        else:
            changed = True
            raw_name = raw.partition("=")[0]
            pieces.append(f"{raw_name}={quote_plus(verdict)}")
    for name, value in extra or []:
        changed = True
        pieces.append(f"{quote_plus(name)}={quote_plus(value)}")
    return "&".join(pieces) if changed else body
