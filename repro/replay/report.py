"""What ``repro replay`` found, for a terminal (rich), a machine (JSON) or a ticket (Markdown).

The three renderers read a :class:`~repro.replay.outcome.ReplayOutcome` and nothing else, and
share the helpers below, so they always say the same thing: the verdict and why, how often it
reproduced, production's failure beside the sandbox's, every attempt, the stage timings, what
the sandbox was made of, what the request went without, and how faithful the sandbox is.

No value the outcome lacks can appear here: credentials and env values are never in it (only
their sources). Exception messages are shown as production's Sentry shows them, cut to 200
characters, since they are what a reader compares.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from repro.diff.renderers.table import SEVERITY_STYLE
from repro.replay.incident import ExceptionInfo, Frame, Lost, Signature, describe, lost_label
from repro.replay.outcome import (
    REPORT_SCHEMA,
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

VERDICT_STYLE = {
    Verdict.REPRODUCED: "bold green",
    Verdict.DIFFERENT_FAILURE: "bold yellow",
    Verdict.NOT_REPRODUCED: "bold yellow",
    Verdict.ENV_ERROR: "bold red",
}
SANDBOX_SOURCES = {"sentry": "Sentry event via repro's sink", "log": "traceback in the app's log"}
PRODUCTION_SOURCES = {
    "sentry": "Sentry event",
    "har": "HAR capture",
    "curl": "curl command",
    "log": "access log line",
}


# --- shared views --------------------------------------------------------------------------


def verdict_label(decision: Decision) -> str:
    """``REPRODUCED``, ``DIFFERENT_FAILURE``...: the word a reader scans for."""
    return decision.verdict.name


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
    return _side("production", status, signature, PRODUCTION_SOURCES.get(source, source), none_text)


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


# --- JSON ----------------------------------------------------------------------------------


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


# --- Markdown ------------------------------------------------------------------------------


def md_text(text: str) -> str:
    """Plain text on one line: ``<`` escaped, so ``<stand-in needed>`` is not read as HTML."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_cell(text: str) -> str:
    """Table-safe plain text: pipes escaped (GitHub splits cells on them, even in code)."""
    return md_text(text).replace("|", "\\|")


def md_code(text: str, *, in_table: bool = True) -> str:
    text = one_line(text)
    if in_table:
        text = text.replace("|", "\\|")
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _md_frames(side: Side) -> str:
    lines = [md_code(f) for f in side.frames]
    if side.hidden_frames:
        lines.insert(0, f"… {side.hidden_frames} earlier")
    return "<br>".join(lines) or "—"


def _md_evidence(outcome: ReplayOutcome, shown: int | None) -> list[str]:
    prod, box_ = production_side(outcome), sandbox_side(outcome, shown)
    rows = [
        ("Status", md_cell(prod.status), md_cell(box_.status)),
        ("Exception", md_code(prod.chain), md_code(box_.chain)),
        (
            "Message",
            md_code(prod.message) if prod.message else "—",
            md_code(box_.message) if box_.message else "—",
        ),
        ("In-app frames", _md_frames(prod), _md_frames(box_)),
        ("Evidence", md_cell(prod.source), md_cell(box_.source)),
    ]
    return ["### Evidence", "", *_md_table(["", "Production", md_cell(box_.title)], rows)]


def _md_attempts(rows: Sequence[AttemptRow]) -> list[str]:
    if not rows:
        return []
    table = [
        (
            str(r.n),
            str(r.status) if r.status is not None else "—",
            md_code(r.exception) if r.exception else "—",
            "yes" if r.matched else "no",
            f"{r.seconds:.2f}",
            md_cell(r.reason),
            md_cell("; ".join(x for x in (r.error, r.exited) if x)) or "—",
            md_cell(SANDBOX_SOURCES.get(r.source or "", "—")),
        )
        for r in rows
    ]
    header = ["#", "Status", "Exception", "Matched", "Seconds", "Comparison", "Error", "Evidence"]
    return ["### Attempts", "", *_md_table(header, table)]


def _md_stages(outcome: ReplayOutcome) -> list[str]:
    if not outcome.stages:
        return []
    rows = [(md_cell(s.name), f"{s.seconds:.2f}", md_cell(s.detail)) for s in outcome.stages]
    total = sum(s.seconds for s in outcome.stages)
    rows.append(("**total**", f"**{total:.2f}**", ""))
    return ["### Stages", "", *_md_table(["Stage", "Seconds", "Detail"], rows)]


