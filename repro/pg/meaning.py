"""Realistic text by what a column means (email, city, company...), fast and injective.

Faker's default calls draw from weighted lists (a first name costs ~80 us): far too slow per
row. Instead the k-th value of a column is *composed* from Faker's own word lists (first
names x last names gives 690,000 distinct full names and emails), or taken from a small pool
Faker fills once per process; past the end a numeric suffix keeps values distinct. So
``value(k)`` is deterministic, distinct for distinct k, and costs a string format.

The generator fills columns with these values; masking fakes values with the same lists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from faker.providers.address.en_US import Provider as AddressProvider
from faker.providers.lorem.en_US import Provider as LoremProvider
from faker.providers.person.en_US import Provider as PersonProvider

from repro.pg.personal import name_tokens

# meaning -> name tokens; the whole name is tried first, then its words from the last
# (billing_city is a city, city_name is... a city too, through "city").
_MEANINGS: tuple[tuple[str, frozenset[str]], ...] = (
    ("email", frozenset({"email", "mail", "emailaddress"})),
    ("first_name", frozenset({"firstname", "forename", "givenname"})),
    ("last_name", frozenset({"lastname", "surname", "familyname"})),
    ("username", frozenset({"username", "login", "handle", "nickname", "nick"})),
    ("phone", frozenset({"phone", "telephone", "tel", "mobile", "cell", "fax", "msisdn"})),
    ("street", frozenset({"street", "address", "addr", "addressline", "line1", "line2"})),
    ("city", frozenset({"city", "town"})),
    ("state", frozenset({"state", "province", "region", "county"})),
    ("postcode", frozenset({"zip", "zipcode", "postcode", "postal", "postalcode"})),
    ("country", frozenset({"country"})),
    ("company", frozenset({"company", "organization", "organisation", "employer", "org"})),
    ("url", frozenset({"url", "website", "homepage", "link", "uri"})),
    ("domain", frozenset({"domain", "hostname", "host"})),
    ("ip", frozenset({"ip", "ipaddr", "ipaddress"})),
    ("currency", frozenset({"currency"})),
    ("color", frozenset({"color", "colour"})),
    ("sentence", frozenset({"title", "subject", "headline", "summary"})),
    (
        "paragraph",
        frozenset(
            {
                "description",
                "comment",
                "comments",
                "note",
                "notes",
                "body",
                "bio",
                "message",
                "text",
                "content",
                "details",
            }
        ),
    ),
    (
        "full_name",
        frozenset(
            {"name", "fullname", "displayname", "contact", "customer", "person", "owner", "author"}
        ),
    ),
)
# Names of things, not people: product_name is a product's name.
_THING_NAMES = frozenset(
    {
        "product",
        "item",
        "sku",
        "file",
        "table",
        "event",
        "job",
        "plan",
        "category",
        "tag",
        "feature",
        "flag",
        "project",
        "team",
        "group",
    }
)

FIRST_NAMES: tuple[str, ...] = tuple(PersonProvider.first_names)
LAST_NAMES: tuple[str, ...] = tuple(PersonProvider.last_names)
WORDS: tuple[str, ...] = tuple(LoremProvider.word_list)
_NAME_PAIRS = len(FIRST_NAMES) * len(LAST_NAMES)


def meaning_of(column: str) -> str | None:
    """What a text column holds, judged by its name; None for "just text"."""
    tokens = name_tokens(column)
    if not tokens:
        return None
    joined = "".join(tokens)
    for token in (joined, *reversed(tokens)):
        for meaning, names in _MEANINGS:
            if token in names:
                if meaning == "full_name" and any(t in _THING_NAMES for t in tokens):
                    return "title"
                return meaning
    return None


def seed_of(*parts: object) -> int:
    """A 63-bit seed from the run's seed and names: stable across runs and machines (unlike
    hash(), which Python salts per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


_POOL_PRODUCERS: dict[str, Callable[[Any], str]] = {
    "street": lambda f: f.street_address(),
    "city": lambda f: f.city(),
    "state": lambda f: f.state(),
    "postcode": lambda f: f.postcode(),
    "country": lambda f: f.country(),
    "company": lambda f: f.company(),
    "domain": lambda f: f.domain_word(),
    "currency": lambda f: f.currency_code(),
    "color": lambda f: f.color_name(),
    "sentence": lambda f: f.sentence(nb_words=5).rstrip("."),
    "title": lambda f: f.catch_phrase(),
    "paragraph": lambda f: f.paragraph(nb_sentences=2),
}
# meanings whose values come from a pool Faker fills (see base_pool)
POOL_MEANINGS = frozenset(_POOL_PRODUCERS)


def _word(fake: Any) -> str:
    return str(fake.word())


@lru_cache(maxsize=64)
def base_pool(meaning: str, size: int = 256) -> tuple[str, ...]:
    """Up to ``size`` distinct values Faker makes for ``meaning``, once per process, with a
    fixed seed (columns differ by where they start in it, see :func:`text_value`)."""
    from faker import Faker  # only for the pools: importing Faker costs ~0.3 s

    fake = Faker("en_US")
    fake.seed_instance(0x5EED)
    produce = _POOL_PRODUCERS.get(meaning, _word)
    seen: dict[str, None] = {}
    for _ in range(size * 3):
        if len(seen) >= size:
            break
        value = str(produce(fake))
        if value:
            seen.setdefault(value, None)
    return tuple(seen)


