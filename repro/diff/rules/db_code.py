"""Code in the database, compared by definition: functions, procedures, aggregates, views
and triggers. A changed definition is reported with a short unified diff of the two texts
(a secret masked in a body stays masked: only the masked texts are compared line by line).
"""

from __future__ import annotations

import difflib
from typing import Any

from repro.diff.model import MISSING, Change
from repro.diff.rules.base import AssessFn, Assessment, Context, Rule
from repro.diff.rules.db_schema import split
from repro.redacted import is_redacted

MAX_LINES = 24  # of the unified diff shown
MAX_WIDTH = 160  # characters of each line


def definition_text(value: Any) -> str | None:
    """A definition as text a person may read (a secret's masked form); None if withheld."""
    if isinstance(value, str):
        return value
    if is_redacted(value) and isinstance(value.get("masked"), str):
        return str(value["masked"])
    return None


def unified(left: Any, right: Any, left_label: str, right_label: str) -> str | None:
    """The changed lines of two definitions, with one line of context, at most
    :data:`MAX_LINES` lines."""
    a, b = definition_text(left), definition_text(right)
    if a is None or b is None:
        return None
    lines = list(
        difflib.unified_diff(
            a.strip("\n").splitlines(),
            b.strip("\n").splitlines(),
            fromfile=left_label,
            tofile=right_label,
            n=1,
            lineterm="",
        )
    )
    if not lines:
        return None
    shown = [line if len(line) <= MAX_WIDTH else line[: MAX_WIDTH - 3] + "..." for line in lines]
    if len(shown) > MAX_LINES:
        shown = [*shown[:MAX_LINES], f"... ({len(lines) - MAX_LINES} more lines)"]
    return "\n".join(shown)


def changed_definition(what: str) -> AssessFn:
    def assess(change: Change, ctx: Context) -> Assessment | None:
        if change.kind != "changed":
            return None
        owner, _ = split(change.keys)
        detail = unified(change.left, change.right, ctx.left_label, ctx.right_label)
        return Assessment(
            "medium",
            f"{what} {owner}: definition differs between {ctx.left_label} and "
            f"{ctx.right_label}" + ("" if detail else " (a secret in it differs)"),
            detail=detail,
        )

    return assess


def _body_hash(change: Change, ctx: Context) -> Assessment | None:
    """With both definitions captured, the definition's own discrepancy says it all."""
    left = ctx.value("left", (*change.keys[:-1], "definition"))
    right = ctx.value("right", (*change.keys[:-1], "definition"))
    if left is not MISSING and right is not MISSING and left is not None and right is not None:
        return Assessment("info", "the definition's discrepancy shows the change", hide=True)
    return None


T = "database.tables.*"
RULES: list[Rule] = [
    Rule("database.function", "database.functions.*.definition", changed_definition("function")),
    Rule("database.function", "database.functions.*.body_sha256", _body_hash),
    Rule("database.view", "database.views.*.definition", changed_definition("view")),
    Rule("database.trigger", f"{T}.triggers.*.definition", changed_definition("trigger")),
]
