"""Java (and Kotlin, Scala: any JVM) stack traces, as ``Throwable.printStackTrace`` and the
logging frameworks (logback, log4j2) print them::

    Exception in thread "main" java.lang.RuntimeException: request failed
        at com.example.App.main(App.java:16)
        Suppressed: java.io.IOException: close failed
            at com.example.App.main(App.java:17)
    Caused by: java.lang.IllegalStateException: loading profile failed
        at com.example.App.load(App.java:7)
        at java.base/java.util.stream.ReferencePipeline$3$1.accept(ReferencePipeline.java:197)
        ... 9 more

The header is a qualified class name (``printStackTrace`` prints ``getClass().getName()``),
optionally after ``Exception in thread "..."``, with a message that may span lines. Frames are
innermost first and are reversed (caller -> callee); ``... N more`` stands for the enclosing
trace's last N frames, which are put back, as Sentry's Java SDK sends every frame. ``Caused
by:`` blocks are the causes, so the chain is reversed too (root cause first, the outermost
LAST, as ``sentry-java`` orders it). ``Suppressed:`` blocks are not part of the chain.

Names follow ``sentry-java``: the module is the class (``com.example.App$Repo``), the function
the method (``lambda$main$0``); a frame is in-app unless its class is the JDK's or a common
framework's (``java.``, ``jdk.``, ``org.springframework.``...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from repro.replay.incident import ExceptionInfo, Frame
from repro.replay.tracebacks import Located
from repro.replay.traces.common import MAX_CHAIN, MAX_FRAMES, MAX_MESSAGE_LINES, strip_line_prefix

_CLASS = r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+"
_HEADER = re.compile(
    rf"^(?:.*?Exception in thread \"[^\"]*\" |(?P<caused>Caused by: ))?(?P<type>{_CLASS})"
    r"(?::(?: (?P<msg>.*))?)?$"
)
_FRAME = re.compile(
    r"^\s+at (?:[\w.\-@]*/)*(?P<cls>[A-Za-z_$][\w$]*(?:\.[\w$]+)*)\.(?P<method>[\w$<>\-]+)"
    r"\((?P<loc>[^)]*)\)(?: ~?\[[^\]]*\])?\s*$"
)
_MORE = re.compile(r"^\s+\.\.\. (?P<n>\d+) (?:more|common frames omitted)\s*$")
_SUPPRESSED = re.compile(r"^\s+Suppressed: ")
_LOCATION = re.compile(r"^(?P<file>[^:]+)(?::(?P<line>\d+))?$")
# Classes whose frames are not the app's (sentry-java marks the app's by package; in a log
# only these prefixes tell them apart).
LIBRARY_PACKAGES = (
    "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.",
    "org.springframework.", "org.apache.", "org.hibernate.", "org.eclipse.jetty.", "io.netty.",
    "io.undertow.", "com.fasterxml.", "ch.qos.logback.", "org.slf4j.", "com.zaxxer.hikari.",
    "org.postgresql.", "reactor.", "io.micronaut.", "io.quarkus.", "io.vertx.", "akka.",
    "com.google.", "io.grpc.", "org.junit.", "org.gradle.", "groovy.", "org.codehaus.groovy.",
)  # fmt: skip


def java_chains(lines: Sequence[str]) -> list[Located]:
    """Every JVM stack trace in ``lines``: (index of its header line, chain)."""
    found: list[Located] = []
    i = 0
    while i < len(lines):
        header = _header(lines, i)
        if header is None or header["caused"]:
            i += 1
            continue
        first = _first_frame(lines, i)
        if first is None:
            i += 1
            continue
        chain: list[ExceptionInfo] = []
        enclosing: list[Frame] = []
        start, pos = i, i
        while header is not None and len(chain) < MAX_CHAIN:
            message = _message(lines, pos, first, header["msg"])
            frames, pos = _frames(lines, first, enclosing)
            chain.append(ExceptionInfo(header["type"], message, tuple(reversed(frames))))
            enclosing = frames
            header = _header(lines, pos)
            if header is None or not header["caused"]:
                break
            next_first = _first_frame(lines, pos)
            if next_first is None:
                chain.append(ExceptionInfo(header["type"], header["msg"], ()))
                pos += 1
                break
            first = next_first
        found.append((start, tuple(reversed(chain))))
        i = max(pos, i + 1)
    return found


def _header(lines: Sequence[str], pos: int) -> re.Match[str] | None:
    return _HEADER.match(strip_line_prefix(lines[pos]).rstrip()) if pos < len(lines) else None


def _first_frame(lines: Sequence[str], header: int) -> int | None:
    """The first frame line after a header (the message may span lines), or None."""
    for index in range(header + 1, min(len(lines), header + 1 + MAX_MESSAGE_LINES)):
        text = strip_line_prefix(lines[index])
        if _FRAME.match(text):
            return index
        if _HEADER.match(text.rstrip()) and index > header + 1:
            return None
    return None


def _message(lines: Sequence[str], header: int, first: int, text: str | None) -> str | None:
    more = [strip_line_prefix(line) for line in lines[header + 1 : first]]
    if text is None and not more:
        return None
    return "\n".join([text or "", *more]) if more else text


def _frames(lines: Sequence[str], first: int, enclosing: list[Frame]) -> tuple[list[Frame], int]:
    """The frames from ``first`` on, innermost first, and the index after them."""
    frames: list[Frame] = []
    pos = first
    while pos < len(lines):
        text = strip_line_prefix(lines[pos])
        match = _FRAME.match(text)
        if match is not None:
            if len(frames) < MAX_FRAMES:
                frames.append(_frame(match))
            pos += 1
            continue
        more = _MORE.match(text)
        if more is not None:
            count = int(more["n"])
            if 0 < count <= len(enclosing):
                frames.extend(enclosing[-count:])
            pos += 1
            continue
        if _SUPPRESSED.match(text):
            pos = _skip_suppressed(lines, pos)
            continue
        break
    return frames, pos


def _skip_suppressed(lines: Sequence[str], pos: int) -> int:
    indent = len(strip_line_prefix(lines[pos])) - len(strip_line_prefix(lines[pos]).lstrip())
    pos += 1
    while pos < len(lines):
        text = strip_line_prefix(lines[pos])
        deeper = len(text) - len(text.lstrip()) > indent
        if not text.strip() or not deeper:
            break
        pos += 1
    return pos


def _frame(match: re.Match[str]) -> Frame:
    cls, location = match["cls"], _LOCATION.match(match["loc"])
    filename = location["file"] if location else None
    if filename in ("Native Method", "Unknown Source"):
        filename = None
    lineno = int(location["line"]) if location and location["line"] else None
    return Frame(
        module=cls,
        function=match["method"],
        context_line=None,  # a JVM trace names lines, it does not print them
        filename=filename,
        lineno=lineno,
        in_app=not cls.startswith(LIBRARY_PACKAGES),
    )
