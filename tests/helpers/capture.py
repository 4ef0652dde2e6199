"""The database facet run on its own, as ``repro.snapshot.capture.capture_facet`` runs it."""

from __future__ import annotations

from typing import Any

from repro.errors import ReproError
from repro.profile.facets import validate_options
from repro.profile.file import DatabaseSpec, Profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext, sorted_tree
from repro.snapshot.database import FACET
from repro.snapshot.file import FacetResult


def redactor(secret: bytes = b"test-team-key") -> Redactor:
    return Redactor(key=RedactionKey.from_bytes(secret, "test"))


def context(
    dsn: str,
    *,
    red: Redactor,
    role: str | None = None,
    timeout_ms: int = 30_000,
    schemas: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> CaptureContext:
    spec = DatabaseSpec(dsn=dsn, statement_timeout_ms=timeout_ms, schemas=schemas, role=role)
    return CaptureContext(
        target=None,  # type: ignore[arg-type]  # the database facet uses no target
        profile=Profile(name="test", path=None, database=spec),
        options=validate_options(FACET, options or {}, "test"),
        redactor=red,
    )


def capture(
    dsn: str,
    *,
    role: str | None = None,
    timeout_ms: int = 30_000,
    schemas: list[str] | None = None,
    options: dict[str, Any] | None = None,
    red: Redactor | None = None,
) -> FacetResult:
    """Run the facet as repro.snapshot.capture.capture_facet does (that module's registry
    imports every facet; here only this one is under test): errors become an "error"
    result, then the data is redacted and sorted and messages scrubbed."""
    red = red or redactor()
    ctx = context(dsn, red=red, role=role, timeout_ms=timeout_ms, schemas=schemas, options=options)
    try:
        result = FACET.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    result.data = sorted_tree(red.redact_tree(result.data))
    if result.message:
        result.message = red.scrub(result.message)
    result.problems = sorted({red.scrub(p) for p in result.problems})
    return result
