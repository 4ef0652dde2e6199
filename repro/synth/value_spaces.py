"""Value spaces: the distinct values a column can take, numbered 0, 1, 2...

A column plan picks *which* value each row gets (statistics decide); a space says what value
number k *is*, as COPY text. Distinct k give distinct values (up to ``size``), so unique
columns are unique by construction, and the same k always gives the same text, so a child
row can compute its parent's key without reading it back.

Ordered spaces (numbers, dates, times) hold their values as numbers (days, seconds...) in
ascending order, spread over the captured histogram, so quantiles, range checks and
column-to-column comparisons work on numbers before anything is rendered.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from repro.pg import meaning as meanings
from repro.pg.types import TypeInfo

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

NULL = "\\N"
# Precompute a space's values when it has at most this many (fancy indexing beats formatting).
PRECOMPUTE_LIMIT = 2_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(text: str) -> str:
    """COPY's text format: backslash, tab, newline and CR are escaped."""
    return text.translate(_COPY_ESCAPES)


class Space(Protocol):
    @property
    def size(self) -> int | None:
        """How many distinct values exist (None: more than anyone asks for)."""
        ...

    def texts(self, ks: Ints) -> list[str]:
        """COPY text of values number ``ks``."""
        ...


# ---------------------------------------------------------------- ordered kinds: conversions


def _parse_datetime(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip().replace(" BC", ""))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _parse_time(text: str) -> float | None:
    try:
        parsed = time.fromisoformat(text.strip()[:15])
    except ValueError:
        return None
    return parsed.hour * 3600 + parsed.minute * 60 + parsed.second + parsed.microsecond / 1e6


def _parse_interval(text: str) -> float | None:
    """PostgreSQL's default interval output: '1 day 02:03:04', '3 mons', '00:00:05'."""
    units = {
        "year": 365.25 * 86400,
        "mon": 30 * 86400,
        "day": 86400,
        "hour": 3600,
        "min": 60,
        "sec": 1,
    }
    total = 0.0
    parts = text.replace("years", "year").replace("mons", "mon").replace("days", "day").split()
    i = 0
    try:
        while i < len(parts):
            token = parts[i]
            if ":" in token:
                sign = -1 if token.startswith("-") else 1
                h, m, s = (abs(float(x)) for x in token.lstrip("+-").split(":"))
                total += sign * (h * 3600 + m * 60 + s)
                i += 1
            else:
                unit = parts[i + 1].rstrip("s") if i + 1 < len(parts) else "sec"
                total += float(token) * units.get(unit, 1)
                i += 2
    except (ValueError, IndexError):
        return None
    return total


@dataclass(frozen=True)
class Code:
    """Text values that are a fixed prefix and a number (``SKU-0042``, ``INV2024001``): such
    columns are generated as numbers spread over production's histogram and rendered back,
    so the codes a captured request names (``SKU-0001``) exist in the sandbox too."""

    prefix: str
    width: int  # zero-padded digits (0: no padding)

    def number(self, text: str) -> float | None:
        if not text.startswith(self.prefix):
            return None
        digits = text[len(self.prefix) :]
        return float(int(digits)) if digits.isascii() and digits.isdigit() else None


_CODE_RE = re.compile(r"^(\D*?)(\d{1,15})$")


def code_of(values: Sequence[Any]) -> Code | None:
    """The common code shape of histogram bounds, or None when they are not all one
    prefix + digits (names, emails, free text)."""
    if len(values) < 2 or not all(isinstance(v, str) for v in values):
        return None
    matches = [_CODE_RE.match(v) for v in values]
    if not all(matches):
        return None
    prefixes = {m.group(1) for m in matches if m}
    widths = {len(m.group(2)) for m in matches if m}
    if len(prefixes) != 1:
        return None
    padded = len(widths) == 1 and any(m.group(2).startswith("0") for m in matches if m)
    return Code(prefixes.pop(), widths.pop() if padded else 0)


