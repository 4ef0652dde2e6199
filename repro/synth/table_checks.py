"""A table's CHECK constraints, domain checks and partition bounds, as rules the
generator satisfies (and the ones it cannot, as problems found before loading)."""

from __future__ import annotations

import re

from repro.pg.tables import DataModel, Table
from repro.synth.check_parser import Bound, ColumnRule, ParsedCheck, UnsupportedCheck, merge
from repro.synth.check_parser import parse_check as _parse_check
from repro.synth.derived import Derived, parse_with_derived


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
    parsed = _partition_rule(model, table)
    derived: list[Derived] = []
    for name, definition in table.checks.items():
        try:
            rules, computed = parse_with_derived(definition)
        except UnsupportedCheck as exc:
            problems.append(f"{table.key}: CHECK {name} {definition}: {exc}")
            continue
        parsed = merge(parsed, rules)
        derived.extend(computed)
    for column in table.columns.values():
        for definition in column.type.domain_checks:
            try:
                parsed = merge(parsed, _rename(_parse_check(definition), column.name))
            except UnsupportedCheck as exc:
                problems.append(
                    f"{table.key}.{column.name}: domain {column.type.domain} CHECK "
                    f"{definition}: {exc}"
                )
    for pair in parsed.pairs:
        for name in (pair.left, pair.right):
            if name not in table.columns:
                problems.append(f"{table.key}: check compares unknown column {name}")
    return parsed, derived
