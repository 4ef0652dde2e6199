"""The replay report as JSON (``repro.replay-report/v1``): stable keys, for machines."""

from __future__ import annotations

import json
from typing import Any

from repro.replay.incident import Signature, describe
from repro.replay.outcome import (
    REPORT_SCHEMA,
    Parity,
    ReplayOutcome,
    SandboxFacts,
)
from repro.replay.renderers.views import (
    attempt_rows,
    cut,
    env_groups,
    match_kind,
    observed,
    parity_counts,
    production_side,
    rate_text,
    sandbox_side,
    shown_attempt,
    unfilled_warning,
)


def _signature_json(signature: Signature | None) -> dict[str, Any] | None:
    if signature is None:
        return None
    return {
        "status": signature.status,
        "exceptions": [
            {
                "type": exc.type,
                "value": cut(exc.value) if exc.value is not None else None,
                "frames": [
                    {
                        "module": f.module,
                        "function": f.function,
                        "context_line": f.context_line,
                        "lineno": f.lineno,
                        "in_app": f.in_app,
                    }
                    for f in exc.frames
                ],
            }
            for exc in signature.exceptions
        ],
    }


def _sandbox_json(sandbox: SandboxFacts) -> dict[str, Any]:
    return {
        "database": {
            "image": sandbox.database_image,
            "major": sandbox.database_major,
            "settings_applied": dict(sandbox.settings_applied),
            "settings_skipped": list(sandbox.settings_skipped),
        },
        "rows": {
            "total": sum(sandbox.rows.values()),
            "tables": dict(sandbox.rows),
            "source": sandbox.data_source,
        },
        "app": {
            "image": sandbox.app_image,
            "user": sandbox.app_user,
            "memory_limit": sandbox.memory_limit,
        },
        "database_wiring": sandbox.database_wiring,
        "app_role": sandbox.app_role,
        "env": [{"name": e.name, "source": e.source} for e in sandbox.env],
        "env_by_source": dict(env_groups(sandbox)),
        "files": [
            {"path": f.path, "mode": f.mode, "owner": f.owner, "origin": f.origin}
            for f in sandbox.files
        ],
        "warnings": list(sandbox.warnings),
    }


def _parity_json(parity: Parity | None) -> dict[str, Any] | None:
    if parity is None:
        return None
    return {
        "counts": dict(parity_counts(parity)),
        "top": [{"severity": i.severity, "path": i.path, "summary": i.summary} for i in parity.top],
        "incomparable": list(parity.incomparable),
        "error": parity.error,
    }


def to_json(outcome: ReplayOutcome) -> dict[str, Any]:
    """The report as json-safe data (schema ``repro.replay-report/v1``)."""
    decision, incident = outcome.decision, outcome.incident
    rows = attempt_rows(outcome)
    shown = shown_attempt(outcome, rows)
    p = incident.provenance
    return {
        "schema": REPORT_SCHEMA,
        "verdict": decision.verdict.value,
        "weak": decision.weak,
        "match": match_kind(decision),
        "reason": decision.reason,
        "exit_code": outcome.exit_code,
        "rate": {
            "matched": decision.matched,
            "attempts": decision.attempts,
            "rate": round(decision.rate, 4),
            "text": rate_text(decision),
        },
        "incident": {
            "file": outcome.incident_file,
            "summary": describe(incident),
            "method": incident.request.method,
            "path": incident.request.path,
            "provenance": {
                "source": p.source,
                "event_id": p.event_id,
                "timestamp": p.timestamp,
                "release": p.release,
                "environment": p.environment,
            },
            "lost": [
                {"where": lost.where, "why": lost.why, "needs_standin": lost.needs_standin}
                for lost in incident.lost
            ],
        },
        "snapshot": outcome.snapshot,
        "evidence": {
            "production": {
                "signature": _signature_json(incident.signature),
                "source": p.source,
                "source_text": production_side(outcome).source,
            },
            "sandbox": None
            if shown is None
            else {
                "attempt": shown,
                "signature": _signature_json(observed(outcome.evidence[shown - 1])),
                "source": outcome.evidence[shown - 1].source,
                "source_text": sandbox_side(outcome, shown).source,
            },
        },
        "attempts": [
            {
                "n": row.n,
                "status": row.status,
                "exception": row.exception,
                "matched": row.matched,
                "reason": row.reason,
                "seconds": round(row.seconds, 3),
                "error": row.error,
                "exited": row.exited,
                "source": row.source,
                "signature": _signature_json(ev.attempt.signature),
            }
            for row, ev in zip(rows, outcome.evidence, strict=True)
        ],
        "stages": [
            {"name": s.name, "seconds": round(s.seconds, 3), "detail": s.detail}
            for s in outcome.stages
        ],
        "total_seconds": round(sum(s.seconds for s in outcome.stages), 3),
        "sandbox": _sandbox_json(outcome.sandbox),
        "stand_ins": [{"where": s.where, "source": s.source} for s in outcome.stand_ins],
        "unfilled": [
            {"where": lost.where, "why": lost.why, "warning": unfilled_warning(lost)}
            for lost in outcome.unfilled
        ],
        "parity": _parity_json(outcome.parity),
        "env_error": outcome.env_error,
        "app_log_tail": list(outcome.app_log_tail),
    }


def render_json(outcome: ReplayOutcome) -> str:
    return json.dumps(to_json(outcome), indent=2, ensure_ascii=False) + "\n"
