"""One module per format of ``repro replay``'s report, over the shared views of
:mod:`.views`: :mod:`.terminal` (``render_rich``, by default: on a terminal in colour, in a pipe
without), :mod:`.json_format` (``render_json``, ``--json``) and :mod:`.markdown`
(``render_markdown``, ``--markdown``), like ``repro diff``'s :mod:`repro.diff.renderers`."""
