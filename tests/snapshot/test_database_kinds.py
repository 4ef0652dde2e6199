"""The snapshot against ``pg_dump --schema-only``: for a database holding one object of every
kind pg_dump emits, every entry of pg_dump's table of contents must be found in the database
facet — a kind pg_dump emits that the snapshot lacks fails here, on PostgreSQL 13, 15 and 17.

pg_dump runs inside the server's container, so its version matches the server's. Its table
of contents is read with ``pg_restore -l`` (the same entries the plain format prints as SQL).
Function, trigger, view and policy *definitions* are issue 13's (bodies are captured as a hash
until then); here each object must be present, with its comment and privileges where pg_dump
writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.capture import capture
from tests.helpers.every_kind import CANARIES, SCHEMA, EveryKind, TocEntry, every_kind_database
from tests.helpers.every_kind import parse_toc as parse_toc_lines
from tests.helpers.pg import PgServer

Data = dict[str, Any]
Check = Callable[[Data, TocEntry], Any]


def _key(name: str) -> str:
    return f"{SCHEMA}.{name}"


def _relation(data: Data, name: str) -> Any:
    return data["tables"].get(_key(name)) or data["views"].get(_key(name))


def _member(section: str) -> Check:
    """``TABLE_NAME MEMBER`` tags (constraints, triggers, policies, rules)."""

    def check(data: Data, entry: TocEntry) -> Any:
        table, member = entry.tag.split(" ", 1)
        relation = _relation(data, table) or {}
        found = relation.get(section, {}).get(member)
        if found is None and section == "constraints":  # a domain's (NOT VALID) check
            found = data["domains"].get(_key(table), {}).get("checks", {}).get(member)
        return found

    return check


def _index(data: Data, name: str) -> Any:
    for relation in (*data["tables"].values(), *data["views"].values()):
        if name in relation.get("indexes", {}):
            return relation["indexes"][name]
    return None


def _function(kind: str) -> Check:
    def check(data: Data, entry: TocEntry) -> Any:
        name, _, args = entry.tag.partition("(")
        count = len([a for a in args.rstrip(")").split(",") if a.strip()])
        return [
            f
            for f in data["functions"].values()
            if f["schema"] == entry.namespace
            and f["name"] == name
            and f["kind"] == kind
            and len([a for a in f["arguments"].split(",") if a.strip()]) == count
        ]

    return check


def _type(data: Data, name: str) -> Any:
    for section in ("enums", "composite_types", "range_types", "base_types", "domains"):
        if _key(name) in data[section]:
            return data[section][_key(name)]
    return None


def _named(section: str, *, qualified: bool = True) -> Check:
    return lambda data, entry: data[section].get(_key(entry.tag) if qualified else entry.tag)


def _object_of(data: Data, what: str, name: str) -> Any:
    """The entry a COMMENT or ACL is about: ``what`` is its SQL kind, ``name`` as pg_dump
    prints it."""
    if what in ("TABLE", "FOREIGN TABLE", "VIEW", "MATERIALIZED VIEW"):
        return _relation(data, name)
    if what == "COLUMN":
        table, column = name.split(".", 1)
        return (_relation(data, table) or {}).get("columns", {}).get(column)
    if what in ("CONSTRAINT", "TRIGGER", "POLICY", "RULE"):
        member, table = name.split(" ON ", 1)
        if table.startswith("DOMAIN "):
            domain = data["domains"][_key(table.removeprefix("DOMAIN "))]
            return {"comment": domain.get("check_comments", {}).get(member)}
        section = {"CONSTRAINT": "constraints"}.get(what, what.lower() + "s")
        if what == "POLICY":
            section = "policies"
        return (_relation(data, table) or {}).get(section, {}).get(member)
    if what == "INDEX":
        return _index(data, name)
    if what in ("FUNCTION", "PROCEDURE", "AGGREGATE"):
        kind = what.lower()
        found = _function(kind)(data, TocEntry(what, SCHEMA, name))
        return found[0] if found else None
    if what in ("TYPE", "DOMAIN"):
        return _type(data, name)
    sections = {
        "SCHEMA": ("schemas", False),
        "SEQUENCE": ("sequences", True),
        "COLLATION": ("collations", True),
        "CONVERSION": ("conversions", True),
        "STATISTICS": ("extended_statistics", True),
        "TEXT SEARCH CONFIGURATION": ("text_search_configurations", True),
        "TEXT SEARCH DICTIONARY": ("text_search_dictionaries", True),
        "TEXT SEARCH PARSER": ("text_search_parsers", True),
        "TEXT SEARCH TEMPLATE": ("text_search_templates", True),
        "PUBLICATION": ("publications", False),
        "SUBSCRIPTION": ("subscriptions", False),
        "EVENT TRIGGER": ("event_triggers", False),
        "SERVER": ("foreign_servers", False),
        "FOREIGN SERVER": ("foreign_servers", False),
        "FOREIGN DATA WRAPPER": ("foreign_data_wrappers", False),
        "LANGUAGE": ("languages", False),
        "ACCESS METHOD": ("access_methods", False),
        "EXTENSION": ("extensions", False),
    }
    if what in sections:
        section, qualified = sections[what]
        return data[section].get(_key(name) if qualified else name)
    if what == "OPERATOR":
        op, _, args = name.partition(" (")
        if not args:  # the OPERATOR entry itself is tagged by name alone
            return [o for o in data["operators"].values() if o["name"] == op] or None
        left, right = (a.strip() for a in args.rstrip(")").split(","))
        return data["operators"].get(f"{SCHEMA}.{op}({left},{right})")
    if what in ("OPERATOR CLASS", "OPERATOR FAMILY"):
        section = "operator_classes" if what == "OPERATOR CLASS" else "operator_families"
        if " USING " in name:
            return data[section].get(_key(name))
        # The class or family entry itself is tagged by name alone.
        return [o for o in data[section].values() if o["name"] == name] or None
    if what == "CAST":
        return data["casts"].get(name.strip("()"))
    if what == "TRANSFORM":
        return data["transforms"].get(name.removeprefix("FOR "))
    raise AssertionError(f"no way to find a {what} in the snapshot")


# SQL kinds a COMMENT or ACL tag starts with, longest first.
SQL_KINDS = sorted(
    [
        "TABLE", "FOREIGN TABLE", "VIEW", "MATERIALIZED VIEW", "COLUMN", "CONSTRAINT",
        "TRIGGER", "POLICY", "RULE", "INDEX", "FUNCTION", "PROCEDURE", "AGGREGATE", "TYPE",
        "DOMAIN", "SCHEMA", "SEQUENCE", "COLLATION", "CONVERSION", "STATISTICS",
        "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
        "TEXT SEARCH TEMPLATE", "PUBLICATION", "SUBSCRIPTION", "EVENT TRIGGER", "SERVER",
        "FOREIGN SERVER", "FOREIGN DATA WRAPPER", "LANGUAGE", "ACCESS METHOD", "EXTENSION",
        "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "CAST", "TRANSFORM",
    ],
    key=len,
    reverse=True,
)  # fmt: skip


def _split_object(tag: str) -> tuple[str, str]:
    for what in SQL_KINDS:
        if tag.startswith(what + " "):
            return what, tag[len(what) + 1 :]
    raise AssertionError(f"unknown object in {tag!r}")


def _comment(data: Data, entry: TocEntry) -> bool:
    found = _object_of(data, *_split_object(entry.tag))
    return isinstance(found, dict) and found.get("comment") is not None


# What an object nobody granted or revoked anything on holds (besides its owner).
DEFAULT_PRIVILEGES = {
    "FUNCTION": {"PUBLIC": ["EXECUTE"]},
    "PROCEDURE": {"PUBLIC": ["EXECUTE"]},
    "AGGREGATE": {"PUBLIC": ["EXECUTE"]},
    "TYPE": {"PUBLIC": ["USAGE"]},
    "DOMAIN": {"PUBLIC": ["USAGE"]},
    "LANGUAGE": {"PUBLIC": ["USAGE"]},
}


def _acl(data: Data, entry: TocEntry) -> bool:
    """pg_dump writes an ACL entry where the privileges differ from the defaults."""
    what, name = _split_object(entry.tag)
    found = _object_of(data, what, name)
    privileges = found.get("privileges") if isinstance(found, dict) else None
    return privileges is not None and privileges != DEFAULT_PRIVILEGES.get(what, {})


def _default_acl(data: Data, entry: TocEntry) -> bool:
    objects = entry.tag.removeprefix("DEFAULT PRIVILEGES FOR ").lower()
    return any(
        schemas.get(entry.namespace or "*", {}).get(objects)
        for schemas in data["default_privileges"].values()
    )


def _publication_table(data: Data, entry: TocEntry) -> Any:
    publication, table = entry.tag.split(" ", 1)
    return data["publications"][publication]["tables"].get(f"{entry.namespace}.{table}")


def _publication_schema(data: Data, entry: TocEntry) -> Any:
    publication, schema = entry.tag.split(" ", 1)
    return schema in data["publications"][publication]["schemas"]


def _user_mapping(data: Data, entry: TocEntry) -> Any:
    match = re.fullmatch(r"USER MAPPING (\S+) SERVER (\S+)", entry.tag)
    assert match, entry
    return data["user_mappings"].get(f"{match[1]}@{match[2]}")


def _column_default(data: Data, entry: TocEntry) -> Any:
    table, column = entry.tag.split(" ", 1)
    return (_relation(data, table) or {}).get("columns", {}).get(column, {}).get("default")


# Every kind pg_dump --schema-only emits (13-17) and where the snapshot holds it.
CHECKS: dict[str, Check] = {
    "SCHEMA": lambda d, e: d["schemas"].get(e.tag),
    "EXTENSION": lambda d, e: d["extensions"].get(e.tag),
    "COMMENT": _comment,
    "ACL": _acl,
    "DEFAULT ACL": _default_acl,
    "TABLE": lambda d, e: d["tables"].get(_key(e.tag)),
    "FOREIGN TABLE": lambda d, e: d["tables"].get(_key(e.tag)),
    "TABLE ATTACH": lambda d, e: d["tables"].get(_key(e.tag), {}).get("partition_of"),
    "VIEW": lambda d, e: d["views"].get(_key(e.tag)),
    "MATERIALIZED VIEW": lambda d, e: d["views"].get(_key(e.tag)),
    "SEQUENCE": _named("sequences"),
    "SEQUENCE OWNED BY": lambda d, e: d["sequences"].get(_key(e.tag), {}).get("owned_by"),
    "DEFAULT": _column_default,
    "CONSTRAINT": _member("constraints"),
    "FK CONSTRAINT": _member("constraints"),
    "CHECK CONSTRAINT": _member("constraints"),
    "INDEX": lambda d, e: _index(d, e.tag),
    "INDEX ATTACH": lambda d, e: (_index(d, e.tag) or {}).get("parent_index"),
    "TRIGGER": _member("triggers"),
    "POLICY": _member("policies"),
    "ROW SECURITY": lambda d, e: d["tables"].get(_key(e.tag), {})["row_security"]["enabled"],
    "RULE": _member("rules"),
    "FUNCTION": _function("function"),
    "PROCEDURE": _function("procedure"),
    "AGGREGATE": _function("aggregate"),
    "TYPE": lambda d, e: _type(d, e.tag),
    "SHELL TYPE": _named("base_types"),
    "DOMAIN": _named("domains"),
    "COLLATION": _named("collations"),
    "CONVERSION": _named("conversions"),
    "CAST": lambda d, e: d["casts"].get(e.tag.removeprefix("CAST ").strip("()")),
    "OPERATOR": lambda d, e: _object_of(d, "OPERATOR", e.tag),
    "OPERATOR CLASS": lambda d, e: _object_of(d, "OPERATOR CLASS", e.tag),
    "OPERATOR FAMILY": lambda d, e: _object_of(d, "OPERATOR FAMILY", e.tag),
    "TEXT SEARCH CONFIGURATION": _named("text_search_configurations"),
    "TEXT SEARCH DICTIONARY": _named("text_search_dictionaries"),
    "TEXT SEARCH PARSER": _named("text_search_parsers"),
    "TEXT SEARCH TEMPLATE": _named("text_search_templates"),
    "ACCESS METHOD": _named("access_methods", qualified=False),
    "TRANSFORM": lambda d, e: d["transforms"].get(e.tag.removeprefix("TRANSFORM FOR ")),
    "PROCEDURAL LANGUAGE": _named("languages", qualified=False),
    "EVENT TRIGGER": _named("event_triggers", qualified=False),
    "PUBLICATION": _named("publications", qualified=False),
    "PUBLICATION TABLE": _publication_table,
    "PUBLICATION TABLES IN SCHEMA": _publication_schema,
    "SUBSCRIPTION": _named("subscriptions", qualified=False),
    "FOREIGN DATA WRAPPER": _named("foreign_data_wrappers", qualified=False),
    "SERVER": _named("foreign_servers", qualified=False),
    "USER MAPPING": _user_mapping,
    "STATISTICS": _named("extended_statistics"),
}


def pg_dump_toc(server: PgServer, dbname: str) -> str:
    """``pg_dump --schema-only`` of the database, listed by ``pg_restore -l``, both run in
    the server's own container."""
    container = server.container
    path = f"/tmp/repro-kinds-{dbname}.dump"
    env = {"PGPASSWORD": server.password}
    try:
        code, output = container.exec_run(
            ["pg_dump", "--schema-only", "-Fc", "-f", path, "-h", "127.0.0.1", "-U", server.user,
             dbname],
            environment=env,
        )  # fmt: skip
        assert code == 0, output.decode(errors="replace")
        code, output = container.exec_run(["pg_restore", "-l", path])
        assert code == 0, output.decode(errors="replace")
        return str(output.decode())
    finally:
        container.exec_run(["rm", "-f", path])


