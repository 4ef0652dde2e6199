"""One module per output format of ``repro diff`` (table, json, markdown, junit); each exports
``render_<format>(result, ...) -> str``. :func:`repro.diff.render.render` dispatches and imports
only the one it needs."""
