"""Which columns of a live database hold personal data, and how to anonymize each.

A column is judged by its name and type first (the rules snapshots use, in
:mod:`repro.pg.personal`), then by a small sample of its values (what each value is:
:mod:`repro.mask.detectors`). Arrays are judged by their elements, JSON and hstore columns
by the values under each key. Sampling is one cheap query per table (TABLESAMPLE on big
tables), read-only, under a statement timeout.

Sampled values never leave this module: findings say how many values matched which pattern,
never what they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from repro.errors import DataGenerationError, UsageError
from repro.mask import transforms
from repro.mask.detectors import (
    CHECKABLE,
    NAME_KINDS,
    judge_values,
)
from repro.mask.leaf_values import array_elements, glob_escape, values_by_key
from repro.mask.rules_file import spec_lines, yaml_scalar
from repro.mask.specs import keys_spec
from repro.pg.meaning import meaning_of
from repro.pg.personal import PersonalRules, Verdict, name_tokens, names_a_person
from repro.redaction import RedactionKey, Redactor
from repro.text import one_line

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
    ctx = _Context(PersonalRules(redactor), redactor, today or date.today())
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
                found = _judge_any(column, values.get(column.name), ctx)
                if found:
                    findings.append(found)
    return ScanResult(
        tables=[t.key for t in tables],
        findings=findings,
        columns_scanned=sum(len(t.columns) for t in tables),
        rows_sampled=rows_sampled,
        notes=notes,
    )


@dataclass(frozen=True)
class _Context:
    """What judging a column needs besides the column."""

    rules: PersonalRules
    redactor: Redactor
    today: date


def _judge_any(
    column: _Column,
    values: list[str] | None,
    ctx: _Context,
) -> Finding | None:
    """A column of any type: containers by what is inside them."""
    if column.sample_as == "array":
        return _judge_array(column, values, ctx)
    if column.sample_as in ("json", "hstore"):
        return _judge_document(column, values, ctx)
    return _judge(column, values, ctx)


def _judge_array(
    column: _Column,
    values: list[str] | None,
    ctx: _Context,
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
    found = _judge(element, array_elements(values) if values else values, ctx)
    if found is None:
        return None
    return replace(found, type=column.type, unique=column.unique)


def _judge_document(
    column: _Column,
    values: list[str] | None,
    ctx: _Context,
) -> Finding | None:
    """A JSON or hstore column: each key is judged like a text column of the values under
    it; personal keys give a ``keys:`` spec. A document column whose name alone looks
    personal, with no personal key found, gets its every value hashed."""
    keyed = []
    for key, inner in values_by_key(values or (), column.sample_as or "json").items():
        pseudo = replace(column, name=key, category="S", base="text", unique=False)
        found = _judge(pseudo, inner, ctx)
        if found is not None:
            keyed.append(found)
    if keyed:
        high = any(f.confidence == "high" for f in keyed)
        listed = ", ".join(f"{f.column} ({f.kind})" for f in keyed[:8])
        more = f" and {len(keyed) - 8} more" if len(keyed) > 8 else ""
        return _finding(
            column,
            "personal_keys",
            f"keys {listed}{more} hold personal values",
            "high" if high else "medium",
            keys_spec({glob_escape(f.column): f.suggested for f in keyed}),
        )
    by_name = ctx.rules.judge(column.table, column.name, "S", None, ())
    if not (by_name.personal and by_name.reason in _NAME_REASONS):
        return None
    reason = f"{by_name.reason}; no personal key found in the sample: every value hashed"
    return _finding(column, "other_personal", reason, "medium", "hash")


def _judge(
    column: _Column,
    values: list[str] | None,
    ctx: _Context,
) -> Finding | None:
    if column.category in ("B", "E"):  # labels from the schema identify nobody
        return None
    distinct = float(len(set(values))) if values else None
    verdict = ctx.rules.judge(column.table, column.name, column.category, distinct, ())
    tokens = name_tokens(column.name)
    if (column.category != "S" and tokens and tokens[-1] in _COUNTER_TOKENS) or meaning_of(
        column.name
    ) == "title":
        # address_id, comment_count: numbers about a thing; product_name: a thing's name
        verdict = Verdict(False, "name of a count, an id or a thing")
    by_values = judge_values(column.name, column.sample_as, values, ctx.today) if values else None
    sampled = bool(values)
    if column.category == "I":
        kind, confidence, reason = "ip", "high", "network address type (inet/cidr)"
    elif verdict.personal and verdict.reason in _NAME_REASONS:
        kind = kind_by_name(column.name, ctx.redactor)
        reason = verdict.reason
        contradicted = sampled and kind in CHECKABLE | NAME_KINDS and not by_values
        confidence = "medium" if contradicted else "high"
    elif _card_name(column.name):
        kind, reason = "card", "name looks like a card number"
        confidence = "medium" if sampled and not by_values else "high"
    elif verdict.personal and verdict.reason == _WEAK_NAME_REASON and column.category == "S":
        # user/customer/contact...: a person's name, or an id of one; values decide if any
        kind = kind_by_name(column.name, ctx.redactor)
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


def _finding(
    column: _Column, kind: str, reason: str, confidence: str, suggested: str | None = None
) -> Finding:
    return Finding(
        table=column.table,
        column=column.name,
        type=column.type,
        kind=kind,
        reason=reason,
        confidence=confidence,
        suggested=suggested or suggest(kind, column),
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
