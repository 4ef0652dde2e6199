"""``repro data scan`` + ``anonymize`` + ``verify`` on the shapes real schemas have, on
PostgreSQL 13, 15 and 17 (written here after what the public schemas of
``../shared/corpus`` hold; none of their text is copied):

- unique indexes that are not constraints: on an expression (``lower(email)``, and
  ``lower(code)`` with masked codes that would collide once lowered), partial
  (``WHERE deleted_at IS NULL``), plain;
- a foreign key ``NOT VALID`` in production, with rows older than it that break it;
- containers of personal values: ``inet[]``, ``text[]`` of emails, ``jsonb`` with personal
  keys (nested, in arrays), ``hstore``;
- person-role names: ``card_holder``, ``cardHolderName``, ``BENEFICIARY``, ``recipient``;
- values from the generator's own pools (as a source made by ``data generate`` has): fake
  names and cities coincide with other rows' (information), fake emails must not.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.mask.anonymize import AnonymizeOptions, AnonymizeReport, anonymize
from repro.mask.containers import parse_array, parse_hstore, render_array, render_hstore
from repro.mask.scan import scan
from repro.mask.verify import COMMON_CHECK, LEAK_CHECK
from repro.pg.meaning import text_value
from repro.redaction import RedactionKey, Redactor
from tests.helpers.cli import run_repro
from tests.helpers.pg import PgServer, fresh_database

SCHEMA_SQL = """
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    username text NOT NULL,
    full_name text NOT NULL,
    city text,
    code text NOT NULL,
    deleted_at timestamptz,
    api_token text,
    handle text NOT NULL UNIQUE
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));
CREATE UNIQUE INDEX accounts_code_lower ON accounts (lower(code));
CREATE UNIQUE INDEX accounts_username_live ON accounts (username) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX accounts_token ON accounts (api_token);
CREATE TABLE payments (
    id bigint PRIMARY KEY,
    account_id bigint,
    card_holder text NOT NULL,
    "cardHolderName" text,
    "BENEFICIARY" text,
    recipient text,
    recipient_type text NOT NULL,
    placeholder text,
    amount numeric(10,2) NOT NULL,
    payer_handle text
);
CREATE TABLE devices (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts,
    login_ips inet[],
    cc_emails text[],
    tags text[],
    profile jsonb,
    settings jsonb NOT NULL DEFAULT '{}',
    attrs hstore
);
"""
# Added after the rows: production added the key when old payments already pointed at
# deleted accounts, and never validated it.
NOT_VALID_KEYS = (
    "ALTER TABLE payments ADD CONSTRAINT payments_account_fk FOREIGN KEY (account_id) "
    "REFERENCES accounts NOT VALID",
    # masked through the key (accounts.handle is): its orphans are masked the same way
    "ALTER TABLE payments ADD CONSTRAINT payments_payer_fk FOREIGN KEY (payer_handle) "
    "REFERENCES accounts (handle) NOT VALID",
)
ACCOUNTS = 1500
# Names outside Faker's lists: the values cannot vouch for them, the column names must.
HOLDERS = ["Oluwaseun Adebayo", "Xiadani Quispe", "Thandiwe Nkosi", "Eero Väänänen", "Bjørn Ås"]


def email(k: int) -> str:
    """The generator's own emails (first.last@example.com): a source made by data
    generate; every tenth starts upper-case (the lower() index still holds them unique)."""
    value = text_value("email", k * 7, 0)
    return value.capitalize() if k % 10 == 0 else value


def handle(k: int) -> str:
    """The generator's own usernames: what fake:username makes too."""
    return text_value("username", k * 3, 0)


