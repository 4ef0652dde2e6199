"""A few hundred realistic importer inputs, generated in the real shapes of each source, with the
truth each one was made from, to measure the importers: how many come out right, how many are
refused (and with what line), that none raises anything but a one-line IncidentError and that no
planted credential appears in clear.

Shapes follow the formats' documentation and the SDKs'/tools' sources: Sentry events as the
Python, Java, PHP, Ruby, Node, .NET and Go SDKs write their ``request`` and ``exception`` (and
the web API export); HARs as Chrome, Firefox, Safari, Charles, Insomnia and mitmproxy write
them; curl commands as browsers copy them (bash, cmd, PowerShell) and as people and converters
write them; nginx/Apache, AWS ALB, Heroku router and JSON log lines, bare or prefixed.

``python -m tests.replay.realistic`` prints the numbers.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from repro.errors import IncidentError
from repro.redaction import RedactionKey, Redactor
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.incident import STANDIN, Incident


def _rand(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def canaries(rng: random.Random) -> list[str]:
    """Secret shapes a detector must know without a telling name; each holds ``CANARY``."""
    up = string.ascii_uppercase + string.digits
    return [
        "AKIA" + "CANARY" + _rand(rng, 10, up),
        "ghp_CANARY" + _rand(rng, 30),
        "xoxb-CANARY-" + _rand(rng, 12, string.digits) + "-" + _rand(rng, 20),
        "sk_live_CANARY" + _rand(rng, 20),
        "eyJhbGciOiJIUzI1NiJ9.eyJDQU5BUlki" + _rand(rng, 8) + ".CANARY" + _rand(rng, 16),
        "CANARY"
        + _rand(rng, 10, string.ascii_lowercase)
        + _rand(rng, 10, string.ascii_uppercase)
        + _rand(rng, 8, string.digits),
        "glpat-CANARY" + _rand(rng, 16),
        "AIzaCANARY" + _rand(rng, 30),
    ]


@dataclass
class Truth:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # innocent ones: must come out unchanged
    cookies: list[tuple[str, str]]
    body: str | None
    ctype: str | None
    status: int | None
    exception: str | None = None
    secrets: list[str] = field(default_factory=list)  # must never appear in clear
    secret_query: list[str] = field(default_factory=list)  # names that must be stand-ins
    secret_headers: list[str] = field(default_factory=list)
    secret_cookies: list[str] = field(default_factory=list)


@dataclass
class Case:
    kind: str
    label: str  # the source shape, e.g. "sentry/java"
    data: bytes
    truth: Truth
    options: dict[str, Any] = field(default_factory=dict)
    refuse: str | None = None  # a refusal is right when its line holds this


PATHS = [
    "/api/checkout",
    "/orders/42/invoice",
    "/api/cart/items",
    "/account/profile",
    "/admin/stock/sync",
    "/search",
    "/v2/products/MUG-001",
    "/login",
]
UAS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0",
    "okhttp/4.12.0",
]


def truth_for(rng: random.Random, *, body_ok: bool = True) -> Truth:
    method = rng.choice(["GET", "POST", "POST", "PUT", "DELETE", "PATCH"])
    secrets = canaries(rng)
    rng.shuffle(secrets)
    query = [("page", str(rng.randrange(1, 9))), ("lang", rng.choice(["de", "en"]))]
    if rng.random() < 0.3:
        query.append(("q", "mug & cup"))
    planted_q = secrets.pop()
    query.insert(rng.randrange(len(query) + 1), ("ref", planted_q))
    headers = [
        ("Accept", "application/json"),
        ("User-Agent", rng.choice(UAS)),
        ("X-Request-Id", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
    ]
    planted_h = secrets.pop()
    headers.append(("X-Client-Note", planted_h))
    auth = "Bearer CANARY" + _rand(rng, 24)
    cookies = [("theme", "dark"), ("otherCookie", "2"), ("sessionid", "CANARY" + _rand(rng, 20))]
    body = ctype = None
    body_secrets: list[str] = []
    if method in ("POST", "PUT", "PATCH") and body_ok:
        planted_b = secrets.pop()
        body_secrets.append(planted_b)
        if rng.random() < 0.5:
            ctype = "application/json"
            body = json.dumps(
                {
                    "sku": "MUG-001",
                    "qty": rng.randrange(1, 5),
                    "note": planted_b,
                    "msg": rng.choice(
                        [
                            "it's 50% off",
                            'a "quoted" word',
                            "two\nlines",
                            "ümlaut & <tag>",
                            "back\\slash",
                        ]
                    ),
                    "password": "CANARYpw" + _rand(rng, 6),
                },
                separators=(",", ":"),
            )
        else:
            ctype = "application/x-www-form-urlencoded"
            body = f"sku=MUG-001&qty=2&authLoginDomain=local&note={quote_plus(planted_b)}"
        headers.append(("Content-Type", ctype))
    all_secrets = [planted_q, planted_h, auth.split()[1], cookies[2][1], *body_secrets]
    return Truth(
        method=method,
        path=rng.choice(PATHS),
        query=query,
        headers=headers,
        cookies=cookies,
        body=body,
        ctype=ctype,
        status=rng.choice([500, 502, 503, 504]),
        secrets=all_secrets,
        secret_query=["ref"],
        secret_headers=["X-Client-Note", "Authorization"],
        secret_cookies=["sessionid"],
    )


def _auth(t: Truth) -> str:
    token = next(s for s in t.secrets if s.startswith("CANARY") and len(s) == 30)
    return f"Bearer {token}"


def _qs(t: Truth) -> str:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in t.query)


def _url(t: Truth, host: str = "shop.example.com") -> str:
    return f"https://{host}{t.path}?{_qs(t)}"


# -- sentry ------------------------------------------------------------------------------------

SDKS = {
    "python": ("sentry.python.flask", "python", "KeyError", None),
    "java": ("sentry.java.spring-boot.jakarta", "java", "NullPointerException", "java.lang"),
    "php": ("sentry.php.laravel", "php", "Illuminate\\Database\\QueryException", None),
    "ruby": ("sentry.ruby.rails", "ruby", "ActiveRecord::RecordInvalid", "ActiveRecord"),
    "node": ("sentry.javascript.node", "node", "TypeError", None),
    "dotnet": ("sentry.dotnet.aspnetcore", "csharp", "System.InvalidOperationException", None),
    "go": ("sentry.go", "go", "*errors.errorString", None),
}


def sentry_case(rng: random.Random, sdk: str) -> Case:
    t = truth_for(rng)
    name, platform, exc_type, module = SDKS[sdk]
    headers: Any = dict([*t.headers, ("Authorization", _auth(t))])
    if sdk == "php":
        headers = {k.lower(): [v] for k, v in headers.items()}
    elif sdk == "python" and rng.random() < 0.5:
        headers = [[k, v] for k, v in headers.items()]
    cookies: Any = dict(t.cookies)
    if sdk in ("python", "dotnet", "java") and rng.random() < 0.5:
        cookies = "; ".join(f"{k}={v}" for k, v in t.cookies)
    query: Any = _qs(t)
    if sdk == "python" and rng.random() < 0.3:
        query = [[k, v] for k, v in t.query]
    data: Any = None
    if t.body is not None:
        if (
            t.ctype == "application/json"
            and sdk in ("python", "php", "ruby")
            and rng.random() < 0.5
        ):
            data = json.loads(t.body)
        elif t.ctype and "form" in t.ctype and sdk in ("python", "php", "ruby"):
            data = dict(pair.split("=", 1) for pair in t.body.split("&"))
            data = {k: v.replace("+", " ") for k, v in data.items()}
            data = {k: _unq(v) for k, v in data.items()}
        else:
            data = t.body
    if sdk == "java" and t.method == "GET":
        data = {k: [v] for k, v in t.query}  # the servlet's parameter map
    frames = [
        {
            "filename": "app/handler",
            "abs_path": "/srv/app/handler",
            "function": "handle",
            "lineno": 10 + rng.randrange(90),
            "in_app": True,
            **(
                {"module": "shop.views"}
                if sdk == "python"
                else {"module": "com.shop.Handler"}
                if sdk == "java"
                else {}
            ),
        },
    ]
    exc: dict[str, Any] = {"type": exc_type, "value": "it broke", "stacktrace": {"frames": frames}}
    if module:
        exc["module"] = module
    event: dict[str, Any] = {
        "event_id": _rand(rng, 32, "0123456789abcdef"),
        "timestamp": 1791640536.25,
        "platform": platform,
        "level": "error",
        "sdk": {"name": name, "version": "1.0.0"},
        "release": "shop@1.0",
        "environment": "production",
        "request": {
            "url": f"https://shop.example.com{t.path}",
            "method": t.method,
            "query_string": query,
            "headers": headers,
            "cookies": cookies,
            **({"data": data} if data is not None else {}),
        },
        "contexts": {"response": {"status_code": t.status}},
        "exception": {"values": [exc]},
    }
    if sdk == "dotnet":  # frames on the crashed thread
        exc["thread_id"] = 7
        del exc["stacktrace"]
        event["threads"] = {
            "values": [
                {"id": 7, "crashed": True, "current": True, "stacktrace": {"frames": frames}}
            ]
        }
    if sdk == "go":
        event["exception"] = [exc]
    t.exception = exc_type if not module or "::" in exc_type else f"{module}.{exc_type}"
    if sdk == "java" and t.method == "GET":
        t.body = None
    return Case("sentry", f"sentry/{sdk}", json.dumps(event).encode(), t)


def _unq(text: str) -> str:
    from urllib.parse import unquote_plus

    return unquote_plus(text)


def sentry_special(rng: random.Random, which: str) -> Case:
    t = truth_for(rng, body_ok=False)
    base = json.loads(sentry_case(rng, "python").data)
    base["request"] = {
        "url": f"https://shop.example.com{t.path}",
        "method": t.method,
        "query_string": _qs(t),
        "headers": dict(t.headers),
        "cookies": dict(t.cookies),
    }
    base["contexts"] = {"response": {"status_code": t.status}}
    t.secret_headers = ["X-Client-Note"]  # no Authorization in these requests
    t.secrets = [s for s in t.secrets if not (s.startswith("CANARY") and len(s) == 30)]
    if which == "transaction":
        base["type"] = "transaction"
        del base["exception"]
        return Case(
            "sentry",
            "sentry/transaction",
            json.dumps(base).encode(),
            t,
            refuse="a transaction event",
        )
    if which == "browser":
        base["platform"] = "javascript"
        base["sdk"]["name"] = "sentry.javascript.browser"
        return Case(
            "sentry", "sentry/browser", json.dumps(base).encode(), t, refuse="browser-side error"
        )
    # a message event with a stack trace, no exception
    frames = base["exception"]["values"][0]["stacktrace"]["frames"]
    del base["exception"]
    base["logentry"] = {"formatted": "payment provider answered 503"}
    base["stacktrace"] = {"frames": frames}
    t.exception = "(message)"
    return Case("sentry", "sentry/message", json.dumps(base).encode(), t)


# -- har ---------------------------------------------------------------------------------------

TOOLS = ["chrome", "firefox", "safari", "charles", "insomnia", "mitmproxy"]


def har_case(rng: random.Random, tool: str) -> Case:
    t = truth_for(rng)
    headers = [*t.headers, ("Authorization", _auth(t))]
    cookie_header = "; ".join(f"{k}={v}" for k, v in t.cookies)
    har_headers = [{"name": k if tool != "chrome" else k.lower(), "value": v} for k, v in headers]
    if tool == "chrome":
        har_headers = [
            {"name": ":method", "value": t.method},
            {"name": ":path", "value": t.path},
            *har_headers,
            {"name": "cookie", "value": cookie_header},
        ]
    elif tool in ("firefox", "mitmproxy"):
        har_headers.append({"name": "Cookie", "value": cookie_header})
    request: dict[str, Any] = {
        "method": t.method,
        "url": _url(t),
        "httpVersion": "HTTP/1.1",
        "headers": har_headers,
        "cookies": [{"name": k, "value": v} for k, v in t.cookies] if tool != "chrome" else [],
        "queryString": [{"name": k, "value": v} for k, v in t.query],
        "headersSize": -1,
        "bodySize": len(t.body or ""),
    }
    if t.body is not None:
        request["postData"] = {"mimeType": t.ctype, "text": t.body, "params": []}
    status = 0 if tool == "insomnia" else t.status
    entry = {
        "startedDateTime": "2026-10-10T13:55:36.100Z",
        "time": 12,
        "request": request,
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 2},
    }
    ok = {
        "startedDateTime": "2026-10-10T13:55:35.000Z",
        "time": 3,
        "request": {
            "method": "GET",
            "url": "https://shop.example.com/",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "queryString": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "cookies": [],
            "content": {"size": 0, "mimeType": "text/html"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 1},
    }
    har = {
        "log": {"version": "1.2", "creator": {"name": tool, "version": "1"}, "entries": [ok, entry]}
    }
    if tool == "insomnia":
        t.status = None
    return Case(
        "har",
        f"har/{tool}",
        json.dumps(har).encode(),
        t,
        options={"entry": 1} if tool == "insomnia" else {},
    )


# -- curl --------------------------------------------------------------------------------------

CURLS = ["chrome-bash", "chrome-cmd", "firefox-posix", "powershell", "converter"]


def _sq(text: str) -> str:
    if "\n" in text or "'" in text:  # what Chrome's "Copy as cURL (bash)" writes then
        escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
        return "$'" + escaped + "'"
    return "'" + text + "'"


def _cmdq(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    out = "".join("^" + c if c in '^&|<>()%!"' else c for c in out)
    return '^"' + out + '^"'


def _psq(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def curl_case(rng: random.Random, style: str) -> Case:
    t = truth_for(rng)
    headers = [*t.headers, ("Authorization", _auth(t))]
    cookie = "; ".join(f"{k}={v}" for k, v in t.cookies)
    parts: list[tuple[str, str | None]] = [("", _url(t))]
    if t.method not in ("GET", "POST") or (t.method == "POST" and t.body is None):
        parts.append(("-X", t.method))
    for k, v in headers:
        parts.append(("-H", f"{k}: {v}"))
    parts.append(
        (
            "-b" if style != "firefox-posix" else "-H",
            cookie if style != "firefox-posix" else f"Cookie: {cookie}",
        )
    )
    if t.body is not None:
        parts.append(("--data-raw", t.body))
    if t.method == "GET" and t.body is None and style == "converter":
        parts.append(("--compressed", None))
    if style in ("chrome-bash", "firefox-posix", "converter"):
        words = []
        for opt, value in parts:
            words.append(" ".join(w for w in (opt, _sq(value) if value is not None else "") if w))
        sep = " \\\n  " if style == "chrome-bash" else " "
        text = "curl " + sep.join(words)
        if style == "converter":
            text = "# copied from the incident ticket\n" + text.replace("-H ", "--header ", 1)
    elif style == "chrome-cmd":
        words = [" ".join(w for w in (o, _cmdq(v) if v is not None else "") if w) for o, v in parts]
        text = "curl " + " ^\n  ".join(words)
    else:
        words = [" ".join(w for w in (o, _psq(v) if v is not None else "") if w) for o, v in parts]
        text = "curl.exe " + " `\n  ".join(words)
    t.status = None
    return Case("curl", f"curl/{style}", text.encode(), t)


# -- logs --------------------------------------------------------------------------------------

LOGS = ["combined", "common", "alb", "heroku", "json-pino", "json-ecs", "compose", "kubectl"]


def log_case(rng: random.Random, style: str) -> Case:
    t = truth_for(rng, body_ok=False)
    target = f"{t.path}?{_qs(t)}"
    ua = t.headers[1][1]
    ok_line = '10.0.0.1 - - [10/Oct/2026:13:55:30 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "probe"'
    if style in ("combined", "compose", "kubectl"):
        line = (
            f'10.0.0.9 - - [10/Oct/2026:13:55:36 +0000] "{t.method} {target} HTTP/1.1" '
            f'{t.status} 167 "-" "{ua}"'
        )
        t.headers = [("User-Agent", ua)]
    elif style == "common":
        stamp = "[10/Oct/2026:13:55:36 +0000]"
        line = f'10.0.0.9 - - {stamp} "{t.method} {target} HTTP/1.1" {t.status} 167'
        t.headers = []
    elif style == "alb":
        line = (
            f"https 2026-10-10T13:55:36.123456Z app/shop/50dc6c 1.2.3.4:5 10.0.0.1:80 0.001 "
            f'30.0 -1 {t.status} - 734 293 "{t.method} https://shop.example.com:443{target} '
            f'HTTP/1.1" "{ua}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:x "Root=1-5" "-" "-" 0'
        )
        t.headers = [("User-Agent", ua)]
    elif style == "heroku":
        line = (
            f'2026-10-10T13:55:36+00:00 heroku[router]: at=error code=H13 desc="Connection '
            f'closed without response" method={t.method} path="{target}" host=shop.herokuapp.com '
            f'request_id=ab fwd="1.2.3.4" dyno=web.1 connect=0ms service=12ms status={t.status} '
            f"bytes=0 protocol=https"
        )
        t.headers = [("Host", "shop.herokuapp.com")]
    elif style == "json-pino":
        line = json.dumps(
            {
                "level": 50,
                "time": 1791640536412,
                "req": {"method": t.method, "url": target, "headers": {"user-agent": ua}},
                "res": {"statusCode": t.status},
                "msg": "request errored",
            }
        )
        t.headers = [("user-agent", ua)]
    else:
        line = json.dumps(
            {
                "@timestamp": "2026-10-10T13:55:36Z",
                "http": {"request": {"method": t.method}, "response": {"status_code": t.status}},
                "url": {"path": t.path, "query": _qs(t)},
                "user_agent": {"original": ua},
            }
        )
        t.headers = [("User-Agent", ua)]
    lines = [ok_line, line]
    if style == "compose":
        lines = [f"web-1  | {x}" for x in lines]
    elif style == "kubectl":
        lines = [f"[pod/web-7d9f8/nginx] {x}" for x in lines]
    if rng.random() < 0.5:
        lines.insert(1, "2026/10/10 13:55:31 [error] 29#29: *1 upstream timed out")
    t.cookies = []
    t.secrets = [t.query[[k for k, _ in t.query].index("ref")][1]]
    t.secret_headers = []
    t.secret_cookies = []
    return Case("log", f"log/{style}", "\n".join(lines).encode(), t)


# -- the set and its judge ---------------------------------------------------------------------


def cases(seed: int = 14, per_shape: int = 12) -> list[Case]:
    rng = random.Random(seed)
    out: list[Case] = []
    for _ in range(per_shape):
        out += [sentry_case(rng, sdk) for sdk in SDKS]
        out += [sentry_special(rng, w) for w in ("transaction", "browser", "message")]
        out += [har_case(rng, tool) for tool in TOOLS]
        out += [curl_case(rng, style) for style in CURLS]
        out += [log_case(rng, style) for style in LOGS]
    return out


def judge(case: Case) -> tuple[str, str]:
    """("right" | "refused" | "wrong", detail)."""
    options = ImportOptions(
        redactor=Redactor(RedactionKey.from_bytes(b"realistic", "t")), **case.options
    )
    try:
        incident = IMPORTERS[case.kind].parse(case.data, options=options)
    except IncidentError as exc:
        line = exc.one_line()
        leaked = [s for s in case.truth.secrets if s in line]
        if leaked or "\n" in line:
            return "wrong", f"refusal leaks or is not one line: {line}"
        if case.refuse and case.refuse in line:
            return "right", line
        return "refused", line
    if case.refuse:
        return "wrong", f"imported, but should be refused ({case.refuse})"
    problems = check(incident, case.truth)
    return ("wrong", "; ".join(problems)) if problems else ("right", "")


def check(incident: Incident, t: Truth) -> list[str]:
    problems: list[str] = []
    r = incident.request
    text = incident.to_yaml()
    for secret in t.secrets:
        if secret in text or quote_plus(secret) in text or quote(secret, safe="") in text:
            problems.append(f"credential in clear ({secret[:12]}...)")
    if r.method != t.method:
        problems.append(f"method {r.method} != {t.method}")
    if r.path != t.path:
        problems.append(f"path {r.path} != {t.path}")
    for name, value in t.query:
        got = [v for k, v in r.query if k == name]
        want = STANDIN if name in t.secret_query else value
        if got != [want]:
            problems.append(f"query {name}: {got} != {[want]}")
    for name, value in t.headers:
        got = [v for k, v in r.headers if k.lower() == name.lower()]
        want = STANDIN if name in t.secret_headers else value
        if got != [want]:
            problems.append(f"header {name}: {got} != {[want]}")
    for name in t.secret_headers:
        got = [v for k, v in r.headers if k.lower() == name.lower()]
        if got != [STANDIN]:
            problems.append(f"secret header {name}: {got}")
    for name, value in t.cookies:
        got = [v for k, v in r.cookies if k == name]
        want = STANDIN if name in t.secret_cookies else value
        if got != [want]:
            problems.append(f"cookie {name}: {got} != {[want]}")
    if t.body is None and r.body is not None:
        problems.append("a body where there was none")
    if t.body is not None:
        if r.body is None:
            problems.append("body lost")
        elif t.ctype == "application/json":
            sent, got_body = json.loads(t.body), json.loads(r.body)
            if (
                {k: v for k, v in sent.items() if k not in ("note", "password")}
                != {k: v for k, v in got_body.items() if k not in ("note", "password")}
                or got_body.get("note") != STANDIN
                or got_body.get("password") != STANDIN
            ):
                problems.append("json body differs")
        elif "authLoginDomain=local" not in r.body or "sku=MUG-001" not in r.body:
            problems.append("form body differs")
    if incident.signature.status != t.status:
        problems.append(f"status {incident.signature.status} != {t.status}")
    if t.exception is not None:
        main = incident.signature.main_exception
        if main is None or main.type != t.exception or not main.frames:
            problems.append(f"exception {main.type if main else None} != {t.exception}")
    return problems


def measure(all_cases: list[Case]) -> dict[str, Any]:
    results: dict[str, list[tuple[str, str]]] = {}
    for case in all_cases:
        results.setdefault(case.label, []).append(judge(case))
    total = sum(len(v) for v in results.values())
    right = sum(1 for v in results.values() for verdict, _ in v if verdict == "right")
    refused = [d for v in results.values() for verdict, d in v if verdict == "refused"]
    wrong = [(label, d) for label, v in results.items() for verdict, d in v if verdict == "wrong"]
    return {
        "total": total,
        "right": right,
        "refused": refused,
        "wrong": wrong,
        "by_shape": {
            k: sum(1 for verdict, _ in v if verdict == "right") for k, v in results.items()
        },
    }


if __name__ == "__main__":
    numbers = measure(cases())
    print(
        f"{numbers['right']}/{numbers['total']} imported right "
        f"({100 * numbers['right'] / numbers['total']:.1f}%), "
        f"{len(numbers['refused'])} refused with a reason, {len(numbers['wrong'])} wrong"
    )
    for label, n in sorted(numbers["by_shape"].items()):
        print(f"  {label}: {n}")
    for line in numbers["refused"][:20]:
        print(f"  refused: {line}")
    for label, detail in numbers["wrong"][:40]:
        print(f"  WRONG {label}: {detail}")
