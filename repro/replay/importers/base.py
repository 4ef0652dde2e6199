"""What an importer is, and what every importer shares.

An importer turns one export (a Sentry event, a HAR, a curl command, an access-log line) into an
:class:`~repro.replay.incident.Incident`. It is tolerant of what real exporters write and strict
about anything else: every problem is one :class:`IncidentError` line saying what is wrong and
where (``sentry event: exception.values[0].stacktrace.frames[3] is not an object``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from repro.errors import IncidentError
from repro.limits import load_json as limited_json
from repro.redaction import Redactor, load_key
from repro.replay.credentials import FILTER_MARKERS, Protector, clean_url
from repro.replay.incident import (
    ExceptionInfo,
    Incident,
    Lost,
    Provenance,
    QueryPair,
    Request,
    Signature,
    parse_query,
)

# Recomputed or meaningless on replay; a stale Content-Length would even break a changed body.
_DROP_HEADERS = frozenset(
    {
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "proxy-connection",
        "trailer",
    }
)


def _default_redactor() -> Redactor:
    return Redactor(load_key(create=False))


@dataclass
class ImportOptions:
    redactor: Redactor = field(default_factory=_default_redactor)
    file: str | None = None  # the imported file's name, for provenance
    entry: int | None = None  # har: 0-based entry index
    match: str | None = None  # har: regex on the entry's URL
    status: int | None = None  # the status production returned (curl, log, sentry without one)
    # --traceback: production's exception chain as its log printed it (outermost last)
    exceptions: tuple[ExceptionInfo, ...] = ()
    # What the importer skipped or assumed, for the summary line (never values).
    notes: list[str] = field(default_factory=list)


class Importer(Protocol):
    name: str
    summary: str

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        """Raise IncidentError (one line) for anything malformed; never another exception."""
        ...


class Node:
    """A JSON value plus the path it came from, so every type error names its place."""

    def __init__(self, value: Any, path: str, label: str) -> None:
        self.value = value
        self.path = path
        self.label = label

    def fail(self, problem: str) -> IncidentError:
        where = f"{self.path} " if self.path else ""
        return IncidentError(f"{self.label}: {where}{problem}")

    def child(self, key: str | int) -> Node:
        # A missing container gives missing children; a container of the wrong type is an
        # error here, where the path still names it.
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
            if self.value is not None and not isinstance(self.value, list):
                raise self.fail(f"is not a list ({_kind(self.value)})")
            value = self.value[key] if self.value is not None and key < len(self.value) else None
        else:
            path = f"{self.path}.{key}" if self.path else key
            if self.value is not None and not isinstance(self.value, dict):
                raise self.fail(f"is not an object ({_kind(self.value)})")
            value = self.value.get(key) if self.value is not None else None
        return Node(value, path, self.label)

    def __getitem__(self, key: str | int) -> Node:
        return self.child(key)

    @property
    def missing(self) -> bool:
        return self.value is None

    def obj(self, optional: bool = False) -> dict[str, Any]:
        if optional and self.value is None:
            return {}
        if not isinstance(self.value, dict):
            raise self.fail(f"is not an object ({_kind(self.value)})")
        return self.value

    def items(self, optional: bool = True) -> list[Node]:
        if optional and self.value is None:
            return []
        if not isinstance(self.value, list):
            raise self.fail(f"is not a list ({_kind(self.value)})")
        return [self.child(i) for i in range(len(self.value))]

    def str_(self, optional: bool = True) -> str | None:
        if self.value is None and optional:
            return None
        if not isinstance(self.value, str):
            raise self.fail(f"is not a string ({_kind(self.value)})")
        return self.value

    def req_str(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"is not a string ({_kind(self.value)})")
        return self.value

    def text(self, optional: bool = True) -> str | None:
        """A string, or a number/boolean written as one (exporters disagree on which)."""
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, int | float):
            return str(self.value)
        return self.str_(optional)

    def int_(self, optional: bool = True) -> int | None:
        v = self.value
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise self.fail(f"is not an integer ({_kind(v)})")
        try:
            number = float(v)
        except ValueError:
            raise self.fail(f"is not an integer ({v!r})") from None
        if not number.is_integer():
            raise self.fail(f"is not an integer ({v!r})")
        return int(number)

    def bool_(self, default: bool) -> bool:
        if self.value is None:
            return default
        if not isinstance(self.value, bool):
            raise self.fail(f"is not true/false ({_kind(self.value)})")
        return self.value

    def pairs(self) -> list[tuple[str, str]]:
        """Name/value pairs from an object, a list of [name, value] pairs or a list of
        {name, value} (HAR) / {key, value} (Sentry tags) objects. Null values are skipped."""
        v = self.value
        if v is None:
            return []
        out: list[tuple[str, str]] = []
        if isinstance(v, dict):
            for key in v:
                value = self.child(key)
                if isinstance(value.value, list):  # {"a": ["1", "2"]}: a repeated name
                    out.extend((key, t) for t in (i.text() for i in value.items()) if t is not None)
                    continue
                text = value.text()
                if text is not None:
                    out.append((key, text))
            return out
        for item in self.items():
            if isinstance(item.value, list):
                if len(item.value) != 2:
                    raise item.fail("is not a [name, value] pair")
                name, val = item.child(0).text(optional=False), item.child(1).text()
            elif isinstance(item.value, dict):
                key = "name" if "name" in item.value else "key"
                name, val = item[key].text(optional=False), item["value"].text()
            else:
                raise item.fail(f"is not a [name, value] pair ({_kind(item.value)})")
            if name is not None and val is not None:
                out.append((name, val))
        return out


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def load_json(data: bytes, label: str) -> Any:
    text = decode_text(data, label)
    try:
        return limited_json(text, label, IncidentError)
    except json.JSONDecodeError as exc:
        raise IncidentError(
            f"{label}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def decode_text(data: bytes, label: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IncidentError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise IncidentError(f"{label}: empty input")
    return text


def iso_time(value: Any, node: Node) -> str | None:
    """An epoch number or an ISO 8601 string as ISO 8601 (UTC when it was an epoch)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            raise node.fail(f"is not a time ({value!r})") from None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            pass
        try:
            return datetime.fromtimestamp(float(value), UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            raise node.fail(f"is not an ISO 8601 time ({value[:40]!r})") from None
    raise node.fail(f"is not a time ({_kind(value)})")


def split_target(target: str, label: str) -> tuple[str, list[QueryPair], str | None]:
    """``http://h/p?q=1`` or ``/p?q=1`` -> (path, query pairs, absolute URL or None)."""
    try:
        parts = urlsplit(target.strip())
    except ValueError:
        raise IncidentError(f"{label}: unreadable URL {target[:80]!r}") from None
    if parts.scheme and parts.scheme not in ("http", "https"):
        raise IncidentError(f"{label}: not an http(s) URL: {target[:80]!r}")
    path = parts.path or "/"
    if not path.startswith("/"):
        raise IncidentError(f"{label}: URL path must start with '/': {target[:80]!r}")
    query = parse_query(parts.query)
    url = target.strip() if parts.scheme else None
    return path, query, url


def status_code(value: Any, node: Node) -> int | None:
    if value is None or value == "":
        return None
    code = node.int_()
    if code is None or code == 0:
        return None  # HAR: 0 means no response (blocked, aborted)
    if not 100 <= code <= 599:
        raise node.fail(f"is not an HTTP status ({code})")
    return code


def parse_cookie_header(value: str) -> list[tuple[str, str]]:
    out = []
    for part in value.split(";"):
        name, sep, val = part.strip().partition("=")
        if name and sep:
            out.append((name.strip(), val.strip()))
    return out


def finish(
    request: Request,
    signature: Signature,
    provenance: Provenance,
    lost: list[Lost],
    options: ImportOptions,
    filtered_why: str = "filtered in the export (value hidden)",
    *,
    keep_method_case: bool = False,
) -> Incident:
    """What every importer does last: tidy headers, hide credentials, scrub messages.
    Methods are upper-cased unless the source sends them as written (curl -X wHat does)."""
    headers: list[tuple[str, str]] = []
    cookie_header: list[tuple[str, str]] = []
    for name, value in request.headers:
        lowered = name.lower()
        if name.startswith(":") or lowered in _DROP_HEADERS:
            continue
        if lowered == "cookie":
            if value in FILTER_MARKERS:
                if not request.cookies:
                    lost.append(Lost("cookies", filtered_why))
            else:
                cookie_header.extend(parse_cookie_header(value))
            continue
        headers.append((name, value))
    request.headers = headers
    if not request.cookies:
        request.cookies = cookie_header
    if request.method and not keep_method_case:
        request.method = request.method.upper()
    if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", request.method):
        raise IncidentError(f"{provenance.source}: {request.method[:20]!r} is not an HTTP method")

    if options.exceptions:
        if signature.exceptions:
            raise IncidentError(
                f"{provenance.source}: the capture has its own exception; --traceback is for "
                "a capture without one"
            )
        signature = type(signature)(status=signature.status, exceptions=options.exceptions)

    protector = Protector(options.redactor, filtered_why)
    credential_lost = protector.protect(request)
    request.url = clean_url(request)

    redactor = options.redactor
    exceptions = tuple(
        type(exc)(
            type=exc.type,
            value=redactor.scrub(exc.value) if exc.value is not None else None,
            frames=tuple(
                type(f)(
                    module=f.module,
                    function=f.function,
                    context_line=redactor.scrub(f.context_line)
                    if f.context_line is not None
                    else None,
                    filename=f.filename,
                    lineno=f.lineno,
                    in_app=f.in_app,
                )
                for f in exc.frames
            ),
        )
        for exc in signature.exceptions
    )
    seen: set[str] = set()
    merged: list[Lost] = []
    for item in [*lost, *credential_lost]:
        if item.where not in seen:
            seen.add(item.where)
            merged.append(item)
    return Incident(
        request=request,
        signature=type(signature)(status=signature.status, exceptions=exceptions),
        provenance=provenance,
        lost=merged,
    )
