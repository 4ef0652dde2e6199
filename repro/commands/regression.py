"""repro's API for regression tests: replay an incident in a sandbox built from production's
snapshot and say whether a release is free of its failure. The modules ``repro replay
--emit-pytest`` writes call :func:`replay_incident`; a program may too.

The same code path as ``repro replay`` (:func:`repro.commands.replay.load_inputs`, then
:func:`repro.replay.runner.replay`): the arguments are the command line's options under their
names, conditions as the command line's strings (``{"faults": ["payments=timeout"]}``), and
relative paths and profile or snapshot names are read in ``workdir`` as the command would read
them there. The answer is what ``--candidate`` calls FIXED, judged without a production run
(:func:`repro.replay.fix_check.fix_answer`): the incident recorded production's failure.

Stable: new parameters are keyword-only with a default; :class:`RegressionCheck` only gains
fields.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console

from repro.commands.replay import load_inputs
from repro.errors import ReproError, UsageError
from repro.interrupts import sigterm_unwinds
from repro.profile.file import Profile
from repro.redaction import Redactor
from repro.replay.conditions.spec import Conditions, parse_conditions
from repro.replay.fix_check import fix_answer
from repro.replay.options import ReplayOptions
from repro.replay.outcome import ReleaseAnswer, ReplayOutcome
from repro.replay.renderers.terminal import render_rich
from repro.replay.runner import replay
from repro.targets.docker import engine_client

REPORT_WIDTH = 100
_LISTS = ("faults", "stubs", "jobs")
_TYPES: dict[str, tuple[type, ...]] = {
    "memory": (str, type(None)),
    "cpus": (str, type(None)),
    "limits": (bool,),
    "concurrency": (int,),
    "expect": (str, type(None)),
}


@dataclass(frozen=True)
class RegressionCheck:
    """One replay of the incident with one release, judged as a fix."""

    image: str  # the release that ran
    answer: ReleaseAnswer  # FIXED, NOT_FIXED, REGRESSED or UNVERIFIED (no verdict)
    reason: str  # one line, scrubbed
    report: str  # the replay's report as plain text, scrubbed
    outcome: ReplayOutcome  # everything, as `repro replay --json` renders it

    @property
    def fixed(self) -> bool:
        return self.answer is ReleaseAnswer.FIXED

    def evidence(self) -> str:
        """Why, for a failing test: the answer and its reason, then the whole report."""
        return f"{self.answer.name} ({self.image}): {self.reason}\n\n{self.report}"


def docker_problem(engine: str | None = None) -> str | None:
    """Why no Docker engine can be used (one line), or None when one answers."""
    try:
        client = engine_client(timeout=10, engine=engine)
    except ReproError as exc:
        return exc.one_line()
    client.close()
    return None


def replay_incident(
    incident: str | os.PathLike[str],
    snapshot: str | os.PathLike[str],
    *,
    profile: str | None = None,
    image: str | None = None,
    conditions: Mapping[str, Any] | None = None,
    repeat: int = 1,
    seed: int = 0,
    rows: int | None = None,
    data: str | None = None,
    secrets_file: str | None = None,
    timeout_s: float = 30.0,
    require_signature: bool = False,
    workdir: str | os.PathLike[str] | None = None,
    engine: str | None = None,
) -> RegressionCheck:
    """Replay ``incident`` in a sandbox built from ``snapshot`` (a file, or a profile name:
    its latest stored snapshot) running ``image`` (default: the profile's sandbox.app.image),
    as ``repro replay`` does with the same options. ``conditions``: ``parse_conditions``'s
    keyword arguments (``memory``, ``cpus``, ``limits``, ``faults``, ``stubs``, ``jobs``,
    ``concurrency``, ``expect``). ``workdir``: the process works there for the call (relative
    names are the command line's, read where it ran), then returns. Bad input raises a
    :class:`~repro.errors.ReproError`; a sandbox that fails is an UNVERIFIED answer, not an
    exception."""
    with _working_in(workdir):
        options = ReplayOptions(
            incident=os.fspath(incident),
            snapshot=os.fspath(snapshot),
            profile=profile,
            repeat=repeat,
            secrets_file=secrets_file,
            rows=rows,
            data_dump=data,
            seed=seed,
            timeout_s=timeout_s,
            parity=False,  # how faithful the sandbox is never changes the verdict
            require_signature=require_signature,
            conditions=_conditions(conditions),
            engine=engine,
        )
        inputs, redactor = load_inputs(options, [])
        if image:
            inputs = replace(inputs, profile=_with_image(inputs.profile, image))
        ran = inputs.sandbox.app.image if inputs.sandbox.app else ""
        with sigterm_unwinds():
            outcome = replay(options, inputs, redactor)
    answer, reason = fix_answer(outcome.decision, [e.attempt for e in outcome.evidence])
    return RegressionCheck(
        image=ran,
        answer=answer,
        reason=redactor.scrub(reason),
        report=_report(outcome, redactor),
        outcome=outcome,
    )


@contextlib.contextmanager
def _working_in(workdir: str | os.PathLike[str] | None) -> Iterator[None]:
    if workdir is None:
        yield
        return
    try:
        os.stat(workdir)
    except OSError as exc:
        raise UsageError(f"workdir {os.fspath(workdir)!r}: {exc.strerror or exc}") from None
    with contextlib.chdir(workdir):
        yield


def _conditions(given: Mapping[str, Any] | None) -> Conditions:
    if not given:
        return Conditions()
    unknown = sorted(set(given) - {*_LISTS, *_TYPES})
    if unknown:
        raise UsageError(
            f"conditions: unknown {', '.join(map(repr, unknown))} (known: "
            f"{', '.join(sorted({*_LISTS, *_TYPES}))})"
        )
    for key, value in given.items():
        if key in _LISTS:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"conditions[{key!r}]: a list of strings, as on the command line")
        elif not isinstance(value, _TYPES[key]) or (key == "concurrency" and value is True):
            raise UsageError(f"conditions[{key!r}]: {type(value).__name__} is not accepted")
    return parse_conditions(**given)


def _with_image(profile: Profile, image: str) -> Profile:
    assert profile.sandbox is not None and profile.sandbox.app is not None
    app = replace(profile.sandbox.app, image=image)
    return replace(profile, sandbox=replace(profile.sandbox, app=app))


def _report(outcome: ReplayOutcome, redactor: Redactor) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=REPORT_WIDTH, force_terminal=False, no_color=True)
    render_rich(outcome, console)
    return redactor.scrub(buffer.getvalue())
