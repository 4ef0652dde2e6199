"""Sentry events, in both shapes people have at hand.

* The SDK / ingest shape (what ``sentry_sdk`` sends, and the event page's "JSON" download):
  ``request``, ``exception.values[].stacktrace.frames[]`` with snake_case keys, ``_meta``.
* The web API export (``/api/0/projects/ORG/PROJECT/events/ID/``): ``entries`` of type
  ``exception`` and ``request``, camelCase frame keys, ``tags`` as ``{key, value}`` objects and
  ``_meta.entries.N.data`` for the request.

A Sentry envelope (header line, item header, payload...) holding one event is read too.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from repro.errors import IncidentError
from repro.replay.credentials import content_type
from repro.replay.importers.base import (
    ImportOptions,
    Node,
    finish,
    iso_time,
    load_json,
    parse_cookie_header,
    split_target,
    status_code,
)
from repro.replay.importers.sentry_meta import FILTERED, meta_notes
from repro.replay.incident import (
    STANDIN,
    ExceptionInfo,
    Frame,
    Incident,
    Lost,
    Provenance,
    QueryPair,
    Request,
    Signature,
    parse_query,
)
from repro.replay.tracebacks import (
    SENTRY_MESSAGE_TYPE,
    SENTRY_THREAD_TYPE,
    module_from_filename,
    paths_are_modules,
    qualified_type_name,
    sentry_in_app,
)

LABEL = "sentry event"
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "TRACE"})
MESSAGE_TYPE = SENTRY_MESSAGE_TYPE
THREAD_TYPE = SENTRY_THREAD_TYPE


class SentryImporter:
    name = "sentry"
    summary = "a Sentry event: SDK/ingest JSON, the event page's JSON or the web API export"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        raw = _load(data)
        root = Node(raw, "", LABEL)
        root.obj()
        _check_kind(root, options)
        if isinstance(raw.get("entries"), list):
            return _parse_api(root, options)
        return _parse_ingest(root, options)


IMPORTER = SentryImporter()


def _load(data: bytes) -> Any:
    try:
        return load_json(data, LABEL)
    except IncidentError as error:
        event = _from_envelope(data)
        if event is None:
            raise error from None
        return event


def _from_envelope(data: bytes) -> Any:
    """The event payload of a Sentry envelope (newline-separated JSON), or None."""
    try:
        lines = data.decode("utf-8").split("\n")
        json.loads(lines[0])
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    i = 1
    while i + 1 < len(lines):
        try:
            header = json.loads(lines[i])
        except (ValueError, RecursionError):
            return None
        if isinstance(header, dict) and header.get("type") in ("event", "transaction"):
            try:
                return json.loads(lines[i + 1])
            except (ValueError, RecursionError):
                return None
        i += 2
    return None


def _parse_ingest(root: Node, options: ImportOptions) -> Incident:
    raw = root.obj()
    req_node = root["request"] if "request" in raw else root["sentry.interfaces.Http"]
    exc_node = root["exception"] if "exception" in raw else root["sentry.interfaces.Exception"]
    tags = dict(root["tags"].pairs())
    status = _status(root["contexts"], tags, root["tags"])
    provenance = Provenance(
        source="sentry",
        event_id=root["event_id"].str_(),
        timestamp=iso_time(raw.get("timestamp"), root["timestamp"]),
        release=_release(root["release"]),
        environment=root["environment"].str_() or tags.get("environment"),
        file=options.file,
    )
    meta = root["_meta"]["request"].value
    sdk = _sdk(root)
    request, lost = _request(req_node, meta, sdk)
    py = _paths_are_modules(root)
    exceptions = _exceptions(exc_node, _threads(root["threads"]), py)
    if not exceptions:
        exceptions = _stack_alone(root["stacktrace"], root["threads"], _message(root), py)
    return _finish(request, status, exceptions, provenance, lost, options)


def _parse_api(root: Node, options: ImportOptions) -> Incident:
    entries = root["entries"].items(optional=False)
    exc_node: Node | None = None
    req_node: Node | None = None
    req_index = -1
    others: dict[str, Node] = {}
    for entry in entries:
        kind = entry["type"].str_()
        if kind == "exception" and exc_node is None:
            exc_node = entry["data"]
        elif kind == "request" and req_node is None:
            req_node, req_index = entry["data"], int(entry.path.rsplit("[", 1)[1][:-1])
        elif kind in ("stacktrace", "threads", "message") and kind not in others:
            others[kind] = entry["data"]
    if req_node is None:
        raise root.fail(
            "has no entry of type 'request': not an HTTP request error, nothing to replay"
        )
    tags_node = root["tags"]
    tags = dict(tags_node.pairs())
    release = _release(root["release"])
    time_node = root["dateCreated"] if root["dateCreated"].value else root["dateReceived"]
    provenance = Provenance(
        source="sentry",
        event_id=root["eventID"].str_() or root["id"].str_(),
        timestamp=iso_time(time_node.value, time_node),
        release=release or tags.get("sentry:release") or tags.get("release"),
        environment=tags.get("environment") or root["environment"].str_(),
        file=options.file,
    )
    status = _status(root["contexts"], tags, tags_node)
    meta = root["_meta"]["entries"][str(req_index)]["data"].value
    request, lost = _request(req_node, meta, _sdk(root))
    threads = _threads(others.get("threads", Node(None, "threads", LABEL)))
    py = _paths_are_modules(root)
    exceptions = _exceptions(exc_node, threads, py) if exc_node is not None else ()
    if not exceptions:
        exceptions = _stack_alone(
            others.get("stacktrace", Node(None, "stacktrace", LABEL)),
            others.get("threads", Node(None, "threads", LABEL)),
            _message(root, others.get("message")),
            py,
        )
    return _finish(request, status, exceptions, provenance, lost, options)


def _release(node: Node) -> str | None:
    if isinstance(node.value, dict):
        return node["version"].text() or node["shortVersion"].text()
    return node.text()


def _status(contexts: Node, tags: dict[str, str], tags_node: Node) -> int | None:
    response = contexts["response"]
    code = response["status_code"]
    if code.value is not None:
        return status_code(code.value, code)
    for name in ("http.status_code", "status_code", "http.response.status_code"):
        if name in tags:
            return status_code(tags[name], Node(tags[name], f"{tags_node.path}.{name}", LABEL))
    return None


def _request(node: Node, meta: Any, sdk: str) -> tuple[Request, list[Lost]]:
    if node.value is None:
        raise IncidentError(
            f"{LABEL}: has no request (not an HTTP request error?): nothing to replay"
        )
    raw = node.obj()
    url = node["url"].str_()
    if not url:
        raise node["url"].fail("is missing: cannot tell which path failed")
    path, url_query, absolute = split_target(url, f"{LABEL}: {node['url'].path}")
    query: list[QueryPair] = list(url_query)
    for key in ("query_string", "query"):
        if raw.get(key) not in (None, "", [], {}):
            query = _query(node[key])
            break
    headers = node["headers"].pairs()
    cookies_node = node["cookies"]
    cookies = (
        parse_cookie_header(cookies_node.value)
        if isinstance(cookies_node.value, str)
        else cookies_node.pairs()
    )
    data = copy.deepcopy(raw.get("data"))
    method = node["method"].str_() or ("POST" if data not in (None, "") else "GET")
    if sdk.startswith("sentry.java") and method.upper() in _NO_BODY and isinstance(data, dict):
        data = None  # the Java SDK's data of a GET is the servlet's parameter map: the query
    lost: list[Lost] = []
    if not node["method"].str_():
        lost.append(Lost("method", f"not in the event; {method} assumed", needs_standin=False))

    for note in meta_notes(meta):
        head, rest = note.keys[0], note.keys[1:]
        if head == "data":
            if not rest or not _set_path(data, rest):
                data = None
                lost.append(Lost("body", note.why))
            else:
                lost.append(Lost("body:" + ".".join(rest), note.why))
        elif head == "headers":
            name = _pair_name(raw.get("headers"), rest)
            if name is not None and name.lower() == "cookie":
                headers = [(k, v) for k, v in headers if k != name]
                lost.append(Lost("cookies", note.why))  # the Cookie header is the cookies
            elif name is not None:
                headers = [(k, STANDIN if k == name else v) for k, v in headers]
                if all(k != name for k, _ in headers):
                    headers.append((name, STANDIN))
                lost.append(Lost(f"header:{name}", note.why))
        elif head == "cookies":
            name = _pair_name(raw.get("cookies"), rest)
            if name is None:
                cookies = []
                lost.append(Lost("cookies", note.why))
            else:
                cookies = [(k, STANDIN if k == name else v) for k, v in cookies]
                lost.append(Lost(f"cookie:{name}", note.why))
        elif head in ("query_string", "query"):
            name = _pair_name(raw.get(head), rest)
            if name is None:
                lost.append(Lost("query", note.why))
            else:
                query = [(k, STANDIN if k == name else v) for k, v in query]
                lost.append(Lost(f"query:{name}", note.why))

    ctype = content_type(headers) or str(raw.get("inferredContentType") or "").lower()
    body = _body(data, ctype, node["data"], lost, headers)
    if body is None and not any(item.where == "body" for item in lost):
        declared = _content_length(headers)
        if declared:
            lost.append(Lost("body", f"not captured by Sentry (Content-Length {declared})"))
    request = Request(
        method=method,
        path=path,
        query=query,
        headers=headers,
        cookies=cookies,
        body=body,
        url=absolute,
    )
    return request, lost


def _query(node: Node) -> list[QueryPair]:
    if isinstance(node.value, str):
        return parse_query(node.value.lstrip("?"))
    return list(node.pairs())


def _pair_name(container: Any, rest: tuple[str, ...]) -> str | None:
    """The header/cookie name a ``_meta`` path points at, in an object or a list of pairs."""
    if not rest:
        return None
    if isinstance(container, list):
        try:
            pair = container[int(rest[0])]
        except (ValueError, IndexError):
            return None
        return str(pair[0]) if isinstance(pair, list) and pair else None
    return rest[0]


def _set_path(data: Any, keys: tuple[str, ...]) -> bool:
    node = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, dict) and key in node:
            if last:
                node[key] = STANDIN
                return True
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            if last:
                node[int(key)] = STANDIN
                return True
            node = node[int(key)]
        else:
            return False
    return False


def _body(
    data: Any, ctype: str, node: Node, lost: list[Lost], headers: list[tuple[str, str]]
) -> str | None:
    """The body in the content type it was sent with, or None (and listed as lost) when
    Sentry kept a shape that cannot be turned back into those bytes."""
    if data is None or data == "" or data == {}:
        return None
    if isinstance(data, str):
        return data
    if isinstance(data, bool | int | float):
        return json.dumps(data)
    if not isinstance(data, dict | list):
        raise node.fail(f"is not a string or an object ({type(data).__name__})")
    if "json" in ctype or (not ctype and isinstance(data, list)):
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if isinstance(data, dict) and "x-www-form-urlencoded" in ctype:
        return urlencode(_form_pairs(data))
    if isinstance(data, dict) and "multipart/form-data" in ctype:
        return _multipart(data, ctype, lost, headers)
    what = ctype.split(";")[0] or "no Content-Type"
    lost.append(
        Lost("body", f"Sentry kept the body as parsed fields; it cannot be rebuilt as {what}")
    )
    return None


def _form_pairs(data: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        pairs.extend((str(key), _scalar_text(v)) for v in values)
    return pairs


def _multipart(
    data: dict[str, Any], ctype: str, lost: list[Lost], headers: list[tuple[str, str]]
) -> str | None:
    """A multipart body from its fields, with the boundary the Content-Type names (so the
    header that is replayed matches the body). Uploaded files were never sent to Sentry: a
    body that had one is lost."""
    files = [
        f"body:{item.where.split(':', 1)[1]}" for item in lost if item.where.startswith("body:")
    ]
    if files:
        lost.append(Lost("body", "multipart body: Sentry kept its fields, not its uploaded files"))
        return None
    match = re.search(r'boundary="?([^";]+)"?', ctype, re.IGNORECASE)
    if match is None:
        lost.append(Lost("body", "multipart body without a boundary in its Content-Type"))
        return None
    boundary = next(
        (
            m.group(1)
            for n, v in headers
            if n.lower() == "content-type"
            for m in [re.search(r'boundary="?([^";]+)"?', v, re.IGNORECASE)]
            if m
        ),
        match.group(1),
    )
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in _form_pairs(data)
    ]
    return "".join(parts) + f"--{boundary}--\r\n"


def _content_length(headers: list[tuple[str, str]]) -> int:
    for name, value in headers:
        if name.lower() == "content-length" and value.strip().isdigit():
            return int(value.strip())
    return 0


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _exceptions(
    node: Node, threads: list[Node] | None = None, py: bool = True
) -> tuple[ExceptionInfo, ...]:
    if node.value is None:
        return ()
    if isinstance(node.value, list):
        values = node.items()
    else:
        obj = node.obj()
        values = node["values"].items() if "values" in obj else [node]
    return tuple(_exception(item, threads or [], py) for item in values if item.value is not None)


def _exception(node: Node, threads: list[Node] | None = None, py: bool = True) -> ExceptionInfo:
    node.obj()
    name = node["type"].text()
    value = node["value"].text()
    module = node["module"].str_()
    name = qualified_type_name(module, name or "Error")
    stack = node["stacktrace"]
    if stack.value is None:
        stack = node["rawStacktrace"]
    if stack.value is None and node["thread_id"].value is not None:
        # Java/.NET: the exception's frames are on the thread that raised it
        wanted = node["thread_id"].value
        for thread in threads or []:
            if thread["id"].value == wanted and thread["stacktrace"].value is not None:
                stack = thread["stacktrace"]
    frames = [_frame(f, py) for f in stack["frames"].items()] if stack.value is not None else []
    if stack.value is not None:
        stack.obj()
    return ExceptionInfo(type=name, value=value, frames=decide_in_app(frames))


def decide_in_app(frames: list[tuple[Frame, bool | None]]) -> tuple[Frame, ...]:
    """Sentry's rule, as the sandbox's sink applies it: when some frame says in_app true,
    the frames that do not say so are not in-app; otherwise an explicit flag counts and the
    rest are in-app unless their path is a library's (site-packages, dist-packages...)."""
    any_true = any(flag is True for _, flag in frames)
    return tuple(
        replace(frame, in_app=sentry_in_app(flag, frame.filename, any_true))
        for frame, flag in frames
    )