@dataclass
class Ordered:
    """An ordered space: ``size`` values at the quantiles of ``bounds`` (ascending numbers),
    at least ``unit`` apart, rendered by ``kind``."""

    kind: str  # int | numeric | float | date | time | timestamp | timestamptz | interval | code
    bounds: list[float]
    unit: float
    size: int | None  # grid points between the bounds: the most distinct values possible
    scale: int = 0  # numeric digits after the point
    count: int | None = None  # how many values to spread over the bounds (default: size)
    code: Code | None = None  # kind "code": text codes like SKU-0042, numbered in order
    _cache: Floats | None = field(default=None, repr=False)

    def numbers(self, ks: Ints) -> Floats:
        if self._cache is not None:
            return self._cache[ks]
        return self._positions(ks.astype(np.float64))

    def _positions(self, ks: Floats) -> Floats:
        """Value k sits at quantile (k + 0.5) / size of the histogram, snapped to the unit
        grid; when that would make neighbours equal they are spaced a unit apart instead."""
        lo, hi = self.bounds[0], self.bounds[-1]
        count = self.count or self.size or max(int((hi - lo) / self.unit) + 1, 1)
        if count <= 1 or hi <= lo:
            return lo + ks * self.unit
        q = (ks + 0.5) / count
        xp = np.linspace(0.0, 1.0, len(self.bounds))
        values = np.interp(q, xp, np.asarray(self.bounds, dtype=np.float64))
        return np.round((values - lo) / self.unit) * self.unit + lo

    def spread(self, count: int, avoid: Sequence[float] = ()) -> None:
        """Spread ``count`` values over the bounds, precomputed once when that is cheap,
        strictly ascending (a unit apart at least, so they stay distinct) and none of
        them one of ``avoid`` (the most common values, which are counted apart)."""
        wanted = count
        count = count + len(avoid) if self.size is None else min(count + len(avoid), self.size)
        self.count = max(count, 1)
        if count > PRECOMPUTE_LIMIT or count <= 0:
            return
        ks = np.arange(count, dtype=np.float64)
        values = self._positions(ks)
        lo = self.bounds[0]
        steps = np.round((values - lo) / self.unit).astype(np.int64)
        # strictly increasing grid positions: position_k >= position_{k-1} + 1
        steps = np.maximum.accumulate(steps - np.arange(count)) + np.arange(count)
        if self.size is not None and count <= self.size:
            # ...and never past the top bound: the last values a unit apart below it
            top = self.size - 1
            steps = np.minimum(steps, top - (count - 1 - np.arange(count)))
        cache = lo + steps.astype(np.float64) * self.unit
        if len(avoid):
            keep = ~np.isin(cache, np.asarray(avoid, dtype=np.float64))
            if keep.sum() >= wanted:
                # drop the clashes, then thin out evenly to exactly ``wanted`` values
                kept = cache[keep]
                cache = kept[np.linspace(0, len(kept) - 1, wanted).round().astype(np.int64)]
        self._cache = cache

    def numbers_beyond(self, ks: Ints) -> Floats:
        """Values past the spread ones (stand-ins for fingerprinted MCVs): above the top."""
        top = float(self.bounds[-1])
        return top + (ks.astype(np.float64) + 1) * self.unit

    def texts(self, ks: Ints) -> list[str]:
        return self.render(self.numbers(ks))

    def render(self, values: Floats) -> list[str]:
        kind = self.kind
        if kind == "code":
            assert self.code is not None
            prefix, width = self.code.prefix, self.code.width
            return [prefix + str(v).zfill(width) for v in values.astype(np.int64).tolist()]
        if kind == "int":
            return list(map(str, values.astype(np.int64).tolist()))
        if kind == "numeric":
            if self.scale <= 0:
                return list(map(str, np.round(values).astype(np.int64).tolist()))
            return [f"{v:.{self.scale}f}" for v in values.tolist()]
        if kind == "float":
            return list(map(repr, values.tolist()))
        if kind == "date":
            days = values.astype(np.int64).astype("datetime64[D]")
            return list(np.datetime_as_string(days).tolist())
        if kind in ("timestamp", "timestamptz"):
            seconds = np.round(values).astype(np.int64).astype("datetime64[s]")
            # timestamptz too: the loading session's time zone is UTC
            return list(np.datetime_as_string(seconds).tolist())
        if kind == "time":
            return [
                f"{int(v) // 3600 % 24:02d}:{int(v) // 60 % 60:02d}:{int(v) % 60:02d}"
                for v in values.tolist()
            ]
        return [f"{round(v)} seconds" for v in values.tolist()]  # interval

    def parse(self, text: str) -> float | None:
        kind = self.kind
        if kind == "code":
            assert self.code is not None
            return self.code.number(text)
        if kind in ("int", "numeric", "float"):
            try:
                number = float(Decimal(text.strip().replace("$", "").replace(",", "")))
            except (InvalidOperation, ValueError):
                return None
            return number if math.isfinite(number) else None
        if kind == "date":
            parsed = _parse_datetime(text)
            return None if parsed is None else float((parsed - _EPOCH).days)
        if kind in ("timestamp", "timestamptz"):
            parsed = _parse_datetime(text)
            return None if parsed is None else (parsed - _EPOCH).total_seconds()
        if kind == "time":
            return _parse_time(text)
        return _parse_interval(text)


