"""``repro replay --emit-pytest PATH``: a pytest module that replays the incident again, through
repro's API (:mod:`repro.commands.regression`), and asserts it no longer reproduces.

Compare, then render: :func:`regression_spec` gathers what the replay was given (plain
values), :func:`render_module` prints the module. Captured data is hostile, so every value
reaches the module as a Python literal made by :func:`repr` (never pasted into code, a
comment or a docstring as such); the docstring shows values only as :func:`repr` text,
escaped once more for the docstring. The module's shape (its statements and names) is the
same whatever the values are; tests/replay/test_regression.py proves both with hypothesis.

Paths: the module records the directory ``repro replay`` ran in (WORKDIR) relative to the
module, when the module is inside it, so it works from any checkout of the repository; the
replay's own paths are recorded as the command line read them, relative to WORKDIR (an
absolute path inside WORKDIR is made relative to it; one outside stays absolute). Profile and
snapshot names stay names. The API resolves them in WORKDIR, as the command line did.

Production's conditions are recorded as the command line's strings (``--fault``
``payments=timeout``...), in a canonical form that :func:`parse_conditions` reads back to the
same :class:`Conditions`; :func:`condition_arguments` checks that round trip before anything
is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from pprint import pformat
from typing import Any

from repro import __version__
from repro.console import log
from repro.errors import UsageError
from repro.outputfile import check_output, write_output
from repro.redaction import Redactor
from repro.replay.conditions.spec import (
    Conditions,
    Fault,
    FaultKind,
    Job,
    JobKind,
    parse_conditions,
)
from repro.replay.options import ReplayOptions
from repro.replay.outcome import ReplayOutcome
from repro.replay.verdict import Verdict

MODULE_WIDTH = 100
DOC_VALUE_CHARS = 200  # of one value's repr in the docstring (the constants hold it whole)
TEST_NAME = "test_incident_does_not_reproduce"
# The module's constants, in order: what a test (and a reader) finds in it.
CONSTANTS = (
    "WORKDIR", "INCIDENT", "SNAPSHOT", "PROFILE", "IMAGE", "CONDITIONS", "REPEAT", "SEED",
    "ROWS", "DATA", "SECRETS_FILE", "TIMEOUT_S", "REQUIRE_SIGNATURE",
)  # fmt: skip


@dataclass(frozen=True)
class RegressionSpec:
    """Everything the emitted module records, as plain values."""

    workdir: str  # where `repro replay` ran, relative to the module (or absolute)
    incident: str
    snapshot: str  # a file (relative to workdir, or absolute) or a profile name
    profile: str | None
    image: str | None  # the release the test runs by default (None: the profile's image)
    conditions: dict[str, Any]  # parse_conditions keyword arguments
    repeat: int
    seed: int
    rows: int | None
    data: str | None
    secrets_file: str | None
    timeout_s: float
    require_signature: bool
    # For the docstring only:
    emitted_as: str  # the path the module was written to, as given
    generated: str  # "2026-12-05T07:33:40Z"
    request: str  # "POST /checkout/preview"
    failure: str  # "500, KeyError" (what production recorded)
    source: str  # "sentry event 5f0c..."
    found: str  # "REPRODUCED; candidate repro/shop:2.1.1: FIXED"

    def constants(self) -> dict[str, Any]:
        """The module's constants by name, as the module's literals must evaluate."""
        values = {
            "WORKDIR": self.workdir, "INCIDENT": self.incident, "SNAPSHOT": self.snapshot,
            "PROFILE": self.profile, "IMAGE": self.image, "CONDITIONS": self.conditions,
            "REPEAT": self.repeat, "SEED": self.seed, "ROWS": self.rows, "DATA": self.data,
            "SECRETS_FILE": self.secrets_file, "TIMEOUT_S": self.timeout_s,
            "REQUIRE_SIGNATURE": self.require_signature,
        }  # fmt: skip
        assert tuple(values) == CONSTANTS
        return values


# --- conditions as the command line's strings --------------------------------------------


def _number(value: float) -> str:
    """A decimal the condition parsers read back to exactly ``value`` (never 1e-05)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    return format(Decimal(value), "f") if "e" in text.lower() else text


def _size(value: int) -> str:
    for unit, factor in (("g", 1024**3), ("m", 1024**2)):
        if value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


def _fault(fault: Fault) -> str:
    if fault.kind is FaultKind.SLOW:
        return f"slow:{_number(fault.seconds)}s"
    if fault.kind is FaultKind.STATUS:
        return f"status:{fault.status}"
    return fault.kind.value


def _job(job: Job) -> str:
    text = f"{job.kind.value}:{job.text}"
    if job.kind is JobKind.SQL:
        return text + (f";hold={_number(job.hold_s)}s" if job.hold_s is not None else "")
    if job.after_s != 1.0:
        text += f";after={_number(job.after_s)}s"
    return text + (f";user={job.user}" if job.user else "")


def _canonical(conditions: Conditions) -> Conditions:
    return replace(
        conditions,
        faults=dict(conditions.faults),
        stubs=dict(conditions.stubs),
        jobs=tuple(conditions.jobs),
    )


