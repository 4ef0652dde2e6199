"""Recreate a captured PostgreSQL schema in an empty database, from a snapshot's ``database``
facet data (see :mod:`repro.snapshot.database` for its shape).

The script comes in two halves so data can be loaded in between: ``before_load`` makes every
object rows go into (types, sequences, tables, plain views) and ``after_load`` everything that
would slow a bulk load down or reject rows loaded in an arbitrary order (constraints, foreign
keys, indexes, materialized views). Expression texts (defaults, checks, index and view
definitions) are PostgreSQL's own renderings, captured with an empty search_path, so they are
emitted verbatim; only identifiers we assemble ourselves are quoted here.

Functions, procedures, aggregates, triggers and policies are made by :mod:`repro.pg.code_ddl`
in the places the script gives them; a function that cannot be made (no definition in an older
snapshot, an untrusted language), and whatever calls one, is listed in ``skipped`` with the
reason, as is every entry the capture could not read (a null definition when another session
held a lock). Statements marked ``optional`` (code, policies) are made in a savepoint by a live
connection: one that fails is listed, not fatal.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repro.pg.code_ddl import plan_functions, policy_statements, trigger_statements

Entry = Mapping[str, Any]

CONSTRAINT_RANK = {"primary_key": 0, "unique": 1, "exclusion": 2, "check": 3}
# Reloption names are plain words (or "toast.x"); anything else is not emitted unquoted.
RELOPTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Statement:
    sql: str
    kind: str
    target: str
    # Tried first, in a savepoint, by a live connection (never in a dump file): the exact
    # production variant when it may not be installable here (an extension's old version).
    preferred: str | None = None
    # Made in a savepoint by a live connection; a failure is reported, the script goes on.
    optional: bool = False


@dataclass
class SchemaScript:
    before_load: list[Statement] = field(default_factory=list)
    after_load: list[Statement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def quote_ident(name: str) -> str:
    """Always quoted, as psycopg.sql.Identifier does: case and odd characters round-trip."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    # The E'' form with doubled backslashes means the same whatever
    # standard_conforming_strings says (PostgreSQL's own quote_literal does this).
    quoted = "'" + value.replace("'", "''") + "'"
    return "E" + quoted.replace("\\", "\\\\") if "\\" in value else quoted


def qualified(entry: Entry) -> str:
    return f"{quote_ident(str(entry['schema']))}.{quote_ident(str(entry['name']))}"


def table_order(database: Mapping[str, Any]) -> list[str]:
    """Table keys, parents (partitioned/inherited) before children; sorted otherwise."""
    tables = _entries(database, "tables")
    return _topological(sorted(tables), {key: _parents(t) for key, t in tables.items()})


def schema_script(
    database: Mapping[str, Any], *, tables: Collection[str] | None = None
) -> SchemaScript:
    """``tables``: only these table keys plus what they need (their partitions and parents,
    the sequences their defaults use; all types are created) — None means all."""
    return _Builder(database, tables).build()


def _entries(database: Mapping[str, Any], section: str) -> dict[str, Entry]:
    """Usable entries of a ``"schema.name"``-keyed section: null or nameless ones (not read)
    are left out; :meth:`_Builder.unreadable` reports them."""
    raw = database.get(section)
    if not isinstance(raw, Mapping):
        return {}
    return {
        key: entry
        for key, entry in raw.items()
        if isinstance(entry, Mapping)
        and isinstance(entry.get("schema"), str)
        and isinstance(entry.get("name"), str)
    }


def _parents(table: Entry) -> list[str]:
    parents = [table["partition_of"]] if table.get("partition_of") else []
    return parents + [p for p in table.get("inherits") or [] if isinstance(p, str)]


