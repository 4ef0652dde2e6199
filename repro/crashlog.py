"""Crash logs: the traceback of an unexpected error, scrubbed of known secrets, in a file.

The top-level handler (:mod:`repro.errorhandler`) writes one for a bug that ends the run; a
facet that crashes writes one too and the capture goes on with the other facets.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from repro.redaction import scrub_shapes

WITHHELD = "[message withheld: it could not be checked for secrets]"


def _log_dir() -> Path:
    base = os.environ.get("REPRO_LOG_DIR")
    if base:
        return Path(base)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "repro"


def safe_scrub(scrub: Callable[[str], str], text: str) -> str:
    """``scrub(text)``, then the shapes of secrets out of it again; never raises and never
    returns text that was not checked (a failing scrubber withholds the whole text)."""
    try:
        return scrub_shapes(scrub(text))
    except BaseException:  # a KeyboardInterrupt mid-scrub must not print the secret either
        return WITHHELD


def scrubbed_traceback(exc: BaseException, scrub: Callable[[str], str]) -> str:
    """The traceback of ``exc`` and of every exception chained to it, each message scrubbed
    on its own (so one secret cannot straddle two scrubbed pieces) and the whole scrubbed
    again. Frames' locals are never formatted."""
    try:
        parts = traceback.TracebackException.from_exception(exc, capture_locals=False)
        lines: list[str] = []
        for line in parts.format(chain=True):
            lines.append(safe_scrub(scrub, line))
        return safe_scrub(scrub, "".join(lines))
    except BaseException:
        return f"{type(exc).__name__}: {WITHHELD}\n"


def write_crash_log(exc: BaseException, scrub: Callable[[str], str]) -> Path:
    """Write the traceback (scrubbed of known secrets) and return where it went."""
    text = scrubbed_traceback(exc, scrub)
    directory = _log_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        path = Path(name)
    except OSError:
        fd, name = tempfile.mkstemp(prefix="repro-crash-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        path = Path(name)
    return path
