"""The vectorised COPY renderers (numpy byte matrices) against the row-wise ones: for the same
space, keys and seed, exactly the same bytes (property tests), down to whole tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.pg import meaning as meanings
from repro.pg.tables import build_model
from repro.synth.cells import Cells, concat, copy_text, merge
from repro.synth.plan import Options, build_plans
from repro.synth.space_cells import cells_of
from repro.synth.value_spaces import Code, Listed, Ordered, Text, Uuid
from tests.helpers.facet_tables import column, fk, table, unique

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.lists(st.integers(0, 2**40), min_size=0, max_size=60).map(
    lambda ks: np.array(ks, dtype=np.int64)
)
small_keys = st.lists(st.integers(0, 5000), min_size=1, max_size=60).map(
    lambda ks: np.array(ks, dtype=np.int64)
)


def copy_texts(most: int) -> st.SearchStrategy[list[str]]:
    """Any texts a COPY value can hold (no zero byte)."""
    text = st.text(st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]))
    return st.lists(text, min_size=1, max_size=most)


def same(space: Any, ks: np.ndarray[Any, Any]) -> None:
    assert cells_of(space, ks).texts() == space.texts(ks)


# ---------------------------------------------------------------- the building blocks


@PROPERTY
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40), st.integers(1, 22))
def test_integers_print_like_str_and_zfill(values: list[int], pad: int) -> None:
    array = np.array(values, dtype=np.int64)
    assert Cells.of_ints(array).texts() == [str(v) for v in values]
    assert Cells.of_ints(array, pad=pad).texts() == [str(v).zfill(pad) for v in values]


@PROPERTY
@given(
    copy_texts(30),
    st.integers(2, 20),
)
def test_texts_round_trip_join_merge_and_cut(texts: list[str], limit: int) -> None:
    cells = Cells.of_texts(texts)
    assert cells.texts() == texts
    joined = concat([cells, Cells.constant("-", len(texts)), cells])
    assert joined.texts() == [f"{t}-{t}" for t in texts]
    odd = np.arange(1, len(texts), 2)
    even = np.arange(0, len(texts), 2)
    mixed = merge(len(texts), [(even, cells.take(even)), (odd, Cells.constant("\\N", len(odd)))])
    assert mixed.texts() == [t if i % 2 == 0 else "\\N" for i, t in enumerate(texts)]
    lines = copy_text([cells, mixed])
    assert (
        lines == "".join(f"{a}\t{b}\n" for a, b in zip(texts, mixed.texts(), strict=True)).encode()
    )
    ascii_texts = [t.encode("ascii", "ignore").decode() for t in texts]
    cut = Cells.of_texts(ascii_texts).cut(limit)
    assert cut.texts() == [
        t if len(t) <= limit else t[: limit // 2] + t[len(t) - (limit - limit // 2) :]
        for t in ascii_texts
    ]


def test_a_zero_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="zero byte"):
        Cells.of_texts(["a\0b"])


# ---------------------------------------------------------------- every kind of space

_DAY = 86400.0
_ORDERED_BOUNDS = {
    "int": (st.floats(-1e15, 1e15), 1.0),
    "numeric": (st.floats(-1e12, 1e12), 0.01),
    "float": (st.floats(-1e9, 1e9), 1e-3),
    "date": (st.floats(-800_000, 2_900_000), 1.0),  # years 0..9900
    "timestamp": (st.floats(-62e9, 250e9), 1.0),
    "timestamptz": (st.floats(0, 4e9), 1.0),
    "time": (st.floats(0, _DAY - 1), 1.0),
    "interval": (st.floats(-1e7, 1e9), 1.0),
}


@PROPERTY
@given(
    st.sampled_from(sorted(_ORDERED_BOUNDS)).flatmap(
        lambda kind: st.tuples(
            st.just(kind), st.lists(_ORDERED_BOUNDS[kind][0], min_size=2, max_size=6)
        )
    ),
    st.integers(0, 6),
    st.one_of(st.none(), st.integers(1, 10**7)),
    small_keys,
)
def test_ordered_spaces(
    kind_bounds: tuple[str, list[float]], scale: int, size: int | None, ks: Any
) -> None:
    kind, bounds = kind_bounds
    unit = _ORDERED_BOUNDS[kind][1]
    if kind == "numeric":
        unit = 10.0**-scale
    space = Ordered(kind, sorted(bounds), unit, size, scale=scale if kind == "numeric" else 0)
    same(space, ks)
    count = min(size or 1000, 1000)
    space.spread(count)
    same(space, ks % count)


@PROPERTY
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50), st.integers(1, 8))
def test_numeric_halves_round_like_python(values: list[float], scale: int) -> None:
    """Values on (or a hair off) a half of the last digit: Python's rounding of the exact
    binary value, not the scaled one's."""
    from repro.synth.space_cells import ordered_cells

    space = Ordered("numeric", [0.0, 1.0], 10.0**-scale, None, scale=scale)
    halves = [v + 0.5 * 10.0**-scale for v in values] + [round(v, scale) for v in values]
    array = np.array(values + halves, dtype=np.float64)
    assert ordered_cells(space, array).texts() == space.render(array)


@PROPERTY
@given(st.text(alphabet="ABCXYZ-_", max_size=5), st.integers(0, 9), small_keys)
def test_code_spaces(prefix: str, width: int, ks: Any) -> None:
    space = Ordered("code", [0.0, 10_000.0], 1.0, None, code=Code(prefix, width))
    same(space, ks)


