"""What a copy must enforce, compared with what its source enforces (literal catalogs; the
catalog queries run against real servers in test_masking_shapes)."""

from __future__ import annotations

from repro.mask.enforced import Enforced, compare, describe

FK = ("foreign key",)
UNIQUE = ("primary key", "unique", "unique index")


def key(name: str, valid: bool = True, kind: str = "foreign key", table: str = "s.t") -> Enforced:
    return Enforced(table, kind, name, valid, f"definition of {name}")


def test_a_key_not_valid_in_the_source_needs_only_to_exist() -> None:
    source = [key("a"), key("old", valid=False)]
    result = compare(source, [key("a"), key("old", valid=False)], FK)
    assert result.ok and result.not_valid_in_source == 1
    assert describe(result, "foreign keys") == (
        "as in the source: 2 foreign key (1 NOT VALID in the source, kept so)"
    )
    assert compare(source, [key("a"), key("old")], FK).ok  # validated here: also fine


def test_a_key_valid_in_the_source_must_be_valid_and_present() -> None:
    source = [key("a"), key("b")]
    result = compare(source, [key("a", valid=False)], FK)
    assert not result.ok
    assert result.not_valid == ["s.t.a (foreign key)"] and result.missing == ["s.t.b (foreign key)"]
    assert describe(result, "foreign keys") == (
        "missing: s.t.b (foreign key); valid in the source, not here: s.t.a (foreign key)"
    )


def test_unique_indexes_count_and_match_by_definition_under_another_name() -> None:
    source = [key("t_pkey", kind="primary key"), key("t_email_lower", kind="unique index")]
    renamed = Enforced("s.t", "unique index", "t_email_lower1", True, "definition of t_email_lower")
    result = compare(source, [key("t_pkey", kind="primary key"), renamed], UNIQUE)
    assert result.ok and result.checked == {"primary key": 1, "unique index": 1}
    assert not compare(source, [key("t_pkey", kind="primary key")], UNIQUE).ok
    # other kinds are another check's business
    assert compare([key("fk")], [], UNIQUE).ok
