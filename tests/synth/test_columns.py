"""The pure parts of the generator: shuffles, row splits, value spaces, meanings, derived
checks, and whole-table plans built from literal statistics (no database)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from repro.errors import DataGenerationError
from repro.pg.meaning import meaning_of, text_value
from repro.pg.tables import ColumnStats, build_model
from repro.pg.types import resolve_type
from repro.synth.columns import ColumnPlan, Shuffle, split_rows
from repro.synth.derived import Derived, parse_derived, parse_with_derived, split_conjuncts
from repro.synth.plan import Options, build_plans
from repro.synth.value_spaces import NULL, Listed, Ordered, Structured, Text, Uuid, copy_escape
from tests.helpers.facet_tables import column, fk, table, unique


def stats(**values: Any) -> ColumnStats:
    base: dict[str, Any] = {
        "null_frac": 0.0,
        "n_distinct": -1.0,
        "avg_width": 8,
        "mcv_values": (),
        "mcv_freqs": (),
        "mcv_fingerprinted": False,
        "mcv_count": 0,
        "mcv_frequency_sum": 0.0,
        "bounds": None,
    }
    base.update(values)
    if "mcv_values" in values and "mcv_count" not in values:
        base["mcv_count"] = len(values["mcv_values"])
        base["mcv_frequency_sum"] = sum(values["mcv_freqs"])
    return ColumnStats(**base)


@pytest.mark.parametrize("n", [1, 2, 10, 97, 1000, 65536, 100_003])
def test_shuffle_is_a_bijection(n: int) -> None:
    shuffle = Shuffle.seeded(n, seed=12345)
    rows = np.arange(n, dtype=np.int64)
    assert sorted(shuffle(rows).tolist()) == list(range(n))


def test_split_is_exact_for_nulls_mcvs_and_distinct_values() -> None:
    split = split_rows(
        10_000,
        stats(null_frac=0.05, n_distinct=-0.5, mcv_values=("a", "b"), mcv_freqs=(0.3, 0.1)),
        nullable=True,
        unique=False,
        mcv_count=2,
        space_size=None,
        default_distinct=1,
    )
    assert split.nulls == 500
    assert split.mcv_rows == [3000, 1000]
    assert split.rest_rows == 5500
    assert split.rest_distinct == 5000 - 2  # -0.5 of 10,000 rows, less the two MCVs


def test_split_when_every_value_is_a_common_one() -> None:
    split = split_rows(
        101,
        stats(n_distinct=3, mcv_values=("x", "y", "z"), mcv_freqs=(0.5, 0.3, 0.2)),
        nullable=False,
        unique=False,
        mcv_count=3,
        space_size=None,
        default_distinct=1,
    )
    assert sum(split.mcv_rows) == 101 and split.rest_rows == 0


def test_column_plan_renders_the_split_exactly() -> None:
    n = 20_000
    column_stats = stats(
        null_frac=0.1, n_distinct=-0.25, mcv_values=("US", "DE"), mcv_freqs=(0.4, 0.1)
    )
    split = split_rows(
        n,
        column_stats,
        nullable=True,
        unique=False,
        mcv_count=2,
        space_size=None,
        default_distinct=1,
    )
    space = Text(None, 0, None, None)
    plan = ColumnPlan("c", n, Shuffle.seeded(n, 3), split, ["US", "DE"], space)
    texts = plan.texts(np.arange(n, dtype=np.int64))
    counts = Counter(texts)
    assert counts[NULL] == 2000
    assert counts["US"] == 8000 and counts["DE"] == 2000
    assert len(counts) == 2 + 1 + split.rest_distinct
    # any chunk renders the same rows the same way
    assert plan.texts(np.arange(100, 200, dtype=np.int64)) == texts[100:200]


def test_ordered_space_follows_the_histogram_and_stays_in_bounds() -> None:
    space = Ordered("int", [0.0, 100.0, 1000.0], 1.0, 1001)
    space.spread(100)
    values = space.numbers(np.arange(100, dtype=np.int64))
    assert len(set(values.tolist())) == 100
    assert values.min() >= 0 and values.max() <= 1000
    # half the values below the middle bound, as the equi-depth histogram says
    assert (values <= 100).sum() in range(48, 53)


def test_ordered_space_renders_types() -> None:
    day = Ordered("date", [0.0, 1.0], 1.0, 2)
    assert day.render(np.array([0.0, 19358.0])) == ["1970-01-01", "2023-01-01"]
    stamp = Ordered("timestamptz", [0.0, 1.0], 1.0, None)
    assert stamp.render(np.array([86400.0])) == ["1970-01-02T00:00:00"]  # a UTC session
    money = Ordered("numeric", [0.0, 1.0], 0.01, None, scale=2)
    assert money.render(np.array([1.5])) == ["1.50"]
    assert stamp.parse("2023-01-01 00:00:00+01") == 1672527600.0


@pytest.mark.parametrize(
    "space",
    [
        Text("email", 5, None, None),
        Text("full_name", 0, None, None),
        Text(None, 0, 8, None),
        Text(None, 0, None, 40),
        Uuid(9),
        Structured("inet", "inet", 0),
        Structured("inet", "cidr", 0),
        Structured("json", "jsonb", 0),
    ],
)
def test_spaces_are_injective(space: Any) -> None:
    ks = np.arange(0, 3_000_000, 997, dtype=np.int64)
    texts = space.texts(ks)
    assert len(set(texts)) == len(texts)


def test_meanings_and_realistic_text() -> None:
    assert meaning_of("customer_email") == "email"
    assert meaning_of("billing_city") == "city"
    assert meaning_of("product_name") == "title"
    assert meaning_of("status") is None
    email = text_value("email", 42, 0)
    assert "@example." in email and " " not in email
    assert text_value("phone", 7, 0).startswith("+1-555-")


def test_copy_escape() -> None:
    assert copy_escape("a\tb\\c\nd") == "a\\tb\\\\c\\nd"


def test_listed_space_cycles() -> None:
    assert Listed(["a", "b"]).texts(np.array([0, 1, 2, 5])) == ["a", "b", "a", "b"]


def test_types_resolve_domains_enums_and_typmods() -> None:
    database = {
        "domains": {
            "app.money": {
                "type": "numeric(12,2)",
                "nullable": False,
                "checks": {"pos": "CHECK ((VALUE >= (0)::numeric))"},
            }
        },
        "enums": {"app.mood": {"labels": ["sad", "ok"]}},
    }
    money = resolve_type("app.money", database)
    assert (money.kind, money.precision, money.scale, money.domain_not_null) == (
        "numeric",
        12,
        2,
        True,
    )
    assert money.domain_checks == ("CHECK ((VALUE >= (0)::numeric))",)
    mood = resolve_type("app.mood[]", database)
    assert (mood.kind, mood.array, mood.labels) == ("enum", True, ("sad", "ok"))
    text = resolve_type("character varying(40)", database)
    assert (text.kind, text.max_length) == ("text", 40)
    assert resolve_type("character(2)", database).fixed_length
    assert resolve_type("geometry", database).kind == "geometry"  # PostGIS: built
    assert resolve_type("box", database).kind == "unknown"


def test_derived_checks() -> None:
    definition = "CHECK (((a >= 0) AND (b >= 0) AND (total = (a + b))))"
    assert split_conjuncts(definition) == ["a >= 0", "b >= 0", "total = (a + b)"]
    parsed, derived = parse_with_derived(definition)
    assert derived == [Derived("total", "a", "+", "b")]
    assert set(parsed.columns) == {"a", "b"}
    assert parse_derived('"Total" = ("Net" * qty)') == Derived("Total", "Net", "*", "qty")
    assert parse_derived("a > b") is None


# ---------------------------------------------------------------- whole plans, literal data


def shop_database() -> dict[str, Any]:
    return {
        "tables": {
            "s.orders": table(
                "orders",
                {"id": column(1, "bigint", nullable=False, identity="always")},
                {"orders_pkey": unique("id", kind="primary_key")},
                500,
            ),
            "s.lines": table(
                "lines",
                {
                    "order_id": column(1, "bigint", nullable=False),
                    "line_no": column(2, "smallint", nullable=False),
                    "flag": column(3, "boolean", nullable=False),
                },
                {
                    "lines_pkey": unique("order_id", "line_no", kind="primary_key"),
                    "lines_order_fkey": fk(["order_id"], "s.orders", ["id"]),
                },
                1200,
            ),
            "s.tags": table(
                "tags",
                {
                    "a": column(1, "bigint", nullable=False),
                    "b": column(2, "boolean", nullable=False),
                },
                {"tags_ab": unique("a", "b"), "tags_a_fkey": fk(["a"], "s.orders", ["id"])},
                5000,
            ),
        },
        "statistics": {},
    }


def rows_of(plan: Any) -> list[list[str]]:
    return [line.split("\t") for line in plan.chunk(0, plan.n).splitlines()]


def test_composite_keys_never_collide_and_point_at_parents() -> None:
    plans = {p.table.key: p for p in build_plans(build_model(shop_database()), Options(seed=5))}
    orders = {r[0] for r in rows_of(plans["s.orders"])}
    lines = rows_of(plans["s.lines"])
    assert len(lines) == 1200
    assert len({(r[0], r[1]) for r in lines}) == 1200
    assert {r[0] for r in lines} <= orders
    # only 500 orders x 2 booleans exist: the table is cut down, and says so
    tags = plans["s.tags"]
    assert tags.n == 1000 and any("only 1000 distinct" in note for note in tags.notes)
    assert len({tuple(r) for r in rows_of(tags)}) == 1000


def test_unsupported_type_is_named_before_loading() -> None:
    database = shop_database()
    database["tables"]["s.orders"]["columns"]["shape"] = column(2, "box")
    with pytest.raises(DataGenerationError, match=r"s\.orders\.shape: type .box."):
        build_plans(build_model(database), Options())


def test_unique_column_with_too_few_values_is_refused() -> None:
    database = shop_database()
    database["tables"]["s.orders"]["columns"]["active"] = column(2, "boolean")
    database["tables"]["s.orders"]["constraints"]["orders_active_key"] = unique("active")
    with pytest.raises(DataGenerationError, match="can only hold 2 distinct values"):
        build_plans(build_model(database), Options())


def test_code_shapes_are_recognised() -> None:
    from repro.synth.value_spaces import Code, code_of

    assert code_of(["SKU-0001", "SKU-0040"]) == Code("SKU-", 4)
    assert code_of(["INV2024001", "INV2024950"]) == Code("INV", 0)
    assert code_of(["12", "7"]) == Code("", 0)
    assert code_of(["SKU-0001", "ITEM-0002"]) is None  # two prefixes
    assert code_of(["alice", "bob"]) is None
    assert code_of(["SKU-0001"]) is None  # one bound says nothing about a range
    assert Code("SKU-", 4).number("SKU-0042") == 42.0
    assert Code("SKU-", 4).number("XYZ-0042") is None


def test_code_columns_keep_productions_codes() -> None:
    """The codes a captured request names (SKU-0001) exist in generated data: a unique text
    column whose histogram is prefix + number is generated over production's range."""
    bounds = ["SKU-0001"] + [f"SKU-{i:04d}" for i in range(2, 41, 2)]  # as pg_stats had it
    database = {
        "tables": {
            "s.products": table(
                "products",
                {
                    "id": column(1, "bigint", nullable=False),
                    "sku": column(2, "text", nullable=False),
                },
                {"products_pkey": unique("id", kind="primary_key"), "sku_key": unique("sku")},
                40,
            )
        },
        "statistics": {
            "s.products": {
                "columns": {
                    "sku": {
                        "analyzed": True,
                        "null_frac": 0.0,
                        "n_distinct": -1.0,
                        "avg_width": 9,
                        "histogram": {"bounds": bounds, "buckets": len(bounds) - 1},
                        "mcv": None,
                    }
                }
            }
        },
    }
    plan = build_plans(build_model(database), Options(seed=3))[0]
    skus = sorted(row[1] for row in rows_of(plan))
    assert skus == [f"SKU-{i:04d}" for i in range(1, 41)]
