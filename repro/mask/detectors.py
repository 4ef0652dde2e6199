"""What sampled values are: emails, phone numbers, card numbers (Luhn), IBANs (mod 97), US
SSNs, IP addresses, person names (Faker's name lists), street addresses, dates of birth, free
text and secrets. Pure functions over text, for :mod:`repro.mask.scan`; they count, and never
return or keep a value.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from faker.providers.address.en_US import Provider as AddressProvider

from repro.pg.meaning import FIRST_NAMES, LAST_NAMES
from repro.pg.personal import name_tokens
from repro.redaction import value_looks_secret

THRESHOLD = 0.30  # share of non-null sampled values matching a detector that flags a column
HIGH_SHARE = 0.80  # a checkable pattern this common is a high-confidence finding
MIN_DISTINCT_FUZZY = 10  # names, addresses, free text, birth dates: fewer distinct is a code

NAME_KINDS = frozenset({"full_name", "first_name", "last_name"})
# Kinds whose values can be checked by a pattern: a sample that shows none lowers confidence.
CHECKABLE = frozenset({"email", "phone", "card", "iban", "national_id", "ip"})
# Date columns named like events are when something happened, not when someone was born.
_EVENT_TOKENS = frozenset(
    {
        "created",
        "updated",
        "modified",
        "deleted",
        "inserted",
        "expires",
        "expiry",
        "due",
        "start",
        "end",
        "valid",
        "since",
        "until",
        "at",
        "paid",
        "shipped",
        "ordered",
        "placed",
        "closed",
        "opened",
    }
)

_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}")
_CARD = re.compile(r"\d(?:[ -]?\d){12,18}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_PHONE_EXTENSION = re.compile(r"\s*(?:x|ext\.?)\s*\d{1,6}$", re.IGNORECASE)
_DATE_LIKE = re.compile(r"\d{1,4}[-./]\d{1,2}[-./]\d{1,4}([ T].*)?")
_STREET_SUFFIXES = frozenset(s.lower() for s in AddressProvider.street_suffixes) | {
    "st",
    "ave",
    "rd",
    "blvd",
    "ln",
    "dr",
    "ct",
    "pl",
    "sq",
    "hwy",
    "pkwy",
    "ter",
    "cir",
    "trl",
}
_STREET = re.compile(
    r"\d{1,6}[A-Za-z]?\s+((?:[A-Za-z0-9.'-]+\s+){0,5}?)([A-Za-z]+)\.?"
    r"(?:\s*(?:,|\n|\bapt\b|\bsuite\b|\bunit\b|#).*)?",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"[A-Z][a-zA-Z'-]+")
_FIRST = frozenset(FIRST_NAMES)
_LAST = frozenset(LAST_NAMES)
_HONORIFICS = frozenset({"Mr.", "Mrs.", "Ms.", "Miss", "Dr.", "Mr", "Mrs", "Ms", "Dr", "Prof."})

_LABELS = {
    "email": "are email addresses",
    "phone": "look like phone numbers",
    "card": "are card numbers (pass the Luhn check)",
    "iban": "are IBANs (pass the mod-97 check)",
    "national_id": "look like US social security numbers (###-##-####)",
    "ip": "are IP addresses",
    "full_name": "are full person names (Faker's name lists)",
    "first_name": "are first names (Faker's name lists)",
    "last_name": "are last names (Faker's name lists)",
    "street": "look like street addresses (number, words, street suffix)",
    "free_text": "are free text (long, many words, mostly distinct)",
    "secret": "look like keys or tokens",
}


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _is_card(text: str) -> bool:
    if not _CARD.fullmatch(text):
        return False
    digits = re.sub(r"\D", "", text)
    return len(set(digits)) > 1 and luhn_ok(digits)


def _is_ip(text: str) -> bool:
    if not (":" in text or text.count(".") == 3):
        return False
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True


def _is_phone(text: str) -> bool:
    text = _PHONE_EXTENSION.sub("", text)
    if not _PHONE.fullmatch(text) or _DATE_LIKE.fullmatch(text):
        return False
    if not 7 <= sum(ch.isdigit() for ch in text) <= 15:
        return False
    # bare digit runs are order numbers and amounts as often as phones
    return text.startswith("+") or any(ch in text for ch in " -()") or text.count(".") >= 2


def _is_street(text: str) -> bool:
    match = _STREET.fullmatch(text)
    return bool(match and match.group(2).lower() in _STREET_SUFFIXES)


def _person_name(text: str) -> str | None:
    words = [w for w in text.replace(",", " ").split() if w not in _HONORIFICS]
    if not 1 <= len(words) <= 3 or not all(_WORD.fullmatch(w) for w in words):
        return None
    if len(words) == 1:
        if words[0] in _FIRST:
            return "first_name"
        return "last_name" if words[0] in _LAST else None
    first, last = words[0], words[-1]
    if "," in text:  # "Last, First"
        first, last = last, first
    return "full_name" if first in _FIRST and last in _LAST else None


def classify_text(text: str) -> str | None:
    """The kind of personal value ``text`` looks like, or None."""
    value = text.strip()
    if not value:
        return None
    if _EMAIL.fullmatch(value):
        return "email"
    if _SSN.fullmatch(value):
        return "national_id"
    if _IBAN.fullmatch(value) and iban_ok(value):
        return "iban"
    if _is_card(value):
        return "card"
    if _is_ip(value):
        return "ip"
    if _is_phone(value):
        return "phone"
    if _is_street(value):
        return "street"
    person = _person_name(value)
    if person:
        return person
    if len(value) >= 30 and value.count(" ") >= 4:
        return "free_text"
    if value_looks_secret(value):
        return "secret"
    return None


@dataclass
class ValueVerdict:
    kind: str
    share: float
    reason: str
    high: bool


def judge_values(
    name: str, sample_as: str | None, values: Sequence[str], today: date
) -> ValueVerdict | None:
    """What the sampled non-null values of a column say (counts only, never values);
    ``sample_as``: text, number or date."""
    if not values:
        return None
    n = len(values)
    distinct = len(set(values))
    if sample_as == "date":
        return _judge_birth_dates(name, values, today)
    if sample_as == "number":
        cards = sum(1 for v in values if v.isdigit() and _is_card(v))
        if cards / n >= THRESHOLD:
            return ValueVerdict("card", cards / n, _share_reason(cards, n, "card"), True)
        return None
    kinds = Counter(k for k in map(classify_text, values) if k)
    names = sum(kinds[k] for k in NAME_KINDS)
    if names and names / n >= THRESHOLD:
        # first and last name lists overlap: the column holds person names either way
        top = max(NAME_KINDS, key=lambda k: (kinds[k], k))
        for k in NAME_KINDS:
            kinds.pop(k, None)
        kinds[top] = names
    for kind, count in kinds.most_common():
        share = count / n
        if share < THRESHOLD:
            break
        fuzzy = kind in NAME_KINDS or kind in ("street", "free_text")
        if fuzzy and distinct < MIN_DISTINCT_FUZZY:
            continue
        if kind == "free_text" and distinct / n < 0.5:
            continue
        high = kind in CHECKABLE and share >= HIGH_SHARE
        return ValueVerdict(kind, share, _share_reason(count, n, kind), high)
    return None


def _share_reason(count: int, n: int, kind: str) -> str:
    return f"{round(100 * count / n)}% of {n} sampled values {_LABELS[kind]}"


def _judge_birth_dates(name: str, values: Sequence[str], today: date) -> ValueVerdict | None:
    if _EVENT_TOKENS.intersection(name_tokens(name)):
        return None
    ages: list[float] = []
    for value in values:
        try:
            ages.append((today - date.fromisoformat(value[:10])).days / 365.25)
        except ValueError:
            continue
    if len(set(values)) < MIN_DISTINCT_FUZZY or len(ages) < 0.9 * len(values):
        return None
    plausible = sorted(a for a in ages if 0 <= a <= 110)
    if len(plausible) < 0.9 * len(values):
        return None
    spread = plausible[int(0.9 * (len(plausible) - 1))] - plausible[int(0.1 * len(plausible))]
    if spread < 20:  # signups and orders span a few years; people's births span decades
        return None
    reason = (
        f"{round(100 * len(plausible) / len(values))}% of {len(values)} sampled dates are "
        f"0-110 years ago, spread over {spread:.0f} years (dates of birth?)"
    )
    return ValueVerdict("birth_date", len(plausible) / len(values), reason, False)
