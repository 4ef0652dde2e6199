"""Which columns look personal, so their statistics hold fingerprints instead of values.

pg_stats holds real column values (most common values, histogram bounds): for ``email`` that
is a list of real customers. A column is judged personal by its name, its type and, failing
those, its values; everything personal is fingerprinted or left out. Low-cardinality codes
(status, currency, enum and boolean columns) keep their values: they are what makes generated
data production-shaped, and they identify nobody.
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from repro.redaction import Redactor, value_looks_secret

# Roles a person plays towards a thing: as the last word of a name (``card_holder``,
# ``cardHolderName``, ``beneficiary``, ``contact``), the column holds that person (their name,
# or their email or phone, which the values then show); as an earlier one (``owner_id``,
# ``recipient_type``) it only points at one.
PERSON_ROLES = frozenset(
    {
        "holder",
        "owner",
        "contact",
        "recipient",
        "beneficiary",
        "signatory",
        "signer",
        "payee",
        "payer",
        "sender",
        "addressee",
        "guarantor",
        "guardian",
        "applicant",
        "claimant",
        "assignee",
    }
)
# References to a person: their distribution is fine, their values are ids of people.
PERSON_REFERENCES = frozenset(
    {
        "user",
        "customer",
        "person",
        "owner",
        "patient",
        "employee",
        "member",
        "contact",
        "account",
        "client",
    }
    | PERSON_ROLES
)
# Name tokens that mean "this identifies or describes a person" (or free text about one).
PERSONAL_TOKENS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "forename",
        "givenname",
        "familyname",
        "middlename",
        "nickname",
        "displayname",
        "username",
        "login",
        "email",
        "mail",
        "phone",
        "telephone",
        "tel",
        "mobile",
        "cell",
        "fax",
        "address",
        "addr",
        "street",
        "city",
        "town",
        "zip",
        "zipcode",
        "postcode",
        "postal",
        "ssn",
        "nin",
        "passport",
        "iban",
        "birth",
        "birthday",
        "birthdate",
        "dob",
        "ip",
        "ipaddr",
        "ipaddress",
        "lat",
        "lng",
        "lon",
        "latitude",
        "longitude",
        "geo",
        "comment",
        "comments",
        "note",
        "notes",
        "description",
        "message",
        "body",
        "text",
        "bio",
        "salary",
        "income",
    }
    | PERSON_REFERENCES
)
# Words a role ends in without being one: a placeholder holds a hint, not a person.
_NOT_ROLES = ("placeholder", "keyholder")
# What may follow the role and still name the person: card_holder_name, OwnerFullName.
_NAME_WORDS = frozenset({"name", "names", "full", "fullname", "first", "last", "display"})


def names_a_person(column: str) -> bool:
    """``card_holder``, ``CARDHOLDER``, ``beneficiaryName``, ``account_owner``: the column
    holds a person (as text), unlike ``owner_id`` or ``recipient_type``."""
    tokens = name_tokens(column)
    while len(tokens) > 1 and tokens[-1] in _NAME_WORDS:
        tokens = tokens[:-1]
    if not tokens:
        return False
    last = tokens[-1]
    if last.endswith(_NOT_ROLES):
        return False
    for role in PERSON_ROLES:
        if last == role or last == role + "s" or (len(role) >= 6 and last.endswith(role)):
            return True  # cardholder, policyholder, accountholder
        if last.endswith(role + "name"):  # cardholdername
            return True
    return False


# Tokens that, as the last word of a name, mean a code with a handful of values even when
# another word is personal: account_status, user_type, customer_country_code.
CODE_TOKENS = frozenset(
    {
        "status",
        "state",
        "type",
        "kind",
        "code",
        "category",
        "currency",
        "country",
        "lang",
        "language",
        "locale",
        "level",
        "tier",
        "plan",
        "role",
        "flag",
        "method",
        "channel",
        "source",
        "unit",
        "format",
        "mode",
        "priority",
        "gender",
        "region",
        "timezone",
        "tz",
    }
)
# Tokens that identify a person on their own: never overridden by a code-like last word.
STRONG_TOKENS = PERSONAL_TOKENS - PERSON_REFERENCES
# Substrings for names written without separators (customeremail, homeAddress is split).
PERSONAL_SUBSTRINGS = (
    "email",
    "phone",
    "birth",
    "address",
    "passport",
    "street",
    "postcode",
    "zipcode",
    "firstname",
    "lastname",
    "surname",
    "username",
)

# pg_type.typcategory of types whose values are numbers/points in time, not free-form text.
STRUCTURED_CATEGORIES = frozenset({"N", "D", "T", "B", "E"})
LOW_CARDINALITY = 100  # at most this many distinct values: a code, not free text
CODE_CARDINALITY = 1000  # for columns named like codes (status, country_code...)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[\d\s().-]{7,}")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}([ T].*)?")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def name_tokens(name: str) -> list[str]:
    """``homeAddress`` -> home, address; ``customer_ID`` -> customer, id."""
    return [t.lower() for t in _TOKEN.findall(name)]


@functools.lru_cache(maxsize=65_536)  # codes (status, currency) recur in every table
def value_looks_personal(value: str) -> bool:
    text = value.strip()
    if _EMAIL.search(text) or _is_ip(text):
        return True
    if (
        _PHONE.fullmatch(text)
        and sum(ch.isdigit() for ch in text) >= 7
        and not _DATE_LIKE.fullmatch(text)
    ):
        return True
    return value_looks_secret(text)


def _is_ip(text: str) -> bool:
    if not (":" in text or text.count(".") == 3):
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Verdict:
    personal: bool
    reason: str


@dataclass
class PersonalRules:
    """Profile overrides: globs over ``column``, ``table.column`` or ``schema.table.column``."""

    redactor: Redactor
    personal: Sequence[str] = ()
    public: Sequence[str] = ()
    # Verdicts by (column name, type category, low cardinality): the same column names
    # recur across thousands of tables (id, created_at, status...).
    _by_name: dict[tuple[str, str, bool], Verdict | None] = field(
        default_factory=dict, init=False, repr=False
    )

    def _matches(self, patterns: Iterable[str], key: str, column: str) -> bool:
        table_column = key.split(".", 1)[-1] + "." + column
        names = (column.lower(), table_column.lower(), f"{key}.{column}".lower())
        return any(fnmatch.fnmatchcase(n, p.lower()) for p in patterns for n in names)

    def judge(
        self,
        key: str,
        column: str,
        category: str,
        distinct: float | None,
        values: Iterable[str],
    ) -> Verdict:
        """``key`` is the table's ``schema.name``; ``distinct`` the estimated number of
        distinct values (None: unknown); ``values`` its MCVs and histogram bounds."""
        if self.public and self._matches(self.public, key, column):
            return Verdict(False, "profile: public_columns")
        if self.personal and self._matches(self.personal, key, column):
            return Verdict(True, "profile: personal_columns")
        low = distinct is not None and 0 < distinct <= LOW_CARDINALITY
        cache_key = (column, category, low)
        if cache_key not in self._by_name:
            self._by_name[cache_key] = self._judge_name(column, category, low)
        verdict = self._by_name[cache_key]
        if verdict is not None:
            return verdict
        if any(value_looks_personal(v) for v in values):
            return Verdict(True, "values look personal")
        if distinct is None:
            return Verdict(False, "no statistics to judge by")
        tokens = name_tokens(column)
        codeish = bool(tokens) and tokens[-1] in CODE_TOKENS
        if distinct > (CODE_CARDINALITY if codeish else LOW_CARDINALITY):
            return Verdict(True, "free text with many distinct values")
        return Verdict(False, "low-cardinality values")

    def _judge_name(self, column: str, category: str, low: bool) -> Verdict | None:
        """What name and type alone decide; None when the values must decide."""
        if category in ("B", "E"):
            return Verdict(False, "boolean or enum: values are labels from the schema")
        if self.redactor.name_is_secret(column):
            return Verdict(True, "name looks secret")
        tokens = name_tokens(column)
        codeish = bool(tokens) and tokens[-1] in CODE_TOKENS
        compact = column.lower().replace("_", "")
        if category == "S" and names_a_person(column):
            return Verdict(True, "name looks personal")
        if any(t in STRONG_TOKENS for t in tokens) or any(
            s in compact for s in PERSONAL_SUBSTRINGS
        ):
            if not (codeish and low and not _strong_code_clash(tokens)):
                return Verdict(True, "name looks personal")
        elif any(t in PERSONAL_TOKENS for t in tokens) and not (codeish and low):
            return Verdict(True, "name refers to a person")
        if category == "I":
            return Verdict(True, "network address")
        if category in STRUCTURED_CATEGORIES:
            # Numbers and times: their histogram is what the generator needs, and digits
            # would pass for phone numbers.
            return Verdict(False, "numbers or times")
        return None


def _strong_code_clash(tokens: list[str]) -> bool:
    """``zip_code``/``postal_code``: a personal word right before the code word is the code
    of a person (their postcode), not a category."""
    return len(tokens) >= 2 and tokens[-2] in STRONG_TOKENS
