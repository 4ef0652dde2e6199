"""Every redactor made during this run: the error handler scrubs messages with all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from repro.redaction import Redactor

ACTIVE_REDACTORS: list[Redactor] = []


def scrub(text: str) -> str:
    from repro.redaction import scrub_all  # loaded only when there is something to scrub

    return scrub_all(text, ACTIVE_REDACTORS)
