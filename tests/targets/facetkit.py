"""Running one facet the way `repro snapshot` does (capture_facet: redaction, sorting)."""

from __future__ import annotations

import json
from typing import Any

from repro.profile.facets import validate_options
from repro.profile.file import parse_profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext
from repro.snapshot.capture import capture_facet
from repro.snapshot.file import FacetResult
from repro.snapshot.registry import FACETS
from repro.targets.base import Target


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
