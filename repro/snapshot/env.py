"""The ``env`` facet: the environment variables the app process really runs with.

Where the variables come from, best first:

* ``app.process`` set in the profile: the oldest process whose command line contains that
  pattern (glob characters allowed), read from ``/proc/PID/environ`` on the target. Not found:
  status partial, and the container config or the shell's environment instead.
* a docker target: the container's configured environment (image + ``docker run -e``).
* otherwise the environment a shell gets on the target.

Variables that change per login, terminal or container instance (HOSTNAME, PWD, SSH_*...) are
dropped: they would make every diff noisy. Secret values are fingerprinted by the capture
layer's Redactor (by name, by shape, and the profile's ``secrets`` names).

Data shape::

    source: "docker-config" | "process:<app.process pattern>" | "shell"
    vars:   {NAME: value}        # sorted by name; redacted values are {redacted, fingerprint}

The PID is deliberately absent: it changes on every restart.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from repro.errors import CaptureError
from repro.profile.facets import Option
from repro.snapshot.base import CaptureContext
from repro.snapshot.file import FacetResult
from repro.targets.base import NativeEnvironment, Target, read_file, run_shell

# Per-login, per-terminal or per-instance values: never a cause of a prod-only bug, always a
# source of diff noise.
VOLATILE_VARS: frozenset[str] = frozenset(
    {
        "_",
        "COLORTERM",
        "COLUMNS",
        "DBUS_SESSION_BUS_ADDRESS",
        "DISPLAY",
        "GPG_AGENT_INFO",
        "HOSTNAME",
        "INVOCATION_ID",
        "JOURNAL_STREAM",
        "LINES",
        "LISTEN_FDNAMES",
        "LISTEN_FDS",
        "LISTEN_PID",
        "LS_COLORS",
        "MAIL",
        "MANAGERPID",
        "MOTD_SHOWN",
        "NOTIFY_SOCKET",
        "OLDPWD",
        "PWD",
        "PYTEST_CURRENT_TEST",
        "SHLVL",
        "SSH_AGENT_PID",
        "SSH_AUTH_SOCK",
        "SSH_CLIENT",
        "SSH_CONNECTION",
        "SSH_TTY",
        "STY",
        "SYSTEMD_EXEC_PID",
        "TERM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "TERM_SESSION_ID",
        "TMUX",
        "TMUX_PANE",
        "WINDOW",
        "WINDOWID",
        "XDG_RUNTIME_DIR",
        "XDG_SEAT",
        "XDG_SESSION_CLASS",
        "XDG_SESSION_ID",
        "XDG_SESSION_TYPE",
        "XDG_VTNR",
    }
)

# One round trip lists every process (start time + command line) and the shell's own
# environment, so "process not found" needs no second trip for its fallback. `head` on many
# files prints "==> name <==" headers (GNU and busybox alike); /dev/null first forces them
# even if only one file matches. Matching happens here, in Python: the pattern never reaches
# the target's command lines, so the scan cannot find itself.
_SCAN_SCRIPT = r"""
echo "$$"
echo "@@repro:stat"
head -c 1024 /dev/null /proc/[0-9]*/stat 2>/dev/null
echo
echo "@@repro:cmdline"
head -c 8192 /dev/null /proc/[0-9]*/cmdline 2>/dev/null
echo
echo "@@repro:environ"
cat /proc/self/environ 2>/dev/null || env
"""
_HEADER = re.compile(rb"(?:^|\n)==> ([^\n]*) <==\n")
_PROC_FILE = re.compile(rb"^/proc/(\d+)/(?:stat|cmdline)$")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class ProcessScan:
    """What one scan of the target's processes found."""

    pid: int | None  # the app process, or None if nothing matched
    shell_env: dict[str, str]  # the environment of the scanning shell, for fallbacks


def parse_environ(blob: bytes) -> dict[str, str]:
    """NUL-separated (``/proc/PID/environ``) or, failing that, newline-separated ``env``."""
    sep = b"\0" if b"\0" in blob else b"\n"
    env: dict[str, str] = {}
    for item in blob.split(sep):
        name, eq, value = item.decode("utf-8", "replace").partition("=")
        if eq and name and name not in env:  # the first wins, as with getenv()
            env[name] = value
    return env


def _split_sections(blob: bytes) -> dict[str, bytes]:
    parts = re.split(rb"(?:^|\n)@@repro:([a-z-]+)\n", blob)
    sections = {"head": parts[0]}
    for i in range(1, len(parts) - 1, 2):
        sections[parts[i].decode()] = parts[i + 1]
    return sections