def populate(conn: psycopg.Connection[Any]) -> list[str]:
    """The schema and its rows; returns every email and orphan handle planted."""
    rng = random.Random(13)
    conn.execute(SCHEMA_SQL)
    emails = [email(k) for k in range(ACCOUNTS)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    codes: dict[str, str] = {}
    while len(codes) < ACCOUNTS:  # 3 characters, unique once lowered: a dense space
        code = rng.choice(letters) + rng.choice(letters) + rng.choice("0123456789")
        code = "".join(c.upper() if rng.random() < 0.5 else c for c in code)
        codes.setdefault(code.lower(), code)
    planted = list(emails)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    i,
                    emails[i],
                    f"user{i // 2}",  # pairs share a name; one of each pair is deleted
                    text_value("full_name", rng.randrange(0, 5000), 0),
                    text_value("city", rng.randrange(0, 256), 0) if i % 9 else None,
                    code,
                    "2024-01-01" if i % 2 else None,
                    f"tok_{rng.getrandbits(96):024x}" if i % 3 else None,
                    handle(i),
                )
                for i, code in enumerate(codes.values())
            ],
        )
        payments = []
        for i in range(2000):
            recipient = emails[rng.randrange(ACCOUNTS)]
            payments.append(
                (
                    i,
                    ACCOUNTS + i if i % 20 == 0 else rng.randrange(ACCOUNTS),  # orphans
                    rng.choice(HOLDERS),
                    rng.choice(HOLDERS) if i % 4 else None,
                    rng.choice(HOLDERS),
                    recipient,
                    rng.choice(["person", "company"]),
                    rng.choice(["e.g. 1234", "your name", ""]),
                    rng.randrange(100, 100_000) / 100,
                    handle(ACCOUNTS + i) if i % 25 == 0 else handle(rng.randrange(ACCOUNTS)),
                )
            )
        planted += [handle(ACCOUNTS + i) for i in range(0, 2000, 25)]
        cur.executemany(
            "INSERT INTO payments VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", payments
        )
        devices = []
        for i in range(1200):
            cc = [emails[rng.randrange(ACCOUNTS)] for _ in range(i % 3)]
            planted += cc
            owner = emails[i % ACCOUNTS]
            profile = {
                "name": text_value("full_name", i, 0),
                "contact": {"email": owner, "mobile_phone": f"+49 151 {5550000 + i}"},
                "addresses": [{"street": f"{i} Main Street", "city": "Springfield"}],
                "theme": rng.choice(["dark", "light"]),
                "beta": i % 2 == 0,
            }
            devices.append(
                (
                    i,
                    i % ACCOUNTS,
                    [f"192.0.2.{i % 250}", f"2001:db8::{i:x}"] if i % 5 else None,
                    cc,
                    ["mobile", "tablet"][: 1 + i % 2],
                    json.dumps(profile),
                    json.dumps({"per_page": 20 + i % 3, "lang": "en"}),
                    f'"email"=>"{owner}", "plan"=>"{["free", "pro"][i % 2]}"',
                )
            )
        cur.executemany("INSERT INTO devices VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", devices)
    for statement in NOT_VALID_KEYS:
        conn.execute(statement)
    conn.execute("ANALYZE")
    return planted


def redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"shapes-test", "test"))


@pytest.fixture(scope="module")
def source(postgres_any: PgServer) -> Iterator[tuple[PgServer, str, list[str]]]:
    with fresh_database(postgres_any.dsn, prefix="shapes_src") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            planted = populate(conn)
        yield postgres_any, dsn, planted


