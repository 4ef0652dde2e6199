"""Helpers of the ``database`` facet (:mod:`repro.snapshot.database`), one job per module.

- :mod:`.session`: connecting (passwords never in messages), the read-only transaction, and
  running the capture's queries ("parts") pipelined, with failures isolated per part
- :mod:`.server`: version, settings, extensions, roles, grants
- :mod:`.relations`: schemas, locks held by others, tables, views, columns, partitions
- :mod:`.constraints`: constraints, indexes, triggers, row-level-security policies
- :mod:`.objects`: enums, domains, composite and range types, sequences, functions
- :mod:`.stats`: planner statistics, with values of personal columns fingerprinted
- :mod:`.personal`: which columns look personal

Every catalog read is one set-based query over all selected relations, never one per table:
capturing 1,000 tables costs as many queries as capturing one.
"""
