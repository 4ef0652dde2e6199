"""What a severity rule is, and small helpers to write one in a few lines.

A rule has a name, a key pattern (see :mod:`repro.diff.paths`: ``*`` is one key, ``**`` any
number), the kinds it applies to, and an ``assess`` function returning an
:class:`Assessment` (severity + one-line hint) — or None to let the next rule try. Rules are
tried in registry order; the first assessment wins, and the registry ends with catch-alls, so
every change gets one.

An assessment with ``hide=True`` marks a known-harmless change (statistics within tolerance):
it goes to ``result.ignored`` with the hint as the reason instead of being reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from repro.diff.model import KINDS, MISSING, Change, Kind, Severity
from repro.diff.paths import KeyPattern
from repro.diff.values import show

SideName = Literal["left", "right"]


class Context(Protocol):
    """What a rule may look at besides the change itself (implemented by the engine)."""

    @property
    def left_label(self) -> str: ...

    @property
    def right_label(self) -> str: ...

    def value(self, side: SideName, keys: Iterable[str]) -> Any:
        """The value at ``keys`` in that side's facet data, or MISSING."""
        ...

    def list_delta(self, left: Any, right: Any) -> tuple[list[Any], list[Any]]:
        """Items only in the left list and only in the right list (as multisets)."""
        ...


@dataclass(frozen=True)
class Assessment:
    severity: Severity
    hint: str
    hide: bool = False
    detail: str | None = None  # lines shown under the hint (a unified diff of definitions)


AssessFn = Callable[[Change, Context], Assessment | None]


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str
    assess: AssessFn
    kinds: frozenset[Kind] = frozenset(KINDS)
    matcher: KeyPattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", KeyPattern(self.pattern))

    @property
    def facet(self) -> str | None:
        return self.matcher.facet

    def applies(self, change: Change) -> bool:
        return change.kind in self.kinds and self.matcher.matches(change.facet, change.keys)


def describe(change: Change, ctx: Context) -> str:
    """The default hint: what is where, with labels instead of left/right."""
    if change.kind == "only_in_prod":
        return f"only in {ctx.left_label}: {show(change.left)}"
    if change.kind == "only_in_staging":
        return f"only in {ctx.right_label}, missing in {ctx.left_label}: {show(change.right)}"
    if change.kind == "incomparable":
        return change.reason or "cannot be compared"
    return f"{ctx.left_label} {show(change.left)} vs {ctx.right_label} {show(change.right)}"


def fields(change: Change, ctx: Context) -> dict[str, str]:
    """Names usable in hint templates."""
    return {
        "L": ctx.left_label,
        "R": ctx.right_label,
        "name": change.name,
        "parent": change.keys[-2] if len(change.keys) > 1 else change.facet,
        "left": show(change.left),
        "right": show(change.right),
        "path": change.path,
        "default": describe(change, ctx),
    }


def hint_from(template: str | None, change: Change, ctx: Context) -> str:
    if template is None:
        return describe(change, ctx)
    return template.format(**fields(change, ctx))


def fixed(
    severity: Severity | Mapping[Kind, Severity], hint: str | Mapping[Kind, str] | None = None
) -> AssessFn:
    """A constant severity (or one per kind) and a hint template (``{L}``, ``{R}``,
    ``{name}``, ``{parent}``, ``{left}``, ``{right}``, ``{path}``, ``{default}``)."""

    def assess(change: Change, ctx: Context) -> Assessment | None:
        level = severity if isinstance(severity, str) else severity.get(change.kind)
        if level is None:
            return None
        template = hint if hint is None or isinstance(hint, str) else hint.get(change.kind)
        return Assessment(level, hint_from(template, change, ctx))

    return assess


def kinds(*names: Kind) -> frozenset[Kind]:
    return frozenset(names)


def present(value: Any) -> bool:
    return value is not MISSING


def differs(
    severity: Severity, subject: Callable[[tuple[str, ...]], str], what: str | None = None
) -> AssessFn:
    """ "<subject> <what>: prod X vs staging Y" at a constant severity."""

    def assess(change: Change, ctx: Context) -> Assessment:
        return Assessment(
            severity,
            f"{subject(change.keys)} {what or change.name}: {ctx.left_label} "
            f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
        )

    return assess