def _md_sandbox(sandbox: SandboxFacts) -> list[str]:
    lines = [
        "### Sandbox",
        "",
        f"- Database: {md_text(database_text(sandbox))}",
        f"- Settings applied: {md_text(settings_text(sandbox))}",
        f"- Rows loaded: {md_text(rows_text(sandbox))}",
        f"- App: {md_text(app_text(sandbox))}",
    ]
    groups = env_groups(sandbox)
    if groups:
        lines.append("- Environment (names only):")
        lines += [f"  - {md_text(src)}: {md_text(', '.join(names))}" for src, names in groups]
    lines.append("")
    if sandbox.files:
        rows = [
            (md_code(f.path), md_cell(f.mode), md_cell(f.owner), md_cell(f.origin))
            for f in sandbox.files
        ]
        lines += _md_table(["File", "Mode", "Owner", "Origin"], rows)
    if sandbox.warnings:
        lines += [f"> **Unlike production:** {md_text(w)}" for w in sandbox.warnings] + [""]
    return lines


def _md_request(outcome: ReplayOutcome) -> list[str]:
    if not outcome.stand_ins and not outcome.unfilled:
        return []
    lines = ["### Request", ""]
    lines += [
        f"- stand-in for {md_code(s.where, in_table=False)} from {md_text(s.source)}"
        for s in outcome.stand_ins
    ]
    lines += [f"- **⚠ {md_text(unfilled_warning(lost))}**" for lost in outcome.unfilled]
    return [*lines, ""]


def _md_parity(parity: Parity | None) -> list[str]:
    if parity is None:
        return []
    lines = ["### Parity (production vs sandbox)", ""]
    if parity.error:
        return [*lines, f"The parity check failed: {md_text(parity.error)}", ""]
    counts = ", ".join(f"{sev} {n}" for sev, n in parity_counts(parity)) or "no discrepancy"
    lines += [f"Discrepancies: {counts}", ""]
    if parity.top:
        rows = [(i.severity, md_code(i.path), md_cell(i.summary)) for i in parity.top]
        lines += _md_table(["Severity", "Path", "Summary"], rows)
    if parity.incomparable:
        lines += ["Not comparable:", ""]
        lines += [f"- {md_text(item)}" for item in parity.incomparable]
        lines.append("")
    return lines


def _md_env_error(outcome: ReplayOutcome) -> list[str]:
    lines: list[str] = []
    if outcome.env_error:
        lines += ["### Environment error", "", md_text(outcome.env_error), ""]
    if outcome.app_log_tail:
        text = "\n".join(outcome.app_log_tail)
        longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
        fence = "`" * max(3, longest + 1)
        lines += ["App log (last lines):", "", fence, text, fence, ""]
    return lines


def render_markdown(outcome: ReplayOutcome) -> str:
    """For a ticket: headings, pipe tables; every cell one line with ``|`` escaped."""
    decision = outcome.decision
    rows = attempt_rows(outcome)
    lines = [
        f"## repro replay: {verdict_label(decision)}",
        "",
        f"**{verdict_label(decision)}**: {md_text(decision.reason)}",
        "",
        f"- Incident: {md_code(describe(outcome.incident), in_table=False)} "
        f"({md_code(outcome.incident_file, in_table=False)})",
        f"- Captured from: {md_text(provenance_text(outcome))}",
        f"- Sandbox built from: {md_code(outcome.snapshot, in_table=False)}",
        f"- Reproduced: {rate_text(decision)}",
        f"- Exit code: {outcome.exit_code}",
        "",
    ]
    lines += [f"> **⚠ {md_text(unfilled_warning(lost))}**" for lost in outcome.unfilled]
    if outcome.unfilled:
        lines.append("")
    lines += _md_env_error(outcome)
    lines += _md_evidence(outcome, shown_attempt(outcome, rows))
    lines += _md_attempts(rows)
    lines += _md_stages(outcome)
    lines += _md_sandbox(outcome.sandbox)
    lines += _md_request(outcome)
    lines += _md_parity(outcome.parity)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- rich ----------------------------------------------------------------------------------


