"""``repro data anonymize`` and ``repro data verify``: options in, progress on stderr, the
closing report on stdout."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
from rich.console import Console
from rich.table import Table
from rich.text import Text

from repro.console import is_interactive, log, print_json, stderr_console, stdout_console
from repro.interrupts import sigterm_unwinds
from repro.mask import transforms
from repro.mask.anonymize import AnonymizeOptions, AnonymizeReport, anonymize, check_rules
from repro.mask.rules_file import load_rules
from repro.mask.scan import scan
from repro.mask.source import connect_source, read_schema
from repro.mask.verify import VerifyResult, verify_databases
from repro.pg.tables import build_model
from repro.pg.target_db import connect_target
from repro.progress import RichProgress
from repro.redaction import Redactor, scrub_redactor


def _findings(schemas: list[str] | None) -> Any:
    def run(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
        return [(f.table, f.column, f.kind) for f in scan(conn, schemas=schemas).findings]

    return run


def run_anonymize(options: AnonymizeOptions, as_json: bool, redactors: list[Redactor]) -> int:
    redactor = scrub_redactor()
    redactors.append(redactor)
    started = time.perf_counter()
    findings = _findings(options.schemas)
    # SIGTERM too unwinds: the target's transaction is rolled back (or the dump file removed)
    # and masking workers are stopped before the process ends.
    with sigterm_unwinds():
        if is_interactive() and not as_json:
            with RichProgress(stderr_console()) as progress:
                report = anonymize(options, redactor, progress, scan_findings=findings)
        else:
            report = anonymize(options, redactor, scan_findings=findings)
    if as_json:
        print_json(report.to_json())
    else:
        render_anonymize(report, stdout_console())
        log(
            f"{report.rows:,} rows in {len(report.tables)} tables, "
            f"{time.perf_counter() - started:.1f} s"
        )
    verification = report.verification
    return 0 if verification is None or verification.ok else 1


def render_anonymize(report: AnonymizeReport, console: Console) -> None:
    table = Table(title="Copied with personal data masked", title_justify="left")
    for header in ("table", "rows", "rows/s", "masked", "kept"):
        table.add_column(
            header, justify="right" if header in ("rows", "rows/s") else "left", overflow="fold"
        )
    for copied in report.tables:
        speed = f"{copied.rows / copied.seconds:,.0f}" if copied.seconds else ""
        masked = ", ".join(f"{c} ({spec})" for c, spec in sorted(copied.masked.items()))
        table.add_row(copied.key, f"{copied.rows:,}", speed, masked or "-", str(len(copied.kept)))
    console.print(table)
    if report.collisions_resolved:
        console.print(
            f"unique columns: {report.collisions_resolved} collisions re-derived before loading"
        )
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    if report.verification is not None:
        render_verification(report.verification, console)
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items())
    console.print(f"timings: {timings}", markup=False)


def render_verification(result: VerifyResult, console: Console) -> None:
    table = Table(title="Verification", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in result.checks:
        if check.info:
            verdict = Text("info", style="cyan")
        else:
            verdict = Text(
                "ok" if check.ok else "FAILED", style="green" if check.ok else "bold red"
            )
        table.add_row(check.name, verdict, check.detail)
    console.print(table)


def run_verify(
    source: str, target: str, rules_path: str, as_json: bool, redactors: list[Redactor]
) -> int:
    redactor = scrub_redactor()
    redactors.append(redactor)
    rules = load_rules(rules_path)
    schema = read_schema(source, redactor)
    model = build_model(schema)
    check_rules(model, rules)
    # The transformers' structure (which leaves of a container are masked) and judgement of
    # values are what verify needs; no value is transformed, so any key does.
    masked = {
        (table, column): transforms.build(
            spec,
            key=b"repro data verify: structure only",
            column=f"{table}.{column}",
            type_name=model.tables[table].columns[column].type.declared,
            max_length=model.tables[table].columns[column].type.max_length,
            nullable=True,
        )
        for table, table_rules in rules.tables.items()
        if table_rules.action == "copy"
        for column, spec in table_rules.columns.items()
        if spec != "keep"
    }
    src = connect_source(source, redactor)
    dst = connect_target(target, redactor)
    try:
        result = verify_databases(src, dst, model, masked)
    finally:
        src.close()
        dst.close()
    if as_json:
        print(json.dumps({"schema": "repro.data-verify/v1", **result.to_json()}, indent=2))
    else:
        render_verification(result, stdout_console())
    return 0 if result.ok else 1
