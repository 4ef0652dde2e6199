"""The ``database`` facet's capture queries (:mod:`repro.snapshot.database`), one job per module.

- :mod:`.server`: version, settings, extensions, the app's roles
- :mod:`.privileges`: every role, each object's privileges, default privileges
- :mod:`.relations`: schemas, locks held by others, tables, views, columns, partitions
- :mod:`.constraints`: constraints, indexes, triggers, row-level-security policies
- :mod:`.objects`: enums, domains, composite and range types, sequences, functions
- :mod:`.schema_objects`: collations, base types, casts, operators and their classes,
  conversions, access methods, transforms, extended statistics
- :mod:`.text_search`: text search configurations, dictionaries, parsers, templates
- :mod:`.server_objects`: languages, event triggers, publications, subscriptions, foreign
  data wrappers, servers, user mappings
- :mod:`.table_details`: rules, replica identity, storage, tablespaces, member comments
- :mod:`.stats`: planner statistics, with values of personal columns fingerprinted
- :mod:`.migrations`: the rows of migration bookkeeping tables (alembic_version...), verbatim
- :mod:`.redact`: the facet's own redaction of the fields that can hold a secret

They run in the read-only session of :mod:`repro.pg.session` (connecting, passwords never in
messages, the queries pipelined with failures isolated per part) and judge personal columns
with :mod:`repro.pg.personal`, both shared with the data features.

Every catalog read is one set-based query over all selected relations, never one per table:
capturing 1,000 tables costs as many queries as capturing one.
"""
