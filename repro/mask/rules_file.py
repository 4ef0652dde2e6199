"""The anonymization rules file (``schema: repro.anonymize/v1``): load, validate, write.

The file says, per table, which columns are transformed and how; where the secret key comes
from (an environment variable or a file, never the key itself); and optional row filters.
Spec strings are checked against the grammar here; whether a spec fits a column's type is
checked when the transformer is built (:func:`repro.mask.transforms.build`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from repro.errors import UsageError
from repro.inputfile import read_bytes, read_text
from repro.limits import load_yaml
from repro.mask.specs import keys_spec, parse_spec
from repro.text import one_line

SCHEMA = "repro.anonymize/v1"
ACTIONS = ("copy", "skip", "truncate")


@dataclass
class TableRules:
    action: str  # "copy" | "skip" | "truncate"
    columns: dict[str, str] = field(default_factory=dict)  # column -> spec ("null" for null)
    where: str | None = None


@dataclass
class Rules:
    tables: dict[str, TableRules]
    key_source: str  # "env:NAME" | "file:PATH", as written
    # where a relative key file path is resolved from (the rules file's directory)
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    def key(self) -> bytes:
        """The secret key; UsageError naming the variable or path (never the key)."""
        kind, _, where = self.key_source.partition(":")
        if kind == "env":
            value = os.environ.get(where, "")
            if not value.strip():
                raise UsageError(
                    f"the anonymization key variable {where} is not set or empty",
                    hint=f"export {where}=<a long random secret>",
                )
            return value.encode()
        path = Path(where).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        data = read_bytes(path, UsageError, label=f"the anonymization key file {path}").strip()
        if not data:
            raise UsageError(f"the anonymization key file {path} is empty")
        return data


def _fail(origin: str, message: str) -> UsageError:
    return UsageError(f"{origin}: {message}")


def load_rules(path: str | Path) -> Rules:
    """Read and validate a rules file; UsageError (one line) for anything wrong with it."""
    file = Path(path).expanduser()
    text = read_text(file, UsageError, label=f"rules file {file}")
    rules = parse_rules(text, str(file))
    rules.base_dir = file.parent
    return rules


def parse_rules(text: str, origin: str = "rules") -> Rules:
    """:func:`load_rules` on text; ``origin`` names it in messages."""
    try:
        data = load_yaml(text, origin, UsageError)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and mark is not None and start.line != mark.line:
            problem += f" ({context} that starts at line {start.line + 1})"
        raise _fail(origin, f"not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise _fail(origin, f"expected a mapping with schema: {SCHEMA}")
    unknown = sorted(str(k) for k in data if k not in ("schema", "key", "tables"))
    if unknown:
        raise _fail(origin, f"unknown keys {', '.join(unknown)} (expected schema, key, tables)")
    schema = data.get("schema")
    if schema != SCHEMA:
        if isinstance(schema, str) and schema.startswith("repro.anonymize/"):
            raise _fail(origin, f"schema {schema} is not supported (this repro reads {SCHEMA})")
        raise _fail(origin, f"schema must be {SCHEMA}, found {schema!r}")
    key_source = _key_source(data.get("key"), origin)
    tables_data = data.get("tables")
    if tables_data is None:
        tables_data = {}
    if not isinstance(tables_data, dict):
        raise _fail(origin, "tables must be a mapping of schema.table to rules")
    tables: dict[str, TableRules] = {}
    for name, entry in tables_data.items():
        if not isinstance(name, str) or "." not in name.strip(".") or name != name.strip():
            raise _fail(origin, f"table {name!r} must be written schema.table")
        tables[name] = _table_rules(entry, f"{origin}: {name}")
    return Rules(tables=tables, key_source=key_source)


def _key_source(value: Any, origin: str) -> str:
    usage = "key must be {env: VARIABLE} or {file: PATH}"
    if isinstance(value, str):  # "env:NAME" / "file:PATH" are accepted too
        kind, sep, where = value.partition(":")
        value = {kind: where} if sep else value
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(origin, usage)
    ((kind, where),) = value.items()
    if kind not in ("env", "file") or not isinstance(where, str) or not where.strip():
        raise _fail(origin, usage)
    return f"{kind}:{where}"


def _table_rules(entry: Any, origin: str) -> TableRules:
    if entry in ("skip", "truncate"):
        return TableRules(action=str(entry))
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise UsageError(f"{origin}: expected skip, truncate or a mapping with columns/where")
    unknown = sorted(str(k) for k in entry if k not in ("columns", "where"))
    if unknown:
        raise UsageError(f"{origin}: unknown keys {', '.join(unknown)} (expected columns, where)")
    where = entry.get("where")
    if where is not None and not isinstance(where, str):
        raise UsageError(f"{origin}: where must be an SQL condition (a string)")
    columns_data = entry.get("columns") or {}
    if not isinstance(columns_data, dict):
        raise UsageError(f"{origin}: columns must be a mapping of column to transformer")
    columns: dict[str, str] = {}
    for column, spec in columns_data.items():
        if not isinstance(column, str) or not column:
            raise UsageError(f"{origin}: column {column!r} must be a name")
        if spec is None:
            spec = "null"
        if isinstance(spec, dict):
            spec = _keys_mapping(spec, f"{origin}.{column}")
        if not isinstance(spec, str):
            raise UsageError(
                f"{origin}.{column}: transformer must be a string or null, found {spec!r}"
            )
        try:
            parse_spec(spec)
        except ValueError as exc:
            raise UsageError(f"{origin}.{column}: {spec!r} is not valid: {exc}") from None
        columns[column] = spec
    return TableRules(
        action="copy", columns=columns, where=where.strip() or None if where else None
    )


def _keys_mapping(entry: dict[Any, Any], origin: str) -> str:
    """``{keys: {email: fake:email}}`` (the YAML form of a ``keys:{...}`` spec)."""
    usage = "a transformer mapping must be {keys: {<key pattern>: <spec>, ...}}"
    rules = entry.get("keys")
    if list(entry) != ["keys"] or not isinstance(rules, dict) or not rules:
        raise UsageError(f"{origin}: {usage}")
    out: dict[str, str] = {}
    for pattern, spec in rules.items():
        if not isinstance(pattern, str) or not (spec is None or isinstance(spec, str)):
            raise UsageError(f"{origin}: {usage}; found {pattern!r}: {spec!r}")
        out[pattern] = "null" if spec is None else spec
    return keys_spec(out)


# ------------------------------------------------------------------------------ writing


def yaml_scalar(text: str, *, key: bool = False) -> str:
    """``text`` as a YAML scalar: plain when it reads back the same (with a comment after
    it), else a JSON string (a double-quoted YAML scalar)."""
    if text and text == text.strip() and "\n" not in text:
        probe = f"{text}: 1" if key else f"k: {text}  # c"
        try:
            loaded = yaml.safe_load(probe)
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict) and (list(loaded) == [text] if key else loaded == {"k": text}):
            return text
    return json.dumps(text)


_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})


def spec_lines(column: str, spec: str, comment: str = "", indent: int = 6) -> list[str]:
    """A column's line(s) in a rules file: ``email: fake:email  # comment``, or for a
    ``keys:`` spec the mapping form, one line per key pattern."""
    pad = " " * indent
    after = f"  # {comment}" if comment else ""
    name = yaml_scalar(column, key=True)
    parsed = parse_spec(spec)
    if parsed.name != "keys":
        value = "null" if spec == "null" else yaml_scalar(spec)
        return [f"{pad}{name}: {value}{after}"]
    lines = [f"{pad}{name}:{after}", f"{pad}  keys:"]
    for pattern, inner in parsed.keys:
        value = "null" if inner == "null" else yaml_scalar(inner)
        lines.append(f"{pad}    {yaml_scalar(pattern, key=True)}: {value}")
    return lines


def dump_rules(rules: Rules, *, comments: Mapping[tuple[str, str], str] | None = None) -> str:
    """YAML that :func:`load_rules` reads back as ``rules``; ``comments`` per (table, column)
    become end-of-line ``# reason`` comments."""
    comments = comments or {}
    kind, _, where = rules.key_source.partition(":")
    plain = re.fullmatch(r"[A-Za-z0-9_./~-]+", where) and where.lower() not in _YAML_WORDS
    lines = [f"schema: {SCHEMA}", f"key: {{{kind}: {where if plain else json.dumps(where)}}}"]
    if not rules.tables:
        lines.append("tables: {}")
        return "\n".join(lines) + "\n"
    lines.append("tables:")
    for table, entry in rules.tables.items():
        name = yaml_scalar(table, key=True)
        if entry.action != "copy":
            lines.append(f"  {name}: {entry.action}")
            continue
        lines.append(f"  {name}:")
        if entry.columns:
            lines.append("    columns:")
            for column, spec in entry.columns.items():
                note = comments.get((table, column))
                lines += spec_lines(column, spec, one_line(note) if note else "")
        else:
            lines.append("    columns: {}")
        if entry.where:
            lines.append(f"    where: {json.dumps(entry.where)}")
    return "\n".join(lines) + "\n"
