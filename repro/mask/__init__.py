"""Masked copies of real rows: ``repro data scan``, ``anonymize`` and ``verify``.

:mod:`.scan` finds personal columns and suggests a rules file; :mod:`.rules_file` reads and
writes it (``repro.anonymize/v1``); :mod:`.transforms` are the keyed, deterministic maskers;
:mod:`.anonymize` copies a source (:mod:`.source`) into a target database or a dump, rows
chosen by :mod:`.subset` and rewritten on the way by :mod:`.copy_stream`; :mod:`.verify`
proves the copy safe and whole. It shares PostgreSQL with the generator through
:mod:`repro.pg` and never imports the generator (:mod:`repro.synth`).
"""
