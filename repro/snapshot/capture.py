"""Run the facets of a profile against its target and build a redacted snapshot."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from repro.errors import ReproError, UsageError
from repro.profile.facets import validate_options
from repro.profile.file import DatabaseSpec, Profile
from repro.redaction import Redactor
from repro.snapshot.base import CaptureContext, Facet, sorted_tree
from repro.snapshot.file import FacetResult, Snapshot
from repro.snapshot.registry import FACETS
from repro.targets.base import Target
from repro.targets.registry import open_target


def select_facets(profile: Profile, requested: Sequence[str] | None) -> list[str]:
    if not requested:
        return list(profile.facets)
    names: list[str] = []
    for item in requested:
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in FACETS:
                raise UsageError(f"unknown facet {name!r} (known: {', '.join(sorted(FACETS))})")
            names.append(name)
    return list(dict.fromkeys(names))


def with_dsn(profile: Profile, dsn: str | None) -> Profile:
    """``--dsn`` adds or overrides the database to capture."""
    if not dsn:
        return profile
    timeout = profile.database.statement_timeout_ms if profile.database else 30_000
    schemas = profile.database.schemas if profile.database else None
    role = profile.database.role if profile.database else None
    facets = dict(profile.facets)
    facets.setdefault("database", {})  # its defaults, filled in when captured
    return replace(
        profile,
        database=DatabaseSpec(dsn=dsn, statement_timeout_ms=timeout, schemas=schemas, role=role),
        facets=facets,
    )


def kept_data(facet: Facet, data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A facet's data as a snapshot keeps it: secrets fingerprinted. A facet that knows
    which of its fields can hold one judges them itself, in place (the database facet: its
    data can be megabytes); the others get the generic walk over every value. Keys are
    sorted when the snapshot is written (once, by the JSON encoder); small facets are also
    sorted here, so that they read the same in memory."""
    if getattr(facet, "redacts_own_data", False):
        return data
    tree: dict[str, Any] = sorted_tree(redactor.redact_tree(data))
    return tree


def capture_facet(name: str, ctx: CaptureContext) -> FacetResult:
    facet = FACETS[name]
    started = time.perf_counter()
    try:
        result = facet.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    except Exception as exc:
        from repro.crashlog import write_crash_log  # only a crash pays for it

        log = write_crash_log(exc, ctx.redactor.scrub)
        result = FacetResult(
            status="error",
            message=f"internal error in facet {name} ({type(exc).__name__}); traceback in {log}",
        )
    result.duration_ms = int((time.perf_counter() - started) * 1000)
    result.data = kept_data(facet, result.data, ctx.redactor)
    if result.message:
        result.message = ctx.redactor.scrub(result.message)
    result.problems = sorted({ctx.redactor.scrub(p) for p in result.problems})
    return result


def capture_snapshot(
    profile: Profile,
    redactor: Redactor,
    *,
    facets: Sequence[str] | None = None,
    target: Target | None = None,
    on_facet: Callable[[str, FacetResult | None], None] = lambda name, result: None,
    log: Callable[[str], None] = lambda message: None,
    workers: int = 1,
) -> Snapshot:
    """``workers`` > 1 captures that many facets at once (each mostly waits on its target or
    database): for a caller whose target is safe to share between threads (the docker
    target, once connected) and whose callbacks are."""
    names = select_facets(profile, facets)
    own_target = target is None
    target = target or open_target(profile.target_kind, profile.target_options)
    results: dict[str, FacetResult] = {}

    def one(name: str) -> FacetResult:
        on_facet(name, None)
        # Defaults of what the profile named without options (checked when read).
        options = validate_options(
            FACETS[name], profile.facets.get(name) or {}, f"{profile.where}: facets.{name}"
        )
        ctx = CaptureContext(
            target=target, profile=profile, options=options, redactor=redactor, log=log
        )
        result = capture_facet(name, ctx)
        on_facet(name, result)
        return result

    try:
        if workers > 1 and len(names) > 1:
            description = target.describe()  # connected once, before the threads share it
            with ThreadPoolExecutor(min(workers, len(names)), "facet") as pool:
                results = dict(zip(names, pool.map(one, names), strict=True))
        else:
            results = {name: one(name) for name in names}
            description = target.describe()
        # A value judged secret in one facet (a password in a config file) is scrubbed from
        # every other place it appears (a command line, another facet's URL).
        for result in results.values():
            result.data = redactor.scrub_tree(result.data)
            if result.message:
                result.message = redactor.scrub(result.message)
            result.problems = sorted({redactor.scrub(p) for p in result.problems})
    finally:
        if own_target:
            target.close()
    return Snapshot(
        profile=profile.name,
        captured_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        target=redactor.redact_tree(description),
        redaction={"algorithm": "hmac-sha256", "key_id": redactor.key.key_id},
        facets=results,
    )
