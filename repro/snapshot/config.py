"""The ``config`` facet: the app's configuration files, parsed and flattened to key paths.

Each file is read through the target and parsed by its extension, or by its shape when the
extension says nothing: ``.env`` (``KEY=VALUE``, ``export``, quotes, comments), YAML (``.yml``,
``.yaml``; safe_load; several documents are indexed ``[0]``, ``[1]``...), JSON, TOML, INI
(``.ini``, ``.cfg``, ``.conf``; no interpolation; a file without sections, like
``postgresql.conf``, keeps its keys at the top level). Nested values flatten to dotted key paths,
lists to ``items[0]``; a key that itself contains ``.``, brackets or quotes is JSON-quoted
(``a["b.c"]``, or ``"b.c".d`` at the top level) so two different trees never flatten to the
same keys. A file whose top level is a scalar has the single key ``$``.

Values stay JSON scalars (dates and times become ISO strings). Secrets are the capture layer's
job: it judges each leaf by its key path's last component (``database.password`` ->
``password``) and by the value's shape; list items under a secret-named key (``api_keys[0]``)
are fingerprinted here, since their last component is only an index.

Data shape::

    files:
      "/etc/app/config.yaml": {format: "yaml", keys: {"database.pool.size": 10, ...}}
      "/etc/app/.env":        {error: "permission denied"}     # status partial + a problem
      "/etc/app/conf.d/*.ini": {error: "no file matches"}

A file that is missing, unreadable or unparsable is never dropped: it gets an ``error`` entry
and the facet's status is partial. Parse errors name a line, never the offending text (it may be
a secret).
"""

from __future__ import annotations

import configparser
import datetime as dt
import json
import math
import posixpath
import re
import tomllib
from collections.abc import Iterator
from itertools import islice
from typing import Any

import yaml

from repro.errors import CaptureError
from repro.limits import MAX_DEPTH, load_json, load_yaml_all, too_deep
from repro.profile.facets import Option
from repro.redaction import Redactor
from repro.snapshot.base import CaptureContext
from repro.snapshot.file import FacetResult
from repro.snapshot.files import is_glob
from repro.targets.base import Target, read_file, run_shell

MAX_CONFIG_BYTES = 4 * 1024 * 1024
# An app's config has hundreds of keys; a file with more is data, or an alias bomb.
MAX_CONFIG_KEYS = 10_000

# Globs are expanded on the target (IFS = newline, so spaces in names survive); each pattern's
# matches come back as "index NUL path NUL". A glob matching nothing stays literal and the
# -e/-L test drops it.
_EXPAND_SCRIPT = r"""
IFS='
'
i=0
for pat in "$@"; do
  for f in $pat; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0%s\0' "$i" "$f"; fi
  done
  i=$((i + 1))
done
"""

_ENV_LINE = re.compile(r"(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*")
_PLAIN_KEY = re.compile(r"^[^.\[\]\"]+$")
_INDEX_SUFFIX = re.compile(r"(\[\d+\])+$")


class ParseError(Exception):
    """A config file that cannot be parsed; the message never quotes the file's content."""


# --- parsers ---------------------------------------------------------------------------------


def parse_env(text: str) -> dict[str, Any]:
    """A .env file as docker compose and python-dotenv read it."""
    out: dict[str, Any] = {}
    pos, line_no = 0, 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        if not line or line.startswith("#"):
            pos, line_no = end + 1, line_no + 1
            continue
        start = pos + (len(text[pos:end]) - len(text[pos:end].lstrip()))
        match = _ENV_LINE.match(text, start, end)
        if not match:
            raise ParseError(f"line {line_no}: expected KEY=VALUE")
        value, pos = _env_value(text, match.end(), line_no)
        out[match.group(1)] = value
        line_no += text.count("\n", start, pos) + 1
        pos += 1
    return out


