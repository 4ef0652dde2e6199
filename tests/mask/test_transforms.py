"""Transformers of ``repro data anonymize``: keyed, deterministic, shape-preserving, pure."""

from __future__ import annotations

import hmac
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.errors import DataGenerationError, UsageError
from repro.mask.mask_block import masked_block
from repro.mask.specs import parse_spec
from repro.mask.transforms import _UPPER_BIT, Transformer, _fast_mask, _Hmac, _Mask, build
from repro.mask.unique_mapping import UniqueMapping

KEY = b"test-key-one-Xk29Pq"
OTHER_KEY = b"another-key-Lm73Zt"
EMAIL = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")


def make(
    spec: str,
    type_name: str = "text",
    *,
    key: bytes = KEY,
    column: str = "public.t.c",
    max_length: int | None = None,
    nullable: bool = True,
) -> Transformer:
    return build(
        spec,
        key=key,
        column=column,
        type_name=type_name,
        max_length=max_length,
        nullable=nullable,
    )


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


VALUED = [
    ("mask", "text", "+49 151 7777 0192"),
    ("mask:keep_last=2", "text", "+1 555 010 0042"),
    ("hash", "text", "zebulon@corp.example"),
    ("fake:email", "text", "zebulon@corp.example"),
    ("fake:full_name", "text", "Zebulon Canaryfield"),
    ("fake:street", "text", "1 Main Street"),
    ("fake:card", "text", "4111 1111 1111 1111"),
    ("fake:ssn", "text", "123-45-6789"),
    ("fake:iban", "text", "DE89370400440532013000"),
    ("fake:uuid", "uuid", "6f1c0a9e-1b2c-4d3e-8f40-abcdefabcdef"),
    ("shift_date:30", "date", "1984-02-29"),
]


def test_the_keyed_digest_is_hmac_sha256_of_kind_and_value() -> None:
    assert _Hmac(KEY, "mask")("abc") == hmac.digest(KEY, b"mask\x1fabc", "sha256")
    assert _Hmac(b"k" * 100, "hash")("x") == hmac.digest(b"k" * 100, b"hash\x1fx", "sha256")


@pytest.mark.parametrize(("spec", "type_name", "value"), VALUED)
def test_same_key_same_output_other_key_other_output(spec: str, type_name: str, value: str) -> None:
    first = make(spec, type_name)(value)
    assert first == make(spec, type_name)(value)  # a new transformer: no shared state
    assert first != value
    assert make(spec, type_name, key=OTHER_KEY)(value) != first


@pytest.mark.parametrize(("spec", "type_name", "value"), VALUED)
def test_same_value_in_two_columns_masks_the_same_way(
    spec: str, type_name: str, value: str
) -> None:
    a = make(spec, type_name, column="public.customers.email")
    b = make(spec, type_name, column="public.orders.customer_email")
    assert a(value) == b(value)


@pytest.mark.parametrize(("spec", "type_name", "value"), VALUED)
def test_empty_stays_empty(spec: str, type_name: str, value: str) -> None:
    if type_name == "text":
        assert make(spec)("") == ""


def test_constant_and_null() -> None:
    assert make("constant:gold")("x") == "gold"
    assert make("constant:")("x") == ""
    assert make("null")("x") is None
    assert make("keep")("x") == "x"


def test_fake_email_is_a_valid_email_and_fits() -> None:
    fake = make("fake:email")
    outputs = {fake(f"person{i}@mail.example") for i in range(2000)}
    assert all(EMAIL.match(o) for o in outputs)
    assert len(outputs) > 1990  # realistic and spread out
    short = make("fake:email", "character varying(12)")
    for i in range(500):
        out = short(f"p{i}@x.example")
        assert out is not None and len(out) <= 12 and EMAIL.match(out), out


