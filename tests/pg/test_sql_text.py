"""Definitions from a snapshot are hostile text: before one is run it must lex as exactly
one statement (or one expression). Property tests: whatever a literal, a quoted name or a
dollar-quoted body holds, it cannot end the statement; whatever follows a real statement
end is refused."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.pg.sql_text import SqlTextError, check_expression, check_statement, tokens

FAST = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
ANY_TEXT = st.text(max_size=80)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def dollar(text: str) -> str:
    tag = "body"
    while f"${tag}$" in text:
        tag += "x"
    return f"${tag}${text}${tag}$"


def e_string(text: str) -> str:
    return "E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


QUOTED = st.one_of(
    ANY_TEXT.map(literal),
    ANY_TEXT.filter(bool).map(ident),
    ANY_TEXT.map(dollar),
    ANY_TEXT.map(e_string),
)


@FAST
@given(st.lists(QUOTED, min_size=1, max_size=4))
def test_nothing_quoted_ends_a_statement(parts: list[str]) -> None:
    statement = "SELECT " + ", ".join(parts)
    check_statement(statement)
    check_statement(statement + ";")
    check_expression("(" + " || ".join(parts) + ")")


@FAST
@given(st.lists(QUOTED, max_size=3), st.sampled_from(["DROP TABLE x", "SELECT 1", "x"]))
def test_a_second_statement_is_refused(parts: list[str], second: str) -> None:
    first = "SELECT " + (", ".join(parts) or "1")
    with pytest.raises(SqlTextError):
        check_statement(f"{first}; {second}")
    with pytest.raises(SqlTextError):
        check_expression(f"{first}; {second}")


@FAST
@given(st.lists(QUOTED, max_size=3))
def test_an_expression_cannot_close_what_it_did_not_open(parts: list[str]) -> None:
    inner = " || ".join(parts) or "1"
    for bad in (f"{inner}) OR (true", f"{inner} -- the rest", f"{inner} /* x */", f"({inner}"):
        with pytest.raises(SqlTextError):
            check_expression(bad)


@FAST
@given(ANY_TEXT)
def test_the_lexer_never_fails_unexpectedly(text: str) -> None:
    try:
        pieces = list(tokens(text))
    except SqlTextError:
        return
    assert "".join(piece for _, piece in pieces) == text


def test_real_definitions() -> None:
    check_statement(
        "CREATE OR REPLACE FUNCTION app.f()\n RETURNS trigger\n LANGUAGE plpgsql\n"
        "AS $function$\nBEGIN\n  -- it's fine; really\n  RETURN NEW;\nEND $function$\n"
    )
    check_statement("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END")
    check_expression("((content -> 'generator'::text) ->> 'n'::text)")
    check_expression("(a$b = $1) AND (c ~ '[;)]')")
    with pytest.raises(SqlTextError, match="unterminated"):
        check_statement("SELECT 'open")
    with pytest.raises(SqlTextError, match="unterminated"):
        check_statement("SELECT $x$ never closed")
    with pytest.raises(SqlTextError, match="characters"):
        check_statement("SELECT " + "x" * 5_000_000)
