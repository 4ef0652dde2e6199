"""``repro data anonymize``: real rows, personal data masked, joins and data-shaped bugs kept.

Source: one read-only REPEATABLE READ transaction (a consistent copy). Target: an empty
database (one transaction: schema, COPY, constraints, sequences; a failure keeps nothing)
or a SQL script file that ``psql -f`` loads elsewhere. Masking is keyed and deterministic,
so a value masks the same way in every table (natural-key joins survive), and columns under
a unique constraint get a mapping proven injective before the first row is written.
"""

from __future__ import annotations

import contextlib
import gzip
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, cast

import psycopg
from psycopg import sql

from repro.errors import DataGenerationError, UsageError
from repro.mask.copy_stream import Counts, Tracking, transform_rows
from repro.mask.masks import ColumnMask, build_masks
from repro.mask.parallel_copy import (
    available_workers,
    can_parallelize,
    transform_rows_parallel,
)
from repro.mask.rules_file import Rules, load_rules
from repro.mask.source import connect_source, read_schema
from repro.mask.subset import Selection, full_copy, parse_seed, subset
from repro.mask.verify import Leaks, VerifyResult, verify_copy
from repro.outputfile import atomic_output, check_output
from repro.pg.copy_out import copy_out
from repro.pg.ddl import SchemaScript, schema_script
from repro.pg.tables import DataModel, Table, build_model
from repro.pg.target_db import (
    all_or_nothing,
    connect_target,
    execute_script,
    finish_schema,
    merge_table_constraints,
    qualified,
    set_sequences,
    user_relations,
)
from repro.progress import Progress, QuietProgress
from repro.redaction import Redactor

REPORT_SCHEMA = "repro.data-anonymize/v1"

# (table, column, kind) of each column the personal-data scan flags
Findings = list[tuple[str, str, str]]
_T = TypeVar("_T")


@dataclass
class AnonymizeOptions:
    source: str
    target: str  # a DSN, or a file (*.sql, *.sql.gz, or file:PATH)
    rules: str
    subset: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    children_limit: int = 1000
    allow_unmasked: list[str] = field(default_factory=list)
    schemas: list[str] | None = None
    verify: bool = True
    force: bool = False  # replace an existing --to FILE
    jobs: int | None = None  # processes masking a large table; None: every core there is


@dataclass
class TableCopy:
    key: str
    rows: int
    seconds: float
    masked: dict[str, str]  # column -> spec
    kept: list[str]
    counts: Counts


@dataclass
class AnonymizeReport:
    source: str
    target: str
    tables: list[TableCopy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    verification: VerifyResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    collisions_resolved: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "rows": self.rows,
            "tables": [
                {
                    "table": t.key,
                    "rows": t.rows,
                    "seconds": round(t.seconds, 3),
                    "masked": t.masked,
                    "kept": t.kept,
                }
                for t in self.tables
            ],
            "collisions_resolved": self.collisions_resolved,
            "notes": self.notes,
            "not_recreated": self.skipped,
            "verification": self.verification.to_json() if self.verification else None,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def is_file_target(target: str) -> bool:
    return target.startswith("file:") or target.endswith((".sql", ".sql.gz"))


# ------------------------------------------------------------------------------- masking


def check_rules(model: DataModel, rules: Rules) -> None:
    problems = []
    for table_key, table_rules in rules.tables.items():
        table = model.tables.get(table_key)
        if table is None:
            problems.append(f"table {table_key} is not in the source")
            continue
        for column in table_rules.columns:
            if column not in table.columns:
                problems.append(f"{table_key} has no column {column}")
    if problems:
        raise UsageError("rules do not match the source: " + "; ".join(problems[:8]))


def fail_safe(
    findings: Iterable[tuple[str, str, str]],
    rules: Rules,
    masks: Mapping[tuple[str, str], ColumnMask],
    allowed: Iterable[str],
) -> None:
    """A column scan flags as personal, copied without a rule, stops the copy."""
    allow = set(allowed)
    unruled = []
    for table, column, kind in findings:
        table_rules = rules.tables.get(table)
        if table_rules is not None and (
            table_rules.action != "copy" or column in table_rules.columns
        ):
            continue
        if (table, column) in masks:
            continue  # masked through a foreign key
        short = f"{table.split('.', 1)[-1]}.{column}"
        if f"{table}.{column}" in allow or short in allow:
            continue
        unruled.append(f"{table}.{column} ({kind})")
    if unruled:
        raise DataGenerationError(
            f"personal columns without a rule: {', '.join(unruled)}",
            hint="add rules (repro data scan -o rules.yaml writes them), or --allow-unmasked "
            "TABLE.COLUMN for each; nothing was copied",
        )


# ------------------------------------------------------------------------------- sinks


class Sink(Protocol):
    def begin(self, script: SchemaScript) -> None: ...

    def copy(self, table: Table, columns: list[str], rows: Iterator[bytes]) -> None: ...

    def finish(self, script: SchemaScript, written: list[tuple[Table, list[str]]]) -> None: ...


class DatabaseSink:
    def __init__(self, conn: psycopg.Connection[Any], model: DataModel) -> None:
        self.conn = conn
        self.model = model
        self.failed: list[str] = []  # optional statements (code, policies) not made

    def begin(self, script: SchemaScript) -> None:
        present = user_relations(self.conn)
        if present:
            raise DataGenerationError(
                f"the target database is not empty ({len(present)} relations: "
                f"{', '.join(present[:5])}); anonymize creates the schema itself",
                hint="use a new database",
            )
        self.failed += execute_script(self.conn, script.before_load)

    def copy(self, table: Table, columns: list[str], rows: Iterator[bytes]) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            qualified(table.schema, table.name),
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        )
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for block in rows:
                copy.write(block)

    def finish(self, script: SchemaScript, written: list[tuple[Table, list[str]]]) -> None:
        self.failed += finish_schema(self.conn, script)
        set_sequences(self.conn, self.model, written)


