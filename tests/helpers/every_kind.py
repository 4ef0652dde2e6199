"""A database with one object of every kind ``pg_dump --schema-only`` emits (PostgreSQL 13-17),
and a reader of pg_dump's table of contents, to hold the snapshot against it.

Not creatable here: security labels (they need a label provider module, none is installed
in the images) and large objects (``--schema-only`` leaves them out up to 17).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from tests.helpers.pg import PgServer, fresh_database

SCHEMA = "kinds"
# Canaries where secrets hide in a schema: pg_dump prints them, a snapshot must not.
UM_PASSWORD = "canary-um-Vx83KqLm2"
SUB_PASSWORD = "canary-sub-Pw93Hz4q"
SRV_PASSWORD = "canary-srv-Gq27Ns8d"
DEFAULT_TOKEN = "sk_live_canaryDefault9Xq2Lm7Rt"
COMMENT_TOKEN = "ghp_canaryCommentTk38Vn29Zq"
CANARIES = (UM_PASSWORD, SUB_PASSWORD, SRV_PASSWORD, DEFAULT_TOKEN, COMMENT_TOKEN)


def every_kind_sql(major: int, reader: str) -> str:
    """One object of every kind in schema ``kinds``; ``reader`` is a role granted things."""
    per_schema_publication = (
        f"CREATE PUBLICATION {SCHEMA}_schema_pub FOR TABLES IN SCHEMA {SCHEMA};"
        if major >= 15
        else ""
    )
    return f"""
CREATE SCHEMA {SCHEMA};
COMMENT ON SCHEMA {SCHEMA} IS 'every kind';
CREATE EXTENSION pg_trgm SCHEMA {SCHEMA};
CREATE COLLATION {SCHEMA}.c_copy FROM "C";
CREATE TYPE {SCHEMA}.mood AS ENUM ('sad', 'ok');
CREATE TYPE {SCHEMA}.pair AS (a integer, b text);
CREATE TYPE {SCHEMA}.floatrange AS RANGE (subtype = float8);
CREATE DOMAIN {SCHEMA}.posint AS integer CHECK (VALUE > 0);
ALTER DOMAIN {SCHEMA}.posint ADD CONSTRAINT posint_small CHECK (VALUE < 1000000) NOT VALID;
CREATE TYPE {SCHEMA}.base;
CREATE FUNCTION {SCHEMA}.base_in(cstring) RETURNS {SCHEMA}.base
    LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION {SCHEMA}.base_out({SCHEMA}.base) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE {SCHEMA}.base (INPUT = {SCHEMA}.base_in, OUTPUT = {SCHEMA}.base_out, LIKE = integer);
CREATE FUNCTION {SCHEMA}.add(a integer, b integer) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE PROCEDURE {SCHEMA}.noop() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE AGGREGATE {SCHEMA}.total(integer) (SFUNC = int4pl, STYPE = integer);
CREATE FUNCTION {SCHEMA}.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE FUNCTION {SCHEMA}.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
CREATE EVENT TRIGGER {SCHEMA}_ddl ON ddl_command_end EXECUTE FUNCTION {SCHEMA}.on_ddl();
CREATE OPERATOR {SCHEMA}.=== (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int4eq);
CREATE OPERATOR FAMILY {SCHEMA}.fam USING btree;
CREATE OPERATOR CLASS {SCHEMA}.cls FOR TYPE integer USING btree FAMILY {SCHEMA}.fam AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 btint4cmp(integer, integer);
CREATE CAST ({SCHEMA}.pair AS text) WITH INOUT;
CREATE CONVERSION {SCHEMA}.conv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
CREATE TEXT SEARCH PARSER {SCHEMA}.prs (START = prsd_start, GETTOKEN = prsd_nexttoken,
    END = prsd_end, LEXTYPES = prsd_lextype);
