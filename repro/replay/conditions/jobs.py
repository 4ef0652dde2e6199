"""``--with-job``: what runs alongside the request. A job starts before the request is sent
and ends when the attempt (or the load) is over, or earlier on its own:

* ``sql:STATEMENTS[;hold=30s]`` — the statements in a transaction of their own session
  (``application_name`` ``repro-job-N``), kept open for ``hold`` (default: until the attempt
  ends), then committed. The request is sent once the statements ran, so a lock they take is
  held when it arrives. A statement that fails is an environment error: the condition asked
  for is not there.
* ``cmd:COMMAND[;after=1s][;user=U]`` — ``/bin/sh -c COMMAND`` in the app container, with the
  app's environment, as the app's user (or ``user``); the request is sent ``after`` later.
* ``schedule:NAME`` — a job of production's schedules facet (cron entry or systemd timer),
  found by its file or timer name, or a unique part of its command, run as a ``cmd:`` job as
  production's schedule runs it (its user, cron's PATH).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.errors import UsageError
from repro.pg.target_db import connect_target
from repro.redaction import Redactor
from repro.replay.conditions.spec import MAX_HOLD_S, Job, JobKind
from repro.replay.sandbox_env import facet_data
from repro.snapshot.file import Snapshot
from repro.text import one_line

READY_TIMEOUT_S = 30.0
MAX_OUTPUT_LINES = 20
MAX_COMMAND = 10_000


@dataclass
class JobReport:
    spec: str  # the job as given ("sql:LOCK TABLE users IN SHARE MODE;hold=30s")
    runs: int = 0  # started once per attempt (or once for a load)
    status: str = ""  # how the last run went, one line
    error: str | None = None  # it could not run: the condition was not applied
    output: list[str] = field(default_factory=list)  # a command's last lines


@dataclass(frozen=True)
class ResolvedJob:
    """A job ready to run: a ``schedule:`` job turned into its command and user."""

    job: Job
    label: str  # application_name of a SQL job, or the job's description
    command: str | None = None
    user: str | None = None
    path: str | None = None  # cron's PATH for a schedule


def resolve_jobs(
    snapshot: Snapshot, jobs: Sequence[Job], app_user: str | None
) -> list[ResolvedJob]:
    """Finds each ``schedule:`` job in production's schedules facet (one usage error line
    when it is not there or the name is ambiguous)."""
    resolved: list[ResolvedJob] = []
    for n, job in enumerate(jobs, start=1):
        label = f"repro-job-{n}"
        if job.kind is JobKind.SQL:
            resolved.append(ResolvedJob(job, label))
        elif job.kind is JobKind.COMMAND:
            resolved.append(ResolvedJob(job, label, job.text, job.user or app_user))
        else:
            resolved.append(_scheduled(snapshot, job, label, app_user))
    return resolved


def _scheduled(snapshot: Snapshot, job: Job, label: str, app_user: str | None) -> ResolvedJob:
    data = facet_data(snapshot, "schedules")
    entries = data.get("jobs") if data is not None else None
    if not isinstance(entries, Mapping):
        raise UsageError(
            f"--with-job schedule:{job.text}: the snapshot has no schedules facet to find it in"
        )
    wanted = job.text.lower()
    matches: list[tuple[str, Mapping[str, Any]]] = []
    for key, entry in entries.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("command"), str):
            continue
        names = {str(key).lower(), _basename(entry.get("source")), _basename(entry.get("unit"))}
        names |= {n.removesuffix(".timer").removesuffix(".service") for n in names}
        if wanted in names:
            matches = [(str(key), entry)]
            break
        if wanted in str(entry["command"]).lower():
            matches.append((str(key), entry))
    if len(matches) != 1:
        known = sorted(
            {
                _basename(e.get("source")) or str(k)
                for k, e in entries.items()
                if isinstance(e, Mapping)
            }
        )
        problem = "matches no job" if not matches else f"matches {len(matches)} jobs"
        raise UsageError(
            f"--with-job schedule:{job.text}: {problem} of the snapshot's schedules "
            f"(by file or timer name, or part of the command: {', '.join(known)[:300]})"
        )
    key, entry = matches[0]
    command = str(entry["command"])
    if len(command) > MAX_COMMAND or "\0" in command:
        raise UsageError(f"--with-job schedule:{job.text}: the captured command is not runnable")
    user = entry.get("user")
    who = app_user if user in (None, _runtime_user_name(snapshot)) else str(user)
    env = (data or {}).get("cron_env") or {}
    path = None
    source = entry.get("source")
    if isinstance(env, Mapping) and isinstance(env.get(source), Mapping):
        found = env[source].get("PATH")
        path = found if isinstance(found, str) and "\0" not in found else None
    return ResolvedJob(job, f"{label} ({key[:120]})", command, who, path)


def _basename(value: Any) -> str:
    return str(value).rstrip("/").rsplit("/", 1)[-1].lower() if isinstance(value, str) else ""


def _runtime_user_name(snapshot: Snapshot) -> str | None:
    user = (facet_data(snapshot, "runtime") or {}).get("user")
    return user.get("name") if isinstance(user, Mapping) else None


class RunningJob:
    """One start of a job; :meth:`wait_ready` before the request, :meth:`end` after it."""

    def __init__(self, resolved: ResolvedJob, report: JobReport) -> None:
        self.resolved, self.report = resolved, report
        self.ready = threading.Event()
        self.done = threading.Event()
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.ended: float | None = None
        self.detached = False  # a command still running when its attempt ended: left alone

    def wait_ready(self) -> None:
        """Until the job's condition holds (SQL ran / ``after`` passed / the job ended)."""
        self.ready.wait(READY_TIMEOUT_S)
        if not self.ready.is_set() and self.report.error is None:
            self.report.error = f"not ready within {READY_TIMEOUT_S:g} s"

    def end(self) -> None:
        """Ends a SQL job's transaction (committed); a command still running is left to end
        with the container, and said so."""
        self.stop.set()
        sql = self.resolved.job.kind is JobKind.SQL
        if not self.done.wait(5.0 if sql else 0.2):
            self.detached = True
            self.report.status = (
                f"still running when the attempt ended ({time.monotonic() - self.started:.1f} s)"
            )


