"""``--format table``: for people at a terminal. One table per facet (worst facet first),
rows by severity; "only in prod" rows stand out (upper case, and bold with colour)."""

from __future__ import annotations

import io
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from repro.diff.model import DiffResult, Discrepancy
from repro.diff.summary import kind_text, summary_line, worst

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _relative(item: Discrepancy) -> str:
    return ".".join(item.keys) if item.keys else "(whole facet)"


def _facet_table(facet: str, items: list[Discrepancy], result: DiffResult) -> Table:
    """Three columns; the path and its hint share the last one, on two lines, so long paths
    (files, cron jobs, tables) stay readable even at 80 columns."""
    table = Table(
        title=f"{facet} ({len(items)})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        expand=True,
        pad_edge=False,
    )
    kinds = [kind_text(item, result) for item in items]
    table.add_column("severity", no_wrap=True, width=8)
    table.add_column("kind", no_wrap=True, width=min(max(len(k) for k in kinds), 24))
    table.add_column("path / hint", ratio=1, overflow="fold")
    for item, kind in zip(items, kinds, strict=True):
        style = ""
        if item.kind == "only_in_prod":
            kind, style = kind.upper(), "bold"
        cell = Text(_relative(item), style=style)
        cell.append("\n")
        cell.append(item.hint, style="dim" if not style else "")
        if item.note:
            cell.append(f"\n{item.note}", style="bold yellow")
        if item.detail:
            cell.append(f"\n{item.detail}", style="dim")
        table.add_row(
            Text(item.severity, style=SEVERITY_STYLE[item.severity]),
            Text(kind, style=style, overflow="ellipsis"),
            cell,
        )
    return table


def _ignored_table(result: DiffResult) -> Table:
    table = Table(
        title=f"ignored ({len(result.ignored)})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        expand=True,
        pad_edge=False,
    )
    table.add_column("path", ratio=2, overflow="fold")
    table.add_column("by", no_wrap=True, width=8)
    table.add_column("why", ratio=3, overflow="fold")
    for entry in result.ignored:
        table.add_row(entry.discrepancy.path, entry.by, entry.reason)
    return table


def render_table(
    result: DiffResult,
    console: Console | None = None,
    *,
    min_severity: str = "low",
    show_ignored: bool = False,
    width: int = 120,
    color: bool = False,
) -> str:
    """Print to ``console`` (returns ""), or render to text of ``width`` columns, with ANSI
    styles only if ``color``."""
    if console is not None:
        print_table(result.filtered(min_severity), console, show_ignored=show_ignored)
        return ""
    recorder = Console(
        file=io.StringIO(),
        record=True,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        markup=False,
    )
    print_table(result.filtered(min_severity), recorder, show_ignored=show_ignored)
    text = recorder.export_text(styles=color)
    if color:
        return text
    # rich pads every cell to the table width; trailing blanks only get in the way of diffs.
    return "\n".join(line.rstrip() for line in text.split("\n"))


def print_table(result: DiffResult, console: Console, *, show_ignored: bool = False) -> None:
    left, right = result.left, result.right
    console.print(
        f"repro diff: {left.label} ({left.captured_at or 'time unknown'}) vs "
        f"{right.label} ({right.captured_at or 'time unknown'})",
        markup=False,
        highlight=False,
    )
    ordered = sorted(result.discrepancies, key=lambda d: (d.facet, d.sort_key))
    groups = [(facet, list(items)) for facet, items in groupby(ordered, key=lambda d: d.facet)]
    groups.sort(key=lambda group: (-worst(group[1]), group[0]))
    for facet, items in groups:
        console.print()
        console.print(_facet_table(facet, sorted(items, key=lambda d: d.sort_key), result))
    shown = {facet for facet, _ in groups}
    states = sorted(result.facets.items())
    equal = [n for n, s in states if s.outcome == "equal" and n not in shown]
    skipped = [n for n, s in states if s.outcome == "not_captured"]
    console.print()
    if equal:
        console.print(f"no discrepancies shown in: {', '.join(equal)}", markup=False)
    if skipped:
        console.print(f"not captured on either side: {', '.join(skipped)}", markup=False)
    if show_ignored and result.ignored:
        console.print()
        console.print(_ignored_table(result))
        console.print()
    console.print(Text(summary_line(result), style="bold"))
