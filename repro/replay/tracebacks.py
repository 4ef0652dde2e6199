"""Python tracebacks found in container logs, as exception chains.

When the sandboxed app does not report to Sentry (no SDK, no DSN, the event got lost), its
log still has the traceback that gunicorn, Flask or werkzeug printed. This module finds every
``Traceback (most recent call last):`` block in a log, follows the "During handling of the above
exception..." / "The above exception was the direct cause..." links, and returns each chain in
Sentry's order (outermost LAST), so it compares with a Sentry signature directly.

Log noise is expected: a per-line prefix (a timestamp, ``web-1  | ``) is recognised from the
text before ``Traceback`` and stripped from the following lines when they carry the same prefix
(or one of the same shape: digits may differ); other log records interleaved between frames are
skipped. An exception line is ``Name`` or ``Name: message`` where the last dotted part of the
name starts with a capital letter and is not a log level (``ERROR: ...`` is a log record).
Messages may span lines; they end at a blank line, a log record, or the next traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from repro.replay.incident import ExceptionInfo, Frame

TRACEBACK_HEADER = "Traceback (most recent call last):"
CHAIN_MARKERS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
DEFAULT_ROOTS = ("/usr/src/app", "/opt/app", "/workspace", "/code", "/srv", "/app")
LOG_LEVELS = frozenset(
    {"DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "CRITICAL", "FATAL", "TRACE"}
)
# Lines past which a message is assumed to have ended: a runaway guard, not a format limit.
MAX_MESSAGE_LINES = 50
# How many unrelated log lines may interleave before a traceback block is given up.
MAX_NOISE_LINES = 20

_FRAME_RE = re.compile(r'^ {2}File "(?P<file>.*)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_EXC_RE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::(?: (?P<msg>.*))?)?$")
_CARETS_RE = re.compile(r"^\s*[\^~\s]+$")
_LIBRARY_RE = re.compile(r"/(?:site-packages|dist-packages)/|/lib/python\d+(?:\.\d+)?/")
_LIBRARY_MODULE_RE = re.compile(r"^.*/(?:site-packages|dist-packages|lib/python\d+(?:\.\d+)?)/")
# A line that starts a new log record rather than continuing an exception message.
_LOG_RECORD_RE = re.compile(
    r"^(?:\[?\d{4}-\d{2}-\d{2}[ T]"  # [2026-01-02 ...] / 2026-01-02T...
    r"|\[\d+\] "  # gunicorn worker pid
    r"|\S+ - \S+ \["  # access log: 127.0.0.1 - - [...]
    r"|(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b)"
)
_PSEUDO_FILE_RE = re.compile(r"^<(?:string|stdin|console|input)>$")

Chain = tuple[ExceptionInfo, ...]
Located = tuple[int, Chain]  # a chain and the index of the log line it starts on
# The "exception type" of a Sentry event that failed without one: a message event with a stack
# trace, or a crashed thread. The importer and the sandbox's sink name them alike.
SENTRY_MESSAGE_TYPE = "(message)"
SENTRY_THREAD_TYPE = "(thread)"


def is_library_path(filename: str) -> bool:
    """Whether a frame's file is library code (installed package or the standard library)."""
    path = filename.replace("\\", "/")
    return bool(_LIBRARY_RE.search(path)) or path.startswith("<frozen ")


def sentry_in_app(flag: object, filename: str | None, any_true: bool) -> bool:
    """Sentry's in-app rule for one frame of an exception: when some frame of it says
    ``in_app: true``, only those are; otherwise an explicit flag counts, and the rest are
    in-app unless their path is a library's (site-packages, dist-packages, the stdlib)."""
    if any_true:
        return flag is True
    if isinstance(flag, bool):
        return flag
    return filename is None or not is_library_path(filename)


def qualified_type_name(module: str | None, name: str) -> str:
    """The exception type as Python's traceback prints it: ``module.Name`` except builtins."""
    if not module or module in ("builtins", "__builtin__", "__builtins__", "exceptions"):
        return name
    if "." in name or "::" in name or "\\" in name:
        return name  # already qualified: System.ArgumentException, ActiveRecord::RecordInvalid
    if module == "__main__" or name.startswith(module + "."):
        return name
    return f"{module}.{name}"


