"""``repro replay``'s core: build the sandbox, send the request N times, collect evidence,
decide. Plain data in (the options and the inputs they name, :mod:`repro.replay.options`), a
:class:`ReplayOutcome` out; the command
module renders it.

Evidence per attempt, best first: the Sentry event the app sent to repro's sink (the same shape
production's Sentry stored), else a Python traceback in the app's log written during the
attempt; plus whether the app died. A sandbox that cannot be built or dies is ENV_ERROR, never
a verdict about the bug.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from repro.progress import Progress
from repro.redaction import Redactor
from repro.replay.incident import Signature
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import Evidence, ReplayOutcome, Stage
from repro.replay.parity import measure_parity
from repro.replay.request import PreparedRequest, prepare, send
from repro.replay.sandbox import Sandbox, SandboxError, open_sandbox, placeholders_of
from repro.replay.sandbox_faults import find_fault
from repro.replay.sentry_sink import signature_from_event
from repro.replay.tracebacks import Chain
from repro.replay.traces import parse_log_traces
from repro.replay.verdict import Attempt, Decision, Verdict, decide

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
POLL_S = 0.05
SHOWN_LOG_LINES = 20  # of the app's log, in a report
LOG_KEPT_LINES = 200  # of an attempt's log, kept to name what broke


def replay(
    options: ReplayOptions,
    inputs: ReplayInputs,
    redactor: Redactor,
    *,
    progress: Progress | None = None,  # rows/s while the sandbox's data loads
    on_stage: Callable[[str], None] = lambda name: None,
) -> ReplayOutcome:
    incident, snapshot, profile = inputs.incident, inputs.snapshot, inputs.profile
    request, used, unfilled = prepare(incident, inputs.stand_ins)
    outcome = ReplayOutcome(
        incident=incident,
        incident_file=options.incident,
        snapshot=inputs.snapshot_ref,
        decision=Decision(Verdict.ENV_ERROR, "not run", 0, 0, 0.0),
        stand_ins=used,
        unfilled=unfilled,
    )
    on_stage("sandbox")
    try:
        with open_sandbox(inputs, redactor, options, progress) as sandbox:
            outcome.sandbox = sandbox.facts
            outcome.stages = sandbox.stages
            on_stage("replay")
            started = time.perf_counter()
            placeholders = placeholders_of(sandbox.facts)
            outcome.evidence = [
                _attempt(sandbox, request, options.timeout_s, placeholders, incident.signature)
                for _ in range(options.repeat)
            ]
            outcome.stages.append(
                Stage("replay", time.perf_counter() - started, f"{options.repeat} attempt(s)")
            )
            exits = [e.exited for e in outcome.evidence if e.exited]
            if options.parity:
                on_stage("parity")
                started = time.perf_counter()
                outcome.parity = measure_parity(
                    snapshot, profile, redactor, sandbox.app.name, sandbox.database.dsn
                )
                outcome.stages.append(Stage("parity", time.perf_counter() - started))
            if exits:
                outcome.app_log_tail = [
                    redactor.scrub(line) for line in sandbox.log_tail()[-SHOWN_LOG_LINES:]
                ]
            on_stage("cleanup")
            cleaning = time.perf_counter()
        outcome.stages.append(Stage("cleanup", time.perf_counter() - cleaning, "removed"))
    except SandboxError as exc:
        why = exc.one_line()
        fault = find_fault(None, exc.log_tail, exc.placeholders, incident.signature)
        if fault is not None:
            why = f"{why}: {fault.reason}"
        outcome.env_error = redactor.scrub(why)
        outcome.stages = exc.stages
        outcome.app_log_tail = [redactor.scrub(line) for line in exc.log_tail[-SHOWN_LOG_LINES:]]
        outcome.decision = decide(incident.signature, [], sandbox_ok=False)
        outcome.decision.reason = f"{outcome.decision.reason}: {outcome.env_error}"
        return outcome
    outcome.decision = decide(
        incident.signature,
        [e.attempt for e in outcome.evidence],
        sandbox_ok=True,
        require_signature=options.require_signature,
    )
    broken = next((e for e in outcome.evidence if e.attempt.fault), None)
    if broken is not None:
        outcome.env_error = redactor.scrub(broken.attempt.fault or "")
        outcome.app_log_tail = [redactor.scrub(line) for line in broken.log[-SHOWN_LOG_LINES:]]
    outcome.decision.reason = redactor.scrub(outcome.decision.reason)
    return outcome


def _attempt(
    sandbox: Sandbox,
    request: PreparedRequest,
    timeout_s: float,
    placeholders: dict[str, str],
    production: Signature,
) -> Evidence:
    sandbox.sink.clear()
    log_before = len(sandbox.app_logs())
    response = send(sandbox.host, sandbox.port, request, timeout=timeout_s)
    failed = response.error is not None or (response.status or 0) >= 500
    event, chains, log = _await_evidence(sandbox, log_before, failed)
    exited = sandbox.app_state()
    signature: Signature | None = None
    source: str | None = None
    if event is not None:
        signature, source = signature_from_event(event, response.status), "sentry"
    elif chains:
        signature, source = Signature(response.status, chains[-1]), "log"
    attempt = Attempt(response.status, signature, response.error, response.seconds)
    if exited is not None and attempt.error is None and response.status is None:
        attempt.error = f"the app {exited}"
    if failed or signature is not None:
        fault = find_fault(signature, log, placeholders, production)
        attempt.fault = fault.reason if fault is not None else None
    return Evidence(attempt, source, exited, log=log[-LOG_KEPT_LINES:])


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
