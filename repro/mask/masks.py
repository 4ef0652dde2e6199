"""Every masked column's transformer for one copy, built before the first row is read.

From the rules; shared along foreign keys (a column referencing a masked key masks the same
way, or joins break); for columns under a unique constraint or unique index, an injective
mapping of every distinct source value (injective after ``lower()`` too, when the index is on
``lower(column)``). Before that, the source values of every column whose transformer makes
identifying values (emails, phones, ids, cards, tokens) are read as salted hashes, so that no
output is the source value of another row: a copy never shows that a real email exists.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from repro.errors import UsageError
from repro.mask import containers, transforms
from repro.mask.copy_stream import column_values, copy_text
from repro.mask.rules_file import Rules
from repro.mask.unique_mapping import UniqueMapping
from repro.pg.tables import DataModel, Table, index_columns
from repro.pg.target_db import qualified


@dataclass
class ColumnMask:
    spec: str
    transform: Callable[[str], str | None]
    source: str  # "rule" | "foreign key to T.C"


Masks = dict[tuple[str, str], ColumnMask]


def build_masks(
    model: DataModel,
    database: Mapping[str, Any],
    rules: Rules,
    key: bytes,
    conn: psycopg.Connection[Any],
) -> tuple[Masks, int]:
    """The masks of ``rules`` on ``model`` (``database``: the source's schema, for its unique
    indexes), and how many unique-column collisions were re-derived. ``conn`` reads the
    source's values (one scan per column that needs them)."""
    masks: Masks = {}
    for table_key, table_rules in rules.tables.items():
        table = model.tables[table_key]
        if table_rules.action != "copy":
            continue
        for column_name, spec in table_rules.columns.items():
            if spec == "keep":
                continue
            column = table.columns[column_name]
            built = transforms.build(
                spec,
                key=key,
                column=f"{table_key}.{column_name}",
                type_name=column.type.declared,
                max_length=column.type.max_length,
                nullable=column.nullable,
            )
            masks[(table_key, column_name)] = ColumnMask(spec, built, "rule")
    _share_along_foreign_keys(model, masks)
    unique = unique_columns(model, database)
    kept = _read_source_values(model, masks, unique, orphan_columns(database), conn)
    collisions = 0
    for ident, values in sorted(kept.items()):
        mask = masks[ident]
        mapping = UniqueMapping.build(mask.transform, values, fold=unique[ident])
        collisions += mapping.collisions_resolved
        masks[ident] = ColumnMask(mask.spec, mapping, mask.source)
    _share_along_foreign_keys(model, masks)
    return masks, collisions


def _read_source_values(
    model: DataModel,
    masks: Masks,
    unique: Mapping[tuple[str, str], Callable[[str], str] | None],
    orphans: set[tuple[str, str]],
    conn: psycopg.Connection[Any],
) -> dict[tuple[str, str], list[str]]:
    """Fill the avoid sets (one per spec: the same value masks the same way in every column
    of that spec) and return the distinct values of the unique masked columns. A column
    masked through a valid foreign key holds only its parent's values: it is not read."""
    registry: dict[str, set[int]] = {}
    for mask in masks.values():
        for leaf in containers.leaves(mask.transform):
            if (
                getattr(leaf, "leak", "") == "identifying"
                and getattr(leaf, "avoids", False)
                and getattr(leaf, "small_space", False)
            ):
                leaf.avoid = registry.setdefault(leaf.spec, set())  # type: ignore[attr-defined]
    kept: dict[tuple[str, str], list[str]] = {}
    for ident, mask in sorted(masks.items()):
        avoiding = any(
            getattr(leaf, "avoid", None) is not None for leaf in containers.leaves(mask.transform)
        )
        # a column masked through a foreign key gets its parent's mapping
        keep = ident in unique and mask.source == "rule"
        if not keep and not (avoiding and (mask.source == "rule" or ident in orphans)):
            continue
        with _source_values(conn, model.tables[ident[0]], ident[1]) as read:
            values: Iterable[str] = read
            if keep:
                values = kept[ident] = list(set(read))
            if avoiding:
                _avoid(mask.transform, values)
    return kept