def test_max_length_is_respected_by_every_text_transformer() -> None:
    for spec in ("fake:full_name", "fake:street", "fake:paragraph", "fake:company", "hash"):
        t = make(spec, "character varying(10)")
        for i in range(300):
            out = t(f"value number {i}")
            assert out is not None and 0 < len(out) <= 10, (spec, out)
    assert make("fake:country", "character(2)")("Germany") in {
        make("fake:country", "character(2)")(f"c{i}") for i in range(3000)
    }
    assert len(make("fake:country", "character(2)")("Germany") or "") == 2
    phone = make("fake:phone", "varchar(10)")("+44 20 7946 0000")
    assert phone is not None and len(phone) <= 10


def test_mask_keeps_separators_length_and_character_classes() -> None:
    mask = make("mask")
    for value in ("+49 151 7777 0192", "AB-12cd/x_9", "Müller-Lüdenscheidt", "(030) 1234-567"):
        out = mask(value)
        assert out is not None and len(out) == len(value) and out != value
        for a, b in zip(value, out, strict=True):
            if a.isdigit():
                assert b.isdigit()
            elif a.isalpha():
                assert b.isalpha() and b.isupper() == a.isupper()
            else:
                assert a == b


def test_mask_keep_last_and_first_keep_phone_layout() -> None:
    out = make("mask:keep_last=4")("+49 151 7777 0192")
    assert out is not None
    assert re.fullmatch(r"\+\d\d \d{3} \d{4} 0192", out)
    assert out != "+49 151 7777 0192"
    first = make("mask:keep_first=3")("ABC-12345")
    assert first is not None and first.startswith("ABC-") and first != "ABC-12345"
    # never more than half the characters kept: a 4-digit PIN is not copied whole
    pin = make("mask:keep_last=4")("1234")
    assert pin is not None and pin[2:] == "34" and pin != "1234"


def test_mask_on_numbers_stays_numeric_and_in_range() -> None:
    small = make("mask", "smallint")
    for value in ("32767", "-32768", "7", "0", "-5", "12345"):
        out = small(value)
        assert out is not None and -(2**15) <= int(out) < 2**15
    money = make("mask", "numeric(10,2)")
    out = money("1234.56")
    assert out is not None and re.fullmatch(r"[1-9]\d{3}\.\d\d", out)
    assert money("NaN") == "NaN"
    floats = make("mask", "double precision")("1.5e+300")
    assert floats is not None and floats.endswith("e+300") and float(floats) > 0


def test_hash_is_hex_cut_to_length_or_a_number_in_range() -> None:
    out = make("hash", "character varying(12)")("secret")
    assert out is not None and re.fullmatch(r"[0-9a-f]{12}", out)
    assert re.fullmatch(r"[0-9a-f]{64}", make("hash")("secret") or "")
    for i in range(200):
        n = int(make("hash", "smallint")(str(i)) or "")
        assert 0 <= n < 2**15
    assert len(make("hash", "numeric(6,2)")("12.5") or "") <= 4


def test_fake_card_ssn_uuid_iban_shapes() -> None:
    card = make("fake:card")
    for i in range(300):
        out = card(f"{i:016d}") or ""
        assert re.fullmatch(r"\d{16}", out) and luhn_ok(out)
    spaced = card("4111 1111 1111 1111") or ""
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", spaced) and luhn_ok(spaced.replace(" ", ""))
    assert re.fullmatch(r"\d{16}", make("fake:card", "bigint")("4111111111111111") or "")
    ssn = make("fake:ssn")
    for i in range(300):
        out = ssn(f"{i:03d}-45-6789") or ""
        assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", out), out
        assert not out.startswith(("000", "666", "9")) and out[4:6] != "00"
    uuid_re = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(uuid_re, make("fake:uuid", "uuid")("x") or "")
    iban = make("fake:iban")("DE89370400440532013000") or ""
    assert re.fullmatch(r"DE\d{20}", iban)
    assert int(iban[4:] + "1314" + iban[2:4]) % 97 == 1


