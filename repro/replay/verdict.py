"""Did the replay reproduce production's failure? Pure functions over signatures.

Matching rule (:func:`compare`), in order; the first difference is the reason:

1. **Status** — when production's status is known, the sandbox's must be equal.
2. **Exception chain** — when production recorded an exception, the sandbox must have raised
   the same chain of types (outermost last). A qualified and an unqualified name match when
   the last parts agree (``psycopg.errors.UndefinedFunction`` ~ ``UndefinedFunction``), since
   importers do not all know the module. Messages never matter: they carry ids and timings.
   When production recorded no exception (HAR, curl, access-log imports without
   ``--traceback``), the status decides: a *weak* match ("status only"), reported as such in
   every format with the sandbox's exception beside it; ``--require-signature`` refuses it
   (UNCONFIRMED).
3. **Frames** — for each exception, the LAST (the "main" one Sentry shows) first: production's
   in-app frames, by (module, function, context line) and never by line number, must be reached
   in the sandbox in the same order. Tolerated:
   * extra sandbox frames anywhere (a superset: middleware, a debug wrapper);
   * a sandbox frame that the sandbox did not mark in-app (in-app detection differs between
     Sentry SDK settings and log parsing);
   * production frames *above* the sandbox's outermost in-app frame (the sandbox's stack was
     captured from a lower point: a subset cut at the caller end, never in the middle);
   * modules that are ``__main__`` on one side (a script's module name depends on how it was
     started), unknown, or a dotted suffix of the other (a path under an unknown root);
   * a missing context line on one side (no source readable there).

Before any of that, :func:`decide` gives ENV_ERROR when an attempt's evidence shows the sandbox
itself broken (:mod:`repro.replay.sandbox_faults`: the database unreachable, a placeholder in a
connection, failed migrations, a module missing): never a verdict on the bug.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from repro.redaction import MASK
from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.text import one_line

_SHOWN_CONTEXT = 60


class Verdict(StrEnum):
    REPRODUCED = "reproduced"
    # The sandbox failed with production's status, but production recorded no exception to
    # compare with, and --require-signature asked for one.
    UNCONFIRMED = "unconfirmed"
    DIFFERENT_FAILURE = "different-failure"
    NOT_REPRODUCED = "not-reproduced"
    ENV_ERROR = "env-error"


STATUS_ONLY = "status only: production recorded no exception"


@dataclass
class Attempt:
    """One replay of the request: what the sandbox answered and what it raised."""

    status: int | None
    signature: Signature | None  # None: no exception evidence (no Sentry event, no traceback)
    error: str | None = None  # transport/sandbox error: connection refused, timeout...
    seconds: float = 0.0
    fault: str | None = None  # the evidence shows the sandbox broken (sandbox_faults), why


@dataclass
class Decision:
    verdict: Verdict
    reason: str  # one line
    matched: int
    attempts: int
    rate: float  # matched / attempts
    # A match on the status alone (production recorded no exception): weak evidence.
    weak: bool = False


def compare(expected: Signature, got: Signature) -> tuple[bool, str]:
    """Whether ``got`` (the sandbox) is the same failure as ``expected`` (production), and a
    one-line reason: what matched, or the first thing that differed."""
    if expected.status is not None and got.status != expected.status:
        return False, f"status {_status(got.status)} vs {expected.status} in production"
    if not expected.exceptions:
        if expected.status is not None:
            return True, f"status {expected.status} as in production"
        if _failed(got.status, got):
            return True, "production recorded no status or exception; the sandbox failed too"
        return False, "production recorded no status or exception; the sandbox did not fail"
    if not got.exceptions:
        return False, f"no exception in the sandbox ({_chain(expected.exceptions)} in production)"
    if len(got.exceptions) != len(expected.exceptions) or not all(
        _same_type(e.type, g.type)
        for e, g in zip(expected.exceptions, got.exceptions, strict=False)
    ):
        if not _same_type(expected.exceptions[-1].type, got.exceptions[-1].type):
            return False, (
                f"exception {got.exceptions[-1].type} vs {expected.exceptions[-1].type} "
                "in production"
            )
        return False, (
            f"exception chain {_chain(got.exceptions)} vs {_chain(expected.exceptions)} "
            "in production"
        )
    pairs = list(zip(expected.exceptions, got.exceptions, strict=True))
    for depth, (exp, have) in enumerate(reversed(pairs)):
        missing = _missing_frame(exp, have)
        if missing is not None:
            where = "" if depth == 0 else f" (in the chained {exp.type})"
            return False, f"frame {_describe(missing)} not reached{where}"
    in_app = sum(1 for f in expected.exceptions[-1].frames if f.in_app)
    status = f"status {got.status}, " if got.status is not None else ""
    return True, (
        f"{status}{_chain(got.exceptions)} through the same {in_app} in-app frame"
        f"{'' if in_app == 1 else 's'}"
    )


def decide(
    expected: Signature,
    attempts: Sequence[Attempt],
    *,
    sandbox_ok: bool,
    require_signature: bool = False,
) -> Decision:
    """The verdict over all attempts. Environment trouble is never a verdict about the bug:
    a failed sandbox, an attempt whose evidence shows the sandbox broken, or attempts that
    all failed at transport level give ENV_ERROR. One matching attempt is enough for
    REPRODUCED (flaky bugs are bugs); the rate says how often; a match on the status alone is
    weak, and UNCONFIRMED with ``require_signature``. Otherwise any failing attempt (5xx or an
    exception) makes DIFFERENT_FAILURE, and attempts that all succeeded make NOT_REPRODUCED."""
    total = len(attempts)
    if not sandbox_ok:
        return _env_error("the sandbox failed: no verdict on the bug", total)
    if total == 0:
        return _env_error("no attempt was made", 0)
    broken = [a for a in attempts if a.fault]
    if broken:
        return _env_error(
            f"the sandbox is broken, no verdict on the bug: {broken[0].fault} "
            f"({len(broken)}/{total} attempts)",
            total,
        )
    answered = [a for a in attempts if a.error is None]
    if not answered:
        first = _short(attempts[0].error or "")
        return _env_error(f"every attempt failed before an answer ({first})", total)
    results = [(a, *compare(expected, _observed(a))) for a in answered]
    matches = [reason for _a, ok, reason in results if ok]
    errored = total - len(answered)
    note = f"; {errored} failed at transport level" if errored else ""
    if matches and not expected.exceptions:
        raised = _sandbox_exception(a for a, ok, _reason in results if ok)
        if require_signature:
            return Decision(
                Verdict.UNCONFIRMED,
                f"{matches[0]} in {len(matches)}/{total} attempts, but {STATUS_ONLY}{raised} "
                "(--require-signature: give the incident production's stack trace with "
                "repro import ... --traceback FILE)",
                0,
                total,
                0.0,
                weak=True,
            )
        return Decision(
            Verdict.REPRODUCED,
            f"reproduced in {len(matches)}/{total} attempts: {matches[0]} "
            f"(weak: {STATUS_ONLY}{raised}){note}",
            len(matches),
            total,
            len(matches) / total,
            weak=True,
        )
    if matches:
        return Decision(
            Verdict.REPRODUCED,
            f"reproduced in {len(matches)}/{total} attempts: {matches[0]}{note}",
            len(matches),
            total,
            len(matches) / total,
        )
    failures = [(a, reason) for a, _ok, reason in results if _failed(a.status, a.signature)]
    if failures:
        return Decision(
            Verdict.DIFFERENT_FAILURE,
            f"failed differently in {len(failures)}/{total} attempts: {failures[0][1]}{note}",
            0,
            total,
            0.0,
        )
    return Decision(
        Verdict.NOT_REPRODUCED,
        f"did not fail in {len(answered)}/{total} attempts: {results[0][2]}{note}",
        0,
        total,
        0.0,
    )


def _sandbox_exception(matched: Iterable[Attempt]) -> str:
    """``; the sandbox raised KeyError`` for the first matching attempt with an exception."""
    for attempt in matched:
        main = attempt.signature.main_exception if attempt.signature is not None else None
        if main is not None:
            return f"; the sandbox raised {main.type}"
    return "; the sandbox showed no exception"


def _env_error(reason: str, total: int) -> Decision:
    return Decision(Verdict.ENV_ERROR, reason, matched=0, attempts=total, rate=0.0)


def _observed(attempt: Attempt) -> Signature:
    # The attempt's HTTP status is authoritative; the signature may come from a log without one.
    exceptions = attempt.signature.exceptions if attempt.signature is not None else ()
    return Signature(status=attempt.status, exceptions=exceptions)


def _failed(status: int | None, signature: Signature | None) -> bool:
    return (status is not None and status >= 500) or bool(signature and signature.exceptions)


def _same_type(expected: str, got: str) -> bool:
    if expected == got:
        return True
    expected, got = _dotted(expected), _dotted(got)  # Ruby's Admin::Error, Java's a.b.Error
    if expected == got:
        return True
    if "." in expected and "." in got:
        return False  # both qualified and different: different types
    return expected.rsplit(".", 1)[-1] == got.rsplit(".", 1)[-1]


def _missing_frame(expected: ExceptionInfo, got: ExceptionInfo) -> Frame | None:
    """The first of production's in-app frames the sandbox did not reach, or None."""
    wanted = [f for f in expected.frames if f.in_app]
    if not wanted:
        return None
    have = list(got.frames)
    top = next((f for f in have if f.in_app), None)
    if top is not None:
        # Production frames above the sandbox's outermost in-app frame are out of its sight.
        start = next((i for i, f in enumerate(wanted) if _same_frame(f, top)), 0)
        wanted = wanted[start:]
    pos = 0
    for frame in wanted:
        while pos < len(have) and not _same_frame(frame, have[pos]):
            pos += 1
        if pos == len(have):
            return frame
        pos += 1
    return None


