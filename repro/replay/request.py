"""The incident's request, made sendable: stand-ins in, markers and hop-by-hop headers out.

An incident never holds a credential: each one is the ``<stand-in needed>`` marker, listed in
``lost``. :func:`prepare` puts an explicit stand-in value (``--auth``, ``--stand-in``, the
profile's ``sandbox.stand_ins``) at each such place, and leaves out every part that has none:
the marker is never sent, since an app that receives it fails for a reason production never
saw. What was left out is returned as ``unfilled`` so the report says what the replay lacked.

:func:`send` replays the prepared request once over plain ``http.client`` and never raises for
transport trouble: a refused connection or a timeout is evidence about the sandbox, not a crash.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import re
import socket
import string
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from repro.errors import UsageError
from repro.replay import formbody
from repro.replay.credentials import content_type
from repro.replay.incident import STANDIN, Incident, Lost, encode_query
from repro.replay.outcome import StandIn
from repro.text import one_line

MAX_RESPONSE_BYTES = 1024 * 1024
# Recomputed by the sender (Content-Length) or about one connection, not the request.
HOP_BY_HOP = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "upgrade",
        "te",
        "trailer",
    }
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_KINDS = ("header", "cookie", "query", "body", "path")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_LINE_BREAK = re.compile(r"[\r\n\x00]")
_FORM = formbody.FORM_SHAPE
_V = TypeVar("_V", str, str | None)
# Only what http.client refuses in a request line (controls, space) and non-ASCII is encoded:
# the rest of the path is sent exactly as production received it.
_PATH_SAFE = string.punctuation
# The marker as it may sit in a text body that was URL-encoded after it was put there.
_MARKER_FORMS = (STANDIN, quote_plus(STANDIN), quote(STANDIN))
UNLISTED = "stand-in marker in the request, not listed in lost"
_USAGE = "WHERE=VALUE, WHERE one of header:NAME, cookie:NAME, query:NAME, body, body:FIELD, path"


@dataclass
class PreparedRequest:
    method: str
    target: str  # path + "?" + encoded query (query kept in the incident's order)
    headers: list[tuple[str, str]]
    body: bytes | None


@dataclass
class Response:
    status: int | None
    error: str | None  # one line: "connection refused", "timed out after 30 s", ...
    seconds: float


def parse_stand_in(text: str) -> tuple[str, str]:
    """``'header:Authorization=Bearer x'`` -> ``('header:Authorization', 'Bearer x')``.

    The place is before the FIRST ``=`` (values, such as base64 tokens, often hold ``=``).
    Errors never quote the text: a user who typed only the token must not see it echoed
    into a terminal log or CI output."""
    where, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--stand-in: no '=' in the argument (expected {_USAGE})")
    problem = where_problem(where)
    if problem is not None:
        raise UsageError(f"--stand-in: {problem} (expected {_USAGE}; the value is not shown)")
    where = _normal_kind(where)
    value_problem = _value_problem(where, value)
    if value_problem is not None:
        raise UsageError(f"--stand-in {where}: {value_problem}")
    return where, value


def where_problem(where: str) -> str | None:
    """Why ``where`` names no place a stand-in can fill (never quoting it), or None."""
    kind, sep, name = where.partition(":")
    kind = kind.lower()
    if kind not in _KINDS:
        return "the place must start with header:, cookie:, query: or body"
    if kind == "path":
        return "path takes no name (path=/the/real/path)" if sep else None
    if kind == "body":
        return "an empty field name after body:" if sep and not name else None
    if not sep or not name:
        return f"an empty name after {kind}:"
    if kind == "header" and not _TOKEN.match(name):
        return "not a valid header name after header:"
    if kind == "cookie" and (";" in name or not name.strip()):
        return "not a valid cookie name after cookie:"
    return None


def _normal_kind(where: str) -> str:
    kind, sep, name = where.partition(":")
    return f"{kind.lower()}{sep}{name}"


def _value_problem(where: str, value: str) -> str | None:
    kind = where.partition(":")[0]
    if kind == "path" and (not value.startswith("/") or re.search(r"[\s?#]", value)):
        return "a path starts with '/' and holds no space, '?' or '#'"
    if kind in ("header", "cookie") and _LINE_BREAK.search(value):
        return "the value holds a line break or NUL, which cannot be sent in a header"
    if kind == "cookie" and ";" in value:
        return "the value holds ';', which would split the Cookie header"
    return None


def canonical(where: str) -> str:
    """The key two spellings of one place share: header names are case-insensitive, and a
    JSON field is ``items[0].token`` in lost entries from repro's credential check but
    ``items.0.token`` in those from Sentry's ``_meta``."""
    kind, sep, name = where.partition(":")
    kind = kind.lower()
    if kind == "header":
        return f"header:{name.lower()}"
    if kind == "body" and sep and name != "$":
        return "body:" + ".".join(_json_keys(name))
    return f"{kind}{sep}{name}"


