"""Facets run the way ``repro snapshot`` runs them (redacted, sorted, messages scrubbed):
one facet on a target through the real capture layer (``run_facet``), or the database facet on
its own against a DSN (``capture``), which raises what an unexpected error would log."""

from __future__ import annotations

import json
from typing import Any

from repro.errors import ReproError
from repro.profile.facets import validate_options
from repro.profile.file import DatabaseSpec, Profile, parse_profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext
from repro.snapshot.capture import capture_facet, kept_data
from repro.snapshot.database import FACET
from repro.snapshot.file import FacetResult
from repro.snapshot.registry import FACETS
from repro.targets.base import Target


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
    """Run the database facet as repro.snapshot.capture.capture_facet does: expected errors
    become an "error" result, then the data is kept as a snapshot keeps it and messages scrubbed. An
    unexpected exception fails the test instead of going to a crash log."""
    red = red or redactor()
    ctx = context(dsn, red=red, role=role, timeout_ms=timeout_ms, schemas=schemas, options=options)
    try:
        result = FACET.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    result.data = kept_data(FACET, result.data, red)
    if result.message:
        result.message = red.scrub(result.message)
    result.problems = sorted({red.scrub(p) for p in result.problems})
    return result


def run_facet(
    name: str,
    target: Target,
    *,
    app: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    secrets: list[str] | None = None,
) -> tuple[FacetResult, str]:
    """The facet's result and its JSON text as a snapshot would hold it."""
    profile = parse_profile(
        {"app": app or {}, "secrets": secrets or [], "facets": [name]},
        where="test",
        default_name="test",
        catalog=FACETS,
    )
    redactor = Redactor(
        key=RedactionKey.from_bytes(b"team-key", "test"), extra_secret_names=profile.secrets
    )
    ctx = CaptureContext(
        target=target,
        profile=profile,
        options=validate_options(FACETS[name], options or {}, "test"),
        redactor=redactor,
    )
    result = capture_facet(name, ctx)
    return result, json.dumps(result.to_json(), sort_keys=True)


class AppProcess:
    """A stand-in app on this machine: `sleep` with a known environment and open-file limit.

    The sleep time doubles as a unique marker, so the pattern matches this process only.
    """

    def __init__(self, env: dict[str, str], *, nofile: int = 512) -> None:
        import random
        import subprocess

        from tests.helpers.wait import wait_until

        self.pattern = f"sleep 600.{random.randrange(10**8)}"
        self.env = env
        self.proc = subprocess.Popen(
            ["sh", "-c", f"ulimit -n {nofile} && exec {self.pattern}"],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        # Until exec, /proc/PID/cmdline is the shell's: poll until the sleep is in place.
        wait_until(self._exec_done, timeout=10, what="the stand-in app to start")

    def _exec_done(self) -> bool:
        try:
            with open(f"/proc/{self.proc.pid}/cmdline", "rb") as handle:
                return handle.read().startswith(b"sleep\0")
        except FileNotFoundError:
            return False

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
