"""repro.synth.check_parser: CHECK definitions parsed into generator rules.

Literal cases cover each construct; the PostgreSQL tests (13, 15, 17) create real check
constraints, parse what ``pg_get_constraintdef`` returns, and verify ``admits`` against
PostgreSQL itself: values it accepts insert, values it rejects violate the check.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from repro.synth.check_parser import (
    Bound,
    ColumnRule,
    PairRule,
    ParsedCheck,
    UnsupportedCheck,
    admits,
    merge,
    parse_check,
)
from tests.helpers.pg import PgServer, fresh_database


def one(column: str, **rule: Any) -> ParsedCheck:
    return ParsedCheck({column: ColumnRule(**rule)})


def ge(value: str) -> Bound:
    return Bound(value, True)


def gt(value: str) -> Bound:
    return Bound(value, False)


# ------------------------------------------------------------------------ literal cases

LITERAL_CASES: list[tuple[str, ParsedCheck]] = [
    ("CHECK ((price >= (0)::numeric))", one("price", lower=ge("0"))),
    ("CHECK ((price > 0::numeric))", one("price", lower=gt("0"))),
    ("CHECK ((price > (0)::numeric(10,2)))", one("price", lower=gt("0"))),
    ("CHECK (((qty > 0) AND (qty <= 1000)))", one("qty", lower=gt("0"), upper=ge("1000"))),
    (
        "CHECK (((status)::text = ANY ((ARRAY['new'::character varying, "
        "'paid'::character varying])::text[])))",
        one("status", allowed=["new", "paid"]),
    ),
    (
        "CHECK (((status)::text <> ALL ((ARRAY['x'::character varying, "
        "'y'::character varying])::text[])))",
        one("status", excluded={"x", "y"}),
    ),
    ("CHECK ((kind = ANY (ARRAY['a'::text, 'b'::text])))", one("kind", allowed=["a", "b"])),
    ("CHECK ((qty = ANY (ARRAY[1, 2, 3])))", one("qty", allowed=["1", "2", "3"])),
    ("CHECK ((qty <> ALL (ARRAY[4, 5])))", one("qty", excluded={"4", "5"})),
    ("CHECK ((x = ANY ('{a,b}'::text[])))", one("x", allowed=["a", "b"])),
    ("CHECK ((kind = 'only'::text))", one("kind", allowed=["only"])),
    ("CHECK ((char_length(code) <= 10))", one("code", max_length=10)),
    ("CHECK ((length((name)::text) > 0))", one("name", min_length=1)),
    ("CHECK ((character_length((c)::text) >= 2))", one("c", min_length=2)),
    ("CHECK ((octet_length(c) < 8))", one("c", max_length=7)),
    ("CHECK ((char_length(c) = 3))", one("c", min_length=3, max_length=3)),
    ("CHECK ((5 >= char_length(c)))", one("c", max_length=5)),
    ("CHECK ((ends_at > starts_at))", ParsedCheck(pairs=[PairRule("ends_at", ">", "starts_at")])),
    ("CHECK ((a <> b))", ParsedCheck(pairs=[PairRule("a", "<>", "b")])),
    ("CHECK ((a != b))", ParsedCheck(pairs=[PairRule("a", "<>", "b")])),
    (
        "CHECK (((discount IS NULL) OR ((discount >= 0) AND (discount <= 100))))",
        one("discount", lower=ge("0"), upper=ge("100"), null_allowed_escape=True),
    ),
    (
        "CHECK ((((discount >= 0) AND (discount <= 100)) OR (discount IS NULL)))",
        one("discount", lower=ge("0"), upper=ge("100"), null_allowed_escape=True),
    ),
    (
        "CHECK (((e IS NULL) OR (e >= s)))",
        ParsedCheck({"e": ColumnRule(null_allowed_escape=True)}, [PairRule("e", ">=", "s")]),
    ),
    (
        "CHECK (((x IS NULL) OR ((x IS NOT NULL) AND (x > 1))))",
        one("x", lower=gt("1"), null_allowed_escape=True),
    ),
    ("CHECK ((email <> ''::text))", one("email", excluded={""})),
    ("CHECK ((note <> 'it''s'::text))", one("note", excluded={"it's"})),
    ("CHECK ((note <> E'a\\'b\\n'::text))", one("note", excluded={"a'b\n"})),
    ("CHECK ((rating IS NOT NULL))", one("rating", not_null=True)),
    ("CHECK ((NOT (rating IS NULL)))", one("rating", not_null=True)),
    ("CHECK ((VALUE >= (0)::numeric))", one("VALUE", lower=ge("0"))),
    ("CHECK ((VALUE ~ '@'::text))", one("VALUE", patterns=["@"])),
    ("CHECK ((value > 1))", one("value", lower=gt("1"))),
    ('CHECK (("Order Total" >= (0)::numeric))', one("Order Total", lower=ge("0"))),
    ('CHECK (("a""b" < "Order Total"))', ParsedCheck(pairs=[PairRule('a"b', "<", "Order Total")])),
    ("CHECK ((qty > '-5'::integer))", one("qty", lower=gt("-5"))),
    ("CHECK ((qty > (- 1)))", one("qty", lower=gt("-1"))),
    ("CHECK ((qty > - - 1))", one("qty", lower=gt("1"))),
    ("CHECK ((qty >= ('-1'::integer)::numeric))", one("qty", lower=ge("-1"))),
    ("CHECK ((f <= ('1000'::numeric)::double precision))", one("f", upper=ge("1000"))),
    ("CHECK ((r > (0.5)::double precision))", one("r", lower=gt("0.5"))),
    ("CHECK ((0 < qty))", one("qty", lower=gt("0"))),
    ("CHECK (('2020-01-01'::date <= d))", one("d", lower=ge("2020-01-01"))),
    ("CHECK ((d >= '2020-01-01'::date))", one("d", lower=ge("2020-01-01"))),
    (
        "CHECK ((ts < '2030-01-01 00:00:00'::timestamp without time zone))",
        one("ts", upper=gt("2030-01-01 00:00:00")),
    ),
    (
        "CHECK ((ts > '2000-01-01 00:00:00+00'::timestamp(3) with time zone))",
        one("ts", lower=gt("2000-01-01 00:00:00+00")),
    ),
    ("CHECK ((t <> '01:00:00'::interval hour to second))", one("t", excluded={"01:00:00"})),
    ("CHECK ((c = ANY (ARRAY['abc'::bpchar, 'def'::bpchar])))", one("c", allowed=["abc", "def"])),
    ("CHECK ((x = ANY (ARRAY['a'::public.\"My Type\"])))", one("x", allowed=["a"])),
    ("CHECK ((qty BETWEEN 1 AND 10))", one("qty", lower=ge("1"), upper=ge("10"))),
    ("qty between -1 and 1", one("qty", lower=ge("-1"), upper=ge("1"))),
    ("CHECK ((char_length(c) BETWEEN 2 AND 5))", one("c", min_length=2, max_length=5)),
    ("CHECK ((qty IN (1, 2)))", one("qty", allowed=["1", "2"])),
    ("CHECK ((qty NOT IN (1, 2)))", one("qty", excluded={"1", "2"})),
    ("CHECK ((NOT (qty = ANY (ARRAY[1, 2]))))", one("qty", excluded={"1", "2"})),
    ("CHECK ((NOT (qty <> ALL (ARRAY[1, 2]))))", one("qty", allowed=["1", "2"])),
    ("CHECK ((NOT (qty > 5)))", one("qty", upper=ge("5"))),
    ("CHECK ((flag = true))", one("flag", allowed=["true"])),
    ("CHECK (true)", ParsedCheck()),
    ("CHECK ((e ~ '^[a-z]+$'::text))", one("e", patterns=["^[a-z]+$"])),
    ("CHECK ((e ~ '^\\d+$'::text))", one("e", patterns=["^\\d+$"])),
    ("CHECK ((qty > 0)) NOT VALID", one("qty", lower=gt("0"))),
    ("CHECK ((qty > 0)) NO INHERIT", one("qty", lower=gt("0"))),
    (
        "CHECK ((((((qty > 0))) AND ((qty < 10)) AND (qty <> 5))))",
        one("qty", lower=gt("0"), upper=gt("10"), excluded={"5"}),
    ),
    (
        "CHECK (((qty > 0) AND (qty > 3) AND (qty >= 3) AND (qty < 9) AND (qty <= 9)))",
        one("qty", lower=gt("3"), upper=gt("9")),
    ),
    (
        "CHECK (((k = ANY (ARRAY['a'::text, 'b'::text, 'c'::text])) AND (k = 'b'::text)))",
        one("k", allowed=["b"]),
    ),
    (
        "CHECK (((a > 0) AND (b < 5) AND (a < b)))",
        ParsedCheck(
            {"a": ColumnRule(lower=gt("0")), "b": ColumnRule(upper=gt("5"))},
            [PairRule("a", "<", "b")],
        ),
    ),
    (
        "CHECK (((rating IS NOT NULL) AND ((rating >= 1) AND (rating <= 5))))",
        one("rating", lower=ge("1"), upper=ge("5"), not_null=True),
    ),
]


@pytest.mark.parametrize(("definition", "expected"), LITERAL_CASES)
def test_parse_literal_cases(definition: str, expected: ParsedCheck) -> None:
    assert parse_check(definition) == expected


UNSUPPORTED_CASES: list[tuple[str, str]] = [
    ("CHECK ((lower(code) = code))", "function lower()"),
    ("CHECK (((a + b) > c))", "operator '+'"),
    ("CHECK ((a > (b * 2)))", "operator '*'"),
    ("CHECK (((v % 2) = 0))", "operator '%'"),
    ("CHECK (b)", "bare boolean column"),
    ("CHECK (((x IS NULL) OR (y > 0)))", "other side also constrains y"),
    ("CHECK (((x = 1) OR (x = 2)))", "OR is only supported"),
    ("CHECK (((x IS NULL) OR (x = 1) OR (x = 2)))", "OR is only supported"),
    ("CHECK (((x IS NULL) OR (y < z)))", "other side also constrains y, z"),
    ("CHECK ((x IS NULL))", "'IS NULL' outside"),
    ("CHECK ((code ~~ 'A%'::text))", "LIKE"),
    ("CHECK ((code ~* 'a'::text))", "operator '~*'"),
    ("CHECK ((code LIKE 'A%'))", "LIKE is not supported"),
    ("CHECK ((d <= CURRENT_DATE))", "CURRENT_DATE"),
    ("CHECK ((d <= now()))", "function now()"),
    ("CHECK ((char_length(c) <> 3))", "'<>' on a length"),
    ("CHECK ((char_length(c) > 1.5))", "non-integer"),
    ("CHECK ((length(c, 'UTF8'::name) > 1))", "2 arguments"),
    ("CHECK ((x = ANY (ARRAY['a'::text, NULL::text])))", "NULL in = ANY"),
    ("CHECK ((x > ANY (ARRAY[1, 2])))", "'> ANY'"),
    ("CHECK ((x = NULL::integer))", "NULL in comparison"),
    ("CHECK ((1 < 2))", "two literals"),
    ("CHECK ((x NOT BETWEEN 1 AND 2))", "NOT BETWEEN"),
    ("CHECK ((x BETWEEN SYMMETRIC 1 AND 2))", "SYMMETRIC"),
    ("CHECK ((NOT ((a > 1) AND (b > 1))))", "NOT of this expression"),
    ("CHECK ((CASE WHEN (a > 0) THEN true ELSE false END))", "CASE"),
    ("CHECK ((a IS DISTINCT FROM b))", "IS DISTINCT FROM"),
    ("CHECK ((flag IS TRUE))", "IS TRUE"),
    ("CHECK ((t.a > 1))", "qualified column"),
    ("CHECK ((a[1] > 0))", "array subscript"),
    ("CHECK (((a)::text COLLATE \"C\" > 'x'::text))", "COLLATE"),
    ("CHECK (false)", "constant condition"),
    ("CHECK ((a < b < c))", "chained comparison"),
    ("CHECK ((-a > 0))", "operator '-'"),
]


@pytest.mark.parametrize(("definition", "reason"), UNSUPPORTED_CASES)
def test_unsupported_constructs_name_the_part(definition: str, reason: str) -> None:
    with pytest.raises(UnsupportedCheck) as info:
        parse_check(definition)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message


GARBAGE = [
    "",
    "CHECK",
    "CHECK (",
    "CHECK ()",
    "CHECK ((x > 1)",
    "CHECK ((x > 1)))",
    "CHECK ((x > 'unterminated))",
    'CHECK (("unterminated > 1))',
    'CHECK (("" > 1))',
    "CHECK ((x > 1) AND)",
    "CHECK ((x >))",
    "CHECK ((x > 1 2))",
    "CHECK ((x :: > 1))",
    "CHECK ((x > 1)) trailing",
    "CHECK ((x > $1))",
    "CHECK ((x > 1; DROP TABLE t))",
    "CHECK ((x > 1 -- comment\n))",
    "CHECK ((x > 1 /* c */))",
    "CHECK ((x = ANY (ARRAY[1, 2)))",
    "CHECK ((x = ANY ARRAY[1]))",
    "CHECK ((x IN ()))",
    "CHECK ((x IS maybe))",
    "CHECK ((x = E'\\u12'::text))",
    "CHECK ((x = ANY ('{\"a\",b}'::text[])))",
    "))))",
    "(" * 5000,
    "- " * 5000 + "1",
    "NOT " * 5000 + "x",
    "x > 1 AND " * 2000 + "x > 1 OR",
    "\x00\x01\x02",
    "CHECK ((x > 1)) NOT",
]


@pytest.mark.parametrize("definition", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_raises_unsupported_only(definition: str) -> None:
    with pytest.raises(UnsupportedCheck) as info:
        parse_check(definition)
    assert "\n" not in str(info.value)


def test_long_flat_conjunction_is_fine() -> None:
    definition = "CHECK ((" + " AND ".join(f"(c{i} > {i})" for i in range(2000)) + "))"
    parsed = parse_check(definition)
    assert parsed.columns["c1999"] == ColumnRule(lower=gt("1999"))


@pytest.mark.timeout(60)
def test_random_input_never_crashes_or_hangs() -> None:
    rng = random.Random(20240601)
    pieces = [
        "(", ")", "((", "))", "x", '"Q q"', "'s'", "'it''s'", "0", "-", "- 1", "1.5", "::",
        "numeric", "text[]", "character varying", "AND", "OR", "NOT", "IS", "NULL", "IS NOT NULL",
        "=", "<>", "<", ">=", "ANY", "ALL", "ARRAY[", "]", ",", "BETWEEN", "IN", "char_length(",
        "~", "+", "*", "CHECK", "VALUE", "E'\\x41'", "'", '"', "[", ".", "true",
    ]  # fmt: skip
    started = time.monotonic()
    for _ in range(5000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        try:
            parse_check(text)
        except UnsupportedCheck as exc:
            assert "\n" not in str(exc), text
    assert time.monotonic() - started < 30


# ---------------------------------------------------------------------------- merge


def test_merge_tightens_and_intersects_without_mutating() -> None:
    a = parse_check("CHECK (((q > 0) AND (k = ANY (ARRAY['a'::text, 'b'::text, 'c'::text]))))")
    b = parse_check("CHECK (((q >= 0) AND (q < 10) AND (k = ANY (ARRAY['c'::text, 'b'::text]))))")
    c = parse_check("CHECK ((k <> 'c'::text))")
    before = repr(a)
    merged = merge(merge(a, b), c)
    assert merged.columns["q"] == ColumnRule(lower=gt("0"), upper=gt("10"))
    assert merged.columns["k"] == ColumnRule(allowed=["b", "c"], excluded={"c"})
    assert repr(a) == before


def test_merge_bounds_numeric_not_textual() -> None:
    merged = merge(parse_check("CHECK ((q >= 9))"), parse_check("CHECK ((q >= 10))"))
    assert merged.columns["q"].lower == ge("10")
    merged = merge(parse_check("CHECK ((q <= 9))"), parse_check("CHECK ((q <= 10))"))
    assert merged.columns["q"].upper == ge("9")
    merged = merge(parse_check("CHECK ((q <= '-1.5'::numeric))"), parse_check("(q < (- 1))"))
    assert merged.columns["q"].upper == ge("-1.5")


def test_merge_dates_and_lengths_and_nulls() -> None:
    a = parse_check("CHECK (((d >= '2020-01-01'::date) AND (char_length(s) >= 2)))")
    b = parse_check("CHECK (((d > '2020-01-01'::date) AND (char_length(s) <= 9)))")
    c = parse_check("CHECK (((s IS NULL) OR (char_length(s) >= 4)))")
    merged = merge(merge(a, b), c)
    assert merged.columns["d"].lower == gt("2020-01-01")
    assert merged.columns["s"] == ColumnRule(min_length=4, max_length=9, null_allowed_escape=True)
    strict = merge(merged, parse_check("CHECK ((s IS NOT NULL))"))
    assert strict.columns["s"].not_null and not strict.columns["s"].null_allowed_escape


def test_merge_pairs_and_patterns_deduplicated() -> None:
    a = parse_check("CHECK (((x < y) AND (e ~ 'a'::text)))")
    merged = merge(a, parse_check("CHECK (((x < y) AND (e ~ 'b'::text) AND (e ~ 'a'::text)))"))
    assert merged.pairs == [PairRule("x", "<", "y")]
    assert merged.columns["e"].patterns == ["a", "b"]


# ---------------------------------------------------------------------------- admits


def test_admits_numeric() -> None:
    rule = parse_check("CHECK (((q > 0) AND (q <= 1000) AND (q <> 7)))").columns["q"]
    assert [admits(rule, v, numeric=True) for v in ["0", "0.001", "1000", "1000.0", "1001"]] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert not admits(rule, "7.00", numeric=True)
    assert not admits(rule, "abc", numeric=True)
    assert not admits(rule, "NaN", numeric=True)
    assert admits(rule, None, numeric=True)  # CHECK passes on NULL
    allowed = parse_check("CHECK ((q = ANY (ARRAY[1, 2])))").columns["q"]
    assert admits(allowed, "2.0", numeric=True)
    assert not admits(allowed, "2.0", numeric=False)


def test_admits_text_dates_lengths_patterns() -> None:
    date = parse_check("CHECK ((d BETWEEN '2020-01-01'::date AND '2020-12-31'::date))").columns["d"]
    assert admits(date, "2020-06-30", numeric=False)
    assert not admits(date, "2021-01-01", numeric=False)
    text = parse_check(
        "CHECK (((char_length(s) >= 2) AND (char_length(s) <= 3) AND (s ~ '^[a-z]+$'::text)))"
    ).columns["s"]
    assert [admits(text, v, numeric=False) for v in ["a", "ab", "abc", "abcd", "AB"]] == [
        False,
        True,
        True,
        False,
        False,
    ]
    broken = ColumnRule(patterns=["(unclosed"])
    assert not admits(broken, "x", numeric=False)


def test_admits_null_rules() -> None:
    assert not admits(ColumnRule(not_null=True), None, numeric=False)
    assert admits(ColumnRule(null_allowed_escape=True), None, numeric=False)
    assert admits(ColumnRule(lower=ge("5")), None, numeric=True)


def test_admits_numeric_with_non_numeric_bound_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not a number"):
        admits(ColumnRule(lower=ge("2020-01-01")), "5", numeric=True)


# ---------------------------------------------------------------- real PostgreSQL cases


@dataclass
class Case:
    name: str
    columns: str
    checks: list[str]
    deparsed: list[str]  # pg_get_constraintdef, identical on 13, 15 and 17
    expected: ParsedCheck
    column: str | None = None  # column whose rule is tested against PostgreSQL
    numeric: bool = False
    candidates: list[str | None] = field(default_factory=list)


def col_case(
    name: str,
    columns: str,
    checks: list[str],
    deparsed: list[str],
    rule: ColumnRule,
    candidates: list[str | None],
    *,
    numeric: bool = False,
    column: str = "v",
) -> Case:
    return Case(
        name, columns, checks, deparsed, ParsedCheck({column: rule}), column, numeric, candidates
    )


CASES: list[Case] = [
    col_case(
        "price_ge_zero", "v numeric", ["v >= 0"], ["CHECK ((v >= (0)::numeric))"],
        ColumnRule(lower=ge("0")), ["-0.01", "0", "0.01", "12.5", None], numeric=True,
    ),
    col_case(
        "price_gt_zero_cast", "v numeric(10,2)", ["v > 0::numeric"],
        ["CHECK ((v > (0)::numeric))"],
        ColumnRule(lower=gt("0")), ["0", "0.01", "-1"], numeric=True,
    ),
    col_case(
        "qty_range", "v integer", ["v > 0 AND v <= 1000"],
        ["CHECK (((v > 0) AND (v <= 1000)))"],
        ColumnRule(lower=gt("0"), upper=ge("1000")), ["0", "1", "1000", "1001"], numeric=True,
    ),
    col_case(
        "qty_between", "v integer", ["v BETWEEN 1 AND 10"], ["CHECK (((v >= 1) AND (v <= 10)))"],
        ColumnRule(lower=ge("1"), upper=ge("10")), ["0", "1", "10", "11"], numeric=True,
    ),
    col_case(
        "literal_left", "v integer", ["0 < v"], ["CHECK ((0 < v))"],
        ColumnRule(lower=gt("0")), ["0", "1"], numeric=True,
    ),
    col_case(
        "negative_bound", "v bigint", ["v >= -40"], ["CHECK ((v >= '-40'::integer))"],
        ColumnRule(lower=ge("-40")), ["-41", "-40", "0"], numeric=True,
    ),
    col_case(
        "numeric_between_negative", "v numeric", ["v BETWEEN -1.5 AND 1.5"],
        ["CHECK (((v >= '-1.5'::numeric) AND (v <= 1.5)))"],
        ColumnRule(lower=ge("-1.5"), upper=ge("1.5")), ["-1.6", "-1.5", "1.5", "1.51"],
        numeric=True,
    ),
    col_case(
        "varchar_in", "v varchar(10)", ["v IN ('new', 'paid')"],
        [
            "CHECK (((v)::text = ANY ((ARRAY['new'::character varying, "
            "'paid'::character varying])::text[])))"
        ],
        ColumnRule(allowed=["new", "paid"]), ["new", "paid", "NEW", "other", None],
    ),
    col_case(
        "text_in", "v text", ["v IN ('a', 'b')"],
        ["CHECK ((v = ANY (ARRAY['a'::text, 'b'::text])))"],
        ColumnRule(allowed=["a", "b"]), ["a", "b", "c"],
    ),
    col_case(
        "int_in", "v integer", ["v IN (1, 2, 3)"], ["CHECK ((v = ANY (ARRAY[1, 2, 3])))"],
        ColumnRule(allowed=["1", "2", "3"]), ["0", "1", "3", "4"], numeric=True,
    ),
    col_case(
        "int_not_in", "v integer", ["v NOT IN (4, 5)"], ["CHECK ((v <> ALL (ARRAY[4, 5])))"],
        ColumnRule(excluded={"4", "5"}), ["4", "5", "6"], numeric=True,
    ),
    col_case(
        "varchar_not_in", "v varchar(5)", ["v NOT IN ('x', 'y')"],
        [
            "CHECK (((v)::text <> ALL ((ARRAY['x'::character varying, "
            "'y'::character varying])::text[])))"
        ],
        ColumnRule(excluded={"x", "y"}), ["x", "y", "z"],
    ),
    col_case(
        "equals_literal", "v text", ["v = 'only'"], ["CHECK ((v = 'only'::text))"],
        ColumnRule(allowed=["only"]), ["only", "other"],
    ),
    col_case(
        "not_empty", "v text", ["v <> ''"], ["CHECK ((v <> ''::text))"],
        ColumnRule(excluded={""}), ["", "a@b"],
    ),
    col_case(
        "escaped_quote", "v text", ["v <> 'it''s'"], ["CHECK ((v <> 'it''s'::text))"],
        ColumnRule(excluded={"it's"}), ["it's", "its"],
    ),
    col_case(
        "char_length", "v text", ["char_length(v) <= 10"], ["CHECK ((char_length(v) <= 10))"],
        ColumnRule(max_length=10), ["", "a" * 10, "a" * 11],
    ),
    col_case(
        "length_varchar", "v varchar(20)", ["length(v) > 0"],
        ["CHECK ((length((v)::text) > 0))"], ColumnRule(min_length=1), ["", "x"],
    ),
    col_case(
        "character_length_between", "v varchar", ["character_length(v) BETWEEN 2 AND 5"],
        [
            "CHECK (((character_length((v)::text) >= 2) AND "
            "(character_length((v)::text) <= 5)))"
        ],
        ColumnRule(min_length=2, max_length=5), ["a", "ab", "abcde", "abcdef"],
    ),
    col_case(
        "octet_length", "v text", ["octet_length(v) < 8"], ["CHECK ((octet_length(v) < 8))"],
        ColumnRule(max_length=7), ["abcdefg", "abcdefgh"],
    ),
    col_case(
        "date_lower", "v date", ["v >= '2020-01-01'"], ["CHECK ((v >= '2020-01-01'::date))"],
        ColumnRule(lower=ge("2020-01-01")), ["2019-12-31", "2020-01-01", "2021-06-01"],
    ),
    col_case(
        "date_between", "v date", ["v BETWEEN '2020-01-01' AND '2020-12-31'"],
        ["CHECK (((v >= '2020-01-01'::date) AND (v <= '2020-12-31'::date)))"],
        ColumnRule(lower=ge("2020-01-01"), upper=ge("2020-12-31")),
        ["2019-12-31", "2020-01-01", "2020-12-31", "2021-01-01"],
    ),
    col_case(
        "timestamp_upper", "v timestamp", ["v < '2030-01-01 00:00:00'"],
        ["CHECK ((v < '2030-01-01 00:00:00'::timestamp without time zone))"],
        ColumnRule(upper=gt("2030-01-01 00:00:00")),
        ["2029-12-31 23:59:59", "2030-01-01 00:00:00", "2030-01-01 00:00:01"],
    ),
    col_case(
        "timestamptz_lower", "v timestamptz", ["v > '2000-01-01 00:00:00+00'"],
        ["CHECK ((v > '2000-01-01 00:00:00+00'::timestamp with time zone))"],
        ColumnRule(lower=gt("2000-01-01 00:00:00+00")),
        ["2000-01-01 00:00:00+00", "2000-01-01 00:00:01+00"],
    ),
    col_case(
        "null_or_range", "v integer", ["v IS NULL OR (v >= 0 AND v <= 100)"],
        ["CHECK (((v IS NULL) OR ((v >= 0) AND (v <= 100))))"],
        ColumnRule(lower=ge("0"), upper=ge("100"), null_allowed_escape=True),
        [None, "-1", "0", "100", "101"], numeric=True,
    ),
    col_case(
        "null_or_length", "v varchar(30)", ["v IS NULL OR length(v) >= 3"],
        ["CHECK (((v IS NULL) OR (length((v)::text) >= 3)))"],
        ColumnRule(min_length=3, null_allowed_escape=True), [None, "ab", "abc"],
    ),
    col_case(
        "not_null", "v integer", ["v IS NOT NULL"], ["CHECK ((v IS NOT NULL))"],
        ColumnRule(not_null=True), [None, "5"], numeric=True,
    ),
    col_case(
        "quoted_identifier", '"Order Total" numeric', ['"Order Total" >= 0'],
        ['CHECK (("Order Total" >= (0)::numeric))'],
        ColumnRule(lower=ge("0")), ["-1", "0"], numeric=True, column="Order Total",
    ),
    col_case(
        "regex", "v text", ["v ~ '^[a-z]+$'"], ["CHECK ((v ~ '^[a-z]+$'::text))"],
        ColumnRule(patterns=["^[a-z]+$"]), ["abc", "ABC", ""],
    ),
    col_case(
        "float_upper", "v float8", ["v <= 1e3"],
        ["CHECK ((v <= ('1000'::numeric)::double precision))"],
        ColumnRule(upper=ge("1000")), ["1000", "1000.5"], numeric=True,
    ),
    col_case(
        "real_lower", "v real", ["v > 0.5"], ["CHECK ((v > (0.5)::double precision))"],
        ColumnRule(lower=gt("0.5")), ["0.5", "0.75"], numeric=True,
    ),
    col_case(
        "bpchar_in", "v char(3)", ["v IN ('abc', 'def')"],
        ["CHECK ((v = ANY (ARRAY['abc'::bpchar, 'def'::bpchar])))"],
        ColumnRule(allowed=["abc", "def"]), ["abc", "def", "xyz"],
    ),
    col_case(
        "merged_bounds", "v integer", ["v > 0", "v < 100", "v <= 50"],
        ["CHECK ((v > 0))", "CHECK ((v < 100))", "CHECK ((v <= 50))"],
        ColumnRule(lower=gt("0"), upper=ge("50")), ["0", "1", "50", "51", "99"], numeric=True,
    ),
    col_case(
        "merged_sets", "v text", ["v IN ('a', 'b', 'c')", "v IN ('b', 'c', 'd')", "v <> 'c'"],
        [
            "CHECK ((v = ANY (ARRAY['a'::text, 'b'::text, 'c'::text])))",
            "CHECK ((v = ANY (ARRAY['b'::text, 'c'::text, 'd'::text])))",
            "CHECK ((v <> 'c'::text))",
        ],
        ColumnRule(allowed=["b", "c"], excluded={"c"}), ["a", "b", "c", "d"],
    ),
    Case(
        "pair_timestamps", "starts_at timestamptz, ends_at timestamptz", ["ends_at > starts_at"],
        ["CHECK ((ends_at > starts_at))"],
        ParsedCheck(pairs=[PairRule("ends_at", ">", "starts_at")]),
    ),
    Case(
        "pair_ints", "x integer, y integer", ["x < y"], ["CHECK ((x < y))"],
        ParsedCheck(pairs=[PairRule("x", "<", "y")]),
    ),
    Case(
        "null_or_pair", "s date, e date", ["e IS NULL OR e >= s"],
        ["CHECK (((e IS NULL) OR (e >= s)))"],
        ParsedCheck({"e": ColumnRule(null_allowed_escape=True)}, [PairRule("e", ">=", "s")]),
    ),
]  # fmt: skip

# Domain checks: the column is VALUE; tested by casting candidates to the domain.
DOMAIN_CASES: list[Case] = [
    col_case(
        "posnum", "numeric", ["VALUE >= 0"], ["CHECK ((VALUE >= (0)::numeric))"],
        ColumnRule(lower=ge("0")), ["-1", "0", "3"], numeric=True, column="VALUE",
    ),
    col_case(
        "email_addr", "text", ["VALUE ~ '@'"], ["CHECK ((VALUE ~ '@'::text))"],
        ColumnRule(patterns=["@"]), ["a@b", "ab"], column="VALUE",
    ),
    col_case(
        "yes_no", "varchar(3)", ["VALUE IN ('YES', 'NO')"],
        [
            "CHECK (((VALUE)::text = ANY ((ARRAY['YES'::character varying, "
            "'NO'::character varying])::text[])))"
        ],
        ColumnRule(allowed=["YES", "NO"]), ["YES", "NO", "yes"], column="VALUE",
    ),
]  # fmt: skip

# Real definitions the parser must refuse, with a word of the reason.
UNSUPPORTED_REAL: list[tuple[str, str, str, str]] = [
    ("u_lower", "v text", "lower(v) = v", "function lower()"),
    ("u_arith", "a int, b int, c int", "a + b > c", "operator '+'"),
    ("u_bool", "v boolean", "v", "bare boolean column"),
    ("u_like", "v text", "v LIKE 'A%'", "LIKE"),
    ("u_or_other", "a int, b int", "a IS NULL OR b > 0", "OR is only supported"),
    ("u_or_values", "v int", "v = 1 OR v = 2", "OR is only supported"),
    ("u_today", "v date", "v <= CURRENT_DATE", "CURRENT_DATE"),
    ("u_mod", "v int", "v % 2 = 0", "operator '%'"),
]


@dataclass
class RealDb:
    major: int
    conn: psycopg.Connection[Any]
    deparsed: dict[str, list[str]]  # case name -> definitions ordered by constraint name


def _definitions(conn: psycopg.Connection[Any], where: str, name: str) -> list[str]:
    rows = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE contype = 'c' AND {where} = %s::{'regtype' if where == 'contypid' else 'regclass'}"
        " ORDER BY conname",
        (name,),
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(scope="module")
def real_db(postgres_any: PgServer) -> Iterator[RealDb]:
    with (
        fresh_database(postgres_any.dsn) as dsn,
        psycopg.connect(
            dsn, autocommit=True, connect_timeout=10, options="-c TimeZone=UTC"
        ) as conn,
    ):
        deparsed: dict[str, list[str]] = {}
        tables = [(c.name, c.columns, c.checks) for c in CASES]
        tables += [(name, cols, [check]) for name, cols, check, _ in UNSUPPORTED_REAL]
        for name, columns, checks in tables:
            constraints = ", ".join(
                f"CONSTRAINT c{i} CHECK ({check})" for i, check in enumerate(checks)
            )
            conn.execute(f"CREATE TABLE {name} ({columns}, {constraints})")
            deparsed[name] = _definitions(conn, "conrelid", name)
        for case in DOMAIN_CASES:
            conn.execute(f"CREATE DOMAIN {case.name} AS {case.columns} CHECK ({case.checks[0]})")
            deparsed[case.name] = _definitions(conn, "contypid", case.name)
        yield RealDb(postgres_any.major, conn, deparsed)


def _parse_all(definitions: list[str]) -> ParsedCheck:
    result = ParsedCheck()
    for definition in definitions:
        result = merge(result, parse_check(definition))
    return result


ALL_CASES = CASES + DOMAIN_CASES


@pytest.mark.slow
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_real_definition_parses_to_expected_rules(real_db: RealDb, case: Case) -> None:
    definitions = real_db.deparsed[case.name]
    assert definitions == case.deparsed, f"PostgreSQL {real_db.major} deparse changed"
    assert _parse_all(definitions) == case.expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "reason"),
    [(n, r) for n, _, _, r in UNSUPPORTED_REAL],
    ids=[u[0] for u in UNSUPPORTED_REAL],
)
def test_real_unsupported_definition_is_refused(real_db: RealDb, name: str, reason: str) -> None:
    (definition,) = real_db.deparsed[name]
    with pytest.raises(UnsupportedCheck) as info:
        parse_check(definition)
    assert reason in str(info.value)
    assert "\n" not in str(info.value)


def _accepted(conn: psycopg.Connection[Any], statement: sql.Composed, value: str | None) -> bool:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement, (value,))
    except psycopg.errors.CheckViolation:
        return False
    return True


PROPERTY_CASES = [c for c in ALL_CASES if c.column is not None]


@pytest.mark.slow
@pytest.mark.parametrize("case", PROPERTY_CASES, ids=[c.name for c in PROPERTY_CASES])
def test_admits_agrees_with_postgres(real_db: RealDb, case: Case) -> None:
    assert case.column is not None
    rule = _parse_all(real_db.deparsed[case.name]).columns[case.column]
    if case in DOMAIN_CASES:
        statement: sql.Composed = sql.SQL("SELECT CAST(%s AS {})").format(sql.Identifier(case.name))
    else:
        statement = sql.SQL("INSERT INTO {} ({}) VALUES (%s)").format(
            sql.Identifier(case.name), sql.Identifier(case.column)
        )
    verdicts = {v: admits(rule, v, numeric=case.numeric) for v in case.candidates}
    # Each case must exercise both outcomes, or it proves little.
    assert True in verdicts.values() and False in verdicts.values(), verdicts
    wrong = {
        value: verdict
        for value, verdict in verdicts.items()
        if _accepted(real_db.conn, statement, value) != verdict
    }
    assert wrong == {}, f"admits() disagrees with PostgreSQL {real_db.major} for {wrong}"


def _pair_holds(pair: PairRule, values: dict[str, str]) -> bool:
    left, right = Decimal(values[pair.left]), Decimal(values[pair.right])
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
        "=": left == right,
        "<>": left != right,
    }[pair.op]


@pytest.mark.slow
def test_pair_rules_agree_with_postgres(real_db: RealDb) -> None:
    (pair,) = _parse_all(real_db.deparsed["pair_ints"]).pairs
    statement = sql.SQL("INSERT INTO pair_ints (x, y) VALUES (%s, %s)")
    for x, y in [("1", "2"), ("2", "2"), ("3", "2"), ("-5", "-4")]:
        try:
            with real_db.conn.transaction(force_rollback=True):
                real_db.conn.execute(statement, (x, y))
            inserted = True
        except psycopg.errors.CheckViolation:
            inserted = False
        assert inserted == _pair_holds(pair, {"x": x, "y": y}), (x, y)
