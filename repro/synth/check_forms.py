"""CHECK shapes the generator meets by construction though the rule parser has no column
rule for them: how many of some columns are NULL.

``((plan_id IS NOT NULL) <> (subscription_id IS NOT NULL))`` (exactly one parent),
``num_nonnulls(a, b, c) = 1``, ``num_nulls(a, b) >= 1``: after a row is rendered, the
columns it keeps are picked (by their NULL shares in the snapshot) and the others are set
NULL. Texts are ``pg_get_constraintdef`` renderings of one conjunct, outer parentheses
removed (see :func:`repro.synth.derived.split_conjuncts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repro.synth.derived import _strip_parens, top_level

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_NULL_TEST = re.compile(rf"^\(?({_IDENT}) IS (NOT )?NULL\)?$")
_COUNT = re.compile(rf"^(num_nonnulls|num_nulls)\(((?:{_IDENT}(?:, )?)+)\) (=|<>|<=|>=|<|>) (\d+)$")
_FLIP = {"=": "=", "<>": "<>", "<=": ">=", ">=": "<=", "<": ">", ">": "<"}
_COUNT_FLIPPED = re.compile(
    rf"^(\d+) (=|<>|<=|>=|<|>) (num_nonnulls|num_nulls)\(((?:{_IDENT}(?:, )?)+)\)$"
)


@dataclass(frozen=True)
class NonNullCount:
    """Between ``low`` and ``high`` of ``columns`` are not NULL in every row."""

    name: str  # the constraint's
    columns: tuple[str, ...]
    low: int
    high: int


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


def _split_top(text: str, op: str) -> tuple[str, str] | None:
    """``left op right`` split at the one top-level ``op`` (quotes respected)."""
    found = top_level(text, f" {op} ")
    if len(found) != 1:
        return None
    return text[: found[0]], text[found[0] + len(op) + 2 :]


def parse_non_null_count(name: str, conjunct: str) -> NonNullCount | None:
    """The rule a conjunct states about NULLs, or None when it states something else."""
    text = _strip_parens(conjunct)
    sides = _split_top(text, "<>")
    if sides is not None:
        left = _NULL_TEST.match(_strip_parens(sides[0]))
        right = _NULL_TEST.match(_strip_parens(sides[1]))
        if left and right and bool(left.group(2)) == bool(right.group(2)):
            # (a IS [NOT] NULL) <> (b IS [NOT] NULL): one of them NULL, not both
            return NonNullCount(name, (_name(left.group(1)), _name(right.group(1))), 1, 1)
        return None
    match = _COUNT.match(text)
    if match:
        function, items, op, number = match.groups()
    else:
        flipped = _COUNT_FLIPPED.match(text)
        if not flipped:
            return None
        number, op, function, items = flipped.groups()
        op = _FLIP[op]
    columns = tuple(_name(t) for t in re.findall(_IDENT, items))
    if len(set(columns)) != len(columns) or not columns:
        return None
    k, m = int(number), len(columns)
    if function == "num_nulls":  # k NULLs among m: m - k not NULL
        op = _FLIP[op] if op not in ("=", "<>") else op
        k = m - k
    low, high = {
        "=": (k, k),
        "<=": (0, k),
        "<": (0, k - 1),
        ">=": (k, m),
        ">": (k + 1, m),
    }.get(op, (-1, -1))
    if op == "<>" or low < 0 or low > high or high < 0 or low > m:
        return None
    return NonNullCount(name, columns, max(low, 0), min(high, m))
