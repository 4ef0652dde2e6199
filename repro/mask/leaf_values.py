"""The values inside sampled container values, for ``repro data scan``: the elements of
arrays, and the values under each key of JSON documents and hstores. Bounded: a sample of
hostile documents costs at most a few thousand values a column."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from repro.mask.containers import parse_array, parse_hstore

MAX_ELEMENTS = 5000  # elements kept from a column's sampled arrays
MAX_KEYS = 200  # distinct keys kept from a column's sampled documents
MAX_VALUES_PER_KEY = 500
MAX_DEPTH = 32  # deeper parts of a document are not looked at


def array_elements(texts: Iterable[str]) -> list[str]:
    """The non-NULL elements of array values (values that do not parse are skipped)."""
    out: list[str] = []
    for text in texts:
        try:
            _, items = parse_array(text)
        except ValueError:
            continue
        stack: list[Any] = [items]
        while stack and len(out) < MAX_ELEMENTS:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif item is not None:
                out.append(item)
    return out


class _Values:
    def __init__(self) -> None:
        self.by_key: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}  # lower-case key -> as first seen

    def add(self, key: str, value: str) -> None:
        name = self._names.get(key.lower())
        if name is None:
            if len(self._names) >= MAX_KEYS:
                return
            name = self._names[key.lower()] = key
        values = self.by_key.setdefault(name, [])
        if len(values) < MAX_VALUES_PER_KEY:
            values.append(value)


def values_by_key(texts: Iterable[str], kind: str) -> dict[str, list[str]]:
    """Per key (keys differing only in case are one), the strings and numbers under it at
    any depth: in a nested object, under the nearest key. ``kind``: "json" or "hstore"."""
    found = _Values()
    for text in texts:
        if kind == "hstore":
            try:
                pairs = parse_hstore(text)
            except ValueError:
                continue
            for key, value in pairs:
                if value is not None:
                    found.add(key, value)
            continue
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            continue
        _walk(document, None, 0, found)
    return found.by_key


def _walk(node: Any, key: str | None, depth: int, found: _Values) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, dict):
        for name, value in node.items():
            _walk(value, str(name), depth + 1, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, key, depth + 1, found)
    elif key is not None and node is not None and not isinstance(node, bool):
        found.add(key, str(node))


def glob_escape(key: str) -> str:
    """A key as a pattern of ``keys:`` that matches only that key (any case)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in key)
