"""SIGTERM unwinds like Ctrl-C, for commands that leave things to clean up.

``docker stop``, a CI timeout or a supervisor sends SIGTERM, whose default kills the process
where it stands: sandbox containers and networks would stay, worker processes would lose
their parent mid-batch. Inside :func:`sigterm_unwinds` it raises KeyboardInterrupt instead, so
every ``finally`` runs and the command ends as an interrupted one ("repro: interrupted", 130).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (tests calling in): nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
