"""The ``mask`` transform of many ASCII values of one length at once, with numpy.

Per value, :meth:`repro.mask.transforms._Mask._masked_ascii_text` costs about twice its
keyed HMAC in big-integer and ``bytes.translate`` steps. Here a block of values is a byte
matrix, one row per value, and the same steps are whole-matrix operations: class bits OR
keyed bits where maskable, rendered through a 256-entry table, upper case flipped back, and
the first/last N maskable characters put back. The result is, value for value, the text the
one-value path gives (a property test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported on first use: ``repro diff`` never masks
    import numpy as np

DIGEST_SIZE = 32  # one HMAC-SHA256 covers values of up to this many bytes


def masked_block(
    values: Sequence[str],
    digests: Sequence[bytes],
    length: int,
    tables: tuple[bytes, bytes, bytes, bytes],
    upper_bit: bytes,
    keep_first: int,
    keep_last: int,
) -> list[str]:
    """The masks of ``values`` (ASCII, each ``length`` characters, 0 < length <= 32) keyed by
    their ``digests``. ``tables``: (classes, bits, render, not-maskable) as
    :func:`repro.mask.transforms._mask_tables` makes them; ``upper_bit``: 0x20 at A-Z."""
    import numpy as np

    if not values:
        return []
    classes, bits, render = (np.frombuffer(t, dtype=np.uint8) for t in tables[:3])
    raw = np.frombuffer("".join(values).encode("ascii"), dtype=np.uint8).reshape(-1, length)
    keyed = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, DIGEST_SIZE)
    marks = bits[raw]  # 0x3F where maskable, 0 elsewhere
    out = render[classes[raw] | (keyed[:, :length] & marks)]
    out ^= np.frombuffer(upper_bit, dtype=np.uint8)[raw]
    if keep_first or keep_last:
        out = _kept_ends(raw, out, marks != 0, keep_first, keep_last)
    text = out.tobytes().decode("ascii")
    return [text[at : at + length] for at in range(0, len(text), length)]


def _kept_ends(
    raw: np.ndarray, out: np.ndarray, maskable: np.ndarray, first: int, last: int
) -> np.ndarray:
    """The first/last maskable characters of each row put back, never more than half of a
    row's maskable characters (as :func:`repro.mask.transforms._kept_ends` with its budget)."""
    import numpy as np

    budget = maskable.sum(axis=1) // 2
    keep = np.zeros(maskable.shape, dtype=bool)
    if first:
        counted = np.cumsum(maskable, axis=1)
        keep |= maskable & (counted <= np.minimum(first, budget)[:, None])
    if last:
        counted = np.cumsum(maskable[:, ::-1], axis=1)[:, ::-1]
        keep |= maskable & (counted <= np.minimum(last, budget)[:, None])
    return np.where(keep, raw, out)
