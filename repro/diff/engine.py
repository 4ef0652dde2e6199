"""The diff engine: two snapshots in, ranked discrepancies out. No I/O, no clock.

How it works, and why it is fast:

1. Per facet, statuses first: a facet that is absent, failed or skipped on one side is one
   *incomparable* discrepancy and is not walked — "not captured" must never read as "equal".
   A partial facet is incomparable too, and what it did capture is still compared.
2. A keyed walk over the two data trees. At every map, equal children are skipped with one
   ``==`` (a C-level deep comparison), so only differing branches are visited in Python: two
   snapshots with 10,000 packages and 1,000 tables that differ in 2% cost milliseconds.
   Keys present on one side only are reported once, at the highest missing key.
3. Redacted values compare by fingerprint (and masked URL); fingerprints made with different
   key ids are incomparable.
4. Noise control (:mod:`repro.diff.noise`): a change on the built-in ignore list is set
   aside unjudged; any other is judged by the first matching rule (:mod:`repro.diff.rules`),
   which may call it harmless; then profile ignores and waivers apply. Whatever is hidden
   lands in ``result.ignored`` with the reason.

deepdiff is imported here only, and only lazily, to compare lists whose items are not
hashable: importing it costs about half a second, more than the rest of a diff.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from repro.diff.fold import fold_database
from repro.diff.model import (
    MISSING,
    Change,
    DiffResult,
    Discrepancy,
    FacetState,
    Ignored,
    Side,
)
from repro.diff.noise import BUILTIN_IGNORES, IgnoreRule, Noise, Waiver
from repro.diff.paths import PatternIndex
from repro.diff.rules import DEFAULT_RULES
from repro.diff.rules.base import Assessment, Rule, SideName
from repro.diff.scope import SchemaScope
from repro.diff.shapes import EMPTY, SHAPES, Shape
from repro.redacted import fingerprint_key_id, is_redacted
from repro.snapshot.file import FacetResult, Snapshot

DEFAULT_LEFT_LABEL = "prod"
DEFAULT_RIGHT_LABEL = "staging"
KEY_MISMATCH = (
    "fingerprints made with different keys; set REPRO_REDACTION_KEY to the same team key on "
    "both sides"
)
MAX_PROBLEMS_SHOWN = 3
# Builtin noise is not judged by rules (see diff_snapshots); its reason says why it is hidden.
_NOISE = Assessment("info", "not judged: noise by nature (see why it is ignored)")
_FOLDED = Assessment("info", "not judged: a knock-on of another difference (see which)")
# Stands in for a plain value whose counterpart was fingerprinted (see compare_secret).
WITHHELD: dict[str, Any] = {"withheld": True}


def labels_for(left: Snapshot, right: Snapshot) -> tuple[str, str]:
    """Profile names, so reports say "only in prod"; distinct even for two snapshots of one
    profile."""
    left_label = left.profile or DEFAULT_LEFT_LABEL
    right_label = right.profile or DEFAULT_RIGHT_LABEL
    if left_label == right_label:
        return f"{left_label} (left)", f"{right_label} (right)"
    return left_label, right_label


def diff_snapshots(
    left: Snapshot,
    right: Snapshot,
    *,
    rules: Sequence[Rule] = DEFAULT_RULES,
    ignore: Sequence[str] = (),
    waivers: Sequence[Waiver] = (),
    today: date,
    builtin_ignores: Sequence[IgnoreRule] = BUILTIN_IGNORES,
    left_label: str | None = None,
    right_label: str | None = None,
    schemas: SchemaScope | None = None,
) -> DiffResult:
    """Compare ``left`` (the reference, "prod") with ``right`` ("staging").

    ``ignore`` are path globs (the profile's ``ignore``); ``waivers`` hide matching
    discrepancies until they expire (``today`` decides, so the result is reproducible);
    ``schemas`` limits the database facet to those schemas.
    """
    default_left, default_right = labels_for(left, right)
    labels = (left_label or default_left, right_label or default_right)
    judge = _Judge(rules)
    noise = Noise(builtin_ignores, ignore, waivers, today)
    shown: list[Discrepancy] = []
    hidden: list[Ignored] = []
    states: dict[str, FacetState] = {}
    for name in sorted(set(left.facets) | set(right.facets)):
        changes, state, context, folded = _compare_facet(
            name, left.facets.get(name), right.facets.get(name), labels, schemas
        )
        states[name] = state
        for change, why in folded:
            hidden.append(Ignored(_discrepancy(change, _FOLDED, "fold"), "folded", why))
        for change in changes:
            noise_reason = noise.builtin(change)
            if noise_reason is not None:
                # Noise by nature (per-host paths, sampling details): not worth judging, and
                # most of a large diff between prod and test data is exactly this.
                item = _discrepancy(change, _NOISE, "noise.builtin")
                hidden.append(Ignored(item, "builtin", noise_reason))
                continue
            discrepancy, assessment = judge.judge(change, context)
            if assessment.hide:
                hidden.append(
                    Ignored(discrepancy, "rule", f"{discrepancy.rule}: {assessment.hint}")
                )
                continue
            verdict = noise.classify(discrepancy)
            if isinstance(verdict, Ignored):
                hidden.append(verdict)
            else:
                shown.append(verdict)
    shown.sort(key=lambda d: d.sort_key)
    hidden.sort(key=lambda i: i.discrepancy.sort_key)
    return DiffResult(
        left=_side(left, labels[0]),
        right=_side(right, labels[1]),
        discrepancies=shown,
        ignored=hidden,
        facets=states,
        facts=_facts(left, right),
    )


def _facts(left: Snapshot, right: Snapshot) -> dict[str, Any]:
    """Where the fix script will run (the right side), falling back to the left side."""
    facts: dict[str, Any] = {}
    for snapshot in (left, right):  # right last: it wins
        packages = snapshot.facets.get("packages")
        data = packages.data if packages is not None else {}
        os_section, python = data.get("os"), data.get("python")
        manager = os_section.get("manager") if isinstance(os_section, dict) else None
        interpreter = python.get("interpreter") if isinstance(python, dict) else None
        if isinstance(manager, str):
            facts["os_manager"] = manager
        if isinstance(interpreter, str):
            facts["python"] = interpreter
    return facts


def _side(snapshot: Snapshot, label: str) -> Side:
    key_id = snapshot.redaction.get("key_id")
    return Side(
        label=label,
        profile=snapshot.profile,
        captured_at=snapshot.captured_at,
        source=snapshot.source,
        key_id=str(key_id) if key_id else None,
    )


# --- facet statuses ------------------------------------------------------------------------


def _describe_status(result: FacetResult, label: str) -> str:
    if result.status == "partial":
        problems = list(result.problems) or ([result.message] if result.message else [])
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        detail = f"{shown} (+{more} more)" if more > 0 else shown
        return f"partial in {label}" + (f": {detail}" if detail else "")
    text = f"{result.status} in {label}"
    return f"{text}: {result.message}" if result.message else text


def _compare_facet(
    name: str,
    left: FacetResult | None,
    right: FacetResult | None,
    labels: tuple[str, str],
    schemas: SchemaScope | None = None,
) -> tuple[list[Change], FacetState, _FacetContext, list[tuple[Change, str]]]:
    left_status = left.status if left is not None else None
    right_status = right.status if right is not None else None
    left_data = left.data if left is not None else {}
    right_data = right.data if right is not None else {}
    if name == "database" and schemas is not None and not schemas.everything:
        left_data, right_data = schemas.apply(left_data), schemas.apply(right_data)
    context = _FacetContext(labels, left_data, right_data)

    def state(outcome: Any) -> FacetState:
        return FacetState(name, left_status, right_status, outcome)

    captured = [s for s in (left_status, right_status) if s not in (None, "skipped")]
    if not captured:
        # Skipped (or absent) on both sides: the profiles chose not to capture it.
        return [], state("not_captured"), context, []
    if left is None or right is None:
        missing = labels[0] if left is None else labels[1]
        reason = f"not captured in {missing} (facet absent from its snapshot)"
        return (
            [Change(name, (), "incomparable", MISSING, MISSING, reason)],
            state("incomparable"),
            context,
            [],
        )

    reasons = [
        _describe_status(result, label)
        for result, label in ((left, labels[0]), (right, labels[1]))
        if result.status != "ok"
    ]
    changes: list[Change] = []
    if reasons:
        changes.append(
            Change(name, (), "incomparable", left.status, right.status, "; ".join(reasons))
        )
    if left.status in ("error", "skipped") or right.status in ("error", "skipped"):
        return changes, state("incomparable"), context, []

    walker = _Walker(name, SHAPES.get(name, EMPTY), labels)
    walker.walk((), left_data, right_data)
    partial = {labels[0]: left.status == "partial", labels[1]: right.status == "partial"}
    context.partial = partial
    found, folded = walker.changes, []
    if name == "database" and found:
        fold = fold_database(found, left_data, right_data, labels)
        found, folded = fold.changes, fold.folded
    changes.extend(found)
    outcome = "incomparable" if reasons else ("different" if walker.changes else "equal")
    return changes, state(outcome), context, folded


# --- the walk ------------------------------------------------------------------------------


class _Walker:
    __slots__ = ("changes", "facet", "labels", "shape")

    def __init__(self, facet: str, shape: Shape, labels: tuple[str, str]) -> None:
        self.facet = facet
        self.shape = shape
        self.labels = labels
        self.changes: list[Change] = []

    def walk(self, keys: tuple[str, ...], left: dict[str, Any], right: dict[str, Any]) -> None:
        facet, out = self.facet, self.changes
        for key, lv in left.items():
            rv = right.get(key, MISSING)
            if rv is MISSING:
                out.append(Change(facet, (*keys, key), "only_in_prod", lv, MISSING))
            elif lv != rv or type(lv) is not type(rv):
                self.compare((*keys, key), lv, rv)
        for key, rv in right.items():
            if key not in left:
                out.append(Change(facet, (*keys, key), "only_in_staging", MISSING, rv))

    def compare(self, keys: tuple[str, ...], left: Any, right: Any) -> None:
        if is_redacted(left) or is_redacted(right):
            self.compare_secret(keys, left, right)
            return
        if isinstance(left, dict) and isinstance(right, dict):
            if self._error_node(keys, left, right) or self._presence(keys, left, right):
                return
            if not any(p.matches(self.facet, keys) for p in self.shape.atomic):
                self.walk(keys, left, right)
                return
        elif _same_scalar(left, right):
            return
        self.changes.append(Change(self.facet, keys, "changed", left, right))

    def compare_secret(self, keys: tuple[str, ...], left: Any, right: Any) -> None:
        if is_redacted(left) and is_redacted(right):
            left_key, right_key = fingerprint_key_id(left), fingerprint_key_id(right)
            if left_key != right_key:
                self.changes.append(
                    Change(self.facet, keys, "incomparable", left, right, KEY_MISMATCH)
                )
                return
            if left.get("fingerprint") != right.get("fingerprint") or left.get(
                "masked"
            ) != right.get("masked"):
                self.changes.append(Change(self.facet, keys, "changed", left, right))
            return
        # A fingerprint against a plain value. An empty or null one is shown: it holds
        # nothing. Any other is withheld: that one side fingerprinted it says it is likely a
        # secret the other side's capture did not recognise, and a report must not print it.
        plain = right if is_redacted(left) else left
        if plain is None or plain == "":
            self.changes.append(Change(self.facet, keys, "changed", left, right))
            return
        plain_label = self.labels[1] if plain is right else self.labels[0]
        secret_label = self.labels[0] if plain is right else self.labels[1]
        reason = (
            f"fingerprinted in {secret_label} only; {plain_label}'s value is withheld (likely a "
            f"secret its capture did not recognise: list the name in {plain_label}'s profile "
            "secrets)"
        )
        shown_left = WITHHELD if plain is left else left
        shown_right = WITHHELD if plain is right else right
        self.changes.append(
            Change(self.facet, keys, "incomparable", shown_left, shown_right, reason)
        )

    def _error_node(
        self, keys: tuple[str, ...], left: dict[str, Any], right: dict[str, Any]
    ) -> bool:
        if "error" not in left and "error" not in right:
            return False
        if not any(p.matches(self.facet, keys) for p in self.shape.error_nodes):
            return False
        unread = [
            f"{label} ({side['error']})"
            for side, label in ((left, self.labels[0]), (right, self.labels[1]))
            if "error" in side
        ]
        reason = "could not be read in " + " nor in ".join(unread)
        self.changes.append(Change(self.facet, keys, "incomparable", left, right, reason))
        return True

    def _presence(self, keys: tuple[str, ...], left: dict[str, Any], right: dict[str, Any]) -> bool:
        for pattern, flag in self.shape.presence:
            if left.get(flag) != right.get(flag) and pattern.matches(self.facet, keys):
                self.changes.append(
                    Change(self.facet, (*keys, flag), "changed", left.get(flag), right.get(flag))
                )
                return True
        return False


def _same_scalar(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and math.isnan(left) and math.isnan(right):
        return True
    return bool(left == right)


# --- judging -------------------------------------------------------------------------------


class _FacetContext:
    """The :class:`repro.diff.rules.base.Context` of one facet."""

    def __init__(
        self, labels: tuple[str, str], left: dict[str, Any], right: dict[str, Any]
    ) -> None:
        self._labels = labels
        self._data = {"left": left, "right": right}
        self.partial: dict[str, bool] = {}

    @property
    def left_label(self) -> str:
        return self._labels[0]

    @property
    def right_label(self) -> str:
        return self._labels[1]

    def value(self, side: SideName, keys: Iterable[str]) -> Any:
        node: Any = self._data[side]
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return MISSING
            node = node[key]
        return node

    def list_delta(self, left: Any, right: Any) -> tuple[list[Any], list[Any]]:
        return list_delta(left, right)


def list_delta(left: Any, right: Any) -> tuple[list[Any], list[Any]]:
    """Items only in ``left`` and only in ``right``, as multisets (order ignored)."""
    left_items = left if isinstance(left, list) else []
    right_items = right if isinstance(right, list) else []
    try:
        lc, rc = Counter(left_items), Counter(right_items)
    except TypeError:
        return _deep_list_delta(left_items, right_items)
    return sorted_items(lc - rc), sorted_items(rc - lc)


def sorted_items(counter: Counter[Any]) -> list[Any]:
    items = list(counter.elements())
    try:
        return sorted(items)
    except TypeError:
        return items


def _deep_list_delta(left: list[Any], right: list[Any]) -> tuple[list[Any], list[Any]]:
    """Unhashable items (maps inside lists): deepdiff's content hash stands in for ``hash``."""
    from deepdiff import DeepHash  # lazy: see the module docstring

    def content_hash(item: Any) -> str:
        return str(DeepHash(item)[item])

    by_hash: dict[str, Any] = {}
    counts: list[Counter[str]] = []
    for items in (left, right):
        counter: Counter[str] = Counter()
        for item in items:
            digest = content_hash(item)
            by_hash.setdefault(digest, item)
            counter[digest] += 1
        counts.append(counter)
    only_left = [by_hash[h] for h in (counts[0] - counts[1]).elements()]
    only_right = [by_hash[h] for h in (counts[1] - counts[0]).elements()]
    return only_left, only_right


class _Judge:
    """Applies the first matching rule, trying only the rules whose pattern can match."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._index = PatternIndex([(rule.matcher, rule) for rule in rules])

    def judge(self, change: Change, context: _FacetContext) -> tuple[Discrepancy, Assessment]:
        for pattern, rule in self._index.candidates(change.facet, change.keys):
            if change.kind not in rule.kinds or not pattern.matches(change.facet, change.keys):
                continue
            assessment = rule.assess(change, context)
            if assessment is None:
                continue
            return _discrepancy(change, assessment, rule.name, context), assessment
        raise LookupError(f"no rule judged {change.path} (the rule list needs a catch-all)")


def _discrepancy(
    change: Change, assessment: Assessment, rule: str, context: _FacetContext | None = None
) -> Discrepancy:
    hint = assessment.hint + (_partial_note(change, context) if context is not None else "")
    if change.folded:
        hint += _includes(change)
    return Discrepancy(
        facet=change.facet,
        keys=change.keys,
        kind=change.kind,
        left=change.left,
        right=change.right,
        severity=assessment.severity,
        rule=rule,
        hint=hint,
        detail=assessment.detail,
        folded=change.folded,
    )


def _includes(change: Change) -> str:
    """ "(includes statistics, sequence public.t_id_seq and 3 more)": what was folded in."""
    prefix = change.path + "."
    shown = []
    for path in change.folded:
        relative = path.removeprefix(f"{change.facet}.")
        shown.append(relative.removeprefix(prefix.removeprefix(f"{change.facet}.")))
    head = ", ".join(shown[:3])
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return f" (includes {head}{more})"


def _partial_note(change: Change, context: _FacetContext) -> str:
    """ "Only in prod" from a partial staging capture may just be "not captured there"."""
    if change.kind == "only_in_prod" and context.partial.get(context.right_label):
        return f" ({context.right_label} capture was partial: maybe just not captured there)"
    if change.kind == "only_in_staging" and context.partial.get(context.left_label):
        return f" ({context.left_label} capture was partial: maybe just not captured there)"
    return ""
