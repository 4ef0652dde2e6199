"""``--format markdown``: a table to paste into a ticket or a pull request."""

from __future__ import annotations

import re

from repro.diff.model import DiffResult, Discrepancy
from repro.diff.summary import kind_text, summary_line
from repro.diff.values import show
from repro.text import one_line


def cell(text: str) -> str:
    """Table-safe: one line, pipes escaped (GitHub splits cells on them even in code)."""
    return one_line(text).replace("\\", "\\\\").replace("|", "\\|")


def code(text: str) -> str:
    text = cell(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


def _row(item: Discrepancy, result: DiffResult) -> str:
    kind = kind_text(item, result)
    if item.kind == "only_in_prod":
        kind = f"**{kind}**"
    hint = cell(item.hint) + (f" *({cell(item.note)})*" if item.note else "")
    return (
        f"| {item.severity} | {kind} | {code(item.path)} | {code(show(item.left, 40))} | "
        f"{code(show(item.right, 40))} | {hint} |"
    )


def render_markdown(
    result: DiffResult, *, min_severity: str = "low", show_ignored: bool = False
) -> str:
    result = result.filtered(min_severity)
    left, right = result.left, result.right
    lines = [
        f"### repro diff: {cell(left.label)} vs {cell(right.label)}",
        "",
        f"{cell(left.label)} captured {left.captured_at or 'at an unknown time'}, "
        f"{cell(right.label)} captured {right.captured_at or 'at an unknown time'}.",
        "",
        f"**{summary_line(result)}**",
        "",
    ]
    if result.discrepancies:
        lines += [
            f"| Severity | Kind | Path | {cell(left.label)} | {cell(right.label)} | Hint |",
            "|---|---|---|---|---|---|",
            *(_row(item, result) for item in result.discrepancies),
            "",
        ]
    for item in result.discrepancies:
        if item.detail:
            longest = max((len(run) for run in re.findall(r"`+", item.detail)), default=0)
            fence = "`" * max(3, longest + 1)
            lines += [f"{code(item.path)}:", "", f"{fence}diff", item.detail, fence, ""]
    if show_ignored and result.ignored:
        lines += [
            f"<details><summary>{len(result.ignored)} ignored</summary>",
            "",
            "| Path | Ignored by | Why |",
            "|---|---|---|",
            *(
                f"| {code(entry.discrepancy.path)} | {entry.by} | {cell(entry.reason)} |"
                for entry in result.ignored
            ),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)
