"""Run a generated shell script against stub commands that only log their argv.

The stubs stand in for commands that would change this machine (apt-get, pip, chown, psql...):
running the real ones is what the script is *for*, and a test must not. Everything else is
real: bash parses and runs the script exactly as a user's would.

* PATH holds only the stub directory: every command the script runs is a stub that appends
  ``argc, name, argv...`` (NUL-separated) to a log, or is caught by bash's
  ``command_not_found_handle`` (also logged, as ``!notfound``).
* The script runs in an empty directory, so a redirection that creates a file shows up.
* ``after`` names a stub to run once the script is done, in the same shell (the script is
  sourced): ``dump-env`` records the exported environment.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

STUB = """#!/bin/bash
printf '%s\\0' "$#" "${0##*/}" "$@" >>"$REPRO_STUB_LOG"
"""
DUMP_ENV = """#!/bin/bash
/usr/bin/env -0 >"$REPRO_STUB_ENV"
"""
NOT_FOUND = "() { printf '%s\\0' \"$#\" '!notfound' \"$@\" >>\"$REPRO_STUB_LOG\"; return 127; }"
DEFAULT_STUBS = (
    "apt-get", "apk", "dnf", "chown", "chmod", "psql", "python3", "pip", "touch", "rm", "curl",
    "wget", "sh", "bash", "id", "cat", "env", "sudo", "mkdir",
)  # fmt: skip


@dataclass
class StubRun:
    returncode: int
    stdout: str
    stderr: str
    calls: list[tuple[str, list[str]]]  # (command name, its arguments)
    env: dict[str, str] = field(default_factory=dict)
    new_files: list[str] = field(default_factory=list)

    def of(self, name: str) -> list[list[str]]:
        return [args for command, args in self.calls if command == name]


def _parse_log(data: bytes) -> list[tuple[str, list[str]]]:
    parts = data.split(b"\0")
    calls: list[tuple[str, list[str]]] = []
    i = 0
    while i + 1 < len(parts):
        count = int(parts[i])
        name = parts[i + 1].decode("utf-8", "surrogateescape")
        args = [p.decode("utf-8", "surrogateescape") for p in parts[i + 2 : i + 2 + count]]
        calls.append((name, args))
        i += 2 + count
    return calls


def run_with_stubs(
    script: str,
    workdir: Path,
    *,
    stubs: Iterable[str] = DEFAULT_STUBS,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> StubRun:
    """Source ``script`` in a fresh bash whose PATH has only the stubs, then dump its
    exported environment; return what ran."""
    bindir, cwd = workdir / "bin", workdir / "cwd"
    bindir.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(exist_ok=True)
    for name in {*stubs}:
        stub = bindir / name
        stub.write_text(STUB)
        stub.chmod(0o755)
    dump = bindir / "repro-dump-env"
    dump.write_text(DUMP_ENV)
    dump.chmod(0o755)
    (workdir / "fix.sh").write_text(script, encoding="utf-8")
    log, env_file = workdir / "calls.log", workdir / "env.out"
    log.write_bytes(b"")
    env_file.unlink(missing_ok=True)
    full_env = {
        "PATH": str(bindir),
        "LC_ALL": "C.UTF-8",
        "REPRO_STUB_LOG": str(log),
        "REPRO_STUB_ENV": str(env_file),
        "BASH_FUNC_command_not_found_handle%%": NOT_FOUND,
        **(env or {}),
    }
    done = subprocess.run(
        ["/bin/bash", "-c", 'source "$1"; repro-dump-env', "bash", str(workdir / "fix.sh")],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    exported: dict[str, str] = {}
    if env_file.exists():
        for entry in env_file.read_bytes().split(b"\0"):
            name, sep, value = entry.decode("utf-8", "surrogateescape").partition("=")
            if sep:
                exported[name] = value
    return StubRun(
        done.returncode,
        done.stdout,
        done.stderr,
        _parse_log(log.read_bytes()),
        exported,
        sorted(os.listdir(cwd)),
    )