def paths_are_modules(platform: str | None) -> bool:
    """Whether a Sentry frame's file path names its module (Python's does; a PHP, Ruby or Node
    path is no module name)."""
    return platform in (None, "", "python")


def module_from_filename(filename: str, roots: Sequence[str] = DEFAULT_ROOTS) -> str | None:
    """The dotted module of a source file: relative to the longest matching root, to the
    library directory for installed code, else the whole path (matching tolerates that by
    dotted suffix). ``<string>``/``<stdin>`` (a ``python -c`` script) is ``__main__``."""
    path = filename.replace("\\", "/")
    if _PSEUDO_FILE_RE.match(path):
        return "__main__"
    if path.startswith("<"):
        return None
    relative: str | None = None
    for root in sorted((r.rstrip("/") for r in roots), key=len, reverse=True):
        if root and path.startswith(root + "/"):
            relative = path[len(root) + 1 :]
            break
    if relative is None:
        library = _LIBRARY_MODULE_RE.match(path)
        relative = path[library.end() :] if library else path.lstrip("/")
    if relative.endswith(".py"):
        relative = relative[:-3]
    parts = [p for p in relative.split("/") if p and p != "."]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or None


def parse_tracebacks(log: str, roots: Sequence[str] = DEFAULT_ROOTS) -> list[Chain]:
    """Every exception chain printed in ``log``, in order of appearance; each chain is
    outermost LAST, frames caller -> callee."""
    return [chain for _line, chain in python_chains(log.splitlines(), roots)]


def python_chains(lines: Sequence[str], roots: Sequence[str] = DEFAULT_ROOTS) -> list[Located]:
    """:func:`parse_tracebacks` over lines, each chain with the index of its first line (so
    chains of several languages in one log can be put in order)."""
    chains: list[Located] = []
    i = floor = 0  # floor: lines before it belong to a chain already parsed
    while i < len(lines):
        col = lines[i].find(TRACEBACK_HEADER)
        if col < 0:
            i += 1
            continue
        parser = _ChainParser(lines, i + 1, lines[i][:col], roots)
        chain = parser.leading(start=i, floor=floor) + parser.parse()
        if chain:
            chains.append((i, chain))
        i = floor = max(parser.pos, i + 1)
    return chains


