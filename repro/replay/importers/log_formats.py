"""One log line -> one :class:`LogRecord`, in every shape load balancers and servers write.

* nginx/Apache ``combined`` and ``common`` (and their extensions with more fields after them):
  ``1.2.3.4 - user [10/Oct/2026:13:55:36 +0000] "GET /p?q=1 HTTP/1.1" 500 2326 "ref" "agent"``
* AWS Application Load Balancer (and the classic ELB's, which has no leading type):
  ``https 2026-10-10T13:55:36.123456Z app/shop/50dc6c 1.2.3.4:51234 10.0.1.7:8080 0.001 30.0 -1
  502 - 734 293 "POST https://shop.example.com:443/api/checkout HTTP/1.1" "agent" ...``
* Heroku's router: ``2026-10-10T13:55:36+00:00 heroku[router]: at=error code=H12 desc="Request
  timeout" method=POST path="/checkout" host=shop.herokuapp.com ... status=503 ...``
* JSON lines with the usual field names (nginx ``escape=json`` formats, pino/bunyan ``req``/
  ``res``, Elastic Common Schema, Google Cloud ``httpRequest``, Docker's ``{"log": ...}``).

Prefixes that tools put before a line are removed first: ``docker compose logs`` (``web-1  | ``),
``kubectl logs --prefix`` (``[pod/web-7d9f/nginx] ``) and ``--timestamps``/``docker logs -t``.
A line that is none of these raises :class:`Unreadable` with the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class Unreadable(Exception):
    """This line is no log line of a known format (the message says why)."""


@dataclass
class LogRecord:
    format: str
    method: str
    target: str  # "/path?query" or an absolute URL
    status: int | None
    time: str | None  # ISO 8601
    headers: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None  # an authenticated user the log names
    host: str | None = None
    note: str | None = None  # e.g. the Heroku router's error code


_PREFIXES = (
    re.compile(r"^\[pod/[^\]\s]+\]\s"),  # kubectl logs --prefix
    re.compile(r"^[A-Za-z0-9][\w.-]*\s+\|\s?"),  # docker compose logs
)
_TIMESTAMP_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)\s")
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_COMBINED = re.compile(
    r"^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+|\"[^\"]*\") \[(?P<time>[^\]]+)\] "
    + _QUOTED.replace("(", "(?P<request>", 1)
    + r" (?P<status>\d+|-) (?P<size>\d+|-)"
    + r"(?: "
    + _QUOTED.replace("(", "(?P<referer>", 1)
    + " "
    + _QUOTED.replace("(", "(?P<agent>", 1)
    + r")?(?:\s.*)?$"
)
_ALB = re.compile(
    r"^(?:(?P<type>https?|h2|grpcs|wss?) )?(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<elb>\S+) "
    r"(?P<client>\S+) (?P<target>\S+) (?P<t1>-?[\d.]+) (?P<t2>-?[\d.]+) (?P<t3>-?[\d.]+) "
    r"(?P<elb_status>\d+|-) (?P<target_status>\d+|-) (?P<received>\d+|-) (?P<sent>\d+|-) "
    + _QUOTED.replace("(", "(?P<request>", 1)
    + r"(?: "
    + _QUOTED.replace("(", "(?P<agent>", 1)
    + r")?(?:\s.*)?$"
)
_REQUEST = re.compile(r"^(?P<method>\S+) (?P<target>\S+)(?: HTTP/[0-9.]+)?$")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_KV = re.compile(r'(?P<key>[\w.-]+)=(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>\S*))')


def parse_line(line: str) -> LogRecord:
    text = _strip_prefixes(line.strip())
    for parser in (_json_line, _combined, _alb, _heroku):
        record = parser(text)
        if record is not None:
            return record
    # a timestamp put before the line by the tool, not by the server
    bare = _TIMESTAMP_PREFIX.sub("", text, count=1)
    if bare != text:
        for parser in (_json_line, _combined, _heroku):
            record = parser(bare)
            if record is not None:
                return record
    raise Unreadable(
        "not an access-log line (nginx/Apache combined or common, AWS ALB, Heroku router or a "
        "JSON log line)"
    )


def _strip_prefixes(text: str) -> str:
    for pattern in _PREFIXES:
        match = pattern.match(text)
        if match:
            rest = text[match.end() :]
            if pattern is _PREFIXES[1] and _looks_like_combined_host(text):
                continue  # "10.0.0.1 - - [..." is a log line, not a compose prefix
            return rest
    return text


def _looks_like_combined_host(text: str) -> bool:
    return bool(re.match(r"^\S+ \S+ \S+ \[", text))


def status_of(text: str | int | None) -> int | None:
    """An HTTP status, None when the log has none (``-``); Unreadable for 999 and friends."""
    if text is None or text in ("-", ""):
        return None
    try:
        code = int(text)
    except ValueError:
        raise Unreadable(f"status {str(text)[:10]!r} is not a number") from None
    if code == 0:
        return None  # nginx 499-like "no response was sent" written as 0 by some balancers
    if not 100 <= code <= 599:
        raise Unreadable(f"status {code} is not an HTTP status (100-599)")
    return code


def _unescape(text: str) -> str:
    # nginx writes \xHH for quotes and control bytes; Apache writes \" and \\.
    text = re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"\\(.)", r"\1", text)


def _request_line(text: str) -> tuple[str, str]:
    match = _REQUEST.match(_unescape(text))
    if match is None or not _TOKEN.match(match.group("method")):
        raise Unreadable(
            f"request {text[:60]!r} is not 'METHOD /target HTTP/x' (a malformed or non-HTTP "
            "request)"
        )
    return match.group("method"), match.group("target")


def _combined(text: str) -> LogRecord | None:
    m = _COMBINED.match(text)
    if m is None:
        return None
    method, target = _request_line(m.group("request"))
    try:
        when = datetime.strptime(m.group("time"), "%d/%b/%Y:%H:%M:%S %z").isoformat()
    except ValueError:
        raise Unreadable(
            f"time [{m.group('time')[:40]}] is not dd/Mon/yyyy:HH:MM:SS +zzzz"
        ) from None
    headers = []
    for name, group in (("Referer", "referer"), ("User-Agent", "agent")):
        value = m.group(group)
        if value is not None and value not in ("", "-"):
            headers.append((name, _unescape(value)))
    user = m.group("user").strip('"')
    fmt = "combined" if m.group("agent") is not None else "common"
    return LogRecord(
        fmt,
        method,
        target,
        status_of(m.group("status")),
        when,
        headers,
        None if user == "-" else user,
    )


def _alb(text: str) -> LogRecord | None:
    m = _ALB.match(text)
    if m is None:
        return None
    method, target = _request_line(m.group("request"))
    status = status_of(m.group("elb_status"))
    if status is None:
        status = status_of(m.group("target_status"))
    headers = []
    agent = m.group("agent")
    if agent and agent != "-":
        headers.append(("User-Agent", _unescape(agent)))
    target = re.sub(r"^(https?://[^/:]+):(?:443|80)(?=/|$)", r"\1", target)
    fmt = "aws alb" if m.group("type") else "aws elb"
    return LogRecord(fmt, method, target, status, _iso(m.group("time")), headers)


def _heroku(text: str) -> LogRecord | None:
    if "heroku[router]" not in text and not re.search(r"\bheroku router\b", text):
        return None
    fields = {m.group("key"): _field(m) for m in _KV.finditer(text)}
    if "method" not in fields or "path" not in fields:
        raise Unreadable("a Heroku router line without method= and path=")
    method, path = fields["method"], fields["path"]
    if not _TOKEN.match(method):
        raise Unreadable(f"method {method[:20]!r} is not an HTTP method")
    stamp = re.match(r"^(?:<\d+>\d+ )?(\d{4}-\d\d-\d\dT\S+)", text)
    note = None
    if fields.get("code"):
        desc = fields.get("desc", "")
        note = f"Heroku router error {fields['code']}" + (f" ({desc})" if desc else "")
    headers = [("Host", fields["host"])] if fields.get("host") else []
    return LogRecord(
        "heroku router",
        method,
        path,
        status_of(fields.get("status")),
        _iso(stamp.group(1)) if stamp else None,
        headers,
        host=fields.get("host"),
        note=note,
    )


def _field(m: re.Match[str]) -> str:
    quoted = m.group("quoted")
    return _unescape(quoted) if quoted is not None else m.group("bare")


# -- JSON lines -----------------------------------------------------------------------------


def _keys(text: str) -> list[str]:
    return text.split()


_METHOD_KEYS = [
    "method",
    "request_method",
    "http_method",
    "httpMethod",
    "verb",
    "http.method",
    "http.request.method",
    "req.method",
    "request.method",
    "httpRequest.requestMethod",
]
_URL_KEYS = [
    "httpRequest.requestUrl",
    "url.full",
    "url.original",
    "url.path",
    "request_uri",
    "requestUri",
    "uri",
    "url",
    "path",
    "request_path",
    "http.url",
    "http.target",
    "req.url",
    "req.originalUrl",
    "request.url",
    "request.uri",
    "http.request.url",
    "target",
]
_STATUS_KEYS = [
    "status",
    "status_code",
    "statusCode",
    "http_status",
    "response_status",
    "response_code",
    "http.status_code",
    "http.response.status_code",
    "res.statusCode",
    "response.status",
    "response.status_code",
    "httpRequest.status",
]
_TIME_KEYS = [
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "datetime",
    "date",
    "time_iso8601",
    "time_local",
]
_AGENT_KEYS = [
    "http_user_agent",
    "user_agent",
    "userAgent",
    "user_agent.original",
    "http.user_agent",
    "httpRequest.userAgent",
    "agent",
]
_REFERER_KEYS = _keys("http_referer referer referrer http.referer httpRequest.referer")
_HOST_KEYS = _keys("http_host host url.domain server_name")
_HEADER_KEYS = _keys("req.headers request.headers headers http.request.headers")


def _json_line(text: str) -> LogRecord | None:
    if not text.startswith("{"):
        return None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise Unreadable("a JSON log line that is not valid JSON") from None
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("log"), str) and "method" not in raw:  # Docker's json-file driver
        return parse_line(raw["log"])
    flat = _flatten(raw)
    method = _first(flat, _METHOD_KEYS)
    target = _first(flat, _URL_KEYS)
    request = flat.get("request")
    if (method is None or target is None) and isinstance(request, str):
        method, target = _request_line(request)
    if method is None or target is None:
        raise Unreadable("a JSON log line without a request method and URL")
    if not _TOKEN.match(str(method)):
        raise Unreadable(f"method {str(method)[:20]!r} is not an HTTP method")
    query = flat.get("url.query") or flat.get("query_string") or flat.get("args")
    if isinstance(query, str) and query and "?" not in str(target):
        target = f"{target}?{query.lstrip('?')}"
    status_value = _first(flat, _STATUS_KEYS)
    headers = _json_headers(raw)
    names = {name.lower() for name, _ in headers}
    for name, keys in (("Referer", _REFERER_KEYS), ("User-Agent", _AGENT_KEYS)):
        value = _first(flat, keys)
        if value not in (None, "", "-") and name.lower() not in names:
            headers.append((name, str(value)))
    host = _first(flat, _HOST_KEYS) or next(
        (value for name, value in headers if name.lower() == "host"), None
    )
    return LogRecord(
        "json",
        str(method),
        str(target),
        status_of(status_value if isinstance(status_value, int | str) else None),
        _json_time(_first(flat, _TIME_KEYS)),
        headers,
        host=str(host) if host not in (None, "", "-") else None,
    )


def _flatten(node: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out[name] = value
            _flatten(value, name, out)
    return out


def _first(flat: dict[str, Any], keys: list[str]) -> Any:
    for key in keys:
        value = flat.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return value
    return None


def _json_headers(raw: dict[str, Any]) -> list[tuple[str, str]]:
    flat = _flatten(raw)
    for key in _HEADER_KEYS:
        headers = flat.get(key)
        if isinstance(headers, dict):
            return [
                (str(name), str(value))
                for name, value in headers.items()
                if isinstance(value, str | int) and not isinstance(value, bool)
            ]
    return []


def _json_time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        if number > 1e11:  # milliseconds (pino, bunyan)
            number /= 1000
        try:
            return datetime.fromtimestamp(number, UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            raise Unreadable(f"time {value!r} is not a time") from None
    text = str(value)
    try:
        return datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").isoformat()
    except ValueError:
        return _iso(text)


def _iso(text: str) -> str:
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise Unreadable(f"time {text[:40]!r} is not an ISO 8601 time") from None
