"""Credentials never reach an incident file in clear.

Every named part of a request (header, cookie, query parameter, form/JSON/multipart field, the
URL's user info) is judged by the one secret detector (:mod:`repro.detector`, through the
:class:`~repro.redaction.Redactor`): by its name (``Authorization``, ``sessionid``,
``api_key``), by its value's shape (JWTs, cloud keys, URL passwords, high-entropy tokens) and,
in a second pass, by value: a value judged secret in one place is a credential wherever else it
appears (a session cookie copied into a custom header, an ``access_token`` repeated in the
``Referer``, a password also in the body). Each becomes ``<stand-in needed>`` in the request and
is listed in ``lost`` with a keyed fingerprint, so replay asks for an explicit stand-in (and two
incidents can still say "same credential") without anyone seeing the value. Harmless parts
(``otherCookie=2``, ``authLoginDomain: local``) stay as they are.

Values an exporter already hid (Sentry's ``[Filtered]``, ``[REDACTED]`` from HAR sanitizers) are
never replayed either: they become stand-ins too, listed as filtered, without a fingerprint.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from repro.detector import NameVerdict, secret_spans, url_password, value_looks_secret
from repro.redaction import Redactor
from repro.replay import formbody
from repro.replay.incident import STANDIN, Lost, Request, encode_query, parse_query


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


CREDENTIAL = "credential: fingerprinted, needs a stand-in"
SEEN_ELSEWHERE = "credential: a value judged secret elsewhere in the request, needs a stand-in"
FILTER_MARKERS = frozenset({"[Filtered]", "[filtered]", "[REDACTED]", "[redacted]", "[Redacted]"})

# Always credentials, whatever their value looks like.
_SECRET_HEADERS = _names(
    "authorization proxy-authorization x-api-key api-key apikey x-apikey x-auth-token "
    "x-access-token x-refresh-token x-session-token x-session-id x-csrf-token x-csrftoken "
    "x-xsrf-token x-amz-security-token x-goog-api-key x-shopify-access-token "
    "x-hub-signature x-hub-signature-256 x-auth x-token"
)
# Never credentials by shape alone: ids, hashes and browser or tracing state that are long and
# random by design (a JWT or a cloud key in them still is one).
_ID_HEADERS = _names(
    "x-client-data if-none-match if-match etag sentry-trace traceparent tracestate baggage "
    "x-request-id x-correlation-id x-amzn-trace-id x-b3-traceid x-b3-spanid "
    "x-b3-parentspanid x-datadog-trace-id x-datadog-parent-id x-cloud-trace-context "
    "content-md5 digest user-agent accept accept-language accept-encoding content-type host "
    "origin x-forwarded-for x-real-ip sec-ch-ua sec-ch-ua-platform sec-ch-ua-mobile "
    "sec-fetch-site sec-fetch-mode sec-fetch-dest sec-fetch-user x-newrelic-id newrelic"
)
# Headers whose value is a URL: its user info and secret query parameters are judged.
_URL_HEADERS = frozenset({"referer", "origin", "location", "content-location"})
_MULTIPART_FIELD = re.compile(
    r'Content-Disposition:[^\r\n]*?\bname="(?P<name>[^"]*)"(?P<rest>[^\r\n]*)\r?\n'
    r"(?:[^\r\n]+\r?\n)*\r?\n(?P<value>.*?)(?=\r?\n--)",
    re.IGNORECASE | re.DOTALL,
)


class Protector:
    """Replaces credentials and filtered values in one request, collecting ``lost`` entries."""

    def __init__(self, redactor: Redactor, filtered_why: str) -> None:
        self.redactor = redactor
        self.filtered_why = filtered_why
        self.lost: list[Lost] = []

    def credential(self, where: str, value: str, why: str = CREDENTIAL) -> str:
        self.redactor.remember(value)
        self.lost.append(Lost(where, why, self.redactor.fingerprint(value)))
        return STANDIN

    def filtered(self, where: str) -> str:
        self.lost.append(Lost(where, self.filtered_why))
        return STANDIN

    def judge(self, where: str, name: str, value: str) -> str:
        """One named value: the value itself, or the stand-in marker (listed in lost)."""
        if value == STANDIN or not value:
            return value
        if value in FILTER_MARKERS:
            return self.filtered(where)
        if self.redactor.is_secret(name, value):
            return self.credential(where, value)
        return value

    def protect(self, request: Request) -> list[Lost]:
        # Pass 1: each part by its name and shape (which also remembers the secret values).
        request.headers = [(k, self._header(k, v)) for k, v in request.headers]
        request.cookies = [(k, self.judge(f"cookie:{k}", k, v)) for k, v in request.cookies]
        request.query = [
            (k, v if v is None else self.judge(f"query:{k}", k, v)) for k, v in request.query
        ]
        if request.url:
            self._userinfo(request.url)
        if request.body is not None:
            request.body = self.body(request.body, content_type(request.headers))
        # Pass 2: a value judged secret anywhere is a credential everywhere else.
        request.headers = [(k, self._seen(f"header:{k}", v)) for k, v in request.headers]
        request.cookies = [(k, self._seen(f"cookie:{k}", v)) for k, v in request.cookies]
        request.query = [
            (k, v if v is None else self._seen(f"query:{k}", v)) for k, v in request.query
        ]
        if request.body is not None:
            request.body = self._body_seen(request.body, content_type(request.headers))
        request.path = self._path(request.path)
        return self.lost

    # -- pass 1 ----------------------------------------------------------------------------

    def _header(self, name: str, value: str) -> str:
        lowered = name.lower()
        where = f"header:{name}"
        if value == STANDIN or not value:
            return value
        if value in FILTER_MARKERS:
            return self.filtered(where)
        if lowered in _SECRET_HEADERS or self.redactor.name_is_secret(name):
            return self.credential(where, value)
        if lowered in _URL_HEADERS:
            return self._url_header(where, value)
        if lowered in _ID_HEADERS:
            return self.judge(where, "", value) if _has_exact_shape(value) else value
        return self.judge(where, name, value)

    def _url_header(self, where: str, value: str) -> str:
        """``Referer: https://shop/x?access_token=T&page=2``: T is a credential."""
        try:
            parts = urlsplit(value)
        except ValueError:
            return self.judge(where, "", value)
        secrets: list[str] = []
        if url_password(value) is not None and parts.password:
            secrets.append(parts.password)
        pairs = parse_query(parts.query)
        for name, item in pairs:
            if item and item not in FILTER_MARKERS and self.redactor.is_secret(name, item):
                secrets.append(item)
        if not secrets:
            return value
        for secret in secrets:
            self.redactor.remember(secret)
        self.lost.append(Lost(where, CREDENTIAL, self.redactor.fingerprint(value)))
        return self.redactor.replace_known(value, STANDIN) if value not in secrets else STANDIN

    def _userinfo(self, url: str) -> None:
        """``https://user:pass@host/`` in the captured URL: the password is a credential."""
        span = url_password(url)
        if span is None:
            return
        password = url[span[0] : span[1]]
        user = url[: span[0]].rsplit("/", 1)[-1].rstrip(":")
        self.credential("url:userinfo", f"{user}:{password}")
        self.redactor.remember(password)

    def body(self, body: str, ctype: str) -> str | None:
        if body in FILTER_MARKERS:
            self.filtered("body")
            return None
        # Sniff rather than trust Content-Type: curl labels a JSON --data-raw as a form.
        if len(body) > _LARGE and body.lstrip()[:1] in ("{", "["):
            verdict = self._json_may_hold_secrets(body)
            if verdict is False:
                return body  # valid JSON, nothing in it to hide: no walk, no copy
        tree = _json_or_none(body)
        if tree is not _NOT_JSON:
            before = len(self.lost)
            new = self._json(tree, "", "")
            if len(self.lost) == before:
                return body  # untouched: keep the exact text production received
            return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
        if "x-www-form-urlencoded" in ctype or formbody.FORM_SHAPE.fullmatch(body):
            return formbody.edit(body, self._form_field)
        if "multipart/" in ctype:
            return self._multipart(body)
        return self._text(body)

    def _json_may_hold_secrets(self, body: str) -> bool | None:
        """A cheap first look at a large JSON body (tens of MB): does any key name a secret, or
        any string value look like one? Walking it value by value costs seconds."""
        redactor = self.redactor
        found = False
        plain: set[str] = set()

        def suspicious(value: str) -> bool:
            return (len(value) >= 20 or " " in value[:16]) and (
                value_looks_secret(value) or redactor.knows(value)
            )

        def hook(pairs: list[tuple[str, Any]]) -> None:
            # returns None: the tree itself is not needed, only the look at each pair
            nonlocal found
            if found:
                return
            for key, value in pairs:
                if key not in plain:
                    if redactor.verdict(key) is not NameVerdict.PLAIN:
                        found = True
                        return
                    plain.add(key)
                kind = type(value)
                if (kind is str and suspicious(value)) or (
                    kind is list and any(type(v) is str and suspicious(v) for v in value)
                ):
                    found = True
                    return

        try:
            json.loads(body, object_pairs_hook=hook)
        except (ValueError, RecursionError):
            return None  # not JSON after all
        return found

    def _form_field(self, field: formbody.Field) -> str | bool:
        if field.value is None:
            return True
        new = self.judge(f"body:{field.name}", field.name, field.value)
        return True if new == field.value else new

    def _multipart(self, body: str) -> str:
        """Text fields of a multipart body judged by their names; file parts by shape."""
        out: list[str] = []
        last = 0
        for match in _MULTIPART_FIELD.finditer(body):
            name, value = match.group("name"), match.group("value")
            where = f"body:{name}"
            if "filename=" in match.group("rest"):
                new = self._text(value, where)
            else:
                new = self.judge(where, name, value)
            out.append(body[last : match.start("value")])
            out.append(new)
            last = match.end("value")
        out.append(body[last:])
        return "".join(out)

    def _text(self, body: str, where: str = "body") -> str:
        spans = secret_spans(body)
        if not spans:
            return body
        pieces: list[str] = []
        last = 0
        for start, end in spans:
            self.credential(where, body[start:end])
            pieces += [body[last:start], STANDIN]
            last = end
        pieces.append(body[last:])
        return "".join(pieces)

    def _json(self, node: Any, path: str, name: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                sub = f"{path}.{key}" if path else str(key)
                out[key] = self._json(value, sub, str(key))
            return out
        if isinstance(node, list):
            return [self._json(item, f"{path}[{i}]", name) for i, item in enumerate(node)]
        if isinstance(node, str | int | float) and not isinstance(node, bool):
            text = str(node)
            new = self.judge(f"body:{path or '$'}", name, text)
            return node if new == text else new
        return node

    # -- pass 2 ----------------------------------------------------------------------------

    def _seen(self, where: str, value: str) -> str:
        if value == STANDIN or not value or not self.redactor.contains_known(value):
            return value
        self.lost.append(Lost(where, SEEN_ELSEWHERE, self.redactor.fingerprint(value)))
        if self.redactor.knows(value):
            return STANDIN
        return self.redactor.replace_known(value, STANDIN)

    def _body_seen(self, body: str, ctype: str) -> str:
        if not self.redactor.contains_known(body):
            return body
        tree = _json_or_none(body)
        if tree is not _NOT_JSON:
            new = self._json_seen(tree, "")
            return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
        if "x-www-form-urlencoded" in ctype or formbody.FORM_SHAPE.fullmatch(body):

            def decide(field: formbody.Field) -> str | bool:
                if field.value is None or field.value == STANDIN:
                    return True
                new = self._seen(f"body:{field.name}", field.value)
                return True if new == field.value else new

            return formbody.edit(body, decide)
        self.lost.append(Lost("body", SEEN_ELSEWHERE, self.redactor.fingerprint(body)))
        return self.redactor.replace_known(body, STANDIN)

    def _json_seen(self, node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {
                k: self._json_seen(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()
            }
        if isinstance(node, list):
            return [self._json_seen(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str):
            return self._seen(f"body:{path or '$'}", node)
        return node

    def _path(self, path: str) -> str:
        """A credential in the path (``/reset/<jwt>``, a token seen elsewhere): the segment
        becomes the marker and ``path`` is listed; replay then needs ``--stand-in path=...``."""
        segments = path.split("/")
        changed = False
        for i, segment in enumerate(segments):
            if not segment or segment == STANDIN:
                continue
            if self.redactor.contains_known(segment) or _has_exact_shape(segment):
                self.redactor.remember(segment)
                segments[i] = STANDIN
                changed = True
        if not changed:
            return path
        self.lost.append(Lost("path", CREDENTIAL, self.redactor.fingerprint(path)))
        return "/".join(segments)


_NOT_JSON = object()
_LARGE = 256 * 1024


def _json_or_none(body: str) -> Any:
    if body.lstrip()[:1] not in ("{", "["):
        return _NOT_JSON
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _has_exact_shape(value: str) -> bool:
    """A named secret shape (JWT, cloud key, URL password...), not mere entropy."""
    return bool(secret_spans(value, entropy=False))


def content_type(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.lower()
    return ""


def clean_url(request: Request) -> str | None:
    """The informational URL, rebuilt from the protected parts: no userinfo, no secrets."""
    if not request.url:
        return None
    try:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if port:
        host = f"{host}:{port}"
    if not parts.scheme or not host:
        return None
    return urlunsplit((parts.scheme, host, request.path, encode_query(request.query), ""))
