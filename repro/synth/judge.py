"""Conditions PostgreSQL judges: a CHECK the generator does not meet by construction, a
unique index on expressions. The table's candidate rows are rendered into a staging table
shaped like it (``LIKE``, in the load's transaction), PostgreSQL deletes those a condition
rejects and all but the first of each value of a judged unique index, and the table keeps
the first ``n`` survivors. A shortfall is made up by planning more candidates (other values:
every column's plan depends on the row count), a few times, growing by the share rejected.

A table none of whose candidates pass is refused with the condition and PostgreSQL's count
("0 of 4,096 candidate rows pass"); one that keeps fewer rows than asked says so in its
notes, and the tables pointing at it are planned again for the rows it has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from repro.errors import DataGenerationError
from repro.pg.tables import UniqueIndex
from repro.pg.target_db import qualified
from repro.progress import Progress
from repro.synth.plan import Planner
from repro.synth.row_counts import parents_first
from repro.synth.table_plan import TablePlan
from repro.text import one_line

STAGE = "repro_judged_rows"
ROW = "repro_candidate"
ROUNDS = 4
FIRST_EXTRA = 1.25  # candidates in the first round, per row wanted
MAX_CANDIDATES = 20_000_000
MIN_CANDIDATES = 256
CHUNK_ROWS = 50_000


def judge_tables(
    conn: psycopg.Connection[Any], planner: Planner, keys: list[str], progress: Progress
) -> None:
    """Judge every table of ``keys`` (parents first) that has judged conditions."""
    for key in parents_first(planner.model, keys):
        plan = planner.plans[key]
        if plan.needs_judging:
            progress.stage(f"judging {key}")
            _judge(conn, planner, plan)


@dataclass
class _Verdict:
    kept: np.ndarray  # candidate numbers PostgreSQL kept, ascending
    rejected: dict[str, int] = field(default_factory=dict)  # condition -> candidates rejected
    error: str | None = None  # PostgreSQL could not evaluate a condition


def _judge(conn: psycopg.Connection[Any], planner: Planner, plan: TablePlan) -> None:
    key = plan.table.key
    wanted = min(plan.n, planner.counts[key])
    candidates = max(math.ceil(wanted * FIRST_EXTRA), MIN_CANDIDATES)
    plan = planner.replan(key, candidates)
    for attempt in range(ROUNDS):
        verdict = _evaluate(conn, plan)
        if verdict.error is not None:
            raise DataGenerationError(
                f"cannot generate valid data: {key}: PostgreSQL could not judge its candidate "
                f"rows: {verdict.error}",
                hint="nothing was loaded",
            )
        kept = verdict.kept
        if len(kept) >= wanted or attempt == ROUNDS - 1 or plan.n < candidates:
            break
        share = len(kept) / max(plan.n, 1)
        if share == 0 and attempt > 0:
            break  # none of several thousand: hopeless, not unlucky
        grown = candidates * 8 if share == 0 else math.ceil(wanted / share * 1.2)
        grown = min(max(grown, candidates * 2), MAX_CANDIDATES)
        if grown <= candidates:
            break
        candidates = grown
        plan = planner.replan(key, candidates)
    if not len(kept):
        raise DataGenerationError(_refusal(plan, verdict.rejected), hint="nothing was loaded")
    tried = plan.n
    plan.keep(kept[:wanted])
    names = ", ".join(
        [j.what for j in plan.judged] + [f"unique index {u.name}" for u in plan.judged_uniques]
    )
    plan.notes.append(
        f"judged by PostgreSQL ({names}): {len(kept):,} of {tried:,} candidate rows pass"
    )
    if plan.n < wanted:
        plan.notes.append(f"only {plan.n:,} rows of {wanted:,} asked for pass {names}")
    if plan.n < planner.counts[key]:
        planner.resize(key, plan.n)


def _refusal(plan: TablePlan, rejected: dict[str, int]) -> str:
    """Name what no candidate passes: the conditions that rejected every candidate, or
    (each passing some) all of them together."""
    reasons = {j.what: j.reason for j in plan.judged}
    every = [what for what, count in rejected.items() if count >= plan.n] or list(rejected)
    detail = "; ".join(
        f"{what} (not met by construction: {one_line(reasons[what])})" if what in reasons else what
        for what in every
    )
    together = "" if len(every) == 1 else " (together)"
    return (
        f"cannot generate valid data: {plan.table.key}: no candidate row passes {detail}"
        f"{together}: PostgreSQL accepted 0 of {plan.n:,} candidate rows"
    )


def _evaluate(conn: psycopg.Connection[Any], plan: TablePlan) -> _Verdict:
    """Stage the candidates and have PostgreSQL judge them. A condition it cannot evaluate
    on some candidate (a cast, a division by zero) undoes the staging and is the verdict."""
    stage, row = sql.Identifier(STAGE), sql.Identifier(ROW)
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL(
                    "CREATE TEMPORARY TABLE {} (LIKE {} INCLUDING GENERATED) ON COMMIT DROP"
                ).format(stage, qualified(plan.table.schema, plan.table.name))
            )
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint").format(stage, row))
            _base_types(conn)
            columns = [sql.Identifier(c) for c in plan.columns] + [row]
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(stage, sql.SQL(", ").join(columns))
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                for start in range(0, plan.n, CHUNK_ROWS):
                    rows = np.arange(start, min(start + CHUNK_ROWS, plan.n), dtype=np.int64)
                    copy.write(plan.render(rows, numbered=True).encode())
            verdict = _Verdict(np.zeros(0, dtype=np.int64))
            if plan.judged:
                tests = [
                    sql.SQL("count(*) FILTER (WHERE ({}) IS FALSE)").format(sql.SQL(j.expression))
                    for j in plan.judged
                ]
                found = conn.execute(
                    sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(tests), stage),
                    binary=True,  # extended protocol: one statement, whatever the text
                ).fetchone()
                assert found is not None
                for judged, count in zip(plan.judged, found, strict=True):
                    verdict.rejected[judged.what] = verdict.rejected.get(judged.what, 0) + int(
                        count
                    )
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE NOT ({})").format(
                        stage,
                        sql.SQL(" AND ").join(
                            sql.SQL("({}) IS NOT FALSE").format(sql.SQL(j.expression))
                            for j in plan.judged
                        ),
                    ),
                    binary=True,
                )
            for index in plan.judged_uniques:
                cursor = conn.execute(_dedupe(index), binary=True)
                verdict.rejected[f"unique index {index.name}"] = cursor.rowcount
            kept = conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY 1").format(row, stage))
            verdict.kept = np.asarray([r[0] for r in kept.fetchall()], dtype=np.int64)
            conn.execute(sql.SQL("DROP TABLE {}").format(stage))
            return verdict
    except psycopg.Error as exc:
        return _Verdict(np.zeros(0, dtype=np.int64), error=one_line(str(exc)).split(" LINE ")[0])


def _base_types(conn: psycopg.Connection[Any]) -> None:
    """Staging columns of a domain type take the domain's base type: the domain's checks are
    judged like the table's, not refused by COPY."""
    rows = conn.execute(
        """
        WITH RECURSIVE base(attname, typ, typmod) AS (
            SELECT a.attname, a.atttypid, a.atttypmod
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
          UNION ALL
            SELECT b.attname, t.typbasetype, t.typtypmod
            FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.typ
            WHERE t.typtype = 'd')
        SELECT b.attname, pg_catalog.format_type(b.typ, b.typmod)
        FROM base b JOIN pg_catalog.pg_type t ON t.oid = b.typ
        WHERE t.typtype <> 'd'
          AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                      JOIN pg_catalog.pg_type d ON d.oid = a.atttypid
                      WHERE a.attrelid = %s::regclass AND a.attname = b.attname
                        AND d.typtype = 'd')
        """,
        (f"pg_temp.{STAGE}", f"pg_temp.{STAGE}"),
    ).fetchall()
    for name, base in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
                sql.Identifier(STAGE), sql.Identifier(name), sql.SQL(base)
            )
        )


def _dedupe(index: UniqueIndex) -> sql.Composed:
    """Delete all but the first candidate of each value the index holds (rows outside a
    partial index, and rows with a NULL item unless NULLS NOT DISTINCT, are not in it)."""
    items = sql.SQL(", ").join(sql.SQL(item) for item in index.items)
    where: list[sql.Composable] = []
    if index.predicate:
        where.append(sql.SQL("({}) IS TRUE").format(sql.SQL(index.predicate)))
    if index.nulls_distinct:
        where += [sql.SQL("({}) IS NOT NULL").format(sql.SQL(item)) for item in index.items]
    condition = sql.SQL(" AND ").join(where) if where else sql.SQL("true")
    return sql.SQL(
        "DELETE FROM {stage} s USING (SELECT {row} AS r, row_number() OVER "
        "(PARTITION BY {items} ORDER BY {row}) AS k FROM {stage} WHERE {condition}) d "
        "WHERE d.k > 1 AND s.{row} = d.r"
    ).format(stage=sql.Identifier(STAGE), row=sql.Identifier(ROW), items=items, condition=condition)