def _json_keys(path: str) -> tuple[str, ...]:
    # "[0].token" (a list at the root) is "0.token"
    return tuple(re.sub(r"\[(\d+)\]", r".\1", path).removeprefix(".").split("."))


@dataclass
class _Plan:
    """What :func:`prepare` decided per canonical place, and what it actually used."""

    values: dict[str, tuple[str, str, str]]  # canonical -> (where as given, value, source)
    drop: set[str]  # canonical places lost without a stand-in: left out
    listed: dict[str, str]  # canonical -> where as the incident's lost names it
    used: dict[str, StandIn] = field(default_factory=dict)
    unlisted: list[Lost] = field(default_factory=list)  # markers found where lost says none

    def fill(self, key: str) -> str | None:
        """The stand-in value for one place (recording its use), or None."""
        found = self.values.get(key)
        if found is None:
            return None
        where, value, source = found
        self.used.setdefault(key, StandIn(self.listed.get(key, where), source))
        return value

    def left_out(self, key: str, where: str, value: str) -> bool:
        """Whether a part without a stand-in stays out of the request."""
        if key in self.drop:
            return True
        if _has_marker(value):
            self.unlisted.append(Lost(where, UNLISTED))
            self.drop.add(key)
            return True
        return False


def prepare(
    incident: Incident, stand_ins: Mapping[str, tuple[str, str]]
) -> tuple[PreparedRequest, list[StandIn], list[Lost]]:
    """The request to send, the stand-ins actually used and the lost parts left out.

    ``stand_ins`` maps a place (``header:Authorization``) to (value, source label). A stand-in
    for a place the incident did not lose still applies: it adds or replaces that header,
    cookie or query parameter (or field of a form or JSON object body), or the whole body."""
    plan = _plan(incident, stand_ins)
    request = incident.request
    headers = _pairs(_plain_headers(request.headers), "header", plan)
    cookies = _pairs(_cookie_list(request.cookies, request.headers), "cookie", plan)
    if cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
    query = _pairs(request.query, "query", plan)
    path = plan.fill("path") or request.path
    if STANDIN in path:
        raise UsageError(
            "the incident's path holds a credential (lost: path): give the real path with "
            "--stand-in path=/..."
        )
    target = quote(path, safe=_PATH_SAFE)
    if query:
        target += "?" + encode_query(query)
    body = _body(incident, plan)
    prepared = PreparedRequest(request.method, target, headers, body)
    return prepared, list(plan.used.values()), _unfilled(incident, plan)


def _plan(incident: Incident, stand_ins: Mapping[str, tuple[str, str]]) -> _Plan:
    values: dict[str, tuple[str, str, str]] = {}
    for where, (value, source) in stand_ins.items():
        problem = where_problem(where) or _value_problem(_normal_kind(where), value)
        if problem is not None:
            # Only the place is named: it is a key the user wrote, never the value.
            raise UsageError(f"stand-in {where!r} from {source}: {problem}")
        values[canonical(where)] = (where, value, source)
    listed = {canonical(lost.where): lost.where for lost in incident.lost}
    drop = {
        canonical(lost.where)
        for lost in incident.lost
        if lost.needs_standin and canonical(lost.where) not in values
    }
    return _Plan(values, drop, listed)


def _unfilled(incident: Incident, plan: _Plan) -> list[Lost]:
    """Lost parts that went without a value: no stand-in, or one that found no place (a body
    field of a body that was not sent). A whole-body stand-in covers the body's fields."""

    def covered(key: str) -> bool:
        return key in plan.used or (key.startswith("body:") and "body" in plan.used)

    out = [
        lost for lost in incident.lost if lost.needs_standin and not covered(canonical(lost.where))
    ]
    out += [lost for lost in plan.unlisted if canonical(lost.where) not in plan.listed]
    seen: set[str] = set()
    unique: list[Lost] = []
    for lost in out:
        if lost.where not in seen:
            seen.add(lost.where)
            unique.append(lost)
    return unique


