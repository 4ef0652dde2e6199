"""SentrySink against the real sentry-sdk in a subprocess (the small failing app of
tests/helpers/sentry.py), hand-made envelopes and garbage."""

from __future__ import annotations

import base64
import gzip
import json
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest

from repro.replay.incident import Frame, Signature
from repro.replay.sentry_sink import SentrySink, parse_envelope, signature_from_event
from tests.helpers.sentry import EVENT_TIMEOUT, needs_sdk, run_app, write_app


@pytest.fixture
def sink() -> Any:
    with SentrySink(host="127.0.0.1") as running:
        yield running


def auth(sink: SentrySink, key: str | None = None) -> dict[str, str]:
    """The header sentry-sdk sends with every request (its DSN's public key)."""
    return {
        "X-Sentry-Auth": f"Sentry sentry_key={key or sink.key}, sentry_version=7, "
        "sentry_client=sentry.python/2.0.0"
    }


def post(
    sink: SentrySink,
    path: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    signed: bool = True,
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{sink.port}{path}",
        data=body,
        headers={**(auth(sink) if signed else {}), **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def envelope(*items: tuple[dict[str, Any], bytes], header: dict[str, Any] | None = None) -> bytes:
    parts = [json.dumps(header or {"event_id": "e" * 32}).encode()]
    for item_header, payload in items:
        parts += [json.dumps(item_header).encode(), payload]
    return b"\n".join(parts) + b"\n"


def in_app_keys(signature: Signature) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (f.module, f.function, f.context_line) for f in signature.exceptions[-1].frames if f.in_app
    ]


# -- the real SDK --------------------------------------------------------------------------


@needs_sdk
def test_real_sdk_event_arrives_with_the_failure_signature(
    sink: SentrySink, tmp_path: Path
) -> None:
    root = write_app(tmp_path / "app")
    assert sink.dsn_for("127.0.0.1") == f"http://{sink.key}@127.0.0.1:{sink.port}/1"

    run_app(root, sink.dsn_for("127.0.0.1"), "keyerror")

    event = sink.wait_for_event(EVENT_TIMEOUT)
    assert event is not None, "the SDK's event never arrived"
    signature = signature_from_event(event, 500)
    assert signature.status == 500
    assert [e.type for e in signature.exceptions] == ["KeyError"]
    assert signature.exceptions[-1].value == "'GBP'"
    assert in_app_keys(signature) == [
        ("shop.main", "run", "SCENARIOS[scenario]()"),
        (
            "shop.main",
            "<lambda>",
            '"keyerror": lambda: views.checkout({"amount": 3, "currency": "GBP"}),',
        ),
        ("shop.views", "checkout", "total = pricing.total(order)"),
        ("shop.pricing", "total", 'rate = rate_for(order["currency"])'),
        ("shop.pricing", "rate_for", "return RATES[currency]"),
    ]
    last = signature.exceptions[-1].frames[-1]
    assert last.filename is not None and last.filename.endswith("shop/pricing.py")
    assert last.lineno == 5


@needs_sdk
def test_real_sdk_chained_and_qualified_exceptions(sink: SentrySink, tmp_path: Path) -> None:
    root = write_app(tmp_path / "app")
    dsn = sink.dsn_for("127.0.0.1")
    run_app(root, dsn, "cause")
    run_app(root, dsn, "multiline")

    cause = sink.wait_for_event(EVENT_TIMEOUT, lambda e: _main_type(e) == "PricingError")
    assert cause is not None
    chain = signature_from_event(cause, None).exceptions
    assert [e.type for e in chain] == ["KeyError", "shop.errors.PricingError"]
    assert chain[-1].frames[-1].function == "checkout_wrapped"

    multi = sink.wait_for_event(EVENT_TIMEOUT, lambda e: _main_type(e) == "UndefinedFunction")
    assert multi is not None
    info = signature_from_event(multi, 500).exceptions[-1]
    assert info.type == "shop.errors.UndefinedFunction"
    assert info.value is not None and info.value.splitlines()[1] == "LINE 1: SELECT foo(1)"
    assert len(sink.events()) == 2


def _main_type(event: dict[str, Any]) -> str | None:
    values = event.get("exception", {}).get("values", [])
    return values[-1].get("type") if values else None


# -- hand-made requests ----------------------------------------------------------------------

EVENT = {
    "event_id": "a" * 32,
    "exception": {
        "values": [
            {
                "type": "ZeroDivisionError",
                "value": "division by zero",
                "module": "builtins",
                "stacktrace": {
                    "frames": [
                        {
                            "module": "flask.app",
                            "function": "dispatch_request",
                            "abs_path": "/usr/lib/python3/dist-packages/flask/app.py",
                            "context_line": "        return view(**args)",
                            "lineno": 880,
                        },
                        {
                            "module": "shop.views",
                            "function": "average",
                            "abs_path": "/app/shop/views.py",
                            "context_line": "    return total / count\n",
                            "lineno": 12,
                        },
                    ]
                },
            }
        ]
    },
}


def test_gzip_envelope_with_length_and_newline_items(sink: SentrySink) -> None:
    event = json.dumps(EVENT).encode()
    transaction = json.dumps({"type": "transaction", "event_id": "b" * 32}).encode()
    body = envelope(
        ({"type": "transaction", "length": len(transaction)}, transaction),
        ({"type": "client_report"}, b'{"discarded_events": []}'),
        ({"type": "event", "length": len(event), "content_type": "application/json"}, event),
    )
    status, reply = post(
        sink, "/api/1/envelope/", gzip.compress(body), {"Content-Encoding": "gzip"}
    )
    assert (status, reply) == (200, {"id": "a" * 32})

    got = sink.wait_for_event(EVENT_TIMEOUT)
    assert got is not None and got["event_id"] == "a" * 32
    assert len(sink.events()) == 1, "transactions and client reports are not events"
    signature = signature_from_event(got, 500)
    assert signature.key() == (
        500,
        (("ZeroDivisionError", (("shop.views", "average", "return total / count"),)),),
    )


def test_envelope_length_counts_bytes_and_payload_may_contain_newlines() -> None:
    # A length-delimited payload may hold raw newlines; parsing must not split on them.
    payload = b'{"event_id": "c",\n "message": "caf\xc3\xa9"}'
    body = envelope(({"type": "event", "length": len(payload)}, payload))
    assert parse_envelope(body) == [{"event_id": "c", "message": "café"}]
    # Without a trailing newline, an item without length runs to the end.
    assert parse_envelope(b'{}\n{"type":"event"}\n{"event_id":"d"}') == [{"event_id": "d"}]


@pytest.mark.parametrize("encoding", ["identity", "gzip", "deflate", "raw-deflate", "base64+zlib"])
def test_legacy_store_endpoint(sink: SentrySink, encoding: str) -> None:
    raw = json.dumps(EVENT).encode()
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if encoding == "gzip":
        body, headers["Content-Encoding"] = gzip.compress(raw), "gzip"
    elif encoding == "deflate":
        body, headers["Content-Encoding"] = zlib.compress(raw), "deflate"
    elif encoding == "raw-deflate":
        squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, headers["Content-Encoding"] = squeezer.compress(raw) + squeezer.flush(), "deflate"
    elif encoding == "base64+zlib":
        body = base64.b64encode(zlib.compress(raw))
    else:
        body = raw
    status, reply = post(sink, "/api/1/store/", body, headers)
    assert (status, reply) == (200, {"id": "a" * 32})
    got = sink.wait_for_event(EVENT_TIMEOUT)
    assert got is not None and got["exception"] == EVENT["exception"]


GARBAGE = [
    pytest.param("/api/1/envelope/", b"not json at all", {}, id="envelope-not-json"),
    pytest.param("/api/1/envelope/", b"{}\n{broken", {}, id="item-header-broken"),
    pytest.param(
        "/api/1/envelope/", b'{}\n{"type":"event","length":999}\n{}', {}, id="length-too-long"
    ),
    pytest.param("/api/1/envelope/", b'{}\n{"type":"event"}\n[1, 2]', {}, id="event-not-object"),
    pytest.param(
        "/api/1/envelope/", b"\x1f\x8b garbage", {"Content-Encoding": "gzip"}, id="bad-gzip"
    ),
    pytest.param("/api/1/envelope/", b"{}", {"Content-Encoding": "zstd-x"}, id="unknown-encoding"),
    pytest.param("/api/1/store/", b"%%%", {}, id="store-garbage"),
    pytest.param("/api/1/store/", b"\xff\xfe{", {}, id="store-binary"),
    pytest.param("/api/1/store/", b"[]", {"Content-Length": "x"}, id="bad-content-length"),
]


@pytest.mark.parametrize(("path", "body", "headers"), GARBAGE)
def test_garbage_gets_400_and_the_server_keeps_working(
    sink: SentrySink, path: str, body: bytes, headers: dict[str, str]
) -> None:
    if "Content-Length" in headers:
        status = _raw_post(sink, path, body, headers)
    else:
        status, reply = post(sink, path, body, headers)
        assert "detail" in reply
    assert status == 400
    assert sink.events() == []

    status, _ = post(sink, "/api/1/store/", json.dumps(EVENT).encode())
    assert status == 200
    assert sink.wait_for_event(EVENT_TIMEOUT) is not None


def _raw_post(sink: SentrySink, path: str, body: bytes, headers: dict[str, str]) -> int:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", sink.port, timeout=5)
    try:
        conn.putrequest("POST", path)
        for name, value in {**auth(sink), **headers}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        return conn.getresponse().status
    finally:
        conn.close()


def test_unknown_paths_are_404(sink: SentrySink) -> None:
    assert post(sink, "/api/1/minidump/", b"{}")[0] == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"http://127.0.0.1:{sink.port}/", timeout=5)
    assert info.value.code == 404


