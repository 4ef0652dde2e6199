"""A replay outcome with every part the HTML report draws: production's conditions (memory
curve with an OOM kill, a stub's calls, a job and the lock wait it caused, a load with its
latency histogram) and the other releases' answers, from literal data."""

from __future__ import annotations

from repro.replay.conditions.jobs import JobReport
from repro.replay.conditions.load import LoadReport, histogram
from repro.replay.conditions.locks import LockWait, Session
from repro.replay.conditions.report import ConditionsReport
from repro.replay.conditions.resources import MemoryReport
from repro.replay.conditions.services import ServiceWiring, ThirdPartiesReport
from repro.replay.conditions.stubs import Call
from repro.replay.outcome import ReleaseAnswer, ReleaseRun, ReplayOutcome
from repro.replay.verdict import Decision, Verdict
from tests.helpers.outcomes import reproduced

MIB = 1024 * 1024
LATENCIES_MS = [100.0 + (i * 37) % 500 for i in range(200)]


def conditions_report() -> ConditionsReport:
    return ConditionsReport(
        limits=["memory 128 MiB (the snapshot's runtime facet)", "CPUs unlimited"],
        memory=MemoryReport(
            samples=[(i * 0.5, (40 + 7 * i) * MIB) for i in range(13)],
            limit_bytes=128 * MIB,
            oom_killed=True,
        ),
        third_parties=ThirdPartiesReport(
            services=[ServiceWiring("payments", "PAYMENTS_API_URL", "timeout",
                                    url="http://payments:41234/v1")],
            calls=[Call("payments", "POST", "/v1/charges", 0.1, 3.0,
                        "held 3.0 s: the app gave up")],
        ),
        jobs=[JobReport("sql:LOCK TABLE users IN SHARE MODE;hold=30s", 1, "held 5.1 s")],
        lock_waits=[LockWait(Session(7, "", "UPDATE users SET n = n + 1"), "RowExclusiveLock",
                             "users", 5.0, 0.2, 5.1,
                             [Session(9, "repro-job-1", "LOCK TABLE users IN SHARE MODE",
                                      "idle in transaction", "ShareLock")])],
        load=LoadReport(20, 200, 0.6, statuses={"201": 7, "500": 193},
                        latency_ms={"p50": 272.5, "p90": 500.1, "p95": 540.0, "p99": 568.6,
                                    "max": 599.0, "mean": 300.0},
                        histogram=histogram(LATENCIES_MS), first_failure=3, failed=193),
    )  # fmt: skip


def releases() -> list[ReleaseRun]:
    fixed = Decision(Verdict.NOT_REPRODUCED, "did not fail", 0, 1, 0.0)
    return [
        ReleaseRun("candidate", "shop:2.1.1-fix", fixed, ReleaseAnswer.FIXED, "answered 200"),
        ReleaseRun("baseline", "shop:2.0.0", fixed, ReleaseAnswer.ROLLBACK_HELPS, "passes"),
    ]


def everything() -> ReplayOutcome:
    """A reproduced outcome (three attempts, four stages, parity) with conditions and both
    other releases."""
    outcome = reproduced()
    outcome.conditions = conditions_report()
    outcome.releases = releases()
    return outcome
