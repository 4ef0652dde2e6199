"""Rules that apply to every facet: incomparable values first, catch-alls last."""

from __future__ import annotations

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, describe, fixed, kinds


def _incomparable(change: Change, ctx: Context) -> Assessment:
    # Not a difference, but a blind spot: ranked like a medium difference, and counted apart
    # (exit code 3) so "nothing differs" is never claimed for it.
    return Assessment("medium", describe(change, ctx))


FIRST: list[Rule] = [
    Rule("incomparable", "**", _incomparable, kinds("incomparable")),
    Rule("comment", "database.**.comment", fixed("info", "comment differs: {default}")),
]

# Anything no specific rule knows: what prod has (or has differently) is a candidate cause;
# what only staging has rarely explains a production-only failure.
LAST: list[Rule] = [
    Rule(
        "default",
        "**",
        fixed({"only_in_prod": "medium", "changed": "medium", "only_in_staging": "low"}),
    ),
]
