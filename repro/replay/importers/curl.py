"""A curl command line (browsers' "Copy as cURL" for bash, cmd or PowerShell) — parsed, never run.

The request is built as curl itself builds it (its manual and ``tool_getparam.c`` are the rule):

* options by curl's own table (:mod:`curl_options`): unambiguous long-name prefixes
  (``--sil``), ``--no-X`` for switches, ``--name=value``, short clusters (``-sSL``, ``-XPOST``);
  unknown or ambiguous ones are refused with curl's reason;
* ``-d``/``--data-ascii``/``--data-raw``/``--data-binary`` joined with ``&``; ``--json`` pieces
  concatenated as they are (and Content-Type/Accept set); ``--data-urlencode`` and
  ``--url-query`` encoded (``+`` keeps a ``--url-query`` piece as written); ``-G`` moves the
  data to the query; data implies POST, ``-T`` PUT, ``-I`` HEAD, ``-X`` wins and keeps its case;
  ``-T`` with ``-d`` or ``-I`` with ``-d`` is refused as curl refuses it;
* ``-F`` fields rebuilt as a multipart body (a file part cannot be: the body is listed as lost);
* ``@file`` is never read: a body curl would read from a file is listed as lost, but one read
  from standard input (``@-``, ``-T -``) is taken from a here-document or here-string around the
  command (``-d`` strips its line breaks as curl does);
* ``-u``, ``--oauth2-bearer`` and ``https://user:pass@host`` become the Authorization curl sends
  (a credential: fingerprinted, never written).

Transfer options (``-k``, ``-L``, ``-s``, ``--compressed``...) do not change the request. The
status is unknown unless given (``--status``).
"""

from __future__ import annotations

import base64
import posixpath
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from repro.errors import IncidentError
from repro.replay.importers.base import (
    ImportOptions,
    decode_text,
    finish,
    parse_cookie_header,
    split_target,
)
from repro.replay.importers.curl_options import SHORT, Option, OptionError, find_long
from repro.replay.importers.shellwords import Command, parse_commands
from repro.replay.incident import Incident, Lost, Provenance, Request, Signature

LABEL = "curl"
NOT_READ = "curl reads it from a file, which was not read"
_BOUNDARY = "------------------------repro0000000000000000"
# Words a shell runs curl through: ``sudo curl``, ``time curl``, ``FOO=1 curl``.
_WRAPPERS = frozenset({"sudo", "time", "command", "exec", "noglob", "nohup", "env", "builtin"})
_DIGEST_LIKE = frozenset({"digest", "ntlm", "negotiate", "anyauth", "ntlm-wb"})


class CurlImporter:
    name = "curl"
    summary = "a curl command line (browser 'Copy as cURL': bash, cmd or PowerShell); never run"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        commands = parse_commands(decode_text(data, LABEL), LABEL)
        command = _curl_command(commands)
        return _Builder(options, command).build()


IMPORTER = CurlImporter()


def _curl_command(commands: list[Command]) -> Command:
    if not commands:
        raise IncidentError(f"{LABEL}: empty command")
    found: list[Command] = []
    for command in commands:
        words = command.words
        while words and (words[0] in _WRAPPERS or _is_assignment(words[0])):
            words = words[1:]
        if words and _is_curl(words[0]):
            command.words = words
            found.append(command)
    if not found:
        first = commands[0].words[0]
        if first.lower().startswith(("http://", "https://", "-")):
            return commands[0]  # the arguments without the word "curl"
        raise IncidentError(f"{LABEL}: not a curl command (it starts with {first[:30]!r})")
    if len(found) > 1:
        raise IncidentError(
            f"{LABEL}: {len(found)} curl commands in the text; import one request at a time"
        )
    found[0].words = found[0].words[1:]
    return found[0]


def _is_assignment(word: str) -> bool:
    name, sep, _ = word.partition("=")
    return bool(sep) and name.isidentifier()


def _is_curl(word: str) -> bool:
    return word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower() in ("curl", "curl.exe")


@dataclass
class _Data:
    kind: str  # data, ascii, binary, raw, urlencode, json
    text: str | None  # None: read from a file that was not read
    source: str = ""  # the @file, for the lost entry


