"""Masking inside container values: arrays element by element, JSON and hstore by key.

A container transformer parses PostgreSQL's text output of a value (``{a,"b c",NULL}``,
``{"email": "x@y"}``, ``"k"=>"v"``), hands each leaf to the scalar transformer that applies
to it, and writes the value back in the same form: the structure, the keys, NULLs, booleans
and everything not matched stay as they were. ``units`` names the leaves a transformer
changes, so verification judges the emails inside an array one by one, not the array.

Key patterns are shell globs matched against key names in any case, at any depth; under a
matched key, every string or number (in nested objects and arrays too) is masked with that
key's spec, unless a key deeper down matches a pattern of its own.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from repro.errors import DataGenerationError

MAX_DEPTH = 200  # nesting of JSON values and arrays; deeper documents are refused
MAX_ARRAY_DIMENSIONS = 6  # PostgreSQL's own limit (MAXDIM)


class Leaf(Protocol):
    """A scalar transformer (see :mod:`repro.mask.transforms`)."""

    spec: str

    def __call__(self, value: str) -> str | None: ...

    def identifying(self, value: str) -> bool: ...


def units(transformer: Any, value: str) -> Iterator[tuple[Leaf, str]]:
    """The leaves of ``value`` that ``transformer`` masks, each with its scalar transformer
    (a scalar value is its own one leaf)."""
    if isinstance(transformer, Container):
        for leaf, unit in transformer.units(value):
            if tracked(leaf):
                yield leaf, unit
    else:
        yield transformer, value


def leaves(transformer: Any) -> list[Leaf]:
    """The scalar transformers inside ``transformer`` (itself when it is one)."""
    if isinstance(transformer, Container):
        return transformer.leaves()
    inner = getattr(transformer, "inner", None)  # a unique column's mapping wraps one
    return [inner if inner is not None else transformer]


def tracked(leaf: Any) -> bool:
    """Whether verification looks at a leaf: not one the rules keep, NULL or set."""
    return getattr(leaf, "leak", "unchecked") != "unchecked"


MaskedLeaf = tuple[Leaf, str, "str | None"]  # leaf transformer, value before, after


class Container:
    """Base of the container transformers."""

    spec: str
    column: str

    def __call__(self, value: str) -> str | None:
        raise NotImplementedError

    def units(self, value: str) -> Iterator[tuple[Leaf, str]]:
        raise NotImplementedError

    def leaves(self) -> list[Leaf]:
        raise NotImplementedError

    def masked(self, value: str) -> tuple[str | None, list[MaskedLeaf]]:
        """The masked value and each tracked leaf before and after (for verification), in
        one walk where a container can: copying is the hot path."""
        out = self(value)
        after = [] if out is None else [u for _, u in units(self, out)]
        return out, [
            (leaf, unit, after[i] if i < len(after) else None)
            for i, (leaf, unit) in enumerate(units(self, value))
        ]

    def _refuse(self, why: str) -> DataGenerationError:
        return DataGenerationError(
            f"{self.column}: {why}", hint="mask the column with null or constant:<value>"
        )

    def __repr__(self) -> str:
        return f"<transformer {self.spec!r} for {self.column}>"


# ------------------------------------------------------------------------------ arrays

_DIMENSIONS = re.compile(r"^(?:\[-?\d+:-?\d+\]){1,6}=")
_NEEDS_QUOTES = re.compile(r'[{}",\\\s]')
_ARRAY_SPACE = " \t\n\r\v\f"
_BACKSLASHED = re.compile(r"\\(.)", re.DOTALL)

Nested = list[Any]  # of str | None | Nested


def parse_array(text: str) -> tuple[str, Nested]:
    """``[0:1]={a,"b c",NULL}`` -> ("[0:1]=", ["a", "b c", None]); nested for more
    dimensions. ValueError for anything that is not PostgreSQL's array output."""
    match = _DIMENSIONS.match(text)
    prefix = match.group(0) if match else ""
    pos = len(prefix)
    stack: list[Nested] = []
    root: Nested | None = None
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == "{":
            if len(stack) >= MAX_ARRAY_DIMENSIONS:
                raise ValueError("too many dimensions")
            fresh: Nested = []
            if stack:
                stack[-1].append(fresh)
            elif root is not None:
                raise ValueError("text after the array")
            else:
                root = fresh
            stack.append(fresh)
            pos += 1
        elif ch == "}":
            if not stack:
                raise ValueError("unbalanced braces")
            stack.pop()
            pos += 1
        elif ch == ",":
            pos += 1
        elif not stack:
            raise ValueError("text outside the array")
        elif ch == '"':
            out = []
            pos += 1
            while pos < n and text[pos] != '"':
                if text[pos] == "\\":
                    pos += 1
                out.append(text[pos : pos + 1])
                pos += 1
            if pos >= n:
                raise ValueError("unterminated quoted element")
            stack[-1].append("".join(out))
            pos += 1
        else:
            end = pos
            while end < n and text[end] not in ",}":
                end += 1
            raw = text[pos:end].strip(_ARRAY_SPACE)  # what array_in skips, no more
            stack[-1].append(None if raw.upper() == "NULL" else _BACKSLASHED.sub(r"\1", raw))
            pos = end
    if root is None or stack:
        raise ValueError("not an array")
    return prefix, root


