"""``repro data generate``: options in, progress on stderr, the fidelity report on stdout."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from repro.console import is_interactive, log, print_json, stderr_console, stdout_console
from repro.errors import UsageError
from repro.progress import RichProgress
from repro.redaction import Redactor, scrub_redactor
from repro.snapshot.store import resolve_snapshot
from repro.synth.generate import LoadOptions, Report, generate
from repro.synth.plan import Options


@dataclass
class GenerateArgs:
    snapshot: str
    dsn: str
    scale: float
    rows: list[str]
    seed: int
    tables: list[str]
    create_schema: bool
    truncate: bool
    as_json: bool
    append: bool = False
    default_rows: int | None = None


def parse_rows(items: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        table, sep, count = item.partition("=")
        try:
            value = int(count.replace("_", ""))
        except ValueError:
            value = -1
        if not sep or not table or value < 0:
            raise UsageError(f"--rows {item!r}: expected schema.table=N with N >= 0")
        out[table.strip()] = value
    return out


def run_generate(args: GenerateArgs, redactors: list[Redactor]) -> int:
    if args.scale <= 0:
        raise UsageError("--scale must be greater than 0")
    if args.default_rows is not None and args.default_rows < 0:
        raise UsageError("--default-rows must be 0 or more")
    options = Options(
        default_rows=args.default_rows,
        seed=args.seed,
        scale=args.scale,
        rows=parse_rows(args.rows),
        tables=[t.strip() for t in args.tables] or None,
    )
    redactor = scrub_redactor()
    redactors.append(redactor)
    snapshot = resolve_snapshot(args.snapshot)
    load = LoadOptions(create_schema=args.create_schema, truncate=args.truncate, append=args.append)
    started = time.perf_counter()
    if is_interactive() and not args.as_json:
        with RichProgress(stderr_console()) as progress:
            report = generate(snapshot, args.dsn, options, load, redactor, progress)
    else:
        report = generate(snapshot, args.dsn, options, load, redactor)
    if args.as_json:
        print_json(report.to_json())
    else:
        render_report(report, stdout_console())
        log(
            f"{report.rows:,} rows in {len(report.tables)} tables, "
            f"{time.perf_counter() - started:.1f} s"
        )
    return 0


def render_report(report: Report, console: Console) -> None:
    fidelity = {f.table: f for f in report.fidelity}
    summary = Table(title="Generated data vs snapshot statistics", title_justify="left")
    for header in ("table", "rows", "expected", "rows/s", "columns off"):
        summary.add_column(header, justify="left" if header == "table" else "right")
    for load in report.tables:
        fid = fidelity.get(load.key)
        off = len(fid.off) if fid else 0
        speed = f"{load.rows / load.seconds:,.0f}" if load.seconds else ""
        summary.add_row(
            load.key,
            f"{load.rows:,}",
            f"{load.expected:,}",
            speed,
            Text(str(off), style="bold red" if off else "green"),
        )
    console.print(summary)
    off_rows = [(f.table, c) for f in report.fidelity for c in f.off]
    if off_rows:
        detail = Table(
            title="Columns off by more than the tolerance (null_frac ±0.02, n_distinct ±10%)",
            title_justify="left",
        )
        detail.add_column("column", overflow="fold")
        for header in ("null_frac snapshot", "generated", "n_distinct snapshot", "generated"):
            detail.add_column(header, justify="right")
        for table, column in off_rows:
            detail.add_row(
                f"{table}.{column.column}",
                _fmt(column.null_frac.expected),
                Text(
                    _fmt(column.null_frac.generated),
                    style="" if column.null_frac.ok else "bold red",
                ),
                _fmt(column.n_distinct.expected),
                Text(
                    _fmt(column.n_distinct.generated),
                    style="" if column.n_distinct.ok else "bold red",
                ),
            )
        console.print(detail)
    for load in report.tables:
        for note in load.notes:
            console.print(f"note: {load.key}: {note}")
    if report.skipped:
        console.print(f"not recreated from the snapshot ({len(report.skipped)}):")
        for line in report.skipped:
            console.print(f"  - {line}", markup=False)
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items())
    console.print(f"timings: {timings}", markup=False)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
