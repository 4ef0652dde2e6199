"""Which columns look personal: by name, type, cardinality and values (the database facet
and the data features judge columns with these rules)."""

from __future__ import annotations

import math

import pytest

from repro.pg.personal import (
    PersonalRules,
    Verdict,
    name_tokens,
    names_a_person,
    value_looks_personal,
)
from repro.redaction import RedactionKey, Redactor


def rules(personal: tuple[str, ...] = (), public: tuple[str, ...] = ()) -> PersonalRules:
    redactor = Redactor(key=RedactionKey.from_bytes(b"k", "test"))
    return PersonalRules(redactor=redactor, personal=personal, public=public)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("homeAddress", ["home", "address"]),
        ("customer_ID", ["customer", "id"]),
        ("IPAddress", ["ip", "address"]),
        ("created_at", ["created", "at"]),
    ],
)
def test_name_tokens(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


@pytest.mark.parametrize(
    ("column", "category", "distinct", "personal"),
    [
        ("email", "S", 5000.0, True),
        ("first_name", "S", 80.0, True),  # few names are still names
        ("customerEmail", "S", None, True),
        ("user_id", "N", 1000.0, True),  # ids of people: skew kept, values fingerprinted
        ("birth_date", "D", 300.0, True),
        ("api_token", "S", 3.0, True),  # secret-looking name
        ("client_ip", "I", 10.0, True),
        ("status", "S", 3.0, False),
        ("account_status", "S", 4.0, False),  # a person's word, but a code
        ("zip_code", "S", 40.0, True),  # a code of a person
        ("country_code", "S", 250.0, False),
        ("is_active", "B", 2.0, False),
        ("mood", "E", 3.0, False),
        ("created_at", "D", math.inf, False),
        ("amount", "N", math.inf, False),
        ("sku", "S", 50.0, False),
        ("sku", "S", 50_000.0, True),  # free text with many values
    ],
)
def test_judged_by_name_type_and_cardinality(
    column: str, category: str, distinct: float | None, personal: bool
) -> None:
    assert rules().judge("app.t", column, category, distinct, ()).personal is personal


def test_judged_by_values() -> None:
    verdict = rules().judge("app.t", "ref", "S", 5.0, ["a@example.com"])
    assert (verdict.personal, verdict.reason) == (True, "values look personal")
    assert rules().judge("app.t", "ref", "S", 5.0, ["gold", "silver"]).personal is False


def test_profile_overrides() -> None:
    assert rules(public=("app.t.email",)).judge("app.t", "email", "S", 9.0, ()).personal is False
    assert rules(personal=("t.plan",)).judge("app.t", "plan", "S", 3.0, ()).personal is True


@pytest.mark.parametrize(
    ("value", "personal"),
    [
        ("someone@example.com", True),
        ("+49 30 1234567", True),
        ("(555) 123-4567", True),
        ("10.1.2.3", True),
        ("2001:db8::1", True),
        ("sk_live_abcdefghijklmnop", True),
        ("2024-01-01", False),
        ("2024-01-01 10:00:00+00", False),
        ("12:30:00", False),
        ("active", False),
        ("1.5", False),
    ],
)
def test_value_looks_personal(value: str, personal: bool) -> None:
    assert value_looks_personal(value) is personal


@pytest.mark.parametrize(
    ("column", "person"),
    [
        ("card_holder", True),
        ("cardHolder", True),
        ("CARDHOLDER", True),
        ("CardHolderName", True),
        ("cardholdername", True),
        ("account_owner", True),
        ("beneficiary", True),
        ("BENEFICIARY_NAME", True),
        ("signatory", True),
        ("recipient", True),
        ("contact", True),
        ("policyholder", True),
        ("owner_id", False),  # points at a person; its values are ids
        ("recipient_type", False),  # a code
        ("holder_count", False),
        ("placeholder", False),  # a UI hint
        ("input_placeholder", False),
        ("name", False),  # judged by its own word, not as a role
    ],
)
def test_names_a_person(column: str, person: bool) -> None:
    assert names_a_person(column) is person


def test_role_names_are_personal_text_by_name_alone() -> None:
    judge = rules().judge
    for column in ("card_holder", "cardHolderName", "BENEFICIARY", "signatory"):
        verdict = judge("public.payments", column, "S", 5000.0, ())
        assert verdict == Verdict(True, "name looks personal"), column
    # an id or a code of one is not text about a person
    assert not judge("public.payments", "recipient_type", "S", 3.0, ()).personal
    assert not judge("public.payments", "placeholder", "S", 3.0, ()).personal