@PROPERTY
@given(
    st.sampled_from(
        [
            None,
            *("full_name", "email", "username", "phone", "first_name", "last_name"),
            *sorted(meanings.POOL_MEANINGS),
            *("url", "domain", "ip", "city"),
        ]
    ),
    st.integers(0, 10**6),
    st.one_of(st.none(), st.integers(1, 80)),
    st.one_of(st.none(), st.integers(1, 60)),
    st.booleans(),
    keys,
)
def test_text_spaces(
    meaning: str | None, offset: int, limit: int | None, width: int | None, fixed: bool, ks: Any
) -> None:
    space = Text(meaning, offset, limit, width, fixed)
    if limit is not None and limit < 12:
        ks = ks % int(36**limit)
    same(space, ks)


@PROPERTY
@given(st.integers(0, 2**31), keys)
def test_uuid_spaces(salt: int, ks: Any) -> None:
    same(Uuid(salt), ks)


@PROPERTY
@given(
    copy_texts(8),
    keys,
)
def test_listed_spaces(values: list[str], ks: Any) -> None:
    same(Listed(values), ks)


# ---------------------------------------------------------------- whole tables


def _check(expression: str) -> dict[str, str]:
    return {"definition": f"CHECK (({expression}))"}


def _stats(null_frac: float, mcvs: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    mcvs = mcvs or []
    return {
        "analyzed": True,
        "null_frac": null_frac,
        "n_distinct": -0.5,
        "avg_width": 12,
        "mcv": {"frequencies": {v: 0.2 / len(mcvs) for v in mcvs}},
        **extra,
    }


def _database(rows: int) -> dict[str, Any]:
    users = {
        "id": column(1, "bigint", nullable=False, identity="always"),
        "email": column(2, "character varying(255)", nullable=False),
        "full_name": column(3, "text"),
        "phone": column(4, "character varying(20)"),
        "country": column(5, "character(2)"),
        "created_at": column(6, "timestamp with time zone", nullable=False),
        "birth_date": column(7, "date"),
        "balance": column(8, "numeric(12,2)"),
        "ratio": column(9, "double precision"),
        "token": column(10, "uuid"),
        "status": column(11, "text"),
        "opens_at": column(12, "time without time zone"),
        "grace": column(13, "interval"),
        "starts_on": column(14, "date"),
        "ends_on": column(15, "date"),
        "notes": column(16, "text"),
        "code": column(17, "character varying(8)"),
    }
    orders = {
        "id": column(1, "bigint", nullable=False, identity="always"),
        "user_id": column(2, "bigint"),
        "total": column(3, "numeric(10,2)", nullable=False),
        "tax": column(4, "numeric(10,2)", nullable=False),
        "gross": column(5, "numeric(10,2)", nullable=False),
        "sku": column(6, "text", nullable=False),
    }
    checks = {
        "users_dates": {
            **unique("starts_on", "ends_on", kind="check"),
            **_check("starts_on < ends_on"),
        },
        "orders_gross": {
            **unique("gross", "total", "tax", kind="check"),
            **_check("gross = (total + tax)"),
        },
    }

    return {
        "tables": {
            "s.users": table(
                "users",
                users,
                {
                    "users_pkey": unique("id", kind="primary_key"),
                    "users_email_key": unique("email"),
                    "users_dates": checks["users_dates"],
                },
                rows,
            ),
            "s.orders": table(
                "orders",
                orders,
                {
                    "orders_pkey": unique("id", kind="primary_key"),
                    "orders_gross": checks["orders_gross"],
                    "orders_user_fkey": fk(["user_id"], "s.users", ["id"]),
                },
                rows * 3,
            ),
        },
        "statistics": {
            "s.users": {
                "columns": {
                    "full_name": _stats(0.1),
                    "phone": _stats(0.3),
                    "country": _stats(0.0, ["US", "DE", "FR"]),
                    "status": _stats(0.0, ["active", "closed"], n_distinct=2),
                    "balance": _stats(0.2, histogram={"bounds": ["-50.00", "0.00", "99999.99"]}),
                    "notes": _stats(0.5, avg_width=200),
                }
            },
            "s.orders": {"columns": {"user_id": _stats(0.25)}},
        },
    }


@PROPERTY
@given(st.integers(0, 2**31), st.integers(1, 400), st.data())
def test_copy_bytes_are_the_row_wise_copy_text(seed: int, rows: int, data: Any) -> None:
    for plan in build_plans(build_model(_database(rows)), Options(seed=seed)):
        start = data.draw(st.integers(0, plan.n - 1))
        end = data.draw(st.integers(start + 1, plan.n))
        assert plan.copy_bytes(start, end) == plan.chunk(start, end).encode()
        assert plan.copy_bytes(0, plan.n) == plan.chunk(0, plan.n).encode()


@pytest.mark.parametrize("budget", [0, 8 << 20])
def test_formatted_once_values_same_bytes_with_or_without_their_matrix(
    budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns with few distinct values format them once; a table too wide for memory is
    encoded per chunk instead of held as one matrix: the bytes are the same either way."""
    import repro.synth.columns as columns

    monkeypatch.setattr(columns, "REST_TABLE_BYTES", budget)
    for plan in build_plans(build_model(_database(2000)), Options(seed=3)):
        assert plan.copy_bytes(0, plan.n) == plan.chunk(0, plan.n).encode()
        assert plan.copy_bytes(17, 900) == plan.chunk(17, 900).encode()
