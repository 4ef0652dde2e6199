"""``repro import KIND SOURCE``: a Sentry event, HAR, curl command or log line -> incident YAML.

The incident goes to stdout (or ``-o FILE``), a one-line summary to stderr. The summary and every
error message name parts, never values: credentials are fingerprinted before anything prints.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from repro.console import log
from repro.errors import IncidentError, UsageError
from repro.inputfile import read_bytes, read_stdin, why_unreadable
from repro.outputfile import check_output
from repro.redaction import Redactor, load_key
from repro.replay.importers import IMPORTERS, ImportOptions
from repro.replay.incident import ExceptionInfo, describe, write_incident
from repro.replay.traces import parse_log_traces

MAX_TRACEBACK_LOG = 8 * 2**20
# Kinds whose SOURCE is the text itself (a command, a log line) rather than a file.
INLINE_KINDS = frozenset({"curl", "log"})


@dataclass
class ImportArgs:
    output: str | None = None
    force: bool = False
    entry: int | None = None
    match: str | None = None
    status: int | None = None
    traceback: str | None = None  # a log file holding production's stack trace


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
    if options.traceback is not None:
        import_options.exceptions = _traceback(options.traceback, import_options.notes)
    incident = importer.parse(data, options=import_options)
    write_incident(incident, target if target is not None else "-", force=options.force)
    log(f"incident: {describe(incident)}" + (f"; written to {options.output}" if target else ""))
    for note in import_options.notes:
        log(f"note: {redactor.scrub(note)}")
    return 0


def _traceback(path: str, notes: list[str]) -> tuple[ExceptionInfo, ...]:
    """The last stack trace in a log file (Python, Node.js, JVM or Ruby), as logged."""
    label = f"--traceback {path}"
    text = _log_tail(Path(path).expanduser(), label, notes)
    chains = parse_log_traces(text)
    if not chains:
        raise UsageError(
            f"{label}: no stack trace found (a Python traceback, a Node.js stack, a Java "
            "stack trace or a Ruby backtrace, as the app logged it)"
        )
    if len(chains) > 1:
        notes.append(f"the signature is the last of the {len(chains)} stack traces in {path}")
    return chains[-1]


def _log_tail(path: Path, label: str, notes: list[str]) -> str:
    """A log file's text, at most its last :data:`MAX_TRACEBACK_LOG` bytes (the failure is
    the latest entry of a log that may be huge); a FIFO or device is refused, not read."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{label}: not a regular file")
        with path.open("rb") as handle:
            if info.st_size > MAX_TRACEBACK_LOG:
                handle.seek(info.st_size - MAX_TRACEBACK_LOG)
                notes.append(f"read the last {MAX_TRACEBACK_LOG // 2**20} MiB of {path.name}")
            data = handle.read(MAX_TRACEBACK_LOG)
    except OSError as exc:
        raise UsageError(f"{label}: {why_unreadable(exc, 'file')}") from None
    if not data.strip():
        raise UsageError(f"{label}: empty file")
    # Logs are not always valid UTF-8 (a binary payload logged, a cut multi-byte character).
    return data.decode("utf-8", "replace")


def _read_source(kind: str, source: str) -> tuple[bytes, str | None]:
    if source == "-":
        return read_stdin(IncidentError, label=f"{kind}: stdin"), None
    if kind in INLINE_KINDS:
        return source.encode("utf-8", "surrogateescape"), None
    path = Path(source).expanduser()
    return read_bytes(path, IncidentError, label=f"{kind}: {source}"), path.name