def test_shift_date_keeps_the_format_and_the_range() -> None:
    shift = make("shift_date:30", "date")
    from datetime import date

    for day in range(0, 3000, 7):
        value = date.fromordinal(date(1990, 1, 1).toordinal() + day).isoformat()
        out = shift(value) or ""
        moved = (date.fromisoformat(out) - date.fromisoformat(value)).days
        assert 1 <= abs(moved) <= 30
    assert shift("infinity") == "infinity" and shift("-infinity") == "-infinity"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d BC", shift("0044-03-15 BC") or "")
    stamp = make("shift_date:5", "timestamp with time zone")
    out = stamp("2024-05-01 12:00:00.123+02") or ""
    assert re.fullmatch(r"2024-0[45]-\d\d 12:00:00\.123\+02", out) and out[:10] != "2024-05-01"
    plain = make("shift_date:5", "timestamp without time zone")("2024-05-01 12:00:00") or ""
    assert plain.endswith(" 12:00:00") and len(plain) == 19
    with pytest.raises(DataGenerationError) as info:
        shift("05/01/2024")
    assert "DateStyle" in info.value.one_line()


def test_unique_mapping_makes_mask_injective_regardless_of_order() -> None:
    codes = [f"{i:03d}" for i in range(1000)]
    mask = make("mask", "character(3)", column="public.customers.code")
    plain = {mask(c) for c in codes}
    assert len(plain) < 1000  # collision-prone on purpose: 1000 values into 1000 slots
    mapping = UniqueMapping.build(mask, codes)
    outputs = [mapping(c) for c in codes]
    assert len(set(outputs)) == 1000
    assert all(o is not None and re.fullmatch(r"\d{3}", o) for o in outputs)
    assert mapping.collisions_resolved > 0
    shuffled = codes[:]
    random.Random(7).shuffle(shuffled)
    again = UniqueMapping.build(make("mask", "character(3)"), shuffled + codes[:50])
    assert [again(c) for c in codes] == outputs
    assert mapping("") == ""
    digits = UniqueMapping.build(make("mask"), [str(i) for i in range(10)] + ["a"])
    assert sorted(digits(str(i)) or "" for i in range(10)) == [str(i) for i in range(10)]


def test_unique_mapping_refuses_what_cannot_be_injective() -> None:
    with pytest.raises(DataGenerationError, match=r"public\.t\.tier") as info:
        UniqueMapping.build(make("constant:x", column="public.t.tier"), ["a", "b"])
    assert "\n" not in info.value.one_line()
    country = make("fake:country", "character(2)", column="public.t.flag")
    with pytest.raises(DataGenerationError, match=r"public\.t\.flag"):
        UniqueMapping.build(country, [f"land {i}" for i in range(300)])
    assert UniqueMapping.build(make("constant:x"), ["a"])("a") == "x"
    assert UniqueMapping.build(make("null"), ["a", "b"])("a") is None