def _pairs(pairs: Sequence[tuple[str, _V]], kind: str, plan: _Plan) -> list[tuple[str, _V]]:
    """Headers, cookies, query parameters or form fields, in order: stand-ins put in place
    (or added at the end), parts lost without one left out."""
    out: list[tuple[str, _V]] = []
    for name, value in pairs:
        key = canonical(f"{kind}:{name}")
        filled = plan.fill(key)
        if filled is not None:
            out.append((name, filled))
        elif not plan.left_out(key, f"{kind}:{name}", value or ""):
            out.append((name, value))
    present = {canonical(f"{kind}:{name}") for name, _ in pairs}
    for key, (where, _value, _source) in plan.values.items():
        if key.startswith(f"{kind}:") and key not in present and key != "body:$":
            filled = plan.fill(key)
            assert filled is not None
            out.append((where.partition(":")[2], filled))
    return out


def _plain_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Captured headers minus hop-by-hop ones, pseudo-headers and Cookie (rebuilt from the
    cookie list). Host stays as captured: apps route by it."""
    return [
        (name, value)
        for name, value in headers
        if not name.startswith(":") and name.lower() not in HOP_BY_HOP | {"cookie"}
    ]


def _cookie_list(
    cookies: list[tuple[str, str]], headers: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The cookie list is the truth; a hand-written incident may carry its cookies as a raw
    Cookie header only: read them, so a cookie stand-in adds to them instead of replacing."""
    if cookies:
        return list(cookies)
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                cookie, _sep, text = part.strip().partition("=")
                if cookie:
                    out.append((cookie, text))
    return out


def _body(incident: Incident, plan: _Plan) -> bytes | None:
    whole = plan.fill("body")
    if whole is not None:
        return whole.encode("utf-8")
    if "body" in plan.drop:
        return None
    request = incident.request
    if request.body_base64 is not None:
        return _binary_body(request.body_base64, plan)
    if request.body is None:
        return None
    text = _structured_body(request.body, content_type(request.headers), plan)
    if text is not None and _has_marker(text):
        plan.unlisted.append(Lost("body", UNLISTED))
        return None
    return None if text is None else text.encode("utf-8")


def _binary_body(body64: str, plan: _Plan) -> bytes | None:
    try:
        raw = base64.b64decode(body64, validate=True)
    except (binascii.Error, ValueError):
        plan.unlisted.append(Lost("body", "body_base64 is not valid base64"))
        return None
    if any(form.encode("ascii") in raw for form in _MARKER_FORMS):
        plan.unlisted.append(Lost("body", UNLISTED))
        return None
    return raw


def _structured_body(body: str, ctype: str, plan: _Plan) -> str | None:
    """A JSON or form body with its fields' stand-ins in and lost fields out; other text as
    is. Sniffed like the credential check does: curl labels a JSON ``--data-raw`` as a form."""
    fields = {key for key in plan.values if key.startswith("body:")}
    if body.lstrip()[:1] in ("{", "["):
        try:
            tree = json.loads(body)
        except (ValueError, RecursionError):
            pass
        else:
            return _json_body(body, tree, fields, plan)
    if "x-www-form-urlencoded" in ctype or _FORM.fullmatch(body):
        return _form_body(body, plan)
    return body


def _json_body(text: str, tree: Any, fields: set[str], plan: _Plan) -> str | None:
    changed = _Changed()
    new = _json_node(tree, (), plan, changed)
    if isinstance(new, dict):
        for key in sorted(fields):
            keys = key.partition(":")[2].split(".")
            if len(keys) == 1 and keys[0] != "$" and keys[0] not in new:
                # An object body gets a missing top-level field; deeper paths stay unapplied.
                new[keys[0]] = plan.fill(key)
                changed.yes = True
    if new is _DROP:
        return None
    if not changed.yes:
        return text  # untouched: keep the exact text production received
    return json.dumps(new, ensure_ascii=False, separators=(",", ":"))


class _Changed:
    yes = False


