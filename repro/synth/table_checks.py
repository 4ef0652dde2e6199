"""A table's CHECK constraints, domain checks and partition bounds, as rules the
generator satisfies, one conjunct at a time: column rules the parser understands, columns
computed from others, counts of NULLs (all met by construction); every other conjunct is
*judged*: PostgreSQL evaluates it on candidate rows and keeps those it accepts
(:mod:`repro.synth.judge`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from repro.pg.sql_text import SqlTextError, check_expression, tokens
from repro.pg.tables import DataModel, Table
from repro.synth.check_forms import NonNullCount, parse_non_null_count
from repro.synth.check_parser import Bound, ColumnRule, ParsedCheck, UnsupportedCheck, merge
from repro.synth.check_parser import parse_check as _parse_check
from repro.synth.derived import Derived, parse_derived, split_conjuncts

_REGEX = "a regular expression, which PostgreSQL evaluates"


@dataclass(frozen=True)
class Judged:
    """A condition PostgreSQL judges on candidate rows: rows where it is false are not kept."""

    what: str  # "CHECK name", "domain d CHECK" (for messages)
    expression: str  # a boolean SQL expression over the table's columns
    reason: str  # why the generator does not meet it by construction


@dataclass
class TableChecks:
    parsed: ParsedCheck = field(default_factory=ParsedCheck)
    derived: list[Derived] = field(default_factory=list)
    counts: list[NonNullCount] = field(default_factory=list)
    judged: list[Judged] = field(default_factory=list)


def _rename(parsed: ParsedCheck, column: str) -> ParsedCheck:
    """A domain's check is about VALUE: about the column, here."""
    columns = {
        column if name.upper() == "VALUE" else name: rule for name, rule in parsed.columns.items()
    }
    return ParsedCheck(columns, parsed.pairs)


def _partition_rule(model: DataModel, table: Table) -> ParsedCheck:
    """Rows go in through the partitioned parent: its partition key must land in some
    partition. Range bounds give the outer limits, list bounds the allowed values; a
    DEFAULT partition takes anything."""
    if not table.partitions or not table.partition_by:
        return ParsedCheck()
    match = re.fullmatch(r"(RANGE|LIST) \((\w+)\)", table.partition_by.strip())
    if not match:
        return ParsedCheck()
    column = match.group(2)
    texts = [model.tables[key].partition_bound or "" for key in table.partitions]
    if any(t.strip().upper() == "DEFAULT" for t in texts):
        return ParsedCheck()
    literal = r"'((?:[^']|'')*)'|(-?[\d.]+)|(MINVALUE|MAXVALUE)"
    if match.group(1) == "LIST":
        allowed: list[str] = []
        for text in texts:
            inner = re.search(r"IN \((.*)\)", text)
            for lit in re.finditer(literal, inner.group(1) if inner else ""):
                allowed.append((lit.group(1) or "").replace("''", "'") or lit.group(2) or "")
        return ParsedCheck({column: ColumnRule(allowed=allowed)}) if allowed else ParsedCheck()
    lows, highs = [], []
    for text in texts:
        found = re.search(r"FROM \((.*?)\) TO \((.*?)\)", text)
        if not found:
            return ParsedCheck()
        low = re.match(literal, found.group(1).strip())
        high = re.match(literal, found.group(2).strip())
        if low is None or high is None:
            return ParsedCheck()
        lows.append(low)
        highs.append(high)
    rule = ColumnRule()
    if not any(m.group(3) for m in lows):
        values = [(m.group(1) or m.group(2) or "") for m in lows]
        rule.lower = Bound(min(values, key=_sort_key), True)
    if not any(m.group(3) for m in highs):
        values = [(m.group(1) or m.group(2) or "") for m in highs]
        rule.upper = Bound(max(values, key=_sort_key), False)
    return ParsedCheck({column: rule})


