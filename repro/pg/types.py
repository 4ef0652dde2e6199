"""What a column's declared type means to the data jobs (its kind, bounds, labels).

The snapshot holds ``format_type`` text ("character varying(40)", "numeric(12,2)",
"public.mood[]"); this turns it into a :class:`TypeInfo` once, resolving domains to their
base type and enums to their labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.errors import DataGenerationError

# kind -> format_type spellings (without typmod)
_KINDS: dict[str, tuple[str, ...]] = {
    "int": ("smallint", "integer", "bigint", "int2", "int4", "int8", "oid"),
    "numeric": ("numeric", "decimal", "money"),
    "float": ("real", "double precision", "float4", "float8"),
    "text": (
        "text",
        "character varying",
        "character",
        "bpchar",
        "name",
        "citext",
        "varchar",
        "char",
        '"char"',
    ),
    "bool": ("boolean", "bool"),
    "date": ("date",),
    "time": ("time without time zone", "time with time zone", "time", "timetz"),
    "timestamp": ("timestamp without time zone", "timestamp"),
    "timestamptz": ("timestamp with time zone", "timestamptz"),
    "interval": ("interval",),
    "uuid": ("uuid",),
    "json": ("json", "jsonb"),
    "bytea": ("bytea",),
    "inet": ("inet", "cidr"),
    "macaddr": ("macaddr", "macaddr8"),
    "tsvector": ("tsvector",),
    "hstore": ("hstore",),
    "xml": ("xml",),
    "point": ("point",),
    "range": ("int4range", "int8range", "numrange", "daterange", "tsrange", "tstzrange"),
    # extensions' types (PostGIS, pgvector): their text forms are built by repro.synth
    "geometry": ("geometry", "geography"),
    "vector": ("vector",),
}
_BY_NAME = {name: kind for kind, names in _KINDS.items() for name in names}
INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int2": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "int4": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "int8": (-(2**63), 2**63 - 1),
    "oid": (0, 2**32 - 1),
}
NUMERIC_KINDS = frozenset({"int", "numeric", "float"})
# Kinds whose values the generator handles as numbers (ints: days, microseconds...) so that
# histogram quantiles and range checks apply.
ORDERED_KINDS = frozenset(
    {"int", "numeric", "float", "date", "time", "timestamp", "timestamptz", "interval"}
)

_TYPMOD = re.compile(r"^(?P<base>.+?)\((?P<mods>[\d\s,]+)\)(?P<rest>.*)$")


@dataclass(frozen=True)
class TypeInfo:
    declared: str  # as captured
    base: str  # format_type spelling without typmod, domains resolved
    kind: str  # one of _KINDS, "enum", or "unknown"
    array: bool = False
    max_length: int | None = None  # varchar(n) / char(n)
    fixed_length: bool = False  # char(n): blank-padded
    precision: int | None = None  # numeric(p, s)
    scale: int | None = None
    int_range: tuple[int, int] | None = None
    labels: tuple[str, ...] = ()  # enum labels, in order
    domain: str | None = None  # the domain's key, when the column is declared with one
    domain_checks: tuple[str, ...] = field(default=())
    domain_not_null: bool = False
    typmod: str | None = None  # what the parentheses say: "Point,4326", "1536"


def _unquote(name: str) -> str:
    """``public."My Type"`` -> ``public.My Type`` (snapshot keys are unquoted)."""
    return ".".join(part.strip('"') for part in re.findall(r'"[^"]*"|[^.]+', name))


def resolve_type(declared: str, database: Mapping[str, Any]) -> TypeInfo:
    text = declared.strip()
    array = False
    while text.endswith("[]"):
        array, text = True, text[:-2].strip()
    max_length = precision = scale = None
    match = _TYPMOD.match(text)
    base = text
    if match:
        mods = [int(m) for m in match.group("mods").split(",") if m.strip()]
        base = (match.group("base") + match.group("rest")).strip()
        if base in ("character varying", "character", "varchar", "char", "bpchar"):
            max_length = mods[0]
        elif base in ("numeric", "decimal"):
            precision = mods[0]
            scale = mods[1] if len(mods) > 1 else 0
        # time(3)/timestamp(3)/interval(3): precision only changes rendering, not the kind
    plain = _unquote(base)
    short = plain.rsplit(".", 1)[-1] if plain.startswith(("public.", "pg_catalog.")) else plain
    domains = database.get("domains") or {}
    enums = database.get("enums") or {}
    for key in (plain, f"public.{plain}"):
        if key in domains:
            domain = domains[key]
            inner = resolve_type(str(domain.get("type") or "text"), database)
            checks = tuple(str(c) for c in (domain.get("checks") or {}).values() if c)
            return TypeInfo(
                declared=declared,
                base=inner.base,
                kind=inner.kind,
                array=array or inner.array,
                max_length=inner.max_length,
                fixed_length=inner.fixed_length,
                precision=inner.precision,
                scale=inner.scale,
                int_range=inner.int_range,
                labels=inner.labels,
                domain=key,
                domain_checks=checks + inner.domain_checks,
                domain_not_null=domain.get("nullable") is False or inner.domain_not_null,
            )
        if key in enums:
            labels = tuple(str(label) for label in enums[key].get("labels") or ())
            return TypeInfo(declared, key, "enum", array=array, labels=labels)
    kind = _BY_NAME.get(short, "unknown")
    typmod = None
    if kind == "unknown":
        # an extension's type modifier is not a number list: geometry(Point,4326)
        found = re.match(r"^(?P<base>[^()]+)\((?P<mods>[^()]*)\)$", plain)
        if found and _BY_NAME.get(found.group("base").rsplit(".", 1)[-1]) in ("geometry", "vector"):
            short = found.group("base").rsplit(".", 1)[-1]
            kind, typmod = _BY_NAME[short], found.group("mods")
    elif kind in ("geometry", "vector") and match:
        typmod = match.group("mods")
    return TypeInfo(
        declared=declared,
        base=short,
        kind=kind,
        array=array,
        max_length=max_length,
        fixed_length=short in ("character", "char", "bpchar"),
        precision=precision,
        scale=scale,
        int_range=INT_RANGES.get(short),
        typmod=typmod,
    )


def unsupported(table: str, column: str, info: TypeInfo) -> DataGenerationError:
    return DataGenerationError(
        f"{table}.{column}: type {info.declared!r} is not supported by the generator",
        hint="give its rows with --rows table=0, leave the table out with --tables, "
        "or make the column nullable",
    )
