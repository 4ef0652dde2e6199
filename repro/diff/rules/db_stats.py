"""Planner statistics: the *shape* of the data. Only order-of-magnitude differences count
("3 test rows vs millions"); the rest is sampling noise and is hidden with its reason."""

from __future__ import annotations

import math

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, SideName, fixed, kinds
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


def _volume_ratio(change: Change, ctx: Context) -> float | None:
    """How many times the table's rows differ between the sides (None if unknown)."""
    keys = ("statistics", change.keys[1], "rows_estimate")
    left, right = as_number(ctx.value("left", keys)), as_number(ctx.value("right", keys))
    if left is None or right is None:
        return None
    return ratio(left, right)


def _follows_volume(change: Change, ctx: Context, text: str) -> Assessment | None:
    """A size or count that differs because the table's row count does: already reported
    once at rows_estimate, so hidden here (20 columns would repeat it 20 times)."""
    volume = _volume_ratio(change, ctx)
    if volume is not None and volume >= RATIO:
        return Assessment("info", f"{text} (follows the data volume)", hide=True)
    return None


def _size(change: Change, ctx: Context) -> Assessment:
    numbers = _numbers(change)
    text = (
        f"{_where(change)}: {human_bytes(change.left)} in {ctx.left_label} vs "
        f"{human_bytes(change.right)} in {ctx.right_label}"
    )
    follows = _follows_volume(change, ctx, text)
    if follows is not None:
        return follows
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
    if left > 0 and right == 0:
        # The commonest production-only crash: code that never met a NULL in staging.
        return Assessment("high", f"{text}: NULLs only in {ctx.left_label}")
    if abs(left - right) > NULL_FRAC_DELTA or (left == 0) != (right == 0):
        return Assessment("medium", text)
    return Assessment("info", f"{text} (within {NULL_FRAC_DELTA:g})", hide=True)


def distinct_count(ctx: Context, side: SideName, keys: tuple[str, ...]) -> float | None:
    """pg_stats.n_distinct as a count: a negative value is minus a fraction of the rows."""
    value = as_number(ctx.value(side, keys))
    if value is None or value >= 0:
        return value
    rows = as_number(ctx.value(side, ("statistics", keys[1], "rows_estimate")))
    return -value * rows if rows is not None else None


def _distinct(change: Change, ctx: Context) -> Assessment:
    left = distinct_count(ctx, "left", change.keys)
    right = distinct_count(ctx, "right", change.keys)
    text = (
        f"{_where(change)}: {human_count(left)} distinct values in {ctx.left_label} "
        f"vs {human_count(right)} in {ctx.right_label}"
    )
    if left is None or right is None:
        return Assessment("low", text)
    follows = _follows_volume(change, ctx, text)
    if follows is not None:
        return follows
    factor = ratio(left, right)
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


def _not_analyzed(change: Change, ctx: Context) -> Assessment:
    """One side never analyzed the table (repro.diff.fold made this one change of all its
    statistics): the planner guesses there, and the data shape cannot be compared."""
    where = [
        label
        for label, state in ((ctx.left_label, change.left), (ctx.right_label, change.right))
        if state == "not analyzed"
    ]
    return Assessment(
        "low",
        f"statistics of {change.keys[1]}: not analyzed in {' and '.join(where)} (ANALYZE never "
        "ran there: the planner guesses, and the data shape cannot be compared)",
    )


S = "database.statistics.*"
RULES: list[Rule] = [
    Rule("database.statistics", S, _not_analyzed, kinds("changed")),
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