class FileSink:
    """A SQL script for ``psql -f`` (gzip when the name ends in .gz): schema, COPY blocks,
    constraints, sequences; written by :func:`repro.outputfile.atomic_output` (whole or not
    at all, 0600: masked, but real rows)."""

    def __init__(self, path: Path, model: DataModel, force: bool = False) -> None:
        self.path = path
        self.model = model
        self.force = force
        self.file: contextlib.AbstractContextManager[IO[bytes]] | None = None
        self.out: IO[bytes] | None = None

    def _write(self, text: str) -> None:
        assert self.out is not None
        self.out.write(text.encode("utf-8"))

    def begin(self, script: SchemaScript) -> None:
        self.file = atomic_output(self.path, force=self.force, private=True, binary=True)
        raw: IO[bytes] = self.file.__enter__()
        if self.path.name.endswith(".gz"):
            # No name or time in the header (the temporary name would show): same copy, same bytes.
            raw = cast(IO[bytes], gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0))
        self.out = raw
        self._write(
            "-- repro data anonymize: masked copy; load into an empty database with psql -f\n"
            "SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n"
            "SET check_function_bodies = false;\nBEGIN;\n"
        )
        for statement in script.before_load:
            self._write(statement.sql.rstrip().rstrip(";") + ";\n")

    def copy(self, table: Table, columns: list[str], rows: Iterator[bytes]) -> None:
        names = ", ".join(sql.Identifier(c).as_string(None) for c in columns)
        self._write(
            f"COPY {qualified(table.schema, table.name).as_string(None)} ({names}) FROM stdin;\n"
        )
        assert self.out is not None
        for block in rows:
            self.out.write(block)
        self._write("\\.\n")

    def finish(self, script: SchemaScript, written: list[tuple[Table, list[str]]]) -> None:
        for statement in merge_table_constraints(script.after_load):
            self._write(statement.sql.rstrip().rstrip(";") + ";\n")
        for table, columns in written:
            for column in table.columns.values():
                if column.name in columns and (
                    column.identity or (column.default or "").startswith("nextval(")
                ):
                    name = qualified(table.schema, table.name).as_string(None)
                    ident = sql.Identifier(column.name).as_string(None)
                    self._write(
                        f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
                        f"'{name.replace(chr(39), chr(39) * 2)}', "
                        f"'{column.name.replace(chr(39), chr(39) * 2)}'), "
                        f"COALESCE((SELECT max({ident}) FROM {name}), 0) + 1, false);\n"
                    )
        self._write("COMMIT;\nANALYZE;\n")
        self.close()
        if self.file is not None:
            file, self.file = self.file, None
            file.__exit__(None, None, None)  # flushed, synced, renamed into place

    def close(self) -> None:
        if self.out is not None and self.path.name.endswith(".gz"):
            self.out.close()  # the gzip trailer; the file itself closes in atomic_output
        self.out = None

    def abort(self) -> None:
        self.close()
        if self.file is not None:
            file, self.file = self.file, None
            aborted = RuntimeError("anonymize aborted")
            file.__exit__(RuntimeError, aborted, None)  # removes the temporary file