# Defaults when a column has no histogram: a plausible range for its kind.
_TODAY = (date(2026, 1, 1) - date(1970, 1, 1)).days


_BIRTH = frozenset({"birth", "birthday", "birthdate", "dob", "born"})


def default_bounds(kind: str, name_tokens: Sequence[str] = ()) -> list[float]:
    """A plausible range for a column without a histogram (none captured, or a personal
    column's left out)."""
    if kind in ("date", "timestamp", "timestamptz") and _BIRTH & set(name_tokens):
        days = [
            float((date(1950, 1, 1) - date(1970, 1, 1)).days),
            float((date(2006, 1, 1) - date(1970, 1, 1)).days),
        ]
        return days if kind == "date" else [d * 86400 for d in days]
    if kind == "date":
        return [float(_TODAY - 3 * 365), float(_TODAY)]
    if kind in ("timestamp", "timestamptz"):
        return [float((_TODAY - 3 * 365) * 86400), float(_TODAY * 86400)]
    if kind == "time":
        return [0.0, 86399.0]
    if kind == "interval":
        return [0.0, 7 * 86400.0]
    if kind == "float":
        return [0.0, 1000.0]
    return [1.0, 1000.0]


def unit_of(info: TypeInfo) -> float:
    if info.kind == "numeric":
        return 10.0 ** -(info.scale if info.scale is not None else 2)
    if info.kind == "float":
        return 1e-3
    if info.kind == "date":
        return 1.0
    return 1.0  # ints, seconds for times


# ---------------------------------------------------------------- unordered kinds


@dataclass
class Listed:
    """A fixed list of values (enum labels, booleans, IN-list checks, country codes)."""

    values: Sequence[str]

    @property
    def size(self) -> int:
        return len(self.values)

    def texts(self, ks: Ints) -> list[str]:
        values = self.values
        return [values[k] for k in (ks % max(len(values), 1)).tolist()]


