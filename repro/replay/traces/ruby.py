"""Ruby backtraces in a log, in the two shapes real services write:

Ruby's own report of an uncaught error (``ruby app.rb``, a worker that dies)::

    app/models/user.rb:3:in `email_domain': undefined method `split' for nil (NoMethodError)
    <more lines of the message: error_highlight's snippet>
        from app/controllers/users_controller.rb:7:in `block in show'
        from app/controllers/users_controller.rb:7:in `show'
    app/services/load.rb:13:in `rescue in load_user': user could not be shown (ArgumentError)
        from ...

(the second block, right after the first, is the first one's cause), and a logger's (Rails'
``ActionDispatch::DebugExceptions``, ``logger.error``), every line behind the logger's prefix::

    F, [2026-12-04T16:22:53.621234 #1] FATAL -- : [req-1] NoMethodError (undefined method ...):
    F, [2026-12-04T16:22:53.621234 #1] FATAL -- : [req-1]
    F, [2026-12-04T16:22:53.621234 #1] FATAL -- : [req-1] app/models/user.rb:3:in `email_domain'

Ruby 3.4 quotes with ``'`` and names the class (``in 'User#email_domain'``). Frames are
innermost first and are reversed (caller -> callee); a cause comes before its error (the
outermost LAST), as ``sentry-ruby`` orders them. Names follow ``sentry-ruby``: a label
``Class#method`` gives module ``Class`` and function ``method``; otherwise the function is
the label (``block in show``) and the module the file's path. Gems and Ruby's own library are
not in-app.
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

_FILE = r"(?P<file>(?:[A-Za-z]:)?[^\s:'`\"]*\.rb|<internal:[\w/.\-]+>|\(irb\)|-e)"
_LOCATION = _FILE + r":(?P<line>\d+):in [`'](?P<label>[^`']+)'"
_FRAME = re.compile(r"(?:^|\s)(?:from )?" + _LOCATION + r"\s*$")
_UNCAUGHT = re.compile(
    r"^\s*" + _LOCATION + r": (?P<msg>.*?) ?\((?P<type>[A-Z]\w*(?:::[A-Z]\w*)*)\)\s*$"
)
_LOGGED = re.compile(
    r"(?:^|\s)(?P<type>[A-Z]\w*(?:::[A-Z]\w*)*)(?: \((?P<paren>.*)|: (?P<colon>.*))$"
)
_LABEL = re.compile(r"^(?:(?P<module>[\w:]+)[#.])?(?P<function>.+)$")
_LIBRARY = re.compile(r"/gems/|/ruby/\d|/rubygems|/vendor/bundle/|^<internal:|/usr/lib/ruby/")
EXTENSIONS = (".rb",)


def ruby_chains(lines: Sequence[str], roots: Sequence[str] = DEFAULT_ROOTS) -> list[Located]:
    """Every Ruby backtrace in ``lines``: (index of its header line, chain)."""
    found: list[Located] = []
    i = floor = 0
    while i < len(lines):
        text = strip_line_prefix(lines[i])
        if _UNCAUGHT.match(text):
            chain, end = _uncaught_chain(lines, i, roots)
            found.append((i, chain))
            i = floor = end
            continue
        if _FRAME.search(text) is None:
            i += 1
            continue
        header = _logged_header(lines, i, floor)
        frames, end = _frames(lines, i, roots)
        if header is not None and frames:
            start, type_name, message = header
            found.append((start, (ExceptionInfo(type_name, message, frames),)))
        i = floor = max(end, i + 1)
    return found


def _uncaught_chain(
    lines: Sequence[str], start: int, roots: Sequence[str]
) -> tuple[tuple[ExceptionInfo, ...], int]:
    chain: list[ExceptionInfo] = []
    pos = start
    while pos < len(lines) and len(chain) < MAX_CHAIN:
        header = _UNCAUGHT.match(strip_line_prefix(lines[pos]))
        if header is None:
            break
        first = _frame(header, roots)
        message = [header["msg"]]
        pos += 1
        while (
            pos < len(lines)
            and len(message) < MAX_MESSAGE_LINES
            and not _FRAME.search(strip_line_prefix(lines[pos]))
            and not _UNCAUGHT.match(strip_line_prefix(lines[pos]))
        ):
            message.append(strip_line_prefix(lines[pos]))
            pos += 1
        frames, pos = _frames(lines, pos, roots, innermost=[first])
        value = "\n".join(message).rstrip("\n")
        chain.append(ExceptionInfo(header["type"], value or None, frames))
    # Printed outermost first, causes after; Sentry's order has the outermost LAST.
    return tuple(reversed(chain)), pos


def _frames(
    lines: Sequence[str],
    start: int,
    roots: Sequence[str],
    innermost: list[Frame] | None = None,
) -> tuple[tuple[Frame, ...], int]:
    frames = list(innermost or [])
    pos = start
    while pos < len(lines):
        text = strip_line_prefix(lines[pos])
        if _UNCAUGHT.match(text):
            break
        match = _FRAME.search(text)
        if match is None:
            break
        if len(frames) < MAX_FRAMES:
            frames.append(_frame(match, roots))
        pos += 1
    return tuple(reversed(frames)), pos


def _frame(match: re.Match[str], roots: Sequence[str]) -> Frame:
    filename = match["file"]
    label = _LABEL.match(match["label"])
    module = label["module"] if label and label["module"] else None
    function = label["function"] if label else match["label"]
    return Frame(
        module=module or module_from_path(filename, EXTENSIONS, roots),
        function=function,
        context_line=None,  # a backtrace names lines, it does not print them
        filename=filename,
        lineno=int(match["line"]),
        in_app=_LIBRARY.search(filename) is None,
    )


def _logged_header(
    lines: Sequence[str], first_frame: int, floor: int
) -> tuple[int, str, str | None] | None:
    """``Type (message):`` or ``Type: message`` above a logged backtrace: (line, type,
    message). The message may span lines (error_highlight's snippet) up to the frames."""
    low = max(floor, first_frame - MAX_MESSAGE_LINES)
    for index in range(first_frame - 1, low - 1, -1):
        match = _LOGGED.search(strip_line_prefix(lines[index]))
        if match is None or match["type"] in ("E", "F", "W", "I", "D"):
            continue
        more = [_logger_text(line) for line in lines[index + 1 : first_frame]]
        parts = [match["paren"] if match["paren"] is not None else match["colon"], *more]
        message = "\n".join(parts).rstrip()
        if match["paren"] is not None:
            message = message.removesuffix(":").removesuffix(")")
        return index, match["type"], message.rstrip() or None
    return None


_LOGGER_PREFIX = re.compile(r"^[A-Z], \[[^\]]*\]\s+\w+ -- [^:]*: (?:\[[^\]]*\] )?")


def _logger_text(line: str) -> str:
    """A continuation line without Ruby Logger's prefix (``E, [time #pid] ERROR -- : ``)."""
    text = strip_line_prefix(line)
    match = _LOGGER_PREFIX.match(text)
    return text[match.end() :] if match else text