# ------------------------------------------------------------------------------- the copy


def _pass_through(chunks: Iterator[bytes], counts: Counts) -> Iterator[bytes]:
    """A table without masked columns: bytes as they come, rows counted for the report."""
    for chunk in chunks:
        counts.rows += chunk.count(b"\n")
        yield chunk


def _target_file(target: str) -> Path:
    return Path(target.removeprefix("file:")).expanduser()


def anonymize(
    options: AnonymizeOptions,
    redactor: Redactor,
    progress: Progress | None = None,
    scan_findings: Callable[[psycopg.Connection[Any]], Findings] | None = None,
) -> AnonymizeReport:
    progress = progress or QuietProgress()
    started = time.perf_counter()
    if is_file_target(options.target):  # before the work, not after it
        check_output(_target_file(options.target), force=options.force)
    rules = load_rules(options.rules)
    key = rules.key()
    report = AnonymizeReport(source="source", target=options.target)
    schema = read_schema(options.source, redactor, schemas=options.schemas)
    model = build_model(schema)
    check_rules(model, rules)
    script = schema_script(schema)
    report.skipped = list(script.skipped)
    source = connect_source(options.source, redactor)
    with all_or_nothing(source, "copy", redactor) as src, src.transaction():
        progress.stage("masks")
        with _scanned_beside(options.source, redactor, scan_findings) as scanned:
            masks, report.collisions_resolved = build_masks(model, schema, rules, key, src)
            if scanned is not None:
                fail_safe(scanned.result(), rules, masks, options.allow_unmasked)
        excluded = {k for k, r in rules.tables.items() if r.action in ("skip", "truncate")}
        filters = {k: r.where for k, r in rules.tables.items() if r.where}
        seeds = [parse_seed(s, model, include=False) for s in options.subset]
        seeds += [parse_seed(s, model, include=True) for s in options.include]
        if seeds:
            selection = subset(src, model, seeds, filters, options.children_limit)
            for key_ in excluded:
                selection.where[key_] = sql.SQL("false")
        else:
            selection = full_copy(model, filters, excluded)
        report.notes += selection.notes
        report.timings["prepare"] = time.perf_counter() - started
        _copy_all(src, options, model, script, masks, selection, report, progress, redactor)
    report.timings["total"] = time.perf_counter() - started
    return report


@contextlib.contextmanager
def _scanned_beside(
    source: str,
    redactor: Redactor,
    scan_findings: Callable[[psycopg.Connection[Any]], Findings] | None,
) -> Iterator[Future[Findings] | None]:
    """The personal-data scan for the fail-safe, on its own connection while the masks are
    built: building them mostly waits for the source to send column values, and the scan is
    mostly this process judging samples."""
    if scan_findings is None:
        yield None
        return
    with _beside(connect_source(source, redactor), scan_findings, "repro-scan") as scanning:
        yield scanning


@contextlib.contextmanager
def _beside(
    conn: psycopg.Connection[Any], work: Callable[[psycopg.Connection[Any]], _T], name: str
) -> Iterator[Future[_T]]:
    """``work(conn)`` in a thread while the caller goes on; ``conn`` is its own connection,
    closed on the way out. Stopped early (an error, Ctrl-C), its query is cancelled rather
    than waited for."""
    try:
        with ThreadPoolExecutor(1, thread_name_prefix=name) as pool:
            doing = pool.submit(work, conn)
            try:
                yield doing
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.cancel_safe(timeout=5.0)
                raise
    finally:
        conn.close()