def _module_of(filename: str | None) -> str | None:
    return module_from_filename(filename) if filename else None


def _frame(node: Node, py: bool = True) -> tuple[Frame, bool | None]:
    """The frame, and the event's own in_app flag (None: not said)."""
    raw = node.obj()
    # The absolute path tells a library's frame from the app's; the relative filename (to
    # its sys.path entry) is what the module name follows.
    relative = node["filename"].str_()
    filename = node["abs_path"].str_() or node["absPath"].str_() or relative
    lineno = node["lineno"].int_() if "lineno" in raw else node["lineNo"].int_()
    context_line = node["context_line"].str_()
    if context_line is None and "context" in raw:
        for pair in node["context"].items():
            if not isinstance(pair.value, list) or len(pair.value) != 2:
                raise pair.fail("is not a [lineno, text] pair")
            if pair[0].int_() == lineno and lineno is not None:
                context_line = pair[1].str_()
    in_app_node = node["in_app"] if "in_app" in raw else node["inApp"]
    said = in_app_node.bool_(True) if in_app_node.value is not None else None
    frame = Frame(
        module=node["module"].str_() or (_module_of(relative or filename) if py else None),
        function=node["function"].str_() or node["rawFunction"].str_(),
        context_line=context_line.strip() if context_line and context_line.strip() else None,
        filename=filename,
        lineno=lineno,
        in_app=True,
    )
    return frame, said


