"""The single top-level handler: one line for expected errors, a log file for bugs."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

from repro.errors import ReproError

UNEXPECTED_EXIT = 2  # like GNU diff: 2 means "trouble", whatever its cause


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


@contextlib.contextmanager
def handle_errors(scrub: Callable[[str], str] = lambda s: s) -> Iterator[None]:
    """Turn exceptions into one stderr line and an exit code."""
    try:
        yield
    except ReproError as exc:
        print(f"repro: error: {scrub(exc.one_line())}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("repro: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except (SystemExit, GeneratorExit):
        raise
    except Exception as exc:
        path = write_crash_log(exc, scrub)
        print(
            f"repro: unexpected error ({type(exc).__name__}); this is a bug in repro. "
            f"Traceback written to {path}",
            file=sys.stderr,
        )
        raise SystemExit(UNEXPECTED_EXIT) from None
