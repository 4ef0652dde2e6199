"""Which captured functions a schema script makes, and where."""

from __future__ import annotations

from typing import Any

from repro.pg.code_ddl import why_not
from repro.pg.ddl import schema_script


def fn(name: str, definition: Any, **extra: Any) -> dict[str, Any]:
    return {
        "schema": "s",
        "name": name,
        "kind": "function",
        "language": "plpgsql",
        "arguments": "",
        "returns": "integer",
        "definition": definition,
        **extra,
    }


def test_what_is_not_made() -> None:
    assert "older repro" in str(why_not(fn("f", None)))
    assert "withheld" in str(why_not(fn("f", {"redacted": True, "fingerprint": "x"})))
    assert "not trusted" in str(
        why_not(fn("f", "CREATE FUNCTION s.f() ...", language="plpython3u"))
    )
    assert "not trusted" in str(why_not(fn("f", "CREATE FUNCTION s.f() ...", language="c")))
    assert "one SQL statement" in str(
        why_not(fn("f", "CREATE FUNCTION s.f() RETURNS int AS $$ x $$; DROP TABLE t"))
    )
    assert "not a CREATE" in str(why_not(fn("f", "DROP TABLE t")))
    assert (
        why_not(
            fn(
                "agg",
                "CREATE AGGREGATE s.agg(int) (SFUNC = s.f, STYPE = int)",
                kind="aggregate",
                language="internal",
            )
        )
        is None
    )


def test_functions_go_where_their_signature_allows() -> None:
    table = {
        "schema": "s",
        "name": "t",
        "kind": "table",
        "columns": {"id": {"position": 1, "type": "integer", "default": "s.next_id()"}},
    }
    database = {
        "enums": {"s.mood": {"schema": "s", "name": "mood", "labels": ["a"]}},
        "tables": {"s.t": table},
        "functions": {
            "s.next_id()": fn("next_id", "CREATE FUNCTION s.next_id() RETURNS integer ..."),
            "s.of(s.mood)": fn(
                "of", "CREATE FUNCTION s.of(m s.mood) RETURNS integer ...", arguments="m s.mood"
            ),
            "s.rows()": fn(
                "rows", "CREATE FUNCTION s.rows() RETURNS SETOF s.t ...", returns="SETOF s.t"
            ),
            "s.masked()": fn(
                "masked",
                {"redacted": True, "fingerprint": "f", "masked": "CREATE FUNCTION s.masked() ..."},
            ),
            "s.py()": fn("py", "CREATE FUNCTION s.py() ...", language="plpython3u"),
        },
    }
    script = schema_script(database)
    order = [(s.kind, s.target) for s in script.before_load]
    assert order.index(("function", "s.next_id()")) < order.index(("enum", "s.mood"))
    assert order.index(("enum", "s.mood")) < order.index(("function", "s.of(s.mood)"))
    assert order.index(("function", "s.of(s.mood)")) < order.index(("table", "s.t"))
    assert order.index(("table", "s.t")) < order.index(("function", "s.rows()"))
    assert all(s.optional for s in script.before_load if s.kind == "function")
    assert "s.next_id()" in next(s.sql for s in script.before_load if s.kind == "table")
    assert script.skipped[:2] == [
        "function s.masked(): recreated with the secrets in its definition masked (***)",
        "function s.py(): language plpython3u is not trusted: a snapshot's code is not run in it",
    ]
