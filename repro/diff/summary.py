"""Counts and the one-line summary every format shares."""

from __future__ import annotations

from typing import Any

from repro.diff.model import KINDS, SEVERITIES, DiffResult, Discrepancy, rank

KIND_TEXT = {
    "only_in_prod": "only in {L}",
    "only_in_staging": "only in {R}",
    "changed": "changed",
    "incomparable": "incomparable",
}


def kind_text(item: Discrepancy, result: DiffResult) -> str:
    return KIND_TEXT[item.kind].format(L=result.left.label, R=result.right.label)


def summary(result: DiffResult) -> dict[str, Any]:
    by_severity = dict.fromkeys(reversed(SEVERITIES), 0)
    by_kind = dict.fromkeys(KINDS, 0)
    for item in result.discrepancies:
        by_severity[item.severity] += 1
        by_kind[item.kind] += 1
    return {
        "discrepancies": len(result.discrepancies),
        "by_severity": by_severity,
        "by_kind": by_kind,
        "incomparable_facets": result.incomparable_facets,
        "ignored": len(result.ignored),
        "below_min_severity": result.below_threshold,
        "facets": {name: state.outcome for name, state in sorted(result.facets.items())},
    }


def summary_line(result: DiffResult) -> str:
    """``12 discrepancies: 2 critical, 5 high, … (3 incomparable facets, 4 ignored)``."""
    counts = summary(result)
    total = counts["discrepancies"]
    parts = [f"{n} {name}" for name, n in counts["by_severity"].items() if n]
    head = f"{total} discrepanc{'y' if total == 1 else 'ies'}"
    if parts:
        head += ": " + ", ".join(parts)
    extras = []
    incomparable = len(counts["incomparable_facets"])
    if incomparable:
        extras.append(f"{incomparable} incomparable facet{'s' if incomparable != 1 else ''}")
    extras.append(f"{counts['ignored']} ignored")
    if result.below_threshold:
        extras.append(f"{result.below_threshold} below min severity")
    return f"{head} ({', '.join(extras)})"


def worst(items: list[Discrepancy]) -> int:
    return max((rank(item.severity) for item in items), default=-1)
