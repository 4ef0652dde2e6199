"""The ``database`` facet's capture queries (:mod:`repro.snapshot.database`), one job per module.

- :mod:`.server`: version, settings, extensions, roles, grants
- :mod:`.relations`: schemas, locks held by others, tables, views, columns, partitions
- :mod:`.constraints`: constraints, indexes, triggers, row-level-security policies
- :mod:`.objects`: enums, domains, composite and range types, sequences, functions
- :mod:`.stats`: planner statistics, with values of personal columns fingerprinted
- :mod:`.migrations`: the rows of migration bookkeeping tables (alembic_version...), verbatim

They run in the read-only session of :mod:`repro.pg.session` (connecting, passwords never in
messages, the queries pipelined with failures isolated per part) and judge personal columns
with :mod:`repro.pg.personal`, both shared with the data features.

Every catalog read is one set-based query over all selected relations, never one per table:
capturing 1,000 tables costs as many queries as capturing one.
"""