def _table(title: str, *columns: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _rich_side(side: Side, field_name: str) -> Text:
    if field_name == "frames":
        text = Text()
        if side.hidden_frames:
            text.append(f"… {side.hidden_frames} earlier\n", style="dim")
        text.append("\n".join(side.frames) or "—")
        return text
    value = getattr(side, field_name)
    return Text(value if value else "—")


def _rich_header(outcome: ReplayOutcome) -> Panel:
    decision = outcome.decision
    style = VERDICT_STYLE[decision.verdict]
    verdict = Text()
    verdict.append(verdict_label(decision), style=style)
    verdict.append(f"  {decision.reason}")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row(Text("incident"), Text(describe(outcome.incident)))
    facts.add_row(Text(""), Text(f"{outcome.incident_file}; {provenance_text(outcome)}"))
    facts.add_row(Text("snapshot"), Text(outcome.snapshot))
    facts.add_row(Text("reproduced"), Text(rate_text(decision), style=style))
    return Panel(
        Group(verdict, facts),
        title="repro replay",
        title_align="left",
        border_style=style.split()[-1],
    )


def _rich_evidence(outcome: ReplayOutcome, shown: int | None) -> Table:
    prod, box_ = production_side(outcome), sandbox_side(outcome, shown)
    table = _table("Evidence", "", prod.title, box_.title)
    table.columns[0].style = "dim"
    table.columns[0].no_wrap = True
    for label, name in (
        ("status", "status"),
        ("exception", "chain"),
        ("message", "message"),
        ("in-app frames", "frames"),
        ("evidence", "source"),
    ):
        table.add_row(Text(label), _rich_side(prod, name), _rich_side(box_, name))
    return table


def _rich_attempts(rows: Sequence[AttemptRow]) -> Table:
    table = _table("Attempts", "#", "status", "exception", "matched", "s", "comparison / error")
    for r in rows:
        note = Text(r.reason)
        for extra in (r.error, r.exited):
            if extra:
                note.append(f"\n{extra}", style="red")
        table.add_row(
            Text(str(r.n)),
            Text(str(r.status) if r.status is not None else "—"),
            Text(r.exception or "—"),
            Text("yes", style="green") if r.matched else Text("no", style="yellow"),
            Text(f"{r.seconds:.2f}"),
            note,
        )
    return table


def _rich_stages(outcome: ReplayOutcome) -> Table:
    table = _table("Stages", "stage", "seconds", "detail")
    for s in outcome.stages:
        table.add_row(Text(s.name), Text(f"{s.seconds:.2f}"), Text(s.detail))
    total = sum(s.seconds for s in outcome.stages)
    table.add_row(Text("total", style="bold"), Text(f"{total:.2f}", style="bold"), Text(""))
    return table


def _rich_sandbox(sandbox: SandboxFacts) -> Table:
    table = _table("Sandbox", "", "")
    table.show_header = False
    table.columns[0].style = "dim"
    table.columns[0].no_wrap = True
    table.add_row(Text("database"), Text(database_text(sandbox)))
    table.add_row(Text("settings"), Text(settings_text(sandbox)))
    table.add_row(Text("rows loaded"), Text(rows_text(sandbox)))
    table.add_row(Text("app"), Text(app_text(sandbox)))
    for source, names in env_groups(sandbox):
        table.add_row(Text("env"), Text(f"{source}: {', '.join(names)}"))
    for f in sandbox.files:
        table.add_row(Text("file"), Text(f"{f.path} {f.mode} {f.owner} ({f.origin})"))
    for warning in sandbox.warnings:
        table.add_row(Text("unlike prod", style="yellow"), Text(warning, style="yellow"))
    return table


def _rich_request(outcome: ReplayOutcome) -> Text | None:
    if not outcome.stand_ins and not outcome.unfilled:
        return None
    text = Text()
    for s in outcome.stand_ins:
        text.append("stand-in ", style="dim")
        text.append(f"{s.where} from {s.source}\n")
    for lost in outcome.unfilled:
        text.append(f"⚠ {unfilled_warning(lost)}\n", style="bold yellow")
    text.rstrip()
    return text


def _rich_parity(parity: Parity) -> Group:
    parts: list[Text | Table] = [Text("Parity (production vs sandbox)", style="bold")]
    if parity.error:
        parts.append(Text(f"the parity check failed: {parity.error}", style="red"))
        return Group(*parts)
    counts = Text()
    for sev, n in parity_counts(parity):
        counts.append(f"{sev} {n}  ", style=SEVERITY_STYLE.get(sev, ""))
    parts.append(counts if counts.plain else Text("no discrepancy", style="green"))
    if parity.top:
        table = _table("", "severity", "path", "summary")
        for item in parity.top:
            table.add_row(
                Text(item.severity, style=SEVERITY_STYLE.get(item.severity, "")),
                Text(item.path),
                Text(item.summary),
            )
        parts.append(table)
    for what in parity.incomparable:
        parts.append(Text(f"not comparable: {what}", style="dim"))
    return Group(*parts)


def _rich_env_error(outcome: ReplayOutcome) -> Panel | None:
    if not outcome.env_error and not outcome.app_log_tail:
        return None
    text = Text()
    if outcome.env_error:
        text.append(outcome.env_error, style="bold red")
    if outcome.app_log_tail:
        if outcome.env_error:
            text.append("\n\n")
        text.append("\n".join(outcome.app_log_tail), style="dim")
    return Panel(
        text,
        title="app log (last lines)" if not outcome.env_error else "environment error",
        title_align="left",
        border_style="red",
    )


def render_rich(outcome: ReplayOutcome, console: Console) -> None:
    """For a terminal: the verdict in a coloured panel, then one table per part."""
    rows = attempt_rows(outcome)
    console.print(_rich_header(outcome))
    request = _rich_request(outcome)
    if request is not None:
        console.print(request)  # the warnings stay right under the verdict
    sections: list[RenderableType | None] = [
        _rich_env_error(outcome),
        _rich_evidence(outcome, shown_attempt(outcome, rows)),
        _rich_attempts(rows) if rows else None,
        _rich_stages(outcome) if outcome.stages else None,
        _rich_sandbox(outcome.sandbox),
        _rich_parity(outcome.parity) if outcome.parity is not None else None,
    ]
    for section in sections:
        if section is not None:
            console.print()
            console.print(section)
