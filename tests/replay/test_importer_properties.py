"""Property tests (hypothesis) for the importers: any input gives an incident that loads back or
one IncidentError line (never another exception); a value quoted for the shell comes out of the
curl parser exactly; a planted secret never comes out in clear, whatever it is named."""

from __future__ import annotations

import json
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.errors import IncidentError
from repro.redaction import RedactionKey, Redactor
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.importers.shellwords import parse_commands
from repro.replay.incident import Incident

FAST = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
TEXT = st.text(max_size=60)
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ-_", min_size=1, max_size=20)
SECRET = st.sampled_from(
    [
        "AKIACANARY0123456789",
        "ghp_CANARY0123456789abcdefghijABCDEFGHIJ",
        "sk_live_CANARYabcdefghij0123",
        "xoxb-CANARY-123456789012-abcdefghijkl",
        "eyJhbGciOiJIUzI1NiJ9.eyJDQU5BUlki.CANARYsignature01",
    ]
)


def options() -> ImportOptions:
    return ImportOptions(redactor=Redactor(RedactionKey.from_bytes(b"prop", "test")))


def attempt(kind: str, data: bytes) -> Incident | None:
    try:
        incident = IMPORTERS[kind].parse(data, options=options())
    except IncidentError as exc:
        assert "\n" not in exc.one_line()
        return None
    assert Incident.from_yaml(incident.to_yaml()).to_dict() == incident.to_dict()
    return incident


@FAST
@given(st.sampled_from(sorted(IMPORTERS)), st.one_of(st.binary(max_size=300), TEXT.map(str.encode)))
def test_any_bytes_give_an_incident_or_one_line(kind: str, data: bytes) -> None:
    attempt(kind, data)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["url", "method", "headers", "cookies", "data", "query_string", "env"]),
        JSONISH,
        max_size=7,
    ),
    st.dictionaries(
        st.sampled_from(
            [
                "exception",
                "stacktrace",
                "threads",
                "type",
                "platform",
                "sdk",
                "contexts",
                "tags",
                "_meta",
            ]
        ),
        JSONISH,
        max_size=6,
    ),
)
def test_sentry_events_of_any_shape(request: dict[str, object], top: dict[str, object]) -> None:
    attempt("sentry", json.dumps({"request": request, **top}).encode())


@FAST
@given(
    st.lists(st.tuples(NAME, TEXT), max_size=5),
    TEXT,
    st.sampled_from(["GET", "POST", "wHat"]),
    st.integers(min_value=0, max_value=999),
)
def test_har_entries_of_any_content(
    headers: list[tuple[str, str]], body: str, method: str, status: int
) -> None:
    entry = {
        "request": {
            "method": method,
            "url": "https://h.example/p?q=1",
            "headers": [{"name": k, "value": v} for k, v in headers],
            "postData": {"mimeType": "text/plain", "text": body},
        },
        "response": {"status": status},
    }
    attempt("har", json.dumps({"log": {"entries": [entry]}}).encode())


@FAST
@given(st.lists(TEXT.filter(lambda s: "\x00" not in s), min_size=1, max_size=6))
def test_shell_words_come_back_exactly(words: list[str]) -> None:
    quoted = shlex.join(["curl", *words])
    commands = parse_commands(quoted, "curl")
    assert commands[0].words == ["curl", *words]


@FAST
@given(NAME, TEXT.filter(lambda v: v.strip() == v and v and "\r" not in v and "\n" not in v))
def test_curl_header_values_round_trip(name: str, value: str) -> None:
    incident = attempt(
        "curl", shlex.join(["curl", "https://h.example/x", "-H", f"{name}: {value}"]).encode()
    )
    dropped = {
        "te",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "trailer",
        "content-length",
        "proxy-connection",
        "cookie",
    }  # hop-by-hop, or the cookie list
    if incident is not None and name.lower() not in dropped:
        got = [v for k, v in incident.request.headers if k == name]
        assert got in ([value], ["<stand-in needed>"])


@FAST
@given(NAME, SECRET, st.sampled_from(["header", "cookie", "query", "json", "form", "referer"]))
def test_a_secret_shape_under_any_name_never_comes_out(name: str, secret: str, where: str) -> None:
    args = ["curl", "https://h.example/x"]
    if where == "header":
        args += ["-H", f"X-{name}: {secret}"]
    elif where == "cookie":
        args += ["-b", f"{name}={secret}"]
    elif where == "query":
        args = ["curl", f"https://h.example/x?{name}={secret}"]
    elif where == "json":
        args += ["--json", json.dumps({name: secret, "other": [secret]})]
    elif where == "form":
        args += ["-d", f"{name}={secret}&a=1"]
    else:
        args += ["-H", f"Referer: https://h.example/?{name}={secret}"]
    incident = attempt("curl", shlex.join(args).encode())
    if incident is not None:
        assert "CANARY" not in incident.to_yaml()


@FAST
@given(
    TEXT,
    st.integers(min_value=-5, max_value=1200),
    st.sampled_from(["", "web-1  | ", "[pod/a/b] "]),
)
def test_log_lines_of_any_status(target: str, status: int, prefix: str) -> None:
    line = f'{prefix}1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /{target} HTTP/1.1" {status} 5'
    incident = attempt("log", line.encode())
    if incident is not None and incident.signature.status is not None:
        assert 100 <= incident.signature.status <= 599