def start_job(
    resolved: ResolvedJob,
    report: JobReport,
    *,
    dsn: str,
    redactor: Redactor,
    client: Any,
    container_id: str,
) -> RunningJob:
    running = RunningJob(resolved, report)
    report.runs += 1
    report.error = None
    if resolved.job.kind is JobKind.SQL:
        threading.Thread(
            target=_run_sql, args=(running, dsn, redactor), name=resolved.label, daemon=True
        ).start()
        return running
    threading.Thread(
        target=_run_command, args=(running, client, container_id), name=resolved.label,
        daemon=True,
    ).start()  # fmt: skip

    def ready_after() -> None:
        # The request goes ``after`` the start, or as soon as the job ends (if it is quicker).
        running.done.wait(resolved.job.after_s)
        running.ready.set()

    threading.Thread(target=ready_after, daemon=True).start()
    return running


def _run_sql(running: RunningJob, dsn: str, redactor: Redactor) -> None:
    job, report = running.resolved.job, running.report
    try:
        conn = connect_target(dsn, redactor, what="the sandbox database (a job)")
    except Exception as exc:
        report.error = one_line(str(exc))
        running.ready.set()
        running.done.set()
        return
    try:
        conn.execute("SELECT set_config('application_name', %s, false)", (running.resolved.label,))
        conn.commit()
        try:
            conn.execute(job.text.encode("utf-8"))
        except Exception as exc:  # psycopg.Error: the condition is not there
            report.error = f"failed: {one_line(str(exc))[:300]}"
            conn.rollback()
            return
        ran = time.monotonic()
        running.ready.set()
        hold = MAX_HOLD_S if job.hold_s is None else job.hold_s
        ended_early = running.stop.wait(hold)
        conn.commit()
        held = time.monotonic() - ran
        report.status = (
            f"held its transaction {held:.1f} s"
            + (" (ended with the attempt)" if ended_early else "")
            + ", then committed"
        )
    finally:
        running.ended = time.monotonic()
        running.ready.set()
        running.done.set()
        conn.close()


def _run_command(running: RunningJob, client: Any, container_id: str) -> None:
    resolved, report = running.resolved, running.report
    assert resolved.command is not None
    environment = {"PATH": resolved.path} if resolved.path else None
    lines: list[str] = []
    try:
        exec_id = client.api.exec_create(
            container_id,
            ["/bin/sh", "-c", resolved.command],
            user=resolved.user or "",
            environment=environment,
        )["Id"]
        buffer = b""
        for chunk in client.api.exec_start(exec_id, stream=True, demux=False):
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            lines = (lines + [c.decode("utf-8", "replace") for c in complete])[-MAX_OUTPUT_LINES:]
        if buffer:
            lines = [*lines, buffer.decode("utf-8", "replace")][-MAX_OUTPUT_LINES:]
        code = client.api.exec_inspect(exec_id).get("ExitCode")
        if not running.detached:
            seconds = time.monotonic() - running.started
            report.status = f"exited with code {code} after {seconds:.1f} s"
    except Exception as exc:  # the engine refused the exec (no /bin/sh, no such user)
        if not running.detached:
            report.error = f"could not run: {one_line(str(exc))[:300]}"
    finally:
        if not running.detached:
            report.output = lines
        running.ended = time.monotonic()
        running.done.set()
        running.ready.set()
