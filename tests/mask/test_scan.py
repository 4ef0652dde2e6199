"""``repro data scan`` on real PostgreSQL 15: obvious and sneaky personal columns are found,
look-alikes are not, and no sampled value ever reaches the output."""

from __future__ import annotations

import json
import os
import random
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from faker import Faker

from repro.mask import scan as scan_module
from repro.mask.detectors import classify_text, luhn_ok
from repro.mask.rules_file import load_rules
from repro.mask.scan import ScanResult, rules_yaml, scan
from repro.pg.meaning import FIRST_NAMES, LAST_NAMES
from tests.helpers.cli import run_repro
from tests.helpers.pg import PgServer, fresh_database

TODAY = date(2026, 6, 1)

SCHEMA_SQL = """
CREATE SCHEMA shop;
CREATE SCHEMA other;
CREATE TYPE shop.order_state AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE shop.customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL,
    phone varchar(40),
    birth_date date,
    client_ip inet,
    contact text,            -- emails under a neutral name
    ref text,                -- card numbers (Luhn-valid)
    data text,               -- US SSNs
    note text,               -- free text
    addr text NOT NULL,      -- street addresses
    label text,              -- person names
    payout text,             -- IBANs
    origin text,             -- IPv4 and IPv6 addresses
    callback text,           -- phone numbers
    d1 date,                 -- dates of birth under a meaningless name
    address_id bigint,       -- an id, not an address
    comment_count integer NOT NULL DEFAULT 0,
    is_vip boolean NOT NULL DEFAULT false
);
CREATE TABLE shop.orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers,
    order_no text NOT NULL UNIQUE,   -- 16 digits failing Luhn
    order_num bigint NOT NULL,       -- the same, as numbers
    status text NOT NULL,
    state shop.order_state NOT NULL,
    sku varchar(20) NOT NULL,
    product_name text NOT NULL,
    created_at timestamptz NOT NULL,
    signup_date date NOT NULL,
    amount numeric(12,2) NOT NULL,
    country char(2) NOT NULL,
    currency text NOT NULL,
    tracking text NOT NULL,
    version text NOT NULL,
    external_id uuid NOT NULL
);
CREATE TABLE shop.events (
    id bigint NOT NULL,
    day date NOT NULL,
    kind text NOT NULL,
    seen_from text,           -- IP addresses, in a partitioned table
    PRIMARY KEY (id, day)
) PARTITION BY RANGE (day);
CREATE TABLE shop.events_2025 PARTITION OF shop.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.events_2026 PARTITION OF shop.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE other.leads (id integer PRIMARY KEY, email text);
"""

# Planted values: none may appear in any output.
CANARY_EMAIL = "zq.canary.leak7@canary-leak.example"
CANARY_NAME = "Margarette Zieme"
CANARY_SSN = "219-09-9999"
CANARY_CARD = "4929 1837 2245 0016"
CANARIES = (CANARY_EMAIL, CANARY_NAME, CANARY_SSN, CANARY_CARD, "4929183722450016")

EXPECTED = {
    # column: (kind, confidence, suggested)
    "shop.customers.email": ("email", "high", "fake:email"),
    "shop.customers.full_name": ("full_name", "high", "fake:full_name"),
    "shop.customers.phone": ("phone", "high", "mask:keep_last=2"),
    "shop.customers.birth_date": ("birth_date", "high", "shift_date:180"),
    "shop.customers.client_ip": ("ip", "high", "fake:ip"),
    "shop.customers.contact": ("email", "high", "fake:email"),
    "shop.customers.ref": ("card", "high", "fake:card"),
    "shop.customers.data": ("national_id", "high", "fake:ssn"),
    "shop.customers.note": ("free_text", "high", "null"),
    "shop.customers.addr": ("street", "high", "fake:street"),
    "shop.customers.label": ("full_name", "medium", "fake:full_name"),
    "shop.customers.payout": ("iban", "high", "fake:iban"),
    "shop.customers.origin": ("ip", "high", "fake:ip"),
    "shop.customers.callback": ("phone", "high", "mask:keep_last=2"),
    "shop.customers.d1": ("birth_date", "medium", "shift_date:180"),
    "shop.events.seen_from": ("ip", "high", "fake:ip"),
    "other.leads.email": ("email", "high", "fake:email"),
}