@pytest.fixture
def rules_file(
    source: tuple[PgServer, str, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The scan's own rules file, plus ``mask`` on the codes (the lower() index case)."""
    monkeypatch.setenv("REPRO_TEST_ANON_KEY", "shapes-key-Qw81Zx")
    with psycopg.connect(source[1]) as conn:
        from repro.mask.scan import rules_yaml

        text = rules_yaml(scan(conn), key_env="REPRO_TEST_ANON_KEY")
    data = yaml.safe_load(text)
    data["tables"]["public.accounts"]["columns"]["code"] = "mask"
    data["tables"]["public.accounts"]["columns"]["handle"] = "fake:username"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def findings(dsn: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        result = scan(conn)
    return {f"{f.table}.{f.column}": (f.kind, f.suggested) for f in result.findings}


def test_scan_finds_person_roles_and_personal_values_inside_containers(
    source: tuple[PgServer, str, list[str]],
) -> None:
    found = findings(source[1])
    for column in ("card_holder", "cardHolderName", "BENEFICIARY"):
        assert found[f"public.payments.{column}"] == ("full_name", "fake:full_name"), column
    assert found["public.payments.recipient"] == ("email", "fake:email")
    assert found["public.devices.login_ips"] == ("ip", "fake:ip")  # each address of the array
    assert found["public.devices.cc_emails"] == ("email", "fake:email")
    kind, spec = found["public.devices.profile"]
    assert kind == "personal_keys" and spec.startswith("keys:")
    keys = json.loads(spec.removeprefix("keys:"))
    assert keys["email"] == "fake:email" and keys["name"] == "fake:full_name"
    assert keys["mobile_phone"] == "mask:keep_last=2" and keys["street"] == "fake:street"
    assert "theme" not in keys and "beta" not in keys
    assert found["public.devices.attrs"] == ("personal_keys", 'keys:{"email": "fake:email"}')
    for absent in (
        "public.payments.recipient_type",
        "public.payments.placeholder",
        "public.payments.account_id",
        "public.devices.tags",
        "public.devices.settings",
    ):
        assert absent not in found, absent


def run(source: str, target: str, rules: Path) -> AnonymizeReport:
    return anonymize(AnonymizeOptions(source=source, target=target, rules=str(rules)), redactor())


def query(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


UNIQUE_INDEXES = """
SELECT c.relname, regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', ''),
       i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indisunique AND c.relname LIKE 'accounts%' ORDER BY 1
"""


def test_masked_copy_keeps_unique_indexes_not_valid_keys_and_container_shapes(
    source: tuple[PgServer, str, list[str]], rules_file: Path
) -> None:
    server, dsn, planted = source
    with fresh_database(server.dsn, prefix="shapes_dst") as target:
        report = run(dsn, target, rules_file)
        verification = report.verification
        assert verification is not None and verification.ok, verification.to_json()
        checks = {c.name: c for c in verification.checks}
        assert checks[LEAK_CHECK].detail == "none found"
        # names and cities come from the same pools as the source's: information only
        assert checks[COMMON_CHECK].info and "public.accounts.full_name" in (
            checks[COMMON_CHECK].detail
        )
        assert "2 NOT VALID in the source" in checks["foreign keys hold"].detail
        assert "unique index" in checks["unique keys hold"].detail
        # the unique indexes, as the source has them (expression, partial, plain)
        assert query(target, UNIQUE_INDEXES) == query(dsn, UNIQUE_INDEXES)
        assert len(query(target, UNIQUE_INDEXES)) == 6  # pkey, handle and the four above
        # the key stays NOT VALID, with its orphans
        keys = "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY 1"
        assert query(target, keys) == query(dsn, keys)
        assert ("payments_payer_fk", False) in query(target, keys)
        orphans = (
            "SELECT count(*) FROM payments p WHERE NOT EXISTS "
            "(SELECT 1 FROM accounts a WHERE a.id = p.account_id)"
        )
        assert query(target, orphans) == query(dsn, orphans) == [(100,)]
        # no planted email anywhere: columns, array elements, JSON values, hstore values
        dump = "\n".join(
            str(row[0])
            for table in ("accounts", "payments", "devices")
            for row in query(target, f"SELECT t::text FROM {table} t")
        )
        tokens = {t.lower() for t in re.findall(r'[^\s,(){}\[\]"=>\\]+', dump)}
        leaked = [value for value in set(planted) if value.lower() in tokens]
        handles = "SELECT count(*) FROM payments p JOIN accounts a ON a.handle = p.payer_handle"
        assert query(target, handles) == query(dsn, handles)  # joins through the key hold
        assert leaked == []
        assert not any(holder in dump for holder in HOLDERS)
        assert "192.0.2." not in dump and "2001:db8::" not in dump
        # the containers keep their shape
        before = dict(query(dsn, "SELECT id, cc_emails::text FROM devices"))
        after = dict(query(target, "SELECT id, cc_emails::text FROM devices"))
        assert {i: len(parse_array(v)[1]) for i, v in before.items()} == {
            i: len(parse_array(v)[1]) for i, v in after.items()
        }
        profiles = query(target, "SELECT profile, settings, attrs::text FROM devices")
        for profile, settings, attrs in profiles:
            assert set(profile) == {"name", "contact", "addresses", "theme", "beta"}
            assert profile["theme"] in ("dark", "light") and isinstance(profile["beta"], bool)
            assert profile["contact"]["mobile_phone"].startswith("+")
            assert set(settings) == {"per_page", "lang"}
            assert dict(parse_hstore(attrs))["plan"] in ("free", "pro")
        # natural joins on masked emails survive inside containers too
        join = (
            "SELECT count(*) FROM devices d JOIN accounts a "
            "ON a.email = d.profile->'contact'->>'email'"
        )
        assert query(target, join) == query(dsn, join)


def test_verify_command_judges_containers_leaf_by_leaf(
    source: tuple[PgServer, str, list[str]], rules_file: Path, tmp_path: Path
) -> None:
    server, dsn, _ = source
    with fresh_database(server.dsn, prefix="shapes_cli") as target:
        run(dsn, target, rules_file)
        checked = run_repro(
            "data", "verify", "--from", dsn, "--to", target, "--rules", str(rules_file), "--json"
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        result = json.loads(checked.stdout)
        info = [c for c in result["checks"] if c.get("info")]
        assert [c["check"] for c in info] == [COMMON_CHECK]
        # a copy whose arrays kept their emails: verify finds them element by element
        with psycopg.connect(target, autocommit=True) as conn:
            rows = query(dsn, "SELECT id, cc_emails FROM devices")
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE devices SET cc_emails = %s WHERE id = %s",
                    [(emails, i) for i, emails in rows],
                )
        leaky = run_repro(
            "data", "verify", "--from", dsn, "--to", target, "--rules", str(rules_file)
        )
        assert leaky.returncode == 1, leaky.stdout + leaky.stderr
        assert "public.devices.cc_emails" in leaky.stdout and "FAILED" in leaky.stdout
        assert "example.com" not in leaky.stdout + leaky.stderr


# ------------------------------------------------------------------------------ hostile text

# PostgreSQL text cannot hold NUL (nor UTF-8 surrogates); anything else may be in a value.
HOSTILE = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
    max_size=16,
)


@pytest.fixture(scope="module")
def hstore_db(postgres_15: PgServer) -> Iterator[str]:
    with fresh_database(postgres_15.dsn, prefix="hstore") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION hstore")
        yield dsn


@given(items=st.lists(st.one_of(st.none(), HOSTILE), max_size=6))
@settings(max_examples=150, deadline=None)
def test_arrays_round_trip_through_postgres(items: list[str | None], hstore_db: str) -> None:
    """What PostgreSQL writes we read back element for element, and what we write it reads
    back the same: a value masked inside an array never changes the array around it."""
    with psycopg.connect(hstore_db) as conn:
        row = conn.execute("SELECT %s::text[]::text", (items,)).fetchone()
        assert row is not None
        assert parse_array(row[0]) == ("", items)
        back = conn.execute("SELECT %s::text::text[]", (render_array("", items),)).fetchone()
        assert back is not None and back[0] == items


@given(pairs=st.lists(st.tuples(HOSTILE, st.one_of(st.none(), HOSTILE)), max_size=5))
@settings(max_examples=100, deadline=None)
def test_hstore_round_trips_through_postgres(
    pairs: list[tuple[str, str | None]], hstore_db: str
) -> None:
    unique = list(dict(pairs).items())  # hstore keeps one value a key
    with psycopg.connect(hstore_db) as conn:
        row = conn.execute("SELECT %s::text::hstore::text", (render_hstore(unique),)).fetchone()
        assert row is not None
        assert sorted(parse_hstore(row[0]), key=str) == sorted(unique, key=str)


def test_verify_against_a_database_that_is_no_copy_is_one_line(
    source: tuple[PgServer, str, list[str]], rules_file: Path
) -> None:
    server, dsn, _ = source
    with fresh_database(server.dsn, prefix="shapes_empty") as empty:
        checked = run_repro(
            "data", "verify", "--from", dsn, "--to", empty, "--rules", str(rules_file)
        )
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert checked.stderr.count("\n") == 1 and "Traceback" not in checked.stderr
    assert "the target lacks what the rules mask in the source: table public.accounts" in (
        checked.stderr
    )
