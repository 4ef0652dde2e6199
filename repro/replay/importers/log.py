"""An access-log line: nginx/Apache "combined" or "common" format.

``1.2.3.4 - user [10/Oct/2026:13:55:36 +0000] "GET /path?q=1 HTTP/1.1" 500 2326 "referer" "agent"``

Gives method, path, query, status, time and (combined) Referer and User-Agent. Headers, cookies
and the body are not in an access log: they are listed as lost. Given several lines, the first
one with a 5xx status is used.
"""

from __future__ import annotations

import re
from datetime import datetime

from repro.errors import IncidentError
from repro.replay.importers.base import ImportOptions, decode_text, finish, split_target
from repro.replay.incident import Incident, Lost, Provenance, Request, Signature

LABEL = "log"
NOT_LOGGED = "not in an access log"
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_LINE = re.compile(
    r"^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    + _QUOTED.replace("(", "(?P<request>", 1)
    + r" (?P<status>\d{3}|-) (?P<size>\d+|-)"
    + r"(?: "
    + _QUOTED.replace("(", "(?P<referer>", 1)
    + " "
    + _QUOTED.replace("(", "(?P<agent>", 1)
    + r")?(?:\s.*)?$"
)
_REQUEST = re.compile(r"^(?P<method>[A-Za-z][A-Za-z0-9_-]*) (?P<target>\S+)(?: HTTP/[0-9.]+)?$")
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class LogImporter:
    name = "log"
    summary = "an nginx/Apache access-log line (combined or common format)"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        lines = [line.strip() for line in decode_text(data, LABEL).splitlines() if line.strip()]
        matches = []
        for number, line in enumerate(lines, 1):
            m = _LINE.match(line)
            if m is None:
                where = f"line {number}" if len(lines) > 1 else "the line"
                raise IncidentError(
                    f"{LABEL}: {where} is not an access-log line in combined or common format "
                    f"(starts {line[:40]!r})"
                )
            matches.append(m)
        if len(matches) == 1:
            return _incident(matches[0], options)
        for m in matches:
            if m.group("status").isdigit() and int(m.group("status")) >= 500:
                return _incident(m, options)
        raise IncidentError(
            f"{LABEL}: {len(matches)} lines and none with status >= 500; pass the one to replay"
        )


IMPORTER = LogImporter()


def _unescape(text: str) -> str:
    # nginx writes \xHH for quotes and control bytes; Apache writes \" and \\.
    text = re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"\\(.)", r"\1", text)


def _incident(m: re.Match[str], options: ImportOptions) -> Incident:
    request_line = _unescape(m.group("request"))
    rm = _REQUEST.match(request_line)
    if rm is None:
        raise IncidentError(
            f"{LABEL}: request {request_line[:60]!r} is not 'METHOD /target HTTP/x' "
            "(a malformed or non-HTTP request)"
        )
    method = rm.group("method").upper()
    path, query, absolute = split_target(rm.group("target"), f"{LABEL}: request target")
    headers: list[tuple[str, str]] = []
    for name, group in (("Referer", "referer"), ("User-Agent", "agent")):
        value = m.group(group)
        if value is not None and value not in ("", "-"):
            headers.append((name, _unescape(value)))
    status = int(m.group("status")) if m.group("status").isdigit() else None
    try:
        when = datetime.strptime(m.group("time"), "%d/%b/%Y:%H:%M:%S %z").isoformat()
    except ValueError:
        raise IncidentError(
            f"{LABEL}: time [{m.group('time')[:40]}] is not dd/Mon/yyyy:HH:MM:SS +zzzz"
        ) from None
    lost = [
        Lost("headers", f"{NOT_LOGGED} (only Referer and User-Agent are)"),
        Lost("cookies", NOT_LOGGED),
        Lost("body", NOT_LOGGED, needs_standin=method not in _NO_BODY),
    ]
    if m.group("user") != "-":
        lost.append(
            Lost("header:Authorization", f"credential: {NOT_LOGGED} (an authenticated user was)")
        )
    request = Request(method=method, path=path, query=query, headers=headers, url=absolute)
    provenance = Provenance(source="log", timestamp=when, file=options.file)
    return finish(request, Signature(status, ()), provenance, lost, options)
