"""What production's conditions did during one release's run, as plain data for the report:
the limits the app ran under and its memory, the third parties' calls and the outside names
asked for, the jobs and the lock waits they caused, the load's numbers. Each renderer reads
:func:`conditions_json` or :func:`condition_lines`; nothing here holds a secret (a call's
query string is left out by the stub, a job's SQL is the user's own command line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from repro.replay.conditions.jobs import JobReport
from repro.replay.conditions.load import LoadReport
from repro.replay.conditions.locks import LockWait
from repro.replay.conditions.resources import MemoryReport
from repro.replay.conditions.services import ThirdPartiesReport

MAX_SHOWN_CALLS = 20


@dataclass
class ConditionsReport:
    limits: list[str] = field(default_factory=list)  # "memory 128 MiB (production's ...)"
    memory: MemoryReport | None = None
    third_parties: ThirdPartiesReport | None = None
    jobs: list[JobReport] = field(default_factory=list)
    lock_waits: list[LockWait] = field(default_factory=list)
    lock_watch_error: str | None = None
    load: LoadReport | None = None


def _memory_json(memory: MemoryReport | None) -> dict[str, Any] | None:
    if memory is None:
        return None
    return {
        "peak_bytes": memory.peak_bytes,
        "limit_bytes": memory.limit_bytes,
        "high_water_bytes": memory.high_water_bytes,
        "oom_killed": memory.oom_killed,
        "samples": [[t, b] for t, b in memory.samples],
        "summary": memory.summary(),
        "error": memory.error,
    }


def _third_parties_json(parties: ThirdPartiesReport | None) -> dict[str, Any] | None:
    if parties is None:
        return None
    return {
        "services": [
            {
                "name": s.name,
                "env": s.env,
                "behaviour": s.behaviour,
                "production": s.production,
                "url": s.url,
                "note": s.note,
            }
            for s in parties.services
        ],
        "calls": [
            {
                "service": c.service,
                "method": c.method,
                "path": c.path,
                "at": c.at,
                "seconds": c.seconds,
                "status": c.status,
                "outcome": c.outcome,
            }
            for c in parties.calls
        ],
        "dropped_calls": parties.dropped_calls,
        "outside_names": [
            {"name": n.name, "type": n.kind, "count": n.count, "first_at": n.first_at}
            for n in parties.lookups
        ],
        "dns": parties.dns,
    }


def _load_json(load: LoadReport | None) -> dict[str, Any] | None:
    if load is None:
        return None
    return {
        "concurrency": load.concurrency,
        "requests": load.requests,
        "seconds": round(load.seconds, 3),
        "requests_per_s": round(load.requests_per_s, 1),
        "statuses": dict(load.statuses),
        "errors": dict(load.errors),
        "error_rate": round(load.error_rate, 4),
        "failed": load.failed,
        "latency_ms": dict(load.latency_ms),
        "histogram": [[bound, count] for bound, count in load.histogram],
        "first_failure": load.first_failure,
    }


def conditions_json(report: ConditionsReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "limits": list(report.limits),
        "memory": _memory_json(report.memory),
        "third_parties": _third_parties_json(report.third_parties),
        "jobs": [
            {
                "spec": j.spec,
                "runs": j.runs,
                "status": j.status,
                "error": j.error,
                "output": list(j.output),
            }
            for j in report.jobs
        ],
        "lock_waits": [
            {
                "waiter": {"pid": w.waiter.pid, "application": w.waiter.application,
                           "query": w.waiter.query},
                "wanted": w.wanted,
                "on": w.on,
                "seconds": round(w.seconds, 3),
                "blockers": [
                    {"pid": b.pid, "application": b.application, "query": b.query,
                     "state": b.state, "holds": b.holds}
                    for b in w.blockers
                ],
                "text": w.describe(),
            }
            for w in report.lock_waits
        ],
        "lock_watch_error": report.lock_watch_error,
        "load": _load_json(report.load),
    }  # fmt: skip


def condition_lines(report: ConditionsReport | None) -> list[tuple[str, str]]:
    """(what, one line) for the readable formats, in the order a reader needs them."""
    if report is None:
        return []
    lines: list[tuple[str, str]] = [("limits", ", ".join(report.limits))] if report.limits else []
    if report.memory is not None:
        lines.append(("memory", report.memory.summary()))
    parties = report.third_parties
    if parties is not None:
        for service in parties.services:
            where = f" -> {service.url}" if service.url else ""
            note = f" ({service.note})" if service.note else ""
            lines.append((f"service {service.name}", f"{service.behaviour}{where}{note}"))
        for call in parties.calls[:MAX_SHOWN_CALLS]:
            lines.append(
                (
                    "call",
                    f"{call.service}: {call.method} {call.path} at {call.at:.2f} s, "
                    f"{call.outcome} ({call.seconds:.2f} s)",
                )
            )
        more = len(parties.calls) - MAX_SHOWN_CALLS + parties.dropped_calls
        if more > 0:
            lines.append(("call", f"... and {more} more"))
        if parties.lookups:
            names = ", ".join(f"{n.name} ({n.count}x)" for n in parties.lookups[:10])
            lines.append(("outside names", f"{names}: {parties.dns}"))
        elif parties.dns:
            lines.append(("outside names", f"none asked ({parties.dns})"))
    for job in report.jobs:
        lines.append((f"job {job.spec}", job.error or job.status or "started"))
    for wait in report.lock_waits:
        lines.append(("lock wait", wait.describe()))
    if report.lock_watch_error:
        lines.append(("lock wait", f"not watched: {report.lock_watch_error}"))
    load = report.load
    if load is not None:
        latency = ", ".join(f"{k} {v:g} ms" for k, v in load.latency_ms.items())
        statuses = ", ".join(f"{k}: {v}" for k, v in load.statuses.items())
        lines.append(
            (
                "load",
                f"{load.requests} requests by {load.concurrency} clients in {load.seconds:.2f} s "
                f"({load.requests_per_s:.0f}/s); {statuses}; error rate {load.error_rate:.0%}",
            )
        )
        if latency:
            lines.append(("latency", latency))
        if load.first_failure is not None:
            lines.append(("first failure", f"request #{load.first_failure}"))
    return lines


