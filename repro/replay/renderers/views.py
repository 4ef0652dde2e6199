"""What every replay report says, computed once: the three renderers (terminal, JSON,
Markdown, one module each beside this one) read a
:class:`~repro.replay.outcome.ReplayOutcome` through these views, so they always say the same
thing: the verdict and why, how often it reproduced, production's failure beside the sandbox's,
every attempt, the stage timings, what the sandbox was made of, what the request went without,
and how faithful the sandbox is.

No value the outcome lacks can appear here: credentials and env values are never in it (only
their sources). Exception messages are shown as production's Sentry shows them, cut to 200
characters, since they are what a reader compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from repro.replay.incident import ExceptionInfo, Frame, Lost, Signature, lost_label
from repro.replay.outcome import (
    Evidence,
    Parity,
    ReplayOutcome,
    SandboxFacts,
)
from repro.replay.request import where_problem
from repro.replay.verdict import Decision, Verdict, compare
from repro.text import one_line

MAX_VALUE = 200  # characters of an exception message
MAX_FRAMES = 5  # in-app frames shown, nearest the raise
TOP_TABLES = 5  # tables listed by rows loaded
SEVERITIES = ("critical", "high", "medium", "low", "info")

SANDBOX_SOURCES = {"sentry": "Sentry event via repro's sink", "log": "traceback in the app's log"}
PRODUCTION_SOURCES = {
    "sentry": "Sentry event",
    "har": "HAR capture",
    "curl": "curl command",
    "log": "access log line",
}


def verdict_label(decision: Decision) -> str:
    """``REPRODUCED``, ``DIFFERENT_FAILURE``...: the word a reader scans for; a match on the
    status alone says so right there (``REPRODUCED (weak: status only)``)."""
    if decision.weak and decision.verdict is Verdict.REPRODUCED:
        return f"{decision.verdict.name} (weak: status only)"
    return decision.verdict.name


def match_kind(decision: Decision) -> str | None:
    """``signature`` or ``status-only`` for a match; None when nothing matched."""
    if decision.verdict not in (Verdict.REPRODUCED, Verdict.UNCONFIRMED):
        return None
    return "status-only" if decision.weak else "signature"


def wiring_text(sandbox: SandboxFacts) -> str:
    text = sandbox.database_wiring or "unknown"
    if sandbox.app_role:
        text += f"; role {sandbox.app_role}"
    return text


def rate_text(decision: Decision) -> str:
    if decision.attempts == 0:
        return "no attempt made"
    return f"{decision.matched}/{decision.attempts} attempts ({decision.rate:.0%})"


def unfilled_warning(lost: Lost) -> str:
    """One line saying what the replay went without and how to give it."""
    if where_problem(lost.where) is not None:
        # "headers", "cookies", "tls:client-certificate": no place a stand-in could fill.
        return f"replayed without {lost.where} ({lost_label(lost)}; no stand-in can replace it)"
    hint = "--auth or --stand-in" if lost.where.lower() == "header:authorization" else "--stand-in"
    return f"replayed without {lost.where} (no stand-in given: use {hint})"


def cut(text: str, limit: int = MAX_VALUE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chain_text(exceptions: Sequence[ExceptionInfo]) -> str:
    return " -> ".join(exc.type for exc in exceptions)


def frame_text(frame: Frame) -> str:
    """``shop.pricing.rate_for — return RATES[currency]``."""
    name = ".".join(p for p in (frame.module, frame.function) if p) or "<unknown>"
    line = one_line(frame.context_line or "")
    return f"{name} — {line}" if line else name


@dataclass
class Side:
    """One column of the side-by-side evidence: production's, or one sandbox attempt's."""

    title: str
    status: str
    chain: str
    message: str | None
    frames: list[str]
    hidden_frames: int  # in-app frames above the ones shown
    source: str


@dataclass
class AttemptRow:
    n: int
    status: int | None
    exception: str | None
    matched: bool
    reason: str  # what matched, what differed, or why there was no answer
    seconds: float
    error: str | None
    source: str | None
    exited: str | None


def _main_frames(signature: Signature | None) -> tuple[list[str], int]:
    main = signature.main_exception if signature is not None else None
    if main is None:
        return [], 0
    in_app = [f for f in main.frames if f.in_app]
    shown = in_app[-MAX_FRAMES:]
    return [frame_text(f) for f in shown], len(in_app) - len(shown)


def _side(
    title: str,
    status: str,
    signature: Signature | None,
    source: str,
    none_text: str,
) -> Side:
    main = signature.main_exception if signature is not None else None
    frames, hidden = _main_frames(signature)
    return Side(
        title=title,
        status=status,
        chain=chain_text(signature.exceptions) if signature and signature.exceptions else none_text,
        message=cut(one_line(main.value)) if main is not None and main.value else None,
        frames=frames,
        hidden_frames=hidden,
        source=source,
    )


def observed(evidence: Evidence) -> Signature:
    """What the sandbox did, as verdict.decide sees it: the HTTP status is authoritative."""
    attempt = evidence.attempt
    exceptions = attempt.signature.exceptions if attempt.signature is not None else ()
    return Signature(status=attempt.status, exceptions=exceptions)


def attempt_rows(outcome: ReplayOutcome) -> list[AttemptRow]:
    rows: list[AttemptRow] = []
    for n, evidence in enumerate(outcome.evidence, start=1):
        attempt = evidence.attempt
        if attempt.error is not None:
            matched, reason = False, "no answer: not compared"
        else:
            matched, reason = compare(outcome.incident.signature, observed(evidence))
        main = attempt.signature.main_exception if attempt.signature is not None else None
        rows.append(
            AttemptRow(
                n=n,
                status=attempt.status,
                exception=main.type if main is not None else None,
                matched=matched,
                reason=reason,
                seconds=attempt.seconds,
                error=attempt.error,
                source=evidence.source,
                exited=evidence.exited,
            )
        )
    return rows


def shown_attempt(outcome: ReplayOutcome, rows: Sequence[AttemptRow]) -> int | None:
    """The attempt set beside production: the first that matched when reproduced, else the
    first one. A 1-based number, or None when no attempt was made."""
    if not rows:
        return None
    if outcome.decision.verdict is Verdict.REPRODUCED:
        for row in rows:
            if row.matched:
                return row.n
    return 1


def production_side(outcome: ReplayOutcome) -> Side:
    signature = outcome.incident.signature
    source = outcome.incident.provenance.source
    status = str(signature.status) if signature.status is not None else "unknown"
    none_text = "none recorded" + ("" if source == "sentry" else f" (a {source} import)")
    label = PRODUCTION_SOURCES.get(source, source)
    if source != "sentry" and signature.exceptions:
        label += " + the app's logged stack trace"
    return _side("production", status, signature, label, none_text)


def sandbox_side(outcome: ReplayOutcome, n: int | None) -> Side:
    if n is None:
        return Side("sandbox", "no attempt", "—", None, [], 0, "—")
    evidence = outcome.evidence[n - 1]
    attempt = evidence.attempt
    status = str(attempt.status) if attempt.status is not None else "no answer"
    if attempt.error:
        status += f" ({one_line(attempt.error)})"
    source = SANDBOX_SOURCES.get(evidence.source or "", "no exception evidence")
    if evidence.exited:
        source += f"; the app {evidence.exited}"
    none_text = "none" if evidence.source else "none seen"
    return _side(f"sandbox (attempt {n})", status, observed(evidence), source, none_text)


def env_groups(sandbox: SandboxFacts) -> list[tuple[str, list[str]]]:
    """Variable names by where their value came from, sources in first-seen order."""
    groups: dict[str, list[str]] = {}
    for env in sandbox.env:
        groups.setdefault(env.source, []).append(env.name)
    return list(groups.items())


def top_tables(rows: dict[str, int]) -> tuple[list[tuple[str, int]], int]:
    """The tables with most rows loaded, and how many more there are."""
    ordered = sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    return ordered[:TOP_TABLES], max(0, len(ordered) - TOP_TABLES)


def parity_counts(parity: Parity) -> list[tuple[str, int]]:
    known = [(s, parity.counts[s]) for s in SEVERITIES if s in parity.counts]
    return known + sorted((s, n) for s, n in parity.counts.items() if s not in SEVERITIES)


def provenance_text(outcome: ReplayOutcome) -> str:
    p = outcome.incident.provenance
    parts = [f"{p.source} event {p.event_id}" if p.event_id else f"{p.source} import"]
    if p.release:
        parts.append(f"release {p.release}")
    if p.environment:
        parts.append(f"environment {p.environment}")
    if p.timestamp:
        parts.append(f"at {p.timestamp}")
    return ", ".join(parts)


def database_text(sandbox: SandboxFacts) -> str:
    text = sandbox.database_image or "unknown image"
    if sandbox.database_major is not None:
        text += f" (PostgreSQL {sandbox.database_major})"
    return text


def settings_text(sandbox: SandboxFacts) -> str:
    applied = ", ".join(f"{k}={v}" for k, v in sandbox.settings_applied.items()) or "none"
    if sandbox.settings_skipped:
        applied += f"; skipped: {', '.join(sandbox.settings_skipped)}"
    return applied


def rows_text(sandbox: SandboxFacts) -> str:
    if not sandbox.rows:
        return "none"
    top, more = top_tables(sandbox.rows)
    text = f"{sum(sandbox.rows.values()):,} {sandbox.data_source} in {len(sandbox.rows)} tables: "
    text += ", ".join(f"{name} {count:,}" for name, count in top)
    return text + (f" and {more} more" if more else "")


def app_text(sandbox: SandboxFacts) -> str:
    return (
        f"{sandbox.app_image or 'unknown image'}, user {sandbox.app_user or 'unknown'}, "
        f"memory limit {sandbox.memory_limit or 'none'}"
    )
