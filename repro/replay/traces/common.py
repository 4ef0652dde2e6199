"""What the stack-trace parsers of every language share: module names from file paths, the
per-line prefixes that log shippers add, and the bounds that keep a hostile log cheap."""

from __future__ import annotations

import re
from collections.abc import Sequence

from repro.replay.tracebacks import DEFAULT_ROOTS

# A frame list longer than this is cut at its caller end (a runaway recursion prints tens of
# thousands of frames; the ones nearest the raise are what a signature compares).
MAX_FRAMES = 200
# Lines an exception message may span before its first frame.
MAX_MESSAGE_LINES = 20
# Causes followed in one chain ("Caused by:", "[cause]:").
MAX_CHAIN = 20

# What `docker compose logs` (``web-1  | ``), `kubectl logs --prefix` (``[pod/web/app] ``) and
# `docker logs --timestamps` put before every line of a container's output.
_LINE_PREFIX = re.compile(
    r"^(?:[\w.\-]+\s+\|\s?"
    r"|\[[\w.\-/]+\]\s"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\s)"
)


def strip_line_prefix(line: str) -> str:
    """The line without a container log prefix (at most two: a compose name, then a time)."""
    for _ in range(2):
        match = _LINE_PREFIX.match(line)
        if match is None:
            break
        line = line[match.end() :]
    return line


def module_from_path(
    filename: str, extensions: Sequence[str], roots: Sequence[str] = DEFAULT_ROOTS
) -> str | None:
    """A dotted module name for a source file of a language whose frames name files, not
    modules: relative to the longest matching root, extension dropped (``/srv/accounts/src/
    auth.js`` -> ``accounts.src.auth``). Matching tolerates a dotted suffix, so it meets the
    shorter names an SDK gives (``auth``, ``routes:users``)."""
    path = filename.replace("\\", "/")
    if path.startswith("file://"):
        path = path[len("file://") :]
    path = re.sub(r"^[A-Za-z]:/", "/", path)
    for root in sorted((r.rstrip("/") for r in roots), key=len, reverse=True):
        if root and path.startswith(root + "/"):
            path = path[len(root) + 1 :]
            break
    for extension in extensions:
        if path.endswith(extension):
            path = path[: -len(extension)]
            break
    parts = [p for p in re.split(r"[/:]", path) if p and p not in (".", "..")]
    return ".".join(parts) or None
