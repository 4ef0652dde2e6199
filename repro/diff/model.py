"""What a diff produces: discrepancies between a reference side ("prod") and another side.

Paths
-----
A discrepancy's *path* is the facet name followed by the map keys leading to the value, joined
with ``.`` and written verbatim (no quoting), e.g. ``env.vars.FEATURE_NEW_CHECKOUT``,
``database.tables.public.users.columns.email.nullable`` or
``files.paths./etc/app/settings.yaml.mode``. Keys may themselves contain dots
(``public.users``), so the path is for people and globs; ``keys`` holds the exact key tuple
for programs. Lists are never descended into: a list is one value, so no path ever contains a
list position.

Values are as captured, except one case: when one side holds a fingerprint and the other a
plain value, the plain one is replaced by ``{"withheld": true}`` and the discrepancy is
*incomparable* — one side calling it a secret means the other side's capture probably missed
one, and a report must not print it.

Kinds are fixed names whatever the profiles are called: the left side is the reference
("prod"), so ``only_in_prod`` means "only on the left". Human text uses the snapshots' profile
names (``left_label``/``right_label``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}

Kind = Literal["only_in_prod", "only_in_staging", "changed", "incomparable"]
KINDS: tuple[Kind, ...] = ("only_in_prod", "changed", "only_in_staging", "incomparable")

IgnoredBy = Literal["builtin", "profile", "waiver", "rule", "folded"]


class Missing:
    """The value on the side where a key does not exist (distinct from a JSON null)."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = Missing()


def rank(severity: str) -> int:
    return SEVERITY_RANK[severity]


def join_path(facet: str, keys: tuple[str, ...]) -> str:
    return ".".join((facet, *keys))


@dataclass(frozen=True, slots=True)
class Change:
    """A raw difference found by the walk, before any rule judged it."""

    facet: str
    keys: tuple[str, ...]
    kind: Kind
    left: Any  # MISSING for only_in_staging
    right: Any  # MISSING for only_in_prod
    reason: str = ""  # for incomparable: why
    folded: tuple[str, ...] = ()  # paths of knock-on changes this one causes (repro.diff.fold)

    @property
    def path(self) -> str:
        return join_path(self.facet, self.keys)

    @property
    def name(self) -> str:
        """The last key (a variable, setting, package, column... name); the facet if none."""
        return self.keys[-1] if self.keys else self.facet


@dataclass(frozen=True, slots=True)
class Discrepancy:
    facet: str
    keys: tuple[str, ...]
    kind: Kind
    left: Any
    right: Any
    severity: Severity
    rule: str
    hint: str
    note: str | None = None  # e.g. "waiver expired on 2025-01-31: <reason>"
    detail: str | None = None  # lines under the hint: a unified diff of two definitions
    folded: tuple[str, ...] = ()  # paths of the knock-on changes it includes

    @property
    def path(self) -> str:
        return join_path(self.facet, self.keys)

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (-rank(self.severity), self.facet, self.path)

    def with_note(self, note: str) -> Discrepancy:
        return replace(self, note=note)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "facet": self.facet,
            "path": self.path,
            "keys": list(self.keys),
            "kind": self.kind,
            "left": None if self.left is MISSING else self.left,
            "right": None if self.right is MISSING else self.right,
            "rule": self.rule,
            "hint": self.hint,
        }
        if self.note:
            out["note"] = self.note
        if self.detail:
            out["detail"] = self.detail
        if self.folded:
            out["includes"] = list(self.folded)
        return out


@dataclass(frozen=True, slots=True)
class Ignored:
    """A discrepancy hidden by noise control, and why (shown with ``--show-ignored``)."""

    discrepancy: Discrepancy
    by: IgnoredBy
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.discrepancy.to_json(), "ignored_by": self.by, "ignored_because": self.reason}


@dataclass(frozen=True)
class Side:
    """Provenance of one snapshot, as shown in reports."""

    label: str
    profile: str
    captured_at: str
    source: str | None
    key_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "label": self.label,
            "captured_at": self.captured_at,
            "source": self.source,
        }


FacetOutcome = Literal["equal", "different", "incomparable", "not_captured"]


@dataclass(frozen=True)
class FacetState:
    """How one facet compared: statuses on both sides and the overall outcome."""

    name: str
    left_status: str | None  # None: the facet is absent from that snapshot
    right_status: str | None
    outcome: FacetOutcome


@dataclass
class DiffResult:
    left: Side
    right: Side
    discrepancies: list[Discrepancy]
    ignored: list[Ignored] = field(default_factory=list)
    facets: dict[str, FacetState] = field(default_factory=dict)
    below_threshold: int = 0  # discrepancies dropped by a min_severity filter
    # Small facts the fix script needs beyond the discrepancies (the right side's package
    # manager and interpreter); not part of the JSON format.
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def incomparable_facets(self) -> list[str]:
        return sorted(n for n, s in self.facets.items() if s.outcome == "incomparable")

    def filtered(self, min_severity: str) -> DiffResult:
        """Only discrepancies at or above ``min_severity``. Incomparable ones always stay: a
        filter must never make something that was not captured look equal."""
        floor = rank(min_severity)
        kept = [
            d for d in self.discrepancies if d.kind == "incomparable" or rank(d.severity) >= floor
        ]
        return replace(
            self,
            discrepancies=kept,
            below_threshold=self.below_threshold + len(self.discrepancies) - len(kept),
        )
