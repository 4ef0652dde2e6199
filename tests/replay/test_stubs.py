"""A third party's stub (repro.replay.conditions.stubs) behaves as each --fault says, serves a
HAR's recorded answers, and keeps every call; the sandbox's name responder answers NXDOMAIN at
once and notes the name. Real sockets on 127.0.0.1 (the sandbox binds the network's gateway)."""

from __future__ import annotations

import http.client
import socket
import struct
import time

import pytest

from repro.replay.conditions.dns import NameResponder
from repro.replay.conditions.recorded import recorded_from_har
from repro.replay.conditions.spec import Fault, FaultKind
from repro.replay.conditions.stubs import Call, ServiceStub

HOST = "127.0.0.1"


def _post(port: int, timeout: float = 5.0) -> tuple[int | None, str | None, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/v1/charges?key=secret", body=b'{"amount": 1}',
                     headers={"Content-Type": "application/json"})  # fmt: skip
        response = conn.getresponse()
        response.read()
        return response.status, None, time.monotonic() - started
    except (OSError, http.client.HTTPException) as exc:
        return None, type(exc).__name__, time.monotonic() - started
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault(FaultKind.OK), 200, None),
        (Fault(FaultKind.STATUS, status=503), 503, None),
        (Fault(FaultKind.SLOW, seconds=0.3), 200, None),
        (Fault(FaultKind.DOWN), None, "ConnectionRefusedError"),
    ],
)
def test_faults(fault: Fault, status: int | None, error: str | None) -> None:
    with ServiceStub("payments", HOST, fault) as stub:
        got_status, got_error, seconds = _post(stub.port)
        assert (got_status, got_error) == (status, error)
        if fault.kind is FaultKind.SLOW:
            assert seconds >= 0.3
        calls = _calls(stub, 0 if fault.kind is FaultKind.DOWN else 1)
    if fault.kind is FaultKind.DOWN:
        assert calls == []  # nothing listened
        return
    (call,) = calls
    assert (call.method, call.path, call.status) == ("POST", "/v1/charges?…", status)


def test_reset_and_timeout() -> None:
    with ServiceStub("payments", HOST, Fault(FaultKind.RESET)) as stub:
        status, error, _s = _post(stub.port)
        assert status is None and error in {"ConnectionResetError", "RemoteDisconnected"}
        assert stub.calls()[0].outcome == "connection reset"
    with ServiceStub("payments", HOST, Fault(FaultKind.TIMEOUT)) as stub:
        status, error, seconds = _post(stub.port, timeout=0.5)
        assert (status, error) == (None, "TimeoutError") and seconds < 2
        assert "the app gave up" in _calls(stub, 1)[0].outcome


def test_recorded_answers_in_order_then_the_last_repeated() -> None:
    har = {"log": {"entries": [
        {"request": {"method": "POST", "url": "https://api.pay.example/v1/charges"},
         "response": {"status": status, "headers": [{"name": "X-Id", "value": str(status)},
                                                   {"name": "Bad\nName", "value": "x"}],
                      "content": {"text": f'{{"status": {status}}}'}}}
        for status in (201, 402)
    ]}}  # fmt: skip
    recorded = recorded_from_har(har, "pay.har", "payments")
    with ServiceStub("payments", HOST, Fault(FaultKind.OK), recorded) as stub:
        assert [_post(stub.port)[0] for _ in range(3)] == [201, 402, 402]
        conn = http.client.HTTPConnection(HOST, stub.port, timeout=5)
        conn.request("GET", "/v1/refunds")
        assert conn.getresponse().status == 501  # nothing recorded for it: said so
        conn.close()
        assert [c.outcome for c in _calls(stub, 4)][:1] == ["answered 201 (recorded)"]


def _calls(stub: ServiceStub, wanted: int) -> list[Call]:
    """The stub's calls once ``wanted`` are in (a call is kept just after its answer went)."""
    deadline = time.monotonic() + 3
    while len(stub.calls()) < wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    return stub.calls()


def _query(name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + labels + b"\0" + b"\0\1\0\1"


def test_name_responder_answers_nxdomain_at_once() -> None:
    with NameResponder(HOST, port=0) as responder:
        assert responder._sock is not None
        port = responder._sock.getsockname()[1]
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(2)
        started = time.monotonic()
        client.sendto(_query("api.github.com"), (HOST, port))
        answer, _peer = client.recvfrom(512)
        client.sendto(b"\xff" * 40, (HOST, port))  # garbage: ignored, the responder lives on
        client.sendto(_query("api.github.com"), (HOST, port))
        client.recvfrom(512)
        client.close()
        assert time.monotonic() - started < 1
        assert answer[:2] == b"\x12\x34" and answer[3] & 0x0F == 3  # NXDOMAIN
        (lookup,) = responder.lookups()
        assert (lookup.name, lookup.kind, lookup.count) == ("api.github.com", "A", 2)