def _per_process(blob: bytes) -> dict[int, bytes]:
    parts = _HEADER.split(blob)
    out: dict[int, bytes] = {}
    for i in range(1, len(parts) - 1, 2):
        match = _PROC_FILE.match(parts[i])
        if match:
            out[int(match.group(1))] = parts[i + 1]
    return out


def command_matches(pattern: str, cmdline: str) -> bool:
    if _GLOB_CHARS.search(pattern):
        return fnmatch.fnmatchcase(cmdline, f"*{pattern}*")
    return pattern in cmdline


def pick_process(
    pattern: str, stats: dict[int, bytes], cmdlines: dict[int, bytes], exclude: set[int]
) -> int | None:
    """The oldest (earliest start time, then lowest pid) process matching the pattern."""
    candidates: list[tuple[int, int]] = []
    for pid, raw in cmdlines.items():
        if pid in exclude or not raw.strip(b"\0\n"):
            continue  # kernel threads have no command line
        stat = stats.get(pid, b"")
        # Fields after the last ")" (the command name may hold spaces and parentheses).
        fields = stat[stat.rfind(b")") + 1 :].split()
        if len(fields) > 1 and fields[1].isdigit() and int(fields[1]) in exclude:
            continue  # a child of the scanning shell
        cmdline = raw.rstrip(b"\n").rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
        if not command_matches(pattern, cmdline):
            continue
        start = int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else 0
        candidates.append((start, pid))
    return min(candidates)[1] if candidates else None


def scan_processes(target: Target, pattern: str | None) -> ProcessScan:
    result = run_shell(target, _SCAN_SCRIPT, timeout=60)
    if not result.stdout:
        reason = result.error_text or f"exit code {result.returncode}"
        raise CaptureError(f"cannot list processes on the target: {reason}")
    sections = _split_sections(result.stdout)
    shell_pid = sections["head"].strip()
    exclude = {int(shell_pid)} if shell_pid.isdigit() else set()
    pid = None
    if pattern:
        pid = pick_process(
            pattern,
            _per_process(sections.get("stat", b"")),
            _per_process(sections.get("cmdline", b"")),
            exclude,
        )
    return ProcessScan(pid=pid, shell_env=parse_environ(sections.get("environ", b"")))


def app_process_env(target: Target, pid: int, pattern: str) -> dict[str, str] | None:
    """The process's environment; None if it exited meanwhile. Unreadable: CaptureError."""
    try:
        return parse_environ(read_file(target, f"/proc/{pid}/environ"))
    except CaptureError as exc:
        if "no such file" in str(exc):
            return None
        reason = str(exc).split(": ", 1)[-1]
        raise CaptureError(
            f"app process {pattern!r}: cannot read its environment ({reason}); capture as the "
            "app's user or as root"
        ) from None


def select_vars(env: dict[str, str], include: list[str], exclude: list[str]) -> dict[str, str]:
    return {
        name: env[name]
        for name in sorted(env)
        if name not in VOLATILE_VARS
        and any(fnmatch.fnmatchcase(name, p) for p in include)
        and not any(fnmatch.fnmatchcase(name, p) for p in exclude)
    }


class EnvFacet:
    name = "env"
    summary = "environment variables of the app process (secrets fingerprinted)"
    options = {
        "include": Option(list, ["*"], "variable name globs to keep", item_kind=str),
        "exclude": Option(list, [], "variable name globs to drop", item_kind=str),
    }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        source, env, problems = self._read(ctx)
        data: dict[str, Any] = {
            "source": source,
            "vars": select_vars(env, ctx.options["include"], ctx.options["exclude"]),
        }
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)

    def _read(self, ctx: CaptureContext) -> tuple[str, dict[str, str], list[str]]:
        target = ctx.target
        native = target.native_environment() if isinstance(target, NativeEnvironment) else None
        pattern = ctx.profile.app.process
        if not pattern:
            if native is not None:
                return "docker-config", native, []
            return "shell", scan_processes(target, None).shell_env, []
        scan = scan_processes(target, pattern)
        if scan.pid is not None:
            env = app_process_env(target, scan.pid, pattern)
            if env is not None:
                return f"process:{pattern}", env, []
        fallback = "docker-config" if native is not None else "shell"
        problem = f"app process {pattern!r} not found on the target; captured the {fallback} " + (
            "environment instead" if fallback == "shell" else "instead"
        )
        return fallback, native if native is not None else scan.shell_env, [problem]


FACET = EnvFacet()