_DROP = object()


def _json_node(node: Any, keys: tuple[str, ...], plan: _Plan, changed: _Changed) -> Any:
    key = "body:" + (".".join(keys) if keys else "$")
    filled = plan.fill(key)
    if filled is not None:
        changed.yes = True
        return filled  # a string: the original type of a lost value is not known
    if plan.left_out(key, key, node if isinstance(node, str) else ""):
        changed.yes = True
        return _DROP
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for name, value in node.items():
            new = _json_node(value, (*keys, str(name)), plan, changed)
            if new is not _DROP:
                out[name] = new
        return out
    if isinstance(node, list):
        items = [_json_node(item, (*keys, str(i)), plan, changed) for i, item in enumerate(node)]
        return [item for item in items if item is not _DROP]
    return node


def _form_body(body: str, plan: _Plan) -> str:
    """Stand-ins into their fields and lost fields out, every other field byte for byte."""
    present: set[str] = set()

    def decide(item: formbody.Field) -> str | bool:
        key = canonical(f"body:{item.name}")
        present.add(key)
        filled = plan.fill(key)
        if filled is not None:
            return filled
        return not plan.left_out(key, f"body:{item.name}", item.value or "")

    kept = formbody.fields(body)
    for item in kept:
        present.add(canonical(f"body:{item.name}"))
    extra: list[tuple[str, str]] = []
    for key, (where, _value, _source) in plan.values.items():
        if key.startswith("body:") and key not in present and key != "body:$":
            filled = plan.fill(key)
            assert filled is not None
            extra.append((where.partition(":")[2], filled))
    return formbody.edit(body, decide, extra)


def _has_marker(text: str) -> bool:
    return any(form in text for form in _MARKER_FORMS)


def send(host: str, port: int, request: PreparedRequest, *, timeout: float = 30.0) -> Response:
    """Sends the request once and reads (then discards) at most 1 MiB of the answer. Transport
    trouble is returned as ``error``, never raised: it is evidence about the sandbox."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        status, _reusable = exchange(conn, host, port, request)
        return Response(status, None, time.perf_counter() - started)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = transport_error(exc, host, port, timeout)
    finally:
        conn.close()
    return Response(None, error, time.perf_counter() - started)


def exchange(
    conn: http.client.HTTPConnection, host: str, port: int, request: PreparedRequest
) -> tuple[int, bool]:
    """One request and its answer (at most 1 MiB read) on ``conn``, which may be kept open:
    the status, and whether the connection can carry another request."""
    _write(conn, host, port, request)
    response = conn.getresponse()
    _drain(response)
    return response.status, not response.will_close


def transport_error(exc: BaseException, host: str, port: int, timeout: float) -> str:
    """One line naming what went wrong on the way (never quoting the request: a header or a
    target may hold a stand-in)."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {host}:{port}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the app closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the app"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host}"
    if isinstance(exc, http.client.HTTPException):
        return f"not a valid HTTP answer ({type(exc).__name__})"
    if isinstance(exc, ValueError):
        # http.client quotes the offending header or URL, which may be a stand-in: never shown.
        return "cannot send the request: an invalid method, target or header"
    if isinstance(exc, OSError):
        return one_line(exc.strerror or type(exc).__name__).lower()
    raise exc


def _write(
    conn: http.client.HTTPConnection, host: str, port: int, request: PreparedRequest
) -> None:
    # skip_host/skip_accept_encoding: the captured headers are the only ones sent, so an app
    # routing by Host sees production's, and there are never two.
    conn.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
    if all(name.lower() != "host" for name, _ in request.headers):
        conn.putheader("Host", f"{host}:{port}")  # HTTP/1.1 requires one; first, as usual
    for name, value in request.headers:
        conn.putheader(name, _header_bytes(value))
    if request.body is not None or request.method in _BODY_METHODS:
        conn.putheader("Content-Length", str(len(request.body or b"")))
    conn.endheaders(request.body)


def _header_bytes(value: str) -> bytes:
    """Latin-1 as http.client would, UTF-8 for what latin-1 cannot hold (rather than fail)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _drain(response: http.client.HTTPResponse) -> None:
    left = MAX_RESPONSE_BYTES
    while left > 0:
        chunk = response.read(min(65536, left))
        if not chunk:
            return
        left -= len(chunk)