def _threads(node: Node) -> list[Node]:
    if node.value is None:
        return []
    if isinstance(node.value, list):
        return node.items()
    return node["values"].items()


def _stack_alone(
    stack: Node, threads: Node, message: str | None, py: bool = True
) -> tuple[ExceptionInfo, ...]:
    """No exception: the top-level stack trace (a message event with attach_stacktrace, an API
    export's ``stacktrace`` entry) or the crashed thread's (.NET, Java, native) is where it
    failed, named after the message (or the thread)."""
    if stack.value is None:
        candidates = [t for t in _threads(threads) if t["stacktrace"].value is not None]
        crashed = [t for t in candidates if t["crashed"].value is True]
        current = [t for t in candidates if t["current"].value is True]
        chosen = (crashed or current or (candidates if len(candidates) == 1 else []))[:1]
        if not chosen:
            return ()
        stack = chosen[0]["stacktrace"]
        kind = MESSAGE_TYPE if message else THREAD_TYPE
    else:
        kind = MESSAGE_TYPE
    stack.obj()
    frames = [_frame(f, py) for f in stack["frames"].items()]
    return (ExceptionInfo(type=kind, value=message, frames=decide_in_app(frames)),)


def _message(root: Node, entry: Node | None = None) -> str | None:
    for node in (entry, root["logentry"], root["sentry.interfaces.Message"], root["message"]):
        if node is None or node.value is None:
            continue
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, dict):
            text = node["formatted"].text() or node["message"].text()
            if text:
                return text
    return None


