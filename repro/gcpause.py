"""The cyclic garbage collector paused around work that makes very many objects and no
cycles: a schema capture keeping hundreds of thousands of small objects, a masked batch's
per-row lists. Reference counting frees what such work drops; the collector would only walk
the heap again and again for nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside the block, back as it was afterwards, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
