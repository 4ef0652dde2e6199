"""One module per format of ``repro replay``'s report, over the shared views of
:mod:`.views`: :mod:`.terminal` (``render_rich``, on a terminal), :mod:`.json_format`
(``render_json``, ``--json``) and :mod:`.markdown` (``render_markdown``, ``--markdown`` and
when piped), like ``repro diff``'s :mod:`repro.diff.renderers`."""
