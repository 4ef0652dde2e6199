"""One release's run in a built sandbox, under production's conditions: the request sent
``--repeat`` times one after another (or by ``--concurrency`` clients at once), each attempt
with its jobs started first and its stubs armed, the app's memory sampled and the database's
lock waits watched throughout. Returns the evidence the verdict is decided on and what the
conditions did (:class:`~repro.replay.conditions.report.ConditionsReport`).

Evidence per attempt, best first: the Sentry event the app sent to repro's sink (the same shape
production's Sentry stored), else a stack trace in the app's log written during the attempt;
plus whether the app died, and whether the kernel killed it for memory (``OOMKilled``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.redaction import Redactor
from repro.replay.conditions.jobs import JobReport, ResolvedJob, RunningJob, start_job
from repro.replay.conditions.load import fire, summarize
from repro.replay.conditions.locks import LockWatch
from repro.replay.conditions.report import ConditionsReport
from repro.replay.conditions.resources import MemorySampler
from repro.replay.conditions.spec import Conditions
from repro.replay.incident import Signature
from repro.replay.outcome import Evidence
from repro.replay.request import PreparedRequest, send
from repro.replay.sandbox import Sandbox
from repro.replay.sandbox_faults import find_fault
from repro.replay.sentry_sink import signature_from_event
from repro.replay.tracebacks import Chain
from repro.replay.traces import parse_log_traces
from repro.replay.verdict import Attempt

# How long to wait for the app's Sentry event after a failing answer when nothing else is in:
# SDKs send from a background thread within milliseconds, so this bounds a slow machine, not
# the normal case.
EVENT_WAIT_FAILED_S = 5.0
# After a success an event is unlikely (a handled error logged with capture_exception): look
# briefly, so NOT_REPRODUCED stays quick.
EVENT_WAIT_OK_S = 0.3
# Once a stack trace is in the log, how long an SDK's event may still take to arrive (it is
# richer evidence: context lines); the attempt is decided within this of the trace.
EVENT_GRACE_S = 0.4
# Without Sentry, how long a failing app's log may take to show its stack trace.
LOG_WAIT_S = 0.8
# A connection the app dropped: how long the engine may take to show the container dead.
DEATH_WAIT_S = 2.0
POLL_S = 0.05
LOG_KEPT_LINES = 200  # of an attempt's log, kept to name what broke
SHOWN_LOAD_SHOTS = 20  # a load's requests kept as evidence rows (failures first)


@dataclass
class ReleaseEvidence:
    evidence: list[Evidence]  # what the report shows, attempt by attempt
    attempts: list[Attempt]  # what the verdict is decided on (a load's every request)
    conditions: ConditionsReport = field(default_factory=ConditionsReport)


def run_release(
    sandbox: Sandbox,
    request: PreparedRequest,
    *,
    conditions: Conditions,
    repeat: int,
    timeout_s: float,
    jobs: Sequence[ResolvedJob],
    redactor: Redactor,
    placeholders: dict[str, str],
    production: Signature,
) -> ReleaseEvidence:
    report = ConditionsReport(limits=sandbox.limits.lines() if sandbox.limits else [])
    job_reports = [JobReport(job.job.describe()) for job in jobs]
    report.jobs = job_reports
    if sandbox.third_parties is not None:
        sandbox.third_parties.clear()
    limit = sandbox.limits.memory_bytes if sandbox.limits is not None else None
    sampler = MemorySampler(sandbox.client, sandbox.app.id, limit).start()
    watch = LockWatch(sandbox.database.dsn, redactor).start() if jobs else None
    context = _Context(sandbox, request, timeout_s, placeholders, production, jobs, job_reports,
                       redactor)  # fmt: skip
    result: ReleaseEvidence | None = None
    try:
        if conditions.load:
            result = _load(context, conditions.concurrency, repeat)
        else:
            evidence = [_attempt(context) for _ in range(repeat)]
            result = ReleaseEvidence(evidence, [e.attempt for e in evidence])
    finally:
        oom = result is not None and any(a.oom_killed for a in result.attempts)
        report.memory = sampler.stop(oom_killed=oom)
        if watch is not None:
            report.lock_waits = watch.stop()
            report.lock_watch_error = watch.error
    if sandbox.third_parties is not None:
        report.third_parties = sandbox.third_parties.collect()
    if result.conditions.load is not None:
        report.load = result.conditions.load
    result.conditions = report
    return result


@dataclass
class _Context:
    sandbox: Sandbox
    request: PreparedRequest
    timeout_s: float
    placeholders: dict[str, str]
    production: Signature
    jobs: Sequence[ResolvedJob]
    job_reports: list[JobReport]
    redactor: Redactor


def _start_jobs(ctx: _Context) -> tuple[list[RunningJob], str | None]:
    """Each job started and ready (its lock taken); the first job that could not run."""
    running = [
        start_job(job, report, dsn=ctx.sandbox.database.dsn, redactor=ctx.redactor,
                  client=ctx.sandbox.client, container_id=ctx.sandbox.app.id)
        for job, report in zip(ctx.jobs, ctx.job_reports, strict=True)
    ]  # fmt: skip
    for job in running:
        job.wait_ready()
    broken = next((j for j in running if j.report.error is not None), None)
    if broken is None:
        return running, None
    return running, f"--with-job {broken.report.spec} {broken.report.error}"


def _end(ctx: _Context, running: list[RunningJob]) -> None:
    for job in running:
        job.end()
    if ctx.sandbox.third_parties is not None:
        ctx.sandbox.third_parties.release()


def _begin(ctx: _Context) -> tuple[int, list[RunningJob], Attempt | None]:
    """Before the request: no events, stubs holding again, jobs running and ready. Returns
    where the app's log stands, the jobs, and an attempt that is an environment error when a
    job could not run (the condition asked for is not there: no verdict on the bug)."""
    sandbox = ctx.sandbox
    sandbox.sink.clear()
    if sandbox.third_parties is not None:
        sandbox.third_parties.arm()
    log_before = len(sandbox.app_logs())
    running, job_error = _start_jobs(ctx)
    broken = Attempt(None, None, job_error, 0.0, fault=job_error) if job_error else None
    return log_before, running, broken


def _attempt(ctx: _Context) -> Evidence:
    sandbox = ctx.sandbox
    log_before, running, broken = _begin(ctx)
    try:
        if broken is not None:
            return Evidence(broken, None)
        response = send(sandbox.host, sandbox.port, ctx.request, timeout=ctx.timeout_s)
    finally:
        _end(ctx, running)
    failed = response.error is not None or (response.status or 0) >= 500
    event, chains, log = _await_evidence(sandbox, log_before, failed)
    exited = _exit_state(sandbox, waited=response.status is None)
    signature: Signature | None = None
    source: str | None = None
    if event is not None:
        signature, source = signature_from_event(event, response.status), "sentry"
    elif chains:
        signature, source = Signature(response.status, chains[-1]), "log"
    attempt = Attempt(response.status, signature, response.error, response.seconds)
    attempt.oom_killed = sandbox.oom_killed() if exited is not None else False
    if exited is not None and attempt.error is None and response.status is None:
        attempt.error = f"the app {exited}"
    if (failed or signature is not None) and not attempt.oom_killed:
        fault = find_fault(signature, log, ctx.placeholders, ctx.production)
        attempt.fault = fault.reason if fault is not None else None
    if attempt.oom_killed:
        source = "engine"
    return Evidence(attempt, source, exited, log=log[-LOG_KEPT_LINES:])


def _exit_state(sandbox: Sandbox, *, waited: bool) -> str | None:
    """The app's state after the attempt; a dropped connection gives the engine a moment to
    see the container die (an OOM kill closes the socket before the engine reports it)."""
    deadline = time.monotonic() + (DEATH_WAIT_S if waited else 0.0)
    while True:
        state = sandbox.app_state()
        if state is not None or time.monotonic() >= deadline:
            return state
        time.sleep(POLL_S * 2)


def _load(ctx: _Context, concurrency: int, total: int) -> ReleaseEvidence:
    """The request ``total`` times by ``concurrency`` clients at once, jobs held throughout.
    The app's exception events arrive without saying which request raised them: they are
    paired with the failed requests in the order both ended (a request that failed without an
    event has none), which is what the first failure's evidence and the rate rest on."""
    sandbox = ctx.sandbox
    log_before, running, broken = _begin(ctx)
    try:
        if broken is not None:
            return ReleaseEvidence([Evidence(broken, None)], [broken])
        shots, wall = fire(sandbox.host, sandbox.port, ctx.request, concurrency=concurrency,
                           total=total, timeout=ctx.timeout_s)  # fmt: skip
    finally:
        _end(ctx, running)
    load = summarize(shots, concurrency, wall)
    failed = sorted((s for s in shots if s.failed), key=lambda s: s.started + s.seconds)
    events = _await_events(sandbox, len(failed)) if failed else []
    log = sandbox.app_logs()[log_before:]
    chains = parse_log_traces(log) if failed and not events else []
    exited = sandbox.app_state()
    oom = sandbox.oom_killed() if exited is not None else False
    signatures: dict[int, tuple[Signature, str]] = {}
    for shot, event in zip(failed, events, strict=False):
        signatures[shot.n] = (signature_from_event(event, shot.status), "sentry")
    if not events:
        for shot, chain in zip(failed, chains, strict=False):
            signatures[shot.n] = (Signature(shot.status, chain), "log")
    attempts: list[Attempt] = []
    evidence: list[Evidence] = []
    lines = log.splitlines()
    for shot in shots:
        signature, source = signatures.get(shot.n, (None, None))
        attempt = Attempt(shot.status, signature, shot.error, shot.seconds)
        attempt.oom_killed = oom and shot.status is None
        if shot.failed and not attempt.oom_killed:
            fault = find_fault(signature, lines, ctx.placeholders, ctx.production)
            attempt.fault = fault.reason if fault is not None else None
        attempts.append(attempt)
    order = [s.n for s in failed] + [s.n for s in shots if not s.failed]
    for n in order[:SHOWN_LOAD_SHOTS]:
        attempt = attempts[n - 1]
        source = signatures.get(n, (None, None))[1]
        evidence.append(Evidence(attempt, "engine" if attempt.oom_killed else source, exited,
                                 log=lines[-LOG_KEPT_LINES:] if n == order[0] else []))  # fmt: skip
    result = ReleaseEvidence(evidence, attempts)
    result.conditions.load = load
    return result