def _topological(keys: list[str], deps: Mapping[str, Iterable[str]]) -> list[str]:
    """``keys`` with each after its ``deps`` (those among ``keys``), otherwise in the given
    order. A cycle (possible with dependencies guessed from names) is broken by taking the
    earliest remaining key."""
    index = {key: i for i, key in enumerate(keys)}
    waiting = {k: {d for d in deps.get(k, ()) if d in index and d != k} for k in keys}
    dependents: dict[str, list[str]] = {}
    for key, needed in waiting.items():
        for dep in needed:
            dependents.setdefault(dep, []).append(key)
    ready = [index[k] for k, needed in waiting.items() if not needed]
    heapq.heapify(ready)
    done: set[str] = set()
    out: list[str] = []
    while len(out) < len(keys):
        if not ready:
            ready = [min(index[k] for k in keys if k not in done)]
        key = keys[heapq.heappop(ready)]
        if key in done:
            continue
        done.add(key)
        out.append(key)
        for dependent in dependents.get(key, ()):
            waiting[dependent].discard(key)
            if not waiting[dependent] and dependent not in done:
                heapq.heappush(ready, index[dependent])
    return out


def _name_pattern(schema: str, name: str, suffix: str = "") -> str:
    """A schema-qualified name as deparsed SQL may spell it (quoted only when needed, which
    we do not re-derive: both spellings are accepted)."""
    forms = [f"(?:{re.escape(quote_ident(part))}|{re.escape(part)})" for part in (schema, name)]
    return rf'(?<![\w$"]){forms[0]}\.{forms[1]}(?![\w$"]){suffix}'


class _Mentions:
    """Which of some named objects an SQL text mentions. Used to order views and to find
    calls of functions we cannot create; a false hit costs an ordering choice or a skip
    line, never a broken script."""

    def __init__(self, named: Mapping[str, Entry], suffix: str = "") -> None:
        self.patterns = {
            key: (str(e["name"]), re.compile(_name_pattern(e["schema"], e["name"], suffix)))
            for key, e in named.items()
        }

    def found(self, text: str) -> list[str]:
        # The substring test first: a regex per name and text is what costs here.
        return [k for k, (name, p) in self.patterns.items() if name in text and p.search(text)]


def _sequence_options(seq: Entry) -> list[str]:
    options = []
    for label, key in (
        ("INCREMENT BY", "increment"),
        ("MINVALUE", "min"),
        ("MAXVALUE", "max"),
        ("START WITH", "start"),
        ("CACHE", "cache"),
    ):
        if isinstance(seq.get(key), int):
            options.append(f"{label} {int(seq[key])}")
    if isinstance(seq.get("cycle"), bool):
        options.append("CYCLE" if seq["cycle"] else "NO CYCLE")
    return options


def _with_options(options: Any) -> str:
    if not isinstance(options, Mapping) or not options:
        return ""
    items = [
        f"{name}={quote_literal(str(value))}"
        for name, value in sorted(options.items())
        if RELOPTION_NAME.match(str(name))
    ]
    return f" WITH ({', '.join(items)})" if items else ""


def _strip_semicolon(definition: str) -> str:
    # pg_get_viewdef ends its text with ";", which cannot precede WITH DATA.
    return definition.strip().rstrip(";").rstrip()


