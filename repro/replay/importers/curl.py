"""A curl command line (browsers' "Copy as cURL", bash or cmd) — parsed, never run.

Handled as curl itself would build the request: ``-X``, ``-H``, ``-b``, the ``-d`` family (joined
with ``&``; ``--data-urlencode`` encoded; ``-G`` moves them to the query), ``--json``, ``-u`` (a
Basic credential, fingerprinted), ``-A``, ``-e``, ``-I``, ``--url``. Transfer options (``-k``,
``-L``, ``-s``, ``--compressed``...) do not change the request and are ignored. Anything read from
a file (``-d @file``, ``-b file``, ``-T file``) is not read: it is listed as lost. The status is
unknown unless given (``--status``).
"""

from __future__ import annotations

import base64
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from repro.errors import IncidentError
from repro.replay.importers.base import (
    ImportOptions,
    decode_text,
    finish,
    parse_cookie_header,
    split_target,
)
from repro.replay.importers.shellwords import split_words
from repro.replay.incident import Incident, Lost, Provenance, Request, Signature

LABEL = "curl"
NOT_READ = "curl reads it from a file, which was not read"

_FLAGS = frozenset(
    [
        "-k",
        "--insecure",
        "-L",
        "--location",
        "--location-trusted",
        "-s",
        "--silent",
        "-S",
        "--show-error",
        "-i",
        "--include",
        "-v",
        "--verbose",
        "--compressed",
        "--compressed-ssh",
        "-f",
        "--fail",
        "--fail-with-body",
        "-g",
        "--globoff",
        "-N",
        "--no-buffer",
        "--http0.9",
        "--http1.0",
        "--http1.1",
        "--http2",
        "--http2-prior-knowledge",
        "--http3",
        "--http3-only",
        "-0",
        "-1",
        "-2",
        "-3",
        "-4",
        "-6",
        "--ipv4",
        "--ipv6",
        "--tlsv1",
        "--tlsv1.0",
        "--tlsv1.1",
        "--tlsv1.2",
        "--tlsv1.3",
        "--ssl",
        "--ssl-reqd",
        "--ssl-no-revoke",
        "-#",
        "--progress-bar",
        "--no-progress-meter",
        "--no-keepalive",
        "--path-as-is",
        "--raw",
        "-j",
        "--junk-session-cookies",
        "-q",
        "--disable",
        "-Z",
        "--parallel",
        "--tr-encoding",
        "--no-alpn",
        "--no-npn",
        "--anyauth",
        "--basic",
        "--digest",
        "--ntlm",
        "--negotiate",
        "--no-sessionid",
        "--tcp-nodelay",
        "--tcp-fastopen",
        "-O",
        "--remote-name",
        "-R",
        "--remote-time",
        "--create-dirs",
        "--styled-output",
        "--no-styled-output",
        "-B",
        "--use-ascii",
        "--false-start",
        "--proxy-insecure",
        "--suppress-connect-headers",
        "-G",
        "--get",
        "-I",
        "--head",
    ]
)
_IGNORED_WITH_ARG = frozenset(
    [
        "-o",
        "--output",
        "-m",
        "--max-time",
        "--connect-timeout",
        "--retry",
        "--retry-delay",
        "--retry-max-time",
        "-w",
        "--write-out",
        "-x",
        "--proxy",
        "-U",
        "--proxy-user",
        "--cacert",
        "--capath",
        "--max-redirs",
        "--resolve",
        "--connect-to",
        "--interface",
        "--limit-rate",
        "-c",
        "--cookie-jar",
        "-D",
        "--dump-header",
        "--trace",
        "--trace-ascii",
        "--stderr",
        "--keepalive-time",
        "--local-port",
        "--ciphers",
        "--key",
        "--pass",
        "--key-type",
        "--cert-type",
        "--dns-servers",
        "--noproxy",
        "--proxy-header",
        "--expect100-timeout",
        "--happy-eyeballs-timeout-ms",
        "-Y",
        "--speed-limit",
        "-y",
        "--speed-time",
        "--unix-socket",
        "--abstract-unix-socket",
        "--retry-connrefused",
        "--output-dir",
        "-z",
        "--time-cond",
    ]
)
_DATA = {
    "-d": "data",
    "--data": "data",
    "--data-ascii": "data",
    "--data-binary": "binary",
    "--data-raw": "raw",
    "--data-urlencode": "urlencode",
    "--json": "json",
}
_WITH_ARG = frozenset(
    [
        *_IGNORED_WITH_ARG,
        *_DATA,
        "-X",
        "--request",
        "-H",
        "--header",
        "-b",
        "--cookie",
        "-u",
        "--user",
        "--url",
        "-A",
        "--user-agent",
        "-e",
        "--referer",
        "-E",
        "--cert",
        "-F",
        "--form",
        "--form-string",
        "-T",
        "--upload-file",
        "-r",
        "--range",
        "--oauth2-bearer",
        "-K",
        "--config",
    ]
)


