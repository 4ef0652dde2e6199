"""``repro replay ... --html FILE``: the path checked with the other options, before any
sandbox is built (a 5-minute replay must not end in "exists"), and the page written once the
outcome is known, by the rules of every output file (:mod:`repro.outputfile`: whole or not
at all, an existing file replaced only with ``--force``, never a device or a directory)."""

from __future__ import annotations

from pathlib import Path

from repro.console import log
from repro.errors import UsageError
from repro.outputfile import check_output, write_output
from repro.redaction import Redactor
from repro.replay.options import ReplayOptions
from repro.replay.outcome import ReplayOutcome
from repro.replay.renderers.html import render_html


def check_html(options: ReplayOptions) -> None:
    if options.html is None:
        return
    if not options.html.strip():
        raise UsageError("--html needs a file name")
    check_output(Path(options.html), force=options.force, label=options.html)


def write_html(outcome: ReplayOutcome, options: ReplayOptions, redactor: Redactor) -> None:
    """The page, scrubbed by the run's redactor like the other formats; 0600 like an
    incident, since it shows production's request and exception messages."""
    if options.html is None:
        return
    page = render_html(outcome, scrub=redactor.scrub)
    write_output(Path(options.html), page, force=options.force, private=True, label=options.html)
    log(f"wrote {options.html}")