def test_wait_for_event_predicate_and_timeout(sink: SentrySink) -> None:
    started = time.monotonic()
    assert sink.wait_for_event(0.2) is None
    assert time.monotonic() - started < 2

    for event_id in ("1", "2"):
        post(sink, "/api/1/store/", json.dumps({"event_id": event_id}).encode())
    assert sink.wait_for_event(EVENT_TIMEOUT, lambda e: e["event_id"] == "2") == {"event_id": "2"}
    assert sink.wait_for_event(0.1, lambda e: e["event_id"] == "3") is None
    sink.clear()
    assert sink.events() == []


def test_stopped_sink_has_no_port() -> None:
    sink = SentrySink(host="127.0.0.1")
    with pytest.raises(RuntimeError):
        sink.dsn_for("x")
    with sink:
        port = sink.port
    assert port > 0
    with pytest.raises(RuntimeError):
        sink.port  # noqa: B018


# -- signature_from_event --------------------------------------------------------------------


def test_in_app_from_paths_when_no_frame_says_so() -> None:
    signature = signature_from_event(EVENT, 500)
    frames = signature.exceptions[0].frames
    assert [f.in_app for f in frames] == [False, True]
    assert frames[1] == Frame(
        module="shop.views",
        function="average",
        context_line="return total / count",
        filename="/app/shop/views.py",
        lineno=12,
        in_app=True,
    )


