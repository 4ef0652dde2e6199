"""The single top-level handler: one line for expected errors, a log file for bugs."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from repro.errors import ReproError

UNEXPECTED_EXIT = 2  # like GNU diff: 2 means "trouble", whatever its cause


@contextlib.contextmanager
def handle_errors(scrub: Callable[[str], str] = lambda s: s) -> Iterator[None]:
    """Turn exceptions into one stderr line and an exit code."""
    try:
        yield
    except ReproError as exc:
        from repro.crashlog import WITHHELD, safe_scrub  # the detectors: only on an error

        try:
            line = exc.one_line()
        except Exception:
            line = WITHHELD
        print(f"repro: error: {safe_scrub(scrub, line)}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        print("repro: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except (SystemExit, GeneratorExit):
        raise
    except Exception as exc:
        from repro.crashlog import write_crash_log  # only a bug pays for it

        try:
            path = write_crash_log(exc, scrub)
        except Exception:  # no place to write it: say so, never print the traceback
            print(
                f"repro: unexpected error ({type(exc).__name__}); this is a bug in repro "
                "(the crash log could not be written)",
                file=sys.stderr,
            )
            raise SystemExit(UNEXPECTED_EXIT) from None
        print(
            f"repro: unexpected error ({type(exc).__name__}); this is a bug in repro. "
            f"Traceback written to {path}",
            file=sys.stderr,
        )
        raise SystemExit(UNEXPECTED_EXIT) from None
