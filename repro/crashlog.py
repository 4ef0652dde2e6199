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


def _log_dir() -> Path:
    base = os.environ.get("REPRO_LOG_DIR")
    if base:
        return Path(base)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "repro"


def write_crash_log(exc: BaseException, scrub: Callable[[str], str]) -> Path:
    """Write the traceback (scrubbed of known secrets) and return where it went."""
    text = scrub("".join(traceback.format_exception(exc)))
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
