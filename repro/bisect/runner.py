"""``repro bisect``'s core: confirm the endpoints, then ddmin over the applicable changes, each
step a ``repro replay`` of the incident in a sandbox built from the good snapshot with a subset
of the bad snapshot's facts applied (:mod:`repro.bisect.changes`).

Plain data in, a :class:`BisectResult` out; the command renders it. Every replay is one
sandbox, built and removed by :func:`repro.replay.runner.replay` (also on Ctrl-C).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from repro.bisect.changes import Change, Context, Plan, Untested, apply
from repro.bisect.ddmin import BudgetSpent, Outcome, Search, Subset, ddmin
from repro.redaction import Redactor
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import ReplayOutcome
from repro.replay.runner import replay
from repro.replay.verdict import Verdict

# Exit codes (README "Bisect", `repro bisect --help`).
EXIT_CAUSE = 0  # a 1-minimal cause set was found
EXIT_NO_CAUSE = 1  # no applicable environment difference causes it
EXIT_ERROR = 2  # bad input, or a sandbox error at an endpoint
EXIT_ENDPOINTS = 3  # the bad side does not reproduce it, or the good side does too
EXIT_BUDGET = 4  # --max-replays spent before the set was proven 1-minimal


@dataclass
class Step:
    number: int
    role: str  # "bad" | "good" | "all" | "step"
    changes: list[str]  # change keys applied to the good snapshot
    verdict: str
    outcome: Outcome
    reason: str
    seconds: float
    engine: str = "default"  # the Docker engine it ran on

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "role": self.role,
            "changes": self.changes,
            "verdict": self.verdict,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "seconds": round(self.seconds, 2),
            "engine": self.engine,
        }


@dataclass
class BisectResult:
    status: str  # "cause" | "no-cause" | "endpoints" | "budget" | "error"
    message: str
    changes: list[Change] = field(default_factory=list)
    untested: list[Untested] = field(default_factory=list)
    cause: list[Change] = field(default_factory=list)
    minimal: bool = False
    steps: list[Step] = field(default_factory=list)
    cached: int = 0  # subsets answered from the verdict cache
    seconds: float = 0.0
    evidence: str = ""  # the reason line of the replay that showed the cause

    @property
    def replays(self) -> int:
        return len(self.steps)

    @property
    def exit_code(self) -> int:
        return {
            "cause": EXIT_CAUSE,
            "no-cause": EXIT_NO_CAUSE,
            "endpoints": EXIT_ENDPOINTS,
            "budget": EXIT_BUDGET,
        }.get(self.status, EXIT_ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "repro.bisect/v1",
            "status": self.status,
            "message": self.message,
            "minimal": self.minimal,
            "cause": [c.to_json() for c in self.cause],
            "evidence": self.evidence,
            "changes": [c.to_json() for c in self.changes],
            "untested": [u.to_json() for u in self.untested],
            "steps": [s.to_json() for s in self.steps],
            "replays": self.replays,
            "engines": dict(Counter(step.engine for step in self.steps)),
            "cached": self.cached,
            "seconds": round(self.seconds, 2),
            "exit_code": self.exit_code,
        }


OUTCOMES = {Verdict.REPRODUCED: Outcome.FAIL, Verdict.NOT_REPRODUCED: Outcome.PASS}


@dataclass
class Bisector:
    options: ReplayOptions  # per step: repeat, rows, seed, timeout (parity is off)
    good: ReplayInputs
    bad: ReplayInputs
    context: Context
    plan: Plan
    redactor: Redactor
    max_replays: int | None = None
    jobs: int = 1  # sandboxes at once
    # Docker engines the sandboxes are spread over (DOCKER_HOST values); None: DOCKER_HOST's.
    engines: Sequence[str | None] = (None,)
    on_step: Callable[[Step, int | None], None] = lambda step, total: None
    on_start: Callable[[str], None] = lambda what: None
    result: BisectResult = field(init=False)

    def __post_init__(self) -> None:
        self.options = replace(self.options, parity=False)
        self._lock = threading.Lock()
        self.result = BisectResult("error", "not run", list(self.plan.changes),
                                   list(self.plan.untested))  # fmt: skip

    def run(self) -> BisectResult:
        started = time.perf_counter()
        try:
            self._run()
        finally:
            self.result.seconds = time.perf_counter() - started
        return self.result

    def _budget_left(self) -> int | None:
        return None if self.max_replays is None else self.max_replays - self.result.replays

    def _run(self) -> None:
        result = self.result
        bad, good = self._parallel([
            lambda engine: self._replay("bad", self.bad, [], engine),
            lambda engine: self._replay("good", self.good, [], engine),
        ]) if self.jobs > 1 else (self._replay("bad", self.bad, []), None)  # fmt: skip
        if bad.outcome is not Outcome.FAIL:
            result.status = "endpoints"
            result.message = (
                f"the bad side does not reproduce the incident ({bad.verdict}: {bad.reason}): "
                "nothing to bisect"
            )
            return
        if good is None:
            good = self._replay("good", self.good, [])
        if good.outcome is Outcome.FAIL:
            # It fails without any of the differences: none of them is what causes it (a
            # race, a third party, a job: the conditions given, on both sides alike).
            result.status = "no-cause"
            result.message = (
                "not caused by an environment difference: the good side reproduces it too "
                f"({good.verdict}: {good.reason})"
            )
            return
        if good.outcome is not Outcome.PASS:
            result.status = "endpoints"
            result.message = (
                f"the good side gives no verdict ({good.verdict}: {good.reason}): nothing to "
                "bisect"
            )
            return
        changes = self.plan.changes
        if not changes:
            result.status = "no-cause"
            result.message = (
                "not caused by an environment difference the sandbox can apply: none of the "
                f"{len(self.plan.untested)} difference(s) is applicable (see untested)"
            )
            return
        if self._out_of_budget():
            return
        everything = self._step(tuple(range(len(changes))), role="all")
        if everything.outcome is not Outcome.FAIL:
            result.status = "no-cause"
            result.message = (
                "not caused by an environment difference the sandbox can apply: the good side "
                f"with all {len(changes)} applicable change(s) does not reproduce it "
                f"({everything.verdict}); the cause, if any, is among the untested ones"
            )
            return
        budget = self._budget_left()
        search = Search(size=len(changes), jobs=self.jobs, budget=budget)
        search.cache[()] = Outcome.PASS
        search.cache[tuple(range(len(changes)))] = Outcome.FAIL
        ddmin(search, self._run_batch)
        result.cached = search.hits
        result.cause = [changes[i] for i in search.result]
        result.minimal = search.minimal
        proof = next(
            (s for s in reversed(result.steps)
             if s.outcome is Outcome.FAIL and s.changes == [c.key for c in result.cause]),
            None,
        )  # fmt: skip
        result.evidence = proof.reason if proof else everything.reason
        names = ", ".join(c.label for c in result.cause)
        if search.minimal:
            result.status = "cause"
            result.message = f"caused by {len(result.cause)} difference(s): {names}"
        else:
            result.status = "budget"
            result.message = (
                f"--max-replays {self.max_replays} spent before the set was proven minimal; "
                f"so far {len(result.cause)} difference(s) suffice: {names}"
            )

    def _out_of_budget(self) -> bool:
        left = self._budget_left()
        if left is not None and left <= 0:
            self.result.status = "budget"
            self.result.message = f"--max-replays {self.max_replays} spent on the endpoints"
            return True
        return False

    def _run_batch(self, subsets: Sequence[Subset]) -> list[Outcome]:
        if self.jobs == 1:
            return [self._step(subset).outcome for subset in subsets]
        tasks = [lambda engine, s=subset: self._step(s, engine=engine) for subset in subsets]
        return [step.outcome for step in self._parallel(tasks)]

    def _parallel(self, tasks: Sequence[Callable[[str | None], Step]]) -> list[Step]:
        """Run the tasks ``jobs`` at a time, task i on engine i mod len(engines); results in
        task order. On Ctrl-C / SIGTERM (KeyboardInterrupt here) queued tasks are dropped and
        the running ones end their replay, which removes their sandbox, before it goes on."""
        engines = list(self.engines) or [None]
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="bisect")
        try:
            futures = [
                pool.submit(task, engines[index % len(engines)])
                for index, task in enumerate(tasks)
            ]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _step(self, subset: Subset, role: str = "step", engine: str | None = None) -> Step:
        chosen = [self.plan.changes[i] for i in subset]
        snapshot, profile = apply(chosen, self.context)
        inputs = replace(
            self.good,
            snapshot=snapshot,
            profile=profile,
            snapshot_ref=f"good + {len(chosen)} change(s)",
        )
        return self._replay(role, inputs, [c.key for c in chosen], engine)

    def _replay(
        self, role: str, inputs: ReplayInputs, keys: list[str], engine: str | None = None
    ) -> Step:
        left = self._budget_left()
        if left is not None and left <= 0:
            raise BudgetSpent
        self.on_start(f"{role}: " + (", ".join(keys) if keys else "as captured"))
        started = time.perf_counter()
        if engine is None and self.engines:
            engine = self.engines[0]  # a step run alone (the "all" step) goes to the first
        options = replace(self.options, engine=engine)
        outcome: ReplayOutcome = replay(options, inputs, self.redactor)
        verdict = outcome.decision.verdict
        with self._lock:
            step = Step(
                number=len(self.result.steps) + 1,
                role=role,
                changes=keys,
                verdict=verdict.value,
                outcome=OUTCOMES.get(verdict, Outcome.UNRESOLVED),
                reason=self.redactor.scrub(outcome.decision.reason),
                seconds=time.perf_counter() - started,
                engine=engine or os.environ.get("DOCKER_HOST") or "default",
            )
            self.result.steps.append(step)
            self.on_step(step, self.max_replays)
        return step
