"""``repro import KIND SOURCE``: a Sentry event, HAR, curl command or log line -> incident YAML.

The incident goes to stdout (or ``-o FILE``), a one-line summary to stderr. The summary and every
error message name parts, never values: credentials are fingerprinted before anything prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repro.console import log
from repro.errors import IncidentError, UsageError
from repro.inputfile import read_bytes, read_stdin
from repro.outputfile import check_output
from repro.redaction import Redactor, load_key
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.incident import describe, write_incident

# Kinds whose SOURCE is the text itself (a command, a log line) rather than a file.
INLINE_KINDS = frozenset({"curl", "log"})


@dataclass
class ImportArgs:
    output: str | None = None
    force: bool = False
    entry: int | None = None
    match: str | None = None
    status: int | None = None


def run_import(
    kind: str, source: str, options: ImportArgs, redactors: list[Redactor] | None = None
) -> int:
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise UsageError(f"unknown import kind {kind!r} (one of: {', '.join(IMPORTERS)})")
    if options.entry is not None and options.match is not None:
        raise UsageError("--entry and --match pick the same thing: give one of them")
    target = None
    if options.output and options.output != "-":
        target = Path(options.output).expanduser()
        check_output(target, force=options.force, label=options.output)
    redactor = Redactor(load_key(create=False))
    if redactors is not None:
        redactors.append(redactor)
    data, file_name = _read_source(kind, source)
    import_options = ImportOptions(
        redactor=redactor,
        file=file_name,
        entry=options.entry,
        match=options.match,
        status=options.status,
    )
    incident = importer.parse(data, options=import_options)
    write_incident(incident, target if target is not None else "-", force=options.force)
    log(f"incident: {describe(incident)}" + (f"; written to {options.output}" if target else ""))
    for note in import_options.notes:
        log(f"note: {redactor.scrub(note)}")
    return 0


def _read_source(kind: str, source: str) -> tuple[bytes, str | None]:
    if source == "-":
        return read_stdin(IncidentError, label=f"{kind}: stdin"), None
    if kind in INLINE_KINDS:
        return source.encode("utf-8", "surrogateescape"), None
    path = Path(source).expanduser()
    return read_bytes(path, IncidentError, label=f"{kind}: {source}"), path.name
