"""OOM kills in the verdict, and the --candidate / --baseline answers (repro.replay.fix_check):
pure functions, every branch. The end-to-end runs are in test_replay_conditions.py."""

from __future__ import annotations

import pytest

from repro.replay.fix_check import release_answer
from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.outcome import FIX_EXIT_CODES, ReleaseAnswer
from repro.replay.verdict import Attempt, Decision, Verdict, decide

CRASH = Signature(500, (ExceptionInfo("KeyError", None, (Frame("shop", "f", "x()"),)),))
PROXY_502 = Signature(502, ())


def _reproduced() -> Decision:
    return Decision(Verdict.REPRODUCED, "reproduced", 1, 1, 1.0)


def _run(*attempts: Attempt, expected: Signature = CRASH) -> tuple[Decision, list[Attempt]]:
    return decide(expected, attempts, sandbox_ok=True), list(attempts)


def test_an_oom_kill_matches_only_when_production_was_oom_killed() -> None:
    killed = Attempt(None, None, "the app closed the connection without answering", 4.0)
    killed.oom_killed = True
    expected = decide(PROXY_502, [killed], sandbox_ok=True, expect_oom=True)
    assert expected.verdict is Verdict.REPRODUCED and not expected.weak
    assert "OOMKilled" in expected.reason
    unexpected = decide(PROXY_502, [killed], sandbox_ok=True)
    assert unexpected.verdict is Verdict.DIFFERENT_FAILURE
    assert "--expect oom" in unexpected.reason
    survived = decide(PROXY_502, [Attempt(200, None)], sandbox_ok=True, expect_oom=True)
    assert survived.verdict is Verdict.NOT_REPRODUCED
    assert "not OOM-killed" in survived.reason


@pytest.mark.parametrize(
    ("attempt", "answer"),
    [
        (Attempt(500, CRASH), ReleaseAnswer.NOT_FIXED),
        (Attempt(503, None), ReleaseAnswer.REGRESSED),
        (Attempt(None, None, "timed out after 30 s"), ReleaseAnswer.UNVERIFIED),  # no answer
        (Attempt(200, None), ReleaseAnswer.FIXED),
        (Attempt(401, None), ReleaseAnswer.FIXED),  # a 4xx is the app working
    ],
)
def test_candidate_answers(attempt: Attempt, answer: ReleaseAnswer) -> None:
    decision, attempts = _run(attempt)
    got, reason = release_answer("candidate", _reproduced(), decision, attempts)
    assert got is answer, reason
    if attempt.status == 401:
        assert "4xx" in reason


def test_a_candidate_that_is_oom_killed_instead_regressed() -> None:
    killed = Attempt(None, None, "connection reset by the app")
    killed.oom_killed = True
    decision, attempts = _run(killed)
    got, reason = release_answer("candidate", _reproduced(), decision, attempts)
    assert got is ReleaseAnswer.REGRESSED and "OOM" in reason


@pytest.mark.parametrize(
    ("attempt", "answer"),
    [
        (Attempt(500, CRASH), ReleaseAnswer.ROLLBACK_WONT_HELP),
        (Attempt(500, None), ReleaseAnswer.ROLLBACK_WONT_HELP),
        (Attempt(202, None), ReleaseAnswer.ROLLBACK_HELPS),
    ],
)
def test_baseline_answers(attempt: Attempt, answer: ReleaseAnswer) -> None:
    decision, attempts = _run(attempt)
    got, reason = release_answer("baseline", _reproduced(), decision, attempts)
    assert got is answer, reason


def test_nothing_is_verified_against_a_failure_that_did_not_happen() -> None:
    decision, attempts = _run(Attempt(200, None))
    not_reproduced = Decision(Verdict.NOT_REPRODUCED, "did not fail", 0, 1, 0.0)
    for role in ("candidate", "baseline"):
        got, reason = release_answer(role, not_reproduced, decision, attempts)
        assert got is ReleaseAnswer.UNVERIFIED and "NOT_REPRODUCED" in reason


def test_exit_codes_of_the_candidate_answers() -> None:
    assert FIX_EXIT_CODES == {
        ReleaseAnswer.FIXED: 0,
        ReleaseAnswer.NOT_FIXED: 1,
        ReleaseAnswer.REGRESSED: 3,
        ReleaseAnswer.UNVERIFIED: 2,
    }
