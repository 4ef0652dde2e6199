"""PostgreSQL as every feature uses it: connecting (:mod:`~repro.pg.session` for a capture's
read-only session, :mod:`~repro.pg.target_db` for the databases the data jobs read and write),
a captured schema's tables, keys and statistics as typed objects (:mod:`~repro.pg.tables`,
:mod:`~repro.pg.types`), the DDL that recreates it (:mod:`~repro.pg.ddl`), and what a column
holds by its name and type (:mod:`~repro.pg.personal`, :mod:`~repro.pg.meaning`).

It sits below the snapshot and the data features (synth, mask, the replay sandbox) that share it.
"""