def render_array(prefix: str, items: Nested) -> str:
    def element(item: Any) -> str:
        if item is None:
            return "NULL"
        if isinstance(item, list):
            return "{" + ",".join(element(i) for i in item) + "}"
        text = str(item)
        if text == "" or _NEEDS_QUOTES.search(text) or text.upper() == "NULL":
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return text

    return prefix + element(items)


def _flat(items: Nested) -> Iterator[str]:
    for item in items:
        if isinstance(item, list):
            yield from _flat(item)
        elif item is not None:
            yield item


class ArrayOf(Container):
    """Every non-NULL element through ``element`` (a scalar or a container transformer)."""

    def __init__(self, spec: str, column: str, element: Any) -> None:
        self.spec = spec
        self.column = column
        self.element = element

    def _parse(self, value: str) -> tuple[str, Nested]:
        try:
            return parse_array(value)
        except ValueError as exc:
            raise self._refuse(f"a value is not an array literal ({exc})") from None

    def __call__(self, value: str) -> str | None:
        prefix, items = self._parse(value)

        def walk(nested: Nested) -> Nested:
            return [
                walk(i) if isinstance(i, list) else None if i is None else self.element(i)
                for i in nested
            ]

        return render_array(prefix, walk(items))

    def units(self, value: str) -> Iterator[tuple[Leaf, str]]:
        for item in _flat(self._parse(value)[1]):
            yield from units(self.element, item)

    def masked(self, value: str) -> tuple[str | None, list[MaskedLeaf]]:
        element = self.element
        if isinstance(element, Container) or not tracked(element):
            return super().masked(value)
        prefix, items = self._parse(value)
        record: list[MaskedLeaf] = []

        def walk(nested: Nested) -> Nested:
            out: Nested = []
            for item in nested:
                if isinstance(item, list):
                    out.append(walk(item))
                elif item is None:
                    out.append(None)
                else:
                    new = element(item)
                    record.append((element, item, new))
                    out.append(new)
            return out

        return render_array(prefix, walk(items)), record

    def leaves(self) -> list[Leaf]:
        return leaves(self.element)


# ------------------------------------------------------------------------------ key rules


class KeyRules:
    """Which leaf transformer masks the values under a key: (pattern, text transformer,
    number transformer or None) in the order written, or one ``everything`` pair."""

    def __init__(
        self,
        rules: Sequence[tuple[str, Leaf, Leaf | None]],
        everything: tuple[Leaf, Leaf | None] | None = None,
    ) -> None:
        self.rules = [(p.lower(), text, number) for p, text, number in rules]
        self.everything = everything

    def match(self, key: str) -> tuple[Leaf, Leaf | None] | None:
        low = key.lower()
        for pattern, text, number in self.rules:
            if fnmatch.fnmatchcase(low, pattern):
                return text, number
        return None

    def leaves(self) -> list[Leaf]:
        pairs = [(t, n) for _, t, n in self.rules]
        if self.everything:
            pairs.append(self.everything)
        return [leaf for pair in pairs for leaf in pair if leaf is not None]


# ------------------------------------------------------------------------------ JSON


class _Number(str):
    """A JSON number's text, kept exactly as written."""


