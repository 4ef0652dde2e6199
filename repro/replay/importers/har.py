"""HAR 1.2 (browser devtools "Save all as HAR", proxies): one entry of ``log.entries``.

Which entry: ``--entry N`` (0-based), else ``--match REGEX`` on the URL (the first matching entry
that failed with 5xx, else the first matching one), else the first entry with a 5xx status.
HTTP/2 pseudo-headers (``:method``...) and tool fields (``_initiator``, ``_priority``...) are
dropped. A HAR has no exception, so the signature is the status alone.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlencode

from repro.errors import IncidentError
from repro.replay.importers.base import (
    ImportOptions,
    Node,
    finish,
    iso_time,
    load_json,
    split_target,
    status_code,
)
from repro.replay.incident import Incident, Lost, Provenance, Request, Signature

LABEL = "har"
OMITTED = "HAR has no body (content omitted)"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class HarImporter:
    name = "har"
    summary = "one entry of a HAR 1.2 file (browser devtools, proxies)"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        root = Node(load_json(data, LABEL), "", LABEL)
        root.obj()
        log = root["log"]
        if log.value is None:
            raise root.fail("has no 'log' object: not a HAR file")
        entries = log["entries"].items(optional=False)
        if not entries:
            raise log["entries"].fail("is empty: nothing to replay")
        for entry in entries:
            entry.obj()
            entry["request"].obj()
            entry["response"].obj(optional=True)
        entry = _pick(entries, options)
        return _incident(entry, options)


IMPORTER = HarImporter()


def _status_of(entry: Node) -> int | None:
    response = entry["response"]
    return status_code(response["status"].value, response["status"])


def _url_of(entry: Node) -> str:
    return entry["request"]["url"].req_str()


def _pick(entries: list[Node], options: ImportOptions) -> Node:
    if options.entry is not None:
        if not 0 <= options.entry < len(entries):
            raise IncidentError(
                f"{LABEL}: --entry {options.entry} is out of range "
                f"(log.entries has {len(entries)}: 0..{len(entries) - 1})"
            )
        return entries[options.entry]
    candidates = entries
    if options.match is not None:
        try:
            pattern = re.compile(options.match)
        except re.error as exc:
            raise IncidentError(
                f"{LABEL}: --match is not a valid regular expression: {exc}"
            ) from None
        candidates = [e for e in entries if pattern.search(_url_of(e))]
        if not candidates:
            raise IncidentError(f"{LABEL}: no entry's URL matches --match {options.match!r}")
    for entry in candidates:
        status = _status_of(entry)
        if status is not None and status >= 500:
            return entry
    if options.match is not None:
        return candidates[0]
    raise IncidentError(f"{LABEL}: no entry with status >= 500; pick one with --entry")


def _incident(entry: Node, options: ImportOptions) -> Incident:
    entry.obj()
    req = entry["request"]
    req.obj()
    method = req["method"].req_str()
    url = _url_of(entry)
    path, query, absolute = split_target(url, f"{LABEL}: {req['url'].path}")
    if not query and req["queryString"].value:
        query.extend(req["queryString"].pairs())
    headers = req["headers"].pairs()
    cookies = req["cookies"].pairs()
    lost: list[Lost] = []
    body, body64 = _body(req, method.upper(), headers, lost)
    request = Request(
        method=method,
        path=path,
        query=query,
        headers=headers,
        cookies=cookies,
        body=body,
        body_base64=body64,
        url=absolute,
    )
    started = entry["startedDateTime"]
    provenance = Provenance(
        source="har",
        timestamp=iso_time(started.value, started),
        file=options.file,
    )
    return finish(request, Signature(_status_of(entry), ()), provenance, lost, options)


def _body(
    req: Node, method: str, headers: list[tuple[str, str]], lost: list[Lost]
) -> tuple[str | None, str | None]:
    post = req["postData"]
    declared = req["bodySize"].int_() or 0
    for name, value in headers:
        if name.lower() == "content-length" and value.strip().isdigit():
            declared = max(declared, int(value.strip()))
    if post.value is None:
        if declared > 0 or (method in _BODY_METHODS and _says_omitted(req["comment"])):
            lost.append(Lost("body", OMITTED))
        return None, None
    post.obj()
    text = post["text"].str_()
    encoding = post["encoding"].str_() or post["_encoding"].str_()
    if _says_omitted(post["comment"]) or (
        text in (None, "") and declared > 0 and not post["params"].value
    ):
        lost.append(Lost("body", OMITTED))
        return None, None
    if text:
        if encoding and encoding.lower() == "base64":
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise post["text"].fail(
                    "is not valid base64 (postData.encoding is base64)"
                ) from None
            try:
                return raw.decode("utf-8"), None
            except UnicodeDecodeError:
                return None, base64.b64encode(raw).decode("ascii")
        return text, None
    mime = (post["mimeType"].str_() or "").lower()
    if mime.startswith("multipart/") and post["params"].value:
        lost.append(Lost("body", "HAR has only the fields of a multipart body, not the body"))
        return None, None
    params: list[tuple[str, str]] = []
    for param in post["params"].items():
        param.obj()
        name = param["name"].req_str()
        if param["fileName"].value is not None:
            lost.append(Lost(f"body:{name}", "HAR has no uploaded file content (multipart file)"))
            continue
        params.append((name, param["value"].text() or ""))
    if params:
        return urlencode(params), None
    return None, None


def _says_omitted(node: Node) -> bool:
    text = node.str_()
    return bool(text) and "omit" in (text or "").lower()
