"""Text that matches a CHECK's regular expression (``code ~ '^[a-z0-9_]{1,100}$'``).

A value by meaning is kept when it matches already; otherwise one is built from the
pattern itself: Python's own regex parser reads it, and each choice (a character of a
class, how many repeats, which branch) is a digit of the value number k, so distinct k give
distinct texts while the pattern leaves room. PostgreSQL's POSIX classes (``[[:alpha:]]``)
are translated; a pattern Python cannot read gives no value (None), and PostgreSQL judges
the rows (:mod:`repro.synth.judge`).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from re import _constants as _c  # type: ignore[attr-defined]  # the parser behind re
from re import _parser as _sre_parse  # type: ignore[attr-defined]
from typing import Any

from repro.synth.value_spaces import Ints, copy_escape

_POSIX = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "word": r"\w",
}
_ANY = string.ascii_lowercase + string.digits + string.ascii_uppercase
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_lowercase + string.digits + "_",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": string.ascii_lowercase,
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_NOT_SPACE": string.ascii_lowercase + string.digits,
}
_PREFERRED_REPEATS = 8  # a repeat without a small bound gets this many items
MAX_PATTERN = 2_000  # characters of a pattern this reads; a longer one is left to the judge


def posix_to_python(pattern: str) -> str:
    return re.sub(r"\[:(\w+):\]", lambda m: _POSIX.get(m.group(1), m.group(0)), pattern)


@lru_cache(maxsize=256)
def compiled(pattern: str) -> tuple[re.Pattern[str], Any] | None:
    if len(pattern) > MAX_PATTERN:
        return None
    python = posix_to_python(pattern)
    try:
        return re.compile(python), _sre_parse.parse(python)
    except (re.error, RecursionError, OverflowError, ValueError):
        return None


def matches(pattern: str, text: str) -> bool:
    found = compiled(pattern)
    return found is not None and found[0].search(text) is not None


@dataclass
class _Builder:
    k: int
    out: list[str] = field(default_factory=list)

    def digit(self, choices: int) -> int:
        if choices <= 1:
            return 0
        self.k, d = divmod(self.k, choices)
        return d

    def items(self, parsed: Any) -> None:
        for op, arg in parsed:
            self.item(op, arg)

    def item(self, op: Any, arg: Any) -> None:
        name = str(op)
        if name == "LITERAL":
            self.out.append(chr(arg))
        elif name == "NOT_LITERAL":
            self.out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            self.out.append(_ANY[self.digit(len(_ANY))])
        elif name == "IN":
            chars = _class_chars(arg)
            if chars:
                self.out.append(chars[self.digit(len(chars))])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, inner = arg
            high = low + _PREFERRED_REPEATS if high == _c.MAXREPEAT else high
            target = max(low, min(high, _PREFERRED_REPEATS))
            for _ in range(target):
                self.items(inner)
        elif name == "SUBPATTERN":
            self.items(arg[-1])
        elif name == "BRANCH":
            branches = arg[1]
            self.items(branches[self.digit(len(branches))])
        elif name == "CATEGORY":
            chars = _CATEGORIES.get(str(arg), "")
            if chars:
                self.out.append(chars[self.digit(len(chars))])
        # AT (anchors), ASSERT, GROUPREF...: nothing to write


def _class_chars(items: Any) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            low, high = arg
            chars.extend(chr(c) for c in range(low, min(high, low + 94) + 1))
        elif name == "CATEGORY":
            chars.extend(_CATEGORIES.get(str(arg), ""))
    if negate:
        banned = set(chars)
        return "".join(c for c in _ANY if c not in banned)
    return "".join(dict.fromkeys(chars))


def build(pattern: str, k: int) -> str | None:
    """A text that ``pattern`` matches, the k-th of its kind; None when none is found."""
    found = compiled(pattern)
    if found is None:
        return None
    builder = _Builder(k)
    try:
        builder.items(found[1])
    except (TypeError, ValueError, IndexError, RecursionError):
        return None
    text = "".join(builder.out)
    return text if found[0].search(text) else None


@dataclass
class Patterned:
    """Another space's texts, replaced by pattern-built ones where they do not match."""

    inner: Any  # a Space
    patterns: list[str]

    @property
    def size(self) -> int | None:
        return getattr(self.inner, "size", None)

    def texts(self, ks: Ints) -> list[str]:
        out = []
        for k, text in zip(ks.tolist(), self.inner.texts(ks), strict=True):
            if all(matches(p, text) for p in self.patterns):
                out.append(text)
                continue
            built = build(self.patterns[0], k)
            if built is not None and all(matches(p, built) for p in self.patterns[1:]):
                out.append(copy_escape(built))
            else:
                out.append(text)  # PostgreSQL judges it
        return out