class _Builder:
    def __init__(self, database: Mapping[str, Any], wanted: Collection[str] | None) -> None:
        self.db = database
        self.script = SchemaScript()
        self.tables = _entries(database, "tables")
        self.views = _entries(database, "views")
        self.sequences = _entries(database, "sequences")
        functions = _entries(database, "functions")
        types = _Mentions(
            {
                k: e
                for section in ("enums", "domains", "composite_types", "range_types")
                for k, e in _entries(database, section).items()
            }
        )
        tables, views = _Mentions(self.tables), _Mentions(self.views)
        self.code = plan_functions(
            functions,
            uses_types=lambda text: bool(types.found(text)),
            uses_tables=lambda text: bool(tables.found(text)),
            uses_views=lambda text: bool(views.found(text)),
            calls=_Mentions(functions, suffix=r"\s*\(").found,
            order=_topological,
        )
        # Only calls of functions not made stop an object from being made.
        self.functions = _Mentions(self.code.absent, suffix=r"\s*\(")
        self.late_functions = _Mentions(
            {k: e for k, e in _entries(database, "functions").items() if k in self.code.late},
            suffix=r"\s*\(",
        )
        self.late_defaults: list[Statement] = []
        self.made_views: set[str] = set()
        schemas = database.get("schemas")
        self.schemas: Mapping[str, Any] = schemas if isinstance(schemas, Mapping) else {}
        self.filtered = wanted is not None
        self.selected = self._closure(wanted)
        self.created: set[str] = set()
        # "schema.table.column" as the capture spells owned_by: matched whole, never split.
        self.columns = {
            f"{t['schema']}.{t['name']}.{col}": (key, col)
            for key, t in self.tables.items()
            for col in t.get("columns") or {}
        }
        self.identity = {
            s["owned_by"]: s
            for s in self.sequences.values()
            if s.get("identity") and isinstance(s.get("owned_by"), str)
        }

    def skip(self, line: str) -> None:
        self.script.skipped.append(line)

    def before(self, kind: str, target: str, sql: str, preferred: str | None = None) -> None:
        self.script.before_load.append(Statement(sql, kind, target, preferred))

    def after(self, kind: str, target: str, sql: str) -> None:
        self.script.after_load.append(Statement(sql, kind, target))

    def build(self) -> SchemaScript:
        self.unreadable()
        self.create_schemas()
        self.create_extensions()
        self.create_sequences()
        self.create_functions(self.code.before_types, setting=self.code.any_early)
        self.create_types()
        self.create_functions(self.code.after_types)
        self.create_tables()
        self.create_functions(self.code.after_tables)
        self.script.before_load += self.late_defaults
        self.add_constraints()
        self.create_views()
        for kind, target, sql in self.code.after_views:
            self.script.after_load.append(Statement(sql, kind, target, optional=True))
        self.own_sequences()
        self.row_security()
        self.comments()
        self.create_triggers_and_policies()
        self.not_recreated()
        return self.script

    def create_functions(
        self, statements: list[tuple[str, str, str]], setting: bool = False
    ) -> None:
        if setting:
            # Bodies are resolved when called, not when made (pg_dump does the same): a
            # function may name a table made later.
            self.before("setting", "check_function_bodies", "SET LOCAL check_function_bodies = off")
        for kind, target, sql in statements:
            self.script.before_load.append(Statement(sql, kind, target, optional=True))

    def create_triggers_and_policies(self) -> None:
        """After the load (and after row security is enabled): triggers fire on later writes
        only, never on the generated rows."""
        absent = {f"{e['schema']}.{e['name']}" for e in self.code.absent.values()}
        relations = {
            **{k: self.tables[k] for k in self.selected if k in self.created},
            **{k: self.views[k] for k in self.made_views},
        }
        for key, relation in relations.items():
            name = qualified(relation)
            statements, skipped = policy_statements(key, name, relation.get("policies") or {})
            triggers, more = trigger_statements(key, name, relation.get("triggers") or {}, absent)
            for kind, target, sql in statements + triggers:
                self.script.after_load.append(Statement(sql, kind, target, optional=True))
            self.script.skipped += skipped + more

    def _closure(self, wanted: Collection[str] | None) -> list[str]:
        order = table_order(self.db)
        if wanted is None:
            return order
        for key in sorted(set(wanted) - set(self.tables)):
            self.skip(f"table {key}: not in the snapshot")
        partitions: dict[str, list[str]] = {}
        for key, table in self.tables.items():
            if table.get("partition_of"):
                partitions.setdefault(table["partition_of"], []).append(key)
        keep: set[str] = set()
        stack = [key for key in wanted if key in self.tables]
        while stack:
            key = stack.pop()
            if key not in keep and key in self.tables:
                keep.add(key)
                stack += _parents(self.tables[key]) + partitions.get(key, [])
        return [key for key in order if key in keep]

    def unreadable(self) -> None:
        for section in (
            "tables",
            "views",
            "sequences",
            "enums",
            "domains",
            "composite_types",
            "range_types",
        ):
            raw = self.db.get(section)
            usable = _entries(self.db, section)
            for key in sorted(raw or {}) if isinstance(raw, Mapping) else []:
                if key not in usable:
                    self.skip(f"{section} {key}: not captured (null entry)")

    def create_schemas(self) -> None:
        # Schemas first: extensions may be installed into one.
        for name in sorted(self.schemas):
            self.before("schema", name, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name)}")

    def create_extensions(self) -> None:
        extensions = self.db.get("extensions")
        for name, ext in sorted((extensions or {}).items()):
            # The captured VERSION is preferred; it may not be installable where this runs
            # (no install script for it), so the default version is the fallback and the
            # diff of the two snapshots shows the difference.
            sql = f"CREATE EXTENSION IF NOT EXISTS {quote_ident(name)}"
            if isinstance(ext, Mapping) and isinstance(ext.get("schema"), str):
                sql += f" WITH SCHEMA {quote_ident(ext['schema'])}"
            version = ext.get("version") if isinstance(ext, Mapping) else None
            preferred = (
                f"{sql} VERSION {quote_literal(version)}" if isinstance(version, str) else None
            )
            self.before("extension", name, sql, preferred)

    def needed_sequences(self) -> list[str]:
        """Sequences made on their own: not identity ones (made with their column); with a
        table selection, only those a selected table owns or names in a default."""
        free = [k for k in sorted(self.sequences) if not self.sequences[k].get("identity")]
        if not self.filtered:
            return free
        selected = set(self.selected)
        mentions = _Mentions({k: self.sequences[k] for k in free})
        used = {
            found
            for key in selected
            for column in (self.tables[key].get("columns") or {}).values()
            if isinstance(column, Mapping) and isinstance(column.get("default"), str)
            for found in mentions.found(column["default"])
        }
        return [
            k
            for k in free
            if k in used
            or self.columns.get(self.sequences[k].get("owned_by") or "", ("", ""))[0] in selected
        ]

    def create_sequences(self) -> None:
        # Before types and tables: a domain's or a column's default may call nextval().
        for key in self.needed_sequences():
            seq = self.sequences[key]
            type_ = f" AS {seq['type']}" if isinstance(seq.get("type"), str) else ""
            options = " ".join(_sequence_options(seq))
            self.before("sequence", key, f"CREATE SEQUENCE {qualified(seq)}{type_} {options}")

    def create_types(self) -> None:
        """Enums, domains, composite and range types, ordered by the type names each one's
        definition mentions (a domain over a composite, a range over a domain)."""
        texts: dict[str, tuple[str, Entry]] = {}
        for section in ("enums", "domains", "composite_types", "range_types"):
            for key, entry in _entries(self.db, section).items():
                texts[key] = (section, entry)
        mentions = _Mentions({k: entry for k, (_, entry) in texts.items()})

        def uses(key: str) -> list[str]:
            entry = texts[key][1]
            parts = [str(entry.get("type") or ""), str(entry.get("subtype") or "")]
            parts += [
                str(a.get("type"))
                for a in (entry.get("attributes") or {}).values()
                if isinstance(a, Mapping)
            ]
            return mentions.found(" ".join(parts))

        for key in _topological(sorted(texts), {k: uses(k) for k in texts}):
            section, entry = texts[key]
            getattr(self, f"create_{section}")(key, entry)

    def create_enums(self, key: str, entry: Entry) -> None:
        labels = ", ".join(quote_literal(str(label)) for label in entry.get("labels") or [])
        self.before("enum", key, f"CREATE TYPE {qualified(entry)} AS ENUM ({labels})")

    def create_domains(self, key: str, entry: Entry) -> None:
        if not isinstance(entry.get("type"), str):
            self.skip(f"domain {key}: base type not captured")
            return
        sql = f"CREATE DOMAIN {qualified(entry)} AS {entry['type']}"
        if entry.get("collation"):
            # Captured without its schema: found through the search_path.
            sql += f" COLLATE {quote_ident(entry['collation'])}"
        if entry.get("default") is not None:
            sql += f" DEFAULT {entry['default']}"
        if entry.get("nullable") is False:
            sql += " NOT NULL"
        later = []
        for name, check in sorted((entry.get("checks") or {}).items()):
            if not isinstance(check, str):
                self.skip(f"domain {key}: check {name} not captured")
            elif check.endswith(" NOT VALID"):
                later.append((name, check))  # CREATE DOMAIN takes no NOT VALID
            else:
                sql += f" CONSTRAINT {quote_ident(name)} {check}"
        self.before("domain", key, sql)
        for name, check in later:
            self.before(
                "domain",
                f"{key}.{name}",
                f"ALTER DOMAIN {qualified(entry)} ADD CONSTRAINT {quote_ident(name)} {check}",
            )

    def create_composite_types(self, key: str, entry: Entry) -> None:
        attributes = entry.get("attributes") or {}
        items = sorted(
            (a.get("position") or 0, name, a)
            for name, a in attributes.items()
            if isinstance(a, Mapping)
        )
        parts = [f"{quote_ident(n)} {a['type']}{self.collate(a)}" for _, n, a in items]
        self.before("type", key, f"CREATE TYPE {qualified(entry)} AS ({', '.join(parts)})")

    def create_range_types(self, key: str, entry: Entry) -> None:
        if not isinstance(entry.get("subtype"), str):
            self.skip(f"range type {key}: subtype not captured")
            return
        self.before(
            "type", key, f"CREATE TYPE {qualified(entry)} AS RANGE (SUBTYPE = {entry['subtype']})"
        )

    def collate(self, column: Entry) -> str:
        """A column collation is captured as "name" (pg_catalog) or "schema.name"; names like
        "en_US.utf8" have dots too, so a prefix counts as schema only if it is one."""
        collation = column.get("collation")
        if not isinstance(collation, str):
            return ""
        schema, dot, name = collation.partition(".")
        if dot and schema in self.schemas:
            return f" COLLATE {quote_ident(schema)}.{quote_ident(name)}"
        return f" COLLATE {quote_ident(collation)}"

    def create_tables(self) -> None:
        for key in self.selected:
            table = self.tables[key]
            problem = self.table_problem(table)
            if problem:
                self.skip(f"table {key}: {problem}")
                continue
            self.before("table", key, self.table_sql(key, table))
            self.created.add(key)
            if self.was_locked(table):
                self.skip(
                    f"table {key}: locked at capture; a generated column (its expression "
                    "unread) would have been captured, and made, as a plain column"
                )

    @staticmethod
    def was_locked(table: Entry) -> bool:
        """The capture reads no definition of a locked relation; generated expressions are
        then null too, indistinguishable from a plain column's."""
        pieces = [
            *(table.get("constraints") or {}).values(),
            *(table.get("indexes") or {}).values(),
        ]
        return any(isinstance(p, Mapping) and p.get("definition") is None for p in pieces)

    def table_problem(self, table: Entry) -> str | None:
        if table.get("kind") == "foreign_table":
            return f"foreign table (server {table.get('foreign_server')}) not recreated"
        if table.get("persistence") == "temporary":
            return "temporary table"
        missing = [p for p in _parents(table) if p not in self.created]
        if missing:
            return f"parent {', '.join(missing)} not created"
        if table.get("partition_of") and not table.get("partition_bound"):
            return "partition bound not captured"
        if table.get("kind") == "partitioned_table" and not table.get("partition_by"):
            return "partition key not captured (relation locked at capture)"
        for name, column in (table.get("columns") or {}).items():
            if not isinstance(column, Mapping) or not isinstance(column.get("type"), str):
                return f"column {name} not captured"
            if column.get("inherited"):
                continue
            for what in ("default", "generated"):
                calls = self.functions.found(str(column.get(what) or ""))
                if calls:
                    return f"column {name} {what} calls {', '.join(calls)} (not recreated)"
            late = self.late_functions.found(str(column.get("generated") or ""))
            if late:
                return (
                    f"column {name} is generated by {', '.join(late)}, a function that can "
                    "only be made after the tables (its signature names one)"
                )
        return None

    def table_sql(self, key: str, table: Entry) -> str:
        unlogged = "UNLOGGED " if table.get("persistence") == "unlogged" else ""
        sql = f"CREATE {unlogged}TABLE {qualified(table)}"
        if table.get("partition_of"):
            # A partition's columns all come from its parent.
            parent = self.tables[table["partition_of"]]
            sql += f" PARTITION OF {qualified(parent)} {table['partition_bound']}"
        else:
            sql += f" ({', '.join(self.columns_sql(key, table))})"
            if table.get("inherits"):
                parents = ", ".join(qualified(self.tables[p]) for p in table["inherits"])
                sql += f" INHERITS ({parents})"
        if table.get("partition_by"):
            sql += f" PARTITION BY {table['partition_by']}"
        return sql + _with_options(table.get("options"))

    def columns_sql(self, key: str, table: Entry) -> list[str]:
        columns = sorted(
            (c.get("position") or 0, name, c)
            for name, c in (table.get("columns") or {}).items()
            if not c.get("inherited")  # made by INHERITS from the parent
        )
        return [self.column_sql(table, name, c) for _, name, c in columns]

    def column_sql(self, table: Entry, name: str, column: Entry) -> str:
        sql = f"{quote_ident(name)} {column['type']}{self.collate(column)}"
        if column.get("generated"):
            sql += f" GENERATED ALWAYS AS ({column['generated']}) STORED"
        elif column.get("identity"):
            sql += self.identity_sql(
                f"{table['schema']}.{table['name']}.{name}", column["identity"]
            )
        elif column.get("default") is not None:
            if self.late_functions.found(str(column["default"])):
                # the function is made after the tables: the default once it exists
                self.late_defaults.append(
                    Statement(
                        f"ALTER TABLE {qualified(table)} ALTER COLUMN {quote_ident(name)} "
                        f"SET DEFAULT {column['default']}",
                        "default",
                        f"{table['schema']}.{table['name']}.{name}",
                    )
                )
            else:
                sql += f" DEFAULT {column['default']}"
        if column.get("nullable") is False and not column.get("identity"):
            sql += " NOT NULL"
        return sql

    def identity_sql(self, owner: str, identity: str) -> str:
        when = "ALWAYS" if identity == "always" else "BY DEFAULT"
        seq = self.identity.get(owner)
        if seq is None:
            self.skip(f"identity column {owner}: its sequence was not captured; default options")
            return f" GENERATED {when} AS IDENTITY"
        # SEQUENCE NAME, or PostgreSQL picks one that may differ from the captured name.
        options = " ".join([f"SEQUENCE NAME {qualified(seq)}", *_sequence_options(seq)])
        return f" GENERATED {when} AS IDENTITY ({options})"

    def add_constraints(self) -> None:
        """Keys and checks, then unique indexes (a foreign key may reference the columns of
        one), then foreign keys, then the other indexes."""
        keys: list[tuple[int, str, Statement]] = []
        foreign: list[Statement] = []
        for key in self.selected:
            if key not in self.created:
                continue
            table = self.tables[key]
            for name, con in sorted((table.get("constraints") or {}).items()):
                statement = self.constraint(key, table, name, con)
                if statement is None:
                    continue
                if con["type"] == "foreign_key":
                    foreign.append(statement)
                else:
                    keys.append((CONSTRAINT_RANK[con["type"]], key, statement))
        # Stable sort: primary keys of all tables first, each rank in table order.
        self.script.after_load += [s for _, _, s in sorted(keys, key=lambda item: item[0])]
        indexes = self.indexes([k for k in self.selected if k in self.created], self.tables)
        self.script.after_load += [s for unique, s in indexes if unique]
        self.script.after_load += foreign
        self.script.after_load += [s for unique, s in indexes if not unique]

    def constraint(self, key: str, table: Entry, name: str, con: Any) -> Statement | None:
        if not isinstance(con, Mapping):
            self.skip(f"constraint {key}.{name}: not captured")
            return None
        kind = con.get("type")
        # Inherited ones come with the parent's; NOT NULL (and unknown kinds) are not ours.
        if con.get("inherited") or (kind not in CONSTRAINT_RANK and kind != "foreign_key"):
            return None
        definition = con.get("definition")
        if not isinstance(definition, str):
            self.skip(f"constraint {key}.{name}: definition not captured (relation locked)")
            return None
        calls = self.functions.found(definition)
        if calls:
            self.skip(f"constraint {key}.{name}: calls {', '.join(calls)} (not recreated)")
            return None
        if kind == "foreign_key":
            referenced = (con.get("references") or {}).get("table")
            if referenced not in self.created:
                self.skip(f"constraint {key}.{name}: references {referenced}, not created")
                return None
        if con.get("validated") is False and not definition.endswith("NOT VALID"):
            definition += " NOT VALID"
        sql = f"ALTER TABLE {qualified(table)} ADD CONSTRAINT {quote_ident(name)} {definition}"
        return Statement(sql, str(kind), f"{key}.{name}")

    def indexes(
        self, keys: list[str], relations: Mapping[str, Entry]
    ) -> list[tuple[bool, Statement]]:
        """Indexes not made by a constraint nor by a parent's index, each with whether it is
        unique."""
        out = []
        for key in keys:
            relation = relations[key]
            for name, index in sorted((relation.get("indexes") or {}).items()):
                if not isinstance(index, Mapping):
                    self.skip(f"index {key}.{name}: not captured")
                    continue
                if index.get("constraint") or index.get("parent_index"):
                    continue
                definition = index.get("definition")
                if not isinstance(definition, str):
                    self.skip(f"index {key}.{name}: definition not captured (relation locked)")
                    continue
                calls = self.functions.found(definition)
                if calls:
                    self.skip(f"index {key}.{name}: calls {', '.join(calls)} (not recreated)")
                    continue
                if relation.get("kind") == "partitioned_table":
                    # pg_get_indexdef says ON ONLY for a partitioned table's index, which
                    # makes an invalid index with none on the partitions; without ONLY the
                    # partitions' indexes are made (and named) as they were.
                    definition = definition.replace(" ON ONLY ", " ON ", 1)
                if index.get("valid") is False:
                    self.skip(f"index {key}.{name}: was invalid; recreated valid")
                out.append(
                    (bool(index.get("unique")), Statement(definition, "index", f"{key}.{name}"))
                )
        return out

    def create_views(self) -> None:
        """Views after the load and its keys, in dependency order (pg_dump does the same for
        a view that groups by a primary key and selects the other columns: PostgreSQL
        accepts it only once the key exists). With a table selection, views reading
        anything else are left out (not asked for, so not listed as skipped)."""
        relations = _Mentions({**self.tables, **self.views})
        deps: dict[str, list[str]] = {}
        for key, view in self.views.items():
            definition = view.get("definition")
            found = relations.found(definition) if isinstance(definition, str) else []
            deps[key] = [d for d in found if d != key]
        made: set[str] = set()
        unwanted: set[str] = set()
        for key in _topological(sorted(self.views), deps):
            view = self.views[key]
            if self.filtered and any(
                d in unwanted or (d in self.tables and d not in self.selected) for d in deps[key]
            ):
                unwanted.add(key)
                continue
            problem = self.view_problem(view, deps[key], made)
            if problem:
                self.skip(f"view {key}: {problem}")
                continue
            made.add(key)
            self.made_views.add(key)
            sql = self.view_sql(view)
            if view.get("materialized"):
                self.after("materialized_view", key, sql)
                self.script.after_load += [s for _, s in self.indexes([key], self.views)]
            else:
                self.after("view", key, sql)

    def view_sql(self, view: Entry) -> str:
        definition = _strip_semicolon(view["definition"])
        options = _with_options(view.get("options"))
        if view.get("materialized"):
            return f"CREATE MATERIALIZED VIEW {qualified(view)}{options} AS {definition} WITH DATA"
        return f"CREATE VIEW {qualified(view)}{options} AS {definition}"

    def view_problem(self, view: Entry, deps: list[str], made: set[str]) -> str | None:
        definition = view.get("definition")
        if not isinstance(definition, str):
            return "definition not captured (relation locked at capture)"
        missing = [d for d in deps if d not in self.created and d not in made]
        if missing:
            return f"reads {', '.join(missing)}, not created"
        calls = self.functions.found(definition)
        if calls:
            return f"calls {', '.join(calls)} (not recreated)"
        return None

    def own_sequences(self) -> None:
        for key in self.needed_sequences():
            seq = self.sequences[key]
            owner = self.columns.get(seq.get("owned_by") or "")
            if owner is None or owner[0] not in self.created:
                continue
            table, column = self.tables[owner[0]], owner[1]
            self.after(
                "sequence_owner",
                key,
                f"ALTER SEQUENCE {qualified(seq)} OWNED BY "
                f"{qualified(table)}.{quote_ident(column)}",
            )

    def row_security(self) -> None:
        # After the load: with RLS forced, even the owner's INSERTs would need a policy.
        for key in self.selected:
            rls = self.tables[key].get("row_security") or {}
            if key not in self.created:
                continue
            for flag, word in (("enabled", "ENABLE"), ("forced", "FORCE")):
                if rls.get(flag):
                    self.after(
                        "table",
                        key,
                        f"ALTER TABLE {qualified(self.tables[key])} {word} ROW LEVEL SECURITY",
                    )

    def comments(self) -> None:
        for name, schema in sorted(self.schemas.items()):
            comment = schema.get("comment") if isinstance(schema, Mapping) else None
            # public exists beforehand, with a comment of its own to replace.
            if comment is not None or name == "public":
                self.comment("SCHEMA", quote_ident(name), name, comment)
        for section, what in (
            ("enums", "TYPE"),
            ("composite_types", "TYPE"),
            ("range_types", "TYPE"),
            ("domains", "DOMAIN"),
        ):
            for key, entry in sorted(_entries(self.db, section).items()):
                self.comment(what, qualified(entry), key, entry.get("comment"))
        for key in self.selected:
            if key in self.created:
                table = self.tables[key]
                self.comment("TABLE", qualified(table), key, table.get("comment"))
                for name, column in sorted((table.get("columns") or {}).items()):
                    self.comment(
                        "COLUMN",
                        f"{qualified(table)}.{quote_ident(name)}",
                        f"{key}.{name}",
                        column.get("comment"),
                    )
        made = {
            s.target
            for s in self.script.before_load + self.script.after_load
            if s.kind in ("view", "materialized_view")
        }
        for key in sorted(made):
            view = self.views[key]
            what = "MATERIALIZED VIEW" if view.get("materialized") else "VIEW"
            self.comment(what, qualified(view), key, view.get("comment"))

    def comment(self, what: str, name: str, target: str, comment: Any) -> None:
        if comment is None and what != "SCHEMA":
            return
        text = "NULL" if comment is None else quote_literal(str(comment))
        self.after("comment", target, f"COMMENT ON {what} {name} IS {text}")

    def not_recreated(self) -> None:
        self.script.skipped += self.code.skipped
        if self.db.get("roles") or self.db.get("grants"):
            self.skip(
                "roles, grants and owners: not applied (objects belong to the user "
                "running the script)"
            )
