"""Polling with a deadline: the only way tests wait for something (never a fixed sleep)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class GiveUp(Exception):
    """Raised by a probe when waiting longer cannot help (e.g. the process died)."""


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> T:
    """Call ``probe`` until it returns something other than None/False; return that.

    Exceptions from the probe count as "not yet" (the last one is chained to the
    TimeoutError), except GiveUp, which ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = probe()
        except GiveUp:
            raise
        except Exception as exc:  # the thing is not up yet; remember why
            last_error = exc
        else:
            if result is not None and result is not False:
                return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}") from last_error
        time.sleep(interval)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (callers retry if someone else takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def read_banner(host: str, port: int, *, timeout: float = 1.0) -> bytes:
    """Connect and return the first bytes the server sends (an SSH server greets first)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        return sock.recv(64)
