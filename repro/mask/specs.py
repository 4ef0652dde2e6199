"""The transformer specs of a rules file (``fake:email``, ``mask:keep_last=2``,
``keys:{"email": "fake:email"}`` ...): their grammar, and what a leaked value of each means.

Whether a spec fits a column's type is decided when its transformer is built
(:func:`repro.mask.transforms.build`); here only the text is judged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MEANING_KINDS = (
    "email",
    "first_name",
    "last_name",
    "full_name",
    "username",
    "phone",
    "street",
    "city",
    "state",
    "postcode",
    "country",
    "company",
    "url",
    "domain",
    "ip",
    "currency",
    "color",
    "sentence",
    "title",
    "paragraph",
)
FAKE_KINDS = frozenset([*MEANING_KINDS, "uuid", "iban", "card", "ssn"])
# Values that identify someone or something on their own: one of them in the target that was
# in the source is a leak even when another row holds it. Fake names, cities, streets... come
# from pools of common values, where such a coincidence is expected and identifies nobody.
IDENTIFYING_FAKE_KINDS = frozenset(
    {"email", "phone", "username", "ip", "url", "uuid", "iban", "card", "ssn"}
)
# A masked value with at least this many letters and digits (a phone number, a card number,
# an account id) is identifying; shorter ones (codes, small numbers) share a small space.
IDENTIFYING_MASKED_CHARS = 7
MAX_SHIFT_DAYS = 36_500
MAX_KEY_PATTERNS = 200
MAX_KEY_PATTERN_CHARS = 200


@dataclass(frozen=True)
class Spec:
    """A parsed spec: ``name`` is keep/null/hash/fake/mask/constant/shift_date/keys."""

    name: str
    arg: str = ""  # fake kind, constant text
    keep_first: int = 0
    keep_last: int = 0
    days: int = 0
    # keys: (key pattern, spec) in the order written; the first pattern matching a key wins
    keys: tuple[tuple[str, str], ...] = ()


_MASK_PARAM = re.compile(r"(keep_first|keep_last)=(\d{1,4})")
USAGE = (
    "keep, null, hash, fake:<kind>, mask, mask:keep_last=<N>, mask:keep_first=<N>, "
    'constant:<text>, shift_date:<days>, or keys:{"<key pattern>": "<spec>", ...}'
)


def parse_spec(spec: str) -> Spec:
    """The spec's parts; ValueError (saying what is wrong) for anything off the grammar."""
    name, sep, arg = spec.partition(":")
    if name in ("keep", "null", "hash") and not sep:
        return Spec(name)
    if name == "mask":
        if not sep:
            return Spec("mask")
        match = _MASK_PARAM.fullmatch(arg)
        if not match:
            raise ValueError("mask takes keep_first=<N> or keep_last=<N>")
        n = int(match.group(2))
        return (
            Spec("mask", keep_first=n)
            if match.group(1) == "keep_first"
            else Spec("mask", keep_last=n)
        )
    if name == "fake" and sep:
        if arg not in FAKE_KINDS:
            raise ValueError(f"unknown fake kind {arg!r} (one of {', '.join(sorted(FAKE_KINDS))})")
        return Spec("fake", arg)
    if name == "constant" and sep:
        return Spec("constant", arg)
    if name == "shift_date" and sep:
        if not re.fullmatch(r"\d{1,6}", arg) or not 1 <= int(arg) <= MAX_SHIFT_DAYS:
            raise ValueError(f"shift_date takes a whole number of days, 1..{MAX_SHIFT_DAYS}")
        return Spec("shift_date", days=int(arg))
    if name == "keys" and sep:
        return Spec("keys", arg=arg, keys=_key_rules(arg))
    raise ValueError(f"not a transformer ({USAGE})")


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object's (key, value) pairs, in order (a JSON array stays a plain list)."""


def _key_rules(text: str) -> tuple[tuple[str, str], ...]:
    """``{"email": "fake:email", "*phone*": "mask"}``: key patterns (shell globs, any case)
    to the spec of the values under them."""
    try:
        data = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, _Pairs) or not data:
        raise ValueError(
            'keys takes a JSON object of key patterns to specs: {"email": "fake:email"}'
        )
    if len(data) > MAX_KEY_PATTERNS:
        raise ValueError(f"keys takes at most {MAX_KEY_PATTERNS} key patterns")
    rules = []
    for pattern, spec in data:
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_KEY_PATTERN_CHARS:
            raise ValueError(
                f"key pattern {pattern[:40]!r} must be 1..{MAX_KEY_PATTERN_CHARS} chars"
            )
        if not isinstance(spec, str):
            raise ValueError(f"key {pattern!r}: the spec must be a string, found {spec!r}")
        try:
            inner = parse_spec(spec)
        except ValueError as exc:
            raise ValueError(f"key {pattern!r}: {exc}") from None
        if inner.name == "keys":
            raise ValueError(f"key {pattern!r}: keys cannot nest (patterns match at any depth)")
        rules.append((pattern, spec))
    return tuple(rules)


def keys_spec(rules: dict[str, str]) -> str:
    """The spec string of key rules (as a rules file's mapping form reads)."""
    return "keys:" + json.dumps(rules, ensure_ascii=False, separators=(", ", ": "))


def leak_class(spec: str) -> str:
    """What a source value of a column masked with ``spec`` found in the target means:
    "identifying" (a leak, even in another row), "common" (a coincidence of common values:
    information), or "unchecked" (kept, NULL or a constant by the rules' own choice). For
    ``mask`` the value decides (see :data:`IDENTIFYING_MASKED_CHARS`)."""
    parsed = parse_spec(spec)
    if parsed.name in ("keep", "null", "constant", "keys"):
        return "unchecked"
    if parsed.name == "fake":
        return "identifying" if parsed.arg in IDENTIFYING_FAKE_KINDS else "common"
    if parsed.name == "shift_date":
        return "common"
    return "identifying"  # hash, mask