class _ChainParser:
    def __init__(self, lines: Sequence[str], pos: int, prefix: str, roots: Sequence[str]) -> None:
        self.lines = lines
        self.pos = pos
        self.roots = roots
        self.prefix = prefix
        # Same shape, other digits: timestamps change from line to line.
        self.prefix_re = re.compile(re.sub(r"\d", r"\\d", re.escape(prefix))) if prefix else None
        # Whether the block's lines carry the prefix too (docker --timestamps, compose), or
        # only the first did ("[...] ERROR in app: Traceback ...").
        self.prefixed = bool(prefix) and pos < len(lines) and self.has_prefix(pos)

    def has_prefix(self, index: int) -> bool:
        text = self.lines[index]
        return bool(self.prefix) and (
            text.startswith(self.prefix)
            or (self.prefix_re is not None and self.prefix_re.match(text) is not None)
        )

    def line(self, index: int) -> str | None:
        """Line ``index`` without the block's prefix; None past the end."""
        if index >= len(self.lines):
            return None
        text = self.lines[index]
        if not self.prefix:
            return text
        if text.startswith(self.prefix):
            return text[len(self.prefix) :]
        match = self.prefix_re.match(text) if self.prefix_re else None
        return text[match.end() :] if match else text

    def leading(self, start: int, floor: int) -> Chain:
        """Chained exceptions printed *before* the header at ``start`` without a traceback of
        their own (``raise X from ValueError(...)``: the cause was never raised). Only
        one-line messages are recognised there."""
        found: list[ExceptionInfo] = []
        index = start
        while True:
            marker = self._skip_blank_back(index - 1, floor)
            if marker < floor or (self.line(marker) or "").strip() not in CHAIN_MARKERS:
                break
            exc_index = self._skip_blank_back(marker - 1, floor)
            exc = _exception_line(self.line(exc_index) or "") if exc_index >= floor else None
            if exc is None:
                break
            found.insert(0, ExceptionInfo(type=exc[0], value=exc[1], frames=()))
            index = exc_index
        return tuple(found)

    def _skip_blank_back(self, index: int, floor: int) -> int:
        while index >= floor and not (self.line(index) or "").strip():
            index -= 1
        return index

    def parse(self) -> Chain:
        chain: list[ExceptionInfo] = []
        has_header = True
        while True:
            info = self.parse_one(has_header)
            if info is None:
                break
            chain.append(info)
            nxt = self.next_chain_start()
            if nxt is None:
                break
            has_header = nxt
        return tuple(chain)

    def parse_one(self, has_header: bool) -> ExceptionInfo | None:
        frames: list[Frame] = []
        noise = 0
        if not has_header:  # a chained exception that was never raised: no frames
            text = self.line(self.pos)
            exc = _exception_line(text) if text is not None else None
            if exc is None:
                return None
            self.pos += 1
            return ExceptionInfo(type=exc[0], value=self.message(exc[1]), frames=())
        while (text := self.line(self.pos)) is not None:
            match = _FRAME_RE.match(text)
            if match:
                self.pos += 1
                frames.append(self.frame(match))
                continue
            if text.startswith("    ") or not text.strip():
                self.pos += 1  # source we did not attach, "[Previous line repeated ...]"
                continue
            exc = _exception_line(text)
            if exc is not None:
                self.pos += 1
                type_name, message = exc
                return ExceptionInfo(
                    type=type_name, value=self.message(message), frames=tuple(frames)
                )
            if TRACEBACK_HEADER in text or noise >= MAX_NOISE_LINES:
                return None
            noise += 1  # another log record interleaved with the traceback
            self.pos += 1
        return None

    def frame(self, match: re.Match[str]) -> Frame:
        filename = match["file"]
        source: str | None = None
        # The source line (absent when the file is not readable), then maybe caret lines.
        while (text := self.line(self.pos)) is not None and text.startswith("    "):
            self.pos += 1
            if source is None and not _CARETS_RE.match(text):
                source = text.strip() or None
        function = match["func"]
        return Frame(
            module=module_from_filename(filename, self.roots),
            function=function.strip() if function else None,
            context_line=source,
            filename=filename,
            lineno=int(match["line"]),
            in_app=not is_library_path(filename),
        )

    def message(self, first: str | None) -> str | None:
        parts = [first] if first is not None else []
        while len(parts) < MAX_MESSAGE_LINES and (text := self.line(self.pos)) is not None:
            if (
                not text.strip()
                or TRACEBACK_HEADER in text
                or text.strip() in CHAIN_MARKERS
                or _LOG_RECORD_RE.match(text)
                # Every line of this block carried the prefix: one without it is another record.
                or (self.prefixed and not self.has_prefix(self.pos))
            ):
                break
            parts.append(text)
            self.pos += 1
        return "\n".join(parts) if parts else None

    def next_chain_start(self) -> bool | None:
        """After an exception: True when a chained traceback follows, False when a chained
        exception without traceback follows, None when the chain ends here."""
        index = self._skip_blank(self.pos)
        text = self.line(index)
        if text is None or text.strip() not in CHAIN_MARKERS:
            return None
        index = self._skip_blank(index + 1)
        text = self.line(index)
        if text is None:
            return None
        if text.strip() == TRACEBACK_HEADER:
            self.pos = index + 1
            return True
        if _exception_line(text) is not None:
            self.pos = index
            return False
        return None

    def _skip_blank(self, index: int) -> int:
        while (text := self.line(index)) is not None and not text.strip():
            index += 1
        return index


def _exception_line(text: str) -> tuple[str, str | None] | None:
    match = _EXC_RE.match(text.rstrip())
    if match is None:
        return None
    type_name = match["type"]
    last = type_name.rsplit(".", 1)[-1]
    if not last[:1].isupper() or last in LOG_LEVELS or type_name.endswith("."):
        return None
    return type_name, match["msg"]


def chains_types(chains: Iterable[Chain]) -> list[tuple[str, ...]]:
    """The exception types of each chain (handy in reports and tests)."""
    return [tuple(info.type for info in chain) for chain in chains]
