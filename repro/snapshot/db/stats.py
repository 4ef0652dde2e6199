"""Planner statistics (pg_stats): the shape of production data, without its values.

Only what ANALYZE left behind is read; a table never analyzed gets ``"analyzed": false``
columns, which is a fact about production, not an error. Values of personal columns become
keyed fingerprints (their frequencies kept, so skew survives), histogram bounds of personal
columns are left out, and histograms are cut down to a few quantiles on the server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from repro.pg.personal import PersonalRules
from repro.pg.session import Part, Rows, Session
from repro.snapshot.db.relations import Catalog

STATS_KINDS = ("table", "partitioned_table", "foreign_table", "materialized_view")


def typed_bound(text: str) -> Any:
    """A numeric column's bound as a JSON number when that loses nothing: integers, and
    decimals short enough (16 characters: at most 15 significant digits) for a double to
    hold exactly, ``1.50`` -> 1.5; others (NaN, long numerics) stay text."""
    digits = text[1:] if text[:1] == "-" else text
    # An integer: no exception to pay for (Python refuses to parse over 4,300 digits).
    if digits.isascii() and digits.isdigit() and len(digits) < 4300:
        return int(text)
    if len(text) <= 16 and digits.replace(".", "", 1).isdigit():
        return float(text)
    return text


def typed_bounds(texts: list[str]) -> list[Any]:
    """:func:`typed_bound` of each; a column of integers (the common case) in one pass."""
    try:
        return [int(text) for text in texts]
    except ValueError:
        return [typed_bound(text) for text in texts]


def distinct_count(n_distinct: float | None, rows: float | None) -> float | None:
    """pg_stats.n_distinct is a count, or minus a fraction of the rows when ANALYZE thinks
    the count grows with the table: as a count (unbounded when the rows are unknown, which
    keeps such a column's values out of the snapshot)."""
    if n_distinct is None or n_distinct >= 0:
        return n_distinct
    return -n_distinct * rows if rows else math.inf


@dataclass
class StatsReader:
    """Reads pg_stats in one query and turns its rows into per-column statistics; both may
    run on another thread (with a second connection), while the schema is read here."""

    session: Session
    catalog: Catalog
    rules: PersonalRules
    mcv_limit: int
    histogram_points: int
    # (table key, column) -> (type category, table's row estimate), to judge columns by
    meta: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    # (table key, column) -> that column's statistics, from prepare()
    prepared: dict[tuple[str, str], dict[str, Any]] | None = None
    out: dict[str, Any] = field(default_factory=dict)
    unanalyzed: set[int] = field(default_factory=set)

    def query(self) -> Part:
        """Only the first ``mcv_limit`` most common values and ``histogram_points`` evenly
        spaced histogram bounds (each still a quantile: the buckets hold equal numbers of
        rows) leave the server."""
        points = max(2, self.histogram_points)
        picks = ", ".join(
            f"v.b[1 + (pg_catalog.cardinality(v.b) - 1) * {i} / {points - 1}]"
            for i in range(points)
        )
        return Part(
            "statistics",
            f"""
            SELECT s.schemaname || '.' || s.tablename AS key, s.attname, s.inherited,
                   s.null_frac, s.avg_width, s.n_distinct, s.correlation,
                   -- all frequencies: their count and sum are taken here, not per row there
                   v.m[1:%(mcv)s] AS mcv, s.most_common_freqs AS mcf,
                   pg_catalog.cardinality(v.b) AS bounds_count,
                   CASE WHEN v.b IS NULL OR pg_catalog.cardinality(v.b) <= {points} THEN v.b
                        ELSE ARRAY[{picks}] END AS bounds
            FROM pg_catalog.pg_stats s,
                 -- anyarray has no direct cast to text[]: through its text form, once
                 -- (OFFSET 0 keeps the planner from repeating the casts per reference)
                 LATERAL (SELECT s.most_common_vals::text::text[] AS m,
                                 s.histogram_bounds::text::text[] AS b OFFSET 0) v
            WHERE s.schemaname = ANY(%(schemas)s)
              -- the table names halve the view's work: without them it checks privileges
              -- on every index column of the schemas too
              AND s.tablename = ANY(ARRAY(
                  SELECT c.relname FROM pg_catalog.pg_class c
                  WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'm')))
            """,
            {
                "schemas": sorted(set(self.catalog.namespaces.values())),
                "nsp": self.catalog.namespace_oids,
                "mcv": max(self.mcv_limit, 0),
            },
            handle=self.prepare,
        )

    def meta_query(self) -> Part:
        """What judging a column needs besides its statistics, for a second connection
        that has not read the columns (a join in the statistics query costs more)."""

        def handle(rows: Rows) -> None:
            self.meta = {(r.key, r.attname): (r.typcategory, r.reltuples) for r in rows}

        return Part(
            "statistics column types",
            """
            SELECT n.nspname || '.' || c.relname AS key, a.attname, t.typcategory, c.reltuples
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE c.relnamespace = ANY(%(nsp)s) AND c.relkind IN ('r', 'p', 'f', 'm')
              AND a.attnum > 0 AND NOT a.attisdropped
            """,
            {"nsp": self.catalog.namespace_oids},
            handle=handle,
        )

    def meta_from_catalog(self) -> Part:
        """The same, from the columns this connection read (a step, no query)."""

        def handle(rows: Rows) -> None:
            for rel in self.catalog.relations.values():
                reltuples = rel.entry.get("rows_estimate")
                for name, category in rel.categories.items():
                    self.meta[(rel.key, name)] = (
                        category,
                        -1.0 if reltuples is None else float(reltuples),
                    )

        return Part("statistics column types", handle=handle)

    def prepare(self, rows: Rows) -> None:
        """Judge and shape every column that has statistics (needs nothing else)."""
        # A partitioned table only has "inherited" statistics (over all partitions); a plain
        # table with inheritance children has both, and its own rows are the ones to keep.
        chosen: dict[tuple[str, str], Any] = {}
        for row in rows:
            ident = (row.key, row.attname)
            if ident not in chosen or not row.inherited:
                chosen[ident] = row
        self.prepared = {ident: self._column(row) for ident, row in chosen.items()}

    def build(self) -> dict[str, Any]:
        """The ``statistics`` section, for the relations and columns read. Columns without
        statistics are checked by :meth:`finish`."""
        prepared = self.prepared or {}
        for oid, rel in self.catalog.relations.items():
            if rel.kind not in STATS_KINDS:
                continue
            columns: dict[str, Any] = {}
            for name in rel.columns_by_attnum.values():
                column = prepared.get((rel.key, name))
                if column is None:
                    self.unanalyzed.add(oid)
                    verdict = self.rules.judge(
                        rel.key, name, rel.categories.get(name, ""), None, ()
                    )
                    column = {"analyzed": False, "personal": verdict.personal}
                columns[name] = column
            self.out[rel.key] = {
                "rows_estimate": rel.entry.get("rows_estimate"),
                "size_bytes": rel.entry.get("size_bytes"),
                "columns": columns,
            }
        return self.out

    def finish(self) -> None:
        """A column without statistics was never analyzed, or pg_stats hides it from us (no
        SELECT privilege, row-level security): ask which, only for the tables concerned
        (none, in an analyzed database)."""
        if not self.unanalyzed:
            return
        hidden: list[tuple[int, str]] = []
        self.session.run(
            [
                Part(
                    "statistics privileges",
                    """
            SELECT a.attrelid, a.attname
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            WHERE c.oid = ANY(%(relations)s) AND a.attnum > 0 AND NOT a.attisdropped
              AND NOT (pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
                       AND (NOT c.relrowsecurity OR NOT pg_catalog.row_security_active(c.oid)))
            """,
                    {"relations": sorted(self.unanalyzed)},
                    handle=lambda rows: hidden.extend((r.attrelid, r.attname) for r in rows),
                )
            ]
        )
        if not hidden:
            return
        tables = sorted({self.catalog.relations[oid].key for oid, _ in hidden})
        for oid, name in hidden:
            key = self.catalog.relations[oid].key
            self.out[key]["columns"][name] = {"analyzed": None, "readable": False}
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        self.session.problems.append(
            f"statistics: no SELECT privilege on {len(hidden)} columns of {len(tables)} "
            f"tables, their statistics are hidden ({shown})"
        )

    def _column(self, row: Any) -> dict[str, Any]:
        key, name = row.key, row.attname
        category, reltuples = self.meta.get((key, name), ("", -1.0))
        mcv: list[str] = row.mcv or []
        bounds: list[str] = row.bounds or []
        n_distinct = row.n_distinct
        rows = None if reltuples < 0 else reltuples
        verdict = self.rules.judge(
            key, name, category, distinct_count(n_distinct, rows), chain(mcv, bounds)
        )
        out: dict[str, Any] = {
            "analyzed": True,
            "personal": verdict.personal,
            # float4 values arrive in PostgreSQL's shortest exact text form (0.333, not
            # 0.33300000429153442): nothing to round to keep snapshots small and stable.
            "null_frac": row.null_frac,
            "avg_width": row.avg_width,
            "n_distinct": n_distinct,
            "correlation": row.correlation,
            "mcv": None,
            "histogram": None,
        }
        if verdict.personal:
            out["personal_reason"] = verdict.reason
        if mcv:
            fingerprint = self.rules.redactor.fingerprint
            frequencies: list[float] = row.mcf or []
            out["mcv"] = {
                "values_fingerprinted": verdict.personal,
                "count": len(frequencies),
                "frequency_sum": round(sum(frequencies), 6),
                "frequencies": {
                    (fingerprint(value) if verdict.personal else value): freq
                    for value, freq in zip(mcv, frequencies, strict=False)
                },
            }
        if bounds:
            histogram: dict[str, Any] = {"buckets": row.bounds_count - 1}
            if verdict.personal:
                histogram["bounds"] = None
                histogram["bounds_omitted"] = "personal"
            elif category == "N":
                histogram["bounds"] = typed_bounds(bounds)
            else:
                histogram["bounds"] = bounds
            out["histogram"] = histogram
        return out
