"""Credentials never reach an incident file in clear.

An ``Authorization`` header, a session-like cookie, an API-key header or query parameter, a
password field in a JSON or form body: each is replaced by ``<stand-in needed>`` in the request
and listed in ``lost`` with a keyed fingerprint, so replay asks for an explicit stand-in (and two
incidents can still say "same credential") without anyone seeing the value.

Values an exporter already hid (Sentry's ``[Filtered]``, ``[REDACTED]`` from HAR sanitizers) are
never replayed either: they become stand-ins too, listed as filtered, without a fingerprint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from repro.redaction import Redactor, value_looks_secret
from repro.replay.incident import STANDIN, Lost, Request

CREDENTIAL = "credential: fingerprinted, needs a stand-in"
FILTER_MARKERS = frozenset({"[Filtered]", "[filtered]", "[REDACTED]", "[redacted]", "[Redacted]"})

_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "apikey",
        "x-apikey",
        "x-auth-token",
        "x-access-token",
        "x-refresh-token",
        "x-session-token",
        "x-session-id",
        "x-csrf-token",
        "x-csrftoken",
        "x-xsrf-token",
        "x-amz-security-token",
        "x-goog-api-key",
        "x-shopify-access-token",
        "x-hub-signature",
        "x-hub-signature-256",
    }
)
# Cookies that hold a session or an anti-forgery token, by name.
_SECRET_COOKIE = re.compile(
    r"(sess|sid$|^sid|token|auth|jwt|csrf|xsrf|remember|login|secret|bearer|credential|saml|"
    r"oauth|sso|identity|pass|(^|[_.-])key$)",
    re.IGNORECASE,
)
# Query parameters and body fields that carry a credential, by name.
_SECRET_PARAM = re.compile(
    r"^(api[_-]?key|apikey|key|token|access[_-]?token|refresh[_-]?token|id[_-]?token|auth|"
    r"sig|signature|password|passwd|pwd|pass|secret|client[_-]?secret|session(id)?|sid|jwt|"
    r"x-amz-signature|x-amz-security-token|x-amz-credential|csrfmiddlewaretoken)$",
    re.IGNORECASE,
)
# Contain a secret-looking word but hold no credential.
_NOT_SECRET = re.compile(r"^(author|authors|authority|authored|author_id|passenger\w*)$", re.I)
_SHAPES = re.compile(
    r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}|\b(AKIA|ASIA)[0-9A-Z]{16}\b|"
    r"\b(sk_live_|sk_test_|rk_live_|ghp_|gho_|ghs_|github_pat_|xox[baprs]-|glpat-|AIza)"
    r"[A-Za-z0-9_\-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|^(Bearer|Basic|Token|Digest) \S+"
)


def is_secret_header(name: str, redactor: Redactor) -> bool:
    lowered = name.lower()
    if lowered in _SECRET_HEADERS:
        return True
    return not _NOT_SECRET.match(lowered) and redactor.name_is_secret(lowered)


def is_secret_cookie(name: str, value: str, redactor: Redactor) -> bool:
    if _NOT_SECRET.match(name):
        return False
    return bool(
        _SECRET_COOKIE.search(name)
        or redactor.name_is_secret(name)
        or value_looks_secret(value)
        or _SHAPES.search(value)
    )


def is_secret_param(name: str, value: str, redactor: Redactor) -> bool:
    if _NOT_SECRET.match(name):
        return False
    return bool(_SECRET_PARAM.match(name) or redactor.name_is_secret(name) or _SHAPES.search(value))


class Protector:
    """Replaces credentials and filtered values in one request, collecting ``lost`` entries."""

    def __init__(self, redactor: Redactor, filtered_why: str) -> None:
        self.redactor = redactor
        self.filtered_why = filtered_why
        self.lost: list[Lost] = []

    def credential(self, where: str, value: str) -> str:
        self.redactor.remember(value)
        for part in value.split():  # "Bearer TOKEN": the token alone is a secret too
            self.redactor.remember(part)
        self.lost.append(Lost(where, CREDENTIAL, self.redactor.fingerprint(value)))
        return STANDIN

    def filtered(self, where: str) -> str:
        self.lost.append(Lost(where, self.filtered_why))
        return STANDIN

    def value(self, where: str, name: str, value: str, judge: Callable[[str, str], bool]) -> str:
        if value == STANDIN:
            return value
        if value in FILTER_MARKERS:
            return self.filtered(where)
        if value and judge(name, value):
            return self.credential(where, value)
        return value

    def protect(self, request: Request) -> list[Lost]:
        r = self.redactor
        request.headers = [
            (
                k,
                self.value(
                    f"header:{k}",
                    k,
                    v,
                    lambda n, v: is_secret_header(n, r) or bool(_SHAPES.search(v)),
                ),
            )
            for k, v in request.headers
        ]
        request.cookies = [
            (k, self.value(f"cookie:{k}", k, v, lambda n, v: is_secret_cookie(n, v, r)))
            for k, v in request.cookies
        ]
        request.query = [(k, self.value(f"query:{k}", k, v, self._param)) for k, v in request.query]
        if request.body is not None:
            request.body = self.body(request.body, content_type(request.headers))
        return self.lost

    def body(self, body: str, ctype: str) -> str | None:
        if body in FILTER_MARKERS:
            self.filtered("body")
            return None
        # Sniff rather than trust Content-Type: curl labels a JSON --data-raw as a form.
        if body.lstrip()[:1] in ("{", "["):
            try:
                tree = json.loads(body)
            except (ValueError, RecursionError):
                tree = _NOT_JSON
            if tree is not _NOT_JSON:
                before = len(self.lost)
                new = self._json(tree, "")
                if len(self.lost) == before:
                    return body  # untouched: keep the exact text production received
                return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
        if "x-www-form-urlencoded" in ctype or _FORM.fullmatch(body):
            before = len(self.lost)
            pairs = [
                (k, self.value(f"body:{k}", k, v, self._param))
                for k, v in parse_qsl(body, keep_blank_values=True)
            ]
            return body if len(self.lost) == before else urlencode(pairs)
        return self._shapes_in_text(body)

    def _param(self, name: str, value: str) -> bool:
        return is_secret_param(name, value, self.redactor)

    def _json(self, node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                sub = f"{path}.{key}" if path else str(key)
                if isinstance(value, str | int | float) and not isinstance(value, bool):
                    text = str(value)
                    new = self.value(f"body:{sub}", str(key), text, self._param)
                    out[key] = value if new == text else new
                else:
                    out[key] = self._json(value, sub)
            return out
        if isinstance(node, list):
            return [self._json(item, f"{path}[{i}]") for i, item in enumerate(node)]
        if isinstance(node, str):
            return self.value(f"body:{path or '$'}", "", node, lambda n, v: bool(_SHAPES.search(v)))
        return node

    def _shapes_in_text(self, body: str) -> str:
        def sub(match: re.Match[str]) -> str:
            return self.credential("body", match.group(0))

        return _SHAPES.sub(sub, body)


_NOT_JSON = object()
_FORM = re.compile(r"[\w.\-~%+\[\]]+=[^&\s]*(&[\w.\-~%+\[\]]+=[^&\s]*)*")


def content_type(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.lower()
    return ""
