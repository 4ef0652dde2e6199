"""``repro data generate``: a snapshot's schema and statistics in, production-shaped rows out.

One transaction does it all (schema, COPY, constraints, sequences): a failure anywhere
leaves the target as it was. Then ANALYZE, and the fidelity report compares the target's
fresh statistics with the snapshot's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.copy import Copy, QueuedLibpqWriter

from repro.errors import DataGenerationError, UsageError
from repro.pg.ddl import SchemaScript, Statement, schema_script
from repro.pg.extensions import dependents, unavailable
from repro.pg.tables import DataModel, build_model
from repro.pg.target_db import (
    all_or_nothing,
    check_ready,
    connect_target,
    execute_script,
    existing_tables,
    finish_schema,
    qualified,
    set_sequences,
)
from repro.pg.types import ORDERED_KINDS
from repro.progress import Progress, QuietProgress
from repro.redaction import Redactor
from repro.snapshot.file import Snapshot, database_of
from repro.synth.fidelity import TableFidelity, measure
from repro.synth.judge import judge_tables
from repro.synth.plan import Existing, Options, Planner, TablePlan
from repro.synth.row_counts import row_counts
from repro.synth.verbatim import VerbatimTable, copy_rows, verbatim_tables
from repro.text import one_line

CHUNK_ROWS = 50_000
REPORT_SCHEMA = "repro.data-generate/v1"


@dataclass
class LoadOptions:
    create_schema: bool = False
    truncate: bool = False
    append: bool = False  # add rows to tables that hold some: keys start past theirs
    chunk_rows: int = CHUNK_ROWS


@dataclass
class TableLoad:
    key: str
    rows: int
    expected: int
    seconds: float
    notes: list[str]


@dataclass
class Report:
    snapshot: str
    options: Options
    tables: list[TableLoad] = field(default_factory=list)
    fidelity: list[TableFidelity] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> dict[str, Any]:
        fidelity = {f.table: f for f in self.fidelity}
        tables = []
        for load in self.tables:
            fid = fidelity.get(load.key)
            tables.append(
                {
                    "table": load.key,
                    "rows": load.rows,
                    "rows_expected": load.expected,
                    "seconds": round(load.seconds, 3),
                    "rows_per_second": round(load.rows / load.seconds) if load.seconds else None,
                    "notes": load.notes,
                    "columns": {
                        c.column: {
                            "ok": c.ok,
                            "computed": c.computed,
                            "null_frac": c.null_frac.to_json(),
                            "n_distinct": c.n_distinct.to_json(),
                        }
                        for c in (fid.columns if fid else [])
                    },
                }
            )
        return {
            "schema": REPORT_SCHEMA,
            "snapshot": self.snapshot,
            "seed": self.options.seed,
            "scale": self.options.scale,
            "rows": self.rows,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "tables": tables,
            "columns_off": sum(len(f.off) for f in self.fidelity),
            "skipped": self.skipped,
        }


@dataclass
class Prepared:
    """Everything a load needs that does not need the target database: the plans, checked
    (every problem is found here, before any write), and the schema script."""

    database: Mapping[str, Any]
    options: Options
    load: LoadOptions
    planner: Planner
    plans: list[TablePlan]
    script: SchemaScript | None
    verbatim: dict[str, VerbatimTable]
    verbatim_problems: list[str]
    report: Report
    started: float


def prepare(
    snapshot: Snapshot,
    options: Options,
    load: LoadOptions,
    redactor: Redactor,
    dsn: str | None = None,
) -> Prepared:
    """The plans for ``snapshot``; ``dsn`` is read only to append (the rows already there).
    A sandbox prepares while its database starts."""
    started = time.perf_counter()
    database = database_of(snapshot)
    model = build_model(database)
    if load.append:
        if load.truncate or load.create_schema:
            raise UsageError(
                "--append adds to existing tables: not with --truncate or --create-schema"
            )
        assert dsn is not None, "appending reads the target's rows"
        options = replace(options, existing=_existing(dsn, model, options, redactor))
    verbatim, verbatim_problems = _verbatim(database, model, options, load)
    # Production's own rows go there: none generated.
    options = replace(options, rows={**options.rows, **dict.fromkeys(verbatim, 0)})
    planner = Planner(model, options)
    plans = planner.plan()  # every problem is found here, before any write (judging aside)
    script = (
        schema_script(database, tables={p.table.key for p in plans}) if load.create_schema else None
    )
    report = Report(snapshot.source or snapshot.profile, options)
    report.timings["plan"] = time.perf_counter() - started
    return Prepared(
        database, options, load, planner, plans, script, verbatim, verbatim_problems, report,
        started,
    )  # fmt: skip


def generate(
    snapshot: Snapshot,
    dsn: str,
    options: Options,
    load: LoadOptions,
    redactor: Redactor,
    progress: Progress | None = None,
) -> Report:
    prepared = prepare(snapshot, options, load, redactor, dsn)
    return load_prepared(prepared, dsn, redactor, progress)


def load_prepared(
    prepared: Prepared,
    dsn: str,
    redactor: Redactor,
    progress: Progress | None = None,
) -> Report:
    """Write what :func:`prepare` planned into ``dsn``, all or nothing."""
    progress = progress or QuietProgress()
    database, options, load, planner, plans = (
        prepared.database, prepared.options, prepared.load, prepared.planner, prepared.plans
    )  # fmt: skip
    script, verbatim, report = prepared.script, prepared.verbatim, prepared.report
    verbatim_problems, started = prepared.verbatim_problems, prepared.started
    with all_or_nothing(connect_target(dsn, redactor), "loading", redactor) as conn:
        with conn.transaction():
            plans = _run(conn, planner, plans, script, load, report, progress, database, verbatim)
        progress.stage("analyze")
        mark = time.perf_counter()
        conn.autocommit = True
        conn.execute(
            sql.SQL("ANALYZE {}").format(
                sql.SQL(", ").join(qualified(p.table.schema, p.table.name) for p in plans)
            )
        )
        report.timings["analyze"] = time.perf_counter() - mark
        mark = time.perf_counter()
        expected = _expected(planner.model, plans, options)
        report.fidelity = measure(
            conn,
            {
                p.table.key: (
                    p.table,
                    expected[p.table.key] + _already(options, p) + _copied(verbatim, p),
                    p.n + _already(options, p) + _copied(verbatim, p),
                )
                for p in plans
            },
            {(p.table.key, d.target) for p in plans for d in p.derived},
            {(p.table.key, c): cap for p in plans for c, cap in p.caps.items()},
            {(p.table.key, c): limit for p in plans for c, limit in p.limits.items()},
        )
        report.timings["fidelity"] = time.perf_counter() - mark
    report.timings["total"] = time.perf_counter() - started
    report.skipped += verbatim_problems
    return report


def _verbatim(
    database: Mapping[str, Any], model: DataModel, options: Options, load: LoadOptions
) -> tuple[dict[str, VerbatimTable], list[str]]:
    """The selected tables loaded with production's captured rows (not when appending:
    their rows are already there)."""
    tables, problems = verbatim_tables(database)
    selected = set(options.tables) if options.tables is not None else None
    if load.append:
        return {}, problems
    return {
        key: table
        for key, table in tables.items()
        if key in model.tables and (selected is None or key in selected)
    }, problems


def _copied(verbatim: Mapping[str, VerbatimTable], plan: TablePlan) -> int:
    table = verbatim.get(plan.table.key)
    return len(table.rows) if table is not None else 0


def _existing(
    dsn: str, model: DataModel, options: Options, redactor: Redactor
) -> dict[str, Existing]:
    """What the target's tables already hold: rows, and the largest value of each key
    column (appended keys start past it)."""
    selected = set(options.tables) if options.tables is not None else None
    with connect_target(dsn, redactor) as conn:
        try:
            return _read_existing(conn, model, selected)
        except psycopg.Error as exc:
            raise DataGenerationError(
                redactor.scrub(f"reading the target's rows for --append: {one_line(str(exc))}")
            ) from None


def _read_existing(
    conn: psycopg.Connection[Any], model: DataModel, selected: set[str] | None
) -> dict[str, Existing]:
    out: dict[str, Existing] = {}
    present = existing_tables(conn, model.tables)
    for key, table in model.tables.items():
        if key not in present or (selected is not None and key not in selected):
            continue
        # Only ordered keys need their largest value (max() means nothing for uuid or
        # text here: those continue by number, and are looked up before loading).
        keyed = sorted(
            {
                c
                for u in table.uniques
                for c in u.columns
                if table.columns[c].type.kind in ORDERED_KINDS and not table.columns[c].type.array
            }
        )
        parts: list[sql.Composable] = [sql.SQL("count(*)")]
        parts += [sql.SQL("max({})::text").format(sql.Identifier(c)) for c in keyed]
        row = conn.execute(
            sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(parts), qualified(table.schema, table.name)
            )
        ).fetchone()
        assert row is not None
        out[key] = Existing(int(row[0]), dict(zip(keyed, row[1:], strict=True)))
    return out


def _refuse_collisions(
    conn: psycopg.Connection[Any], plans: list[TablePlan], options: Options, chunk_rows: int
) -> None:
    """Appending: text and uuid keys continue where a previous run with the same seed
    stopped, but rows from elsewhere could hold any value. Every new key is looked up
    before a row is written; numeric keys start past the largest one, no look-up needed."""
    for plan in plans:
        existing = options.existing.get(plan.table.key)
        if existing is None or existing.rows == 0:
            continue
        for unique in plan.table.uniques:
            if len(unique.columns) != 1 or unique.columns[0] not in plan.renderers:
                continue
            name = unique.columns[0]
            column_plan = plan.column_plans.get(name)
            if column_plan is not None and column_plan.ordered:
                continue
            column = plan.table.columns[name]
            query = sql.SQL("SELECT count(*) FROM {} WHERE {}::text = ANY(%s)").format(
                qualified(plan.table.schema, plan.table.name), sql.Identifier(name)
            )
            for start in range(0, plan.n, chunk_rows):
                rows = np.arange(start, min(start + chunk_rows, plan.n), dtype=np.int64)
                values = [v for v in plan.renderers[name](plan.rows_of(rows)) if v != "\\N"]
                found = conn.execute(query, (values,)).fetchone()
                if found and found[0]:
                    raise DataGenerationError(
                        f"appending to {plan.table.key} would repeat {found[0]} existing values "
                        f"of its unique column {name} ({column.type.declared})",
                        hint="use another --seed, or --truncate; nothing was loaded",
                    )


def _already(options: Options, plan: TablePlan) -> int:
    """Rows the table held before an append (the report judges the whole table)."""
    existing = options.existing.get(plan.table.key)
    return existing.rows if existing else 0


def _expected(model: DataModel, plans: list[TablePlan], options: Options) -> dict[str, int]:
    """Rows asked for, per table (a plan may hold fewer: unique keys with fewer
    combinations than rows)."""
    return row_counts(
        model,
        [p.table.key for p in plans],
        scale=options.scale,
        rows=options.rows,
        default_rows=options.default_rows,
    )


def _run(
    conn: psycopg.Connection[Any],
    planner: Planner,
    plans: list[TablePlan],
    script: SchemaScript | None,
    load: LoadOptions,
    report: Report,
    progress: Progress,
    database: Mapping[str, Any],
    verbatim: Mapping[str, VerbatimTable],
) -> list[TablePlan]:
    """Schema, judged tables, COPY, production's verbatim rows, constraints, sequences;
    returns the plans as loaded (a judged table's plan is its final one)."""
    model = planner.model
    tables = {p.table.key: (p.table.schema, p.table.name, p.columns) for p in plans}
    # Generated timestamps are UTC, written without a zone suffix.
    conn.execute("SET LOCAL TIME ZONE 'UTC'")
    check_ready(
        conn, tables, create_schema=load.create_schema, truncate=load.truncate or load.append
    )
    mark = time.perf_counter()
    if script is not None:
        progress.stage("schema")
        before = _without_missing_extensions(conn, database, script, report, tables)
        report.skipped = list(script.skipped) + report.skipped + execute_script(conn, before)
    else:
        # constraints of an existing schema are checked at the end of the transaction
        # where they can be (deferrable ones), so load order within a cycle does not matter
        conn.execute("SET CONSTRAINTS ALL DEFERRED")
        if load.truncate:
            conn.execute(
                sql.SQL("TRUNCATE {}").format(
                    sql.SQL(", ").join(qualified(p.table.schema, p.table.name) for p in plans)
                )
            )
    report.timings["schema"] = time.perf_counter() - mark
    mark = time.perf_counter()
    keys = [p.table.key for p in plans]
    judge_tables(conn, planner, keys, progress)
    plans = [planner.plans[key] for key in keys]
    if any(p.row_map is not None for p in plans):
        report.timings["judge"] = time.perf_counter() - mark
    if load.append:
        _refuse_collisions(conn, plans, report.options, load.chunk_rows)
    mark = time.perf_counter()
    expected = _expected(planner.model, plans, report.options)
    for plan in _load_order(plans) if script is None else plans:
        report.tables.append(_copy_table(conn, plan, load.chunk_rows, progress))
        report.tables[-1].expected = expected[plan.table.key]
        if _already(report.options, plan):
            report.tables[-1].notes.append(
                f"{_already(report.options, plan):,} rows already held: the statistics "
                "compared are the whole table's"
            )
    for load_entry in report.tables:
        table = verbatim.get(load_entry.key)
        if table is not None:
            load_entry.rows = load_entry.expected = copy_rows(conn, table)
            load_entry.notes.append(table.note)
    report.timings["load"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if script is not None:
        progress.stage("constraints and indexes")
        report.skipped += finish_schema(conn, script)
    report.timings["constraints"] = time.perf_counter() - mark
    mark = time.perf_counter()
    progress.stage("sequences")
    written = {key: list(table.columns) for key, table in verbatim.items()}
    set_sequences(conn, model, [(p.table, written.get(p.table.key, p.columns)) for p in plans])
    report.timings["sequences"] = time.perf_counter() - mark
    return plans


def _without_missing_extensions(
    conn: psycopg.Connection[Any],
    database: Mapping[str, Any],
    script: SchemaScript,
    report: Report,
    tables: Mapping[str, Any],
) -> list[Statement]:
    """The schema's first half without the extensions this server cannot install, when
    nothing made needs them (said in the report); else one line naming the extension and
    what needs it."""
    wanted = {s.target for s in script.before_load if s.kind == "extension"}
    missing = unavailable(conn, wanted)
    for name in missing:
        needs = dependents(database, name, tables)
        version = ((database.get("extensions") or {}).get(name) or {}).get("version")
        what = f"extension {name}" + (f" {version}" if version else "")
        if needs:
            shown = ", ".join(needs[:6]) + (f" and {len(needs) - 6} more" if len(needs) > 6 else "")
            raise DataGenerationError(
                f"{what} cannot be installed on the target server (no install script for it); "
                f"{shown} need it",
                hint="install its package there (the repro/postgres images carry PostGIS, "
                "pg_partman and, from PostgreSQL 17, pgvector), or leave those tables out "
                "with --tables; nothing was loaded",
            )
        report.skipped.append(
            f"{what}: cannot be installed on the target server; nothing recreated needs its types"
        )
    return [s for s in script.before_load if not (s.kind == "extension" and s.target in missing)]


def _copy_table(
    conn: psycopg.Connection[Any], plan: TablePlan, chunk_rows: int, progress: Progress
) -> TableLoad:
    table = plan.table
    started = time.perf_counter()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        qualified(table.schema, table.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in plan.columns),
    )
    with (
        progress.table(table.key, plan.n) as advance,
        conn.cursor() as cur,
        cur.copy(statement, writer=BoundedQueuedWriter(cur)) as copy,
    ):
        _write_rows(copy, plan, chunk_rows, advance)
    return TableLoad(table.key, plan.n, plan.n, time.perf_counter() - started, plan.notes)


class BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's queued writer (it sends on a thread of its own) holding at most
    ``blocks`` blocks of 128 kB in flight: psycopg queues up to 1,024 (128 MB), which a
    renderer faster than the server fills, and the load's memory grows past its budget."""

    def __init__(self, cursor: Any, *, blocks: int = 64) -> None:
        super().__init__(cursor)
        # psycopg (pinned) makes its queue in __init__ and reads it only from write() and
        # its worker, which starts on the first write: replacing it here is safe.
        self._queue = type(self._queue)(maxsize=blocks)  # psycopg's interruptible queue


def _write_rows(copy: Copy, plan: TablePlan, chunk_rows: int, advance: Any) -> None:
    """The plan's rows as COPY text, a chunk at a time (a queued writer sends on a thread
    of its own: the next chunk is rendered while PostgreSQL parses this one)."""
    for start in range(0, plan.n, chunk_rows):
        end = min(start + chunk_rows, plan.n)
        copy.write(plan.copy_bytes(start, end))
        advance(end - start)


def _load_order(plans: list[TablePlan]) -> list[TablePlan]:
    """Parents before children when loading into an existing schema, whose constraints
    check every row. Deferrable foreign keys are checked at commit (the load defers
    them), so they do not order anything; a cycle of the others cannot be loaded."""
    by_key = {p.table.key: p for p in plans}
    order: list[TablePlan] = []
    state: dict[str, int] = {}

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = " -> ".join([*path[path.index(key) :], key])
            raise DataGenerationError(
                f"the target's foreign keys form a cycle without a deferrable edge ({cycle})",
                hint="generate into an empty database with --create-schema, which adds "
                "foreign keys after the load",
            )
        state[key] = 1
        for fk in by_key[key].table.foreign_keys:
            if fk.table in by_key and fk.table != key and not fk.deferrable:
                visit(fk.table, [*path, key])
        state[key] = 2
        order.append(by_key[key])

    for key in sorted(by_key):
        visit(key, [])
    return order