@pytest.fixture
def every_kind(postgres_any: PgServer) -> Any:
    with every_kind_database(postgres_any) as db:
        yield db


def test_snapshot_holds_every_kind_pg_dump_emits(every_kind: EveryKind) -> None:
    result = capture(every_kind.dsn)
    assert result.status == "ok", result.problems
    data = result.data
    toc = parse_toc_lines(
        pg_dump_toc(every_kind.server, every_kind.dbname), every_kind.server.user, list(CHECKS)
    )
    kinds = {entry.desc for entry in toc}
    assert {"COLLATION", "CAST", "PUBLICATION", "USER MAPPING", "ACL", "DEFAULT ACL"} <= kinds
    unknown = sorted(str(e) for e in toc if e.desc not in CHECKS)
    assert not unknown, f"pg_dump emits kinds the snapshot does not capture: {unknown}"
    missing = [str(e) for e in toc if not CHECKS[e.desc](data, e)]
    assert not missing, f"pg_dump emits these, the snapshot lacks them: {missing}"


def test_every_kind_snapshot_keeps_no_secret(every_kind: EveryKind) -> None:
    """User mapping, server and subscription passwords are fingerprinted where they are
    read; a token in a default and a comment is caught by the facet's own redaction."""
    result = capture(every_kind.dsn)
    text = json.dumps(result.to_json())
    for canary in CANARIES:
        assert canary not in text
    assert "pg_attver" not in text  # a 17 build's own bookkeeping in every column's options
    data = result.data
    mapping = data["user_mappings"][f"{every_kind.reader}@{SCHEMA}_srv"]
    assert mapping["options"]["user"] == "remote_user"
    assert mapping["options"]["password"]["redacted"] is True
    assert data["subscriptions"][f"{SCHEMA}_sub"]["connection"]["host"] == "db.example"
    assert data["subscriptions"][f"{SCHEMA}_sub"]["connection"]["password"]["redacted"]
    assert data["foreign_servers"][f"{SCHEMA}_srv"]["options"]["password"]["redacted"]
    items = data["tables"][f"{SCHEMA}.items"]
    assert items["columns"]["note"]["default"]["redacted"] is True
    assert items["columns"]["note"]["comment"]["redacted"] is True
