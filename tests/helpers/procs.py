"""Child processes of tests start with default signal handlers, whatever the test run got.

A test run started in the background (``nohup pytest ... &``, a CI step, an IDE) may have
SIGINT ignored; children inherit that, and a child Python then never raises
KeyboardInterrupt, so a test that sends Ctrl-C to `repro` would test the wrong thing. Pass
``preexec_fn=default_signals`` (or use :func:`popen` / :func:`run`) for every child a test
signals or whose signal behaviour it checks.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any

# What a shell resets for a foreground command: interrupt, quit, terminate, hang-up.
RESET = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)


def default_signals() -> None:
    """In the child, before exec: default dispositions and nothing blocked."""
    for signum in RESET:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def popen(args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
    return subprocess.Popen(args, preexec_fn=default_signals, **kwargs)


def run(args: Any, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    return subprocess.run(args, preexec_fn=default_signals, **kwargs)
