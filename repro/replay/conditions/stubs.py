"""A third party's stand-in: one small HTTP server per service named in the profile's
``sandbox.services``, run by repro where the app reaches it like repro's Sentry sink (on the
sandbox network's gateway address), behaving as ``--fault`` says and answering what ``--stub``
recorded. Every call the app makes is kept (method, path, when, how long, what it got), for
the report.

``down`` listens on nothing: the port is bound but never accepts, so a connection is refused
at once, as a stopped service's would be. ``timeout`` reads the request and answers nothing
until the attempt ends (:meth:`ServiceStub.release`) or :data:`~repro.replay.conditions.spec.
MAX_HOLD_S`; it notices when the app gives up. ``reset`` reads the request and resets the
connection (RST). A request body is read up to :data:`MAX_REQUEST_BYTES`.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from repro.replay.background_server import serve_in_background, stop_serving
from repro.replay.conditions.recorded import Answer, RecordedAnswers
from repro.replay.conditions.spec import MAX_HOLD_S, Fault, FaultKind

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024
MAX_CALLS = 10_000  # kept per run: a load test's calls are counted past this, not kept
HOLD_POLL_S = 0.05


@dataclass
class Call:
    """One request the app sent to a stub."""

    service: str
    method: str
    path: str
    at: float  # seconds since the stub (or its last clear) started
    seconds: float
    outcome: str  # "answered 201 (recorded)", "held 3.0 s: the app gave up", "reset"...
    status: int | None = None


class ServiceStub:
    """One service's stub; use as a context manager."""

    def __init__(
        self,
        name: str,
        host: str,
        fault: Fault,
        recorded: RecordedAnswers | None = None,
    ) -> None:
        self.name, self.host, self.fault, self.recorded = name, host, fault, recorded
        self._calls: list[Call] = []
        self.dropped = 0  # calls past MAX_CALLS
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._epoch = time.monotonic()
        self._server: _StubServer | None = None
        self._thread: threading.Thread | None = None
        self._closed_socket: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ServiceStub:
        if self.fault.kind is FaultKind.DOWN:
            # Bound and never listening: the kernel refuses every connection at once.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((self.host, 0))
            self._closed_socket = sock
            return self
        server = _StubServer((self.host, 0), _Handler, self)
        self._server, self._thread = server, serve_in_background(server, f"stub-{self.name}")
        return self

    def stop(self) -> None:
        self._release.set()
        if self._closed_socket is not None:
            self._closed_socket.close()
            self._closed_socket = None
        server, thread = self._server, self._thread
        self._server = self._thread = None
        stop_serving(server, thread)

    def __enter__(self) -> ServiceStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._closed_socket is not None:
            return int(self._closed_socket.getsockname()[1])
        if self._server is None:
            raise RuntimeError(f"the stub of {self.name} is not running")
        return int(self._server.server_address[1])

    # -- per attempt / per run ---------------------------------------------------------------

    def release(self) -> None:
        """The attempt is over: held requests end (closed without an answer)."""
        self._release.set()

    def arm(self) -> None:
        """A new attempt: requests are held again."""
        self._release.clear()

    def clear(self) -> None:
        """A new run in the same sandbox: no calls yet, recordings from the start."""
        with self._lock:
            self._calls.clear()
            self.dropped = 0
            self._epoch = time.monotonic()
        if self.recorded is not None:
            self.recorded.restart()

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def _record(self, call: Call) -> None:
        with self._lock:
            if len(self._calls) < MAX_CALLS:
                self._calls.append(call)
            else:
                self.dropped += 1

    def _since_epoch(self, started: float) -> float:
        return round(started - self._epoch, 3)


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], stub: ServiceStub
    ) -> None:
        self.stub = stub
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("stub %s: error serving %s", self.stub.name, client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer
    protocol_version = "HTTP/1.1"
    timeout = 60  # a client that announces a body it never sends

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("stub %s: %s", self.server.stub.name, format % args)

    def _serve(self) -> None:
        stub = self.server.stub
        started = time.monotonic()
        self._read_body()
        fault = stub.fault
        # The query is left out of the record: keys and tokens travel there.
        path, query, _rest = self.path.partition("?")
        shown = path[:300] + ("?…" if query else "")
        call = Call(stub.name, self.command, shown, stub._since_epoch(started), 0.0, "")
        if fault.kind is FaultKind.RESET:
            self._reset()
            call.outcome = "connection reset"
        elif fault.kind is FaultKind.TIMEOUT:
            call.outcome = self._hold(stub, started)
        elif fault.kind is FaultKind.STATUS:
            body = json.dumps({"error": f"status {fault.status} from repro's stub"}).encode()
            self._answer(Answer(fault.status, (("Content-Type", "application/json"),), body))
            call.status, call.outcome = fault.status, f"answered {fault.status} (--fault)"
        else:
            if fault.kind is FaultKind.SLOW:
                time.sleep(fault.seconds)
            call.status, call.outcome = self._answer_ok(stub)
            if fault.kind is FaultKind.SLOW:
                call.outcome += f" after {fault.seconds:g} s"
        call.seconds = round(time.monotonic() - started, 3)
        stub._record(call)

    def _read_body(self) -> None:
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            left = min(int(length), MAX_REQUEST_BYTES)
            while left > 0:
                chunk = self.rfile.read(min(65536, left))
                if not chunk:
                    break
                left -= len(chunk)
        elif "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._read_chunked()

    def _read_chunked(self) -> None:
        total = 0
        while total <= MAX_REQUEST_BYTES:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                return
            if size == 0:
                self.rfile.readline(1024)
                return
            self.rfile.read(size + 2)
            total += size

    def _answer_ok(self, stub: ServiceStub) -> tuple[int, str]:
        if stub.recorded is not None:
            answer = stub.recorded.next_for(self.command, self.path)
            if answer is None:
                body = json.dumps(
                    {"error": f"repro's stub of {stub.name}: no recorded answer to this call"}
                ).encode()
                self._answer(Answer(501, (("Content-Type", "application/json"),), body))
                return 501, f"answered 501: nothing recorded in {stub.recorded.source}"
            self._answer(answer)
            return answer.status, f"answered {answer.status} (recorded)"
        self._answer(Answer(200, (("Content-Type", "application/json"),), b"{}"))
        return 200, "answered 200 {} (nothing recorded)"

    def _answer(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _hold(self, stub: ServiceStub, started: float) -> str:
        """No answer until the attempt ends; the app giving up (closing) is noticed."""
        self.close_connection = True
        deadline = started + MAX_HOLD_S
        while time.monotonic() < deadline:
            if stub._release.wait(HOLD_POLL_S):
                return f"held {time.monotonic() - started:.1f} s without an answer (attempt over)"
            if _peer_closed(self.connection):
                return f"held {time.monotonic() - started:.1f} s: the app gave up"
        return f"held {MAX_HOLD_S:g} s without an answer"

    def _reset(self) -> None:
        self.close_connection = True
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def _peer_closed(conn: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
