"""How long an attempt waits for its evidence (repro.replay.runner._await_evidence), on a
clock the test drives: a stack trace in the log ends the wait (after a short grace for the
richer Sentry event when the app has an SDK), an event ends it at once, and an app without
Sentry is never waited on for one. The sandbox here is a stand-in object (its log and sink are
what the rule reads); the real engine runs it in test_replay_ledger.py and the benchmark
replay_evidence measures it."""

from __future__ import annotations

from typing import Any

import pytest

from repro.replay import runner

TRACE = 'Traceback (most recent call last):\n  File "/app/a.py", line 1, in f\nKeyError: 1\n'


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Sink:
    def __init__(self, clock: Clock, event_at: float | None) -> None:
        self.clock, self.event_at = clock, event_at

    def wait_for_event(self, timeout: float, predicate: Any = None) -> dict[str, Any] | None:
        if self.event_at is not None and self.clock.now + timeout >= self.event_at:
            self.clock.now = max(self.clock.now, self.event_at)
            return {"exception": {"values": [{"type": "KeyError"}]}}
        self.clock.now += timeout
        return None


class Box:
    def __init__(
        self, clock: Clock, *, sentry: bool, trace_at: float | None, event_at: float | None
    ):
        self.clock, self.sentry, self.trace_at = clock, sentry, trace_at
        self.sink = Sink(clock, event_at)

    def app_logs(self) -> str:
        started = "booted\n"
        if self.trace_at is not None and self.clock.now >= self.trace_at:
            return started + TRACE
        return started


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(runner.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(runner.time, "sleep", fake.sleep)
    return fake


def wait(clock: Clock, **box: Any) -> tuple[float, Any, int]:
    sandbox = Box(clock, **box)
    event, chains, _log = runner._await_evidence(sandbox, len("booted\n"), failed=True)  # type: ignore[arg-type]
    return clock.now, event, len(chains)


def test_a_logged_trace_ends_the_wait_after_a_short_grace(clock: Clock) -> None:
    seconds, event, chains = wait(clock, sentry=True, trace_at=0.1, event_at=None)
    assert event is None and chains == 1
    assert seconds <= 0.1 + runner.EVENT_GRACE_S + runner.POLL_S < 1.0 < runner.EVENT_WAIT_FAILED_S


def test_an_event_ends_the_wait_at_once(clock: Clock) -> None:
    seconds, event, _chains = wait(clock, sentry=True, trace_at=0.1, event_at=0.2)
    assert event is not None and seconds == pytest.approx(0.2)


def test_no_sentry_means_no_wait_for_an_event(clock: Clock) -> None:
    seconds, event, chains = wait(clock, sentry=False, trace_at=0.0, event_at=None)
    assert (event, chains) == (None, 1) and seconds == 0.0


def test_nothing_logged_waits_the_budget_only(clock: Clock) -> None:
    seconds, event, chains = wait(clock, sentry=False, trace_at=None, event_at=None)
    assert (event, chains) == (None, 0)
    assert runner.LOG_WAIT_S <= seconds <= runner.LOG_WAIT_S + runner.POLL_S
