"""The value space of one column: its type, its statistics and its CHECK rules combined."""

from __future__ import annotations

from dataclasses import dataclass

from repro.pg import meaning as meanings
from repro.pg.personal import name_tokens
from repro.pg.tables import Column
from repro.pg.types import ORDERED_KINDS, TypeInfo
from repro.synth.check_parser import ColumnRule, admits
from repro.synth.extension_values import Geometry, Vector
from repro.synth.patterns import Patterned
from repro.synth.value_spaces import (
    Array,
    Listed,
    Ordered,
    Space,
    Structured,
    Text,
    Uuid,
    code_of,
    copy_escape,
    default_bounds,
    unit_of,
)

_STRUCTURED = ("json", "bytea", "inet", "macaddr", "tsvector", "hstore", "xml", "point", "range")
_NUMERIC_KINDS = ("int", "numeric", "float")


@dataclass
class Unsupported:
    """Why a column has no space (its type); the planner decides whether that matters."""

    reason: str


def _ordered(column: Column, info: TypeInfo, rule: ColumnRule | None) -> Ordered:
    unit = unit_of(info)
    probe = Ordered(info.kind, [0.0, 1.0], unit, None, scale=info.scale or 0)
    bounds: list[float] = []
    stats = column.stats
    if stats is not None and stats.bounds:
        parsed = [probe.parse(str(b)) for b in stats.bounds]
        bounds = [b for b in parsed if b is not None]
    if len(bounds) < 2 and stats is not None and stats.mcv_values and not stats.mcv_fingerprinted:
        parsed = [probe.parse(v) for v in stats.mcv_values]
        values = sorted(b for b in parsed if b is not None)
        bounds = [values[0], values[-1]] if values else []
    if len(bounds) < 2 or bounds[-1] <= bounds[0]:
        if bounds:
            bounds = [bounds[0], bounds[0] + 100 * unit]
        else:
            bounds = default_bounds(info.kind, name_tokens(column.name))
    lo_limit, hi_limit = -1e300, 1e300
    if info.int_range is not None:
        lo_limit, hi_limit = float(info.int_range[0]), float(info.int_range[1])
    if info.kind == "numeric" and info.precision is not None:
        top = 10.0 ** (info.precision - (info.scale or 0)) - unit
        lo_limit, hi_limit = -top, top
    if rule is not None:
        if rule.lower is not None:
            low = probe.parse(rule.lower.value)
            if low is not None:
                lo_limit = max(lo_limit, low if rule.lower.inclusive else low + unit)
        if rule.upper is not None:
            high = probe.parse(rule.upper.value)
            if high is not None:
                hi_limit = min(hi_limit, high if rule.upper.inclusive else high - unit)
    if info.kind == "numeric" and info.scale is not None:
        # a bound like 0.5 on numeric(10,0) rounds: keep inside
        pass
    clipped = sorted(min(max(b, lo_limit), hi_limit) for b in bounds)
    if clipped[-1] <= clipped[0]:
        clipped = [clipped[0], min(clipped[0] + 100 * unit, hi_limit)]
    size = None
    if info.kind in ("int", "numeric", "date") or (info.kind == "time"):
        size = round((clipped[-1] - clipped[0]) / unit) + 1
    return Ordered(info.kind, clipped, unit, size, scale=info.scale or 0)


def type_limit(info: TypeInfo, rule: ColumnRule | None) -> float:
    """The largest value an ordered column may take (its type, its CHECK upper bound)."""
    hi = 1e300
    if info.int_range is not None:
        hi = float(info.int_range[1])
    if info.kind == "numeric" and info.precision is not None:
        hi = 10.0 ** (info.precision - (info.scale or 0)) - unit_of(info)
    if rule is not None and rule.upper is not None:
        probe = Ordered(info.kind, [0.0, 1.0], unit_of(info), None, scale=info.scale or 0)
        high = probe.parse(rule.upper.value)
        if high is not None:
            hi = min(hi, high if rule.upper.inclusive else high - unit_of(info))
    return hi