@pytest.mark.parametrize(
    ("spec", "type_name", "nullable", "max_length", "message"),
    [
        ("bogus", "text", True, None, "not valid"),
        ("fake:nope", "text", True, None, "unknown fake kind"),
        ("mask:keep_last=x", "text", True, None, "keep_last"),
        ("mask:keep_middle=2", "text", True, None, "keep_first"),
        ("shift_date:0", "date", True, None, "whole number"),
        ("shift_date:abc", "date", True, None, "whole number"),
        ("hash:3", "text", True, None, "not valid"),
        ("null", "text", False, None, "NOT NULL"),
        ("shift_date:30", "text", True, None, "date or timestamp"),
        ("fake:email", "integer", True, None, "integer"),
        ("fake:card", "integer", True, None, "integer"),
        ("mask", "date", True, None, "date"),
        ("mask", "inet", True, None, "inet"),
        ("hash", "boolean", True, None, "boolean"),
        ("hash", "character varying(6)", True, None, "at least 8"),
        ("fake:email", "character varying(5)", True, None, "at least 8"),
        ("fake:uuid", "character varying(20)", True, None, "at least"),
        ("constant:toolong", "character varying(3)", True, None, "longer"),
        ("constant:abc", "integer", True, None, "not a valid int"),
        ("mask", "date[]", True, None, "date"),
        ("mask", "inet[]", True, None, "inet"),
        ('keys:{"email": "fake:email"}', "text", True, None, "json, jsonb and hstore"),
        ('keys:{"email": "fake:nope"}', "jsonb", True, None, "unknown fake kind"),
        ('keys:["email"]', "jsonb", True, None, "JSON object"),
    ],
)
def test_every_refusal_is_one_line_naming_column_and_spec(
    spec: str, type_name: str, nullable: bool, max_length: int | None, message: str
) -> None:
    with pytest.raises(UsageError) as info:
        make(spec, type_name, column="public.people.col", nullable=nullable, max_length=max_length)
    line = info.value.one_line()
    assert "\n" not in line and "public.people.col" in line and repr(spec) in line
    assert message in line


def test_parse_spec_grammar() -> None:
    assert parse_spec("mask:keep_last=4").keep_last == 4
    assert parse_spec("constant:a:b c").arg == "a:b c"
    assert parse_spec("shift_date:30").days == 30
    for bad in ("", "keep:1", "fake", "fake:", "constant", "mask:", "shift_date:-3"):
        with pytest.raises(ValueError):
            parse_spec(bad)


# ------------------------------------------------------------------------------ avoidance


def test_outputs_avoid_every_source_value_of_an_identifying_spec() -> None:
    """A source made by `data generate` holds the very emails fake:email makes: an output
    that is another row's real email would show that email exists. With the source values'
    hashes as ``avoid``, no output is one of them, and the mapping stays deterministic."""
    probe = make("fake:email")
    sources = [f"person{i}@corp.example" for i in range(2000)]
    outputs = [probe(v) for v in sources]
    # the source also holds (as values of other rows) what the first 200 would become
    planted = sources + [o for o in outputs[:200] if o is not None]
    avoiding = make("fake:email")
    avoiding.avoid = {hash(v) for v in planted}  # type: ignore[attr-defined]
    masked = [avoiding(v) for v in planted]
    assert not set(masked) & set(planted)
    again = make("fake:email")
    again.avoid = {hash(v) for v in planted}  # type: ignore[attr-defined]
    assert [again(v) for v in planted] == masked


def test_common_values_may_coincide_but_never_with_themselves() -> None:
    """Names come from a pool: a fake name equal to another row's is expected; equal to the
    row's own would keep it."""
    from repro.pg.meaning import text_value

    names = make("fake:first_name")
    pool = [text_value("first_name", k, 0) for k in range(690)]
    assert all(names(v) != v for v in pool)
    assert {names(v) for v in pool} & set(pool)  # coincidences with other rows: fine


def test_mask_judges_short_values_common_and_long_ones_identifying() -> None:
    masker = make("mask:keep_last=2")
    assert masker.identifying("+49 151 7777 0192")  # type: ignore[attr-defined]
    assert not masker.identifying("042")  # type: ignore[attr-defined]


def test_hash_on_bytea_keeps_the_length_and_the_hex_form() -> None:
    hashed = make("hash", "bytea")
    out = hashed("\\x00112233445566778899")
    assert out is not None and re.fullmatch(r"\\x[0-9a-f]{20}", out) and out != "\\x0011"
    assert hashed("\\x") == "\\x"


def test_fake_ip_on_inet_stays_a_valid_address_past_the_ipv4_pool() -> None:
    import ipaddress

    ips = make("fake:ip", "inet")
    values = [f"192.0.2.{i % 250}/{24 + i % 8}" for i in range(500)]
    mapping = UniqueMapping.build(ips, values)
    for value in values:
        ipaddress.ip_interface(str(mapping(value)))
    derive = ips.derive  # type: ignore[attr-defined]
    for attempt in range(1, 60):
        ipaddress.ip_interface(str(derive("192.0.2.1", attempt)))


