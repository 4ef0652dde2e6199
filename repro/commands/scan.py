"""``repro data scan``: which columns look personal, as a table, JSON or a rules file."""

from __future__ import annotations

from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from repro.console import log, print_json, stdout_console
from repro.errors import DatabaseError, UsageError
from repro.mask.scan import ScanResult, rules_yaml, scan
from repro.outputfile import check_output, write_output
from repro.pg.target_db import connect_target
from repro.redaction import Redactor, scrub_redactor
from repro.text import one_line


def run_scan(
    dsn: str,
    schemas: list[str] | None,
    sample: int,
    output: str | None,
    as_json: bool,
    redactors: list[Redactor],
    *,
    force: bool = False,
) -> int:
    if sample < 0:
        raise UsageError("--sample must be 0 (names and types only) or more")
    target = Path(output).expanduser() if output else None
    if target is not None:
        check_output(target, force=force, label=output)  # before the scan, not after it
    redactor = scrub_redactor()
    redactors.append(redactor)
    conn = connect_target(dsn, redactor, what="the database")
    try:
        with conn:
            result = scan(conn, schemas=schemas or None, sample=sample, redactor=redactor)
    except psycopg.Error as exc:
        # sqlstate and the server's text (about objects, not rows) without the password
        raise DatabaseError(redactor.scrub(f"scan failed: {one_line(str(exc))}")) from None
    if target is not None:
        write_output(target, rules_yaml(result), force=force, label=output)
    if as_json:
        print_json(result.to_json())
    else:
        render_scan(result, stdout_console())
    log(
        f"{len(result.findings)} personal columns among {result.columns_scanned} columns of "
        f"{len(result.tables)} tables ({result.rows_sampled:,} rows sampled)"
        + (f"; rules written to {output}" if target is not None else "")
    )
    return 0


def render_scan(result: ScanResult, console: Console) -> None:
    table = Table(title="Columns that look personal", title_justify="left")
    for header in ("column", "type", "kind", "confidence", "suggested", "reason"):
        table.add_column(header, overflow="fold")
    for f in result.findings:
        table.add_row(
            f"{f.table}.{f.column}",
            f.type,
            f.kind,
            f.confidence,
            f.suggested,
            f.reason,
            style="" if f.confidence == "high" else "yellow",
        )
    if result.findings:
        console.print(table)
    else:
        console.print("no column looks personal", markup=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