CREATE TEXT SEARCH TEMPLATE {SCHEMA}.tmpl (LEXIZE = dsimple_lexize);
CREATE TEXT SEARCH DICTIONARY {SCHEMA}.dict (TEMPLATE = simple, STOPWORDS = english);
CREATE TEXT SEARCH CONFIGURATION {SCHEMA}.cfg (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {SCHEMA}.cfg ALTER MAPPING FOR word WITH {SCHEMA}.dict;
CREATE ACCESS METHOD {SCHEMA}_am TYPE TABLE HANDLER heap_tableam_handler;
CREATE FUNCTION {SCHEMA}.pair_from_sql(internal) RETURNS internal
    LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE FUNCTION {SCHEMA}.pair_to_sql(internal) RETURNS {SCHEMA}.pair
    LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
CREATE TRANSFORM FOR {SCHEMA}.pair LANGUAGE plpgsql (
    FROM SQL WITH FUNCTION {SCHEMA}.pair_from_sql(internal),
    TO SQL WITH FUNCTION {SCHEMA}.pair_to_sql(internal));
CREATE FUNCTION {SCHEMA}.pl_handler() RETURNS language_handler
    LANGUAGE internal AS 'fmgr_sql_validator';
CREATE TRUSTED LANGUAGE {SCHEMA}_pl HANDLER {SCHEMA}.pl_handler;
CREATE FOREIGN DATA WRAPPER {SCHEMA}_fdw OPTIONS (debug 'true');
CREATE SERVER {SCHEMA}_srv FOREIGN DATA WRAPPER {SCHEMA}_fdw
    OPTIONS (host 'db.example', dbname 'remote', password '{SRV_PASSWORD}');
CREATE USER MAPPING FOR {reader} SERVER {SCHEMA}_srv
    OPTIONS (user 'remote_user', password '{UM_PASSWORD}');
CREATE FOREIGN TABLE {SCHEMA}.ft (id integer OPTIONS (column_name 'remote_id'))
    SERVER {SCHEMA}_srv OPTIONS (table_name 'remote');
CREATE TABLE {SCHEMA}.parent (id integer GENERATED ALWAYS AS IDENTITY, region text NOT NULL,
    body text COLLATE {SCHEMA}.c_copy, mood {SCHEMA}.mood, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE {SCHEMA}.parent_eu PARTITION OF {SCHEMA}.parent FOR VALUES IN ('eu');
CREATE TABLE {SCHEMA}.items (id serial PRIMARY KEY, parent_id integer, region text,
    qty {SCHEMA}.posint DEFAULT 1, note text DEFAULT '{DEFAULT_TOKEN}', amount {SCHEMA}.base,
    FOREIGN KEY (parent_id, region) REFERENCES {SCHEMA}.parent, CHECK (qty < 100),
    EXCLUDE USING btree (note WITH =));
ALTER TABLE {SCHEMA}.items ADD CONSTRAINT items_note_check CHECK (note <> '') NOT VALID;
ALTER TABLE {SCHEMA}.items ALTER COLUMN note SET STATISTICS 500;
ALTER TABLE {SCHEMA}.items ALTER COLUMN note SET STORAGE EXTERNAL;
CREATE INDEX items_lower_note ON {SCHEMA}.items (lower(note));
ALTER TABLE {SCHEMA}.items CLUSTER ON items_lower_note;
ALTER TABLE {SCHEMA}.items REPLICA IDENTITY FULL;
CREATE STATISTICS {SCHEMA}.items_stats (dependencies) ON parent_id, region FROM {SCHEMA}.items;
CREATE RULE items_rule AS ON DELETE TO {SCHEMA}.items DO INSTEAD NOTHING;
CREATE TRIGGER items_trg BEFORE INSERT ON {SCHEMA}.items
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.trg();
ALTER TABLE {SCHEMA}.items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_pol ON {SCHEMA}.items USING (qty > 0);
CREATE TABLE {SCHEMA}.items_archive () INHERITS ({SCHEMA}.items);
CREATE TABLE {SCHEMA}.heap2 (id integer) USING {SCHEMA}_am;
CREATE VIEW {SCHEMA}.v AS SELECT id, note FROM {SCHEMA}.items;
CREATE MATERIALIZED VIEW {SCHEMA}.mv AS SELECT id FROM {SCHEMA}.items;
CREATE SEQUENCE {SCHEMA}.seq;
CREATE PUBLICATION {SCHEMA}_pub FOR TABLE {SCHEMA}.items;
{per_schema_publication}
GRANT USAGE ON SCHEMA {SCHEMA} TO {reader};
GRANT SELECT ON {SCHEMA}.items TO {reader};
GRANT UPDATE (note) ON {SCHEMA}.items TO {reader};
GRANT USAGE ON SEQUENCE {SCHEMA}.seq TO {reader};
REVOKE EXECUTE ON FUNCTION {SCHEMA}.add(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {SCHEMA}.add(integer, integer) TO {reader};
REVOKE USAGE ON TYPE {SCHEMA}.mood FROM PUBLIC;
GRANT USAGE ON FOREIGN SERVER {SCHEMA}_srv TO {reader};
GRANT USAGE ON FOREIGN DATA WRAPPER {SCHEMA}_fdw TO {reader};
GRANT USAGE ON LANGUAGE {SCHEMA}_pl TO {reader};
ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT SELECT ON TABLES TO {reader};
COMMENT ON TABLE {SCHEMA}.items IS 'items';
COMMENT ON COLUMN {SCHEMA}.items.note IS 'a note, see {COMMENT_TOKEN}';
COMMENT ON FUNCTION {SCHEMA}.add(integer, integer) IS 'adds';
COMMENT ON COLLATION {SCHEMA}.c_copy IS 'c';
COMMENT ON INDEX {SCHEMA}.items_lower_note IS 'idx';
COMMENT ON CONSTRAINT items_qty_check ON {SCHEMA}.items IS 'chk';
COMMENT ON CONSTRAINT posint_check ON DOMAIN {SCHEMA}.posint IS 'domain chk';
COMMENT ON TRIGGER items_trg ON {SCHEMA}.items IS 'trg';
COMMENT ON POLICY items_pol ON {SCHEMA}.items IS 'pol';
COMMENT ON RULE items_rule ON {SCHEMA}.items IS 'rule';
COMMENT ON SEQUENCE {SCHEMA}.seq IS 'seq';
COMMENT ON VIEW {SCHEMA}.v IS 'view';
COMMENT ON TYPE {SCHEMA}.mood IS 'mood';
COMMENT ON DOMAIN {SCHEMA}.posint IS 'posint';
COMMENT ON PUBLICATION {SCHEMA}_pub IS 'pub';
COMMENT ON EVENT TRIGGER {SCHEMA}_ddl IS 'evt';
COMMENT ON SERVER {SCHEMA}_srv IS 'srv';
COMMENT ON FOREIGN DATA WRAPPER {SCHEMA}_fdw IS 'fdw';
COMMENT ON TEXT SEARCH CONFIGURATION {SCHEMA}.cfg IS 'cfg';
COMMENT ON TEXT SEARCH DICTIONARY {SCHEMA}.dict IS 'dict';
COMMENT ON TEXT SEARCH PARSER {SCHEMA}.prs IS 'prs';
COMMENT ON TEXT SEARCH TEMPLATE {SCHEMA}.tmpl IS 'tmpl';
COMMENT ON OPERATOR {SCHEMA}.=== (integer, integer) IS 'op';
COMMENT ON OPERATOR CLASS {SCHEMA}.cls USING btree IS 'cls';
COMMENT ON OPERATOR FAMILY {SCHEMA}.fam USING btree IS 'fam';
COMMENT ON CAST ({SCHEMA}.pair AS text) IS 'cast';
COMMENT ON CONVERSION {SCHEMA}.conv IS 'conv';
COMMENT ON TRANSFORM FOR {SCHEMA}.pair LANGUAGE plpgsql IS 'transform';
COMMENT ON STATISTICS {SCHEMA}.items_stats IS 'st';
COMMENT ON LANGUAGE {SCHEMA}_pl IS 'pl';
COMMENT ON ACCESS METHOD {SCHEMA}_am IS 'am';
COMMENT ON FOREIGN TABLE {SCHEMA}.ft IS 'ft';
COMMENT ON MATERIALIZED VIEW {SCHEMA}.mv IS 'mv';
COMMENT ON PROCEDURE {SCHEMA}.noop() IS 'noop';
COMMENT ON AGGREGATE {SCHEMA}.total(integer) IS 'total';
"""


@dataclass
class EveryKind:
    server: PgServer
    dsn: str
    dbname: str
    reader: str


@contextmanager
def every_kind_database(server: PgServer) -> Iterator[EveryKind]:
    """A fresh database holding every kind (needs a superuser: languages, casts, base
    types, subscriptions); its role and subscription are removed afterwards."""
    reader = f"kinds_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {reader} NOLOGIN".encode())
    try:
        with fresh_database(server.dsn, prefix="repro_kinds") as dsn:
            name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(every_kind_sql(server.major, reader).encode())
                # CREATE SUBSCRIPTION may not run in a transaction block: on its own.
                conn.execute(
                    f"CREATE SUBSCRIPTION {SCHEMA}_sub CONNECTION 'host=db.example dbname=remote "
                    f"password={SUB_PASSWORD}' PUBLICATION p "
                    "WITH (connect = false, slot_name = NONE, enabled = false)".encode()
                )
            try:
                yield EveryKind(server, dsn, str(name), reader)
            finally:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    # Without a slot, dropping it touches no remote server.
                    conn.execute(f"DROP SUBSCRIPTION {SCHEMA}_sub".encode())
                    conn.execute(f"DROP OWNED BY {reader}".encode())
    finally:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {reader}".encode())


@dataclass(frozen=True)
class TocEntry:
    """One line of ``pg_restore -l``: what pg_dump emits, by kind."""

    desc: str  # the kind: TABLE, FK CONSTRAINT, COMMENT...
    namespace: str | None
    tag: str  # the object: "items", "items items_pkey", "COLUMN items.note"...

    def __str__(self) -> str:
        return f"{self.desc} {self.namespace or '-'} {self.tag}"


def parse_toc(listing: str, owner: str, descs: list[str]) -> list[TocEntry]:
    """``pg_restore -l`` lines (``id; catalog oid DESC NAMESPACE TAG OWNER``): the kind is
    the longest of ``descs`` that starts the rest (kinds have spaces); an unknown kind is
    returned whole as its first word(s), so the caller can name it."""
    entries = []
    for line in listing.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        rest = line.split(" ", 3)[3]
        desc = next(
            (d for d in sorted(descs, key=len, reverse=True) if rest.startswith(d + " ")),
            rest.split(" ")[0],
        )
        tail = rest[len(desc) + 1 :].rstrip()
        namespace, _, tag = tail.partition(" ")
        if tag.endswith(" " + owner):
            tag = tag[: -len(owner) - 1]
        entries.append(TocEntry(desc, None if namespace == "-" else namespace, tag.strip()))
    return entries