def type_floor(info: TypeInfo, rule: ColumnRule | None) -> float:
    """The smallest value an ordered column may take."""
    lo = -1e300
    if info.int_range is not None:
        lo = float(info.int_range[0])
    if info.kind == "numeric" and info.precision is not None:
        lo = -(10.0 ** (info.precision - (info.scale or 0)) - unit_of(info))
    if rule is not None and rule.lower is not None:
        probe = Ordered(info.kind, [0.0, 1.0], unit_of(info), None, scale=info.scale or 0)
        low = probe.parse(rule.lower.value)
        if low is not None:
            lo = max(lo, low if rule.lower.inclusive else low + unit_of(info))
    return lo


def _text(column: Column, info: TypeInfo, rule: ColumnRule | None, offset: int) -> Space:
    space = _meaningful_text(column, info, rule, offset)
    if rule is not None and rule.patterns:
        return Patterned(space, list(rule.patterns))
    return space


def _meaningful_text(column: Column, info: TypeInfo, rule: ColumnRule | None, offset: int) -> Space:
    meaning = meanings.meaning_of(column.name)
    max_length = info.max_length
    width = None
    if column.stats is not None and column.stats.avg_width:
        width = max(int(column.stats.avg_width) - 1, 1)
    if rule is not None:
        if rule.max_length is not None:
            max_length = min(max_length or rule.max_length, rule.max_length)
        if rule.min_length is not None and rule.min_length > 3:
            meaning, width = None, max(width or 0, rule.min_length + 2)
    code = code_of(column.stats.bounds) if column.stats and column.stats.bounds else None
    if code is not None and not (rule is not None and rule.patterns):
        assert column.stats is not None and column.stats.bounds is not None
        numbers = [code.number(str(b)) for b in column.stats.bounds]
        bounds = [n for n in numbers if n is not None]
        if len(bounds) >= 2 and bounds[-1] > bounds[0]:
            # The first and last bounds are the column's min and max: codes stay inside.
            size = int(bounds[-1] - bounds[0]) + 1
            return Ordered("code", bounds, 1.0, size, code=code)
    if meaning == "country" and max_length in (2, 3):
        return Listed(meanings.country_codes(max_length))
    if meaning == "currency" and max_length == 3:
        return Listed(meanings.base_pool("currency"))
    return Text(meaning, offset, max_length, width, fixed=info.fixed_length)


def space_for(
    column: Column, info: TypeInfo, rule: ColumnRule | None, offset: int
) -> Space | Unsupported:
    """The space a column's non-MCV values come from."""
    if rule is not None and rule.allowed is not None:
        numeric = info.kind in _NUMERIC_KINDS
        allowed = [v for v in rule.allowed if admits(rule, v, numeric=numeric)]
        return Listed([copy_escape(v) for v in allowed])
    if info.array:
        element = space_for(column, _element(info), None, offset)
        if isinstance(element, Unsupported):
            return element
        return Array(element)
    kind = info.kind
    if kind in ORDERED_KINDS:
        return _ordered(column, info, rule)
    if kind == "text":
        return _text(column, info, rule, offset)
    if kind == "bool":
        return Listed(["f", "t"])
    if kind == "enum":
        return Listed([copy_escape(label) for label in info.labels])
    if kind == "uuid":
        return Uuid(offset)
    if kind == "geometry":
        return Geometry(info.base, info.typmod)
    if kind == "vector":
        return Vector(info.typmod)
    if kind in _STRUCTURED:
        shape = rule.json_type if rule is not None and kind == "json" else None
        if shape == "none":
            return Unsupported("its CHECKs ask for two different JSON types at once")
        size = {"boolean": 2, "null": 1}.get(shape or "")
        return Structured(kind, info.base, offset % 4096, size=size, shape=shape)
    return Unsupported(f"type {info.declared!r} is not supported by the generator")


def _element(info: TypeInfo) -> TypeInfo:
    return TypeInfo(
        declared=info.declared.removesuffix("[]"),
        base=info.base,
        kind=info.kind,
        max_length=info.max_length,
        precision=info.precision,
        scale=info.scale,
        int_range=info.int_range,
        labels=info.labels,
    )
