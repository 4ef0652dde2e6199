"""Code in the database: the definitions of functions, procedures and aggregates.

``pg_get_functiondef`` gives a function's or procedure's whole ``CREATE OR REPLACE`` text;
aggregates have no such function, so their ``CREATE AGGREGATE`` is assembled from
``pg_aggregate`` here. Each definition joins the function's entry (read by
:mod:`repro.snapshot.db.objects`, which keys it the same way) as ``definition``.
Triggers, views and policies carry their definitions already (constraints.py, relations.py).
Each extension's entry gets the types it makes, to say what needs one a server lacks.

A body is code someone wrote, and code holds secrets: a hard-coded API key, a password in a
connection string, ``SET app.token TO '...'``. Before a definition is kept, every string
literal that looks like a secret, or is given to a secret-named variable or setting, becomes
``***``; the definition is then kept as ``{"redacted": true, "fingerprint": ..., "masked":
TEXT}`` (the fingerprint of the original, so two environments still compare), and the data
generator recreates the masked text, saying so. A private key block withholds the whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from repro.pg.session import Part, Rows, Session
from repro.pg.sql_text import MAX_TEXT
from repro.redaction import MASK, Redactor, value_looks_secret
from repro.snapshot.db.relations import Catalog, not_extension_member

# A literal after a name: ``api_key := '...'``, ``password = '...'``, ``SET x.token TO '...'``,
# ``'password=...'`` inside a connection string.
_VALUE = r"\s*(?::=|=|\bTO\b|\bDEFAULT\b)\s*(?P<e>[eE])?'(?P<value>(?:[^']|'')*)'"
_ASSIGNED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.]*)" + _VALUE, re.IGNORECASE)
# a declaration's type between the name and its value: api_key text := '...'
_DECLARED = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]+(?:CONSTANT[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*"
    r"(?:[ \t]+varying)?(?:\(\d+\))?(?:\[\])?" + _VALUE,
    re.IGNORECASE,
)
_LITERAL = re.compile(r"(?<![\w$])(?P<e>[eE])?'(?P<value>(?:[^']|'')*)'")
_KEYWORD_PAIR = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>[^\s'&;]+)"
)  # key=value pairs inside one literal (a conninfo, a query string)

# Aggregate support functions, as CREATE AGGREGATE names them.
_AGGREGATE_FUNCTIONS = (
    ("SFUNC", "aggtransfn"),
    ("FINALFUNC", "aggfinalfn"),
    ("COMBINEFUNC", "aggcombinefn"),
    ("SERIALFUNC", "aggserialfn"),
    ("DESERIALFUNC", "aggdeserialfn"),
    ("MSFUNC", "aggmtransfn"),
    ("MINVFUNC", "aggminvtransfn"),
    ("MFINALFUNC", "aggmfinalfn"),
)
_MODIFY = {"r": "READ_ONLY", "s": "SHAREABLE", "w": "READ_WRITE"}
_PARALLEL = {"s": "SAFE", "r": "RESTRICTED", "u": "UNSAFE"}


def _proc_name(column: str) -> str:
    """SQL for the schema-qualified, quoted name of the function whose OID is ``column``
    (NULL for 0: the support function is absent)."""
    return f"""(SELECT pg_catalog.quote_ident(fn.nspname) || '.' ||
                       pg_catalog.quote_ident(f.proname)
                FROM pg_catalog.pg_proc f
                JOIN pg_catalog.pg_namespace fn ON fn.oid = f.pronamespace
                WHERE f.oid = a.{column})"""


def scrub_code(text: str, redactor: Redactor) -> tuple[str, int]:
    """``text`` with secret literals replaced by ``***``, and how many were."""
    found = 0

    def literal(match: re.Match[str]) -> str:
        nonlocal found
        value = match.group("value").replace("''", "'")
        if (
            value
            and value != MASK
            and (value_looks_secret(value) or _secret_pairs(value, redactor))
        ):
            redactor.remember(value)
            found += 1
            return f"'{MASK}'"
        return match.group(0)

    def assigned(match: re.Match[str]) -> str:
        nonlocal found
        value = match.group("value").replace("''", "'")
        name = match.group("name").rsplit(".", 1)[-1]
        if value and value != MASK and redactor.name_is_secret(name):
            redactor.remember(value)
            found += 1
            start = match.start("value") - match.start(0) - 1 - (1 if match.group("e") else 0)
            return match.group(0)[:start] + f"'{MASK}'"
        return match.group(0)

    text = _ASSIGNED.sub(assigned, text)
    text = _DECLARED.sub(assigned, text)
    text = _LITERAL.sub(literal, text)
    embedded = redactor.scrub_embedded(text)
    if isinstance(embedded, dict):
        masked = embedded.get("masked")
        if not isinstance(masked, str):
            raise _Withheld
        found += 1
        text = masked
    return text, found


def _secret_pairs(value: str, redactor: Redactor) -> bool:
    """A literal holding ``password=...`` (a conninfo) or ``token=...`` (a query string)."""
    return any(redactor.name_is_secret(m.group("name")) for m in _KEYWORD_PAIR.finditer(value))


class _Withheld(Exception):
    """The text holds a secret that cannot be cut out of it (a private key)."""


@dataclass
class CodeReader:
    session: Session
    catalog: Catalog
    data: dict[str, Any]

    def parts(self) -> list[Part]:
        return [self.definitions(), self.extension_types()]

    def definitions(self) -> Part:
        """After :meth:`ObjectReader.functions`: adds ``definition`` to its entries."""
        return Part(
            "function definitions",
            f"""
            SELECT n.nspname, p.proname, p.prokind,
                   pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
                   CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END
                       AS definition,
                   pg_catalog.pg_get_function_arguments(p.oid) AS arguments,
                   a.aggkind, a.aggnumdirectargs,
                   {", ".join(f"{_proc_name(col)} AS {col}" for _, col in _AGGREGATE_FUNCTIONS)},
                   a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify,
                   pg_catalog.format_type(a.aggtranstype, NULL) AS stype,
                   CASE WHEN a.aggmtranstype <> 0
                        THEN pg_catalog.format_type(a.aggmtranstype, NULL) END AS mstype,
                   a.aggtransspace, a.aggmtransspace, a.agginitval, a.aggminitval,
                   CASE WHEN a.aggsortop <> 0 THEN
                       (SELECT 'OPERATOR(' || pg_catalog.quote_ident(o_n.nspname) || '.' ||
                               o.oprname || ')'
                        FROM pg_catalog.pg_operator o
                        JOIN pg_catalog.pg_namespace o_n ON o_n.oid = o.oprnamespace
                        WHERE o.oid = a.aggsortop) END AS sortop,
                   p.proparallel
            FROM pg_catalog.pg_proc p
            JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            LEFT JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
            WHERE p.pronamespace = ANY(%(nsp)s)
              AND {not_extension_member("pg_catalog.pg_proc", "p.oid")}
            """,
            self.catalog.params,
            handle=self._definitions,
        )

    def _definitions(self, rows: Rows) -> None:
        functions = self.data.get("functions") or {}
        redactor = self.session.redactor
        for row in rows:
            entry = functions.get(f"{row.nspname}.{row.proname}({row.identity_args})")
            if entry is None:
                continue
            text = row.definition if row.prokind != "a" else _aggregate(row)
            if text is None:
                continue
            if len(text) > MAX_TEXT:
                self.session.problems.append(
                    f"function {row.nspname}.{row.proname}: definition of {len(text):,} "
                    f"characters not kept (at most {MAX_TEXT:,})"
                )
                continue
            try:
                masked, found = scrub_code(text, redactor)
            except _Withheld:
                entry["definition"] = redactor.redact_value(text)
                continue
            if found:
                entry["definition"] = {**redactor.redact_value(text), "masked": masked}
            else:
                entry["definition"] = masked

    def extension_types(self) -> Part:
        """The types each extension makes (geometry, vector...): what needs an extension
        that a server cannot install (repro.pg.extensions)."""

        def handle(rows: Rows) -> None:
            extensions = self.data.get("extensions") or {}
            for row in rows:
                if row.extname in extensions:
                    extensions[row.extname]["types"] = sorted(row.types)

        return Part(
            "extension types",
            """
            SELECT e.extname, array_agg(t.typname ORDER BY t.typname) AS types
            FROM pg_catalog.pg_extension e
            JOIN pg_catalog.pg_depend d ON d.refobjid = e.oid
                 AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                 AND d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.deptype = 'e'
            JOIN pg_catalog.pg_type t ON t.oid = d.objid
            WHERE t.typcategory <> 'A' AND t.typtype <> 'p'
            GROUP BY e.extname
            """,
            handle=handle,
        )


def _quote_literal(value: str) -> str:
    quoted = "'" + value.replace("'", "''") + "'"
    return "E" + quoted.replace("\\", "\\\\") if "\\" in value else quoted


def _aggregate(row: Any) -> str:
    """CREATE AGGREGATE from pg_aggregate (pg_dump's dumpAgg, for the options in use)."""
    options: list[str] = []
    for label, column in _AGGREGATE_FUNCTIONS:
        name = getattr(row, column)
        if name:
            options.append(f"{label} = {name}")
        if label == "SFUNC":
            options.append(f"STYPE = {row.stype}")
            if row.aggtransspace:
                options.append(f"SSPACE = {int(row.aggtransspace)}")
        if label in ("FINALFUNC", "MFINALFUNC") and name:
            moving = label == "MFINALFUNC"  # the moving-aggregate variant
            if row.aggmfinalextra if moving else row.aggfinalextra:
                options.append(f"{label}_EXTRA")
            modify = row.aggmfinalmodify if moving else row.aggfinalmodify
            if modify in _MODIFY:
                options.append(f"{label}_MODIFY = {_MODIFY[modify]}")
        if label == "MSFUNC" and name and row.mstype:
            options.append(f"MSTYPE = {row.mstype}")
            if row.aggmtransspace:
                options.append(f"MSSPACE = {int(row.aggmtransspace)}")
    if row.agginitval is not None:
        options.append(f"INITCOND = {_quote_literal(row.agginitval)}")
    if row.aggminitval is not None:
        options.append(f"MINITCOND = {_quote_literal(row.aggminitval)}")
    if row.sortop:
        options.append(f"SORTOP = {row.sortop}")
    if row.aggkind == "h":
        options.append("HYPOTHETICAL")
    if row.proparallel in _PARALLEL and row.proparallel != "u":
        options.append(f"PARALLEL = {_PARALLEL[row.proparallel]}")
    name = f"{_quote_ident(row.nspname)}.{_quote_ident(row.proname)}"
    arguments = row.arguments or "*"
    return f"CREATE AGGREGATE {name}({arguments}) (\n    " + ",\n    ".join(options) + "\n)"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
