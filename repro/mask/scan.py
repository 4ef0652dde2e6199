"""Which columns of a live database hold personal data, and how to anonymize each.

A column is judged by its name and type first (the rules snapshots use, in
:mod:`repro.pg.personal`), then by a small sample of its values: emails, phone
numbers, card numbers (Luhn), IBANs (mod 97), US SSNs, IP addresses, person names (Faker's
name lists), street addresses, dates of birth and free text. Sampling is one cheap query per
table (TABLESAMPLE on big tables), read-only, under a statement timeout.

Sampled values never leave this module: findings say how many values matched which pattern,
never what they were.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import psycopg
from faker.providers.address.en_US import Provider as AddressProvider
from psycopg import sql

from repro.errors import DataGenerationError, UsageError
from repro.mask import transforms
from repro.mask.leaf_values import array_elements, glob_escape, values_by_key
from repro.mask.rules_file import spec_lines, yaml_scalar
from repro.mask.specs import keys_spec
from repro.pg.meaning import FIRST_NAMES, LAST_NAMES, meaning_of
from repro.pg.personal import PersonalRules, Verdict, name_tokens, names_a_person
from repro.redaction import RedactionKey, Redactor, value_looks_secret
from repro.text import one_line

THRESHOLD = 0.30  # share of non-null sampled values matching a detector that flags a column
HIGH_SHARE = 0.80  # a checkable pattern this common is a high-confidence finding
MIN_DISTINCT_FUZZY = 10  # names, addresses, free text, birth dates: fewer distinct is a code
LARGE_TABLE = 100_000  # estimated rows above which the sample is TABLESAMPLE, not LIMIT
MAX_VALUE_CHARS = 1000  # sampled text is cut here: free text can be megabytes a row
MAX_DOCUMENT_CHARS = 20_000  # sampled arrays and documents larger than this are left out
STATEMENT_TIMEOUT = "10s"

KINDS = (
    "email",
    "phone",
    "full_name",
    "first_name",
    "last_name",
    "street",
    "city",
    "postcode",
    "ip",
    "card",
    "national_id",
    "iban",
    "username",
    "birth_date",
    "free_text",
    "secret",
    "other_personal",
    "personal_keys",  # a JSON or hstore column with personal values under some keys
)
NAME_KINDS = frozenset({"full_name", "first_name", "last_name"})
# Kinds whose values can be checked by a pattern: a sample that shows none lowers confidence.
CHECKABLE = frozenset({"email", "phone", "card", "iban", "national_id", "ip"})
# Reasons PersonalRules gives from the name and type alone (others come from statistics).
_NAME_REASONS = frozenset({"name looks personal", "name looks secret", "network address"})
_WEAK_NAME_REASON = "name refers to a person"
_MEANING_KINDS = {
    **{k: k for k in ("email", "phone", "username", "street", "city", "postcode", "ip")},
    **{k: k for k in NAME_KINDS},
    "paragraph": "free_text",
    "sentence": "free_text",
}
# Last words of numeric columns that count or point at things: comment_count, address_id.
_COUNTER_TOKENS = frozenset(
    {"id", "ids", "count", "cnt", "total", "size", "length", "len", "version", "seq", "idx"}
)
_NATIONAL_ID_TOKENS = frozenset({"ssn", "nin", "passport", "sin", "nino"})
_BIRTH_TOKENS = frozenset({"birth", "birthday", "birthdate", "dob", "born"})
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


@dataclass
class Finding:
    table: str
    column: str
    type: str
    kind: str
    reason: str
    confidence: str  # high | medium
    suggested: str
    nullable: bool
    unique: bool


@dataclass
class ScanResult:
    tables: list[str]
    findings: list[Finding]
    columns_scanned: int
    rows_sampled: int
    # Tables whose sample failed (timeout, permission): judged by name and type only.
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "repro.data-scan/v1",
            "tables": self.tables,
            "columns_scanned": self.columns_scanned,
            "rows_sampled": self.rows_sampled,
            "findings": [vars(f) for f in self.findings],
            "notes": self.notes,
        }


@dataclass
class _Column:
    table: str
    name: str
    type: str
    category: str
    base: str
    nullable: bool
    unique: bool
    element_category: str = ""  # arrays: their elements' type category and name
    element_base: str = ""

    @property
    def sample_as(self) -> str | None:
        if self.category == "S":
            return "text"
        if self.category == "A" and self.element_category in ("S", "I"):
            return "array"
        if self.base in ("json", "jsonb", "hstore"):
            return "hstore" if self.base == "hstore" else "json"
        if self.base == "date":
            return "date"
        if self.base in ("int8", "numeric"):  # 13-19 digits: only these hold card numbers
            return "number"
        return None


# ------------------------------------------------------------------------------ detectors


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
class _ValueVerdict:
    kind: str
    share: float
    reason: str
    high: bool


def judge_values(column: _Column, values: Sequence[str], today: date) -> _ValueVerdict | None:
    """What the sampled non-null values of ``column`` say (counts only, never values)."""
    if not values:
        return None
    n = len(values)
    distinct = len(set(values))
    if column.sample_as == "date":
        return _judge_birth_dates(column, values, today)
    if column.sample_as == "number":
        cards = sum(1 for v in values if v.isdigit() and _is_card(v))
        if cards / n >= THRESHOLD:
            return _ValueVerdict("card", cards / n, _share_reason(cards, n, "card"), True)
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
        return _ValueVerdict(kind, share, _share_reason(count, n, kind), high)
    return None


def _share_reason(count: int, n: int, kind: str) -> str:
    return f"{round(100 * count / n)}% of {n} sampled values {_LABELS[kind]}"


def _judge_birth_dates(column: _Column, values: Sequence[str], today: date) -> _ValueVerdict | None:
    if _EVENT_TOKENS.intersection(name_tokens(column.name)):
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
    return _ValueVerdict("birth_date", len(plausible) / len(values), reason, False)


# ------------------------------------------------------------------------------ by name


def kind_by_name(column: str, redactor: Redactor) -> str:
    tokens = set(name_tokens(column))
    compact = column.lower().replace("_", "")
    if redactor.name_is_secret(column):
        return "secret"
    if _card_name(column):
        return "card"
    meaning = meaning_of(column)
    if meaning in _MEANING_KINDS:
        return _MEANING_KINDS[meaning]
    if tokens & _NATIONAL_ID_TOKENS:
        return "national_id"
    if "iban" in tokens:
        return "iban"
    if tokens & _BIRTH_TOKENS or "birth" in compact:
        return "birth_date"
    if names_a_person(column):
        return "full_name"  # card_holder: a person's name (emails and phones: values show)
    return "other_personal"


def _card_name(column: str) -> bool:
    tokens = name_tokens(column)
    compact = "".join(tokens)
    return any(s in compact for s in ("creditcard", "cardnumber", "ccnumber", "cardno")) or (
        "card" in tokens and bool({"number", "num", "no", "pan"} & set(tokens))
    )


def suggest(kind: str, column: _Column) -> str:
    """A transformer spec of the rules file that fits the kind and the column's type: the
    one for the kind when it can make values of the type, else the first of hash, mask and
    null that can (a bytea key gets hash; an exotic NOT NULL type keeps the kind's, which
    anonymize then refuses with the reason)."""
    wanted = _suggest_for_kind(kind, column)
    for spec in (wanted, "hash", "mask", "null"):
        if _fits(spec, column):
            return spec
    return wanted


def _fits(spec: str, column: _Column) -> bool:
    try:
        transforms.build(
            spec,
            key=b"repro data scan: fit only",
            column=f"{column.table}.{column.name}",
            type_name=column.type,
            max_length=None,
            nullable=column.nullable,
        )
    except (UsageError, DataGenerationError):
        return False
    return True


def _suggest_for_kind(kind: str, column: _Column) -> str:
    text = column.category == "S"
    if kind == "ip" and column.category in ("S", "I"):
        return "fake:ip"
    if kind == "birth_date":
        return "shift_date:180" if column.category == "D" else "mask"
    if kind == "free_text":
        if column.nullable:
            return "null"
        return "hash" if column.unique or not text else "constant:redacted"
    if not text:
        # numbers and other types: only null or digit masking keep the value castable
        return "mask" if column.category == "N" or not column.nullable else "null"
    spec = {
        "email": "fake:email",
        "phone": "mask:keep_last=2",
        "card": "fake:card",
        "national_id": "fake:ssn",
        "iban": "fake:iban",
        "secret": "hash",
        "other_personal": "hash",
    }.get(kind)
    return spec or f"fake:{kind}"


# ------------------------------------------------------------------------------ the scan


_COLUMNS_SQL = """
SELECT n.nspname || '.' || c.relname AS key, n.nspname, c.relname,
       CASE WHEN c.relkind = 'p' THEN
           (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0)
            FROM pg_catalog.pg_partition_tree(c.oid) pt
            JOIN pg_catalog.pg_class l ON l.oid = pt.relid WHERE pt.isleaf)
       ELSE greatest(c.reltuples, 0) END::float8 AS reltuples,
       a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, t.typcategory,
       coalesce(bt.typname, t.typname) AS base, NOT a.attnotnull AS nullable,
       coalesce(et.typcategory::text, '') AS element_category,
       coalesce(et.typname::text, '') AS element_base,
       EXISTS (SELECT 1 FROM pg_catalog.pg_index i
               WHERE i.indrelid = c.oid AND i.indisunique AND i.indnkeyatts = 1
                 AND i.indkey[0] = a.attnum AND i.indpred IS NULL
                 AND i.indexprs IS NULL) AS is_unique
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_type et ON t.typcategory = 'A'
     AND et.oid = coalesce(bt.typelem, t.typelem)
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, c.relname, a.attnum
"""


@dataclass
class _Table:
    key: str
    schema: str
    name: str
    reltuples: float
    columns: list[_Column] = field(default_factory=list)


def _catalog(conn: psycopg.Connection[Any], schemas: list[str] | None) -> list[_Table]:
    tables: dict[str, _Table] = {}
    for row in conn.execute(_COLUMNS_SQL, {"schemas": schemas}).fetchall():
        key, schema, name, reltuples, col, typ, category, base, nullable, *rest = row
        element_category, element_base, unique = rest
        table = tables.setdefault(key, _Table(key, schema, name, reltuples))
        table.columns.append(
            _Column(key, col, typ, category, base, nullable, unique, element_category, element_base)
        )
    return list(tables.values())


def _sampled(column: _Column) -> sql.Composable:
    """Text is cut (free text can be megabytes a row); a container is read whole (a cut
    document does not parse) unless it is larger than :data:`MAX_DOCUMENT_CHARS`."""
    ident = sql.Identifier(column.name)
    if column.sample_as in ("array", "json", "hstore"):
        return sql.SQL("CASE WHEN octet_length({c}::text) <= {n} THEN {c}::text END").format(
            c=ident, n=sql.Literal(MAX_DOCUMENT_CHARS)
        )
    return sql.SQL("left({}::text, {})").format(ident, sql.Literal(MAX_VALUE_CHARS))


def _sample(
    conn: psycopg.Connection[Any], table: _Table, columns: list[_Column], size: int
) -> list[tuple[Any, ...]]:
    selected = sql.SQL(", ").join(_sampled(c) for c in columns)
    source = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
    plain = sql.SQL("SELECT {} FROM {} LIMIT {}").format(selected, source, sql.Literal(size))
    if table.reltuples <= LARGE_TABLE:
        return conn.execute(plain).fetchall()
    # SYSTEM samples whole pages: a 100M-row table costs a few pages, not a scan
    percent = min(100.0, max(size * 3 * 100.0 / table.reltuples, 0.0001))
    sampled = sql.SQL("SELECT {} FROM {} TABLESAMPLE SYSTEM ({}) LIMIT {}").format(
        selected, source, sql.Literal(percent), sql.Literal(size)
    )
    rows = conn.execute(sampled).fetchall()
    # statistics can be stale (a table emptied since): a few rows are still worth having
    return rows if len(rows) >= min(size, 10) else conn.execute(plain).fetchall()


def scan(
    conn: psycopg.Connection[Any],
    *,
    schemas: list[str] | None = None,
    sample: int = 1000,
    redactor: Redactor | None = None,
    today: date | None = None,
) -> ScanResult:
    """Judge every column of the user tables (partitioned tables as a whole). The connection
    should be idle: the scan runs in its own read-only transaction, rolled back at the end."""
    redactor = redactor or Redactor(RedactionKey.from_bytes(b"repro-scan", "scan"))
    rules = PersonalRules(redactor)
    today = today or date.today()
    findings: list[Finding] = []
    notes: list[str] = []
    rows_sampled = 0
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(force_rollback=True):
        if idle:
            conn.execute("SET TRANSACTION READ ONLY")
        conn.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
        conn.execute("SET LOCAL lock_timeout = '2s'")
        conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        tables = _catalog(conn, schemas)
        for table in tables:
            wanted = [c for c in table.columns if c.sample_as]
            rows: list[tuple[Any, ...]] = []
            if wanted and sample > 0:
                try:
                    with conn.transaction():
                        rows = _sample(conn, table, wanted, sample)
                except psycopg.Error as exc:
                    # the class of error only: a message could quote a value
                    state = exc.sqlstate or "?"
                    notes.append(
                        f"{table.key}: not sampled ({type(exc).__name__}, SQLSTATE {state}); "
                        "judged by name and type only"
                    )
            rows_sampled += len(rows)
            values = {
                c.name: [r[i] for r in rows if r[i] is not None] for i, c in enumerate(wanted)
            }
            for column in table.columns:
                found = _judge_any(column, values.get(column.name), rules, redactor, today)
                if found:
                    findings.append(found)
    return ScanResult(
        tables=[t.key for t in tables],
        findings=findings,
        columns_scanned=sum(len(t.columns) for t in tables),
        rows_sampled=rows_sampled,
        notes=notes,
    )


def _judge_any(
    column: _Column,
    values: list[str] | None,
    rules: PersonalRules,
    redactor: Redactor,
    today: date,
) -> Finding | None:
    """A column of any type: containers by what is inside them."""
    if column.sample_as == "array":
        return _judge_array(column, values, rules, redactor, today)
    if column.sample_as in ("json", "hstore"):
        return _judge_document(column, values, rules, redactor, today)
    return _judge(column, values, rules, redactor, today)


def _judge_array(
    column: _Column,
    values: list[str] | None,
    rules: PersonalRules,
    redactor: Redactor,
    today: date,
) -> Finding | None:
    """An array is judged as a column of its elements; the suggested spec applies to each
    element (``fake:email`` on a ``text[]`` of emails)."""
    element = replace(
        column,
        category=column.element_category,
        base=column.element_base.lstrip("_"),
        unique=False,
        element_category="",
        element_base="",
    )
    found = _judge(element, array_elements(values) if values else values, rules, redactor, today)
    if found is None:
        return None
    return replace(found, type=column.type, unique=column.unique)


def _judge_document(
    column: _Column,
    values: list[str] | None,
    rules: PersonalRules,
    redactor: Redactor,
    today: date,
) -> Finding | None:
    """A JSON or hstore column: each key is judged like a text column of the values under
    it; personal keys give a ``keys:`` spec. A document column whose name alone looks
    personal, with no personal key found, gets its every value hashed."""
    keyed = []
    for key, inner in values_by_key(values or (), column.sample_as or "json").items():
        pseudo = replace(column, name=key, category="S", base="text", unique=False)
        found = _judge(pseudo, inner, rules, redactor, today)
        if found is not None:
            keyed.append(found)
    if keyed:
        high = any(f.confidence == "high" for f in keyed)
        listed = ", ".join(f"{f.column} ({f.kind})" for f in keyed[:8])
        more = f" and {len(keyed) - 8} more" if len(keyed) > 8 else ""
        return Finding(
            table=column.table,
            column=column.name,
            type=column.type,
            kind="personal_keys",
            reason=f"keys {listed}{more} hold personal values",
            confidence="high" if high else "medium",
            suggested=keys_spec({glob_escape(f.column): f.suggested for f in keyed}),
            nullable=column.nullable,
            unique=column.unique,
        )
    by_name = rules.judge(column.table, column.name, "S", None, ())
    if not (by_name.personal and by_name.reason in _NAME_REASONS):
        return None
    return Finding(
        table=column.table,
        column=column.name,
        type=column.type,
        kind="other_personal",
        reason=f"{by_name.reason}; no personal key found in the sample: every value hashed",
        confidence="medium",
        suggested="hash",
        nullable=column.nullable,
        unique=column.unique,
    )


def _judge(
    column: _Column,
    values: list[str] | None,
    rules: PersonalRules,
    redactor: Redactor,
    today: date,
) -> Finding | None:
    if column.category in ("B", "E"):  # labels from the schema identify nobody
        return None
    distinct = float(len(set(values))) if values else None
    verdict = rules.judge(column.table, column.name, column.category, distinct, ())
    tokens = name_tokens(column.name)
    if (column.category != "S" and tokens and tokens[-1] in _COUNTER_TOKENS) or meaning_of(
        column.name
    ) == "title":
        # address_id, comment_count: numbers about a thing; product_name: a thing's name
        verdict = Verdict(False, "name of a count, an id or a thing")
    by_values = judge_values(column, values, today) if values else None
    sampled = bool(values)
    if column.category == "I":
        kind, confidence, reason = "ip", "high", "network address type (inet/cidr)"
    elif verdict.personal and verdict.reason in _NAME_REASONS:
        kind = kind_by_name(column.name, redactor)
        reason = verdict.reason
        contradicted = sampled and kind in CHECKABLE | NAME_KINDS and not by_values
        confidence = "medium" if contradicted else "high"
    elif _card_name(column.name):
        kind, reason = "card", "name looks like a card number"
        confidence = "medium" if sampled and not by_values else "high"
    elif verdict.personal and verdict.reason == _WEAK_NAME_REASON and column.category == "S":
        # user/customer/contact...: a person's name, or an id of one; values decide if any
        kind = kind_by_name(column.name, redactor)
        if sampled and not by_values:
            return None
        reason, confidence = verdict.reason, "medium"
    elif by_values:
        kind, confidence, reason = (
            by_values.kind,
            "high" if by_values.high else "medium",
            by_values.reason,
        )
        return _finding(column, kind, reason, confidence)
    else:
        return None
    if by_values:
        keep_name_kind = (kind in NAME_KINDS and by_values.kind in NAME_KINDS) or (
            by_values.kind == "free_text" and kind not in ("other_personal", "free_text")
        )
        if not keep_name_kind:
            kind = by_values.kind  # contact holding emails: an email column
        reason = f"{reason}; {by_values.reason}"
        if by_values.high or by_values.kind == kind:
            confidence = "high"
    return _finding(column, kind, reason, confidence)


def _finding(column: _Column, kind: str, reason: str, confidence: str) -> Finding:
    return Finding(
        table=column.table,
        column=column.name,
        type=column.type,
        kind=kind,
        reason=reason,
        confidence=confidence,
        suggested=suggest(kind, column),
        nullable=column.nullable,
        unique=column.unique,
    )


# ------------------------------------------------------------------------------ rules file


def rules_yaml(result: ScanResult, key_env: str = "REPRO_ANON_KEY") -> str:
    """The rules file (``repro.anonymize/v1``) with every flagged column and why."""
    lines = [
        "# Written by `repro data scan`: review every line before anonymizing.",
        "# Columns not listed are copied unchanged.",
        "schema: repro.anonymize/v1",
        f"key: {{env: {key_env}}}",
    ]
    by_table: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_table.setdefault(finding.table, []).append(finding)
    if not by_table:
        lines.append("tables: {}")
        return "\n".join(lines) + "\n"
    lines.append("tables:")
    for table, findings in by_table.items():
        lines += [f"  {yaml_scalar(table, key=True)}:", "    columns:"]
        for f in findings:
            comment = one_line(f"{f.confidence}: {f.kind}: {f.reason}")
            lines += spec_lines(f.column, f.suggested, comment)
    return "\n".join(lines) + "\n"
