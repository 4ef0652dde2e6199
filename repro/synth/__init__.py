"""``repro data generate``: synthetic rows shaped like a snapshot's statistics.

:mod:`.generate` runs it (plan, one-transaction load, fidelity report); :mod:`.plan` decides
per table how many rows and how each column is rendered, from :mod:`.columns` (which value each
row gets), :mod:`.keys` (unique and foreign keys by construction), :mod:`.value_spaces` (what
value number k is) and :mod:`.column_space` (the space a column gets from its type, statistics
and CHECKs); :mod:`.check_parser`, :mod:`.derived` and :mod:`.table_checks` turn CHECK
constraints into rules the generator satisfies; :mod:`.fidelity` compares the result's
statistics with the snapshot's. The PostgreSQL it shares with masking is in :mod:`repro.pg`.
"""
