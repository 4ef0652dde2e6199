"""``--candidate`` and ``--baseline``: what another release's run in the same sandbox says.

A fix can only be verified against a failure the sandbox shows: when production's release did
not reproduce it (or the sandbox broke), every answer is UNVERIFIED. Otherwise, for the
candidate: production's failure again is NOT_FIXED; any failure instead of it (a 5xx, an
exception, an OOM kill, no answer) is REGRESSED; answers below 500 are FIXED — a 4xx included:
the request was replayed with stand-ins and generated data (a login for a user who does not
exist here), so the app refusing it is the app working; production's failure was a crash.
For the baseline (the previous release): production's failure or another one means rolling
back will not help; no failure means it would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from repro.replay.outcome import ReleaseAnswer
from repro.replay.verdict import Attempt, Decision, Verdict, failed


def _answers(attempts: Sequence[Attempt]) -> str:
    counts = Counter(str(a.status) for a in attempts if a.status is not None)
    return ", ".join(f"{status} x{n}" if n > 1 else status for status, n in sorted(counts.items()))


def _first_failure(attempts: Sequence[Attempt]) -> str:
    for attempt in attempts:
        if not failed(attempt):
            continue
        if attempt.oom_killed:
            return "OOM-killed (exit 137)"
        main = attempt.signature.main_exception if attempt.signature is not None else None
        if attempt.error is not None:
            return f"no answer ({attempt.error})"
        return f"status {attempt.status}" + (f", {main.type}" if main is not None else "")
    return "none"


def release_answer(
    role: str, production: Decision, decision: Decision, attempts: Sequence[Attempt]
) -> tuple[ReleaseAnswer, str]:
    """The answer for a ``role`` ("candidate" / "baseline") run, and why, in one line."""
    if production.verdict is not Verdict.REPRODUCED:
        return ReleaseAnswer.UNVERIFIED, (
            f"production's release did not reproduce the failure here "
            f"({production.verdict.name}): nothing to compare the {role} with"
        )
    if decision.verdict is Verdict.ENV_ERROR:
        return ReleaseAnswer.UNVERIFIED, f"the {role}'s run gave no verdict: {decision.reason}"
    if role != "baseline":
        return fix_answer(decision, attempts)
    failures = [a for a in attempts if failed(a)]
    total = len(attempts)
    if decision.verdict in (Verdict.REPRODUCED, Verdict.UNCONFIRMED):
        return ReleaseAnswer.ROLLBACK_WONT_HELP, (
            f"the previous release fails too ({decision.matched}/{total} attempts): "
            "rolling back will not help"
        )
    if failures:
        return ReleaseAnswer.ROLLBACK_WONT_HELP, (
            f"the previous release fails differently in {len(failures)}/{total} attempts "
            f"({_first_failure(failures)}): rolling back will not help"
        )
    return ReleaseAnswer.ROLLBACK_HELPS, (
        f"the previous release passes (answered {_answers(attempts)} in {total}/{total} "
        "attempts): a rollback helps"
    )


def fix_answer(decision: Decision, attempts: Sequence[Attempt]) -> tuple[ReleaseAnswer, str]:
    """A release's run judged as a fix of the incident's failure, and why, in one line: the
    candidate's answer of ``--candidate``, and what a regression test written by
    ``--emit-pytest`` asserts (FIXED, whatever the release)."""
    if decision.verdict is Verdict.ENV_ERROR:
        return ReleaseAnswer.UNVERIFIED, f"the run gave no verdict: {decision.reason}"
    same = decision.verdict in (Verdict.REPRODUCED, Verdict.UNCONFIRMED)
    failures = [a for a in attempts if failed(a)]
    total = len(attempts)
    if same:
        return ReleaseAnswer.NOT_FIXED, (
            f"production's failure again in {decision.matched}/{total} attempts: {decision.reason}"
        )
    if failures:
        return ReleaseAnswer.REGRESSED, (
            f"production's failure is gone but the request fails in a new way in "
            f"{len(failures)}/{total} attempts: {_first_failure(failures)}"
        )
    refused = any(a.status is not None and 400 <= a.status < 500 for a in attempts)
    note = " (a 4xx is the app refusing the replayed request, not failing)" if refused else ""
    return ReleaseAnswer.FIXED, (
        f"answered {_answers(attempts)} in {total}/{total} attempts, production's failure "
        f"gone{note}"
    )
