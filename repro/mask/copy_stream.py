"""COPY text in, COPY text out: the masked columns of each row rewritten on the way.

Rows arrive as COPY's text format in arbitrary chunks; a row never contains a raw newline
or tab (both are escaped), so lines and fields split exactly. Only masked fields are
unescaped, transformed and escaped again; NULL (``\\N``) always stays NULL. A table with
no masked column is passed through as bytes. Per column, NULLs and empty strings are
counted on the way, for the verification after the load.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from repro.gcpause import gc_paused
from repro.mask.containers import Container, leaves
from repro.mask.written import Written
from repro.pg.copy_out import copy_out

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


def copy_text(column: str) -> sql.Composed:
    """A column's values as COPY writes them (its type's output function), for queries
    whose values must match the copy's: ``inet::text`` adds ``/32`` and ``char(n)::text``
    drops the padding, which COPY does not."""
    return sql.SQL("pg_catalog.format('%s', {})").format(sql.Identifier(column))


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
    # str.translate with a mapping looks every character up in Python: ~15x the cost of
    # four C scans, and masked values almost never hold one of these characters.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_ESCAPES)
    return text


@dataclass
class Counts:
    """Per column: NULLs and empty strings seen, and rows."""

    rows: int = 0
    nulls: list[int] = field(default_factory=list)
    empties: list[int] = field(default_factory=list)


@dataclass
class Tracking:
    """For verification: digests of a masked column's source values, of the values the copy
    wrote in their place, and how many rows came out with their own value."""

    seen: set[int] = field(default_factory=set)
    unchanged: int = 0
    # False when ``seen`` is the spec's avoid set, filled before the copy with every source
    # value of the spec (see repro.mask.masks): nothing left to add while copying.
    collect: bool = True
    written: Written = field(default_factory=Written)


class LeafTracking:
    """:class:`Tracking` per leaf spec of a container column (the emails inside an array,
    the values under each key of a JSON document), matched leaf by leaf. It is the column's
    transform during the copy: masking and tracking walk each value once."""

    def __init__(self, transformer: Container) -> None:
        self.transformer = transformer
        self.by_spec: dict[str, Tracking] = {}

    def __call__(self, plain: str) -> str | None:
        new, masked = self.transformer.masked(plain)
        for leaf, before, after in masked:
            track = self.by_spec.get(leaf.spec)
            if track is None:
                track = self.by_spec[leaf.spec] = _tracking(leaf)
            if track.collect:
                track.seen.add(hash(before))
            if after == before and before and could_change(leaf, before):
                track.unchanged += 1
        return new


def could_change(transformer: Transform, value: str) -> bool:
    """Whether an output equal to ``value`` means the value was kept: not for a value with
    nothing to mask (``---`` under mask, an empty bytea)."""
    judge = getattr(transformer, "can_differ", None)
    return judge is None or bool(judge(value))


def tracking_for(transformer: Transform | Container) -> Tracking | LeafTracking:
    if isinstance(transformer, Container):
        return LeafTracking(transformer)
    return _tracking(leaves(transformer)[0])


def _tracking(leaf: object) -> Tracking:
    avoid = getattr(leaf, "avoid", None)
    return Tracking() if avoid is None else Tracking(seen=avoid, collect=False)


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


@contextlib.contextmanager
def column_values(conn: psycopg.Connection[Any], query: sql.Composable) -> Iterator[Iterator[str]]:
    """The values of the one column ``query`` selects (NULLs left out), read with ``COPY (query)
    TO STDOUT``: whole batches of rows, split and unescaped here, at a fraction of what a
    cursor costs per row. Nothing sits in memory beyond a batch.

    A context manager, not a bare generator: whatever stops the reading (Ctrl-C in the
    caller's loop, an error), the COPY is cancelled on the way out, before the transaction
    around it rolls back (a suspended generator would only close when collected)."""
    statement = sql.SQL("COPY ({}) TO STDOUT").format(query)
    with contextlib.closing(copy_out(conn, statement)) as batches:
        yield _unescaped(batches)


def _unescaped(batches: Iterable[bytes]) -> Iterator[str]:
    for lines in _lines(batches):
        for line in lines:
            if line != NULL:
                yield unescape(line)


def transform_rows(
    chunks: Iterable[bytes],
    width: int,
    transforms: dict[int, Transform],
    counts: Counts,
    *,
    tracking: Mapping[int, Tracking | LeafTracking] | None = None,
) -> Iterator[bytes]:
    """Rewrite the fields at ``transforms``' indexes, counting their NULLs and empties
    (before any change: what the target must keep) and, with ``tracking``, remembering
    the source values (as the process's salted string hashes: never the text).

    Column by column within a batch: each masked column's distinct values are transformed
    once (values repeat: names, cities, the rows of one order), and fields are moved by
    C-level list operations rather than one Python step per field."""
    counts.nulls = [0] * width
    counts.empties = [0] * width
    # a container column's tracking masks and tracks in one walk: it is the transform, and
    # it counts per call, so its values are not de-duplicated
    leafwise = {i: t for i, t in (tracking or {}).items() if isinstance(t, LeafTracking)}
    tracks = {i: t for i, t in (tracking or {}).items() if isinstance(t, Tracking)}
    combined: dict[int, Transform] = {**transforms, **leafwise}
    items = sorted(combined.items())
    nulls, empties = counts.nulls, counts.empties
    for lines in _lines(chunks):
        # A batch makes a list per row and a string per field, all freed by reference
        # counting; the cyclic collector would walk the heap every 700 of them (half the
        # time of splitting and joining). No yield in between: the caller's code runs with
        # the collector as it was.
        with gc_paused():
            columns = list(zip(*[line.split("\t") for line in lines], strict=True))
            for i, transform in items:
                column = columns[i]
                nulls[i] += column.count(NULL)
                empties[i] += column.count("")
                if i in leafwise:
                    columns[i] = tuple(map(_field_of(transform), column))
                    continue
                mapping = _masked_values(column, transform, tracks.get(i))
                columns[i] = tuple(map(mapping.__getitem__, column))
            counts.rows += len(lines)
            batch = ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode("utf-8")
        yield batch


def _field_of(transform: Transform) -> Callable[[str], str]:
    """One COPY field masked (NULL and empty kept)."""

    def field(value: str) -> str:
        if value == NULL or not value:
            return value
        new = transform(unescape(value))
        return NULL if new is None else escape(new)

    return field


def _masked_values(
    column: tuple[str, ...], transform: Transform, track: Tracking | None
) -> dict[str, str]:
    """Each distinct COPY field of a batch's column -> its masked field."""
    distinct = set(column)
    mapping = {NULL: NULL, "": ""}
    distinct.difference_update(mapping)
    values = list(distinct)
    plain = [unescape(v) if "\\" in v else v for v in values]
    many = getattr(transform, "many", None)
    outputs = many(plain) if many is not None else [transform(p) for p in plain]
    for value, before, new in zip(values, plain, outputs, strict=True):
        mapping[value] = NULL if new is None else escape(new)
        if new == before and track is not None and could_change(transform, before):
            track.unchanged += column.count(value)  # rows, not values: rare, so counted here
    if track is not None:
        if track.collect:
            track.seen.update(map(hash, plain))
        known = None if track.collect else track.seen  # an avoid set: complete already
        track.written.add([out for out in outputs if out], transform, known)
    return mapping