class _Object(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs: order and duplicate keys kept (json)."""


def _load(text: str) -> Any:
    return json.loads(
        text,
        object_pairs_hook=_Object,
        parse_int=_Number,
        parse_float=_Number,
        parse_constant=_Number,
    )


def _dump(value: Any, out: list[str]) -> None:
    if isinstance(value, _Number):
        out.append(str(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, _Object):
        out.append("{")
        for i, (key, item) in enumerate(value):
            out.append(", " if i else "")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(": ")
            _dump(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            out.append(", " if i else "")
            _dump(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value))  # true, false, null


Pair = tuple[Leaf, "Leaf | None"]


class JsonValues(Container):
    """Strings and numbers under matched keys (or all of them, with ``everything``)."""

    def __init__(self, spec: str, column: str, rules: KeyRules) -> None:
        self.spec = spec
        self.column = column
        self.rules = rules

    def _parse(self, value: str) -> Any:
        try:
            return _load(value)
        except RecursionError:
            raise self._refuse(f"a JSON value nests deeper than {MAX_DEPTH} levels") from None
        except ValueError:
            raise self._refuse("a value is not valid JSON") from None

    def _walk(
        self, node: Any, pair: Pair | None, depth: int, visit: Callable[[Any, Pair], Any]
    ) -> Any:
        if depth > MAX_DEPTH:
            raise self._refuse(f"a JSON value nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, _Object):
            return _Object(
                (k, self._walk(v, self.rules.match(k) or pair, depth + 1, visit)) for k, v in node
            )
        if isinstance(node, list):
            return [self._walk(v, pair, depth + 1, visit) for v in node]
        if pair is None or node is None or isinstance(node, bool):
            return node
        return visit(node, pair)

    def __call__(self, value: str) -> str | None:
        return self._mask(value, None)

    def masked(self, value: str) -> tuple[str | None, list[MaskedLeaf]]:
        record: list[MaskedLeaf] = []
        return self._mask(value, record), record

    def _mask(self, value: str, record: list[MaskedLeaf] | None) -> str:
        def mask(node: Any, pair: Pair) -> Any:
            text, number = pair
            before = str(node)
            if isinstance(node, _Number) and number is not None:
                leaf, out = number, number(before)
                new: Any = None if out is None else _Number(out)
            else:
                leaf = text
                out = new = text(before)  # a number becomes a string: the spec makes text
            if record is not None and tracked(leaf):
                record.append((leaf, before, out))
            return new

        root = self._walk(self._parse(value), self.rules.everything, 0, mask)
        out: list[str] = []
        _dump(root, out)
        return "".join(out)

    def units(self, value: str) -> Iterator[tuple[Leaf, str]]:
        found: list[tuple[Leaf, str]] = []

        def collect(node: Any, pair: Pair) -> Any:
            text, number = pair
            found.append((number if isinstance(node, _Number) and number else text, str(node)))
            return node

        self._walk(self._parse(value), self.rules.everything, 0, collect)
        yield from found

    def leaves(self) -> list[Leaf]:
        return self.rules.leaves()


# ------------------------------------------------------------------------------ hstore

_HSTORE_PAIR = re.compile(
    r'\s*"((?:[^"\\]|\\.)*)"\s*=>\s*(?:(NULL)|"((?:[^"\\]|\\.)*)")\s*(,|$)', re.DOTALL
)
_HSTORE_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def parse_hstore(text: str) -> list[tuple[str, str | None]]:
    """hstore's output (``"k"=>"v", "n"=>NULL``) as pairs; ValueError when it is not."""
    pairs: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(text):
        match = _HSTORE_PAIR.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError("not hstore output")
        key = _HSTORE_UNESCAPE.sub(r"\1", match.group(1))
        value = None if match.group(2) else _HSTORE_UNESCAPE.sub(r"\1", match.group(3))
        pairs.append((key, value))
        pos = match.end()
    return pairs


def render_hstore(pairs: list[tuple[str, str | None]]) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ", ".join(f"{quoted(k)}=>{'NULL' if v is None else quoted(v)}" for k, v in pairs)


class HstoreValues(Container):
    """Values under matched keys (or all values, with ``everything``); keys stay."""

    def __init__(self, spec: str, column: str, rules: KeyRules) -> None:
        self.spec = spec
        self.column = column
        self.rules = rules

    def _matched(self, value: str) -> Iterator[tuple[str, str | None, Leaf | None]]:
        try:
            pairs = parse_hstore(value)
        except ValueError:
            raise self._refuse("a value is not hstore output") from None
        for key, item in pairs:
            pair = self.rules.match(key) or self.rules.everything
            yield key, item, pair[0] if pair else None

    def __call__(self, value: str) -> str | None:
        return render_hstore(
            [
                (key, item if leaf is None or item is None else leaf(item))
                for key, item, leaf in self._matched(value)
            ]
        )

    def units(self, value: str) -> Iterator[tuple[Leaf, str]]:
        for _, item, leaf in self._matched(value):
            if leaf is not None and item is not None:
                yield leaf, item

    def leaves(self) -> list[Leaf]:
        return self.rules.leaves()