def _await_events(sandbox: Sandbox, wanted: int) -> list[dict[str, Any]]:
    """The exception events of a load, waiting until one per failed request arrived or
    :data:`EVENT_WAIT_FAILED_S` passed without a new one."""
    if not sandbox.sentry:
        time.sleep(LOG_WAIT_S)
        return []
    last_count, last_change = -1, time.monotonic()
    while True:
        events = [e for e in sandbox.sink.events() if _has_exception(e)]
        if len(events) != last_count:
            last_count, last_change = len(events), time.monotonic()
        if len(events) >= wanted or time.monotonic() - last_change >= EVENT_WAIT_FAILED_S:
            return events
        time.sleep(POLL_S)


def _await_evidence(
    sandbox: Sandbox, log_before: int, failed: bool
) -> tuple[dict[str, Any] | None, list[Chain], list[str]]:
    """Wait for the attempt's evidence, and no longer: an event from the app's Sentry SDK, or a
    stack trace in its log (then briefly for the event, which is richer). Returns the event,
    the chains in the log written during the attempt, and those log lines."""
    started = time.monotonic()
    if sandbox.sentry:
        budget = EVENT_WAIT_FAILED_S if failed else EVENT_WAIT_OK_S
    else:
        budget = LOG_WAIT_S if failed else 0.0
    seen_trace: float | None = None
    window, chains = "", []
    while True:
        event = None
        if sandbox.sentry:
            event = sandbox.sink.wait_for_event(POLL_S, predicate=_has_exception)
        fresh = sandbox.app_logs()[log_before:]
        if fresh != window:
            window, chains = fresh, parse_log_traces(fresh)
        now = time.monotonic()
        if chains and seen_trace is None:
            seen_trace = now
        settled = seen_trace is not None and (
            not sandbox.sentry or now - seen_trace >= EVENT_GRACE_S
        )
        if event is not None or settled or now - started >= budget:
            return event, chains, window.splitlines()
        if not sandbox.sentry:
            time.sleep(POLL_S)


def _has_exception(event: dict[str, Any]) -> bool:
    return bool((event.get("exception") or {}).get("values"))