def _sort_key(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def table_rules(
    model: DataModel, table: Table, problems: list[str]
) -> tuple[ParsedCheck, list[Derived]]:
    """The rules and computed columns alone (see :func:`table_checks` for the rest)."""
    checks = table_checks(model, table, problems)
    return checks.parsed, checks.derived


def table_checks(model: DataModel, table: Table, problems: list[str]) -> TableChecks:
    out = TableChecks(parsed=_partition_rule(model, table))
    for name, definition in table.checks.items():
        _add_check(out, f"CHECK {name}", name, definition)
    for judged in list(out.judged):
        try:
            check_expression(judged.expression)
        except SqlTextError as exc:
            out.judged.remove(judged)
            problems.append(f"{table.key}: {judged.what} is not one SQL expression ({exc})")
    for column in table.columns.values():
        for definition in column.type.domain_checks:
            what = f"domain {column.type.domain} CHECK on {column.name}"
            try:
                out.parsed = merge(out.parsed, _rename(_parse_check(definition), column.name))
                continue
            except UnsupportedCheck as exc:
                reason = str(exc)
            expression = _about_column(_body(definition), column.name)
            if expression is None:
                problems.append(f"{table.key}.{column.name}: {what}: cannot be read as SQL")
            else:
                out.judged.append(Judged(what, expression, reason))
    for pair in out.parsed.pairs:
        for name in (pair.left, pair.right):
            if name not in table.columns:
                problems.append(f"{table.key}: check compares unknown column {name}")
    # two NULL counts over one column would have to agree: judged instead
    seen: set[str] = set()
    for count in list(out.counts):
        if seen & set(count.columns) or not set(count.columns) <= set(table.columns):
            out.counts.remove(count)
            out.judged.append(
                Judged(f"CHECK {count.name}", _count_sql(count), "shares columns with another")
            )
        seen |= set(count.columns)
    return out


def _add_check(out: TableChecks, what: str, name: str, definition: str) -> None:
    try:
        parsed = _parse_check(definition)
        out.parsed = merge(out.parsed, parsed)
        if any(rule.patterns for rule in parsed.columns.values()):
            # the generator writes matching text; PostgreSQL's regular expressions decide
            out.judged.append(Judged(what, _body(definition), _REGEX))
        return
    except UnsupportedCheck as exc:
        whole = str(exc)
    for conjunct in split_conjuncts(definition):
        derived = parse_derived(conjunct)
        if derived is not None:
            out.derived.append(derived)
            continue
        count = parse_non_null_count(name, conjunct)
        if count is not None:
            out.counts.append(count)
            continue
        try:
            parsed = _parse_check(f"CHECK ({conjunct})")
            out.parsed = merge(out.parsed, parsed)
            if any(rule.patterns for rule in parsed.columns.values()):
                out.judged.append(Judged(what, conjunct, _REGEX))
            continue
        except UnsupportedCheck as exc:
            reason = str(exc)
        out.judged.append(Judged(what, conjunct, reason or whole))


def _body(definition: str) -> str:
    body = re.sub(r"\s+NOT VALID$|\s+NO INHERIT$", "", definition.strip())
    return body[5:].strip() if body.upper().startswith("CHECK") else body


def _about_column(expression: str, column: str) -> str | None:
    """A domain check's ``VALUE`` as the column (the identifier only, never text inside a
    literal or a quoted name); None when the text does not lex as one expression."""
    try:
        check_expression(expression)
        parts = [
            re.sub(r"(?<![\w$.])VALUE(?![\w$])", _quote(column), piece, flags=re.IGNORECASE)
            if kind == "other"
            else piece
            for kind, piece in tokens(expression)
        ]
    except SqlTextError:
        return None
    return "".join(parts)


def _count_sql(count: NonNullCount) -> str:
    columns = ", ".join(_quote(c) for c in count.columns)
    return f"num_nonnulls({columns}) BETWEEN {count.low} AND {count.high}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
