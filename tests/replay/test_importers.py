"""Importers on realistic inputs (one captured from a real Flask app with the real sentry-sdk),
credentials never in clear, and garbage always one IncidentError line."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repro.errors import IncidentError
from repro.redaction import RedactionKey, Redactor
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.incident import STANDIN, Incident, Lost
from tests.helpers.cli import run_repro

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "fixtures" / "incidents" / "samples"
CREDENTIAL = "credential: fingerprinted, needs a stand-in"
FILTERED = "filtered by Sentry ([Filtered])"
KEY = "test-redaction-key"


def options(**kw: Any) -> ImportOptions:
    return ImportOptions(redactor=Redactor(RedactionKey.from_bytes(KEY.encode(), "env")), **kw)


def parse(kind: str, data: bytes | str, **kw: Any) -> Incident:
    raw = data.encode() if isinstance(data, str) else data
    return IMPORTERS[kind].parse(raw, options=options(**kw))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def wheres(incident: Incident) -> dict[str, str]:
    return {lost.where: lost.why for lost in incident.lost}


def assert_no_canary(text: str) -> None:
    assert "CANARY" not in text, text
    assert "hunter2" not in text


# --- sentry ---------------------------------------------------------------------------------


REMOVED = "removed by Sentry (SDK settings, e.g. send_default_pii off)"


def sdk_treatment(event: dict[str, Any], header: str) -> str:
    """What this sentry-sdk did with a request header: which headers its default scrubber
    filters changes between releases (2.76 started filtering X-Api-Key), so the expectation
    follows the event, never a version."""
    headers = (event.get("request") or {}).get("headers") or {}
    pairs = headers.items() if isinstance(headers, dict) else headers
    values = [v for k, v in pairs if k.lower() == header.lower()]
    if not values:
        return REMOVED
    return FILTERED if values[0] == "[Filtered]" else CREDENTIAL


def check_flask_event(incident: Incident, module: str, api_key: str = REMOVED) -> None:
    r = incident.request
    assert (r.method, r.path) == ("POST", "/checkout")
    assert r.query == [("api_key", STANDIN), ("coupon", "SPRING")]
    assert r.headers == [
        ("User-Agent", r.headers[0][1]),
        ("Host", "localhost"),
        ("Content-Type", "application/json"),
        ("Authorization", STANDIN),
        ("X-Api-Key", STANDIN),
        ("Accept", "application/json"),
    ]
    assert r.cookies == []
    assert json.loads(r.body or "") == {"amount": 10, "country": "FR", "password": STANDIN}
    sig = incident.signature
    assert sig.status is None  # the Flask integration reports no status
    assert [e.type for e in sig.exceptions] == ["KeyError", "RuntimeError"]
    assert sig.exceptions[0].value == "'FR'"
    key = sig.key()
    assert key[1][0] == (
        "KeyError",
        (
            (module, "checkout", 'total = order["amount"] * (1 + rate_for(order["country"]))'),
            (module, "rate_for", "return rates[country]"),
        ),
    )
    assert key[1][1] == (
        "RuntimeError",
        ((module, "checkout", 'raise RuntimeError("pricing failed for this order") from exc'),),
    )
    assert [f.in_app for f in sig.exceptions[1].frames][:2] == [False, False]
    p = incident.provenance
    assert (p.source, p.release, p.environment) == ("sentry", "shop@1.4.2", "production")
    assert p.event_id and p.timestamp and p.timestamp.endswith("+00:00")
    assert wheres(incident) == {
        "header:Authorization": FILTERED,
        "header:X-Api-Key": api_key,
        "cookies": FILTERED,
        "body:password": FILTERED,
        "query:api_key": CREDENTIAL,
    }
    assert_no_canary(incident.to_yaml())


def test_sentry_event_captured_from_a_real_flask_app() -> None:
    pytest.importorskip("flask")
    pytest.importorskip("sentry_sdk")
    from tests.replay.sentry_app import capture_checkout_event

    event = capture_checkout_event()
    incident = parse("sentry", json.dumps(event))
    check_flask_event(incident, "tests.replay.sentry_app", sdk_treatment(event, "X-Api-Key"))


def test_sentry_sdk_fixture() -> None:
    incident = parse("sentry", sample("sentry-sdk-flask.json"), file="sentry-sdk-flask.json")
    check_flask_event(incident, "tests.replay.sentry_app")
    assert incident.provenance.file == "sentry-sdk-flask.json"
    # the absolute path: it tells the app's frames from a library's
    assert incident.signature.exceptions[0].frames[0].filename == (
        "/srv/shop/tests/replay/sentry_app.py"
    )


def test_sentry_api_export() -> None:
    incident = parse("sentry", sample("sentry-api-export.json"))
    r = incident.request
    assert (r.method, r.path, r.body) == ("GET", "/orders/42/invoice", None)
    assert r.query == [("format", "pdf"), ("token", STANDIN), ("lang", "de")]
    assert ("Authorization", STANDIN) in r.headers
    assert ("X-Request-Id", "7f3e1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b") in r.headers
    assert r.cookies == [("csrftoken", STANDIN), ("sessionid", STANDIN), ("theme", "dark")]
    sig = incident.signature
    assert sig.status == 500
    assert [e.type for e in sig.exceptions] == [
        "psycopg.errors.UndefinedFunction",
        "shop.errors.InvoiceError",
    ]
    assert sig.key() == (
        500,
        (
            (
                "psycopg.errors.UndefinedFunction",
                (("shop.invoices", "invoice_totals", "cur.execute(SQL_TOTALS, (order_id,))"),),
            ),
            (
                "shop.errors.InvoiceError",
                (
                    (
                        "shop.views",
                        "invoice",
                        'raise InvoiceError(f"cannot render invoice for order {order_id}") '
                        "from exc",
                    ),
                ),
            ),
        ),
    )
    assert sig.exceptions[0].frames[0].lineno == 42
    p = incident.provenance
    assert (p.event_id, p.release, p.environment) == (
        "9c1f4e2ab8d34f0e9a7b6c5d4e3f2a10",
        "shop@1.4.3",
        "production",
    )
    assert p.timestamp == "2026-10-10T13:55:36.412000+00:00"
    assert wheres(incident) == {
        "header:Authorization": FILTERED,
        "header:X-Forwarded-For": FILTERED,
        "query:token": FILTERED,
        "cookie:csrftoken": FILTERED,
        "cookie:sessionid": FILTERED,
    }
    assert Incident.from_yaml(incident.to_yaml()) == incident


def ingest_event(**request: Any) -> dict[str, Any]:
    return {
        "event_id": "e1",
        "timestamp": 1791640536.25,
        "release": "r1",
        "tags": {"http.status_code": "503"},
        "request": {"url": "https://x.example/a/b", "method": "post", **request},
        "exception": {
            "values": [
                {
                    "type": "OperationalError",
                    "module": "psycopg",
                    "value": "connection to postgresql://app:CANARYdbpw@db:5432/x failed",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "shop/db.py",
                                "function": "connect",
                                "lineno": 3,
                                "context_line": "    return psycopg.connect(DSN)",
                            },
                        ]
                    },
                }
            ]
        },
    }


def test_sentry_ingest_variants() -> None:
    event = ingest_event(
        query_string=[["a", "1"], ["a", "2"]],
        headers=[
            ["Content-Type", "application/x-www-form-urlencoded"],
            ["X-Auth-Token", "CANARYxat"],
        ],
        cookies="sessionid=CANARYsess; lang=de",
        data={"user": "bob", "tags": ["x", "y"]},
    )
    incident = parse("sentry", json.dumps(event))
    r = incident.request
    assert (r.method, r.path, r.query) == ("POST", "/a/b", [("a", "1"), ("a", "2")])
    assert r.body == "user=bob&tags=x&tags=y"
    assert r.cookies == [("sessionid", STANDIN), ("lang", "de")]
    assert ("X-Auth-Token", STANDIN) in r.headers
    assert incident.signature.status == 503
    exc = incident.signature.exceptions[0]
    assert exc.type == "psycopg.OperationalError"
    assert exc.frames[0].module == "shop.db"  # derived from the filename
    assert exc.frames[0].context_line == "return psycopg.connect(DSN)"
    assert incident.provenance.timestamp == "2026-10-10T13:55:36.250000+00:00"
    assert_no_canary(incident.to_yaml())

    event = ingest_event(query_string={"q": "x"}, data="raw text", headers={"A": "b"})
    event["contexts"] = {"response": {"status_code": 500}}
    incident = parse("sentry", json.dumps(event))
    assert incident.request.query == [("q", "x")] and incident.request.body == "raw text"
    assert incident.signature.status == 500


def test_sentry_meta_truncated_and_removed_body_is_lost_not_replayed() -> None:
    event = ingest_event(data='{"items": [1, 2, 3, ...')
    event["_meta"] = {"request": {"data": {"": {"rem": [["!limit", "x", 20, 23]], "len": 90000}}}}
    incident = parse("sentry", json.dumps(event))
    assert incident.request.body is None
    assert wheres(incident)["body"] == "truncated by Sentry (_meta)"

    event = ingest_event(data="", cookies=None)
    event["_meta"] = {
        "request": {
            "data": {"": {"rem": [["!config", "x"]]}},
            "cookies": {"": {"rem": [["!config", "x"]]}},
        }
    }
    incident = parse("sentry", json.dumps(event))
    assert incident.request.body is None and incident.request.cookies == []
    assert set(wheres(incident)) == {"body", "cookies"}


def test_sentry_envelope() -> None:
    event = ingest_event()
    envelope = "\n".join(
        [
            json.dumps({"event_id": "e1", "dsn": "http://public@127.0.0.1:9/1"}),
            json.dumps({"type": "event", "content_type": "application/json"}),
            json.dumps(event),
        ]
    )
    assert parse("sentry", envelope).request.path == "/a/b"


def test_sentry_without_request_is_refused() -> None:
    event = ingest_event()
    del event["request"]
    with pytest.raises(IncidentError, match="no request"):
        parse("sentry", json.dumps(event))


# --- har ------------------------------------------------------------------------------------


def test_har_default_is_first_5xx_entry() -> None:
    incident = parse("har", sample("chrome-checkout.har"), file="chrome-checkout.har")
    r = incident.request
    assert (r.method, r.path) == ("POST", "/api/checkout")
    assert r.query == [("api_key", STANDIN), ("step", "pay")]
    assert r.body == '{"cart_id":"c-981","country":"FR","payment":"card"}'
    names = [name for name, _ in r.headers]
    assert not [n for n in names if n.startswith(":")]
    assert "content-length" not in names and "cookie" not in names
    assert ("authorization", STANDIN) in r.headers and ("x-csrf-token", STANDIN) in r.headers
    assert r.cookies == [("sessionid", STANDIN), ("theme", "dark")]
    assert r.url == "https://shop.example.com/api/checkout?api_key=%3Cstand-in+needed%3E&step=pay"
    assert incident.signature.key() == (500, ())
    assert incident.provenance.timestamp == "2026-10-10T13:55:36.100000+00:00"
    assert wheres(incident) == {
        "header:authorization": CREDENTIAL,
        "header:x-csrf-token": CREDENTIAL,
        "cookie:sessionid": CREDENTIAL,
        "query:api_key": CREDENTIAL,
    }
    assert_no_canary(incident.to_yaml())


def test_har_entry_match_and_omitted_body() -> None:
    avatar = parse("har", sample("chrome-checkout.har"), entry=3)
    assert (avatar.request.method, avatar.signature.status, avatar.request.body) == (
        "PUT",
        502,
        None,
    )
    assert wheres(avatar)["body"] == "HAR has no body (content omitted)"
    login = parse("har", sample("chrome-checkout.har"), match=r"/api/log")
    assert login.request.body == "username=alice&password=%3Cstand-in+needed%3E"
    assert wheres(login)["body:password"] == CREDENTIAL
    assert_no_canary(login.to_yaml())
    with pytest.raises(IncidentError, match="out of range"):
        parse("har", sample("chrome-checkout.har"), entry=9)
    with pytest.raises(IncidentError, match="no entry's URL matches"):
        parse("har", sample("chrome-checkout.har"), match="nothing-like-this")


def test_har_without_5xx_and_oddities() -> None:
    har = json.loads(sample("chrome-checkout.har"))
    har["log"]["entries"] = [har["log"]["entries"][0]]
    with pytest.raises(IncidentError, match="no entry with status >= 500; pick one with --entry"):
        parse("har", json.dumps(har))
    entry = har["log"]["entries"][0]
    entry["request"]["headers"] = {"Accept": "text/html"}  # object instead of a list
    entry["request"]["method"] = "POST"
    entry["request"]["postData"] = {
        "mimeType": "application/octet-stream",
        "text": "AAEC/w==",
        "encoding": "base64",
    }
    incident = parse("har", json.dumps(har), entry=0)
    assert incident.request.headers == [("Accept", "text/html")]
    assert (incident.request.body, incident.request.body_base64) == (None, "AAEC/w==")


# --- curl -----------------------------------------------------------------------------------


def test_curl_chrome_bash() -> None:
    incident = parse("curl", sample("chrome-copy-as-curl.sh"), status=500)
    r = incident.request
    assert (r.method, r.path, r.query) == (
        "POST",
        "/api/checkout",
        [("api_key", STANDIN), ("step", "pay")],
    )
    assert json.loads(r.body or "")["note"] == "ring twice\nthen wait"
    assert r.cookies == [("sessionid", STANDIN), ("theme", "dark"), ("csrftoken", STANDIN)]
    assert ("sec-ch-ua", '"Chromium";v="131", "Not_A Brand";v="24"') in r.headers
    assert ("authorization", STANDIN) in r.headers
    assert incident.signature.status == 500
    assert set(wheres(incident)) == {
        "header:authorization",
        "cookie:sessionid",
        "cookie:csrftoken",
        "query:api_key",
    }
    assert_no_canary(incident.to_yaml())


def test_curl_chrome_cmd() -> None:
    incident = parse("curl", sample("chrome-copy-as-curl-cmd.txt"))
    r = incident.request
    assert (r.method, r.path, r.query) == ("POST", "/api/checkout", [("step", "pay")])
    assert json.loads(r.body or "") == {"cart_id": "c-981", "country": "FR", "off": "50%"}
    assert r.cookies == [("sessionid", STANDIN), ("theme", "dark")]
    assert incident.signature.status is None
    assert_no_canary(incident.to_yaml())


def test_curl_options() -> None:
    incident = parse(
        "curl",
        "curl -sSL -XPUT -u bob:CANARYuserpass 'http://h/x' -d a=1 --data-urlencode 'q=a b&c' "
        "-d @body.json -H 'X-Empty;' -k --compressed",
    )
    r = incident.request
    assert r.method == "PUT"
    assert r.body is None  # one piece is read from a file: the body curl sends is not known
    assert ("Content-Type", "application/x-www-form-urlencoded") in r.headers
    assert ("X-Empty", "") in r.headers and ("Authorization", STANDIN) in r.headers
    assert wheres(incident)["header:Authorization"] == CREDENTIAL
    assert "not read" in wheres(incident)["body"]
    assert_no_canary(incident.to_yaml())
    assert "Ym9iOkNBTkFSWXVzZXJwYXNz" not in incident.to_yaml()  # base64 of bob:CANARY...

    get = parse("curl", "curl -G https://h/search -d q=1 --data-raw 'r=2'")
    assert (get.request.method, get.request.query, get.request.body) == (
        "GET",
        [("q", "1"), ("r", "2")],
        None,
    )
    userinfo = parse("curl", "curl https://u:CANARYurlpw@h/")
    assert ("Authorization", STANDIN) in userinfo.request.headers
    assert_no_canary(userinfo.to_yaml())


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl 'http://h/x", "unterminated ' quote"),
        ("curl --frobnicate http://h/", "option --frobnicate: is unknown"),
        ("curl -H", "needs a value"),
        ("wget http://h/", "not a curl command"),
        ("curl -s", "no URL"),
        ("curl http://a/ http://b/", "import one request at a time"),
        ("curl ftp://h/file", "not an http(s) URL"),
    ],
)
def test_curl_errors(command: str, message: str) -> None:
    with pytest.raises(IncidentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse("curl", command)


# --- log ------------------------------------------------------------------------------------


def test_log_combined_lines() -> None:
    incident = parse("log", sample("nginx-access.log"))  # several lines: the first 5xx
    r = incident.request
    assert (r.method, r.path, r.query) == (
        "POST",
        "/api/checkout",
        [("api_key", STANDIN), ("step", "pay")],
    )
    assert r.headers[0] == ("Referer", "https://shop.example.com/checkout")
    assert r.headers[1][0] == "User-Agent" and (r.body, r.cookies) == (None, [])
    assert incident.signature.key() == (500, ())
    assert incident.provenance.timestamp == "2026-10-10T13:55:36+00:00"
    lost = wheres(incident)
    assert lost["cookies"] == "not in an access log"
    assert set(lost) == {"headers", "cookies", "body", "query:api_key"}
    assert_no_canary(incident.to_yaml())


def test_log_common_format_and_remote_user() -> None:
    lines = sample("nginx-access.log").decode().splitlines()
    common = parse("log", lines[3])
    assert (common.request.path, common.request.headers, common.signature.status) == (
        "/orders/42/invoice",
        [],
        504,
    )
    body = next(lost for lost in common.lost if lost.where == "body")
    assert body == Lost("body", "not in an access log", needs_standin=False)  # a GET
    admin = parse("log", lines[2])
    assert admin.provenance.timestamp == "2026-10-10T13:57:02+02:00"
    assert "header:Authorization" in wheres(admin)
    with pytest.raises(IncidentError, match="not 'METHOD /target HTTP/x'"):
        parse("log", lines[4])


# --- garbage and fuzz -----------------------------------------------------------------------


GARBAGE = [b"", b"   ", b"\xff\xfe\x00garbage", b"null", b"[]", b"42", b'"str"', b"{", b'{"a": [1,']


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_is_one_incident_error(kind: str, data: bytes) -> None:
    with pytest.raises(IncidentError) as info:
        parse(kind, data)
    assert "\n" not in info.value.one_line()


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("sentry", "sentry-sdk-flask.json"),
        ("sentry", "sentry-api-export.json"),
        ("har", "chrome-checkout.har"),
        ("curl", "chrome-copy-as-curl.sh"),
        ("curl", "chrome-copy-as-curl-cmd.txt"),
        ("log", "nginx-access.log"),
    ],
)
def test_random_bytes_and_truncation(kind: str, name: str) -> None:
    data = sample(name)
    rng = random.Random(7)
    cases = [data[: rng.randrange(len(data))] for _ in range(60)]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(30)]
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cases.append(bytes(mutated))
    for case in cases:
        try:
            parse(kind, case)
        except IncidentError as exc:
            assert "\n" not in exc.one_line()


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in ("vars", "pre_context", "post_context", "timings", "_initiator"):
                out.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*path, i)))
    return out


def _replace(tree: Any, path: tuple[Any, ...], value: Any) -> Any:
    tree = copy.deepcopy(tree)
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return tree


@pytest.mark.parametrize(
    "name", ["sentry-sdk-flask.json", "sentry-api-export.json", "chrome-checkout.har"]
)
def test_wrong_types_at_every_level(name: str) -> None:
    kind = "har" if name.endswith(".har") else "sentry"
    tree = json.loads(sample(name))
    errors = 0
    for path in _paths(tree):
        for wrong in (7, "x", [], {}, True, [[1]], {"": 1}):
            try:
                parse(kind, json.dumps(_replace(tree, path, wrong)))
            except IncidentError as exc:
                errors += 1
                line = exc.one_line()
                assert "\n" not in line and line.split(":")[0] in ("sentry event", "har")
    assert errors > 100


def test_error_names_the_place() -> None:
    event = json.loads(sample("sentry-sdk-flask.json"))
    event["exception"]["values"][0]["stacktrace"]["frames"][1] = "oops"
    with pytest.raises(IncidentError) as info:
        parse("sentry", json.dumps(event))
    assert info.value.one_line() == (
        "sentry event: exception.values[0].stacktrace.frames[1] is not an object (a string)"
    )


# --- the command line -----------------------------------------------------------------------


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPRO_REDACTION_KEY": KEY, "REPRO_LOG_DIR": "/nonexistent-dir-x"}
    return run_repro("import", *args, env=env, stdin=stdin, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ("sentry", str(SAMPLES / "sentry-sdk-flask.json")),
        ("sentry", str(SAMPLES / "sentry-api-export.json")),
        ("har", str(SAMPLES / "chrome-checkout.har")),
        ("har", str(SAMPLES / "chrome-checkout.har"), "--entry", "2"),
        ("curl", (SAMPLES / "chrome-copy-as-curl.sh").read_text(), "--status", "500"),
        ("curl", (SAMPLES / "chrome-copy-as-curl-cmd.txt").read_text()),
        ("curl", "curl -u admin:CANARYcliUSERPASS https://h/x?access_token=CANARYcliTOKEN"),
        ("log", (SAMPLES / "nginx-access.log").read_text()),
    ],
)
def test_cli_never_prints_credentials(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert_no_canary(result.stdout + result.stderr)
    incident = Incident.from_yaml(result.stdout)
    assert result.stderr.startswith(f"repro: incident: {incident.request.method} ")
    # one summary line, then notes on what the importer skipped or assumed
    assert all(line.startswith("repro: note: ") for line in result.stderr.splitlines()[1:])


def test_cli_summary_line() -> None:
    result = run_cli("sentry", str(SAMPLES / "sentry-api-export.json"))
    assert result.stderr == (
        "repro: incident: GET /orders/42/invoice -> 500 shop.errors.InvoiceError; 5 parts lost: "
        "header:Authorization (filtered), header:X-Forwarded-For (filtered), query:token "
        "(filtered), cookie:csrftoken (filtered), cookie:sessionid (filtered)\n"
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("sentry", "-"), "{not json", "sentry event: not valid JSON"),
        (("sentry", "/no/such/file.json"), None, "no such file"),
        (("har", "-"), '{"log": {"entries": [{"request": 5}]}}', "har: log.entries[0]"),
        (("har", "-", "--match", "("), "{}", "har: "),
        (("curl", "curl 'http://x"), None, "unterminated"),
        (("log", "hello world"), None, "not an access-log line"),
    ],
)
def test_cli_garbage_exits_2_with_one_line(
    args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = run_cli(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("repro: error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_cli_output_file_and_force(tmp_path: Path) -> None:
    out = tmp_path / "incident.yaml"
    line = (SAMPLES / "nginx-access.log").read_text().splitlines()[1]
    assert run_cli("log", line, "-o", str(out)).returncode == 0
    assert Incident.from_yaml(out.read_text()).signature.status == 500
    again = run_cli("log", line, "-o", str(out))
    assert again.returncode == 2 and "exists" in again.stderr
    assert run_cli("log", line, "-o", str(out), "--force").returncode == 0
