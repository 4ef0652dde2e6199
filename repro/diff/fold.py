"""One discrepancy per cause: knock-on changes of the database facet, folded into their cause.

The walk reports every key that differs. Many differ only because something else does, and
reporting each of them buries the cause (on one real pair, 133 of 314 discrepancies were such
echoes) and inflates severities. Folded here, before any rule judges them:

- an object on one side only (a table, a view, a role) carries what it holds: a table its
  partitions, its statistics, the sequences its columns own, its extended statistics and
  publication memberships; a role its privileges, default privileges, user mappings, the
  memberships others have in it and the objects it owns;
- a column on one side only carries its statistics and owned sequence, the same column on
  every partition and inheritance child, the constraints and indexes on it alone, and the
  positions of the columns after it (when the other columns keep their order);
- a column's identity carries the identity sequence (and the default it replaces); a
  column's default that draws from a sequence on one side only carries that sequence;
- a partition attached on one side only (``partition_of``) carries its bound and the
  ``inherited`` and ``parent_index`` flags of its members; a constraint, index or trigger
  cloned onto partitions is folded into the parent's;
- statistics of a table never analyzed on one side are one "not analyzed" change, not one
  per column and number (on both sides: nothing to compare, hidden);
- parts of the data a side's older repro did not capture (new sections and fields) are one
  *incomparable* change, not hundreds of "only in".

Folded changes go to ``result.ignored`` (by ``folded``, naming their cause); the cause lists
their paths in ``folded``. Incomparable changes are never folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from repro.diff.model import MISSING, Change, Kind, join_path
from repro.snapshot.db.sections import RETIRED, SINCE_PRIVILEGES

ONE_SIDE: tuple[Kind, ...] = ("only_in_prod", "only_in_staging")
# Fields of every entry of these sections that a capture before per-object privileges did not
# write (its sections: repro.snapshot.db.sections).
FIELDS_SINCE_PRIVILEGES = {
    "tables": frozenset({"privileges", "rules", "replica_identity", "access_method", "tablespace"}),
    "views": frozenset({"privileges", "rules", "tablespace"}),
    "sequences": frozenset({"privileges"}),
    "functions": frozenset({"privileges"}),
    "schemas": frozenset({"privileges"}),
    "enums": frozenset({"privileges"}),
    "domains": frozenset({"privileges"}),
    "composite_types": frozenset({"privileges"}),
    "range_types": frozenset({"privileges"}),
    "database": frozenset({"privileges"}),
}
MEMBERS = ("constraints", "indexes", "triggers")
NOT_ANALYZED = "not analyzed"
ANALYZED = "analyzed"


@dataclass(frozen=True)
class Fold:
    """What folding did: the changes to judge, and the folded ones with what took them."""

    changes: list[Change]
    folded: list[tuple[Change, str]] = field(default_factory=list)  # (change, why)


def fold_database(
    changes: list[Change], left: dict[str, Any], right: dict[str, Any], labels: tuple[str, str]
) -> Fold:
    return _Folder(changes, left, right, labels).run()


class _Folder:
    def __init__(
        self,
        changes: list[Change],
        left: dict[str, Any],
        right: dict[str, Any],
        labels: tuple[str, str],
    ) -> None:
        self.changes = changes
        self.facet = changes[0].facet if changes else "database"
        self.data = {"only_in_prod": left, "only_in_staging": right}
        self.sides = {"left": left, "right": right}
        self.labels = labels
        self.by_keys: dict[tuple[str, ...], Change] = {c.keys: c for c in changes}
        # ("tables", T, "columns" | "constraints"...) -> the members' changes there (keys of 4),
        # and ("tables", T) -> every change below that table: lookups without rescanning.
        self.members: dict[tuple[str, ...], list[Change]] = {}
        self.below: dict[tuple[str, ...], list[Change]] = {}
        for change in changes:
            if change.keys[0] == "tables" and len(change.keys) > 2:
                self.below.setdefault(change.keys[:2], []).append(change)
                if len(change.keys) == 4:
                    self.members.setdefault(change.keys[:3], []).append(change)
        self.cause_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # folded -> cause keys
        self.synthetic: list[Change] = []
        self.dropped: list[tuple[Change, str]] = []

    # --- bookkeeping ---------------------------------------------------------------------

    def change(self, keys: tuple[str, ...], kind: Kind | None = None) -> Change | None:
        found = self.by_keys.get(keys)
        if found is None or found.kind == "incomparable" or (kind and found.kind != kind):
            return None
        return found

    def absorb(self, cause: tuple[str, ...], keys: tuple[str, ...]) -> None:
        """``keys`` (a change) is folded into ``cause`` (unless it is the cause itself or
        already folded elsewhere); what ``keys`` had folded moves along."""
        root = self._root(cause)
        if keys == root or keys in self.cause_of or keys not in self.by_keys:
            return
        self.cause_of[keys] = root  # what ``keys`` had taken now resolves to ``root``

    def _root(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        while keys in self.cause_of:
            keys = self.cause_of[keys]
        return keys

    def of_kind(self, *kinds: Kind) -> Iterator[Change]:
        for change in list(self.changes):
            if change.kind in kinds:
                yield change

    # --- the folds -----------------------------------------------------------------------

    def run(self) -> Fold:
        self.older_capture()
        self.not_analyzed()
        self.objects()
        self.columns()
        self.identity()
        self.attachment()
        self.cloned_members()
        self.positions()
        self.roles()
        return self._result()

    def older_capture(self) -> None:
        """Parts one side's (older) capture did not write: one incomparable change. A part
        missing from a current capture could not be read there: the facet is partial and
        says why, so those changes are only hidden."""
        current = {side: "default_privileges" in data for side, data in self.sides.items()}
        missing_in = {"only_in_prod": "right", "only_in_staging": "left"}
        older: list[Change] = []
        for change in self.of_kind(*ONE_SIDE):
            keys = change.keys
            fields = FIELDS_SINCE_PRIVILEGES.get(keys[0], frozenset())
            if not (
                (len(keys) == 1 and keys[0] in SINCE_PRIVILEGES | RETIRED)
                or (len(keys) == 3 and keys[0] != "database" and keys[2] in fields)
                or (len(keys) == 2 and keys[0] == "database" and keys[1] in fields)
            ):
                continue
            if keys[0] in RETIRED or not current[missing_in[change.kind]]:
                older.append(change)
            else:
                label = self.labels[0 if missing_in[change.kind] == "left" else 1]
                self.dropped.append(
                    (change, f"not read in {label} (its capture is partial: see its problems)")
                )
                self.cause_of[change.keys] = ("(dropped)",)
        if current["left"] != current["right"]:
            # Effective privileges of two roles against declared ones: not comparable.
            older += [
                c
                for c in self.changes
                if c.keys[:1] == ("schemas",) and "privileges" in c.keys and c not in older
            ]
        if not older:
            return
        labels = [
            label
            for side, label in zip(("left", "right"), self.labels, strict=True)
            if not current[side]
        ]
        names = sorted({".".join(c.keys[:1] if len(c.keys) < 3 else (c.keys[0], "*", c.keys[2]))
                        for c in older})  # fmt: skip
        reason = (
            f"captured by an older repro in {' and '.join(labels) or 'one side'}: "
            f"{', '.join(names[:6])}{' and more' if len(names) > 6 else ''} not captured "
            "there, so not compared (snapshot both sides with this repro)"
        )
        cause = Change(self.facet, ("capture",), "incomparable", MISSING, MISSING, reason)
        self._synthesize(cause, older)

    def not_analyzed(self) -> None:
        """A table whose statistics were never gathered on a side has none to compare."""
        left_stats = _map(self.sides["left"], "statistics")
        right_stats = _map(self.sides["right"], "statistics")
        by_table: dict[str, list[Change]] = {}
        for change in self.changes:
            if change.keys[0] == "statistics" and len(change.keys) > 2:
                by_table.setdefault(change.keys[1], []).append(change)
        for table, changes in by_table.items():
            if table not in left_stats or table not in right_stats:
                continue
            states = (_analyzed(left_stats[table]), _analyzed(right_stats[table]))
            if all(states):
                continue
            if not any(states):
                reason = "statistics: never analyzed on either side, nothing to compare"
                self.dropped += [(c, reason) for c in changes]
                for c in changes:
                    self.cause_of[c.keys] = ("(dropped)",)
                continue
            cause = Change(
                self.facet,
                ("statistics", table),
                "changed",
                ANALYZED if states[0] else NOT_ANALYZED,
                ANALYZED if states[1] else NOT_ANALYZED,
            )
            self._synthesize(cause, changes)

    def objects(self) -> None:
        """Tables and views on one side only carry their partitions, statistics, owned
        sequences, extended statistics and publication memberships."""
        for change in self.of_kind(*ONE_SIDE):
            if len(change.keys) != 2 or change.keys[0] not in ("tables", "views"):
                continue
            if change.keys in self.cause_of:
                continue
            data = self.data[change.kind]
            family = self._family(data, change.keys[1])
            for member in family:
                for keys in (("tables", member), ("statistics", member), ("grants", member)):
                    if self.change(keys, change.kind):
                        self.absorb(change.keys, keys)
            for name, sequence in _map(data, "sequences").items():
                owner = str(_field(sequence, "owned_by") or "").rsplit(".", 1)[0]
                if owner in family and self.change(("sequences", name), change.kind):
                    self.absorb(change.keys, ("sequences", name))
            for name, stats in _map(data, "extended_statistics").items():
                statistic = ("extended_statistics", name)
                if _field(stats, "table") in family and self.change(statistic, change.kind):
                    self.absorb(change.keys, statistic)
            for name in _map(data, "publications"):
                for member in family:
                    published = ("publications", name, "tables", member)
                    if self.change(published, change.kind):
                        self.absorb(change.keys, published)

    def columns(self) -> None:
        for change in self.of_kind(*ONE_SIDE):
            keys = change.keys
            if len(keys) != 4 or keys[0] != "tables" or keys[2] != "columns":
                continue
            if keys in self.cause_of:
                continue
            table, column = keys[1], keys[3]
            data = self.data[change.kind]
            for member in self._family(data, table, inheritance=True):
                for folded in (
                    ("tables", member, "columns", column),
                    ("statistics", member, "columns", column),
                ):
                    if self.change(folded, change.kind):
                        self.absorb(keys, folded)
            self._owned_sequences(keys, data, f"{table}.{column}", (change.kind,))
        # Constraints and indexes on new columns only.
        for change in self.of_kind(*ONE_SIDE):
            keys = change.keys
            if len(keys) != 4 or keys[0] != "tables" or keys[2] not in MEMBERS[:2]:
                continue
            only = {
                c.keys[3]: c.keys
                for c in self.members.get(("tables", keys[1], "columns"), [])
                if c.kind == change.kind
            }
            entry = change.left if change.kind == "only_in_prod" else change.right
            columns = _field(entry, "columns")
            if only and isinstance(columns, list) and columns and all(c in only for c in columns):
                self.absorb(only[columns[0]], keys)

    def identity(self) -> None:
        """A column drawing from a sequence on one side only (identity, or a serial's
        nextval default): the sequence, and the default an identity replaces, follow."""
        columns: dict[tuple[str, ...], dict[str, Change]] = {}
        for change in self.of_kind("changed", *ONE_SIDE):
            keys = change.keys
            if len(keys) == 5 and keys[0] == "tables" and keys[4] in ("identity", "default"):
                columns.setdefault(keys[:4], {})[keys[4]] = change
        for column, changes in columns.items():
            cause = changes.get("identity") or changes["default"]
            for data in self.data.values():
                self._owned_sequences(cause.keys, data, f"{column[1]}.{column[3]}", ONE_SIDE)
            if cause is not changes.get("default") and "default" in changes:
                self.absorb(cause.keys, changes["default"].keys)

    def attachment(self) -> None:
        """A partition attached on one side only: its bound and inherited flags follow."""
        for change in self.of_kind("changed", *ONE_SIDE):
            keys = change.keys
            if len(keys) != 3 or keys[0] != "tables" or keys[2] != "partition_of":
                continue
            prefix = keys[:2]
            for other in self.below.get(prefix, []):
                okeys = other.keys
                if okeys == keys or other.kind == "incomparable":
                    continue
                if (
                    okeys == (*prefix, "partition_bound")
                    or (len(okeys) == 5 and okeys[4] in ("inherited", "parent_index"))
                    or (
                        len(okeys) == 4
                        and okeys[2] in MEMBERS
                        and other.kind in ONE_SIDE
                        and _inherited(other.left if other.kind == "only_in_prod" else other.right)
                    )
                ):
                    self.absorb(keys, okeys)

    def cloned_members(self) -> None:
        """A constraint, index or trigger cloned onto partitions: the parent's change."""
        for change in self.of_kind(*ONE_SIDE):
            keys = change.keys
            if len(keys) != 4 or keys[0] != "tables" or keys[2] not in MEMBERS:
                continue
            if keys in self.cause_of:
                continue
            entry = change.left if change.kind == "only_in_prod" else change.right
            if not _inherited(entry):
                continue
            data = self.data[change.kind]
            parent = _field(_map(data, "tables").get(keys[1]), "partition_of")
            cause = self._parent_member(parent, keys[2], keys[3], entry, change.kind)
            if cause is not None:
                self.absorb(cause, keys)

    def positions(self) -> None:
        """Columns after an added or removed one move: their positions follow it."""
        moved: dict[str, list[Change]] = {}
        for change in self.of_kind("changed"):
            keys = change.keys
            if len(keys) == 5 and keys[0] == "tables" and keys[4] == "position":
                moved.setdefault(keys[1], []).append(change)
        for table, changes in moved.items():
            left = _map(self.sides["left"], "tables", table, "columns")
            right = _map(self.sides["right"], "tables", table, "columns")
            common = set(left) & set(right)
            if _order(left, common) != _order(right, common):
                continue  # a real reordering
            cause = next(
                (
                    self._root(c.keys)
                    for c in self.members.get(("tables", table, "columns"), [])
                    if c.kind in ONE_SIDE
                ),
                None,
            )
            if cause is None or cause == ("(dropped)",):
                continue
            for change in changes:
                self.absorb(cause, change.keys)

    def roles(self) -> None:
        """A role on one side only carries what refers to it."""
        for change in self.changes:
            keys = change.keys
            if keys[:1] != ("roles",) or len(keys) not in (2, 3):
                continue
            if len(keys) == 2 and change.kind in ONE_SIDE:
                kind: Kind = change.kind
            elif len(keys) == 3 and keys[2] == "exists" and change.kind == "changed":
                kind = "only_in_prod" if change.left is True else "only_in_staging"
            else:
                continue
            role = keys[1]
            for other in self.changes:
                if other is change or other.kind == "incomparable":
                    continue
                if _refers_to(other, role, kind):
                    self.absorb(keys, other.keys)

    # --- helpers -------------------------------------------------------------------------

    def _family(self, data: dict[str, Any], table: str, *, inheritance: bool = False) -> list[str]:
        """The table and its partitions (and inheritance children), recursively."""
        tables = _map(data, "tables")
        family, pending = [table], [table]
        while pending:
            parent = pending.pop()
            for name, entry in tables.items():
                if name in family:
                    continue
                inherits = _field(entry, "inherits")
                if _field(entry, "partition_of") == parent or (
                    inheritance and isinstance(inherits, list) and parent in inherits
                ):
                    family.append(name)
                    pending.append(name)
        return family

    def _owned_sequences(
        self, cause: tuple[str, ...], data: dict[str, Any], column: str, kinds: Iterable[Kind]
    ) -> None:
        for name, sequence in _map(data, "sequences").items():
            if _field(sequence, "owned_by") != column:
                continue
            for kind in kinds:
                if self.change(("sequences", name), kind):
                    self.absorb(cause, ("sequences", name))

    def _parent_member(
        self, parent: Any, section: str, name: str, entry: Any, kind: Kind
    ) -> tuple[str, ...] | None:
        if not isinstance(parent, str):
            return None
        candidates = [
            c.keys for c in self.members.get(("tables", parent, section), []) if c.kind == kind
        ]
        wanted = name
        if section == "indexes" and _field(entry, "parent_index"):
            wanted = str(_field(entry, "parent_index")).split(".", 1)[-1]
        for keys in candidates:
            if keys[3] == wanted:
                return keys
        if section == "constraints" and isinstance(entry, dict):
            same_type = [
                keys for keys in candidates if _member_type(self.by_keys[keys]) == entry.get("type")
            ]
            return same_type[0] if same_type else None
        return None

    def _synthesize(self, cause: Change, parts: list[Change]) -> None:
        self.synthetic.append(cause)
        self.by_keys.setdefault(cause.keys, cause)
        for part in parts:
            if part.keys != cause.keys and part.keys not in self.cause_of:
                self.cause_of[part.keys] = cause.keys

    def _result(self) -> Fold:
        folded: dict[tuple[str, ...], list[str]] = {}
        out: list[tuple[Change, str]] = list(self.dropped)
        for change in self.changes:
            target = self.cause_of.get(change.keys)
            if target is None or target == ("(dropped)",):
                continue
            cause = self._root(target)
            folded.setdefault(cause, []).append(change.path)
            out.append((change, f"part of {join_path(self.facet, cause)}"))
        kept: list[Change] = []
        synthetic_keys = {c.keys for c in self.synthetic}
        for change in self.changes:
            if change.keys in self.cause_of or change.keys in synthetic_keys:
                continue
            kept.append(_with_folded(change, folded.get(change.keys)))
        for change in self.synthetic:
            kept.append(_with_folded(change, folded.get(change.keys)))
        return Fold(kept, out)


