"""Value spaces rendered a column at a time into :class:`~repro.synth.cells.Cells`.

``cells_of(space, ks)`` holds the same texts as ``space.texts(ks)``, built by numpy: numbers
as digit matrices, dates and times through numpy's own datetime formatting, listed values
and name parts as lookup tables. Spaces (or values) without such a path go through their
row-wise renderer, so every space works and the common ones are fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from repro.pg import meaning as meanings
from repro.synth.cells import Bytes2D, Cells, concat, merge
from repro.synth.value_spaces import Floats, Ints, Listed, Ordered, Space, Text, Uuid, mix64


def cells_of(space: Space, ks: Ints) -> Cells:
    """``space.texts(ks)`` as cells."""
    if isinstance(space, Ordered):
        return ordered_cells(space, space.numbers(ks))
    if isinstance(space, Listed):
        return table_of(tuple(space.values)).take(ks % max(len(space.values), 1))
    if isinstance(space, Text):
        made = text_cells(space, ks)
        if made is not None:
            return made
    if isinstance(space, Uuid):
        return uuid_cells(space, ks)
    return Cells.of_texts(space.texts(ks))


@lru_cache(maxsize=256)
def table_of(values: tuple[str, ...]) -> Cells:
    """A lookup table: value i in row i (taken by index)."""
    return Cells.of_texts(values)


# ---------------------------------------------------------------- ordered kinds


def ordered_cells(space: Ordered, values: Floats) -> Cells:
    """``space.render(values)`` as cells."""
    kind = space.kind
    if kind == "code":
        assert space.code is not None
        digits = Cells.of_ints(values.astype(np.int64), pad=space.code.width)
        prefix = space.code.prefix
        return concat([Cells.constant(prefix, len(values)), digits]) if prefix else digits
    if kind == "int":
        return Cells.of_ints(values.astype(np.int64))
    if kind == "numeric":
        if space.scale <= 0:
            return Cells.of_ints(np.round(values).astype(np.int64))
        return fixed_point(space, values)
    if kind == "date":
        return _calendar(values.astype(np.int64), None)
    if kind in ("timestamp", "timestamptz"):
        seconds = np.round(values).astype(np.int64)
        return _calendar(seconds // 86400, seconds % 86400)
    if kind == "time":
        return _clock(values.astype(np.int64))
    if kind == "interval":
        whole = Cells.of_ints(np.round(values).astype(np.int64))
        return concat([whole, Cells.constant(" seconds", len(values))])
    return Cells.of_texts(space.render(values))  # float: Python's shortest repr


def fixed_point(space: Ordered, values: Floats) -> Cells:
    """``f"{v:.{scale}f}"``: the value scaled to an integer and printed with a point.
    Python rounds the exact binary value half to even; the scaled float can sit on the
    other side of a half than the exact value, so values that close to a half (and any
    that do not fit 62 bits) are printed by Python itself."""
    scale = space.scale
    scaled = values * float(10**scale)
    rounded = np.rint(scaled)
    half = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5)
    python = ~np.isfinite(scaled) | (np.abs(scaled) >= 2.0**62)
    python |= half <= 8 * np.abs(np.spacing(scaled))
    python_rows = np.flatnonzero(python)
    fast_rows = np.flatnonzero(~python)
    magnitude = np.abs(rounded[fast_rows]).astype(np.uint64)
    unit = np.uint64(10**scale)
    negative = np.signbit(values[fast_rows])
    n = len(fast_rows)
    parts = [
        Cells.of(np.where(negative, 45, 0).astype(np.uint8)[:, None]),
        Cells.of_uints(magnitude // unit),
        Cells.constant(".", n),
        Cells.of_uints(magnitude % unit, pad=scale),
    ]
    fast = concat(parts)
    if not len(python_rows):
        return fast
    slow = Cells.of_texts([f"{v:.{scale}f}" for v in values[python_rows].tolist()])
    return merge(len(values), [(fast_rows, fast), (python_rows, slow)])


def _digits(data: Bytes2D, at: int, width: int, values: Ints) -> None:
    """``values`` zero-padded to ``width`` digits into columns [at, at + width)."""
    for p in range(width - 1, -1, -1):
        data[:, at + p] = (values % 10).astype(np.uint8) + 48
        values = values // 10


def _clock(seconds: Ints) -> Cells:
    """``HH:MM:SS`` (hours modulo 24), as ``Ordered.render`` writes times."""
    data = np.full((len(seconds), 8), 58, dtype=np.uint8)  # ':'
    _digits(data, 0, 2, seconds // 3600 % 24)
    _digits(data, 3, 2, seconds // 60 % 60)
    _digits(data, 6, 2, seconds % 60)
    return Cells.of(data)


def _calendar(days: Ints, seconds: Ints | None) -> Cells:
    """numpy's ISO text of days since 1970 (``YYYY-MM-DD``), with ``THH:MM:SS`` for
    ``seconds`` into the day: the civil date by Howard Hinnant's days-to-date arithmetic.
    Years outside 1..9999 are written by numpy itself (a sign, five digits)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    if len(days) and (int(year.min()) < 1 or int(year.max()) > 9999):
        if seconds is None:
            text = np.datetime_as_string(days.astype("datetime64[D]"))
        else:
            text = np.datetime_as_string((days * 86400 + seconds).astype("datetime64[s]"))
        return Cells.of_texts(text.tolist())
    width = 10 if seconds is None else 19
    data = np.full((len(days), width), 45, dtype=np.uint8)  # '-'
    _digits(data, 0, 4, year)
    _digits(data, 5, 2, month)
    _digits(data, 8, 2, day)
    if seconds is not None:
        data[:, 10] = 84  # 'T'
        data[:, 13] = data[:, 16] = 58  # ':'
        _digits(data, 11, 2, seconds // 3600)
        _digits(data, 14, 2, seconds // 60 % 60)
        _digits(data, 17, 2, seconds % 60)
    return Cells.of(data)


# ---------------------------------------------------------------- text by meaning

_NAME_MEANINGS = frozenset({"full_name", "email", "username"})


def text_cells(space: Text, ks: Ints) -> Cells | None:
    """``Text.texts`` as cells, or None for what only Python renders (padded plain text)."""
    limit = space.max_length
    if limit is not None and limit < 12:
        return _base36(ks, limit if space.fixed else 1)
    meaning, offset = space.meaning, space.offset
    if meaning is None and space.width and space.width > 12:
        return None
    made = meaning_cells(meaning, ks.astype(np.int64) + offset)
    if made is None:
        return None
    if limit is not None:
        if not made[1]:
            return None  # non-ASCII values are cut by characters: Python's way
        return made[0].cut(limit)
    return made[0]


def meaning_cells(meaning: str | None, k: Ints) -> tuple[Cells, bool] | None:
    """``text_value(meaning, k, 0)`` for every k, and whether every value is ASCII."""
    if meaning in _NAME_MEANINGS:
        return _names(meaning, k), _ascii(meanings.FIRST_NAMES, meanings.LAST_NAMES)
    if meaning == "phone":
        return _phone(k), True
    if meaning in ("first_name", "last_name"):
        pool = meanings.FIRST_NAMES if meaning == "first_name" else meanings.LAST_NAMES
        return _pooled(meaning, len(pool), k), _ascii(pool)
    if meaning in ("url", "domain", "ip"):
        return None  # Python's
    if meaning is not None and meaning in meanings.POOL_MEANINGS:
        pool = meanings.base_pool(meaning)
        return _pooled(meaning, len(pool), k), _ascii(pool)
    if meaning is None:
        return _words(k), _ascii(meanings.WORDS)
    return _pooled(None, len(meanings.WORDS), k), _ascii(meanings.WORDS)


@lru_cache(maxsize=64)
def _ascii_pool(pool: tuple[str, ...]) -> bool:
    return "".join(pool).isascii()


def _ascii(*pools: Sequence[str]) -> bool:
    return all(_ascii_pool(tuple(pool)) for pool in pools)


def _suffix(numbers: Ints, joiner: str) -> Cells:
    """``joiner + str(w)`` where w > 0, nothing where w == 0."""
    n = len(numbers)
    if not numbers.any():
        return Cells.empty(n)
    some = np.flatnonzero(numbers > 0)
    tail = concat(
        [Cells.constant(joiner, len(some)), Cells.of_ints(numbers[some])]
        if joiner
        else [Cells.of_ints(numbers[some])]
    )
    return merge(n, [(some, tail)])


def _pooled(meaning: str | None, size: int, k: Ints) -> Cells:
    """``pool[k % size]`` of a meaning's pool, numbered (" 2") past the pool's end."""
    wrapped, index = np.divmod(k, size)
    return concat([_pool_table(meaning).take(index), _suffix(wrapped, " ")])


def _words(k: Ints) -> Cells:
    """Plain text (no meaning): a word, two words past the list, then numbered."""
    words = meanings.WORDS
    size = len(words)
    wrapped, index = np.divmod(k, size)
    table = _pool_table(None)
    first = table.take(index)
    if not wrapped.any():
        return first
    more = np.flatnonzero(wrapped > 0)
    extra_index = (wrapped[more] - 1) % size
    number = (wrapped[more] - 1) // size
    second = concat([Cells.constant(" ", len(more)), table.take(extra_index), _suffix(number, " ")])
    return concat([first, merge(len(k), [(more, second)])])


@lru_cache(maxsize=8)
def _name_tables(lower: bool) -> tuple[Cells, Cells]:
    firsts, lasts = meanings.FIRST_NAMES, meanings.LAST_NAMES
    if lower:
        firsts, lasts = tuple(n.lower() for n in firsts), tuple(n.lower() for n in lasts)
    return Cells.of_texts(firsts), Cells.of_texts(lasts)


@lru_cache(maxsize=64)
def _pool_table(meaning: str | None) -> Cells:
    """The table of a meaning's pool (None: plain words)."""
    if meaning is None:
        return Cells.of_texts(meanings.WORDS)
    if meaning == "first_name":
        return _name_tables(False)[0]
    if meaning == "last_name":
        return _name_tables(False)[1]
    return Cells.of_texts(meanings.base_pool(meaning))


def _names(meaning: str, k: Ints) -> Cells:
    first_count, last_count = len(meanings.FIRST_NAMES), len(meanings.LAST_NAMES)
    pair = k % (first_count * last_count)
    firsts = pair % first_count
    lasts = (pair // first_count + pair) % last_count
    wrapped = k // (first_count * last_count)
    n = len(k)
    first_table, last_table = _name_tables(meaning != "full_name")
    if meaning == "full_name":
        return concat(
            [
                first_table.take(firsts),
                Cells.constant(" ", n),
                last_table.take(lasts),
                _suffix(wrapped, " "),
            ]
        )
    parts = [
        first_table.take(firsts),
        Cells.constant("_" if meaning == "username" else ".", n),
        last_table.take(lasts),
        _suffix(wrapped, ""),
    ]
    if meaning == "email":
        parts += [Cells.constant("@example.", n), _DOMAINS.take(k % 3)]
    return concat(parts)


_DOMAINS = Cells.of_texts(("com", "net", "org"))


def _phone(k: Ints) -> Cells:
    n = len(k)
    parts = [
        Cells.constant("+1-555-", n),
        Cells.of_ints(k // 10000 % 1000, pad=3),
        Cells.constant("-", n),
        Cells.of_ints(k % 10000, pad=4),
        _suffix(k // 10_000_000, " x"),
    ]
    return concat(parts)


_BASE36 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)


def _base36(ks: Ints, pad: int) -> Cells:
    """Base-36 codes (capital letters), zero-padded to ``pad`` digits."""
    values = ks.astype(np.int64)
    count = np.ones(len(values), dtype=np.int64)
    power = 36
    while power <= int(values.max(initial=0)):
        count += values >= power
        power *= 36
    count = np.maximum(count, pad)
    width = int(count.max(initial=1))
    data = np.zeros((len(values), width), dtype=np.uint8)
    for p in range(width):
        exponent = count - 1 - p
        digit = (values // (36 ** np.clip(exponent, 0, 12))) % 36
        data[:, p] = np.where(exponent >= 0, _BASE36[digit], 0)
    return Cells.of(data)


# ---------------------------------------------------------------- uuids

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuid_cells(space: Uuid, ks: Ints) -> Cells:
    """``Uuid.texts``: the same two mixed halves, written as hex digits by numpy."""
    high = mix64(ks, space.salt)
    low = mix64(ks, space.salt + 1) & np.uint64(0xFFFFFFFFFFFF0FFF) | np.uint64(0x4000)
    raw = np.stack([high, low], axis=1).astype(">u8").view(np.uint8).reshape(len(ks), 16)
    digits = np.empty((len(ks), 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    data = np.full((len(ks), 36), 45, dtype=np.uint8)  # '-'
    for start, end, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        data[:, at : at + end - start] = digits[:, start:end]
    return Cells.of(data)
