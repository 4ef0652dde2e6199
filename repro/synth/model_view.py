"""The data model as the generator plans it (the masked copy keeps the plain one):

- a partial unique index binds only the rows its predicate picks: it is not a key the
  generator makes unique everywhere ((admin) WHERE admin could not be), PostgreSQL judges
  candidates by it (its ``unique_indexes`` entry);
- rows are generated for a partitioned parent: a partition's own foreign keys and unique
  keys (what pg_dump writes for a schema older than keys on partitioned tables) hold for all
  of them, which is stricter than needed, and valid.
"""

from __future__ import annotations

from dataclasses import replace

from repro.pg.tables import DataModel, Table, UniqueKey


def planning_view(model: DataModel) -> DataModel:
    tables = {key: _without_partial(table) for key, table in model.tables.items()}
    for table in list(tables.values()):
        parent = tables.get(table.partition_of or "")
        if parent is not None:
            tables[parent.key] = _bound(parent, table)
    return replace(model, tables=tables)


def _without_partial(table: Table) -> Table:
    if all(u.predicate is None for u in table.uniques):
        return table
    return replace(table, uniques=[u for u in table.uniques if u.predicate is None])


def _bound(parent: Table, partition: Table) -> Table:
    foreign_keys = list(parent.foreign_keys)
    known = {(fk.columns, fk.table, fk.ref_columns) for fk in foreign_keys}
    for fk in partition.foreign_keys:
        shape = (fk.columns, fk.table, fk.ref_columns)
        if shape not in known and all(c in parent.columns for c in fk.columns):
            foreign_keys.append(fk)
            known.add(shape)
    uniques = list(parent.uniques)
    have = {u.columns for u in uniques}
    for unique in partition.uniques:
        if unique.columns not in have and all(c in parent.columns for c in unique.columns):
            uniques.append(UniqueKey(unique.name, unique.columns, False))
            have.add(unique.columns)
    return replace(parent, foreign_keys=foreign_keys, uniques=uniques)
