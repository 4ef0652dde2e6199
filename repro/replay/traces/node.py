"""Node.js stack traces (V8's ``err.stack``, ``console.error(err)``) in a log.

Shape, as Node prints it::

    [2026-12-04T16:22:53.621Z] error: GET /api/users failed: TypeError: Cannot read ... 'email')
        at toPrincipal (/srv/accounts/src/auth.js:18:20)
        at Array.map (<anonymous>)
        at /srv/accounts/src/users.js:32:46
        at async Promise.all (index 0)
        at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {
      code: 'E_X',
      [cause]: Error: inner
          at ...
    }

The header is the nearest line above the first ``at`` line that names an error (a log record
may come before it on that line, and the message may span lines); frames are innermost first,
so they are reversed (caller -> callee, as Sentry orders them); a ``[cause]:`` block is the
cause, put before its error (the outermost is LAST). Names follow ``@sentry/node``: ``async``
dropped, ``Object.<anonymous>`` is ``Object.?``; a frame is in-app when its file is an absolute
path outside ``node_modules`` (``node:internal``, ``<anonymous>`` and ``native`` are not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from repro.replay.incident import ExceptionInfo, Frame
from repro.replay.tracebacks import DEFAULT_ROOTS, Located
from repro.replay.traces.common import (
    MAX_CHAIN,
    MAX_FRAMES,
    MAX_MESSAGE_LINES,
    module_from_path,
    strip_line_prefix,
)

EXTENSIONS = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
_AT = re.compile(r"^(?P<indent>\s+)at (?P<rest>\S.*?)(?P<brace> \{)?\s*$")
_MATCHING_CAUSE = re.compile(r"^\s+\.\.\. \d+ lines? matching cause stack trace \.\.\.\s*$")
_CAUSE = re.compile(r"^\s*\[cause\]: (?P<header>.+)$")
_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
_BARE_LOCATION = re.compile(r"^(?:file://|node:|/|[A-Za-z]:\\|\.{1,2}/|webpack:)\S*:\d+(?::\d+)?$")
# ``Name: message`` / ``Name [CODE]: message`` / a bare ``Name`` ending the line.
_NAMED = re.compile(r"(?:^|(?<=[\s:\]]))(?P<type>[A-Za-z_$][\w$.]*)(?: \[[\w$.]+\])?(?:: |:?$)")
_LEVELS = frozenset({"ERROR", "WARN", "WARNING", "INFO", "DEBUG", "FATAL", "TRACE", "CRITICAL"})


def node_chains(lines: Sequence[str], roots: Sequence[str] = DEFAULT_ROOTS) -> list[Located]:
    """Every Node.js error with a stack in ``lines``: (index of its header line, chain)."""
    found: list[Located] = []
    i = floor = 0
    while i < len(lines):
        if _frame_match(lines[i]) is None:
            i += 1
            continue
        header = _header(lines, i, floor)
        end = _frames_end(lines, i)
        if header is None:
            i = floor = end
            continue
        start, type_name, message = header
        frames = _frames(lines[i:end], roots)
        chain = [ExceptionInfo(type=type_name, value=message, frames=frames)]
        if end > i and (_frame_match(lines[end - 1]) or {}).get("brace"):
            causes, end = _causes(lines, end, roots)
            chain = [*causes, *chain]
        found.append((start, tuple(chain)))
        i = floor = end
    return found


def _frame_match(line: str) -> dict[str, str] | None:
    match = _AT.match(strip_line_prefix(line))
    if match is None or _parse_frame(match["rest"], DEFAULT_ROOTS) is None:
        return None
    return {"indent": match["indent"], "brace": match["brace"] or ""}


def _frames_end(lines: Sequence[str], start: int) -> int:
    end = start
    while end < len(lines) and (
        _frame_match(lines[end]) is not None or _MATCHING_CAUSE.match(strip_line_prefix(lines[end]))
    ):
        if (_frame_match(lines[end]) or {}).get("brace"):
            return end + 1
        end += 1
    return end


def _frames(lines: Sequence[str], roots: Sequence[str]) -> tuple[Frame, ...]:
    frames: list[Frame] = []
    for line in lines:
        match = _AT.match(strip_line_prefix(line))
        frame = _parse_frame(match["rest"], roots) if match else None
        if frame is not None:
            frames.append(frame)
    # Printed innermost first; Sentry's order is caller -> callee. Keep the raise's end.
    return tuple(reversed(frames[:MAX_FRAMES]))


def _parse_frame(rest: str, roots: Sequence[str]) -> Frame | None:
    function: str | None
    if rest.endswith(")") and " (" in rest:
        function, location = rest[:-1].split(" (", 1)
    elif _BARE_LOCATION.match(rest):
        function, location = None, rest
    else:
        return None
    function = _function_name(function)
    match = _LOCATION.match(location)
    filename = match["file"] if match else location
    if filename.startswith("file://"):
        filename = filename[len("file://") :]
    lineno = int(match["line"]) if match else None
    absolute = filename.startswith("/") or re.match(r"^[A-Za-z]:\\", filename) is not None
    in_app = absolute and "/node_modules/" not in filename.replace("\\", "/")
    module = None
    if absolute or filename.startswith("node:"):
        module = module_from_path(filename.removeprefix("node:"), EXTENSIONS, roots)
    return Frame(
        module=module,
        function=function,
        context_line=None,  # a Node stack names lines, it does not print them
        filename=filename,
        lineno=lineno,
        in_app=in_app,
    )


def _function_name(function: str | None) -> str | None:
    if function is None:
        return None
    function = function.strip()
    if function.startswith("async "):
        function = function[len("async ") :]
    if function == "<anonymous>" or not function:
        return None
    if function.endswith(".<anonymous>"):
        return function[: -len("<anonymous>")] + "?"
    return function


def _header(lines: Sequence[str], first_frame: int, floor: int) -> tuple[int, str, str] | None:
    """(line index, type, message) of the error whose stack starts at ``first_frame``."""
    low = max(floor, first_frame - MAX_MESSAGE_LINES)
    for index in range(first_frame - 1, low - 1, -1):
        text = strip_line_prefix(lines[index])
        parsed = _error_name(text)
        if parsed is None:
            continue
        type_name, message = parsed
        more = [strip_line_prefix(line) for line in lines[index + 1 : first_frame]]
        value = "\n".join([message, *more]) if message or more else ""
        return index, type_name, value
    return None


def _error_name(text: str) -> tuple[str, str] | None:
    """The error's name in a header line and the message after it (a log record may come
    first: ``[time] error: GET /x failed: TypeError: ...``)."""
    candidates = [
        m for m in _NAMED.finditer(text) if m["type"].upper() != m["type"] or "." in m["type"]
    ]
    named = [m for m in candidates if m["type"][:1].isupper() and m["type"] not in _LEVELS]
    errorish = [m for m in named if m["type"].endswith(("Error", "Exception"))]
    chosen = (errorish or named or [])[:1]
    if not chosen:
        # node-postgres' DatabaseError prints as "error: password authentication failed ...".
        lowered = [m for m in _NAMED.finditer(text) if m["type"] == "error"]
        chosen = lowered[-1:]
    if not chosen:
        return None
    match = chosen[0]
    return match["type"], text[match.end() :].strip()


def _causes(
    lines: Sequence[str], start: int, roots: Sequence[str]
) -> tuple[list[ExceptionInfo], int]:
    """The ``[cause]:`` errors inside the ``{ ... }`` after a stack (innermost first), and
    where the block ends."""
    causes: list[ExceptionInfo] = []
    i = start
    limit = min(len(lines), start + MAX_FRAMES * MAX_CHAIN)
    depth = 1
    while i < limit and depth > 0 and len(causes) < MAX_CHAIN:
        text = strip_line_prefix(lines[i])
        cause = _CAUSE.match(text)
        if cause is not None:
            parsed = _error_name(cause["header"])
            end = _frames_end(lines, i + 1)
            if parsed is not None:
                frames = _frames(lines[i + 1 : end], roots)
                causes.insert(0, ExceptionInfo(parsed[0], parsed[1], frames))
            if end > i + 1 and (_frame_match(lines[end - 1]) or {}).get("brace"):
                depth += 1
            i = max(end, i + 1)
            continue
        if text.strip() == "}":
            depth -= 1
        i += 1
    return causes, i
