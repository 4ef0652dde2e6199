"""How commands and files of an environment are reached, behind one small Protocol.

A target only runs argv lists and reports what happened; facets turn that into facts. Adding a
target is one module and one line in :mod:`repro.targets.registry`.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from repro.errors import CaptureError, ProfileError
from repro.text import one_line

COMMAND_NOT_FOUND = 127
TIMED_OUT = 124  # as timeout(1) reports it
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def error_text(self) -> str:
        return one_line(self.stderr.decode("utf-8", "replace"))


@runtime_checkable
class Target(Protocol):
    """An environment that can run commands: this machine, a container, a host, a pod."""

    kind: str

    def describe(self) -> dict[str, str]:
        """Provenance for the snapshot: kind, identity (host/container/pod) and user."""
        ...

    def run(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> CommandResult:
        """Run argv (no shell) and return its exit code and output. Never raises for a
        non-zero exit; raises :class:`repro.errors.TargetError` when the target is unreachable."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class NativeEnvironment(Protocol):
    """Targets that know the app's environment without reading /proc (a container's config)."""

    def native_environment(self) -> dict[str, str] | None: ...


def run_command(
    command: Sequence[str],
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: bytes | None,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``command``, the local command line that runs ``argv`` on a target (argv itself,
    ``ssh ... -- argv``, ``kubectl exec ... -- argv``), without a shell, reading ``stdin`` or
    nothing. The result speaks of ``argv``; a timeout is exit code 124. A missing or
    unexecutable program raises (FileNotFoundError, PermissionError): what that means is each
    target's to say."""
    try:
        proc = subprocess.run(
            command,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(tuple(argv), TIMED_OUT, b"", f"timed out after {timeout:g}s".encode())
    return CommandResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def run_shell(
    target: Target, script: str, *args: str, timeout: float = DEFAULT_TIMEOUT
) -> CommandResult:
    """Run a POSIX sh script on the target; arguments arrive as "$1"... never interpolated."""
    return target.run(["sh", "-c", script, "repro", *args], timeout=timeout)


# Only regular files are read: a FIFO would block until the timeout and a device (/dev/zero)
# never ends. head bounds the size; busybox-less images without head fall back to cat.
_READ_SCRIPT = """
if [ -d "$1" ]; then echo "Is a directory" >&2; exit 2; fi
if [ -e "$1" ] && [ ! -f "$1" ]; then echo "not a regular file" >&2; exit 2; fi
if command -v head >/dev/null 2>&1; then exec head -c "$2" -- "$1"; fi
exec cat -- "$1"
"""


def read_file(target: Target, path: str, *, max_bytes: int = 4 * 1024 * 1024) -> bytes:
    """Read a regular file on the target (at most ``max_bytes``), raising CaptureError with
    the target's reason."""
    result = run_shell(target, _READ_SCRIPT, path, str(max_bytes))
    if not result.ok:
        reason = result.error_text or f"exit code {result.returncode}"
        if "not a regular file" in reason:
            reason = "not a regular file"
        elif "Permission denied" in reason:
            reason = "permission denied"
        elif "No such file" in reason:
            reason = "no such file"
        raise CaptureError(f"{path}: {reason}")
    return result.stdout


def which(target: Target, *names: str) -> str | None:
    """The first of names that exists as a command on the target."""
    script = (
        'for n in "$@"; do if command -v "$n" >/dev/null 2>&1; then echo "$n"; exit 0; fi; '
        "done; exit 1"
    )
    result = run_shell(target, script, *names)
    if not result.ok:
        return None
    return result.text.strip() or None


def not_an_option(target: str, key: str, value: object) -> None:
    """A profile value that lands on a command line before ``--`` (a host, a pod) must not be
    read as an option: ``host: -oProxyCommand=...`` would run a command here."""
    if isinstance(value, str) and value.startswith("-"):
        raise ProfileError(f"{target} target: {key}: must not start with '-' (got {value!r})")


def quote_argv(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def describe_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()) if v not in (None, ""))
