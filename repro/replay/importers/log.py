"""Access-log lines: nginx/Apache, AWS ALB/ELB, Heroku router, JSON lines (see
:mod:`log_formats` for every shape and the prefixes ``docker compose logs`` and ``kubectl logs``
put before them).

Gives method, path, query, status, time and whatever headers the format logs (Referer,
User-Agent, Host; a JSON line's request headers). Cookies and the body are not in an access log:
they are listed as lost. In a multi-line paste the first line with a 5xx status is used and
lines that are no log line of a known format are skipped; the summary says which and why.
"""

from __future__ import annotations

from repro.errors import IncidentError
from repro.replay.importers.base import ImportOptions, decode_text, finish, split_target
from repro.replay.importers.log_formats import LogRecord, Unreadable, parse_line
from repro.replay.incident import Incident, Lost, Provenance, Request, Signature

LABEL = "log"
NOT_LOGGED = "not in an access log"
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_SKIPPED_SHOWN = 5


class LogImporter:
    name = "log"
    summary = "access-log lines: nginx/Apache, AWS ALB, Heroku router or JSON (5xx picked)"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        lines = [
            (number, line)
            for number, line in enumerate(decode_text(data, LABEL).splitlines(), 1)
            if line.strip()
        ]
        records: list[tuple[int, LogRecord]] = []
        skipped: list[tuple[int, str]] = []
        for number, line in lines:
            try:
                records.append((number, parse_line(line)))
            except Unreadable as problem:
                skipped.append((number, str(problem)))
        if not records:
            number, why = skipped[0]
            if len(lines) == 1:
                raise IncidentError(
                    f"{LABEL}: the line: {why} (starts {lines[0][1].strip()[:40]!r})"
                )
            raise IncidentError(
                f"{LABEL}: none of the {len(lines)} lines is a readable log line "
                f"(line {number}: {why})"
            )
        number, record = _pick(records)
        if skipped:
            shown = ", ".join(f"{n} ({r})" for n, r in skipped[:_MAX_SKIPPED_SHOWN])
            more = len(skipped) - _MAX_SKIPPED_SHOWN
            options.notes.append(
                f"skipped {len(skipped)} unreadable line{'s' if len(skipped) != 1 else ''}: "
                f"{shown}{f' and {more} more' if more > 0 else ''}"
            )
        if len(records) > 1:
            options.notes.append(f"used line {number} of {len(lines)} ({record.format})")
        if record.note:
            options.notes.append(record.note)
        return _incident(record, options)


IMPORTER = LogImporter()


def _pick(records: list[tuple[int, LogRecord]]) -> tuple[int, LogRecord]:
    if len(records) == 1:
        return records[0]
    for number, record in records:
        if record.status is not None and record.status >= 500:
            return number, record
    raise IncidentError(
        f"{LABEL}: {len(records)} log lines and none with status >= 500; pass the one to replay"
    )


def _incident(record: LogRecord, options: ImportOptions) -> Incident:
    target = record.target
    if record.host and target.startswith("/"):
        target = f"http://{record.host}{target}"
    path, query, absolute = split_target(target, f"{LABEL}: request target")
    logged = ", ".join(name for name, _ in record.headers) or "none"
    lost = [
        Lost("headers", f"{NOT_LOGGED} (only these are: {logged})"),
        Lost("cookies", NOT_LOGGED),
        Lost("body", NOT_LOGGED, needs_standin=record.method.upper() not in _NO_BODY),
    ]
    if record.user:
        lost.append(
            Lost("header:Authorization", f"credential: {NOT_LOGGED} (an authenticated user was)")
        )
    request = Request(
        method=record.method,
        path=path,
        query=query,
        headers=list(record.headers),
        url=absolute,
    )
    status = record.status if options.status is None else options.status
    provenance = Provenance(source="log", timestamp=record.time, file=options.file)
    return finish(request, Signature(status, ()), provenance, lost, options, keep_method_case=True)
