"""The incident file (``repro.incident/v1``): one failing production request and how it failed.

It is the contract between the importers (Sentry, HAR, curl, access log), the sandbox that
replays the request and the verdict that compares what happened. Credentials are never in it:
they are ``<stand-in needed>`` placeholders in the request and fingerprints in ``lost``.

YAML layout (keys always in this order)::

    schema: repro.incident/v1
    provenance: {source, event_id, timestamp, release, environment, file}
    request: {method, path, url, query, headers, cookies, body, body_base64}   # pairs: [k, v]
             # a query pair [k, null] is a name without '=' (``?pretty``)
    signature: {status, exceptions: [{type, value, frames: [{module, function, context_line,
                filename, lineno, in_app}]}]}
    lost: [{where, why, fingerprint, needs_standin}]

``from_yaml`` is strict: a missing or mistyped field, an unknown key, another schema or a newer
major version is one :class:`IncidentError` line naming the field. Only ``schema``,
``request.method``, ``request.path``, ``signature`` and ``provenance.source`` are required; lists
default to empty and the rest to null, so a hand-written incident can stay short.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import yaml
from yaml.representer import SafeRepresenter

from repro.errors import IncidentError
from repro.inputfile import read_text
from repro.limits import load_yaml
from repro.outputfile import write_output
from repro.redaction import scrub_shapes

SCHEMA_NAME = "repro.incident"
SCHEMA_MAJOR = 1
SCHEMA_MINOR = 0
SCHEMA = f"{SCHEMA_NAME}/v{SCHEMA_MAJOR}"
STANDIN = "<stand-in needed>"
SOURCES = ("sentry", "har", "curl", "log")

# RFC 9110 token: methods are case-sensitive (curl -X wHat sends wHat).
_METHOD = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
QueryPair = tuple[str, str | None]
_FINGERPRINT = re.compile(r"^[a-z0-9-]+:[0-9a-f]+:[0-9a-f]+$")

FrameKey = tuple[str | None, str | None, str | None]
ExceptionKey = tuple[str, tuple[FrameKey, ...]]
SignatureKey = tuple[int | None, tuple[ExceptionKey, ...]]


@dataclass(frozen=True)
class Frame:
    module: str | None
    function: str | None
    context_line: str | None
    filename: str | None = None
    lineno: int | None = None  # informational only: never used for matching
    in_app: bool = True


@dataclass(frozen=True)
class ExceptionInfo:
    type: str
    value: str | None
    frames: tuple[Frame, ...]  # caller -> callee: the last frame raised


@dataclass(frozen=True)
class Signature:
    status: int | None
    exceptions: tuple[ExceptionInfo, ...]  # chain in Sentry order: the main one is LAST

    def key(self) -> SignatureKey:
        """What must match for REPRODUCED: never line numbers, file paths or messages, which
        change with every deploy (or hold data), only where the code failed and how."""
        return (
            self.status,
            tuple(
                (
                    exc.type,
                    tuple(
                        (f.module, f.function, _norm_line(f.context_line))
                        for f in exc.frames
                        if f.in_app
                    ),
                )
                for exc in self.exceptions
            ),
        )

    @property
    def main_exception(self) -> ExceptionInfo | None:
        return self.exceptions[-1] if self.exceptions else None


def _norm_line(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


@dataclass
class Request:
    method: str
    path: str
    query: list[QueryPair] = field(default_factory=list)  # None: a name without '='
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    body_base64: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Lost:
    where: str
    why: str
    fingerprint: str | None = None
    needs_standin: bool = True


@dataclass
class Provenance:
    source: str
    event_id: str | None = None
    timestamp: str | None = None
    release: str | None = None
    environment: str | None = None
    file: str | None = None


@dataclass
class Incident:
    request: Request
    signature: Signature
    provenance: Provenance
    lost: list[Lost] = field(default_factory=list)
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {
            "schema": self.schema,
            "provenance": {
                "source": self.provenance.source,
                "event_id": self.provenance.event_id,
                "timestamp": self.provenance.timestamp,
                "release": self.provenance.release,
                "environment": self.provenance.environment,
                "file": self.provenance.file,
            },
            "request": {
                "method": r.method,
                "path": r.path,
                "url": r.url,
                "query": [_Pair(p) for p in r.query],
                "headers": [_Pair(p) for p in r.headers],
                "cookies": [_Pair(p) for p in r.cookies],
                "body": r.body,
                "body_base64": r.body_base64,
            },
            "signature": {
                "status": self.signature.status,
                "exceptions": [
                    {
                        "type": exc.type,
                        "value": exc.value,
                        "frames": [
                            {
                                "module": f.module,
                                "function": f.function,
                                "context_line": f.context_line,
                                "filename": f.filename,
                                "lineno": f.lineno,
                                "in_app": f.in_app,
                            }
                            for f in exc.frames
                        ],
                    }
                    for exc in self.signature.exceptions
                ],
            },
            "lost": [
                {
                    "where": lost.where,
                    "why": lost.why,
                    "fingerprint": lost.fingerprint,
                    "needs_standin": lost.needs_standin,
                }
                for lost in self.lost
            ],
        }

    def to_yaml(self) -> str:
        return yaml.dump(
            self.to_dict(),
            Dumper=_FastDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )

    @classmethod
    def from_yaml(cls, text: str, where: str = "incident") -> Incident:
        try:
            raw = load_yaml(text, where, IncidentError)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise IncidentError(f"{where}: not valid YAML{at}") from None
        return cls.from_dict(raw, where)

    @classmethod
    def from_dict(cls, raw: Any, where: str = "incident") -> Incident:
        top = _Fields(raw, where, "")
        schema = top.req_str("schema")
        newer_minor = _check_schema(schema, where)
        top.lenient = newer_minor
        incident = cls(
            provenance=_provenance(top.obj("provenance", required=True)),
            request=_request(top.obj("request", required=True)),
            signature=_signature(top.obj("signature", required=True)),
            lost=[_lost(item) for item in top.list_of_obj("lost")],
            schema=schema,
        )
        top.done()
        return incident


class _Pair(tuple[str, str | None]):
    """A (name, value) pair, written as a one-line flow list: ``[Accept, text/html]``."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """SafeDumper plus readable pairs and multi-line bodies as literal blocks."""


def _represent_pair(dumper: SafeRepresenter, pair: _Pair) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(pair), flow_style=True)


def _represent_str(dumper: SafeRepresenter, text: str) -> yaml.Node:
    style = "|" if "\n" in text.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(_Pair, _represent_pair)
_Dumper.add_representer(str, _represent_str)

# libyaml's emitter writes a 50 MB body in about a second where the pure-Python one takes
# twenty: the same representers on the C dumper when PyYAML was built with libyaml.
if hasattr(yaml, "CSafeDumper"):

    class _CDumper(yaml.CSafeDumper):
        """CSafeDumper with the same representers as :class:`_Dumper`."""

    _CDumper.add_representer(_Pair, _represent_pair)
    _CDumper.add_representer(str, _represent_str)
    _FastDumper: type[yaml.SafeDumper] | type[yaml.CSafeDumper] = _CDumper
else:  # pragma: no cover - PyYAML without libyaml
    _FastDumper = _Dumper


def encode_query(pairs: list[QueryPair]) -> str:
    """``[("q", "a b"), ("pretty", None)]`` -> ``q=a+b&pretty``: a name without ``=`` stays so."""
    return "&".join(
        quote_plus(name) if value is None else f"{quote_plus(name)}={quote_plus(value)}"
        for name, value in pairs
    )


def parse_query(text: str) -> list[QueryPair]:
    """The inverse of :func:`encode_query` (``parse_qsl`` would turn ``pretty`` into
    ``pretty=``)."""
    out: list[QueryPair] = []
    for part in text.split("&"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        out.append((unquote_plus(name), unquote_plus(value) if sep else None))
    return out


def _check_schema(schema: str, where: str) -> bool:
    """Returns whether the file is a newer *minor* version (unknown keys are then tolerated)."""
    match = re.fullmatch(re.escape(SCHEMA_NAME) + r"/v(\d+)(?:\.(\d+))?", schema)
    if not match:
        raise IncidentError(
            f"{where}: schema: not a repro incident ({schema!r}, expected {SCHEMA!r})"
        )
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if major > SCHEMA_MAJOR:
        raise IncidentError(
            f"{where}: written by a newer repro (schema {schema}); this repro reads up to "
            f"{SCHEMA} — upgrade repro"
        )
    if major < SCHEMA_MAJOR:
        raise IncidentError(f"{where}: schema: unsupported old version {schema!r}")
    return minor > SCHEMA_MINOR


class _Fields:
    """Typed access to one YAML mapping that names the field in every error."""

    def __init__(self, raw: Any, where: str, path: str, lenient: bool = False) -> None:
        self.where = where
        self.path = path
        self.lenient = lenient
        if not isinstance(raw, dict):
            raise IncidentError(f"{where}: {path or 'top level'} is not a mapping")
        self.raw = raw
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> IncidentError:
        return IncidentError(f"{self.where}: {self.name(key)} {problem}")

    def get(self, key: str, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.raw or (required and self.raw[key] is None):
            if required:
                raise self.fail(key, "is missing")
            return None
        return self.raw[key]

    def req_str(self, key: str) -> str:
        value = self.get(key, required=True)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a non-empty string, not {_kind(value)}")
        return value

    def opt_str(self, key: str) -> str | None:
        value = self.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be a string or null, not {_kind(value)}")
        return value

    def opt_int(self, key: str) -> int | None:
        value = self.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.fail(key, f"must be an integer or null, not {_kind(value)}")
        return value

    def bool_(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def obj(self, key: str, required: bool = False) -> _Fields:
        value = self.get(key, required=required)
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, not {_kind(value)}")
        return _Fields(value, self.where, self.name(key), self.lenient)

    def list_of_obj(self, key: str) -> list[_Fields]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list, not {_kind(value)}")
        return [
            _Fields(item, self.where, f"{self.name(key)}[{i}]", self.lenient)
            for i, item in enumerate(value)
        ]

    def pairs(self, key: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for name, value in self.query_pairs(key, allow_null=False):
            assert value is not None
            out.append((name, value))
        return out

    def query_pairs(self, key: str, allow_null: bool = True) -> list[QueryPair]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"must be a list of [name, value] pairs, not {_kind(value)}")
        out: list[QueryPair] = []
        for i, item in enumerate(value):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], str)
                or not (isinstance(item[1], str) or (allow_null and item[1] is None))
            ):
                what = "strings (or [name, null])" if allow_null else "strings"
                raise IncidentError(
                    f"{self.where}: {self.name(key)}[{i}] must be a [name, value] pair of {what}"
                )
            out.append((item[0], item[1]))
        return out

    def done(self) -> None:
        unknown = sorted(str(k) for k in self.raw if k not in self.used)
        if unknown and not self.lenient:
            raise self.fail(unknown[0], "is not a known field (a typo?)")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _provenance(f: _Fields) -> Provenance:
    source = f.req_str("source")
    if source not in SOURCES:
        raise f.fail("source", f"must be one of {', '.join(SOURCES)}, not {source!r}")
    timestamp = f.opt_str("timestamp")
    if timestamp is not None:
        try:
            datetime.fromisoformat(timestamp)
        except ValueError:
            raise f.fail("timestamp", f"is not an ISO 8601 time: {timestamp!r}") from None
    out = Provenance(
        source=source,
        event_id=f.opt_str("event_id"),
        timestamp=timestamp,
        release=f.opt_str("release"),
        environment=f.opt_str("environment"),
        file=f.opt_str("file"),
    )
    f.done()
    return out


def _request(f: _Fields) -> Request:
    method = f.req_str("method")
    if not _METHOD.match(method):
        raise f.fail("method", f"is not an HTTP method (a token): {method[:40]!r}")
    path = f.req_str("path")
    if not (path.startswith("/") or path == "*") or "?" in path or "#" in path:
        raise f.fail("path", f"must start with '/' and hold no query or fragment: {path!r}")
    body, body64 = f.opt_str("body"), f.opt_str("body_base64")
    if body is not None and body64 is not None:
        raise f.fail("body_base64", "is set together with body (at most one of them)")
    if body64 is not None:
        try:
            base64.b64decode(body64, validate=True)
        except (binascii.Error, ValueError):
            raise f.fail("body_base64", "is not valid base64") from None
    out = Request(
        method=method,
        path=path,
        url=f.opt_str("url"),
        query=f.query_pairs("query"),
        headers=f.pairs("headers"),
        cookies=f.pairs("cookies"),
        body=body,
        body_base64=body64,
    )
    f.done()
    return out


def _signature(f: _Fields) -> Signature:
    status = f.opt_int("status")
    if status is not None and not 100 <= status <= 599:
        raise f.fail("status", f"is not an HTTP status (100-599): {status}")
    exceptions = []
    for e in f.list_of_obj("exceptions"):
        frames = []
        for fr in e.list_of_obj("frames"):
            frames.append(
                Frame(
                    module=fr.opt_str("module"),
                    function=fr.opt_str("function"),
                    context_line=fr.opt_str("context_line"),
                    filename=fr.opt_str("filename"),
                    lineno=fr.opt_int("lineno"),
                    in_app=fr.bool_("in_app", True),
                )
            )
            fr.done()
        exceptions.append(
            ExceptionInfo(type=e.req_str("type"), value=e.opt_str("value"), frames=tuple(frames))
        )
        e.done()
    f.done()
    return Signature(status=status, exceptions=tuple(exceptions))


def _lost(f: _Fields) -> Lost:
    fingerprint = f.opt_str("fingerprint")
    if fingerprint is not None and not _FINGERPRINT.match(fingerprint):
        raise f.fail("fingerprint", "is not a repro fingerprint (algorithm:key-id:hex)")
    out = Lost(
        where=f.req_str("where"),
        why=f.req_str("why"),
        fingerprint=fingerprint,
        needs_standin=f.bool_("needs_standin", True),
    )
    f.done()
    return out


def load_incident(path: str | Path) -> Incident:
    path = Path(path)
    text = read_text(path, IncidentError, noun="incident file")
    return Incident.from_yaml(text, str(path))


def _free_text_scrubbed(incident: Incident) -> Incident:
    """The last guard before an incident leaves the process: exception messages and source
    lines are free text from another machine, scrubbed of secret shapes by the one detector
    (the importers already replaced every credential in the request)."""
    exceptions = tuple(
        replace(
            exc,
            value=scrub_shapes(exc.value) if exc.value else exc.value,
            frames=tuple(
                replace(f, context_line=scrub_shapes(f.context_line)) if f.context_line else f
                for f in exc.frames
            ),
        )
        for exc in incident.signature.exceptions
    )
    return replace(incident, signature=replace(incident.signature, exceptions=exceptions))


def write_incident(incident: Incident, path_or_dash: str | Path, *, force: bool = False) -> None:
    """``-`` writes to stdout; a file by :mod:`repro.outputfile`'s rules: whole or not at all,
    0600 (a production request: URLs, bodies, client addresses), replaced only with
    ``force``."""
    text = _free_text_scrubbed(incident).to_yaml()
    if str(path_or_dash) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_output(Path(path_or_dash), text, force=force, private=True)


def lost_label(lost: Lost) -> str:
    """A word or two for summaries: ``header:Authorization (credential)``."""
    why = lost.why.lower()
    for needle, label in (
        ("credential", "credential"),
        ("[filtered]", "filtered"),
        ("filtered", "filtered"),
        ("truncat", "truncated"),
        ("removed", "removed"),
        ("access log", "not logged"),
        ("omitted", "omitted"),
        ("not read", "not read"),
    ):
        if needle in why:
            return label
    return why.split(" (")[0][:30]


def describe(incident: Incident) -> str:
    """One line: ``POST /checkout -> 500 KeyError; 2 parts lost: header:Authorization
    (credential), body (truncated)``. Never holds a value: only names and types."""
    status = incident.signature.status
    main = incident.signature.main_exception
    outcome = " ".join(str(part) for part in (status, main.type if main else None) if part)
    if status is None:
        outcome = f"{outcome} (status unknown)" if outcome else "status unknown"
    text = f"{incident.request.method} {incident.request.path} -> {outcome}"
    if incident.lost:
        parts = ", ".join(f"{lost.where} ({lost_label(lost)})" for lost in incident.lost)
        n = len(incident.lost)
        text += f"; {n} part{'s' if n != 1 else ''} lost: {parts}"
    else:
        text += "; nothing lost"
    return text