def _paths_are_modules(root: Node) -> bool:
    """Only a Python frame's file path names its module; other platforms say it or not."""
    return paths_are_modules(root["platform"].str_())


def _sdk(root: Node) -> str:
    sdk = root["sdk"]
    name = sdk["name"].str_() if isinstance(sdk.value, dict) else None
    return (name or f"sentry.{root['platform'].str_() or 'unknown'}").lower()


_NOT_FAILURES = frozenset({"transaction", "csp", "hpkp", "expectct", "expectstaple", "nel"})
_BROWSER_PLATFORMS = frozenset({"javascript"})


def _check_kind(root: Node, options: ImportOptions) -> None:
    """Transactions and security reports record no failure; a browser's error ran no server
    code. Refused, or (transactions) imported only with --status: there is nothing else to
    compare a replay with."""
    kind = (root["type"].str_() or "").lower()
    if kind in _NOT_FAILURES:
        if kind == "transaction" and options.status is not None:
            options.notes.append(
                "a transaction event records no failure: the signature is --status alone"
            )
            return
        hint = "; pass --status N to import its request anyway" if kind == "transaction" else ""
        raise IncidentError(f"{LABEL}: a {kind} event, not an error: nothing failed in it{hint}")
    sdk = _sdk(root)
    if root["platform"].str_() in _BROWSER_PLATFORMS and "node" not in sdk:
        raise IncidentError(
            f"{LABEL}: a browser-side error ({sdk}): the failing code ran in the browser, "
            "there is no server request to replay"
        )


def _finish(
    request: Request,
    status: int | None,
    exceptions: tuple[ExceptionInfo, ...],
    provenance: Provenance,
    lost: list[Lost],
    options: ImportOptions,
) -> Incident:
    if options.status is not None:
        if not 100 <= options.status <= 599:
            raise IncidentError(f"{LABEL}: --status {options.status} is not an HTTP status")
        status = options.status
    if not exceptions and status is None:
        raise IncidentError(
            f"{LABEL}: no exception and no stack trace in the event: nothing a replay could be "
            "compared with; pass --status N to import its request with the status alone"
        )
    return finish(
        request, Signature(status, exceptions), provenance, lost, options, filtered_why=FILTERED
    )