def _env_value(text: str, pos: int, line_no: int) -> tuple[str, int]:
    """The value starting at pos and the index of the newline (or end) after it."""
    quote = text[pos : pos + 1]
    if quote in ("'", '"'):
        # Quoted values may span lines; only double quotes know escapes.
        i, buf = pos + 1, []
        while i < len(text) and text[i] != quote:
            if quote == '"' and text[i] == "\\" and i + 1 < len(text):
                buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(text[i + 1], text[i + 1]))
                i += 2
                continue
            buf.append(text[i])
            i += 1
        if i >= len(text):
            raise ParseError(f"line {line_no}: unterminated quoted value")
        end = text.find("\n", i)
        return "".join(buf), len(text) if end < 0 else end
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    raw = text[pos:end]
    # An unquoted value's comment starts at " #"; a bare "#" may be part of it (a URL fragment).
    comment = re.search(r"\s#", raw)
    if comment:
        raw = raw[: comment.start()]
    return raw.strip(), end


def parse_yaml(text: str) -> Any:
    try:
        docs = load_yaml_all(text, "YAML", ParseError)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        at = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise ParseError(f"{at}{problem}") from None
    docs = [d for d in docs if d is not None] or [None]
    return docs[0] if len(docs) == 1 else docs


def parse_json(text: str) -> Any:
    try:
        return load_json(text, "JSON", ParseError)
    except json.JSONDecodeError as exc:
        raise ParseError(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def parse_toml(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages carry a position, never the text.
        raise ParseError(str(exc)) from None


def parse_ini(text: str) -> dict[str, Any]:
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, allow_no_value=True, delimiters=("=", ":")
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep keys' case
    top_level = False
    try:
        parser.read_string(text)
    except configparser.MissingSectionHeaderError:
        # key = value files without sections (postgresql.conf, sysctl.conf).
        top_level = True
        parser = configparser.ConfigParser(
            interpolation=None, strict=False, allow_no_value=True, delimiters=("=", ":")
        )
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string("[__repro_top__]\n" + text)
        except configparser.Error as exc:
            raise ParseError(_ini_error(exc, offset=1)) from None
    except configparser.Error as exc:
        raise ParseError(_ini_error(exc)) from None
    out: dict[str, Any] = {}
    defaults = parser.defaults()
    if defaults:
        out["DEFAULT"] = dict(defaults)
    for section in parser.sections():
        # Only the section's own keys: DEFAULT's are recorded once, under DEFAULT.
        own = {
            k: v
            for k, v in parser.items(section, raw=True)
            if k not in defaults or defaults[k] != v
        }
        if top_level and section == "__repro_top__":
            out.update(own)
        else:
            out[section] = own
    return out


def _ini_error(exc: configparser.Error, offset: int = 0) -> str:
    # configparser's messages quote the offending line, which may hold a secret.
    if isinstance(exc, configparser.ParsingError) and exc.errors:
        return f"line {exc.errors[0][0] - offset}: not a key = value line"
    lineno = getattr(exc, "lineno", None)
    kind = type(exc).__name__
    return f"line {lineno - offset}: {kind}" if isinstance(lineno, int) else kind


PARSERS = {
    "env": parse_env,
    "yaml": parse_yaml,
    "json": parse_json,
    "toml": parse_toml,
    "ini": parse_ini,
}
_EXTENSIONS = {
    ".env": "env",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
}


def detect_format(path: str, text: str) -> str | None:
    name = posixpath.basename(path)
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    ext = posixpath.splitext(name)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    return sniff_format(text)


def sniff_format(text: str) -> str | None:
    """The format of a file whose name says nothing (``/etc/default/app``, ``config``)."""
    lines = [ln.strip() for ln in text.splitlines()]
    content = [ln for ln in lines if ln and not ln.startswith(("#", ";"))]
    if not content:
        return "env"
    if content[0].startswith(("{", "[")) and not re.fullmatch(r"\[[^\]]+\]", content[0]):
        return "json"
    if re.fullmatch(r"\[[^\]]+\]", content[0]):
        return "toml" if _parses(parse_toml, text) else "ini"
    if all(_ENV_LINE.match(ln) for ln in content):
        return "env"
    if isinstance(_parses(parse_yaml, text), dict):
        return "yaml"
    return None


def _parses(parser: Any, text: str) -> Any:
    try:
        return parser(text)
    except ParseError:
        return None


# --- flattening ------------------------------------------------------------------------------


def _component(key: Any) -> str:
    text = str(key)
    return text if _PLAIN_KEY.match(text) else json.dumps(text)


def flatten(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"a": {"b": [1]}}`` -> ``("a.b[0]", 1)``; empty containers are kept as leaves."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            part = _component(key)
            if prefix:
                part = f"[{part}]" if part.startswith('"') else f".{part}"
            yield from flatten(value, prefix + part)
    elif isinstance(node, list) and node:
        for i, value in enumerate(node):
            yield from flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix or "$", scalar(node)


def scalar(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN/inf are not JSON
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return {} if isinstance(value, dict) else []
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def redact_list_items(keys: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """``passwords[0]``: the capture layer judges the leaf by its last component, here ``0``."""
    out: dict[str, Any] = {}
    for key, value in keys.items():
        owner = _INDEX_SUFFIX.sub("", key)
        if (
            owner != key
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and redactor.name_is_secret(owner)
        ):
            out[key] = redactor.redact_value(str(value))
        else:
            out[key] = value
    return out


def parse_config(path: str, raw: bytes) -> tuple[str, dict[str, Any]]:
    """(format, flattened keys) of one file; raises ParseError."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError("not UTF-8 text") from None
    fmt = detect_format(path, text)
    if fmt is None:
        raise ParseError("unrecognized format (use a .env/.yaml/.json/.toml/.ini name)")
    try:
        tree = PARSERS[fmt](text)
    except RecursionError:  # TOML arrays nested thousands deep
        raise ParseError(f"nested deeper than {MAX_DEPTH} levels") from None
    if too_deep(tree):
        raise ParseError(f"nested deeper than {MAX_DEPTH} levels")
    if tree in (None, {}, []):
        return fmt, {}
    keys = dict(islice(flatten(tree), MAX_CONFIG_KEYS + 1))
    if len(keys) > MAX_CONFIG_KEYS:
        raise ParseError(f"more than {MAX_CONFIG_KEYS:,} keys once flattened")
    return fmt, keys


# --- the facet -------------------------------------------------------------------------------


def expand(target: Target, patterns: list[str]) -> dict[str, list[str]]:
    """Each glob pattern's matches on the target (literal paths are not asked about)."""
    globs = [p for p in patterns if is_glob(p) and "\n" not in p]
    found: dict[str, list[str]] = {p: [] for p in globs}
    if not globs:
        return found
    result = run_shell(target, _EXPAND_SCRIPT, *globs)
    if not result.ok:
        raise CaptureError(f"cannot expand config globs on the target: {result.error_text}")
    tokens = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    for index, path in zip(tokens[0::2], tokens[1::2], strict=False):
        if index.isdigit() and int(index) < len(globs):
            found[globs[int(index)]].append(path)
    return found


class ConfigFacet:
    name = "config"
    summary = "config files (.env, YAML, JSON, TOML, INI) flattened to key paths"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {
            "paths": Option(list, [], "config files or globs to read", item_kind=str),
        }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        workdir = ctx.profile.app.workdir or ""
        patterns = [
            posixpath.join(workdir, p) if workdir and not p.startswith("/") else p
            for p in dict.fromkeys(ctx.options["paths"])
            if p
        ]
        globs = expand(ctx.target, patterns)
        files: dict[str, Any] = {}
        problems: list[str] = []
        for pattern in patterns:
            if pattern in globs and not globs[pattern]:
                files[pattern] = {"error": "no file matches"}
                problems.append(f"{pattern}: no file matches")
            for path in globs.get(pattern, [pattern]):
                entry = self._one(ctx, path)
                if "error" in entry:
                    problems.append(f"{path}: {entry['error']}")
                files[path] = entry
        return FacetResult(
            status="partial" if problems else "ok", data={"files": files}, problems=problems
        )

    @staticmethod
    def _one(ctx: CaptureContext, path: str) -> dict[str, Any]:
        try:
            raw = read_file(ctx.target, path, max_bytes=MAX_CONFIG_BYTES + 1)
        except CaptureError as exc:
            reason = str(exc).removeprefix(f"{path}: ")
            return {"error": "is a directory" if "Is a directory" in reason else reason}
        if len(raw) > MAX_CONFIG_BYTES:
            return {"error": f"larger than {MAX_CONFIG_BYTES} bytes"}
        try:
            fmt, keys = parse_config(path, raw)
        except ParseError as exc:
            return {"error": f"cannot parse: {exc}"}
        return {"format": fmt, "keys": redact_list_items(keys, ctx.redactor)}


FACET = ConfigFacet()