def test_unique_mapping_folds_what_a_lower_index_compares() -> None:
    """Under a unique index on lower(code), Ab and aB would collide once lowered."""
    values = [a + b for a in "aAbB" for b in "xXyY"]
    values = list({v.lower(): v for v in values}.values())  # what such an index admits
    mapping = UniqueMapping.build(make("mask"), values * 40, fold=str.lower)
    lowered = [str(mapping(v)).lower() for v in values]
    assert len(set(lowered)) == len(values)


ascii_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=48)


@settings(max_examples=300, deadline=None)
@given(
    value=ascii_values,
    stream=st.binary(min_size=48, max_size=48),
    first=st.integers(min_value=0, max_value=5),
    last=st.integers(min_value=0, max_value=5),
)
def test_the_one_pass_ascii_text_mask_is_the_step_by_step_one(
    value: str, stream: bytes, first: int, last: int
) -> None:
    """_Mask's fast path for ASCII text equals _fast_mask, then the case flip, then
    _keep_ends, as the general path does them."""
    # both ends at once is more than a spec can ask for; the class allows it
    mask = _Mask("mask", "c", b"k" * 32, keep_first=first, keep_last=last)
    expected = _fast_mask(value, stream, *mask._tables)
    if not value.islower() and value.lower() != value:
        flip = int.from_bytes(value.encode().translate(_UPPER_BIT), "big")
        flipped = int.from_bytes(expected.encode(), "big") ^ flip
        expected = flipped.to_bytes(len(value), "big").decode()
    if first or last:
        expected = mask._keep_ends(value, expected)
    assert mask._masked_ascii_text(value, stream) == expected


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.text(max_size=40), max_size=80, unique=True),
    spec=st.sampled_from(["mask", "mask:keep_last=4", "mask:keep_first=2", "hash"]),
    max_length=st.sampled_from([None, 8]),
    avoided=st.integers(min_value=0, max_value=8),
)
def test_masking_many_values_at_once_gives_what_one_by_one_gives(
    values: list[str], spec: str, max_length: int | None, avoided: int
) -> None:
    """The block path (numpy over same-length ASCII values, HMACs in one loop) equals the
    one-value path for any text: other lengths, non-ASCII, empty values, and outputs that must
    be derived again because they are source values to avoid."""
    one, block = make(spec, max_length=max_length), make(spec, max_length=max_length)
    # Avoid some real outputs, so the block path must fall back to the retries for them.
    outputs = [one(v) for v in values]
    avoid = {hash(out) for out in outputs[:avoided] if out}
    for transformer in (one, block):
        transformer.avoid = avoid  # type: ignore[attr-defined]
        transformer._cache.clear()  # type: ignore[attr-defined]
    assert block.many(values) == [one(v) for v in values]  # type: ignore[attr-defined]
    assert block.many(values) == [one(v) for v in values]  # now from its cache


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=32),
        min_size=16,
        max_size=64,
    ),
    first=st.integers(min_value=0, max_value=6),
    last=st.integers(min_value=0, max_value=6),
)
def test_the_numpy_block_mask_is_the_one_value_mask(
    values: list[str], first: int, last: int
) -> None:
    """Any ASCII values of one length up to 32, any kept ends: the block's masks are the one
    value path's, byte for byte."""
    length = len(values[0])
    values = [(v * length)[:length] for v in values]
    mask = _Mask("mask", "c", KEY, keep_first=first, keep_last=last)
    digests = mask._hmac.many(values)
    block = masked_block(values, digests, length, mask._tables, _UPPER_BIT, first, last)
    assert block == [mask._masked_ascii_text(v, d) for v, d in zip(values, digests, strict=True)]
    assert digests == [mask._hmac(v) for v in values]
