"""The replay report as Markdown, for the ticket: GitHub-safe tables and code spans."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence

from repro.replay.conditions.report import condition_lines
from repro.replay.incident import describe
from repro.replay.outcome import (
    Parity,
    ReplayOutcome,
    SandboxFacts,
)
from repro.replay.renderers.views import (
    SANDBOX_SOURCES,
    AttemptRow,
    Side,
    app_text,
    attempt_rows,
    database_text,
    env_groups,
    parity_counts,
    production_side,
    provenance_text,
    rate_text,
    release_rows,
    rows_text,
    sandbox_side,
    settings_text,
    shown_attempt,
    unfilled_warning,
    verdict_label,
    wiring_text,
)
from repro.text import one_line


def md_text(text: str) -> str:
    """Plain text on one line: ``<`` escaped, so ``<stand-in needed>`` is not read as HTML."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


CELL_WIDTH = 72  # characters per line of a table cell: longer text wraps, never cut


def _wrapped(text: str) -> list[str]:
    """A cell's text in lines of at most :data:`CELL_WIDTH` (words kept whole where they fit;
    a long path or token is broken), so a table stays readable and shows everything."""
    text = one_line(text)
    if len(text) <= CELL_WIDTH:
        return [text]
    return textwrap.wrap(
        text, CELL_WIDTH, break_long_words=True, break_on_hyphens=False, drop_whitespace=True
    ) or [text]


def md_cell(text: str) -> str:
    """Table-safe plain text: pipes escaped (GitHub splits cells on them, even in code), long
    text wrapped onto several lines of the cell."""
    return "<br>".join(md_text(part).replace("|", "\\|") for part in _wrapped(text))


def md_code(text: str, *, in_table: bool = True) -> str:
    text = one_line(text)
    if not text:
        return ""
    if in_table:
        # A code span cannot hold a line break: one span per wrapped line.
        return "<br>".join(_code_span(part.replace("|", "\\|")) for part in _wrapped(text))
    return _code_span(text)


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
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
    return ["### Evidence", "", *md_table(["", "Production", md_cell(box_.title)], rows)]


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
    return ["### Attempts", "", *md_table(header, table)]


def _md_stages(outcome: ReplayOutcome) -> list[str]:
    if not outcome.stages:
        return []
    rows = [(md_cell(s.name), f"{s.seconds:.2f}", md_cell(s.detail)) for s in outcome.stages]
    total = sum(s.seconds for s in outcome.stages)
    rows.append(("**total**", f"**{total:.2f}**", ""))
    return ["### Stages", "", *md_table(["Stage", "Seconds", "Detail"], rows)]


def _md_sandbox(sandbox: SandboxFacts) -> list[str]:
    lines = [
        "### Sandbox",
        "",
        f"- Database: {md_text(database_text(sandbox))}",
        f"- Settings applied: {md_text(settings_text(sandbox))}",
        f"- Rows loaded: {md_text(rows_text(sandbox))}",
        f"- Database wired by: {md_text(wiring_text(sandbox))}",
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
        lines += md_table(["File", "Mode", "Owner", "Origin"], rows)
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
        lines += md_table(["Severity", "Path", "Summary"], rows)
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


def _md_conditions(outcome: ReplayOutcome) -> list[str]:
    lines = condition_lines(outcome.conditions)
    if not lines:
        return []
    rows = [(md_cell(what), md_cell(text)) for what, text in lines]
    return ["### Production's conditions", "", *md_table(("", "seen"), rows), ""]


def _md_releases(outcome: ReplayOutcome) -> list[str]:
    rows = release_rows(outcome)
    if not rows:
        return []
    cells = [
        (role, md_code(image), f"**{answer}**", md_cell(why)) for role, image, answer, why in rows
    ]
    return [
        "### Other releases, same sandbox",
        "",
        *md_table(("", "image", "answer", "why"), cells),
        "",
    ]


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
    lines += _md_releases(outcome)
    lines += _md_attempts(rows)
    lines += _md_conditions(outcome)
    lines += _md_stages(outcome)
    lines += _md_sandbox(outcome.sandbox)
    lines += _md_request(outcome)
    lines += _md_parity(outcome.parity)
    return "\n".join(lines).rstrip("\n") + "\n"
