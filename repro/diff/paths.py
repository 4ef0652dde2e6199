"""Two kinds of path patterns, for two audiences.

*Key patterns* (rules and the built-in ignore list) are matched key by key: the pattern is
split on ``.`` and each part matches exactly one key (``*`` any key, ``pg_*`` a glob within
the key, ``**`` any number of keys). ``database.tables.*.columns.*.type`` therefore matches
``public.users`` as one table key and never strays into a column named ``size_bytes``.
Rule patterns never need a literal dot inside a key.

*Path globs* (profile ``ignore`` and waivers) are what users write while looking at a
report: ``fnmatch`` over the whole printed path, where ``*`` also crosses dots, and a glob
that matches a path also matches everything below it — ignoring ``database.extensions.hstore``
hides ``database.extensions.hstore.version`` too. File paths with dots just work:
``files.paths./etc/app/settings.yaml.mode``. ``[`` starts a character class, as in fnmatch;
write ``[[]`` for a literal bracket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

_ANY = "*"
_ANY_DEPTH = "**"


def _glob_to_regex(glob: str) -> str:
    """fnmatch semantics (``*``, ``?``, ``[seq]``, ``[!seq]``), without an end anchor."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            body = glob[i:j]
            i = j + 1
            negate = body.startswith(("!", "^"))
            if negate:
                body = body[1:]
            # Escape what re treats specially inside a set; "-" keeps meaning a range.
            body = "".join("\\" + ch if ch in "\\[]&~|^" else ch for ch in body)
            out.append(f"[{'^' if negate else ''}{body}]")
        else:
            out.append(re.escape(c))
    return "".join(out)


class _Segment:
    __slots__ = ("literal", "regex")

    def __init__(self, text: str) -> None:
        if any(ch in text for ch in "*?["):
            self.literal: str | None = None
            self.regex: re.Pattern[str] | None = re.compile(rf"(?s:{_glob_to_regex(text)})\Z")
        else:
            self.literal = text
            self.regex = None

    def matches(self, key: str) -> bool:
        if self.literal is not None:
            return key == self.literal
        assert self.regex is not None
        return self.regex.match(key) is not None


class KeyPattern:
    """A key-by-key pattern over ``(facet, *keys)``; see the module docstring."""

    __slots__ = (
        "_checks",
        "_fixed_len",
        "_prefix_len",
        "_segments",
        "facet",
        "first_key",
        "last_key",
        "text",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        parts = text.split(".")
        self._segments: tuple[_Segment | str, ...] = tuple(
            part if part in (_ANY, _ANY_DEPTH) else _Segment(part) for part in parts
        )
        self._fixed_len: int | None = None if _ANY_DEPTH in parts else len(parts)
        # "a.b.**" (the common deep form): a prefix test, no backtracking.
        self._prefix_len: int | None = (
            len(parts) - 1 if parts[-1] == _ANY_DEPTH and parts.count(_ANY_DEPTH) == 1 else None
        )
        # For fixed and prefix forms: (position, segment) to test, "*" left out; position 0 is
        # the facet. Literals first: they fail fastest.
        checks = [(i, seg) for i, seg in enumerate(self._segments) if isinstance(seg, _Segment)]
        checks.sort(key=lambda check: check[1].literal is None)
        self._checks: tuple[tuple[int, _Segment], ...] = tuple(checks)
        first = self._segments[0]
        # Lets a rule table be indexed by facet, so each change is tried against few rules.
        self.facet: str | None = first.literal if isinstance(first, _Segment) else None
        # Literal keys that must sit first and last in a matching key tuple (see PatternIndex).
        second = self._segments[1] if len(self._segments) > 1 else None
        self.first_key: str | None = (
            second.literal if self.facet is not None and isinstance(second, _Segment) else None
        )
        last = self._segments[-1]
        self.last_key: str | None = (
            last.literal if len(self._segments) > 1 and isinstance(last, _Segment) else None
        )

    def __repr__(self) -> str:
        return f"KeyPattern({self.text!r})"

    def matches(self, facet: str, keys: Sequence[str]) -> bool:
        if self._fixed_len is not None:
            if self._fixed_len != len(keys) + 1:
                return False
        elif self._prefix_len is not None:
            if self._prefix_len > len(keys) + 1:
                return False
        else:
            return _match_deep(self._segments, (facet, *keys))
        for position, segment in self._checks:
            part = keys[position - 1] if position else facet
            literal = segment.literal
            if literal is not None:
                if part != literal:
                    return False
            elif not segment.matches(part):
                return False
        return True


class PatternIndex(Generic[T]):
    """Items carrying a key pattern, kept in order, with a cheap pre-filter: a pattern can
    only match keys whose first and last key equal its literal ones (and whose length fits).
    The surviving candidates are cached per (facet, first key, last key, depth), so a diff
    with 80,000 statistics changes tries a handful of rules each, not all of them."""

    def __init__(self, items: Sequence[tuple[KeyPattern, T]]) -> None:
        self._items = list(items)
        self._cache: dict[tuple[str, str | None, str | None, int], list[tuple[KeyPattern, T]]] = {}

    def candidates(self, facet: str, keys: Sequence[str]) -> list[tuple[KeyPattern, T]]:
        first = keys[0] if keys else None
        last = keys[-1] if keys else facet
        signature = (facet, first, last, len(keys))
        found = self._cache.get(signature)
        if found is None:
            found = [
                (pattern, item)
                for pattern, item in self._items
                if (pattern.facet is None or pattern.facet == facet)
                and (pattern.first_key is None or pattern.first_key == first)
                and (pattern.last_key is None or pattern.last_key == last)
                and (pattern._fixed_len is None or pattern._fixed_len == len(keys) + 1)
                and (pattern._prefix_len is None or pattern._prefix_len <= len(keys) + 1)
            ]
            self._cache[signature] = found
        return found

    def matching(self, facet: str, keys: Sequence[str]) -> Iterator[T]:
        """Items whose pattern matches, in their original order."""
        for pattern, item in self.candidates(facet, keys):
            if pattern.matches(facet, keys):
                yield item


def _match_deep(segments: Sequence[_Segment | str], parts: Sequence[str]) -> bool:
    if not segments:
        return not parts
    head, rest = segments[0], segments[1:]
    if head == _ANY_DEPTH:
        return any(_match_deep(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    if head == _ANY or (isinstance(head, _Segment) and head.matches(parts[0])):
        return _match_deep(rest, parts[1:])
    return False


class PathGlob:
    """A user's glob over printed paths; matches the path or anything below it."""

    __slots__ = ("_regex", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._regex = re.compile(rf"(?s:{_glob_to_regex(text)})(?:\..*)?\Z")

    def __repr__(self) -> str:
        return f"PathGlob({self.text!r})"

    def matches(self, path: str) -> bool:
        return self._regex.match(path) is not None