def condition_arguments(
    conditions: Conditions, path: Callable[[str], str] = lambda p: p
) -> dict[str, Any]:
    """``parse_conditions`` keyword arguments giving ``conditions`` back (only those that
    differ from the defaults); ``path`` maps each ``--stub`` file. UsageError when the
    conditions have no such form (built by a program, not read from a command line)."""
    args: dict[str, Any] = {}
    if conditions.memory_bytes is not None:
        args["memory"] = _size(conditions.memory_bytes)
    if conditions.cpus is not None:
        args["cpus"] = _number(conditions.cpus)
    if not conditions.resource_limits:
        args["limits"] = False
    if conditions.faults:
        args["faults"] = [f"{name}={_fault(f)}" for name, f in conditions.faults.items()]
    if conditions.stubs:
        args["stubs"] = [f"{name}={file}" for name, file in conditions.stubs.items()]
    if conditions.jobs:
        args["jobs"] = [_job(job) for job in conditions.jobs]
    if conditions.concurrency != 1:
        args["concurrency"] = conditions.concurrency
    if conditions.expect is not None:
        args["expect"] = conditions.expect.value
    try:
        again = parse_conditions(**args)
    except UsageError as exc:
        again, why = None, exc.one_line()
    else:
        why = "they read back differently"
    if again is None or _canonical(again) != _canonical(conditions):
        raise UsageError(f"--emit-pytest: the conditions cannot be written as options ({why})")
    if conditions.stubs:
        args["stubs"] = [f"{name}={path(file)}" for name, file in conditions.stubs.items()]
    return args


# --- gathering ---------------------------------------------------------------------------


def _inside(path: str, directory: str) -> bool:
    return os.path.commonpath([path, directory]) == directory


def recorded_path(text: str, workdir: str) -> str:
    """A path as the module records it: relative to ``workdir`` when absolute and inside it,
    otherwise as given (a relative path, a name, or an absolute path elsewhere)."""
    if not os.path.isabs(text):
        return text
    path = os.path.normpath(text)
    return os.path.relpath(path, workdir) if _inside(path, workdir) else path


def module_workdir(module_path: str, workdir: str) -> str:
    """``workdir`` relative to the module's folder when the module is inside it (a checkout
    moves as a whole), else absolute."""
    folder = os.path.dirname(os.path.abspath(module_path))
    return os.path.relpath(workdir, folder) if _inside(folder, workdir) else workdir


def _found(outcome: ReplayOutcome) -> str:
    text = outcome.decision.verdict.name
    for run in outcome.releases:
        text += f"; {run.role} {run.image!r}: {run.answer.name}"
    return text


def regression_spec(
    options: ReplayOptions,
    outcome: ReplayOutcome,
    *,
    workdir: str | None = None,
    now: datetime | None = None,
) -> RegressionSpec:
    """What the module for ``options.emit_pytest`` records, after ``outcome``'s replay."""
    assert options.emit_pytest is not None
    cwd = os.path.abspath(workdir or os.getcwd())

    def path(text: str) -> str:
        return recorded_path(text, cwd)

    def maybe(text: str | None) -> str | None:
        return None if text is None else path(text)

    incident = outcome.incident
    main = incident.signature.main_exception
    failure = ", ".join(
        str(part)
        for part in (incident.signature.status, main.type if main else None)
        if part is not None
    )
    source = incident.provenance.source
    if incident.provenance.event_id:
        source += f" event {incident.provenance.event_id}"
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return RegressionSpec(
        workdir=module_workdir(options.emit_pytest, cwd),
        incident=path(options.incident),
        snapshot=path(options.snapshot or outcome.snapshot),
        profile=maybe(options.profile),
        image=options.candidate,
        conditions=condition_arguments(options.conditions, path),
        repeat=options.repeat,
        seed=options.seed,
        rows=options.rows,
        data=maybe(options.data_dump),
        secrets_file=maybe(options.secrets_file),
        timeout_s=options.timeout_s,
        require_signature=options.require_signature,
        emitted_as=options.emit_pytest,
        generated=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        request=f"{incident.request.method} {incident.request.path}",
        failure=failure or "unknown",
        source=source,
        found=_found(outcome),
    )


# --- rendering ---------------------------------------------------------------------------


def _doc(value: object) -> str:
    """A value shown in the docstring: its repr (cut), escaped so the docstring's text is
    that repr exactly (no quote can end the docstring, no backslash escapes anything)."""
    text = repr(value)
    if len(text) > DOC_VALUE_CHARS:
        text = text[: DOC_VALUE_CHARS - 1] + "…"
    return _doc_text(text)


def _doc_text(text: str) -> str:
    """repro's own text for the docstring (its captured parts already repr text)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _docstring(spec: RegressionSpec) -> str:
    image = (
        f"{_doc(spec.image)} (the --candidate of the replay)"
        if spec.image
        else "the profile's sandbox.app.image"
    )
    return f'''"""Regression test: incident {_doc(spec.request)} must not reproduce any more.

