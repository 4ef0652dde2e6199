"""Keyed, deterministic, shape-preserving transformers for ``repro data anonymize``.

Every output is derived from HMAC-SHA256(key, f"{kind}\\x1f{value}"): the same value gives
the same output in every column using the same kind (natural-key joins survive), across runs
with the same key; another key gives other outputs. The column name is never mixed in, for
the same reason. A retry counter (for columns under a unique constraint, see
:class:`repro.mask.unique_mapping.UniqueMapping`) changes the message to
f"{kind}\\x1e{attempt}\\x1f{value}"; a re-derivation within an attempt (an output equal to
its input, or to a source value to avoid) to f"{kind}\\x1e{attempt}.{n}\\x1f{value}". The set of
source values to avoid is part of the input: the same data and key give the same copy.

Transformers see PostgreSQL's text output of non-NULL values only; NULL stays NULL and the
empty string stays empty (except for ``constant`` and ``null``), so data-shaped bugs survive.
Arrays, JSON and hstore values are taken apart by :mod:`repro.mask.containers`, whose leaves
these transformers mask.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Protocol, TypeVar, cast

from repro.errors import DataGenerationError, UsageError
from repro.mask import containers
from repro.mask.mask_block import DIGEST_SIZE, masked_block
from repro.mask.specs import (
    IDENTIFYING_MASKED_CHARS,
    MEANING_KINDS,
    Spec,
    leak_class,
    parse_spec,
)
from repro.pg.meaning import FIRST_NAMES, LAST_NAMES, base_pool, country_codes, text_value
from repro.pg.types import INT_RANGES, TypeInfo, resolve_type

MAX_RETRIES = 50
# Re-derivations of an output equal to its own input, or to a source value of the same spec
AVOID_RETRIES = 16
_CACHE_SIZE = 1 << 16
# Fewer values than this are masked one by one: a numpy block costs more than it saves.
_BLOCK_MIN = 16


class Transformer(Protocol):
    spec: str

    def __call__(self, value: str) -> str | None: ...


# ------------------------------------------------------------------------------ keyed HMAC


class _Hmac:
    """HMAC-SHA256 with the key and the kind prefix hashed once (hmac.digest costs ~3x)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, kind: str) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        block = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block) + kind.encode())
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, value: str, attempt: int | str = 0) -> bytes:
        inner = self._inner.copy()
        inner.update(f"\x1e{attempt}\x1f{value}".encode() if attempt else ("\x1f" + value).encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def many(self, values: list[str]) -> list[bytes]:
        """``[self(v) for v in values]`` (first attempts), without a call per value."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out = []
        for value in values:
            inner = inner_copy()
            inner.update(("\x1f" + value).encode())
            outer = outer_copy()
            outer.update(inner.digest())
            out.append(outer.digest())
        return out


def _by_length(values: list[str]) -> dict[int, list[int]]:
    """Places of the ASCII values of 1 to 32 characters, by length (what one HMAC-SHA256
    digest covers, so a block of them masks at once)."""
    lengths = list(map(len, values))
    if not lengths:
        return {}
    low, high = min(lengths), max(lengths)
    if low == high and 0 < low <= DIGEST_SIZE and "".join(values).isascii():
        return {low: list(range(len(values)))}  # the common case: phones, codes
    by_length: dict[int, list[int]] = {}
    for k, value in enumerate(values):
        if 0 < lengths[k] <= DIGEST_SIZE and value.isascii():
            by_length.setdefault(lengths[k], []).append(k)
    return by_length


def _stream(digest: bytes, length: int) -> bytes:
    """At least ``length`` keyed bytes (one digest covers 32 characters)."""
    if length <= len(digest):
        return digest
    blocks = [digest]
    for i in range(1, length // 32 + 1):
        blocks.append(hashlib.sha256(digest + i.to_bytes(4, "big")).digest())
    return b"".join(blocks)


def _table(alphabet: str) -> str:
    return "".join(alphabet[b % len(alphabet)] for b in range(256))


_DIG = _table("0123456789")
_NZ = _table("123456789")
_LOW = _table("abcdefghijklmnopqrstuvwxyz")
_UP = _table("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")


# ------------------------------------------------------------------------------ transformers


class _Base:
    """Caches recent outputs (values repeat) and offers :meth:`derive` for retries.

    An output equal to the value itself, or (``avoid``: salted hashes of every source value
    masked with the same spec, filled before the copy) to another source value that
    identifies someone, is re-derived: no row keeps its own value, and no identifying
    source value turns up in another row of the copy."""

    rederivable = True
    avoids = True  # re-derives outputs that would keep or reveal a source value
    # Whether outputs may plausibly equal source values: not when they are drawn from 2^64
    # or more (a full hash, a uuid), so their source values need not be read beforehand.
    small_space = True
    # Whether :meth:`identifying` depends on the value (the verification judges each written
    # value only then; see repro.mask.written).
    judges_by_value = False

    def __init__(self, spec: str, column: str) -> None:
        self.spec = spec
        self.column = column
        self.leak = leak_class(spec)
        self.avoid: set[int] | None = None
        self._cache: dict[str, str | None] = {}

    def __call__(self, value: str) -> str | None:
        cache = self._cache
        out = cache.get(value)
        if out is not None:  # (None only comes from "null", which has its own __call__)
            return out
        out = self.derive(value, 0)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[value] = out
        return out

    def many(self, values: list[str]) -> list[str | None]:
        """``[self(v) for v in values]``, with what is not cached derived together (see
        :meth:`_derive_many`)."""
        cache = self._cache
        outputs = [cache.get(value) for value in values]
        missing = [k for k, out in enumerate(outputs) if out is None]
        if not missing:
            return outputs
        fresh = self._derive_many([values[k] for k in missing])
        if len(cache) + len(missing) > _CACHE_SIZE:
            cache.clear()
        for k, out in zip(missing, fresh, strict=True):
            outputs[k] = out
            if len(cache) < _CACHE_SIZE:
                cache[values[k]] = out
        return outputs

    def _derive_many(self, values: list[str]) -> list[str | None]:
        """``derive(v, 0)`` of each value; subclasses do the common case for all at once."""
        return [self.derive(value, 0) for value in values]

    def _settled(self, values: list[str], firsts: list[str | None]) -> list[str | None]:
        """``derive(v, 0)`` given each value's first derivation: kept where :meth:`derive`
        would keep it, derived again (with its retries) where not."""
        avoid = self.avoid
        return [
            out
            if out is not None and out != value and (avoid is None or hash(out) not in avoid)
            else self.derive(value, 0)
            for value, out in zip(values, firsts, strict=True)
        ]

    def derive(self, value: str, attempt: int) -> str | None:
        out = self._derive(value, attempt, 0)
        if out is None or not self.avoids:
            return out
        avoid = self.avoid
        if out != value and (avoid is None or hash(out) not in avoid):
            return out  # the common case: one derivation
        if not value or not self.can_differ(value):
            return out
        extra = 0
        while extra < AVOID_RETRIES and (
            out == value or (avoid is not None and hash(out) in avoid and self.identifying(out))
        ):
            extra += 1
            out = self._derive(value, attempt, extra)
            if out is None:
                break
        return out

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        raise NotImplementedError

    def can_differ(self, value: str) -> bool:
        return True

    def identifying(self, value: str) -> bool:
        """Whether ``value``, found in the source, would identify someone (see
        :func:`repro.mask.specs.leak_class`)."""
        return self.leak == "identifying"

    def __repr__(self) -> str:
        return f"<transformer {self.spec!r} for {self.column}>"


def _message(attempt: int, extra: int) -> int | str:
    """The HMAC's retry part: a unique column's attempt, and a re-derivation within it."""
    return f"{attempt}.{extra}" if extra else attempt


class _Keep(_Base):
    avoids = False

    def __call__(self, value: str) -> str | None:
        return value

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        return value


class _Null(_Base):
    rederivable = False
    avoids = False

    def __call__(self, value: str) -> str | None:
        return None

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        return None


class _Constant(_Base):
    rederivable = False
    avoids = False

    def __init__(self, spec: str, column: str, text: str) -> None:
        super().__init__(spec, column)
        self._text = text

    def __call__(self, value: str) -> str | None:
        return self._text

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        return self._text


class _Mask(_Base):
    """Letters -> letters, digits -> digits, everything else kept. ``mode`` "number" masks
    digits only (NaN, exponents and signs stay; the leading digit stays non-zero) and keeps
    the value inside ``int_range``; "hex" keeps hexadecimal characters hexadecimal (uuid)."""

    judges_by_value = True

    def __init__(
        self,
        spec: str,
        column: str,
        key: bytes,
        keep_first: int,
        keep_last: int,
        mode: str = "text",
        int_range: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(spec, column)
        self._hmac = _Hmac(key, "mask")
        self._first = keep_first
        self._last = keep_last
        self._mode = mode
        self._tables = _TABLES[mode]
        self._range = int_range

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        if not value:
            return value
        digest = self._hmac(value, _message(attempt, extra))
        if extra:
            return self._masked(value, _stream(digest, len(value)))
        return self._masked(value, digest if len(value) <= 32 else _stream(digest, len(value)))

    def _derive_many(self, values: list[str]) -> list[str | None]:
        """Text masks of ASCII values up to 32 characters, a block per length (see
        :mod:`repro.mask.mask_block`); other values one by one."""
        if self._mode != "text" or len(values) < _BLOCK_MIN:
            return super()._derive_many(values)
        firsts: list[str | None] = [None] * len(values)
        for length, places in _by_length(values).items():
            block = [values[k] for k in places]
            masked = masked_block(
                block,
                self._hmac.many(block),
                length,
                self._tables,
                _UPPER_BIT,
                self._first,
                self._last,
            )
            for k, out in zip(places, masked, strict=True):
                firsts[k] = out
        return self._settled(values, firsts)

    def can_differ(self, value: str) -> bool:
        return self._maskable_count(value) > 0

    def identifying(self, value: str) -> bool:
        return self._maskable_count(value) >= IDENTIFYING_MASKED_CHARS

    def _masked(self, value: str, stream: bytes) -> str:
        mode = self._mode
        if mode == "text" and value.isascii():
            return self._masked_ascii_text(value, stream)
        if not value.isascii():
            # numbers and uuids print in ASCII: only text gets here
            out = "".join(
                [
                    _DIG[b]
                    if c.isdigit()
                    else (_UP[b] if c.isupper() else _LOW[b])
                    if c.isalpha()
                    else c
                    for c, b in zip(value, stream, strict=False)
                ]
            )
        elif mode == "hex":
            out = _fast_mask(value.lower(), stream, *self._tables)
            if value.isupper():
                out = out.upper()
        else:
            out = self._number(value, _fast_mask(value, stream, *self._tables), stream)
        if self._first or self._last:
            out = self._keep_ends(value, out)
        return out

    def _masked_ascii_text(self, value: str, stream: bytes) -> str:
        """The "text" mode of an ASCII value in one pass over its bytes: what _fast_mask, the
        case flip and _keep_ends do one after another, sharing the value's encoding and its
        maskable-byte marks (phones and codes are most of what gets masked)."""
        raw = value.encode()
        n = len(raw)
        classes, bits, render, _ = self._tables
        marks = raw.translate(bits)  # 0x3F where maskable, 0 elsewhere
        keyed = int.from_bytes(stream[:n], "big") & int.from_bytes(marks, "big")
        out = (int.from_bytes(raw.translate(classes), "big") | keyed).to_bytes(n, "big")
        out = out.translate(render)
        if not value.islower() and value.lower() != value:
            flip = int.from_bytes(raw.translate(_UPPER_BIT), "big")
            out = (int.from_bytes(out, "big") ^ flip).to_bytes(n, "big")
        if self._first or self._last:
            budget = (n - marks.count(0)) // 2
            out = _kept_ends(raw, out, marks, min(self._first, budget), min(self._last, budget))
        return out.decode()

    def _number(self, value: str, out: str, stream: bytes) -> str:
        if "e" in value or "E" in value:  # the exponent stays: 1e+308 must not become 9e+399
            cut = max(value.find("e"), value.find("E"))
            out = out[:cut] + value[cut:]
        lead = 1 if value[0] in "-+" else 0
        if out[lead : lead + 1] == "0" and value[lead : lead + 1] in _NONZERO:
            out = out[:lead] + _NZ[stream[lead]] + out[lead + 1 :]
        if self._range is not None:
            low, high = self._range
            n = int(out)
            if not low <= n <= high:
                out = str(n % (high + 1) if n >= 0 else -((-n) % -low))
        return out

    def _maskable_count(self, value: str) -> int:
        if self._mode == "hex":
            value = value.lower()
        if value.isascii():
            return len(value.encode().translate(None, self._tables[3]))
        return sum(1 for c in value if c.isalnum())

    def _keep_ends(self, value: str, out: str) -> str:
        """Keep the first/last N maskable characters, but never more than half of them
        (keep_last=4 on a 4-digit PIN would keep it whole)."""
        budget = self._maskable_count(value) // 2
        first = min(self._first, budget)
        last = min(self._last, budget)
        if value.isascii():
            marks = value.encode().translate(self._tables[1])  # 0x3F where maskable
            return _kept_ends(value, out, marks, first, last)
        places = [i for i, c in enumerate(value) if c.isalnum()]
        chars = list(out)
        for i in places[:first] + (places[-last:] if last else []):
            chars[i] = value[i]
        return "".join(chars)

    def walk(self, value: str, start: str, limit: int = 2_000_000) -> Iterator[str]:
        """Every other mask of ``value`` after ``start``, in odometer order over the masked
        positions: when random retries find no free output (a code space nearly full), a
        unique column still gets a bijection."""
        mode = self._mode
        source = value.lower() if mode == "hex" else value
        places = [i for i, c in enumerate(source) if c.isascii() and _maskable(c, mode)]
        if not source.isascii():
            places = [i for i, c in enumerate(source) if c.isalnum()]
        budget = len(places) // 2
        first, last = min(self._first, budget), min(self._last, budget)
        places = places[first : len(places) - last]
        alphabets = [_alphabet(source[i], mode) for i in places]
        chars = list(start)
        for _ in range(limit):
            for slot in range(len(places) - 1, -1, -1):
                i, alphabet = places[slot], alphabets[slot]
                at = alphabet.find(chars[i].lower() if mode == "hex" else chars[i]) + 1
                chars[i] = alphabet[at % len(alphabet)]
                if at < len(alphabet):
                    break
            out = "".join(chars)
            if out == start:
                return
            if mode == "hex" and value.isupper():
                out = out.upper()
            if self._range is not None:
                n = int(out)
                if not self._range[0] <= n <= self._range[1]:
                    continue
            yield out


_Text = TypeVar("_Text", str, bytes)


def _kept_ends(value: _Text, out: _Text, marks: bytes, first: int, last: int) -> _Text:
    """``out`` with the first and last ``first``/``last`` maskable characters of an ASCII
    ``value`` put back (``marks``: 0x3F at each maskable position)."""
    if first:
        at = -1
        for _ in range(first):
            at = marks.find(63, at + 1)
        out = value[: at + 1] + out[at + 1 :]
    if last:
        at = len(marks)
        for _ in range(last):
            at = marks.rfind(63, 0, at)
        out = out[:at] + value[at:]
    return out


_HEX_CHARS = frozenset("0123456789abcdefABCDEF")


def _maskable(c: str, mode: str) -> bool:
    if mode == "number":
        return c in _DIGITS
    if mode == "hex":
        return c in _HEX_CHARS
    return c.isalnum()


def _alphabet(c: str, mode: str) -> str:
    if mode == "hex":
        return "0123456789abcdef"
    if c.isdigit():
        return "0123456789"
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c.isupper() else "abcdefghijklmnopqrstuvwxyz"


_NONZERO = frozenset("123456789")


def _fast_mask(
    value: str, stream: bytes, classes: bytes, bits: bytes, render: bytes, *_: bytes
) -> str:
    """The mask of an ASCII value without a Python loop: each maskable byte becomes its
    class (0x80 digit, 0xC0 letter) OR six keyed bits, which ``render`` turns into a
    character; other bytes pass through unchanged (they are below 0x80)."""
    raw = value.encode()
    n = len(raw)
    keyed = int.from_bytes(stream[:n], "big") & int.from_bytes(raw.translate(bits), "big")
    marked = (int.from_bytes(raw.translate(classes), "big") | keyed).to_bytes(n, "big")
    return marked.translate(render).decode()


def _mask_tables(
    digits: str, letters: str, render_letters: str
) -> tuple[bytes, bytes, bytes, bytes]:
    """(classes, bits, render, not-maskable bytes) for :func:`_fast_mask`."""
    classes = bytearray(range(256))
    bits = bytearray(256)
    for c in digits:
        classes[ord(c)], bits[ord(c)] = 0x80, 0x3F
    for c in letters:
        classes[ord(c)], bits[ord(c)] = 0xC0, 0x3F
    render = bytearray(range(256))
    for r in range(64):
        render[0x80 | r] = ord("0123456789"[r % 10])
        if render_letters:
            render[0xC0 | r] = ord(render_letters[r % len(render_letters)])
    others = bytes(b for b in range(256) if not bits[b])
    return bytes(classes), bytes(bits), bytes(render), others


_ASCII_DIGITS = "0123456789"
_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TABLES = {
    "text": _mask_tables(_ASCII_DIGITS, _ASCII_LETTERS, "abcdefghijklmnopqrstuvwxyz"),
    "number": _mask_tables(_ASCII_DIGITS, "", ""),
    "hex": _mask_tables("", _ASCII_DIGITS + "abcdef", "0123456789abcdef"),
}
# upper-case letters: the lower-case output with the 0x20 bit flipped
_UPPER_BIT = bytes(0x20 if 65 <= b <= 90 else 0 for b in range(256))


class _Hash(_Base):
    """Lowercase hex cut to the column's length; a number in range on number columns; a
    uuid-shaped value on uuid columns; as many keyed bytes on bytea columns."""

    def __init__(
        self,
        spec: str,
        column: str,
        key: bytes,
        length: int,
        modulus: int | None,
        uuid: bool,
        bytea: bool = False,
    ) -> None:
        super().__init__(spec, column)
        self._hmac = _Hmac(key, "hash")
        self._length = length
        self._modulus = modulus
        self._uuid = uuid
        self._bytea = bytea
        space = modulus if modulus is not None else 1 << 122 if uuid else 16**length
        self.small_space = bytea or space < 1 << 64

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        if not value:
            return value
        digest = self._hmac(value, _message(attempt, extra))
        if self._modulus is not None:
            return str(int.from_bytes(digest[:12], "big") % self._modulus)
        if self._uuid:
            return _uuid_text(digest, value)
        if self._bytea:
            # bytea's hex output (\x0a1b...): the same number of bytes, keyed
            size = (len(value) - 2) // 2 if value.startswith("\\x") else len(digest)
            return "\\x" + _stream(digest, size)[:size].hex()
        return digest.hex()[: self._length]

    def _derive_many(self, values: list[str]) -> list[str | None]:
        if self._modulus is not None or self._uuid or self._bytea:
            return super()._derive_many(values)
        length = self._length
        firsts: list[str | None] = [
            digest.hex()[:length] if value else value
            for value, digest in zip(values, self._hmac.many(values), strict=True)
        ]
        return self._settled(values, firsts)

    def can_differ(self, value: str) -> bool:
        return not (self._bytea and value == "\\x")


def _uuid_text(digest: bytes, source: str) -> str:
    raw = bytearray(digest[:16])
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    hx = raw.hex()
    if len(source) == 32 and "-" not in source:
        out = hx
    else:
        out = f"{hx[:8]}-{hx[8:12]}-{hx[12:16]}-{hx[16:20]}-{hx[20:]}"
    return out.upper() if source.isupper() else out


class _ShiftDate(_Base):
    """The date part moves by a whole number of days in [-N, -1] or [1, N] (never 0, which
    would leave the value as it was); time, zone, fractions and "BC" are kept as written."""

    def __init__(self, spec: str, column: str, key: bytes, days: int) -> None:
        super().__init__(spec, column)
        self._hmac = _Hmac(key, "shift_date")
        self._days = days

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        match = _DATE.match(value)
        if match is None:
            if value in ("infinity", "-infinity") or not value:
                return value
            raise DataGenerationError(
                f"{self.column}: {self.spec!r} cannot read the date {value[:40]!r}",
                hint="the source session must use DateStyle ISO",
            )
        n = int.from_bytes(self._hmac(value, _message(attempt, extra))[:4], "big")
        n %= 2 * self._days
        shift = n - self._days if n < self._days else n - self._days + 1
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        bc = value.endswith(" BC")
        rest = value[match.end() :]
        if not bc and 1 <= year <= 9999:
            try:
                moved = date.fromordinal(date(year, month, day).toordinal() + shift)
                if moved.year <= 9999:
                    return moved.isoformat() + rest
            except (ValueError, OverflowError):
                pass
        astronomical = 1 - year if bc else year
        y, m, d = _civil(_days_from_civil(astronomical, month, day) + shift)
        if y <= 0:
            y, rest = 1 - y, rest if bc else rest + " BC"
        elif bc:
            rest = rest[: -len(" BC")]
        return f"{y:04d}-{m:02d}-{d:02d}{rest}"


_DATE = re.compile(r"(\d{4,})-(\d\d)-(\d\d)")


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01, proleptic Gregorian, any year (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


# ------------------------------------------------------------------------------ fake values


class _Fake(_Base):
    """A realistic value of a kind. ``span`` is how many distinct values count as realistic
    (k is drawn below it); retries for unique columns widen it, trading realism for room."""

    def __init__(
        self,
        spec: str,
        column: str,
        key: bytes,
        kind: str,
        span: int,
        produce: Callable[[int, bytes, str], str],
        max_length: int | None,
    ) -> None:
        super().__init__(spec, column)
        self._hmac = _Hmac(key, f"fake:{kind}")
        self.small_space = kind != "uuid"
        self._kind = kind
        self._span = span
        self._produce = produce
        self._max = max_length

    def _derive(self, value: str, attempt: int, extra: int) -> str | None:
        if not value:
            return value
        digest = self._hmac(value, _message(attempt, extra))
        k = int.from_bytes(digest[:8], "big") % (self._span * (attempt + 1))
        out = self._produce(k, digest, value)
        if self._max is not None and len(out) > self._max:
            out = _shorten(self._kind, out, self._max)
        return out


def _shorten(kind: str, out: str, limit: int) -> str:
    if kind == "email":
        local, _, domain = out.rpartition("@")
        if len(domain) + 2 > limit:
            domain = "x.test"  # reserved (RFC 2606): never anyone's mailbox
        local = local[: limit - len(domain) - 1].rstrip(".") or "x"
        return f"{local}@{domain}"
    if kind == "phone":
        digits = "+" + "".join(c for c in out if c.isdigit())
        return digits if len(digits) <= limit else digits[-limit:]
    return out[:limit].rstrip() or out[:limit]


_DOUBLED = str.maketrans("0123456789", "0246813579")


def _luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit pass Luhn (digit sums by byte sums)."""
    backwards = body[::-1]
    digits = backwards[0::2].translate(_DOUBLED) + backwards[1::2]
    return str(-(sum(digits.encode()) - 48 * len(digits)) % 10)


_NOT_DIGITS = {ord(c): None for c in "0123456789"}


def _in_layout(digits: str, source: str) -> str:
    """``digits`` placed where the source has its digits, when it has as many (4111 1111...)."""
    if source.isdigit() or len(source) - len(source.translate(_NOT_DIGITS)) != len(digits):
        return digits
    it = iter(digits)
    return "".join([next(it) if "0" <= c <= "9" else c for c in source])


def _card(k: int, digest: bytes, source: str) -> str:
    body = "4" + f"{int.from_bytes(digest[8:16], 'big') % 10**14:014d}"
    return _in_layout(body + _luhn_digit(body), source)


def _ssn(low_area: int, dashes: bool) -> Callable[[int, bytes, str], str]:
    def produce(k: int, digest: bytes, source: str) -> str:
        n = int.from_bytes(digest[8:16], "big")
        area = low_area + n % (900 - low_area)
        area = 667 if area == 666 else area
        group = 1 + n // 1000 % 99
        serial = 1 + n // 100_000 % 9999
        if dashes and not source.isdigit():
            return f"{area:03d}-{group:02d}-{serial:04d}"
        return f"{area:03d}{group:02d}{serial:04d}"

    return produce


def _iban(spaced_fits: bool) -> Callable[[int, bytes, str], str]:
    def produce(k: int, digest: bytes, source: str) -> str:
        bban = f"{int.from_bytes(digest[8:16], 'big') % 10**18:018d}"
        check = 98 - int(bban + "131400") % 97  # DE: D=13, E=14
        out = f"DE{check:02d}{bban}"
        if spaced_fits and " " in source.strip():
            out = " ".join(out[i : i + 4] for i in range(0, len(out), 4))
        return out

    return produce


def _inet(k: int, digest: bytes, source: str) -> str:
    """An address in 10.0.0.0/8, then (retries for unique columns past 2^24) in the IPv6
    unique-local fd00::/8: always a valid inet, unlike text's "10.0.0.1%1"."""
    if k < 1 << 24:
        return text_value("ip", k, 0)
    return "fd00::" + ":".join(f"{k >> shift & 0xFFFF:x}" for shift in (48, 32, 16, 0))


def _meaning(kind: str, max_length: int | None) -> tuple[int, Callable[[int, bytes, str], str]]:
    if kind == "country" and max_length in (2, 3):
        codes = country_codes(max_length or 2)
        return len(codes), lambda k, _d, _s: codes[k % len(codes)]
    span = {
        "email": 50_000_000,
        "username": 50_000_000,
        "full_name": len(FIRST_NAMES) * len(LAST_NAMES),
        "first_name": len(FIRST_NAMES),
        "last_name": len(LAST_NAMES),
        "phone": 10_000_000,
        "ip": 1 << 24,
        "url": 10_000_000,
        "domain": 256,
    }.get(kind)
    if span is None:
        span = len(base_pool(kind))
    return span, lambda k, _d, _s: text_value(kind, k, 0)


# ------------------------------------------------------------------------------ build


def _refuse(column: str, spec: str, why: str) -> UsageError:
    return UsageError(f"{column}: transformer {spec!r} {why}")


def _type_of(type_name: str) -> TypeInfo:
    return resolve_type(type_name, {})


def _digit_room(info: TypeInfo) -> int | None:
    """How many integer digits a number column holds (None: no practical limit)."""
    if info.kind == "int":
        high = (info.int_range or INT_RANGES["bigint"])[1]
        return len(str(high)) - 1
    if info.kind == "numeric" and info.precision is not None:
        return info.precision - (info.scale or 0)
    return None


def build(
    spec: str,
    *,
    key: bytes,
    column: str,
    type_name: str,
    max_length: int | None,
    nullable: bool,
) -> Transformer:
    """The transformer for one column; UsageError (one line naming the column and the spec)
    when the spec is malformed or cannot produce values of the column's type."""
    try:
        parsed = parse_spec(spec)
    except ValueError as exc:
        raise _refuse(column, spec, f"is not valid: {exc}") from None
    info = _type_of(type_name)
    kind = "array" if info.array else info.kind
    texty = kind in ("text", "unknown")
    if max_length is None:
        max_length = info.max_length
    name = parsed.name
    if name == "keys" or (
        name not in ("keep", "null", "constant") and kind in ("array", "json", "hstore")
    ):
        return _build_container(spec, parsed, key, column, type_name, info, max_length)
    if name == "keep":
        return _Keep(spec, column)
    if name == "null":
        if not nullable:
            raise _refuse(column, spec, "cannot be used: the column is NOT NULL")
        return _Null(spec, column)
    if name == "constant":
        _check_constant(parsed.arg, kind, max_length, column, spec)
        return _Constant(spec, column, parsed.arg)
    if name == "shift_date":
        if kind not in ("date", "timestamp", "timestamptz"):
            raise _refuse(column, spec, f"needs a date or timestamp column, not {type_name!r}")
        return _ShiftDate(spec, column, key, parsed.days)
    if name == "mask":
        if texty:
            mode = "text"
        elif kind in ("int", "numeric", "float"):
            mode = "number"
        elif kind == "uuid":
            mode = "hex"
        else:
            raise _refuse(column, spec, f"cannot keep values of type {type_name!r} valid")
        rng = info.int_range if kind == "int" else None
        return _Mask(spec, column, key, parsed.keep_first, parsed.keep_last, mode, rng)
    if name == "hash":
        if kind in ("int", "numeric", "float"):
            room = _digit_room(info)
            if kind == "int":
                modulus = (info.int_range or INT_RANGES["bigint"])[1] + 1
            elif room is None:
                modulus = 10**15
            elif room < 1:
                raise _refuse(column, spec, f"has no integer digits to use in {type_name!r}")
            else:
                modulus = 10 ** min(room, 15)
            return _Hash(spec, column, key, 0, modulus, False)
        if kind == "uuid":
            return _Hash(spec, column, key, 0, None, True)
        if kind == "bytea":
            return _Hash(spec, column, key, 0, None, False, bytea=True)
        if not texty:
            raise _refuse(column, spec, f"cannot make values of type {type_name!r}")
        if max_length is not None and max_length < 8:
            raise _refuse(column, spec, f"needs at least 8 characters, the column has {max_length}")
        return _Hash(spec, column, key, min(64, max_length or 64), None, False)
    return _build_fake(spec, parsed.arg, key, column, type_name, info, kind, max_length)


def _build_container(
    spec: str,
    parsed: Spec,
    key: bytes,
    column: str,
    type_name: str,
    info: TypeInfo,
    max_length: int | None,
) -> Transformer:
    """Arrays element by element (any spec, any element type it fits); JSON and hstore by
    key (``keys:``) or every value (any other spec)."""
    if info.array:
        declared = type_name.strip()
        element_type = declared[:-2] if declared.endswith("[]") else info.base
        element = build(
            spec,
            key=key,
            column=column,
            type_name=element_type,
            max_length=max_length,
            nullable=True,
        )
        return containers.ArrayOf(spec, column, element)
    if info.kind not in ("json", "hstore"):
        raise _refuse(column, spec, f"works on json, jsonb and hstore columns, not {type_name!r}")

    def pair(leaf_spec: str) -> tuple[containers.Leaf, containers.Leaf | None]:
        # strings (dates in JSON are strings too); numbers where the spec can make them
        as_text = "timestamptz" if leaf_spec.startswith("shift_date:") else "text"
        text = build(
            leaf_spec, key=key, column=column, type_name=as_text, max_length=None, nullable=True
        )
        number = None
        if info.kind == "json":
            try:
                number = build(
                    leaf_spec,
                    key=key,
                    column=column,
                    type_name="numeric",
                    max_length=None,
                    nullable=True,
                )
            except UsageError:
                number = None  # fake:email on a number: the number becomes a fake string
        return cast(containers.Leaf, text), cast("containers.Leaf | None", number)

    if parsed.name == "keys":
        rules = containers.KeyRules([(p, *pair(s)) for p, s in parsed.keys])
    else:
        rules = containers.KeyRules([], everything=pair(spec))
    if info.kind == "json":
        return containers.JsonValues(spec, column, rules)
    return containers.HstoreValues(spec, column, rules)


def _build_fake(
    spec: str,
    fake: str,
    key: bytes,
    column: str,
    type_name: str,
    info: TypeInfo,
    kind: str,
    max_length: int | None,
) -> Transformer:
    texty = kind in ("text", "unknown")
    number = kind in ("int", "numeric")
    room = _digit_room(info)
    produce: Callable[[int, bytes, str], str]
    span = 1 << 62
    if fake == "card" and (texty or (number and (room is None or room >= 16))):
        produce, needed = _card, 16
    elif fake == "ssn" and (texty or (number and (room is None or room >= 9))):
        dashes = texty and (max_length is None or max_length >= 11)
        produce, needed = _ssn(100 if number else 1, dashes), 9
    elif fake == "uuid" and (texty or kind == "uuid"):

        def produce(k: int, digest: bytes, source: str) -> str:
            return _uuid_text(digest, source)

        needed = 32 if max_length is not None and max_length < 36 else 36
    elif fake == "iban" and texty:
        produce, needed = _iban(max_length is None or max_length >= 27), 22
    elif fake == "ip" and kind == "inet":
        span, produce, needed = 1 << 24, _inet, 7
    elif fake == "ip" and texty:
        span, produce = _meaning("ip", None)
        needed = 8
    elif fake in MEANING_KINDS and texty:
        span, produce = _meaning(fake, max_length)
        needed = 8 if fake == "email" else 1
    else:
        raise _refuse(column, spec, f"cannot make values of type {type_name!r}")
    if max_length is not None and max_length < needed:
        raise _refuse(
            column, spec, f"needs at least {needed} characters, the column has {max_length}"
        )
    cut = None if fake in ("card", "ssn", "iban", "uuid") else max_length
    return _Fake(spec, column, key, fake, span, produce, cut)


def _check_constant(text: str, kind: str, max_length: int | None, column: str, spec: str) -> None:
    if max_length is not None and len(text) > max_length:
        raise _refuse(column, spec, f"is longer than the column's {max_length} characters")
    valid = True
    if kind == "int":
        valid = re.fullmatch(r"\s*[-+]?\d+\s*", text) is not None
    elif kind in ("numeric", "float"):
        try:
            float(text)
        except ValueError:
            valid = False
    elif kind == "bool":
        valid = text.strip().lower() in {
            "t",
            "f",
            "true",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "1",
            "0",
        }
    if not valid:
        raise _refuse(column, spec, f"is not a valid {kind} value")


def rederive(transformer: object) -> Callable[[str, int], str | None] | None:
    """``transformer``'s derivation with a retry counter, when it has one that gives other
    outputs (constants and NULL do not)."""
    if isinstance(transformer, _Base) and transformer.rederivable:
        return transformer.derive
    return None
