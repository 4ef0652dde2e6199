"""``repro replay``'s core: build the sandbox, run production's release in it under
production's conditions (:mod:`repro.replay.release_run`), decide; then, with ``--candidate``
and ``--baseline``, put each other release in the same sandbox (the data as it was before the
first request) and run it the same way (:mod:`repro.replay.fix_check`). Plain data in (the
options and the inputs they name, :mod:`repro.replay.options`), a :class:`ReplayOutcome` out;
the command module renders it.

A sandbox that cannot be built or dies is ENV_ERROR, never a verdict about the bug.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from repro.progress import Progress
from repro.redaction import Redactor
from repro.replay.conditions.jobs import ResolvedJob, resolve_jobs
from repro.replay.conditions.spec import Expect
from repro.replay.fix_check import release_answer
from repro.replay.incident import Signature
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import ReleaseAnswer, ReleaseRun, ReplayOutcome, Stage
from repro.replay.parity import measure_parity
from repro.replay.release_run import ReleaseEvidence, run_release
from repro.replay.request import PreparedRequest, prepare
from repro.replay.sandbox import Sandbox, SandboxError, open_sandbox, placeholders_of
from repro.replay.sandbox_env import app_user
from repro.replay.sandbox_faults import find_fault
from repro.replay.verdict import Decision, Verdict, decide

SHOWN_LOG_LINES = 20  # of the app's log, in a report


def replay(
    options: ReplayOptions,
    inputs: ReplayInputs,
    redactor: Redactor,
    *,
    progress: Progress | None = None,  # rows/s while the sandbox's data loads
    on_stage: Callable[[str], None] = lambda name: None,
    on_verdict: Callable[[ReplayOutcome], None] = lambda outcome: None,
) -> ReplayOutcome:
    """``on_verdict`` gets the finished outcome before the sandbox is removed, so that the
    report does not wait for the clean-up (which then has no stage in it); when the sandbox
    itself failed, there is no call, and the caller reports the returned outcome."""
    incident, snapshot, profile = inputs.incident, inputs.snapshot, inputs.profile
    request, used, unfilled = prepare(incident, inputs.stand_ins)
    conditions = options.conditions
    assert inputs.sandbox.app is not None
    # A schedule: job not in the snapshot is a usage error before any container starts.
    jobs = resolve_jobs(snapshot, conditions.jobs, app_user(snapshot, inputs.sandbox.app))
    outcome = ReplayOutcome(
        incident=incident,
        incident_file=options.incident,
        snapshot=inputs.snapshot_ref,
        decision=Decision(Verdict.ENV_ERROR, "not run", 0, 0, 0.0),
        stand_ins=used,
        unfilled=unfilled,
        expect_oom=conditions.expect is Expect.OOM,
    )
    on_stage("sandbox")
    try:
        with open_sandbox(inputs, redactor, options, progress) as sandbox:
            outcome.sandbox = sandbox.facts
            outcome.stages = sandbox.stages
            on_stage("replay")
            started = time.perf_counter()
            current = _run(sandbox, request, options, jobs, redactor, incident.signature)
            outcome.evidence, outcome.conditions = current.evidence, current.conditions
            count = len(current.attempts)
            outcome.stages.append(
                Stage("replay", time.perf_counter() - started, f"{count} attempt(s)")
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
            outcome.decision = _decide(outcome, current, options)
            for role, image in (("candidate", options.candidate), ("baseline", options.baseline)):
                if image:
                    on_stage(role)
                    outcome.releases.append(
                        _other_release(
                            role, image, sandbox, request, options, jobs, redactor, outcome
                        )
                    )
            _finish(outcome, redactor)
            on_verdict(outcome)
            on_stage("cleanup")
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
        outcome.releases = [
            ReleaseRun(
                role,
                image,
                outcome.decision,
                ReleaseAnswer.UNVERIFIED,
                "the sandbox failed: no run",
            )
            for role, image in (("candidate", options.candidate), ("baseline", options.baseline))
            if image
        ]
    return outcome


def _finish(outcome: ReplayOutcome, redactor: Redactor) -> None:
    """What a report needs beyond the decision: the fault that broke an attempt, and every
    reason scrubbed."""
    broken = next((e for e in outcome.evidence if e.attempt.fault), None)
    if broken is not None:
        outcome.env_error = redactor.scrub(broken.attempt.fault or "")
        outcome.app_log_tail = [redactor.scrub(line) for line in broken.log[-SHOWN_LOG_LINES:]]
    outcome.decision.reason = redactor.scrub(outcome.decision.reason)
    for run in outcome.releases:
        run.reason = redactor.scrub(run.reason)
        run.decision.reason = redactor.scrub(run.decision.reason)


def _run(
    sandbox: Sandbox,
    request: PreparedRequest,
    options: ReplayOptions,
    jobs: Sequence[ResolvedJob],
    redactor: Redactor,
    production: Signature,
) -> ReleaseEvidence:
    return run_release(
        sandbox,
        request,
        conditions=options.conditions,
        repeat=options.repeat,
        timeout_s=options.timeout_s,
        jobs=jobs,
        redactor=redactor,
        placeholders=placeholders_of(sandbox.facts),
        production=production,
    )


def _decide(outcome: ReplayOutcome, run: ReleaseEvidence, options: ReplayOptions) -> Decision:
    return decide(
        outcome.incident.signature,
        run.attempts,
        sandbox_ok=True,
        require_signature=options.require_signature,
        expect_oom=outcome.expect_oom,
    )


def _other_release(
    role: str,
    image: str,
    sandbox: Sandbox,
    request: PreparedRequest,
    options: ReplayOptions,
    jobs: Sequence[ResolvedJob],
    redactor: Redactor,
    outcome: ReplayOutcome,
) -> ReleaseRun:
    """``image`` in the same sandbox, the data reset, the same request and conditions."""
    started = time.perf_counter()
    try:
        sandbox.replace_app(image)
    except SandboxError as exc:
        why = redactor.scrub(exc.one_line())
        decision = Decision(Verdict.ENV_ERROR, f"the {role} did not start: {why}", 0, 0, 0.0)
        outcome.stages.append(Stage(role, time.perf_counter() - started, f"{image}: failed"))
        return ReleaseRun(role, image, decision, ReleaseAnswer.UNVERIFIED, decision.reason)
    run = _run(sandbox, request, options, jobs, redactor, outcome.incident.signature)
    decision = _decide(outcome, run, options)
    answer, reason = release_answer(role, outcome.decision, decision, run.attempts)
    outcome.stages.append(Stage(role, time.perf_counter() - started, image))
    return ReleaseRun(role, image, decision, answer, reason, run.evidence, run.conditions)
