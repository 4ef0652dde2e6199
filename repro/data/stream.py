"""COPY text in, COPY text out: the masked columns of each row rewritten on the way.

Rows arrive as COPY's text format in arbitrary chunks; a row never contains a raw newline
or tab (both are escaped), so lines and fields split exactly. Only masked fields are
unescaped, transformed and escaped again; NULL (``\\N``) always stays NULL. A table with
no masked column is passed through as bytes. Per column, NULLs and empty strings are
counted on the way, for the verification after the load.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

NULL = "\\N"
_UNESCAPES = {
    "\\\\": "\\",
    "\\t": "\t",
    "\\n": "\n",
    "\\r": "\r",
    "\\b": "\b",
    "\\f": "\f",
    "\\v": "\v",
}
_ESCAPE_RE = re.compile(r"\\(?:[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

Transform = Callable[[str], "str | None"]


def unescape(field_text: str) -> str:
    if "\\" not in field_text:
        return field_text

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _UNESCAPES:
            return _UNESCAPES[token]
        if token[1] == "x":
            return chr(int(token[2:], 16))
        if token[1].isdigit():
            return chr(int(token[1:], 8))
        return token[1]

    return _ESCAPE_RE.sub(one, field_text)


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


@dataclass
class Counts:
    """Per column: NULLs and empty strings seen, and rows."""

    rows: int = 0
    nulls: list[int] = field(default_factory=list)
    empties: list[int] = field(default_factory=list)


def _lines(chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """Whole lines from arbitrary chunks, a batch per chunk."""
    rest = b""
    for chunk in chunks:
        data = rest + bytes(chunk)
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1 :]
        yield data[:cut].decode("utf-8").split("\n")
    if rest:
        yield rest.decode("utf-8").split("\n")


def transform_rows(
    chunks: Iterable[bytes],
    width: int,
    transforms: dict[int, Transform],
    counts: Counts,
    *,
    count_columns: Iterable[int] = (),
) -> Iterator[bytes]:
    """Rewrite the fields at ``transforms``' indexes; count NULLs/empties of
    ``count_columns`` (indexes) before any change, which is what the target must keep."""
    counted = sorted(set(count_columns))
    counts.nulls = [0] * width
    counts.empties = [0] * width
    items = sorted(transforms.items())
    for lines in _lines(chunks):
        out = []
        for line in lines:
            fields = line.split("\t")
            for i in counted:
                value = fields[i]
                if value == NULL:
                    counts.nulls[i] += 1
                elif not value:
                    counts.empties[i] += 1
            for i, transform in items:
                value = fields[i]
                if value == NULL or not value:
                    continue  # NULL stays NULL, empty stays empty: data-shaped bugs survive
                new = transform(unescape(value))
                fields[i] = NULL if new is None else escape(new)
            out.append("\t".join(fields))
        counts.rows += len(out)
        yield ("\n".join(out) + "\n").encode("utf-8")


def count_only(
    chunks: Iterable[bytes], width: int, counts: Counts, columns: Iterable[int]
) -> Iterator[bytes]:
    """Pass-through with counting: for tables whose columns are all kept."""
    yield from transform_rows(chunks, width, {}, counts, count_columns=columns)
