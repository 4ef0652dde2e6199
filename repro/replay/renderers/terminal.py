"""The replay report on a terminal (rich): a verdict panel, then one table per view."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from repro.diff.renderers.table import SEVERITY_STYLE
from repro.replay.incident import describe
from repro.replay.outcome import (
    Parity,
    ReplayOutcome,
    SandboxFacts,
)
from repro.replay.renderers.views import (
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
    rows_text,
    sandbox_side,
    settings_text,
    shown_attempt,
    unfilled_warning,
    verdict_label,
    wiring_text,
)
from repro.replay.verdict import Verdict

VERDICT_STYLE = {
    Verdict.REPRODUCED: "bold green",
    Verdict.UNCONFIRMED: "bold yellow",
    Verdict.DIFFERENT_FAILURE: "bold yellow",
    Verdict.NOT_REPRODUCED: "bold yellow",
    Verdict.ENV_ERROR: "bold red",
}


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
    table.add_row(Text("wired by"), Text(wiring_text(sandbox)))
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
