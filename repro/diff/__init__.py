"""``repro diff``: compare two snapshots and rank what production has that staging lacks.

The API the CLI uses::

    result = diff_snapshots(prod, staging, ignore=profile.ignore,
                            waivers=load_waivers(text, "waivers.yaml"), today=date.today())
    print(render(result, "table", min_severity=None, show_ignored=False), end="")
    raise SystemExit(exit_code(result, fail_on="low"))
    render_fix_script(result)  # a reviewed-by-a-human bash + SQL script

Per format, ``render_table(result, console=None, *, min_severity, show_ignored)`` (prints to a
rich console when one is given), ``render_json``, ``render_markdown`` and ``render_junit``
(``fail_on``) take the same options. The engine is pure (no I/O, no clock: ``today`` is a
parameter); :func:`load_waivers` parses a waivers file's text, :func:`read_waivers` reads one.
See :mod:`repro.diff.model` for the path syntax.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from repro.diff.engine import diff_snapshots
from repro.diff.model import SEVERITIES, DiffResult, Discrepancy, Ignored
from repro.diff.noise import BUILTIN_IGNORES, Waiver, WaiverFileError, load_waivers, read_waivers
from repro.diff.render import FORMATS, exit_code, render
from repro.diff.rules import DEFAULT_RULES

if TYPE_CHECKING:
    from repro.diff.fixscript import render_fix_script
    from repro.diff.renderers.json_format import render_json
    from repro.diff.renderers.junit import render_junit
    from repro.diff.renderers.markdown import render_markdown
    from repro.diff.renderers.table import render_table

# Imported on first use: a `repro diff --format json` never pays for rich tables or XML.
_LAZY = {
    "render_fix_script": "repro.diff.fixscript",
    "render_json": "repro.diff.renderers.json_format",
    "render_junit": "repro.diff.renderers.junit",
    "render_markdown": "repro.diff.renderers.markdown",
    "render_table": "repro.diff.renderers.table",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'repro.diff' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BUILTIN_IGNORES",
    "DEFAULT_RULES",
    "FORMATS",
    "SEVERITIES",
    "DiffResult",
    "Discrepancy",
    "Ignored",
    "Waiver",
    "WaiverFileError",
    "diff_snapshots",
    "exit_code",
    "load_waivers",
    "read_waivers",
    "render",
    "render_fix_script",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_table",
]
