"""Masking inside arrays, JSON documents and hstores: the structure stays, the leaves change.

Pure tests of the parsers and container transformers; that PostgreSQL reads back what we
write (and writes what we read) is proven against a real server in test_masking_shapes.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.errors import DataGenerationError, UsageError
from repro.mask import containers
from repro.mask.containers import parse_array, parse_hstore, render_array, render_hstore
from repro.mask.leaf_values import array_elements, glob_escape, values_by_key
from repro.mask.specs import keys_spec, leak_class, parse_spec
from repro.mask.transforms import build

KEY = b"test-key-one-Xk29Pq"
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")


def make(spec: str, type_name: str) -> containers.Container:
    built = build(
        spec, key=KEY, column="public.t.c", type_name=type_name, max_length=None, nullable=True
    )
    assert isinstance(built, containers.Container)
    return built


# ------------------------------------------------------------------------------ arrays


@pytest.mark.parametrize(
    ("text", "prefix", "items"),
    [
        ("{}", "", []),
        ("{a,b}", "", ["a", "b"]),
        (
            '{"a b","",NULL,"NULL","x\\"y","back\\\\slash"}',
            "",
            ["a b", "", None, "NULL", 'x"y', "back\\slash"],
        ),
        ("{{1,2},{3,NULL}}", "", [["1", "2"], ["3", None]]),
        ("[0:1]={x,y}", "[0:1]=", ["x", "y"]),
        ('{"{braces}","a,b"}', "", ["{braces}", "a,b"]),
        ("{ünïcødé,日本}", "", ["ünïcødé", "日本"]),
    ],
)
def test_parse_array(text: str, prefix: str, items: list[object]) -> None:
    assert parse_array(text) == (prefix, items)
    assert parse_array(render_array(prefix, items)) == (prefix, items)


@pytest.mark.parametrize("text", ["", "a,b", "{a", "{a}}", "{a}x", '{"open}', "{{{{{{{a}}}}}}}"])
def test_parse_array_refuses_what_postgres_never_writes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_array(text)


ELEMENT = st.one_of(st.none(), st.text(max_size=12))
NESTED = st.lists(ELEMENT, max_size=5) | st.lists(
    st.lists(ELEMENT, min_size=2, max_size=2), max_size=3
)


@given(NESTED)
@settings(max_examples=300)
def test_render_then_parse_gives_the_elements_back(items: list[object]) -> None:
    assert parse_array(render_array("", items)) == ("", items)


def test_array_masks_each_element_and_keeps_nulls_and_shape() -> None:
    emails = make("fake:email", "text[]")
    out = emails('{zebulon@corp.example,NULL,"",other@corp.example}')
    assert out is not None
    _, items = parse_array(out)
    assert items[1] is None and items[2] == ""
    assert all(EMAIL.match(str(i)) for i in (items[0], items[3]))
    assert "corp.example" not in out
    # the same element masks the same way in every array (joins on unnest survive)
    again = emails("{other@corp.example}")
    assert again == "{" + str(items[3]) + "}"
    grid = make("mask", "integer[]")("[0:1]={{12,34},{56,NULL}}")
    assert grid is not None and re.fullmatch(r"\[0:1\]=\{\{\d\d,\d\d\},\{\d\d,NULL\}\}", grid)
    ips = make("fake:ip", "inet[]")("{192.168.1.7,2001:db8::1}")
    assert ips is not None and "192.168" not in ips and ips.count(",") == 1


def test_array_units_are_its_elements() -> None:
    emails = make("fake:email", "character varying(80)[]")
    found = [(leaf.spec, unit) for leaf, unit in containers.units(emails, "{a@b.example,NULL}")]
    assert found == [("fake:email", "a@b.example")]


# ------------------------------------------------------------------------------ JSON

DOCUMENT = json.dumps(
    {
        "name": "Zebulon Canaryfield",
        "Email": "zebulon@corp.example",
        "plan": "gold",
        "active": True,
        "note": None,
        "contact": {"mobile_phone": "+49 151 7777 0192", "phone": 4915177770192},
        "emails": ["a@corp.example", "b@corp.example"],
        "count": 3,
    }
)
KEYS = keys_spec(
    {
        "name": "fake:full_name",
        "email*": "fake:email",
        "*phone*": "mask:keep_last=2",
    }
)


def test_json_keys_mask_values_under_matching_keys_only() -> None:
    masked = make(KEYS, "jsonb")(DOCUMENT)
    assert masked is not None
    out = json.loads(masked)
    assert list(out) == list(json.loads(DOCUMENT))  # keys and their order kept
    assert out["plan"] == "gold" and out["active"] is True and out["note"] is None
    assert out["count"] == 3
    assert out["name"] != "Zebulon Canaryfield" and " " in out["name"]
    assert EMAIL.match(out["Email"])  # patterns match any case
    assert all(EMAIL.match(e) for e in out["emails"])  # arrays under a key: each element
    assert out["contact"]["mobile_phone"].endswith("92")
    assert out["contact"]["mobile_phone"] != "+49 151 7777 0192"
    number = out["contact"]["phone"]  # a number stays a number under mask
    assert isinstance(number, int) and str(number).endswith("92") and number != 4915177770192
    for secret in ("Zebulon", "corp.example", "7777"):
        assert secret not in masked


def test_json_without_keys_masks_every_string_and_number() -> None:
    masked = make("hash", "json")('{"a": "secret", "b": [1.5, "x"], "c": true, "d": null}')
    assert masked is not None
    out = json.loads(masked)
    assert set(out) == {"a", "b", "c", "d"} and out["c"] is True and out["d"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", out["a"]) and isinstance(out["b"][0], int)


def test_json_keeps_duplicate_keys_and_exact_numbers_of_json_columns() -> None:
    masked = make(keys_spec({"x": "fake:email"}), "json")('{"n": 1.50, "n": 1e3, "x": "a@b.c"}')
    assert masked is not None and masked.startswith('{"n": 1.50, "n": 1e3, "x": "')


def test_json_deeper_than_the_limit_is_refused_in_one_line() -> None:
    deep = '{"a": ' * (containers.MAX_DEPTH + 5) + "1" + "}" * (containers.MAX_DEPTH + 5)
    with pytest.raises(DataGenerationError, match=r"public\.t\.c: .*deeper") as info:
        make("hash", "jsonb")(deep)
    assert "\n" not in info.value.one_line()
    with pytest.raises(DataGenerationError, match="not valid JSON"):
        make("hash", "jsonb")("{nope")


def test_json_units_name_each_leaf_with_its_spec() -> None:
    found = sorted(
        (leaf.spec, unit) for leaf, unit in containers.units(make(KEYS, "jsonb"), DOCUMENT)
    )
    assert ("fake:email", "zebulon@corp.example") in found
    assert ("mask:keep_last=2", "4915177770192") in found
    assert all(unit != "gold" for _, unit in found)


def test_a_null_leaf_is_not_a_unit() -> None:
    rules = keys_spec({"email": "fake:email", "secret": "null"})
    found = [
        leaf.spec
        for leaf, _ in containers.units(make(rules, "jsonb"), '{"email": "a@b.c", "secret": "s"}')
    ]
    assert found == ["fake:email"]


# ------------------------------------------------------------------------------ hstore


@given(
    st.lists(st.tuples(st.text(max_size=8), st.one_of(st.none(), st.text(max_size=8))), max_size=5)
)
def test_hstore_render_then_parse(pairs: list[tuple[str, str | None]]) -> None:
    assert parse_hstore(render_hstore(pairs)) == pairs


def test_hstore_masks_values_of_matching_keys() -> None:
    masked = make(keys_spec({"email": "fake:email"}), "hstore")(
        '"email"=>"zebulon@corp.example", "plan"=>"gold", "none"=>NULL'
    )
    assert masked is not None
    pairs = dict(parse_hstore(masked))
    assert EMAIL.match(str(pairs["email"])) and "corp.example" not in masked
    assert pairs["plan"] == "gold" and pairs["none"] is None


# ------------------------------------------------------------------------------ grammar


def test_keys_spec_grammar() -> None:
    parsed = parse_spec('keys:{"email": "fake:email", "*": "hash"}')
    assert parsed.keys == (("email", "fake:email"), ("*", "hash"))
    for bad, why in (
        ("keys:", "JSON object"),
        ("keys:{}", "JSON object"),
        ('keys:{"a": 1}', "must be a string"),
        ('keys:{"a": "keys:{}"}', "JSON object"),
        ('keys:{"a": "keys:{\\"b\\": \\"hash\\"}"}', "cannot nest"),
        ('keys:{"": "hash"}', "1..200"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_spec(bad)
    with pytest.raises(UsageError, match="json, jsonb and hstore"):
        build(
            keys_spec({"a": "hash"}),
            key=KEY,
            column="c",
            type_name="text",
            max_length=None,
            nullable=True,
        )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("fake:email", "identifying"),
        ("fake:phone", "identifying"),
        ("fake:card", "identifying"),
        ("hash", "identifying"),
        ("mask:keep_last=2", "identifying"),
        ("fake:full_name", "common"),
        ("fake:city", "common"),
        ("shift_date:30", "common"),
        ("null", "unchecked"),
        ("constant:x", "unchecked"),
    ],
)
def test_leak_class(spec: str, expected: str) -> None:
    assert leak_class(spec) == expected


# ------------------------------------------------------------------------------ scan's view


def test_leaf_values_of_samples_are_bounded_and_keyed() -> None:
    assert array_elements(['{a,NULL,"b c"}', "not an array", "{{x,y}}"]) == ["a", "b c", "x", "y"]
    deep = '{"EMAIL": "c@d.example", "deep": ' + '{"deep": ' * 40 + '"bottom"' + "}" * 41
    docs = [DOCUMENT, "not json", deep]
    found = values_by_key(docs, "json")
    assert "deep" not in found  # past MAX_DEPTH nothing is read
    assert found["Email"] == ["zebulon@corp.example", "c@d.example"]  # case folded together
    assert found["mobile_phone"] == ["+49 151 7777 0192"]
    assert found["emails"] == ["a@corp.example", "b@corp.example"]
    assert "active" not in found and "note" not in found
    assert values_by_key(['"email"=>"a@b.c", "x"=>NULL'], "hstore") == {"email": ["a@b.c"]}
    assert glob_escape("a*b?[c]") == "a[*]b[?][[]c]"


@pytest.mark.parametrize(
    ("spec", "type_name", "value"),
    [
        (KEYS, "jsonb", DOCUMENT),
        (
            keys_spec({"email": "fake:email", "secret": "null"}),
            "json",
            '{"email": "a@b.c", "secret": "s", "n": 1}',
        ),
        ("mask", "jsonb", '[1.5, "x", {"y": null}]'),
        ("fake:email", "text[]", '{a@b.example,NULL,"",{c@d.example}}'),
        ("fake:email", "text[]", "{{a@b.example,e@f.example},{NULL,g@h.example}}"),
        (keys_spec({"email": "fake:email"}), "hstore", '"email"=>"a@b.c", "x"=>NULL'),
        (keys_spec({"email": "fake:email"}), "jsonb[]", '{"{\\"email\\": \\"a@b.c\\"}"}'),
    ],
)
def test_one_walk_masks_and_tracks_like_two(spec: str, type_name: str, value: str) -> None:
    """The copy masks and tracks a container in one walk (``masked``): the same output, and
    the same leaves, as masking and then taking the value apart twice."""
    container = make(spec, type_name)
    out, leaves = container.masked(value)
    assert out == container(value)
    before = [(leaf.spec, unit) for leaf, unit in containers.units(container, value)]
    assert [(leaf.spec, unit) for leaf, unit, _ in leaves] == before
    assert out is not None
    after = [unit for _, unit in containers.units(container, out)]
    assert [new for _, _, new in leaves] == after