def test_in_app_flags_win_when_present() -> None:
    frames = [
        {"function": "a", "abs_path": "/app/a.py", "in_app": True},
        {"function": "b", "abs_path": "/app/b.py"},  # unmarked: not in-app next to a marked one
        {"function": "c", "abs_path": "/usr/lib/python3.11/json/decoder.py", "in_app": False},
    ]
    event: dict[str, Any] = {
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": frames}}]}
    }
    assert [f.in_app for f in signature_from_event(event, None).exceptions[0].frames] == [
        True,
        False,
        False,
    ]
    only_false = [{"function": "x", "abs_path": "/app/x.py", "in_app": False}, {"function": "y"}]
    event = {"exception": [{"type": "E", "stacktrace": {"frames": only_false}}]}  # old list form
    assert [f.in_app for f in signature_from_event(event, None).exceptions[0].frames] == [
        False,
        True,
    ]


def test_event_without_exception_and_junk_fields() -> None:
    assert signature_from_event({"message": "hello"}, 502) == Signature(502, ())
    junk = {
        "exception": {"values": [{"type": None, "stacktrace": {"frames": [1, {"lineno": "x"}]}}, 3]}
    }
    info = signature_from_event(junk, None).exceptions[0]
    assert info.type == "Error"
    assert info.frames == (Frame(None, None, None, None, None, True),)


# -- bounds and keys (issue 12, findings 5 and 7) ---------------------------------------------


def test_only_this_sinks_dsn_key_is_accepted(sink: SentrySink) -> None:
    body = json.dumps(EVENT).encode()
    other = SentrySink(host="127.0.0.1")
    assert other.key != sink.key  # a random key per sink
    assert post(sink, "/api/1/store/", body, signed=False)[0] == 401
    assert post(sink, "/api/1/store/", body, auth(sink, "repro"))[0] == 401  # the old fixed key
    assert post(sink, "/api/1/store/", body, auth(sink, other.key))[0] == 401
    assert post(sink, "/api/2/store/", body)[0] == 401  # another project of the same key
    assert sink.events() == []
    # The JavaScript SDK's way (a query parameter), and the legacy Authorization header.
    assert post(sink, f"/api/1/store/?sentry_key={sink.key}", body, signed=False)[0] == 200
    legacy = {"Authorization": f"Sentry sentry_key={sink.key}, sentry_version=7"}
    assert post(sink, "/api/1/store/", body, legacy, signed=False)[0] == 200
    assert len(sink.events()) == 2


def _gzip_bomb(size: int) -> bytes:
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [squeezer.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + squeezer.flush()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "store-base64"])
def test_a_compression_bomb_stops_at_the_limit(sink: SentrySink, encoding: str) -> None:
    """1 GiB of zeros in about 1 MB: decompressed in bounded steps, refused at 20 MiB; the
    process's peak memory does not move by anything like a gigabyte."""
    import resource

    if encoding == "gzip":
        body, headers = _gzip_bomb(1024**3), {"Content-Encoding": "gzip"}
    else:
        squeezer = zlib.compressobj(9)
        zeros = bytes(1024 * 1024)
        deflated = b"".join(squeezer.compress(zeros) for _ in range(1024)) + squeezer.flush()
        if encoding == "deflate":
            body, headers = deflated, {"Content-Encoding": "deflate"}
        else:
            body, headers = base64.b64encode(deflated), {}
    assert len(body) < 2 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, reply = post(sink, "/api/1/store/", body, headers)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert status == 400 and "too large" in reply["detail"]
    assert (after - before) * 1024 < 200 * 1024 * 1024  # ru_maxrss is in KiB on Linux
    assert post(sink, "/api/1/store/", json.dumps(EVENT).encode())[0] == 200  # still serving


def test_deeply_nested_event_is_a_400_not_a_dead_thread(sink: SentrySink) -> None:
    body = b'{"event_id": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, reply = post(sink, "/api/1/store/", body)
    assert status == 400 and "nested deeper" in reply["detail"]
    assert post(sink, "/api/1/store/", json.dumps(EVENT).encode())[0] == 200
