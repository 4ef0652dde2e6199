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

from repro.progress import Progress
from repro.redaction import Redactor
from repro.replay.incident import Signature
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import Evidence, ReplayOutcome, Stage
from repro.replay.parity import measure_parity
from repro.replay.request import PreparedRequest, prepare, send
from repro.replay.sandbox import Sandbox, SandboxError, open_sandbox
from repro.replay.sentry_sink import signature_from_event
from repro.replay.tracebacks import parse_tracebacks
from repro.replay.verdict import Attempt, Decision, Verdict, decide

# How long to wait for the app's Sentry event after a failing answer; SDKs send from a
# background thread within milliseconds, so this bounds a slow machine, not the normal case.
EVENT_WAIT_FAILED_S = 5.0
# After a success an event is unlikely (a handled error logged with capture_exception): look
# briefly, so NOT_REPRODUCED stays quick.
EVENT_WAIT_OK_S = 0.3


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
            outcome.evidence = [
                _attempt(sandbox, request, options.timeout_s) for _ in range(options.repeat)
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
                outcome.app_log_tail = [redactor.scrub(line) for line in sandbox.log_tail()]
            on_stage("cleanup")
            cleaning = time.perf_counter()
        outcome.stages.append(Stage("cleanup", time.perf_counter() - cleaning, "removed"))
    except SandboxError as exc:
        outcome.env_error = redactor.scrub(exc.one_line())
        outcome.stages = exc.stages
        outcome.app_log_tail = [redactor.scrub(line) for line in exc.log_tail]
        outcome.decision = decide(incident.signature, [], sandbox_ok=False)
        outcome.decision.reason = f"{outcome.decision.reason}: {outcome.env_error}"
        return outcome
    outcome.decision = decide(
        incident.signature, [e.attempt for e in outcome.evidence], sandbox_ok=True
    )
    return outcome


def _attempt(sandbox: Sandbox, request: PreparedRequest, timeout_s: float) -> Evidence:
    sandbox.sink.clear()
    log_before = len(sandbox.app_logs())
    response = send(sandbox.host, sandbox.port, request, timeout=timeout_s)
    failed = response.error is not None or (response.status or 0) >= 500
    event = sandbox.sink.wait_for_event(
        EVENT_WAIT_FAILED_S if failed else EVENT_WAIT_OK_S,
        predicate=lambda e: bool((e.get("exception") or {}).get("values")),
    )
    exited = sandbox.app_state()
    signature: Signature | None = None
    source: str | None = None
    if event is not None:
        signature, source = signature_from_event(event, response.status), "sentry"
    else:
        chains = parse_tracebacks(sandbox.app_logs()[log_before:])
        if chains:
            signature, source = Signature(response.status, chains[-1]), "log"
    attempt = Attempt(response.status, signature, response.error, response.seconds)
    if exited is not None and attempt.error is None and response.status is None:
        attempt.error = f"the app {exited}"
    return Evidence(attempt, source, exited)