@dataclass
class _Builder:
    options: ImportOptions
    command: Command
    method: str | None = None
    urls: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)  # -H 'Name:' drops curl's own header
    cookies: list[tuple[str, str]] = field(default_factory=list)
    data: list[_Data] = field(default_factory=list)
    url_query: list[str] = field(default_factory=list)
    form: list[tuple[str, str, bool]] = field(default_factory=list)  # name, value, literal
    upload: str | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    user: str | None = None
    lost: list[Lost] = field(default_factory=list)
    request_target: str | None = None

    def build(self) -> Incident:
        self._options(self.command.words)
        return self._incident()

    # -- options -------------------------------------------------------------------------

    def _options(self, words: list[str]) -> None:
        i = 0
        only_urls = False
        while i < len(words):
            word = words[i]
            i += 1
            if only_urls or not word.startswith("-") or word == "-":
                self.urls.append(word)
                continue
            if word == "--":
                only_urls = True
                continue
            if word.startswith("--"):
                name, eq, inline = word.partition("=")
                option, enable = self._long(name)
                value: str | None = inline if eq and option.takes_arg else None
                if eq and not option.takes_arg:
                    raise IncidentError(f"{LABEL}: option {name} takes no value ({word[:40]!r})")
                if not option.takes_arg:
                    self.flags[option.name] = enable
                    continue
            else:
                short, value = self._short_cluster(word)
                if short is None:
                    continue
                option = short
            if value is None:
                if i >= len(words):
                    raise IncidentError(f"{LABEL}: option {word[:30]} needs a value")
                value = words[i]
                i += 1
            self._option(option.name, value)

    def _long(self, name: str) -> tuple[Option, bool]:
        if name.startswith("--expand-"):
            raise IncidentError(
                f"{LABEL}: {name[:40]} expands --variable values, which are not known here"
            )
        try:
            return find_long(name)
        except OptionError as exc:
            raise IncidentError(f"{LABEL}: {exc}") from None

    def _short_cluster(self, word: str) -> tuple[Option | None, str | None]:
        """``-sSL``: switches; the first letter taking a value eats the rest of the word."""
        for j in range(1, len(word)):
            option = SHORT.get(word[j])
            if option is None:
                raise IncidentError(f"{LABEL}: option -{word[j]}: is unknown (in {word[:20]!r})")
            if option.takes_arg:
                return option, word[j + 1 :] or None
            # -N is the short form of --no-buffer: a switch that turns buffering off
            self.flags[option.name] = option.name != "buffer"
        return None, None

    def _option(self, name: str, value: str) -> None:
        if name == "request":
            self.method = value
        elif name == "header":
            self._header(value)
        elif name == "cookie":
            if "=" in value:
                self.cookies.extend(parse_cookie_header(value))
            else:
                self.lost.append(Lost("cookies", f"{NOT_READ} (-b {value[:40]})"))
        elif name in ("data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json"):
            self._data(name, value)
        elif name == "url-query":
            self.url_query.append(value)
        elif name == "user":
            self.user = value
        elif name == "url":
            self.urls.append(value)
        elif name == "user-agent":
            self.headers.append(("User-Agent", value))
        elif name == "referer":
            self.headers.append(("Referer", value.removesuffix(";auto")))
        elif name == "range":
            self.headers.append(("Range", f"bytes={value}"))
        elif name == "oauth2-bearer":
            self.headers.append(("Authorization", f"Bearer {value}"))
        elif name == "cert":
            self.lost.append(Lost("tls:client-certificate", f"{NOT_READ} (--cert)"))
        elif name in ("form", "form-string"):
            field_name, _, content = value.partition("=")
            self.form.append((field_name, content, name == "form-string"))
        elif name == "upload-file":
            self.upload = value
        elif name == "config":
            self.lost.append(Lost("options", f"{NOT_READ} (-K {value[:40]}: more options)"))
        elif name == "request-target":
            self.request_target = value
        # every other option changes how curl talks, not what it sends

    def _header(self, value: str) -> None:
        if value.startswith("@"):
            self.lost.append(Lost("headers", f"{NOT_READ} (-H {value[:40]})"))
            return
        name, sep, rest = value.partition(":")
        if not sep:
            if value.endswith(";"):  # "-H 'X-Empty;'" sends an empty header
                self.headers.append((value[:-1].strip(), ""))
                return
            raise IncidentError(f"{LABEL}: -H {value[:40]!r} is not 'Name: value'")
        name, rest = name.strip(), rest.strip()
        if not name:
            raise IncidentError(f"{LABEL}: -H {value[:40]!r} has no header name")
        if not rest:
            self.removed.add(name.lower())  # "-H 'Accept:'" removes curl's own header
            return
        if name.lower() == "cookie":
            self.cookies.extend(parse_cookie_header(rest))
        else:
            self.headers.append((name, rest))

    def _data(self, name: str, value: str) -> None:
        kind = {"data": "ascii", "data-ascii": "ascii"}.get(name, name.removeprefix("data-"))
        if kind == "urlencode":
            self.data.append(self._urlencoded(value, "--data-urlencode"))
            return
        if kind in ("ascii", "binary", "json") and value.startswith("@"):
            text = self._file(value[1:])
            if text is not None and kind == "ascii":
                text = text.replace("\r", "").replace("\n", "")  # curl -d @file strips them
            self.data.append(_Data(kind, text, value))
            return
        self.data.append(_Data(kind, value))

    def _urlencoded(self, value: str, option: str) -> _Data:
        """``content``, ``=content``, ``name=content``, ``@file``, ``name@file``."""
        cut = min((p for p in (value.find("="), value.find("@")) if p >= 0), default=-1)
        if cut >= 0 and value[cut] == "@":
            content = self._file(value[cut + 1 :])
            if content is None:
                return _Data("urlencode", None, f"{option} {value[:40]}")
            name = value[:cut]
        elif cut >= 0:
            name, content = value[:cut], value[cut + 1 :]
        else:
            name, content = "", value
        encoded = quote(content, safe="")
        return _Data("urlencode", f"{name}={encoded}" if name else encoded)

    def _file(self, name: str) -> str | None:
        """A file's content if the paste holds it (``@-`` with a here-document), else None."""
        if name == "-":
            return self._stdin()
        return None

    def _stdin(self) -> str | None:
        command = self.command
        if command.stdin_text is not None:
            return command.stdin_text
        source = command.piped_from
        if source is not None and source.words and source.words[0] == "echo":
            args = source.words[1:]
            newline = True
            if args and args[0] == "-n":
                args, newline = args[1:], False
            return " ".join(args) + ("\n" if newline else "")
        return None

    def _stdin_source(self) -> str:
        if self.command.stdin_file is not None:
            return f"standard input, redirected from {self.command.stdin_file[:40]}"
        if self.command.piped_from is not None:
            return "standard input, piped from another command"
        return "standard input"

    # -- the request ---------------------------------------------------------------------

    def _incident(self) -> Incident:
        if self.flags.get("next"):
            raise IncidentError(f"{LABEL}: --next makes several requests; import one at a time")
        if not self.urls:
            raise IncidentError(f"{LABEL}: no URL in the command")
        if len(self.urls) > 1:
            raise IncidentError(
                f"{LABEL}: {len(self.urls)} URLs in the command; import one request at a time"
            )
        self._conflicts()
        url = self.urls[0]
        if "://" not in url.split("?", 1)[0]:
            url = f"http://{url}"
        body, body_known = self._body()
        get = self.flags.get("get", False)
        if get and body is not None:
            url = _add_query(url, body)
            body = None
        for piece in self.url_query:
            url = _add_query(url, self._url_query_piece(piece))
        if self.upload is not None:
            url = self._upload_url(url)
        url = self._take_userinfo(url)
        path, query, absolute = split_target(url, LABEL)
        if self.request_target is not None:
            path = self.request_target
        self._auth()
        self._content_type(body, body_known)
        request = Request(
            method=self.method or self._default_method(body_known),
            path=path,
            query=query,
            headers=[(n, v) for n, v in self.headers if n.lower() not in self.removed],
            cookies=self.cookies,
            body=body,
            url=absolute,
        )
        status = self.options.status
        if status is not None and not 100 <= status <= 599:
            raise IncidentError(f"{LABEL}: --status {status} is not an HTTP status (100-599)")
        return finish(
            request,
            Signature(status, ()),
            Provenance(source="curl"),
            self.lost,
            self.options,
            keep_method_case=True,
        )

    def _conflicts(self) -> None:
        """The combinations curl itself refuses ("You can only select one HTTP request
        method!")."""
        posts = "POST (-d, --data)" if self.data else ("POST (-F, --form)" if self.form else "")
        if self.data and self.form:
            raise IncidentError(
                f"{LABEL}: curl refuses this: you asked for both POST (-F, --form) and "
                "POST (-d, --data)"
            )
        if self.upload is not None and posts:
            raise IncidentError(
                f"{LABEL}: curl refuses this: you asked for both PUT (-T, --upload-file) and "
                f"{posts}"
            )
        if self.flags.get("head") and posts and not self.flags.get("get"):
            raise IncidentError(
                f"{LABEL}: curl refuses this: you asked for both {posts} and HEAD (-I, --head)"
            )

    def _body(self) -> tuple[str | None, bool]:
        """The body and whether it is known (False: curl sends one, it is lost here)."""
        if self.form:
            return self._multipart()
        if self.upload is not None:
            text = self._file(self.upload)
            if text is None:
                where = self._stdin_source() if self.upload == "-" else self.upload[:40]
                self.lost.append(Lost("body", f"{NOT_READ} (-T {where})"))
                return None, False
            return text, True
        if not self.data:
            return None, True
        unread = [d for d in self.data if d.text is None]
        if unread:
            source = unread[0].source
            where = self._stdin_source() if source.endswith("@-") else source[:40]
            self.lost.append(Lost("body", f"{NOT_READ} ({where})"))
            return None, False
        body = ""
        for i, piece in enumerate(self.data):
            text = piece.text or ""
            body = text if i == 0 else body + (text if piece.kind == "json" else "&" + text)
        return body, True

    def _multipart(self) -> tuple[str | None, bool]:
        parts: list[str] = []
        for name, value, literal in self.form:
            if not literal and value.startswith(("@", "<")):
                self.lost.append(
                    Lost("body", f"multipart field {name[:40]!r}: {NOT_READ} ({value[:40]})")
                )
                return None, False
            content, _, _type = (value, "", "") if literal else value.partition(";type=")
            parts.append(
                f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{content}\r\n"
            )
        self.headers.append(("Content-Type", f"multipart/form-data; boundary={_BOUNDARY}"))
        return "".join(parts) + f"--{_BOUNDARY}--\r\n", True

    def _url_query_piece(self, piece: str) -> str:
        if piece.startswith("+"):
            return piece[1:]
        data = self._urlencoded(piece, "--url-query")
        if data.text is None:
            self.lost.append(Lost("query", f"{NOT_READ} ({data.source})"))
            return ""
        return data.text

    def _upload_url(self, url: str) -> str:
        """``curl -T file.txt https://h/dir/`` uploads to ``/dir/file.txt``."""
        parts = urlsplit(url)
        if parts.path.endswith("/") or not parts.path:
            name = posixpath.basename(self.upload or "")
            if name and name != "-":
                path = (parts.path or "/") + quote(name)
                return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))
        return url

    def _default_method(self, body_known: bool) -> str:
        if self.flags.get("head"):
            return "HEAD"
        if self.upload is not None:
            return "PUT"
        if self.flags.get("get"):
            return "GET"
        if self.data or self.form or not body_known:
            return "POST"
        return "GET"

    def _content_type(self, body: str | None, body_known: bool) -> None:
        has = {name.lower() for name, _ in self.headers} | self.removed
        posting = (self.data and not self.flags.get("get")) or (not body_known and self.data)
        if not posting:
            return
        if any(d.kind == "json" for d in self.data):
            for name in ("Content-Type", "Accept"):
                if name.lower() not in has:
                    self.headers.append((name, "application/json"))
        elif "content-type" not in has:
            self.headers.append(("Content-Type", "application/x-www-form-urlencoded"))

    def _auth(self) -> None:
        if self.user is None or any(n.lower() == "authorization" for n, _ in self.headers):
            return  # an explicit -H Authorization wins over -u, as in curl
        if any(self.flags.get(name) for name in _DIGEST_LIKE):
            self.lost.append(
                Lost("header:Authorization", "credential: negotiated by curl after a challenge")
            )
            return
        if ":" not in self.user:
            self.lost.append(
                Lost("header:Authorization", "credential: curl would prompt for the password")
            )
            return
        token = base64.b64encode(self.user.encode("utf-8")).decode("ascii")
        self.options.redactor.remember(self.user)
        self.options.redactor.remember(self.user.split(":", 1)[1])
        self.headers.append(("Authorization", f"Basic {token}"))

    def _take_userinfo(self, url: str) -> str:
        """``https://user:pass@host/`` sends Basic auth, exactly as ``-u user:pass``."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise IncidentError(f"{LABEL}: unreadable URL {url[:80]!r}") from None
        if "@" not in parts.netloc:
            return url
        userinfo, _, host = parts.netloc.rpartition("@")
        if self.user is None:
            self.user = unquote(userinfo)
        self.options.redactor.remember(unquote(userinfo))
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _add_query(url: str, piece: str) -> str:
    if not piece:
        return url
    base, hash_, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{piece}"
    return joined + hash_ + fragment