def luhn_fix(digits: str, valid: bool) -> str:
    """``digits`` with its last digit changed so the Luhn check passes (or fails)."""
    for last in "0123456789":
        candidate = digits[:-1] + last
        if luhn_ok(candidate) == valid:
            return candidate
    raise AssertionError("unreachable")


def populate(conn: psycopg.Connection[Any]) -> None:
    fake = Faker("en_US")
    fake.seed_instance(20260601)
    rng = random.Random(7)
    conn.execute(SCHEMA_SQL)
    customers = []
    for i in range(1, 301):
        canary = i == 17
        card = luhn_fix(str(rng.randrange(4 * 10**15, 5 * 10**15)), True)
        if i % 2:
            card = " ".join(card[k : k + 4] for k in range(0, 16, 4))
        customers.append(
            (
                CANARY_EMAIL if canary else f"{i}.{fake.email()}",
                CANARY_NAME if canary else fake.name(),
                fake.phone_number() if i % 5 else None,
                date(1940, 1, 1) + timedelta(days=rng.randrange(0, 25000)),
                f"10.{i % 250}.{i // 250}.{i % 7 + 1}",
                CANARY_EMAIL if canary else (fake.email() if i % 4 else None),
                CANARY_CARD if canary else card,
                CANARY_SSN if canary else fake.ssn(),
                fake.paragraph(nb_sentences=3) if i % 3 else None,
                fake.street_address(),
                CANARY_NAME if canary else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                fake.iban(),
                fake.ipv4() if i % 2 else fake.ipv6(),
                f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                date(1935, 1, 1) + timedelta(days=rng.randrange(0, 27000)),
                rng.randrange(1, 10_000),
                rng.randrange(0, 50),
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO shop.customers (email, full_name, phone, birth_date, client_ip, "
            "contact, ref, data, note, addr, label, payout, origin, callback, d1, address_id, "
            "comment_count) VALUES (" + ", ".join(["%s"] * 17) + ")",
            customers,
        )
        orders = []
        start = datetime(2024, 1, 1, tzinfo=UTC)
        for i in range(1, 1201):
            number = luhn_fix(str(rng.randrange(10**15, 10**16)), False)
            orders.append(
                (
                    i,
                    1 + i % 300,
                    number,
                    int(luhn_fix(str(rng.randrange(10**15, 10**16)), False)),
                    rng.choice(["new", "paid", "shipped", "cancelled", "refunded"]),
                    rng.choice(["new", "paid", "shipped"]),
                    f"SKU-{rng.randrange(10000, 99999)}-{rng.choice(['AB', 'XY', 'QZ'])}",
                    f"{fake.word().title()} {rng.choice(['Pro', 'Mini', 'Max'])} {i % 40}",
                    start + timedelta(minutes=rng.randrange(0, 900_000)),
                    date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1000)),
                    rng.randrange(100, 1_000_000) / 100,
                    rng.choice(["US", "DE", "FR", "GB", "NL"]),
                    rng.choice(["USD", "EUR", "GBP"]),
                    "1Z"
                    + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXY") for _ in range(16)),
                    f"{rng.randrange(1, 4)}.{rng.randrange(0, 20)}.{rng.randrange(0, 9)}",
                    fake.uuid4(),
                )
            )
        cur.executemany(
            "INSERT INTO shop.orders VALUES (" + ", ".join(["%s"] * 16) + ")",
            orders,
        )
        cur.executemany(
            "INSERT INTO shop.events VALUES (%s, %s, %s, %s)",
            [
                (
                    i,
                    date(2025, 1, 1) + timedelta(days=i % 500),
                    rng.choice(["login", "view", "purchase"]),
                    fake.ipv4(),
                )
                for i in range(600)
            ],
        )
        cur.executemany(
            "INSERT INTO other.leads VALUES (%s, %s)", [(i, fake.email()) for i in range(20)]
        )
    conn.execute("ANALYZE")