def _copy_all(
    src: psycopg.Connection[Any],
    options: AnonymizeOptions,
    model: DataModel,
    script: SchemaScript,
    masks: dict[tuple[str, str], ColumnMask],
    selection: Selection,
    report: AnonymizeReport,
    progress: Progress,
    redactor: Redactor,
) -> None:
    leaks = Leaks() if options.verify else None
    sink: Sink
    conn = None
    if is_file_target(options.target):
        sink = FileSink(_target_file(options.target), model, force=options.force)
    else:
        conn = connect_target(options.target, redactor)
        sink = DatabaseSink(conn, model)
    written: list[tuple[Table, list[str]]] = []
    jobs = options.jobs if options.jobs is not None else available_workers()
    try:
        mark = time.perf_counter()
        sink.begin(script)
        for key in sorted(model.tables):
            table = model.tables[key]
            if table.partition_of and table.partition_of in model.tables:
                continue  # rows go in (and come out) through the partitioned parent
            columns = [c.name for c in table.copied_columns]
            copied = _copy_table(src, sink, table, columns, masks, selection, leaks, progress, jobs)
            report.tables.append(copied)
            written.append((table, columns))
        report.timings["copy"] = time.perf_counter() - mark
        mark = time.perf_counter()
        progress.stage("constraints and indexes")
        sink.finish(script, written)
        if isinstance(sink, DatabaseSink):
            report.skipped += sink.failed
        if conn is not None:
            conn.commit()
        report.timings["constraints"] = time.perf_counter() - mark
    except BaseException:
        if isinstance(sink, FileSink):
            sink.abort()
        raise
    finally:
        if conn is not None and not conn.closed and conn.info.transaction_status != 0:
            conn.rollback()
    if conn is not None:
        try:
            conn.autocommit = True
            if leaks is None:
                mark = time.perf_counter()
                conn.execute("ANALYZE")
                report.timings["analyze"] = time.perf_counter() - mark
            else:
                progress.stage("verify")
                found = leaks

                def verify() -> VerifyResult:
                    return verify_copy(src, conn, model, report.tables, masks, found)

                _verify_while_analyzing(verify, options.target, redactor, report)
        finally:
            conn.close()


def _verify_while_analyzing(
    verify: Callable[[], VerifyResult], target: str, redactor: Redactor, report: AnonymizeReport
) -> None:
    """ANALYZE the copy (the planner statistics a replay needs) on a second connection while
    the verification reads it on the first: the server does both at once. Stopped early (a
    failed check raising, Ctrl-C), the ANALYZE is cancelled rather than waited for."""

    def analyze(analyzer: psycopg.Connection[Any]) -> float:
        analyzer.autocommit = True
        mark = time.perf_counter()
        analyzer.execute("ANALYZE")
        return time.perf_counter() - mark

    with _beside(connect_target(target, redactor), analyze, "repro-analyze") as analyzing:
        mark = time.perf_counter()
        report.verification = verify()
        report.timings["verify"] = time.perf_counter() - mark
        report.timings["analyze"] = analyzing.result()


def _copy_table(
    src: psycopg.Connection[Any],
    sink: Sink,
    table: Table,
    columns: list[str],
    masks: Mapping[tuple[str, str], ColumnMask],
    selection: Selection,
    leaks: Leaks | None,
    progress: Progress,
    jobs: int = 1,
) -> TableCopy:
    started = time.perf_counter()
    query = sql.SQL("COPY (SELECT {} FROM {} t WHERE {}) TO STDOUT").format(
        sql.SQL(", ").join(sql.SQL("t.") + sql.Identifier(c) for c in columns),
        qualified(table.schema, table.name),
        selection.condition(table.key),
    )
    masked = {
        i: masks[(table.key, name)].transform
        for i, name in enumerate(columns)
        if (table.key, name) in masks
    }
    tracking = (
        {i: leaks.track(table.key, columns[i], masked[i]) for i in masked}
        if leaks is not None
        else None
    )
    counts = Counts()
    # Generators closed on the way out, whatever happens: the source's COPY is cancelled and
    # the masking workers stop before the transaction around them unwinds.
    with progress.table(table.key, 0) as advance, contextlib.ExitStack() as stack:
        out = stack.enter_context(contextlib.closing(copy_out(src, query)))

        def counted(rows: Iterator[bytes]) -> Generator[bytes, None, None]:
            seen = 0
            for block in rows:
                yield block
                advance(counts.rows - seen)
                seen = counts.rows

        if masked and jobs > 1 and can_parallelize(tracking, table.rows_estimate):
            plain = {i: t for i, t in (tracking or {}).items() if isinstance(t, Tracking)}
            rows: Iterator[bytes] = stack.enter_context(
                contextlib.closing(
                    transform_rows_parallel(
                        out, len(columns), masked, counts, workers=jobs, tracking=plain
                    )
                )
            )
        elif masked:
            rows = transform_rows(out, len(columns), masked, counts, tracking=tracking)
        else:
            rows = _pass_through(out, counts)
        sink.copy(table, columns, stack.enter_context(contextlib.closing(counted(rows))))
    return TableCopy(
        table.key,
        counts.rows,
        time.perf_counter() - started,
        {name: masks[(table.key, name)].spec for name in columns if (table.key, name) in masks},
        [name for name in columns if (table.key, name) not in masks],
        counts,
    )