def _map(value: Any, *keys: str) -> dict[str, Any]:
    """The map at ``keys`` below ``value``, or an empty one: snapshots are files from other
    machines, and any level may have another shape."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _field(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else None


def _with_folded(change: Change, paths: list[str] | None) -> Change:
    return replace(change, folded=tuple(sorted(paths))) if paths else change


def _analyzed(stats: Any) -> bool:
    columns = stats.get("columns") if isinstance(stats, dict) else None
    if not isinstance(columns, dict):
        return False
    return any(isinstance(c, dict) and c.get("analyzed") is True for c in columns.values())


def _inherited(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    return bool(entry.get("inherited") or entry.get("parent_index"))


def _member_type(change: Change) -> Any:
    entry = change.left if change.kind == "only_in_prod" else change.right
    return entry.get("type") if isinstance(entry, dict) else None


def _order(columns: dict[str, Any], names: set[str]) -> list[str]:
    def position(name: str) -> float:
        value = _field(columns[name], "position")
        return float(value) if isinstance(value, int | float) else 0.0

    return sorted(names, key=lambda n: (position(n), n))


def _refers_to(change: Change, role: str, kind: Kind) -> bool:
    """A change that exists only because ``role`` exists on one side only."""
    keys = change.keys
    if change.kind == kind:
        if keys[-2:] == ("privileges", role):
            return True
        if keys[:2] == ("default_privileges", role):
            return True
        if keys[0] == "default_privileges" and len(keys) == 5 and keys[4] == role:
            return True
        if keys[0] == "user_mappings" and len(keys) == 2 and keys[1].startswith(role + "@"):
            return True
    if change.kind == "changed" and keys[-1] == "owner":
        return role in (change.left, change.right)
    if change.kind == "changed" and keys[0] == "roles" and keys[-1] == "member_of":
        left = {str(r) for r in change.left} if isinstance(change.left, list) else set()
        right = {str(r) for r in change.right} if isinstance(change.right, list) else set()
        return left ^ right == {role}
    return False
