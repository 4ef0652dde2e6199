"""``--stub NAME=FILE``: a third party's answers recorded in a HAR file (the browser's or a
proxy's export of production's calls to it), served by the service's stub.

A HAR file is a file from another machine: read bounded (:mod:`repro.inputfile`,
:mod:`repro.limits`), every header checked before it is sent on (a name that is not an HTTP
token, a value with a line break: dropped), bodies at most :data:`MAX_BODY_BYTES` each.
Answers are matched to calls by method and path; several for one call are served in order,
the last one repeated.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from repro.errors import UsageError
from repro.inputfile import read_bytes
from repro.limits import load_json

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ANSWERS = 10_000
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Recomputed by the stub, about the recording's connection, or undone by the HAR (bodies are
# stored decoded): never copied from the recording.
_NOT_COPIED = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "content-encoding",
        "upgrade",
        "trailer",
        "te",
        "proxy-connection",
        "date",
        "server",
    }
)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class RecordedAnswers:
    """A service's recorded answers by (METHOD, path)."""

    source: str  # the file's name, for the report
    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    served: dict[tuple[str, str], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(found) for found in self.answers.values())

    def next_for(self, method: str, path: str) -> Answer | None:
        """The next recorded answer to ``method path`` (the query ignored when no recording
        has it), or None."""
        for key in ((method.upper(), path), (method.upper(), path.split("?", 1)[0])):
            found = self.answers.get(key)
            if found:
                n = self.served.get(key, 0)
                self.served[key] = n + 1
                return found[min(n, len(found) - 1)]
        return None

    def restart(self) -> None:
        """Serve from the first answer again (a new run in the same sandbox)."""
        self.served.clear()


def read_recorded(path: str, service: str) -> RecordedAnswers:
    data = read_bytes(Path(path).expanduser(), UsageError, label=f"--stub {service} file {path}")
    tree = load_json(data, f"--stub {service} file {path}", UsageError)
    return recorded_from_har(tree, Path(path).name, service)


def recorded_from_har(tree: Any, source: str, service: str) -> RecordedAnswers:
    entries = (tree.get("log") or {}).get("entries") if isinstance(tree, Mapping) else None
    if not isinstance(entries, list):
        raise UsageError(f"--stub {service}: {source} is not a HAR file (no log.entries)")
    recorded = RecordedAnswers(source)
    for n, entry in enumerate(entries[:MAX_ANSWERS]):
        answer_key = _entry(entry, n, service, source)
        if answer_key is not None:
            key, answer = answer_key
            recorded.answers.setdefault(key, []).append(answer)
    if not recorded.answers:
        raise UsageError(f"--stub {service}: {source} holds no entry with a response")
    return recorded


def _entry(entry: Any, n: int, service: str, source: str) -> tuple[tuple[str, str], Answer] | None:
    if not isinstance(entry, Mapping):
        return None
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        return None
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not _TOKEN.match(method) or not isinstance(url, str):
        return None
    if type(status) is not int or not 100 <= status <= 599:
        return None  # 0: the browser's aborted requests
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = tuple(
        (str(h["name"]), str(h["value"]))
        for h in response.get("headers") or []
        if isinstance(h, Mapping)
        and isinstance(h.get("name"), str)
        and isinstance(h.get("value"), str)
        and _TOKEN.match(h["name"])
        and h["name"].lower() not in _NOT_COPIED
        and not re.search(r"[\r\n\x00]", h["value"])
    )
    body = _body(response.get("content"), n, service, source)
    return (method.upper(), path), Answer(status, headers, body)


def _body(content: Any, n: int, service: str, source: str) -> bytes:
    if not isinstance(content, Mapping) or not isinstance(content.get("text"), str):
        return b""
    text = content["text"]
    if content.get("encoding") == "base64":
        try:
            body = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(
                f"--stub {service}: {source} entry {n}: the body is not valid base64"
            ) from None
    else:
        body = text.encode("utf-8", "surrogatepass")
    if len(body) > MAX_BODY_BYTES:
        raise UsageError(
            f"--stub {service}: {source} entry {n}: a body over {MAX_BODY_BYTES // 2**20} MiB"
        )
    return body