@pytest.fixture(scope="module")
def shop(postgres_15: PgServer) -> Iterator[tuple[PgServer, str]]:
    with fresh_database(postgres_15.dsn, prefix="scan_src") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            populate(conn)
        yield postgres_15, dsn


def run_scan(dsn: str, **kwargs: Any) -> ScanResult:
    with psycopg.connect(dsn) as conn:
        return scan(conn, today=TODAY, **kwargs)


def found(result: ScanResult) -> dict[str, tuple[str, str, str]]:
    return {f"{f.table}.{f.column}": (f.kind, f.confidence, f.suggested) for f in result.findings}


def test_exact_findings_and_no_false_positives(shop: tuple[PgServer, str]) -> None:
    result = run_scan(shop[1])
    assert found(result) == EXPECTED
    # partitions are scanned through their parent only
    assert result.tables == ["other.leads", "shop.customers", "shop.events", "shop.orders"]
    assert result.columns_scanned == 19 + 16 + 4 + 2
    assert result.rows_sampled == 300 + 1000 + 600 + 20
    assert result.notes == []
    by_column = {f.column: f for f in result.findings}
    assert by_column["email"].unique and not by_column["email"].nullable
    assert by_column["contact"].nullable and not by_column["contact"].unique
    assert "Luhn" in by_column["ref"].reason and "%" in by_column["ref"].reason
    assert by_column["client_ip"].type == "inet"


def test_schema_filter_and_names_only(shop: tuple[PgServer, str]) -> None:
    only_other = run_scan(shop[1], schemas=["other"])
    assert found(only_other) == {"other.leads.email": ("email", "high", "fake:email")}
    names_only = run_scan(shop[1], sample=0)
    assert names_only.rows_sampled == 0
    # without values only names and types speak: the sneaky columns go unseen
    assert set(found(names_only)) == {
        "shop.customers.email",
        "shop.customers.full_name",
        "shop.customers.phone",
        "shop.customers.birth_date",
        "shop.customers.client_ip",
        "shop.customers.contact",
        "shop.customers.note",
        "shop.customers.addr",
        "other.leads.email",
    }