class CurlImporter:
    name = "curl"
    summary = "a curl command line (browser 'Copy as cURL', bash or cmd); never run"

    def parse(self, data: bytes, *, options: ImportOptions) -> Incident:
        words = split_words(decode_text(data, LABEL), LABEL)
        return _Builder(options).build(words)


IMPORTER = CurlImporter()


class _Builder:
    def __init__(self, options: ImportOptions) -> None:
        self.options = options
        self.method: str | None = None
        self.urls: list[str] = []
        self.headers: list[tuple[str, str]] = []
        self.cookies: list[tuple[str, str]] = []
        self.data: list[str] = []
        self.json = False
        self.get = False
        self.head = False
        self.user: str | None = None
        self.lost: list[Lost] = []

    def build(self, words: list[str]) -> Incident:
        if not words:
            raise IncidentError(f"{LABEL}: empty command")
        first = words[0].rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
        if first in ("curl", "curl.exe"):
            words = words[1:]
        elif not words[0].lower().startswith(("http://", "https://", "-")):
            raise IncidentError(f"{LABEL}: not a curl command (it starts with {words[0][:30]!r})")
        self._options(words)
        return self._incident()

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
                name, value = word, None
            else:
                # -sSL, -XPOST, -H'x: y': flags cluster; the first option taking a value eats
                # the rest of the word (or the next word).
                j = 1
                while j < len(word) and f"-{word[j]}" in _FLAGS:
                    self._flag(f"-{word[j]}")
                    j += 1
                if j == len(word):
                    continue
                name = f"-{word[j]}"
                value = word[j + 1 :] or None
                if name not in _WITH_ARG:
                    raise IncidentError(f"{LABEL}: unknown option {name} (in {word[:20]!r})")
            if name in _FLAGS:
                self._flag(name)
                continue
            if name not in _WITH_ARG:
                raise IncidentError(f"{LABEL}: unknown option {name}")
            if value is None:
                if i >= len(words):
                    raise IncidentError(f"{LABEL}: option {name} needs a value")
                value = words[i]
                i += 1
            self._option(name, value)

    def _flag(self, name: str) -> None:
        if name in ("-G", "--get"):
            self.get = True
        elif name in ("-I", "--head"):
            self.head = True

    def _option(self, name: str, value: str) -> None:
        if name in ("-X", "--request"):
            self.method = value
        elif name in ("-H", "--header"):
            self._header(value)
        elif name in ("-b", "--cookie"):
            if "=" in value:
                self.cookies.extend(parse_cookie_header(value))
            else:
                self.lost.append(Lost("cookies", f"{NOT_READ} (-b {value[:40]})"))
        elif name in _DATA:
            self._data(_DATA[name], value)
        elif name in ("-u", "--user"):
            self.user = value
        elif name == "--url":
            self.urls.append(value)
        elif name in ("-A", "--user-agent"):
            self.headers.append(("User-Agent", value))
        elif name in ("-e", "--referer"):
            self.headers.append(("Referer", value.removesuffix(";auto")))
        elif name in ("-r", "--range"):
            self.headers.append(("Range", f"bytes={value}"))
        elif name == "--oauth2-bearer":
            self.headers.append(("Authorization", f"Bearer {value}"))
        elif name in ("-E", "--cert"):
            self.lost.append(Lost("tls:client-certificate", f"{NOT_READ} (--cert)"))
        elif name in ("-F", "--form", "--form-string"):
            self.method = self.method or "POST"
            self.lost.append(Lost("body", "multipart form (curl -F) is not rebuilt"))
        elif name in ("-T", "--upload-file"):
            self.method = self.method or "PUT"
            self.lost.append(Lost("body", f"{NOT_READ} (-T {value[:40]})"))
        elif name in ("-K", "--config"):
            self.lost.append(Lost("options", f"{NOT_READ} (-K {value[:40]}: more options)"))
        # everything else in _IGNORED_WITH_ARG changes how curl talks, not what it sends

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
            return  # "-H 'Accept:'" removes curl's own header: nothing to send
        if name.lower() == "cookie":
            self.cookies.extend(parse_cookie_header(rest))
        else:
            self.headers.append((name, rest))

    def _data(self, kind: str, value: str) -> None:
        if kind == "json":
            self.json = True
        if kind in ("data", "binary", "json") and value.startswith("@"):
            self.lost.append(Lost("body", f"{NOT_READ} (@{value[1:40]})"))
            return
        if kind == "urlencode":
            cut = min((p for p in (value.find("="), value.find("@")) if p >= 0), default=-1)
            if cut >= 0 and value[cut] == "@":
                self.lost.append(Lost("body", f"{NOT_READ} (--data-urlencode {value[:40]})"))
                return
            if cut >= 0:
                name, content = value[:cut], value[cut + 1 :]
                value = f"{name}={quote(content, safe='')}" if name else quote(content, safe="")
            else:
                value = quote(value, safe="")
        self.data.append(value)

    def _incident(self) -> Incident:
        if not self.urls:
            raise IncidentError(f"{LABEL}: no URL in the command")
        if len(self.urls) > 1:
            raise IncidentError(
                f"{LABEL}: {len(self.urls)} URLs in the command; import one request at a time"
            )
        url = self.urls[0]
        if "://" not in url:
            url = f"http://{url}"
        body = "&".join(self.data) if self.data else None
        if self.get and body is not None:
            url = f"{url}{'&' if '?' in url else '?'}{body}"
            body = None
        url = self._take_userinfo(url)
        path, query, absolute = split_target(url, LABEL)
        if self.user is not None and all(n.lower() != "authorization" for n, _ in self.headers):
            self._basic(self.user)  # an explicit -H Authorization wins over -u, as in curl
        has = {name.lower() for name, _ in self.headers}
        if body is not None and self.json:
            for name in ("Content-Type", "Accept"):
                if name.lower() not in has:
                    self.headers.append((name, "application/json"))
        elif body is not None and "content-type" not in has:
            self.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        default = "HEAD" if self.head else ("POST" if body is not None else "GET")
        request = Request(
            method=self.method or default,
            path=path,
            query=query,
            headers=self.headers,
            cookies=self.cookies,
            body=body,
            url=absolute,
        )
        status = self.options.status
        if status is not None and not 100 <= status <= 599:
            raise IncidentError(f"{LABEL}: --status {status} is not an HTTP status (100-599)")
        return finish(
            request, Signature(status, ()), Provenance(source="curl"), self.lost, self.options
        )

    def _basic(self, user: str) -> None:
        if ":" not in user:
            self.lost.append(
                Lost("header:Authorization", "credential: curl would prompt for the password")
            )
            return
        token = base64.b64encode(user.encode("utf-8")).decode("ascii")
        self.options.redactor.remember(user)
        self.options.redactor.remember(user.split(":", 1)[1])
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
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