@dataclass
class Text:
    """Text by meaning, cut to the column's length; short columns get compact codes so
    that cutting never makes two values equal."""

    meaning: str | None
    offset: int
    max_length: int | None
    width: int | None  # target average length for meaningless text (pg_stats avg_width)
    fixed: bool = False  # char(n): PostgreSQL pads; we give full-length codes

    @property
    def size(self) -> int | None:
        if self.max_length is not None and self.max_length < 12:
            return int(36**self.max_length)
        return None

    def texts(self, ks: Ints) -> list[str]:
        limit = self.max_length
        if limit is not None and limit < 12:
            return [_base36(k, limit if self.fixed else 0) for k in ks.tolist()]
        meaning, offset = self.meaning, self.offset
        if meaning is None and self.width and self.width > 12:
            out = [meanings.padded_text(k + offset, self.width) for k in ks.tolist()]
        else:
            fast = meanings.text_values(meaning, ks, offset)
            out = (
                fast
                if fast is not None
                else [meanings.text_value(meaning, k, offset) for k in ks.tolist()]
            )
        if limit is not None:
            # keep the distinguishing end (the suffix) when a value is too long
            out = [
                t if len(t) <= limit else t[: limit // 2] + t[len(t) - (limit - limit // 2) :]
                for t in out
            ]
        return out


def _base36(k: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        k, r = divmod(k, 36)
        out = digits[r] + out
        if k == 0:
            break
    return out.rjust(width, "0") if width else out


def _mix(k: int, salt: int) -> int:
    """A 64-bit bijective mix (splitmix64's finaliser): random-looking, never colliding."""
    z = (k + salt * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def mix64(ks: Ints, salt: int) -> npt.NDArray[np.uint64]:
    """:func:`_mix` of every k at once (the same numbers)."""
    with np.errstate(over="ignore"):
        z = ks.astype(np.uint64) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@dataclass
class Uuid:
    salt: int
    size: int | None = None

    def texts(self, ks: Ints) -> list[str]:
        # the first half is a bijection of k: distinct k, distinct uuid
        high = mix64(ks, self.salt)
        low = mix64(ks, self.salt + 1) & np.uint64(0xFFFFFFFFFFFF0FFF) | np.uint64(0x4000)
        # one hex string for all of them (numpy writes the bytes), cut 32 digits a value
        digits = np.stack([high, low], axis=1).astype(">u8").tobytes().hex()
        return [
            f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
            for h in (digits[i : i + 32] for i in range(0, len(digits), 32))
        ]


@dataclass
class Structured:
    """Types whose text form we build from k: json, bytea, inet, macaddr, tsvector..."""

    kind: str
    base: str
    offset: int
    size: int | None = None
    shape: str | None = None  # json: what jsonb_typeof must say (a CHECK asks); None: object

    def texts(self, ks: Ints) -> list[str]:
        make = getattr(self, "_" + self.kind)
        return [make(k + self.offset) for k in ks.tolist()]

    def _json(self, k: int) -> str:
        word = meanings.WORDS[k % len(meanings.WORDS)]
        value: Any = {"id": k, "kind": word, "active": k % 3 != 0}
        if self.shape == "array":
            value = [value]
        elif self.shape == "string":
            value = f"{word}-{k}"
        elif self.shape == "number":
            value = k
        elif self.shape == "boolean":
            value = k % 2 == 0
        elif self.shape == "null":
            value = None
        return copy_escape(json.dumps(value))

    def _bytea(self, k: int) -> str:
        return "\\\\x" + f"{_mix(k, 7):016x}{k:08x}"

    def _inet(self, k: int) -> str:
        groups = f"{k >> 32 & 0xFFFF:x}:{k >> 16 & 0xFFFF:x}:{k & 0xFFFF:x}"
        if self.base == "cidr":
            # a network address: host bits zero
            return f"10.{k >> 8 & 255}.{k & 255}.0/24" if k < 1 << 16 else f"fd00:{groups}::/64"
        return f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}" if k < 1 << 24 else f"fd00::{groups}"

    def _macaddr(self, k: int) -> str:
        h = f"{0x020000000000 | (k & 0xFFFFFFFFFF):012x}"
        return ":".join(h[i : i + 2] for i in range(0, 12, 2))

    def _tsvector(self, k: int) -> str:
        words = meanings.WORDS
        return " ".join(sorted({f"'{words[(k * p) % len(words)]}'" for p in (1, 7, 31)}))

    def _hstore(self, k: int) -> str:
        return f'"kind"=>"{meanings.WORDS[k % len(meanings.WORDS)]}", "n"=>"{k}"'

    def _xml(self, k: int) -> str:
        return f'<item id="{k}">{meanings.WORDS[k % len(meanings.WORDS)]}</item>'

    def _point(self, k: int) -> str:
        return f"({k % 1000},{k // 1000})"

    def _range(self, k: int) -> str:
        if self.base == "daterange":
            start = date(2020, 1, 1) + timedelta(days=k % 3000)
            return f"[{start},{start + timedelta(days=1 + k % 30)})"
        if self.base in ("tsrange", "tstzrange"):
            start = datetime(2020, 1, 1) + timedelta(minutes=k)
            return f'["{start}","{start + timedelta(hours=1)}")'
        return f"[{k},{k + 1 + k % 10})"


@dataclass
class Array:
    """Arrays of 0-3 elements of another space's values; distinct k, distinct arrays."""

    element: Any  # a Space
    size: int | None = None

    def texts(self, ks: Ints) -> list[str]:
        out = []
        for k in ks.tolist():
            # the first element is value k itself: distinct k, distinct arrays
            count = 1 + k % 3
            members = np.array([k + i * 7919 for i in range(count)], dtype=np.int64)
            items = self.element.texts(members)
            quoted = ['"' + i.replace("\\\\", "\\").replace('"', '\\\\"') + '"' for i in items]
            out.append("{" + ",".join(quoted) + "}")
        return out
