"""Production's conditions a replay applies, as typed values: what ``--memory``, ``--cpus``,
``--fault``, ``--stub``, ``--with-job``, ``--concurrency`` and ``--expect`` say, parsed once.

:class:`Conditions` is the one object a caller hands the sandbox and the runner (the CLI builds
it from its options with :func:`parse_conditions`; a program builds it directly). Everything
the snapshot says (the memory and CPU limits of the runtime facet, the jobs of the schedules
facet) is applied by the sandbox from the snapshot it is given; these values only override or
add to it.

Durations are ``500ms``, ``2s``, ``1.5s``, ``1m``; sizes ``128m``, ``1g``, ``512MiB`` or bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from repro.errors import UsageError

MAX_HOLD_S = 3600.0  # a job's lock, a stub's hold: bounded, whatever was typed
MAX_CONCURRENCY = 1000
MAX_SPEC = 10_000  # characters of one --with-job / --fault argument
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


class FaultKind(StrEnum):
    OK = "ok"  # answers at once (a recorded answer, or an empty JSON object)
    DOWN = "down"  # nothing listens: connections are refused
    TIMEOUT = "timeout"  # takes the request, never answers (until the attempt ends)
    SLOW = "slow"  # answers after ``seconds``
    STATUS = "status"  # answers ``status`` at once
    RESET = "reset"  # reads the request, then resets the connection


@dataclass(frozen=True)
class Fault:
    kind: FaultKind = FaultKind.OK
    seconds: float = 0.0  # slow:2s
    status: int = 0  # status:503

    def describe(self) -> str:
        if self.kind is FaultKind.SLOW:
            return f"slow:{self.seconds:g}s"
        if self.kind is FaultKind.STATUS:
            return f"status:{self.status}"
        return self.kind.value


class JobKind(StrEnum):
    SQL = "sql"  # statements in a session of their own, the transaction held open
    COMMAND = "cmd"  # a command in the app container
    SCHEDULE = "schedule"  # a job of production's schedules facet, by name


@dataclass(frozen=True)
class Job:
    """One ``--with-job``: runs alongside the request, started before it is sent."""

    kind: JobKind
    text: str  # the SQL, the command, or the schedule's name
    hold_s: float | None = None  # sql: how long the transaction stays open (None: the attempt)
    after_s: float = 1.0  # cmd/schedule: how long after the job starts the request is sent
    user: str | None = None  # cmd: who runs it (default: the app's user)

    def describe(self) -> str:
        text = self.text if len(self.text) <= 80 else self.text[:79] + "…"
        extra = f";hold={self.hold_s:g}s" if self.hold_s is not None else ""
        return f"{self.kind.value}:{text}{extra}"


class Expect(StrEnum):
    OOM = "oom"  # production's process was OOM-killed (a proxy answered 502/503)


@dataclass(frozen=True)
class Conditions:
    """What the caller adds to (or overrides in) the conditions the snapshot gives."""

    memory_bytes: int | None = None  # --memory (None: production's limit, or none)
    cpus: float | None = None  # --cpus (None: production's limit, or none)
    resource_limits: bool = True  # False: none of production's limits (--no-limits)
    faults: Mapping[str, Fault] = field(default_factory=dict)  # service -> behaviour
    stubs: Mapping[str, str] = field(default_factory=dict)  # service -> HAR file (path)
    jobs: Sequence[Job] = ()
    concurrency: int = 1
    expect: Expect | None = None

    @property
    def load(self) -> bool:
        return self.concurrency > 1


def parse_duration(text: str, what: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"{what}: {text[:40]!r} is not a duration (500ms, 2s, 1.5s, 1m)")
    value = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    if value > MAX_HOLD_S:
        raise UsageError(f"{what}: at most {MAX_HOLD_S:g} s")
    return value


def parse_size(text: str, what: str) -> int:
    """``128m``, ``1g``, ``512MiB``, ``134217728``: bytes (binary units, as Docker reads them)."""
    match = _SIZE.match(text.strip())
    if not match:
        raise UsageError(f"{what}: {text[:40]!r} is not a size (128m, 1g, 512MiB or bytes)")
    value = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])
    if value < 6 * 1024 * 1024:
        raise UsageError(f"{what}: at least 6m (Docker's smallest memory limit)")
    return value


def parse_cpus(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--cpus: {text[:40]!r} is not a number of CPUs (0.5, 2)") from None
    if not 0.01 <= value <= 1024:
        raise UsageError("--cpus: between 0.01 and 1024")
    return value


def service_name(text: str, what: str) -> str:
    if not _NAME.match(text):
        raise UsageError(
            f"{what}: {text[:40]!r} is not a service name (letters, digits, '.', '_', '-')"
        )
    return text


def parse_fault(text: str) -> tuple[str, Fault]:
    """``payments=timeout`` -> ("payments", Fault(TIMEOUT))."""
    usage = "NAME=down|timeout|slow:2s|status:503|reset|ok"
    name, sep, behaviour = text.partition("=")
    if not sep:
        raise UsageError(f"--fault: expected {usage}")
    name = service_name(name.strip(), "--fault")
    kind_text, _colon, arg = behaviour.strip().partition(":")
    try:
        kind = FaultKind(kind_text.lower())
    except ValueError:
        raise UsageError(f"--fault {name}: {behaviour[:40]!r}: expected {usage}") from None
    if kind is FaultKind.SLOW:
        if not arg:
            raise UsageError(f"--fault {name}=slow needs a delay: slow:2s")
        return name, Fault(kind, seconds=parse_duration(arg, f"--fault {name}=slow"))
    if kind is FaultKind.STATUS:
        if not arg.isdigit() or not 100 <= int(arg) <= 599:
            raise UsageError(f"--fault {name}=status needs an HTTP status 100..599: status:503")
        return name, Fault(kind, status=int(arg))
    if arg:
        raise UsageError(f"--fault {name}={kind.value} takes no ':' argument")
    return name, Fault(kind)


def parse_stub(text: str) -> tuple[str, str]:
    """``payments=recorded.har`` -> ("payments", "recorded.har")."""
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise UsageError("--stub: expected NAME=FILE (a HAR file with the service's answers)")
    return service_name(name.strip(), "--stub"), path


_JOB_OPTION = re.compile(r";\s*(hold|after|user)=([^;]*)\s*$")


def parse_job(text: str) -> Job:
    """``sql:LOCK TABLE users IN SHARE MODE;hold=30s``, ``cmd:python3 job.py;after=2s``,
    ``schedule:demo-nightly-backup``. Options are read from the end only, so the SQL or the
    command may hold ';' of its own."""
    usage = "sql:STATEMENTS[;hold=30s], cmd:COMMAND[;after=1s][;user=U] or schedule:NAME"
    if len(text) > MAX_SPEC:
        raise UsageError(f"--with-job: longer than {MAX_SPEC} characters")
    if "\0" in text:
        raise UsageError("--with-job: holds a NUL character")
    kind_text, sep, body = text.partition(":")
    try:
        kind = JobKind(kind_text.strip().lower())
    except ValueError:
        raise UsageError(f"--with-job: expected {usage}") from None
    options: dict[str, str] = {}
    while (match := _JOB_OPTION.search(body)) is not None:
        key = match.group(1)
        if key in options:
            raise UsageError(f"--with-job: {key}= given twice")
        options[key] = match.group(2).strip()
        body = body[: match.start()]
    body = body.strip()
    if not sep or not body:
        raise UsageError(f"--with-job: expected {usage}")
    allowed = {JobKind.SQL: {"hold"}, JobKind.COMMAND: {"after", "user"}}.get(kind, {"after"})
    for key in options:
        if key not in allowed:
            raise UsageError(f"--with-job {kind.value}: takes no {key}=")
    hold = parse_duration(options["hold"], "--with-job hold=") if "hold" in options else None
    after = parse_duration(options["after"], "--with-job after=") if "after" in options else 1.0
    user = options.get("user") or None
    if user is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?", user):
        raise UsageError("--with-job user=: a user name or uid[:gid]")
    if kind is JobKind.SCHEDULE:
        body = body if len(body) <= 200 else body[:200]
    return Job(kind, body, hold_s=hold, after_s=after, user=user)


def parse_conditions(
    *,
    memory: str | None = None,
    cpus: str | None = None,
    limits: bool = True,
    faults: Sequence[str] = (),
    stubs: Sequence[str] = (),
    jobs: Sequence[str] = (),
    concurrency: int = 1,
    expect: str | None = None,
) -> Conditions:
    """The command line's conditions, checked: one ``repro: error:`` line for a bad one."""
    fault_map: dict[str, Fault] = {}
    for text in faults:
        name, fault = parse_fault(text)
        if name in fault_map:
            raise UsageError(f"--fault {name}: given twice")
        fault_map[name] = fault
    stub_map: dict[str, str] = {}
    for text in stubs:
        name, path = parse_stub(text)
        if name in stub_map:
            raise UsageError(f"--stub {name}: given twice")
        stub_map[name] = path
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency: between 1 and {MAX_CONCURRENCY}")
    try:
        wanted = Expect(expect.lower()) if expect is not None else None
    except ValueError:
        raise UsageError("--expect: oom (production's process was OOM-killed)") from None
    if not limits and (memory is not None or cpus is not None):
        raise UsageError("--no-limits drops every limit: not with --memory or --cpus")
    return Conditions(
        memory_bytes=parse_size(memory, "--memory") if memory is not None else None,
        cpus=parse_cpus(cpus) if cpus is not None else None,
        resource_limits=limits,
        faults=fault_map,
        stubs=stub_map,
        jobs=tuple(parse_job(text) for text in jobs),
        concurrency=concurrency,
        expect=wanted,
    )
