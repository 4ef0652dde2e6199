"""CHECK shapes met by construction: NULL counts, JSON types, regular expressions; the
conjuncts left to PostgreSQL; row counts for a schema-only snapshot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.pg.tables import build_model
from repro.synth.check_forms import NonNullCount, parse_non_null_count
from repro.synth.check_parser import json_type_of, parse_check
from repro.synth.keys import ParentIndex
from repro.synth.patterns import build, matches
from repro.synth.plan import Options, Planner
from repro.synth.row_counts import row_counts
from repro.synth.table_checks import table_checks

FAST = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(
    ("conjunct", "expected"),
    [
        (
            "(plan_id IS NOT NULL) <> (subscription_id IS NOT NULL)",
            ("plan_id", "subscription_id", 1, 1),
        ),
        ("((a IS NULL) <> (b IS NULL))", ("a", "b", 1, 1)),
        ('num_nonnulls(a, "B c", d) = 1', ("a", "B c", "d", 1, 1)),
        ("num_nonnulls(a, b) <= 1", ("a", "b", 0, 1)),
        ("num_nonnulls(a, b, c) >= 2", ("a", "b", "c", 2, 3)),
        ("num_nulls(a, b, c) = 2", ("a", "b", "c", 1, 1)),
        ("1 = num_nonnulls(a, b)", ("a", "b", 1, 1)),
    ],
)
def test_null_counts(conjunct: str, expected: tuple[Any, ...]) -> None:
    found = parse_non_null_count("c", conjunct)
    assert found is not None
    assert (*found.columns, found.low, found.high) == expected


@pytest.mark.parametrize(
    "conjunct",
    [
        "(a IS NOT NULL) <> (b IS NULL)",  # one set and the other set, or neither: no count
        "(a > 0) <> (b IS NOT NULL)",
        "num_nonnulls(a, a) = 1",
        "num_nonnulls(a, b) = 5",
        "num_nonnulls(a, b) <> 1",
    ],
)
def test_not_null_counts(conjunct: str) -> None:
    assert parse_non_null_count("c", conjunct) is None


def table(checks: dict[str, str], columns: dict[str, str] | None = None) -> dict[str, Any]:
    cols = columns or {"a": "text", "b": "text", "meta": "jsonb", "code": "text"}
    return {
        "schema": "s",
        "name": "t",
        "kind": "table",
        "rows_estimate": None,
        "columns": {
            name: {"position": i + 1, "type": kind, "nullable": True}
            for i, (name, kind) in enumerate(cols.items())
        },
        "constraints": {
            name: {"type": "check", "definition": definition} for name, definition in checks.items()
        },
    }


def test_conjuncts_are_met_by_construction_or_judged() -> None:
    model = build_model(
        {
            "tables": {
                "s.t": table(
                    {
                        "one": "CHECK (((a IS NOT NULL) <> (b IS NOT NULL)))",
                        "shape": "CHECK (((jsonb_typeof(meta) = 'array'::text) AND "
                        "((meta -> 0) IS NOT NULL)))",
                        "code": "CHECK (((code)::text ~ '^[a-z0-9_]{1,20}$'::text))",
                        "case": "CHECK ((char_length(CASE a WHEN 'x'::text THEN b ELSE a END) "
                        "<= 10))",
                    }
                )
            }
        }
    )
    problems: list[str] = []
    checks = table_checks(model, model.tables["s.t"], problems)
    assert problems == []
    assert checks.counts == [NonNullCount("one", ("a", "b"), 1, 1)]
    assert checks.parsed.columns["meta"].json_type == "array"
    judged = {j.what: j.expression for j in checks.judged}
    assert judged["CHECK shape"] == "(meta -> 0) IS NOT NULL"
    assert judged["CHECK case"].startswith("char_length(CASE a WHEN")
    assert "CHECK code" in judged  # PostgreSQL's regular expressions have the last word


def test_hostile_check_text_is_a_problem_not_sql() -> None:
    model = build_model({"tables": {"s.t": table({"evil": "CHECK ((a = '1')) OR true; DROP"})}})
    problems: list[str] = []
    checks = table_checks(model, model.tables["s.t"], problems)
    assert checks.judged == []
    assert problems and "is not one SQL expression" in problems[0]


def test_rows_keep_their_null_counts() -> None:
    model = build_model(
        {
            "tables": {
                "s.t": table(
                    {
                        "one": "CHECK ((num_nonnulls(a, b, code) = 1))",
                        "shape": "CHECK ((jsonb_typeof(meta) = 'array'::text))",
                        "code": "CHECK (((code)::text ~ '^[a-z]{3}-[0-9]{2}$'::text))",
                    }
                )
            }
        }
    )
    plan = Planner(model, Options(seed=4, default_rows=500)).plan()[0]
    rendered = plan.rendered(np.arange(plan.n, dtype=np.int64))
    set_count = sum(np.array([v != "\\N" for v in rendered[c]]) for c in ("a", "b", "code"))
    assert set(set_count.tolist()) == {1}
    assert all(json_type_of(v) == "array" for v in rendered["meta"] if v != "\\N")
    codes = [v for v in rendered["code"] if v != "\\N"]
    assert codes and all(matches("^[a-z]{3}-[0-9]{2}$", v) for v in codes)


@FAST
@given(st.integers(min_value=0, max_value=10**9))
def test_pattern_texts_match(k: int) -> None:
    for pattern in (r"^[a-z0-9_]{1,100}$", r"^[A-Z]{2}\d{4}$", r"^(foo|bar)-[[:digit:]]+$", "@"):
        text = build(pattern, k)
        assert text is not None and matches(pattern, text), (pattern, text)


def test_pattern_texts_are_distinct_while_the_pattern_has_room() -> None:
    texts = {build(r"^[a-z]{4}$", k) for k in range(5000)}
    assert len(texts) == 5000
    assert build("(unclosed", 1) is None  # left to PostgreSQL


def test_default_rows_fan_out_and_unique_keys() -> None:
    def t(name: str, fks: dict[str, tuple[list[str], str]], unique: list[str] | None = None) -> Any:
        constraints: dict[str, Any] = {
            f"{name}_{c}_fkey": {
                "type": "foreign_key",
                "columns": cols,
                "references": {"table": ref, "columns": ["id"]},
            }
            for c, (cols, ref) in fks.items()
        }
        if unique:
            constraints[f"{name}_key"] = {"type": "unique", "columns": unique}
        columns = {"id": {"position": 1, "type": "bigint"}}
        columns.update({c: {"position": 2 + i, "type": "bigint"} for i, c in enumerate(fks)})
        return {
            "schema": "s",
            "name": name,
            "kind": "table",
            "columns": columns,
            "constraints": constraints,
            "rows_estimate": 0,
        }

    model = build_model(
        {
            "tables": {
                "s.a": t("a", {}),
                "s.b": t("b", {"a_id": (["a_id"], "s.a")}),
                "s.c": t("c", {"b_id": (["b_id"], "s.b")}),
                "s.d": t("d", {"c_id": (["c_id"], "s.c")}),
                "s.e": t("e", {"d_id": (["d_id"], "s.d")}),
                "s.profile": t("profile", {"a_id": (["a_id"], "s.a")}, unique=["a_id"]),
            }
        }
    )
    counts = row_counts(model, sorted(model.tables), scale=1.0, rows={}, default_rows=10)
    assert counts == {
        "s.a": 10,
        "s.b": 20,
        "s.c": 40,
        "s.d": 80,
        "s.e": 80,  # at most x8
        "s.profile": 10,  # one per a: its unique key holds no more
    }
    assert row_counts(model, ["s.a"], scale=1.0, rows={"s.a": 3}, default_rows=10) == {"s.a": 3}
    assert row_counts(model, ["s.a"], scale=1.0, rows={}, default_rows=None) == {"s.a": 0}


def test_a_parent_index_picks_matching_slots() -> None:
    values = [("t1",), ("t2",), ("t1",), ("t3",), ("t1",)]
    index = ParentIndex(values, np.arange(5, dtype=np.int64))
    rows = np.arange(6, dtype=np.int64)
    picks = index.pick([("t1",), ("t2",), ("t9",), ("t1",), ("t3",), ("t1",)], 7, rows)
    assert [values[p][0] if p >= 0 else None for p in picks] == ["t1", "t2", None, "t1", "t3", "t1"]
    # a self-reference takes an earlier row of the same values, or none
    early = index.pick([("t1",)] * 5, 7, np.arange(5, dtype=np.int64), before=True)
    assert early[0] == -1 and all(p < r for r, p in enumerate(early) if p >= 0)
    # turns: rows of distinct turns, distinct slots (while the group lasts)
    turns = index.pick([("t1",)] * 3, 7, np.arange(3, dtype=np.int64), turns=np.arange(3))
    assert sorted(turns.tolist()) == [0, 2, 4]


def test_parse_check_json_type() -> None:
    rule = parse_check("CHECK ((jsonb_typeof(doc) = 'object'::text))").columns["doc"]
    assert rule.json_type == "object"


def test_the_planning_view() -> None:
    """A partition's own foreign key binds its parent's rows; a partial unique index is no
    key made unique everywhere (PostgreSQL judges it); the masked copy's model keeps both
    as they are."""
    from repro.synth.model_view import planning_view

    def columns(*names: str) -> dict[str, Any]:
        return {n: {"position": i + 1, "type": "bigint"} for i, n in enumerate(names)}

    database = {
        "tables": {
            "s.users": {
                "schema": "s",
                "name": "users",
                "kind": "table",
                "columns": columns("id"),
                "constraints": {"users_pkey": {"type": "primary_key", "columns": ["id"]}},
            },
            "s.ev": {
                "schema": "s",
                "name": "ev",
                "kind": "partitioned_table",
                "partition_by": "RANGE (at)",
                "columns": columns("id", "at", "user_id"),
                "indexes": {
                    "one": {
                        "unique": True,
                        "columns": ["user_id"],
                        "predicate": "(id > 0)",
                        "definition": "x",
                    }
                },
            },
            "s.ev_1": {
                "schema": "s",
                "name": "ev_1",
                "kind": "table",
                "partition_of": "s.ev",
                "partition_bound": "FOR VALUES FROM (0) TO (10)",
                "columns": columns("id", "at", "user_id"),
                "constraints": {
                    "ev_1_user_fkey": {
                        "type": "foreign_key",
                        "columns": ["user_id"],
                        "references": {"table": "s.users", "columns": ["id"]},
                    }
                },
            },
        }
    }
    model = build_model(database)
    assert [fk.name for fk in model.tables["s.ev"].foreign_keys] == []
    assert [u.name for u in model.tables["s.ev"].uniques] == ["one"]
    view = planning_view(model)
    assert [fk.name for fk in view.tables["s.ev"].foreign_keys] == ["ev_1_user_fkey"]
    assert view.tables["s.ev"].uniques == []
    assert [u.name for u in view.tables["s.ev"].unique_indexes] == ["one"]