def _avoid(transform: object, values: Iterable[str]) -> None:
    """Put the source's values (or their units, in a container column) in the avoid sets."""
    scalar_avoid = getattr(transform, "avoid", None)
    if not isinstance(transform, containers.Container) and scalar_avoid is not None:
        scalar_avoid.update(map(hash, values))  # a scalar column: each value is its unit
        return
    for value in values:
        for leaf, unit in containers.units(transform, value):
            avoid = getattr(leaf, "avoid", None)
            if avoid is not None:
                avoid.add(hash(unit))


def _source_values(
    conn: psycopg.Connection[Any], table: Table, column: str
) -> contextlib.AbstractContextManager[Iterator[str]]:
    # Not DISTINCT: the values land in sets here (the avoid sets, the unique mapping's), and a
    # server-side DISTINCT over a big column costs more than the duplicates it saves sending.
    query = sql.SQL("SELECT {v} FROM {t} WHERE {c} IS NOT NULL AND {c}::text <> ''").format(
        v=copy_text(column), c=sql.Identifier(column), t=qualified(table.schema, table.name)
    )
    return column_values(conn, query)


def _lower(text: str) -> str:
    return text.lower()


def _strip(text: str) -> str:
    return text.strip()


_FOLDS: tuple[tuple[re.Pattern[str], Callable[[str], str]], ...] = (
    (re.compile(r"\b(?:lower|upper)\s*\("), _lower),
    (re.compile(r"\b(?:btrim|trim|ltrim|rtrim)\s*\("), _strip),
)


def unique_columns(
    model: DataModel, database: Mapping[str, Any]
) -> dict[tuple[str, str], Callable[[str], str] | None]:
    """Columns some unique constraint or index makes unique, each with what the index
    compares when that is not the value as written (``lower(email)``: case folded)."""
    out: dict[tuple[str, str], Callable[[str], str] | None] = {
        (t.key, c): None for t in model.tables.values() for u in t.uniques for c in u.columns
    }
    tables: Mapping[str, Any] = database.get("tables") or {}
    for key, raw in tables.items():
        for index in (raw.get("indexes") or {}).values():
            if not isinstance(index, Mapping) or not index.get("unique"):
                continue
            names = index_columns(index, raw.get("columns") or {})
            for text, name in zip(index.get("columns") or (), names or (), strict=False):
                folds = [fold for pattern, fold in _FOLDS if pattern.search(str(text))]
                if folds:
                    out[(key, name)] = _compose(folds)
    return out


def _compose(folds: list[Callable[[str], str]]) -> Callable[[str], str]:
    def fold(text: str) -> str:
        for step in folds:
            text = step(text)
        return text

    return fold


def orphan_columns(database: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Columns of foreign keys the source holds NOT VALID: they may hold values their
    parent does not."""
    out: set[tuple[str, str]] = set()
    for key, raw in (database.get("tables") or {}).items():
        for con in (raw.get("constraints") or {}).values():
            fk = isinstance(con, Mapping) and con.get("type") == "foreign_key"
            if fk and con.get("validated") is False:
                out.update((key, str(c)) for c in con.get("columns") or ())
    return out


def _share_along_foreign_keys(model: DataModel, masks: Masks) -> None:
    changed = True
    while changed:  # chains: a -> b -> c
        changed = False
        for table in model.tables.values():
            for fk in table.foreign_keys:
                for child, parent in zip(fk.columns, fk.ref_columns, strict=False):
                    parent_mask = masks.get((fk.table, parent))
                    child_mask = masks.get((table.key, child))
                    if parent_mask is None or (
                        child_mask is not None and child_mask.transform is parent_mask.transform
                    ):
                        continue
                    if child_mask is not None and child_mask.spec != parent_mask.spec:
                        raise UsageError(
                            f"{table.key}.{child} references {fk.table}.{parent}: both must "
                            f"be masked the same way ({child_mask.spec!r} vs "
                            f"{parent_mask.spec!r}), or the join breaks"
                        )
                    masks[(table.key, child)] = ColumnMask(
                        parent_mask.spec,
                        parent_mask.transform,
                        f"foreign key to {fk.table}.{parent}",
                    )
                    changed = True
