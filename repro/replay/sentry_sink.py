"""A tiny Sentry-compatible ingest endpoint that repro runs while it replays a request.

The sandboxed app gets ``SENTRY_DSN`` pointing here, so the failure it reports during the
replay arrives in the same shape production's Sentry stored, and the two signatures can be
compared frame by frame. Only what an SDK sends to ingest is understood:

* ``POST /api/<project>/envelope/`` — a Sentry envelope: a JSON header line, then items, each
  an item-header JSON line followed by its payload (``length`` bytes when the header says so,
  else up to the next newline). ``event`` items are kept; ``transaction``, sessions, client
  reports and anything else are acknowledged and dropped.
* ``POST /api/<project>/store/`` — the legacy endpoint: one JSON event, possibly compressed,
  possibly base64 of zlib (the raven-era encoding).

Bodies may be gzip, deflate (zlib or raw) or, when the ``brotli`` module is importable, br
encoded; they are decompressed in bounded steps, so a small compressed body cannot expand past
:data:`MAX_BODY_BYTES` in memory (a 1 MB gzip bomb stops at the limit, not at 1 GB).
Anything that cannot be understood gets a 400 and is logged; the server thread never dies of a
bad request, because a misbehaving app must not cost us the evidence of a later one.

Only the sink's own DSN is accepted: each sink has a random public key, and a request without
it (``X-Sentry-Auth``, ``Authorization`` or the ``sentry_key`` query parameter, as the SDKs
send it) or for another project gets a 401 before its body is read.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import importlib
import json
import logging
import secrets
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from repro.limits import MAX_DEPTH, too_deep
from repro.replay.background_server import serve_in_background, stop_serving
from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.tracebacks import (
    SENTRY_MESSAGE_TYPE,
    SENTRY_THREAD_TYPE,
    module_from_filename,
    paths_are_modules,
    qualified_type_name,
    sentry_in_app,
)

log = logging.getLogger(__name__)

# Generous: an event with local variables and breadcrumbs is tens of KiB; nothing sane is 20 MiB.
MAX_BODY_BYTES = 20 * 1024 * 1024
INFLATE_STEP = 256 * 1024  # output produced per decompression step, checked after each
PROJECT_ID = "1"
EventPredicate = Callable[[dict[str, Any]], bool]


class BadRequest(ValueError):
    """The request body is not something an SDK would send; answered with a 400."""


class SentrySink:
    """An in-memory Sentry ingest server; use as a context manager.

    ``host`` defaults to all interfaces so containers on a Docker network can reach it; tests
    bind 127.0.0.1. The port is ephemeral: read it from :attr:`port` or use :meth:`dsn_for`.
    """

    def __init__(self, host: str = "0.0.0.0", port: int = 0, key: str | None = None) -> None:
        self._host = host
        self.key = key or secrets.token_hex(16)  # the DSN's public key: only it is accepted
        self._requested_port = port
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SentrySink:
        if self._server is not None:
            return self
        server = _SinkServer((self._host, self._requested_port), _Handler, self)
        name = f"sentry-sink:{server.server_address[1]}"
        self._server, self._thread = server, serve_in_background(server, name)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        stop_serving(server, thread)

    def __enter__(self) -> SentrySink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SentrySink is not running")
        return int(self._server.server_address[1])

    def dsn_for(self, host: str) -> str:
        """The DSN an app should use to reach this sink as ``host`` (an IP or a DNS name)."""
        return f"http://{self.key}@{host}:{self.port}/{PROJECT_ID}"

    # -- events ------------------------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._events)

    def clear(self) -> None:
        """Forget what arrived so far (between replay attempts)."""
        with self._cond:
            self._events.clear()

    def wait_for_event(
        self, timeout: float, predicate: EventPredicate | None = None
    ) -> dict[str, Any] | None:
        """The first stored event matching ``predicate`` (any event when None), waiting up to
        ``timeout`` seconds for one to arrive; None when none did."""
        accept = predicate or (lambda _event: True)
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            for event in self._events:
                if accept(event):
                    found.append(event)
                    return True
            return False

        with self._cond:
            self._cond.wait_for(ready, timeout=timeout)
        return found[0] if found else None

    def _add(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        with self._cond:
            self._events.extend(events)
            self._cond.notify_all()


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sink: SentrySink
    ) -> None:
        self.sink = sink
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The default prints a traceback to stderr; a broken client is not our bug.
        log.debug("sentry sink: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _SinkServer
    protocol_version = "HTTP/1.1"
    # A client that announces more body than it sends must not pin a thread forever.
    timeout = 30

    def do_POST(self) -> None:
        kind = _endpoint(self.path)
        if kind is None:
            self._reply(404, {"detail": "unknown endpoint"})
            return
        if not self._authorized():
            log.info("sentry sink: refused %s: not this sink's DSN key", self.path)
            self._reply(401, {"detail": "unknown DSN key"})
            return
        try:
            body = _decode_body(self._read_body(), self.headers.get("Content-Encoding"))
            events = parse_envelope(body) if kind == "envelope" else [parse_store(body)]
        except BadRequest as exc:
            log.info("sentry sink: rejected %s: %s", self.path, exc)
            self._reply(400, {"detail": str(exc)})
            return
        self.server.sink._add(events)
        event_id = next((e.get("event_id") for e in events if e.get("event_id")), None)
        self._reply(200, {"id": event_id or uuid.uuid4().hex})

    def _authorized(self) -> bool:
        """The request carries this sink's public key, for this sink's project."""
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        if parts[1:2] != [PROJECT_ID]:
            return False
        offered = [
            *_auth_keys(self.headers.get("X-Sentry-Auth")),
            *_auth_keys(self.headers.get("Authorization")),
            *parse_qs(urlsplit(self.path).query).get("sentry_key", []),
        ]
        expected = self.server.sink.key.encode()
        return any(hmac.compare_digest(key.encode(), expected) for key in offered)

    def do_GET(self) -> None:
        self._reply(404, {"detail": "this is a Sentry ingest sink: POST events here"})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise BadRequest("bad Content-Length") from exc
        if length < 0 or length > MAX_BODY_BYTES:
            raise BadRequest(f"body of {length} bytes refused")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(100).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise BadRequest("bad chunk size") from exc
            if size == 0:
                self.rfile.readline(100)
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise BadRequest("chunked body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(100)

    def _reply(self, status: int, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            # The body may be unread or half-read: do not reuse this connection.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sentry sink: " + format, *args)


def _endpoint(path: str) -> str | None:
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) == 3 and parts[0] == "api" and parts[2] in ("envelope", "store"):
        return parts[2]
    return None


def _auth_keys(header: str | None) -> list[str]:
    """``sentry_key`` values of a ``Sentry sentry_key=..., sentry_version=7`` header."""
    if not header:
        return []
    text = header.strip()
    if text.lower().startswith("sentry "):
        text = text[len("sentry ") :]
    keys = []
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "sentry_key":
            keys.append(value.strip())
    return keys


def _inflate(body: bytes, wbits: int) -> bytes:
    """zlib/gzip/raw deflate, in steps of :data:`INFLATE_STEP` output bytes, refused as soon
    as the output passes :data:`MAX_BODY_BYTES`; gzip members may follow one another."""
    out = bytearray()
    data = body
    while True:
        inflater = zlib.decompressobj(wbits)
        while True:
            out += inflater.decompress(data, INFLATE_STEP)
            if len(out) > MAX_BODY_BYTES:
                raise BadRequest("decompressed body too large")
            data = inflater.unconsumed_tail
            if inflater.eof or not data:
                break
        if not inflater.eof:
            raise BadRequest("compressed body is truncated")
        data = inflater.unused_data
        if wbits != 16 + zlib.MAX_WBITS or not data.strip(b"\x00"):
            return bytes(out)


def _unbrotli(body: bytes) -> bytes:
    try:
        brotli = importlib.import_module("brotli")
    except ImportError as exc:
        raise BadRequest("br encoding needs the brotli module") from exc
    decompressor = brotli.Decompressor()
    out = bytearray()
    data = body
    while True:
        try:
            # brotli >= 1.1 bounds each step's output; older ones cannot be bounded: refused.
            chunk = decompressor.process(data, output_buffer_limit=INFLATE_STEP)
        except TypeError as exc:
            raise BadRequest("br encoding needs brotli >= 1.1 (bounded decompression)") from exc
        data = b""
        out += chunk
        if len(out) > MAX_BODY_BYTES:
            raise BadRequest("decompressed body too large")
        if decompressor.is_finished():
            return bytes(out)
        if not chunk:
            raise BadRequest("compressed body is truncated")


def _decode_body(body: bytes, encoding: str | None) -> bytes:
    name = (encoding or "identity").strip().lower()
    try:
        if name in ("", "identity"):
            return body
        if name in ("gzip", "x-gzip"):
            return _inflate(body, 16 + zlib.MAX_WBITS)
        if name == "deflate":
            try:
                return _inflate(body, zlib.MAX_WBITS)
            except zlib.error:  # some clients send raw deflate without the zlib header
                return _inflate(body, -zlib.MAX_WBITS)
        if name == "br":
            return _unbrotli(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRequest(f"cannot decode {name} body: {exc}") from exc
    except BadRequest:
        raise
    except Exception as exc:  # brotli.error and friends
        raise BadRequest(f"cannot decode {name} body: {exc}") from exc
    raise BadRequest(f"unsupported Content-Encoding {encoding!r}")


def _bounded(data: bytes) -> bytes:
    if len(data) > MAX_BODY_BYTES:
        raise BadRequest("decompressed body too large")
    return data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"{what} is not JSON") from exc
    except RecursionError:
        raise BadRequest(f"{what} is nested deeper than {MAX_DEPTH} levels") from None
    if too_deep(value):
        raise BadRequest(f"{what} is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is not a JSON object")
    return value


def parse_envelope(body: bytes) -> list[dict[str, Any]]:
    """The ``event`` payloads of a (decompressed) Sentry envelope."""
    header_end = body.find(b"\n")
    header_line = body if header_end < 0 else body[:header_end]
    _json_object(header_line, "envelope header")
    pos = len(body) if header_end < 0 else header_end + 1
    events: list[dict[str, Any]] = []
    while pos < len(body):
        line_end = body.find(b"\n", pos)
        item_line = body[pos:] if line_end < 0 else body[pos:line_end]
        pos = len(body) if line_end < 0 else line_end + 1
        if not item_line.strip():
            continue  # trailing newlines are allowed
        item = _json_object(item_line, "envelope item header")
        length = item.get("length")
        if length is not None:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise BadRequest("envelope item length is not a non-negative integer")
            if pos + length > len(body):
                raise BadRequest("envelope item is shorter than its length")
            payload = body[pos : pos + length]
            pos += length
            if body[pos : pos + 1] == b"\n":
                pos += 1
        else:
            payload_end = body.find(b"\n", pos)
            payload = body[pos:] if payload_end < 0 else body[pos:payload_end]
            pos = len(body) if payload_end < 0 else payload_end + 1
        if item.get("type") == "event":
            events.append(_json_object(payload, "event payload"))
    return events


def parse_store(body: bytes) -> dict[str, Any]:
    """The event of a legacy ``store`` request (plain JSON, or base64 of zlib-compressed JSON)."""
    if body.lstrip()[:1] == b"{":
        return _json_object(body, "store body")
    try:
        raw = base64.b64decode(body.strip(), validate=True)
        return _json_object(_inflate(raw, zlib.MAX_WBITS), "store body")
    except (binascii.Error, zlib.error) as exc:
        raise BadRequest("store body is neither JSON nor base64+zlib JSON") from exc


# -- event -> signature ----------------------------------------------------------------------


def signature_from_event(event: Mapping[str, Any], status: int | None) -> Signature:
    """The failure signature of a Sentry event (ingest shape), with the HTTP status seen.

    Exceptions keep Sentry's order (outermost last), frames theirs (caller -> callee). A frame
    is in-app when it says ``in_app: true``; when no frame of an exception does, an explicit
    ``in_app: false`` still counts and the others are in-app unless their path is a library
    (site-packages, dist-packages, lib/pythonX.Y).
    """
    py = paths_are_modules(
        event.get("platform") if isinstance(event.get("platform"), str) else None
    )
    exceptions = tuple(
        _exception_info(value, py) for value in _exception_values(event) if isinstance(value, dict)
    )
    if not exceptions:
        exceptions = _stack_alone(event, py)
    return Signature(status=status, exceptions=exceptions)


def _stack_alone(event: Mapping[str, Any], py: bool) -> tuple[ExceptionInfo, ...]:
    """No exception: the top-level stack trace or the crashed thread's, named as the importer
    names it (a message event with attach_stacktrace, a .NET/Java thread)."""
    message = _event_message(event)
    stack = event.get("stacktrace")
    kind = SENTRY_MESSAGE_TYPE
    if not isinstance(stack, dict):
        threads = event.get("threads")
        values = threads.get("values") if isinstance(threads, dict) else threads
        candidates = [
            t for t in values or () if isinstance(t, dict) and isinstance(t.get("stacktrace"), dict)
        ]
        chosen = (
            [t for t in candidates if t.get("crashed") is True]
            or [t for t in candidates if t.get("current") is True]
            or (candidates if len(candidates) == 1 else [])
        )
        if not chosen:
            return ()
        stack = chosen[0]["stacktrace"]
        kind = SENTRY_MESSAGE_TYPE if message else SENTRY_THREAD_TYPE
    info = _exception_info({"type": kind, "stacktrace": stack}, py)
    return (ExceptionInfo(type=kind, value=message, frames=info.frames),)


def _event_message(event: Mapping[str, Any]) -> str | None:
    for key in ("logentry", "message"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            text = value.get("formatted") or value.get("message")
            if isinstance(text, str) and text:
                return text
    return None


def _exception_values(event: Mapping[str, Any]) -> list[Any]:
    container = event.get("exception")
    if isinstance(container, dict):
        values = container.get("values")
        return values if isinstance(values, list) else []
    # Very old SDKs sent the list directly.
    return container if isinstance(container, list) else []


def _exception_info(value: Mapping[str, Any], py: bool = True) -> ExceptionInfo:
    type_name = value.get("type")
    module = value.get("module")
    text = value.get("value")
    stacktrace = value.get("stacktrace")
    raw_frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    frame_dicts = [f for f in raw_frames or () if isinstance(f, dict)]
    any_in_app = any(f.get("in_app") is True for f in frame_dicts)
    frames = tuple(_frame(f, any_in_app, py) for f in frame_dicts)
    return ExceptionInfo(
        type=qualified_type_name(
            module if isinstance(module, str) else None,
            type_name if isinstance(type_name, str) and type_name else "Error",
        ),
        value=text if isinstance(text, str) else None,
        frames=frames,
    )


def _frame(frame: Mapping[str, Any], any_in_app: bool, py: bool = True) -> Frame:
    abs_path = _str_or_none(frame.get("abs_path"))
    filename = abs_path or _str_or_none(frame.get("filename"))
    in_app = sentry_in_app(frame.get("in_app"), filename, any_in_app)
    module = _str_or_none(frame.get("module"))
    if module is None and filename is not None and py:
        module = module_from_filename(filename)
    context = _str_or_none(frame.get("context_line"))
    lineno = frame.get("lineno")
    return Frame(
        module=module,
        function=_str_or_none(frame.get("function")),
        context_line=context.strip() or None if context is not None else None,
        filename=filename,
        lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
        in_app=in_app,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