def _pair(k: int) -> tuple[str, str, int]:
    """The k-th (first, last) name pair, and how many times the pairs wrapped round. The
    last name index moves with k as well, so neighbouring values differ in both names."""
    first_count, last_count = len(FIRST_NAMES), len(LAST_NAMES)
    # (k mod F, (k div F + k) mod L) is a bijection on [0, F*L) because gcd(F + 1, L) = 1.
    wrapped, k = divmod(k, _NAME_PAIRS)
    return FIRST_NAMES[k % first_count], LAST_NAMES[(k // first_count + k) % last_count], wrapped


def _numbered(value: str, wrapped: int, joiner: str = "") -> str:
    return value if wrapped == 0 else f"{value}{joiner}{wrapped}"


def text_value(meaning: str | None, k: int, offset: int) -> str:
    """The k-th distinct value of a column that means ``meaning``; ``offset`` (from the
    column's seed) makes two columns of the same meaning start in different places."""
    k += offset
    if meaning in ("full_name", "first_name", "last_name", "email", "username"):
        first, last, wrapped = _pair(k)
        if meaning == "full_name":
            return _numbered(f"{first} {last}", wrapped, " ")
        if meaning == "first_name":
            # first names alone: a few hundred; a suffix beyond (Anna 2...) keeps them distinct
            return _numbered(FIRST_NAMES[k % len(FIRST_NAMES)], k // len(FIRST_NAMES), " ")
        if meaning == "last_name":
            return _numbered(LAST_NAMES[k % len(LAST_NAMES)], k // len(LAST_NAMES), " ")
        local = f"{first}.{last}".lower() if meaning == "email" else f"{first}_{last}".lower()
        local = _numbered(local, wrapped)
        if meaning == "username":
            return local
        return f"{local}@example.{('com', 'net', 'org')[k % 3]}"
    if meaning == "phone":
        # 555 numbers are reserved for fiction: a generated phone never rings anyone
        return f"+1-555-{k // 10000 % 1000:03d}-{k % 10000:04d}" + (
            f" x{k // 10_000_000}" if k >= 10_000_000 else ""
        )
    if meaning == "ip":
        return f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}" + (
            f"%{k >> 24}" if k >= 1 << 24 else ""
        )
    if meaning == "url":
        return f"https://{base_pool('domain')[k % 256].lower()}.example.com/{k}"
    if meaning == "domain":
        return f"{base_pool('domain')[k % 256].lower()}{k // 256 or ''}.example.com"
    pool = base_pool(meaning) if meaning in _POOL_PRODUCERS else WORDS
    size = len(pool)
    wrapped, index = divmod(k, size)
    value = pool[index]
    if meaning is None and wrapped:
        # plain text: more words rather than numbers ("alpha beta") while they last
        extra = WORDS[(wrapped - 1) % len(WORDS)]
        return _numbered(f"{value} {extra}", (wrapped - 1) // len(WORDS), " ")
    return _numbered(value, wrapped, " ")


def country_codes(length: int) -> tuple[str, ...]:
    """ISO 3166 codes, two or three letters."""
    if length == 3:
        return tuple(str(c) for c in AddressProvider.alpha_3_country_codes)
    return tuple(str(c) for c in AddressProvider.alpha_2_country_codes)


def padded_text(k: int, width: int) -> str:
    """Plain words, about ``width`` characters long, distinct for distinct k."""
    tag = format(k, "x")
    words: list[str] = []
    length = len(tag)
    i = k
    while length < width - 1:
        word = WORDS[i % len(WORDS)]
        words.append(word)
        length += len(word) + 1
        i = i * 31 + 7
    return " ".join([*words, tag]) if words else tag


_LOWER_FIRST = tuple(n.lower() for n in FIRST_NAMES)
_LOWER_LAST = tuple(n.lower() for n in LAST_NAMES)
_EMAIL_DOMAINS = ("com", "net", "org")


def text_values(meaning: str | None, ks: Any, offset: int) -> list[str] | None:
    """:func:`text_value` for many k at once (numpy int64 array), the same strings, with
    the index arithmetic done by numpy: the name family and phones, which make up most
    personal columns. None for meanings without a fast path."""
    if meaning not in ("full_name", "email", "username", "phone"):
        return None
    k = ks.astype(np.int64) + offset
    if meaning == "phone":
        if int(k.max(initial=0)) >= 10_000_000:
            return None
        return [
            f"+1-555-{a:03d}-{b:04d}"
            for a, b in zip((k // 10000 % 1000).tolist(), (k % 10000).tolist(), strict=True)
        ]
    first_count, last_count = len(FIRST_NAMES), len(LAST_NAMES)
    pair = k % _NAME_PAIRS
    firsts = (pair % first_count).tolist()
    lasts = ((pair // first_count + pair) % last_count).tolist()
    # past 690,000 names the pairs come round again with a number (as in text_value)
    wrapped = k // _NAME_PAIRS
    numbers: list[str] = (
        [""] * len(firsts)
        if int(wrapped.max(initial=0)) == 0
        else ["" if w == 0 else str(w) for w in wrapped.tolist()]
    )
    if meaning == "full_name":
        f, l_ = FIRST_NAMES, LAST_NAMES
        spaced = [n and " " + n for n in numbers]
        return [f"{f[a]} {l_[b]}{n}" for a, b, n in zip(firsts, lasts, spaced, strict=True)]
    f, l_ = _LOWER_FIRST, _LOWER_LAST
    if meaning == "username":
        return [f"{f[a]}_{l_[b]}{n}" for a, b, n in zip(firsts, lasts, numbers, strict=True)]
    domains = (k % 3).tolist()
    d = _EMAIL_DOMAINS
    return [
        f"{f[a]}.{l_[b]}{n}@example.{d[c]}"
        for a, b, n, c in zip(firsts, lasts, numbers, domains, strict=True)
    ]