Written by `repro replay --emit-pytest` (repro {__version__}) at {spec.generated}.

    incident   {_doc(spec.incident)}: {_doc(spec.source)}
    failure    {_doc(spec.failure)} (what production recorded)
    snapshot   {_doc(spec.snapshot)} (the sandbox is built from production's snapshot)
    release    {image}; REPRO_IMAGE overrides
    replayed   {_doc_text(spec.found)} (when written)

The test builds the same sandbox again through repro's API
(repro.commands.regression.replay_incident), sends the incident's request under the same
conditions and asserts what `repro replay --candidate` calls FIXED: production's failure does
not happen and the request fails in no new way (no 5xx, exception, OOM kill or missing
answer). Otherwise it fails with the replay's evidence. A sandbox that cannot be built fails
it too: it proves nothing.

Run it (the replay's paths and names are read in WORKDIR, relative to this file):

    python -m pytest {_doc(spec.emitted_as)}
    REPRO_IMAGE=registry.example.com/app:next python -m pytest {_doc(spec.emitted_as)}

It needs repro importable, a Docker engine and the images. Without an engine it is skipped;
REPRO_REQUIRE_DOCKER=1 makes that a failure (CI).
"""'''


_BODY = '''
from __future__ import annotations

import os
from pathlib import Path
from pprint import pformat

import pytest

from repro.commands.regression import docker_problem, replay_incident

HERE = Path(__file__).absolute().parent
# What the replay was given. WORKDIR is the directory `repro replay` ran in, relative to this
# file; the paths below are relative to WORKDIR (or absolute), and a snapshot or profile
# without a path is a name, looked up there as the command line did.
{constants}


def {test}() -> None:
    problem = docker_problem()
    if problem is not None:
        if os.environ.get("REPRO_REQUIRE_DOCKER", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"{{problem}} [REPRO_REQUIRE_DOCKER=1 makes this a failure]", pytrace=False)
        pytest.skip(problem)
    check = replay_incident(
        INCIDENT,
        SNAPSHOT,
        profile=PROFILE,
        image=os.environ.get("REPRO_IMAGE") or IMAGE,
        conditions=CONDITIONS,
        repeat=REPEAT,
        seed=SEED,
        rows=ROWS,
        data=DATA,
        secrets_file=SECRETS_FILE,
        timeout_s=TIMEOUT_S,
        require_signature=REQUIRE_SIGNATURE,
        workdir=HERE / WORKDIR,
    )
    if not check.fixed:
        pytest.fail(check.evidence(), pytrace=False)
'''


def render_module(spec: RegressionSpec) -> str:
    """The module's text: a docstring, then code whose only data are repr() literals."""
    constants = "\n".join(
        f"{name} = {pformat(value, width=MODULE_WIDTH - len(name) - 3, sort_dicts=False)}"
        for name, value in spec.constants().items()
    )
    body = _BODY.format(constants=constants, test=TEST_NAME)
    return _docstring(spec) + "\n" + body


# --- writing -----------------------------------------------------------------------------


def check_emit_path(options: ReplayOptions) -> None:
    """Before the replay: a path the module can be written to, and nothing the module could
    not carry (a long replay must not end in "exists")."""
    if options.emit_pytest is None:
        return
    if not options.emit_pytest.endswith(".py"):
        raise UsageError(
            f"--emit-pytest {options.emit_pytest!r}: a pytest module is a .py file",
            hint="e.g. tests/regressions/test_incident_checkout.py",
        )
    if options.auth is not None or options.stand_ins:
        raise UsageError(
            "--emit-pytest: --auth and --stand-in values are never written into a test",
            hint="name them in the profile's sandbox.stand_ins ({env: VAR}): the test reads "
            "them from the environment",
        )
    where = f"--emit-pytest {options.emit_pytest}"
    check_output(Path(options.emit_pytest), force=options.force, label=where)


def emit_module(
    options: ReplayOptions, outcome: ReplayOutcome, redactor: Redactor, **spec_args: Any
) -> Path:
    """Write the regression module for ``outcome``'s replay where ``--emit-pytest`` says."""
    assert options.emit_pytest is not None
    spec = regression_spec(options, outcome, **spec_args)
    if any(redactor.scrub(value) != value for value in _strings(spec)):
        raise UsageError(
            "--emit-pytest: the test would carry a value judged secret (in a --with-job, a "
            "path or the incident's request line); nothing written",
            hint="keep secrets in --secrets FILE or the profile's sandbox.stand_ins",
        )
    text = render_module(spec)
    where = f"--emit-pytest {options.emit_pytest}"
    path = write_output(Path(options.emit_pytest), text, force=options.force, label=where)
    log(redactor.scrub(f"wrote {path}: python -m pytest {path}"))
    if outcome.decision.verdict is not Verdict.REPRODUCED:
        log(
            f"note: production's failure did not reproduce here "
            f"({outcome.decision.verdict.name}): the test passes for as long as it does not"
        )
    return path



def _strings(value: Any) -> Iterator[str]:
    """Every string the module will carry (the code around them is repro's own)."""
    if isinstance(value, RegressionSpec):
        yield from _strings(list(vars(value).values()))
    elif isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        yield from _strings(list(value.values()))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