def _same_frame(a: Frame, b: Frame) -> bool:
    return (
        _same_function(a.function, b.function)
        and _same_module(a.module, b.module)
        and (
            a.context_line is None
            or b.context_line is None
            or _same_line(one_line(a.context_line), one_line(b.context_line))
        )
    )


def _same_line(expected: str, seen: str) -> bool:
    """Equal, or equal where the incident's line had a secret masked (``***``): production's
    lines were scrubbed before they left the host, the sandbox's were not yet."""
    if expected == seen or MASK not in expected:
        return expected == seen
    pattern = ".+?".join(re.escape(part) for part in expected.split(MASK))
    return re.fullmatch(pattern, seen) is not None


def _same_function(a: str | None, b: str | None) -> bool:
    # "?": an anonymous function as Sentry's JavaScript SDKs name it
    if a in (None, "?") or b in (None, "?") or a == b:
        return True
    assert a is not None and b is not None
    # A qualified name ("Cart.total") against the code name ("total").
    return a.endswith("." + b) or b.endswith("." + a)


def _same_module(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b or "__main__" in (a, b):
        return True
    # Separators differ by SDK: "routes:users" (@sentry/node), "Admin::Users" (Ruby).
    a, b = _dotted(a), _dotted(b)
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _dotted(module: str) -> str:
    return module.replace("::", ".").replace(":", ".").replace("/", ".")


def _describe(frame: Frame) -> str:
    name = ".".join(p for p in (frame.module, frame.function) if p) or "<unknown>"
    if frame.context_line:
        line = frame.context_line
        if len(line) > _SHOWN_CONTEXT:
            line = line[: _SHOWN_CONTEXT - 3] + "..."
        return f"{name} {line!r}"
    return name


def _chain(exceptions: Sequence[ExceptionInfo]) -> str:
    return " -> ".join(e.type for e in exceptions)


def _status(status: int | None) -> str:
    return "none" if status is None else str(status)


def _short(text: str) -> str:
    return one_line(text)[:200]
