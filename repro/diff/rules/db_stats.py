"""Planner statistics: the *shape* of the data. Only order-of-magnitude differences count
("3 test rows vs millions"); the rest is sampling noise and is hidden with its reason."""

from __future__ import annotations

import math

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, fixed, kinds
from repro.diff.values import as_number, human_bytes, human_count, show

RATIO = 10.0  # "orders of magnitude" starts here
NULL_FRAC_DELTA = 0.2


def ratio(left: float, right: float) -> float:
    """How many times larger the larger count is; counts below 1 count as 1."""
    if math.isinf(left) or math.isinf(right):
        return 1.0 if left == right else math.inf
    low, high = sorted((max(left, 0.0), max(right, 0.0)))
    return high / max(low, 1.0)


def _numbers(change: Change) -> tuple[float, float] | None:
    left, right = as_number(change.left), as_number(change.right)
    if left is None or right is None:
        return None
    return left, right


def _where(change: Change) -> str:
    if len(change.keys) >= 4 and change.keys[2] == "columns":
        return f"{change.keys[1]}.{change.keys[3]}"
    return change.keys[1]


def _rows(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    if numbers is None:
        return Assessment(
            "low",
            f"{_where(change)} rows: {ctx.left_label} {show(change.left)} "
            f"vs {ctx.right_label} {show(change.right)} (never analyzed on one side?)",
        )
    factor = ratio(*numbers)
    text = (
        f"{_where(change)}: {human_count(change.left)} rows in {ctx.left_label} vs "
        f"{human_count(change.right)} in {ctx.right_label}"
    )
    if factor >= RATIO:
        return Assessment("medium", f"{text}: data volume differs {_times(factor)}")
    return Assessment("info", f"{text} (within {RATIO:g}×)", hide=True)


def _size(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    text = (
        f"{_where(change)}: {human_bytes(change.left)} in {ctx.left_label} vs "
        f"{human_bytes(change.right)} in {ctx.right_label}"
    )
    if numbers is not None and ratio(*numbers) >= RATIO:
        return Assessment("low", text)
    return Assessment("info", f"{text} (within {RATIO:g}×)", hide=numbers is not None)


def _null_frac(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    if numbers is None:
        return Assessment(
            "low",
            f"{_where(change)} NULL fraction: {ctx.left_label} "
            f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
        )
    left, right = numbers
    text = (
        f"{_where(change)}: {_percent(left)} NULL in {ctx.left_label} vs "
        f"{_percent(right)} in {ctx.right_label}"
    )
    if abs(left - right) > NULL_FRAC_DELTA or (left == 0) != (right == 0):
        return Assessment("medium", text)
    return Assessment("info", f"{text} (within {NULL_FRAC_DELTA:g})", hide=True)


def _distinct(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    text = (
        f"{_where(change)}: {human_count(change.left)} distinct values in {ctx.left_label} "
        f"vs {human_count(change.right)} in {ctx.right_label}"
    )
    if numbers is None:
        return Assessment("low", text)
    factor = ratio(*numbers)
    if factor >= RATIO:
        return Assessment("medium", f"{text}: {_times(factor)}")
    return Assessment("info", f"{text} (within {RATIO:g}×)", hide=True)


def _width(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    text = (
        f"{_where(change)}: average width {show(change.left)} bytes in {ctx.left_label} "
        f"vs {show(change.right)} in {ctx.right_label}"
    )
    if numbers is not None and ratio(*numbers) >= RATIO:
        return Assessment("low", text)
    return Assessment("info", f"{text} (within {RATIO:g}×)", hide=numbers is not None)


def _percent(value: float) -> str:
    if value == 0:
        return "none"
    return f"{value:.1%}" if value >= 0.001 else f"{value:.2g}"


def _times(factor: float) -> str:
    return "by orders of magnitude" if math.isinf(factor) else f"{factor:,.0f}×"


S = "database.statistics.*"
RULES: list[Rule] = [
    Rule(
        "database.statistics",
        S,
        fixed(
            "low",
            {
                "only_in_prod": "statistics of {name} only in {L} (table only there, or "
                "not analyzed elsewhere)",
                "only_in_staging": "statistics of {name} only in {R}",
            },
        ),
        kinds("only_in_prod", "only_in_staging"),
    ),
    Rule("database.data-volume", f"{S}.rows_estimate", _rows, kinds("changed")),
    Rule("database.data-volume", f"{S}.size_bytes", _size, kinds("changed")),
    Rule("database.data-shape", f"{S}.columns.*.null_frac", _null_frac, kinds("changed")),
    Rule("database.data-shape", f"{S}.columns.*.n_distinct", _distinct, kinds("changed")),
    Rule("database.data-shape", f"{S}.columns.*.avg_width", _width, kinds("changed")),
    Rule(
        "database.data-shape",
        f"{S}.columns.*.analyzed",
        fixed("low", "{default} (never analyzed where false: the planner guesses)"),
    ),
    Rule("database.data-shape", f"{S}.columns.*.personal", fixed("info")),
    Rule("database.data-shape", f"{S}.columns.*.personal_reason", fixed("info")),
    Rule("database.data-shape", f"{S}.columns.*.readable", fixed("low")),
    Rule("database.data-shape", f"{S}.columns.*", fixed("low")),
    Rule("database.data-shape", f"{S}.**", fixed("low")),
]
