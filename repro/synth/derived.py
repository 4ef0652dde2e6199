"""CHECKs the generator satisfies by computing a column: ``total = subtotal + tax``.

The check parser understands comparisons with literals and between two columns; a check
that makes one column the sum (difference, product) of two others is common in real
schemas and is met by construction instead: the target column is computed from the two
sources after they are generated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from repro.synth.check_parser import ParsedCheck, UnsupportedCheck, merge, parse_check

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_OPERAND = rf"\(?\(?({_IDENT})\)?(?:::[a-z ]+)?\)?"
_DERIVED = re.compile(rf"^{_OPERAND} = \({_OPERAND} ([-+*]) {_OPERAND}\)$")


@dataclass(frozen=True)
class Derived:
    target: str
    left: str
    op: str  # + - *
    right: str


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token


def _strip_parens(text: str) -> str:
    """Remove parentheses that wrap the whole expression."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def top_level(text: str, token: str) -> list[int]:
    """Where ``token`` occurs in ``text`` outside parentheses and quotes."""
    found, depth, quoted = [], 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == quoted:
                quoted = ""
        elif ch in "'\"":
            quoted = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(token, i):
            found.append(i)
            i += len(token) - 1
        i += 1
    return found


def split_conjuncts(definition: str) -> list[str]:
    """``CHECK ((a) AND (b))`` -> ["a", "b"] (top-level ANDs only; quotes respected)."""
    body = definition.strip()
    body = re.sub(r"\s+NOT VALID$|\s+NO INHERIT$", "", body)
    if body.upper().startswith("CHECK"):
        body = body[5:]
    body = _strip_parens(body)
    cuts = top_level(body, " AND ")
    starts = [0] + [c + 5 for c in cuts]
    ends = [*cuts, len(body)]
    parts = [body[a:b] for a, b in zip(starts, ends, strict=True)]
    return [_strip_parens(p) for p in parts if p.strip()]


def parse_derived(conjunct: str) -> Derived | None:
    match = _DERIVED.match(_strip_parens(conjunct))
    if match is None:
        return None
    target, left, op, right = match.groups()
    return Derived(_name(target), _name(left), op, _name(right))


def parse_with_derived(definition: str) -> tuple[ParsedCheck, list[Derived]]:
    """The check's rules, with ``col = a op b`` conjuncts taken out as derivations.
    Raises UnsupportedCheck for a conjunct neither understands."""
    try:
        return parse_check(definition), []
    except UnsupportedCheck as first:
        parsed, derived = ParsedCheck(), []
        for conjunct in split_conjuncts(definition):
            found = parse_derived(conjunct)
            if found is not None:
                derived.append(found)
                continue
            try:
                parsed = merge(parsed, parse_check(f"CHECK ({conjunct})"))
            except UnsupportedCheck:
                raise first from None
        return parsed, derived