def test_big_tables_are_sampled_with_tablesample(
    shop: tuple[PgServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "LARGE_TABLE", 100)
    statements: list[str] = []
    with psycopg.connect(shop[1]) as conn:
        real_execute = conn.execute

        def spy(query: Any, *args: Any, **kwargs: Any) -> Any:
            text = query if isinstance(query, str) else query.as_string(conn)
            statements.append(text)
            return real_execute(query, *args, **kwargs)

        monkeypatch.setattr(conn, "execute", spy)
        result = scan(conn, today=TODAY, sample=200)
        # the scan leaves no transaction open and changed nothing
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert found(result) == EXPECTED
    assert any("TABLESAMPLE SYSTEM" in s and '"orders"' in s for s in statements)
    assert any("SET TRANSACTION READ ONLY" in s for s in statements)
    assert any("statement_timeout = '10s'" in s for s in statements)
    # one sample query per table
    samples = [s for s in statements if s.lstrip().startswith("SELECT left(")]
    assert len(samples) == 4


def test_detectors_on_literals() -> None:
    assert classify_text("4111 1111 1111 1111") == "card"
    assert classify_text("4111111111111112") is None  # fails Luhn: an order number
    assert classify_text("DE89 3704 0044 0532 0130 00") == "iban"
    assert classify_text("DE89 3704 0044 0532 0130 01") is None  # fails mod 97
    assert classify_text("078-05-1120") == "national_id"
    assert classify_text("666-05-1120") is None
    assert classify_text("2001:db8::1") == "ip"
    assert classify_text("+44 20 7946 0958") == "phone"
    assert classify_text("555.123.4567 x12") == "phone"
    for not_personal in ("2024-01-15", "15.01.2024", "1234567.89", "SKU-123-AB", "paid", "US"):
        assert classify_text(not_personal) is None, not_personal
    assert classify_text("742 Evergreen Terrace") == "street"
    assert classify_text("Smith, John") == "full_name"


def test_rules_yaml_quotes_awkward_names() -> None:
    finding = scan_module.Finding(
        "public.odd table",
        "on",
        "text",
        "email",
        "name looks personal",
        "high",
        "fake:email",
        True,
        False,
    )
    other = scan_module.Finding(
        "public.t",
        "note: x",
        "text",
        "free_text",
        "3% of 9 sampled values x",
        "medium",
        "null",
        True,
        False,
    )
    text = rules_yaml(ScanResult(["public.odd table", "public.t"], [finding, other], 2, 9))
    data = yaml.safe_load(text)
    assert data["tables"] == {
        "public.odd table": {"columns": {"on": "fake:email"}},
        "public.t": {"columns": {"note: x": None}},
    }
    empty = yaml.safe_load(rules_yaml(ScanResult([], [], 0, 0)))
    assert empty == {"schema": "repro.anonymize/v1", "key": {"env": "REPRO_ANON_KEY"}, "tables": {}}


# ------------------------------------------------------------------------ the command line


def repro(*args: str) -> subprocess.CompletedProcess[str]:
    return run_repro(*args, env={**os.environ, "COLUMNS": "200"})


def load_rules_file(path: Path) -> dict[str, dict[str, str | None]]:
    """tables -> column -> spec, as anonymize reads the file."""
    loaded = load_rules(str(path))
    return {k: dict(t.columns) for k, t in loaded.tables.items()}


def test_cli_outputs_and_canary(shop: tuple[PgServer, str], tmp_path: Path) -> None:
    dsn = shop[1]
    rules = tmp_path / "rules.yaml"
    table = repro("data", "scan", dsn, "-o", str(rules))
    assert table.returncode == 0, table.stderr
    assert "shop.customers.ref" in table.stdout and "fake:card" in table.stdout
    assert "personal columns" in table.stderr
    as_json = repro("data", "scan", dsn, "--json", "--schema", "shop", "--sample", "500")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["schema"] == "repro.data-scan/v1"
    assert {f"{f['table']}.{f['column']}" for f in report["findings"]} == {
        k for k in EXPECTED if k.startswith("shop.")
    }
    text = rules.read_text()
    assert "# " in text and "Luhn" in text  # reasons as comments
    specs = load_rules_file(rules)
    expected_specs: dict[str, dict[str, str | None]] = {}
    for key, (_, _, spec) in EXPECTED.items():
        table_key, column = key.rsplit(".", 1)
        expected_specs.setdefault(table_key, {})[column] = None if spec == "null" else spec
    got = {
        t: {c: (None if s in (None, "null") else s) for c, s in cols.items()}
        for t, cols in specs.items()
    }
    assert got == expected_specs
    # nothing sampled leaks: not into stdout, stderr or the rules file
    outputs = table.stdout + table.stderr + as_json.stdout + as_json.stderr + text
    for canary in CANARIES:
        assert canary not in outputs
    with psycopg.connect(dsn) as conn:
        emails = [r[0] for r in conn.execute("SELECT email FROM shop.customers").fetchall()]
    assert not any(e in outputs for e in emails)
    # the rules file is not overwritten without --force
    again = repro("data", "scan", dsn, "-o", str(rules))
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "exists" in again.stderr and "--force" in again.stderr
    forced = repro("data", "scan", dsn, "-o", str(rules), "--force", "--schema", "other")
    assert forced.returncode == 0, forced.stderr
    assert list(load_rules_file(rules)) == ["other.leads"]
    # a device is never replaced, --force or not, and nothing is scanned first
    device = repro("data", "scan", dsn, "-o", "/dev/null", "--force")
    assert device.returncode == 2 and "is a character device" in device.stderr


def test_cli_unreachable_database(shop: tuple[PgServer, str]) -> None:
    server = shop[0]
    dead = server.dsn.replace(f":{server.port}/", ":1/")
    failed = repro("data", "scan", dead)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1
    assert "cannot connect to the database" in failed.stderr
    assert server.password not in failed.stderr + failed.stdout
    assert "Traceback" not in failed.stderr
    bad = repro("data", "scan", dead, "--sample", "-1")
    assert bad.returncode == 2 and "--sample" in bad.stderr
