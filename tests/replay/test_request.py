"""prepare() and send() against a real HTTP server that records what arrives on the wire."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest

from repro.errors import UsageError
from repro.replay.incident import STANDIN, Incident, Lost, Provenance, Request, Signature
from repro.replay.outcome import StandIn
from repro.replay.request import (
    MAX_RESPONSE_BYTES,
    UNLISTED,
    PreparedRequest,
    Response,
    parse_stand_in,
    prepare,
    send,
)

CRED = "credential: fingerprinted, needs a stand-in"
MARKERS = (STANDIN, quote_plus(STANDIN), quote(STANDIN))


@dataclass
class Arrived:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def wire(self) -> str:
        lines = [f"{self.method} {self.path}", *(f"{k}: {v}" for k, v in self.headers)]
        return "\n".join(lines) + "\n" + self.body.decode("utf-8", "replace")


class _Recorder(BaseHTTPRequestHandler):
    arrived: list[Arrived]
    answer_status = 500
    answer_size = 10

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.arrived.append(Arrived(self.command, self.path, list(self.headers.items()), body))
        payload = b"x" * self.answer_size
        self.send_response(self.answer_status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@dataclass
class Server:
    port: int
    arrived: list[Arrived]
    handler: type[_Recorder]

    def one(self) -> Arrived:
        assert len(self.arrived) == 1, self.arrived
        return self.arrived[0]


@pytest.fixture
def server() -> Iterator[Server]:
    arrived: list[Arrived] = []
    handler = type("Handler", (_Recorder,), {"arrived": arrived})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(httpd.server_address[1], arrived, handler)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def incident(
    *,
    method: str = "POST",
    path: str = "/checkout",
    query: list[tuple[str, str]] | None = None,
    headers: list[tuple[str, str]] | None = None,
    cookies: list[tuple[str, str]] | None = None,
    body: str | None = None,
    body_base64: str | None = None,
    lost: list[Lost] | None = None,
) -> Incident:
    return Incident(
        request=Request(
            method=method,
            path=path,
            query=query or [],
            headers=headers or [],
            cookies=cookies or [],
            body=body,
            body_base64=body_base64,
        ),
        signature=Signature(500, ()),
        provenance=Provenance("sentry"),
        lost=lost or [],
    )


def replay(
    server: Server, inc: Incident, stand_ins: dict[str, tuple[str, str]] | None = None
) -> tuple[Arrived, list[StandIn], list[Lost]]:
    prepared, used, unfilled = prepare(inc, stand_ins or {})
    response = send("127.0.0.1", server.port, prepared, timeout=5)
    assert response.error is None, response.error
    assert response.status == 500
    arrived = server.one()
    for marker in MARKERS:
        assert marker not in arrived.wire()
    return arrived, used, unfilled


def test_header_stand_in_matches_case_insensitively(server: Server) -> None:
    inc = incident(
        method="GET",
        headers=[("Accept", "text/html"), ("Authorization", STANDIN)],
        lost=[Lost("header:Authorization", CRED, "hmac-sha256:k1:ab")],
    )
    arrived, used, unfilled = replay(
        server, inc, {"header:authorization": ("Bearer test-token", "--auth")}
    )
    assert arrived.header("Authorization") == ["Bearer test-token"]
    assert arrived.header("Accept") == ["text/html"]
    assert used == [StandIn("header:Authorization", "--auth")]
    assert unfilled == []


def test_lost_parts_without_stand_in_are_left_out(server: Server) -> None:
    inc = incident(
        query=[("page", "2"), ("api_key", STANDIN)],
        headers=[
            ("Content-Type", "application/json"),
            ("Authorization", STANDIN),
            ("X-Trace", "t-1"),
        ],
        cookies=[("theme", "dark"), ("session", STANDIN)],
        body=json.dumps({"user": "ann", "password": STANDIN, "cart": [1, 2]}),
        lost=[
            Lost("header:Authorization", CRED),
            Lost("cookie:session", CRED),
            Lost("query:api_key", CRED),
            Lost("body:password", CRED),
            Lost("method", "not in the event; POST assumed", needs_standin=False),
        ],
    )
    arrived, used, unfilled = replay(server, inc)
    assert arrived.path == "/checkout?page=2"
    assert arrived.header("Authorization") == []
    assert arrived.header("X-Trace") == ["t-1"]
    assert arrived.header("Cookie") == ["theme=dark"]
    assert json.loads(arrived.body) == {"user": "ann", "cart": [1, 2]}
    assert arrived.header("Content-Length") == [str(len(arrived.body))]
    assert used == []
    assert [lost.where for lost in unfilled] == [
        "header:Authorization",
        "cookie:session",
        "query:api_key",
        "body:password",
    ]


def test_cookie_header_built_from_list_replaces_captured_one(server: Server) -> None:
    inc = incident(
        method="GET",
        headers=[("Cookie", "stale=1"), ("Accept", "*/*")],
        cookies=[("theme", "dark"), ("sessionid", STANDIN)],
        lost=[Lost("cookie:sessionid", CRED)],
    )
    arrived, used, unfilled = replay(
        server,
        inc,
        {
            "cookie:sessionid": ("s3ss10n", "--stand-in"),
            "cookie:lang": ("fr", "profile sandbox.stand_ins"),
        },
    )
    assert arrived.header("Cookie") == ["theme=dark; sessionid=s3ss10n; lang=fr"]
    assert arrived.headers[-1][0] == "Cookie"  # after the other headers
    assert used == [
        StandIn("cookie:sessionid", "--stand-in"),
        StandIn("cookie:lang", "profile sandbox.stand_ins"),
    ]
    assert unfilled == []


def test_raw_cookie_header_is_read_when_there_is_no_list(server: Server) -> None:
    inc = incident(method="GET", headers=[("Cookie", "a=1; b=2")])
    arrived, _used, _unfilled = replay(server, inc, {"cookie:b": ("3", "--stand-in")})
    assert arrived.header("Cookie") == ["a=1; b=3"]


def test_query_stand_in_keeps_the_incident_order(server: Server) -> None:
    inc = incident(
        method="GET",
        path="/search",
        query=[("q", "red shoes"), ("api_key", STANDIN), ("page", "2")],
        lost=[Lost("query:api_key", CRED)],
    )
    arrived, used, _unfilled = replay(
        server, inc, {"query:api_key": ("k&y=1", "--stand-in"), "query:debug": ("1", "--stand-in")}
    )
    assert arrived.path == "/search?q=red+shoes&api_key=k%26y%3D1&page=2&debug=1"
    assert [u.where for u in used] == ["query:api_key", "query:debug"]


def test_json_body_fields_in_both_path_spellings(server: Server) -> None:
    body = {"user": {"name": "ann", "password": STANDIN}, "items": [{"sku": "A", "token": STANDIN}]}
    inc = incident(
        headers=[("Content-Type", "application/json")],
        body=json.dumps(body),
        lost=[Lost("body:user.password", CRED), Lost("body:items[0].token", CRED)],
    )
    arrived, used, unfilled = replay(
        server,
        inc,
        {"body:user.password": ("hunter2", "--stand-in"), "body:coupon": ("FREE", "--stand-in")},
    )
    assert json.loads(arrived.body) == {
        "user": {"name": "ann", "password": "hunter2"},
        "items": [{"sku": "A"}],
        "coupon": "FREE",
    }
    assert [u.where for u in used] == ["body:user.password", "body:coupon"]
    assert [lost.where for lost in unfilled] == ["body:items[0].token"]

    # Sentry's _meta spells list indices as keys: items.0.token is the same place.
    server.arrived.clear()
    arrived, used, unfilled = replay(server, inc, {"body:items.0.token": ("t0k", "--stand-in")})
    assert json.loads(arrived.body) == {
        "user": {"name": "ann"},
        "items": [{"sku": "A", "token": "t0k"}],
    }
    assert [u.where for u in used] == ["body:items[0].token"]
    assert [lost.where for lost in unfilled] == ["body:user.password"]


def test_untouched_json_body_is_sent_byte_for_byte(server: Server) -> None:
    text = '{ "a" : 1,\n  "b": "é" }'
    arrived, _used, _unfilled = replay(server, incident(body=text))
    assert arrived.body == text.encode("utf-8")


def test_form_body_fields(server: Server) -> None:
    inc = incident(
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=f"user=ann&password={quote_plus(STANDIN)}&csrfmiddlewaretoken={quote_plus(STANDIN)}",
        lost=[Lost("body:password", CRED), Lost("body:csrfmiddlewaretoken", CRED)],
    )
    arrived, used, unfilled = replay(server, inc, {"body:password": ("p@ss w", "--stand-in")})
    assert arrived.body == b"user=ann&password=p%40ss+w"
    assert arrived.header("Content-Length") == [str(len(arrived.body))]
    assert [u.where for u in used] == ["body:password"]
    assert [lost.where for lost in unfilled] == ["body:csrfmiddlewaretoken"]


def test_whole_body_lost_is_not_sent_without_a_stand_in(server: Server) -> None:
    inc = incident(
        headers=[("Content-Type", "text/plain")],
        body=f"token {STANDIN} please",
        lost=[Lost("body", CRED)],
    )
    arrived, used, unfilled = replay(server, inc)
    assert arrived.body == b""
    assert arrived.header("Content-Length") == ["0"]  # a POST says it has no body
    assert used == []
    assert [lost.where for lost in unfilled] == ["body"]


def test_whole_body_stand_in_replaces_the_body(server: Server) -> None:
    inc = incident(body='{"a":1}', lost=[Lost("body", "truncated by Sentry")])
    arrived, used, unfilled = replay(server, inc, {"body": ('{"a": 2, "b": "ü"}', "--stand-in")})
    assert arrived.body == '{"a": 2, "b": "ü"}'.encode()
    assert arrived.header("Content-Length") == [str(len(arrived.body))]
    assert used == [StandIn("body", "--stand-in")]
    assert unfilled == []


def test_host_is_kept_once_and_hop_by_hop_headers_dropped(server: Server) -> None:
    inc = incident(
        headers=[
            (":authority", "shop.example.com"),
            ("Host", "shop.example.com"),
            ("Content-Length", "999"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("Upgrade", "h2c"),
            ("TE", "trailers"),
            ("Trailer", "Expires"),
            ("User-Agent", "Mozilla/5.0"),
        ],
        body="hello",
    )
    arrived, _used, _unfilled = replay(server, inc)
    names = [name.lower() for name, _ in arrived.headers]
    assert arrived.header("Host") == ["shop.example.com"]
    assert sorted(names) == ["content-length", "host", "user-agent"]
    assert arrived.header("Content-Length") == ["5"]
    assert arrived.body == b"hello"


def test_no_captured_host_or_accept_encoding(server: Server) -> None:
    arrived, _used, _unfilled = replay(server, incident(method="GET", path="/health"))
    assert arrived.header("Host") == [f"127.0.0.1:{server.port}"]
    assert arrived.header("Accept-Encoding") == []
    assert arrived.header("Content-Length") == []  # a GET without a body says nothing


def test_base64_body_is_sent_as_bytes(server: Server) -> None:
    raw = bytes(range(256)) * 3
    inc = incident(
        method="PUT",
        headers=[("Content-Type", "application/octet-stream")],
        body_base64=base64.b64encode(raw).decode("ascii"),
    )
    arrived, _used, _unfilled = replay(server, inc)
    assert arrived.body == raw
    assert arrived.header("Content-Length") == [str(len(raw))]


def test_missing_part_from_an_access_log_gets_a_header(server: Server) -> None:
    # The log importer says an authenticated user was there, but no header was captured.
    inc = incident(
        method="GET",
        lost=[
            Lost("headers", "not in the access log (only Referer and User-Agent are)"),
            Lost("header:Authorization", "credential: not in the access log"),
            Lost("body", "not in the access log", needs_standin=False),
        ],
    )
    arrived, used, unfilled = replay(server, inc, {"header:AUTHORIZATION": ("Bearer t", "--auth")})
    assert arrived.header("Authorization") == ["Bearer t"]
    assert used == [StandIn("header:Authorization", "--auth")]
    assert [lost.where for lost in unfilled] == ["headers"]


def test_marker_not_listed_in_lost_is_never_sent(server: Server) -> None:
    inc = incident(
        headers=[("X-Api-Key", STANDIN)],
        cookies=[("csrftoken", STANDIN)],
        body=f"raw text {STANDIN}",
    )
    arrived, used, unfilled = replay(server, inc)
    assert arrived.header("X-Api-Key") == []
    assert arrived.header("Cookie") == []
    assert arrived.body == b""
    assert [(lost.where, lost.why) for lost in unfilled] == [
        ("header:X-Api-Key", UNLISTED),
        ("cookie:csrftoken", UNLISTED),
        ("body", UNLISTED),
    ]
    assert used == []


def test_path_with_space_and_non_ascii_is_encoded(server: Server) -> None:
    arrived, _used, _unfilled = replay(server, incident(method="GET", path="/a b/é/%2F"))
    assert arrived.path == "/a%20b/%C3%A9/%2F"


def test_response_body_is_read_bounded(server: Server) -> None:
    server.handler.answer_size = 3 * MAX_RESPONSE_BYTES
    response = send("127.0.0.1", server.port, PreparedRequest("GET", "/", [], None), timeout=5)
    assert response == Response(500, None, response.seconds)


def test_connection_refused_is_an_error_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    response = send("127.0.0.1", port, PreparedRequest("GET", "/", [], None), timeout=2)
    assert response.status is None
    assert response.error is not None and "connection refused" in response.error


def test_server_that_never_answers_times_out() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # the kernel accepts; nobody ever reads or answers
        started = time.monotonic()
        response = send(
            "127.0.0.1",
            sock.getsockname()[1],
            PreparedRequest("POST", "/", [], b"x"),
            timeout=0.5,
        )
    assert response.status is None
    assert response.error == "timed out after 0.5 s"
    assert 0.4 < response.seconds < 5
    assert time.monotonic() - started < 5


def test_server_that_hangs_up_is_an_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        def hang_up() -> None:
            conn, _addr = sock.accept()
            conn.recv(65536)
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        response = send(
            "127.0.0.1", sock.getsockname()[1], PreparedRequest("GET", "/", [], None), timeout=5
        )
        thread.join(5)
    assert response.status is None
    assert response.error == "the app closed the connection without answering"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("header:Authorization=Bearer abc==", ("header:Authorization", "Bearer abc==")),
        ("Header:X-Api-Key=k", ("header:X-Api-Key", "k")),
        ("cookie:session=a=b", ("cookie:session", "a=b")),
        ("query:api_key=", ("query:api_key", "")),
        ('body={"a": 1}', ("body", '{"a": 1}')),
        ("body:user.password=pw", ("body:user.password", "pw")),
        ("body:items[0].token=t", ("body:items[0].token", "t")),
    ],
)
def test_parse_stand_in(text: str, expected: tuple[str, str]) -> None:
    assert parse_stand_in(text) == expected


SECRET = "sk_live_S3CRETvalue"


@pytest.mark.parametrize(
    "text",
    [
        SECRET,
        f"Bearer {SECRET}",
        f"authorization:{SECRET}=x",
        f"header:={SECRET}",
        f"header:Bad Name={SECRET}",
        f"cookie:={SECRET}",
        f"query:={SECRET}",
        f"body:={SECRET}",
        f"header:Authorization=Bearer {SECRET}\r\nX-Injected: 1",
        f"cookie:session={SECRET}; admin=1",
    ],
)
def test_parse_stand_in_rejects_without_echoing_the_value(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_stand_in(text)
    message = info.value.one_line()
    assert SECRET not in message
    assert "\n" not in message


def test_prepare_rejects_a_bad_place_from_a_profile() -> None:
    with pytest.raises(UsageError) as info:
        prepare(incident(), {"headers:Authorization": (SECRET, "profile sandbox.stand_ins")})
    assert "profile sandbox.stand_ins" in info.value.one_line()
    assert SECRET not in info.value.one_line()


def test_a_form_stand_in_leaves_every_other_field_byte_for_byte(server: Server) -> None:
    # %20 (not +), a field without '=', an empty one, a repeated one, odd order
    raw = f"note=x%20y%21&flag&empty=&tag=a&password={quote_plus(STANDIN)}&tag=b%2Fc"
    inc = incident(
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=raw,
        lost=[Lost("body:password", CRED)],
    )
    arrived, _used, _unfilled = replay(server, inc, {"body:password": ("s3 cr&t", "--auth")})
    assert arrived.body == b"note=x%20y%21&flag&empty=&tag=a&password=s3+cr%26t&tag=b%2Fc"


def test_a_query_name_without_equals_stays_so(server: Server) -> None:
    inc = incident()
    inc.request.query = [("pretty", None), ("q", "a b"), ("empty", "")]
    arrived, _used, _unfilled = replay(server, inc, {})
    assert arrived.path.endswith("?pretty&q=a+b&empty=")
    assert Incident.from_yaml(inc.to_yaml()).request.query == inc.request.query


def test_a_credential_in_the_path_needs_a_path_stand_in(server: Server) -> None:
    inc = incident(lost=[Lost("path", CRED)])
    inc.request.path = f"/reset/{STANDIN}"
    with pytest.raises(UsageError, match="--stand-in path="):
        prepare(inc, {})
    arrived, used, _unfilled = replay(server, inc, {"path": ("/reset/abc", "--stand-in")})
    assert arrived.path.startswith("/reset/abc") and [u.where for u in used] == ["path"]
