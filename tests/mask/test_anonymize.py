"""``repro data anonymize`` / ``verify`` end to end on real PostgreSQL.

The source plants canary personal values; they must appear nowhere in the target, the dump
file or any output. Joins on masked natural keys, NULL and empty counts, unique keys (one
of them deliberately collision-prone) and foreign keys must all survive, deterministically.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from repro.errors import DataGenerationError
from repro.mask import anonymize as anonymize_module
from repro.mask import parallel_copy
from repro.mask.anonymize import AnonymizeOptions, AnonymizeReport, anonymize
from repro.redaction import RedactionKey, Redactor
from tests.helpers.cli import run_repro
from tests.helpers.pg import PgServer, fresh_database
from tests.helpers.procs import popen

CANARY_EMAIL = "zebulon.canary@corp-canary.example"
CANARY_NAME = "Zebulon Canaryfield"
CANARY_PHONE = "+49 151 7777 0192"

SOURCE_SQL = f"""
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text UNIQUE,
    full_name text NOT NULL,
    phone text,
    notes text,
    birthday date,
    country char(2) NOT NULL,
    code char(3) NOT NULL UNIQUE
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    customer_email text,
    shipping_street text,
    total numeric(10,2) NOT NULL CHECK (total >= 0)
);
CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    line_no integer NOT NULL,
    sku text NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE audit_log (id serial PRIMARY KEY, actor_email text, happened_at timestamptz);

INSERT INTO customers (email, full_name, phone, notes, birthday, country, code)
SELECT CASE WHEN i % 10 = 0 THEN NULL WHEN i = 1 THEN '{CANARY_EMAIL}'
            ELSE 'person' || i || '@mail.example' END,
       CASE WHEN i = 1 THEN '{CANARY_NAME}' ELSE 'Person Number' || i END,
       CASE WHEN i % 7 = 0 THEN NULL WHEN i = 1 THEN '{CANARY_PHONE}'
            ELSE '+1 555 010 ' || lpad(i::text, 4, '0') END,
       CASE WHEN i % 3 = 0 THEN '' WHEN i % 3 = 1 THEN NULL ELSE 'called about order ' || i END,
       date '1970-01-01' + i * 9,
       (ARRAY['DE', 'US', 'FR'])[1 + i % 3],
       lpad((i - 1)::text, 3, '0')
FROM generate_series(1, 1000) i;
INSERT INTO orders
SELECT i, 1 + (i * 13) % 1000, c.email, i || ' Main Street', (i % 300) * 1.5
FROM generate_series(1, 3000) i JOIN customers c ON c.id = 1 + (i * 13) % 1000;
INSERT INTO order_items SELECT o, l, 'SKU-' || (o + l) % 50
FROM generate_series(1, 3000) o, generate_series(1, 2) l;
INSERT INTO audit_log (actor_email, happened_at)
SELECT '{CANARY_EMAIL}', now() FROM generate_series(1, 10);
ANALYZE;
"""

RULES = """
schema: repro.anonymize/v1
key: {env: REPRO_TEST_ANON_KEY}
tables:
  public.customers:
    columns:
      email: fake:email
      full_name: fake:full_name
      phone: mask:keep_last=2
      notes: null
      birthday: shift_date:30
      code: mask
      country: keep
  public.orders:
    columns:
      customer_email: fake:email
      shipping_street: fake:street
  public.audit_log: skip
"""


def redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"anonymize-test", "test"))


@pytest.fixture(scope="module")
def source(postgres_15: PgServer) -> Iterator[str]:
    with fresh_database(postgres_15.dsn, prefix="anon_src") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SOURCE_SQL.encode())
        yield dsn


@pytest.fixture
def rules_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPRO_TEST_ANON_KEY", "test-key-one-Xk29Pq")
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def run(source: str, target: str, rules: Path, **extra: Any) -> AnonymizeReport:
    options = AnonymizeOptions(source=source, target=target, rules=str(rules), **extra)
    return anonymize(options, redactor())


def dump_text(dsn: str) -> str:
    """Every row of every table as text: what a canary search looks through."""
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND relkind = 'r'"
            )
        ]
        return "\n".join(
            str(conn.execute(f"SELECT string_agg(x::text, chr(10)) FROM {t} x").fetchone())
            for t in tables
        )


def scalar(dsn: str, query: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]


CANARIES = (CANARY_EMAIL, CANARY_NAME, CANARY_PHONE, "corp-canary", "Canaryfield")


def test_masked_copy_keeps_joins_nulls_and_keys(
    postgres_15: PgServer, source: str, rules_file: Path
) -> None:
    with fresh_database(postgres_15.dsn, prefix="anon_dst") as target:
        report = run(source, target, rules_file)
        assert report.verification is not None and report.verification.ok, (
            report.verification.to_json() if report.verification else None
        )
        text = dump_text(target)
        for canary in CANARIES:
            assert canary not in text
        # natural-key join (no foreign key): orders.customer_email = customers.email
        join = "SELECT count(*) FROM orders o JOIN customers c ON c.email = o.customer_email"
        assert scalar(target, join) == scalar(source, join) > 0
        for query in (
            "SELECT count(*) FROM customers WHERE email IS NULL",
            "SELECT count(*) FROM customers WHERE phone IS NULL",
            "SELECT count(*) FROM customers WHERE notes = ''",
            "SELECT count(DISTINCT code) FROM customers",
            "SELECT count(DISTINCT email) FROM customers",
            "SELECT count(*) FROM order_items",
        ):
            assert scalar(target, query) == scalar(source, query), query
        assert scalar(target, "SELECT count(*) FROM customers WHERE notes <> ''") == 0
        assert scalar(target, "SELECT count(*) FROM audit_log") == 0
        # masked values keep their shape
        assert scalar(target, "SELECT bool_and(email ~ '^[^@ ]+@[^@ ]+$') FROM customers")
        assert scalar(
            target, "SELECT bool_and(length(code) = 3 AND code ~ '^[0-9]+$') FROM customers"
        )
        assert (
            scalar(target, "SELECT count(*) FROM customers c JOIN orders o ON o.customer_id = c.id")
            == 3000
        )
        assert report.collisions_resolved > 0  # 1,000 codes "000".."999" masked: a full space
        # ANALYZE ran (beside the verification, on its own connection): planner statistics
        stats = "SELECT count(DISTINCT tablename) FROM pg_stats WHERE schemaname = 'public'"
        assert scalar(target, stats) == 3  # customers, orders, order_items (audit_log: empty)
        # identity continues after the copied rows
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO customers (full_name, country, code) VALUES ('x', 'DE', 'ZZZ')"
            )


def test_same_key_same_copy_other_key_other_values(
    postgres_15: PgServer, source: str, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checksum = "SELECT md5(string_agg(c::text, '|' ORDER BY c.id)) FROM customers c"
    with (
        fresh_database(postgres_15.dsn, prefix="anon_a") as a,
        fresh_database(postgres_15.dsn, prefix="anon_b") as b,
        fresh_database(postgres_15.dsn, prefix="anon_c") as c,
    ):
        run(source, a, rules_file)
        run(source, b, rules_file)
        assert scalar(a, checksum) == scalar(b, checksum)
        monkeypatch.setenv("REPRO_TEST_ANON_KEY", "another-key-Lm73Zt")
        run(source, c, rules_file)
        emails = "SELECT string_agg(email, ',' ORDER BY id) FROM customers"
        assert scalar(c, emails) != scalar(a, emails)


def test_masking_in_worker_processes_makes_the_same_copy(
    postgres_15: PgServer, source: str, rules_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables masked by forked workers (every table here: the row threshold is lowered) come
    out byte for byte as one process masks them, and verify the same way."""
    with (
        fresh_database(postgres_15.dsn, prefix="anon_one") as one,
        fresh_database(postgres_15.dsn, prefix="anon_two") as two,
    ):
        single = run(source, one, rules_file, jobs=1)
        monkeypatch.setattr(parallel_copy, "MIN_ROWS", 0)
        in_workers: list[int] = []

        def counted(*args: Any, **kwargs: Any) -> Any:
            in_workers.append(kwargs["workers"])
            return parallel_copy.transform_rows_parallel(*args, **kwargs)

        monkeypatch.setattr(anonymize_module, "transform_rows_parallel", counted)
        before = set(multiprocessing.active_children())
        workers = run(source, two, rules_file, jobs=2)
        assert in_workers == [2, 2]  # customers and orders (order_items has no masked column)
        assert set(multiprocessing.active_children()) <= before  # the workers are gone
        assert dump_text(two) == dump_text(one)
        assert workers.verification is not None and single.verification is not None
        assert workers.verification.to_json() == single.verification.to_json()
        assert workers.verification.ok
        assert [(t.key, t.rows, t.counts) for t in workers.tables] == [
            (t.key, t.rows, t.counts) for t in single.tables
        ]


def test_fail_safe_stops_an_unruled_personal_column(
    postgres_15: PgServer, source: str, rules_file: Path, tmp_path: Path
) -> None:
    from repro.commands.anonymize import _findings

    lax = tmp_path / "lax.yaml"
    lax.write_text(RULES.replace("      phone: mask:keep_last=2\n", ""))
    with fresh_database(postgres_15.dsn, prefix="anon_fs") as target:
        options = AnonymizeOptions(source=source, target=target, rules=str(lax))
        with pytest.raises(DataGenerationError, match=r"public\.customers\.phone"):
            anonymize(options, redactor(), scan_findings=_findings(None))
        assert scalar(target, "SELECT count(*) FROM pg_class WHERE relname = 'customers'") == 0
        options.allow_unmasked = ["customers.phone"]
        report = anonymize(options, redactor(), scan_findings=_findings(None))
        assert report.rows > 0


def test_subset_takes_the_rows_and_their_neighbourhood(
    postgres_15: PgServer, source: str, rules_file: Path
) -> None:
    with fresh_database(postgres_15.dsn, prefix="anon_sub") as target:
        report = run(source, target, rules_file, include=["orders.id = 42"])
        assert report.verification is not None and report.verification.ok
        rows = {t.key: t.rows for t in report.tables}
        assert rows["public.orders"] >= 1 and rows["public.customers"] >= 1
        assert rows["public.order_items"] == 2  # the order's children
        assert rows["public.customers"] < 1000
        assert scalar(target, "SELECT count(*) FROM orders WHERE id = 42") == 1
        # the subset with a condition, plus a children limit
        with fresh_database(postgres_15.dsn, prefix="anon_sub2") as other:
            report = run(
                source,
                other,
                rules_file,
                subset=["customers: id <= 5"],
                children_limit=4,
            )
            assert {t.key: t.rows for t in report.tables}["public.orders"] == 4


def test_dump_file_loads_elsewhere_and_holds_no_canary(
    postgres_15: PgServer, source: str, rules_file: Path, tmp_path: Path
) -> None:
    dump = tmp_path / "copy.sql.gz"
    report = run(source, f"file:{dump}", rules_file)
    assert dump.exists() and not Path(str(dump) + ".partial").exists()
    import gzip

    text = gzip.decompress(dump.read_bytes()).decode()
    for canary in CANARIES:
        assert canary not in text
    with fresh_database(postgres_15.dsn, prefix="anon_dump") as target:
        loaded = subprocess.run(
            ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", target, "-f", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert loaded.returncode == 0, loaded.stderr
        assert (
            scalar(target, "SELECT count(*) FROM orders")
            == {t.key: t.rows for t in report.tables}["public.orders"]
        )
    assert dump.stat().st_mode & 0o777 == 0o600  # masked, but real rows (issue 12, finding 6)
    before = dump.read_bytes()
    with pytest.raises(Exception, match="exists"):
        run(source, f"file:{dump}", rules_file)
    assert dump.read_bytes() == before
    run(source, f"file:{dump}", rules_file, force=True)  # --force replaces it, whole
    assert gzip.decompress(dump.read_bytes()).decode() == text  # deterministic bytes
    assert not [p for p in dump.parent.iterdir() if p.name.endswith(".partial")]


def repro(*args: str) -> subprocess.CompletedProcess[str]:
    return run_repro(*args)


def test_cli_copy_verify_and_canaries_in_every_output(
    postgres_15: PgServer, source: str, rules_file: Path, tmp_path: Path
) -> None:
    with fresh_database(postgres_15.dsn, prefix="anon_cli") as target:
        done = repro(
            "data",
            "anonymize",
            "--from",
            source,
            "--to",
            target,
            "--rules",
            str(rules_file),
            "--json",
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["schema"] == "repro.data-anonymize/v1"
        assert report["verification"]["ok"]
        again = repro(
            "data", "verify", "--from", source, "--to", target, "--rules", str(rules_file)
        )
        assert again.returncode == 0, again.stdout + again.stderr
        scanned = repro("data", "scan", source, "-o", str(tmp_path / "scan.yaml"))
        outputs = [
            done.stdout,
            done.stderr,
            again.stdout,
            again.stderr,
            scanned.stdout,
            scanned.stderr,
            (tmp_path / "scan.yaml").read_text() if (tmp_path / "scan.yaml").exists() else "",
        ]
        for text in outputs:
            for canary in CANARIES:
                assert canary not in text
    # a copy that masks nothing: verify finds the leak
    keep_all = tmp_path / "keep.yaml"
    keep_all.write_text(RULES.replace("fake:email", "keep").replace("fake:full_name", "keep"))
    with fresh_database(postgres_15.dsn, prefix="anon_leak") as target:
        with psycopg.connect(source) as src, psycopg.connect(target, autocommit=True) as dst:
            dst.execute("CREATE TABLE customers (id bigint, email text, full_name text)")
            with (
                src.cursor().copy(
                    "COPY (SELECT id, email, full_name FROM customers) TO STDOUT"
                ) as out,
                dst.cursor().copy("COPY customers FROM STDIN") as into,
            ):
                for block in out:
                    into.write(block)
        leaky = tmp_path / "leaky.yaml"
        leaky.write_text(
            "schema: repro.anonymize/v1\nkey: {env: REPRO_TEST_ANON_KEY}\n"
            "tables:\n  public.customers:\n    columns:\n      email: fake:email\n"
        )
        checked = repro("data", "verify", "--from", source, "--to", target, "--rules", str(leaky))
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "FAILED" in checked.stdout
        assert CANARY_EMAIL not in checked.stdout + checked.stderr


BIG_SQL = """
CREATE TABLE members (id bigint PRIMARY KEY, email text, full_name text, note text);
INSERT INTO members
SELECT i, 'member' || i || '@mail.example', 'Member Number' || i, 'note ' || (i % 97)
FROM generate_series(1, 400000) i;
ANALYZE;
"""
BIG_RULES = """
schema: repro.anonymize/v1
key: {env: REPRO_TEST_ANON_KEY}
tables:
  public.members:
    columns:
      email: fake:email
      full_name: fake:full_name
      note: keep
"""


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (from /proc: the workers are the command's own)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c", "sigkill"])
def test_interrupted_while_workers_mask_keeps_nothing_and_leaves_no_process(
    postgres_15: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """SIGTERM to the command (docker stop, a CI timeout) or Ctrl-C to its process group,
    while forked workers mask a 400k-row table: one line, exit 130, an empty target, and
    no worker left behind. Killed outright (SIGKILL, the OOM killer), its workers die with
    it and the target is still empty."""
    monkeypatch.setenv("REPRO_TEST_ANON_KEY", "test-key-one-Xk29Pq")
    rules = tmp_path / "rules.yaml"
    rules.write_text(BIG_RULES)
    with (
        fresh_database(postgres_15.dsn, prefix="anon_big") as big,
        fresh_database(postgres_15.dsn, prefix="anon_cut") as target,
    ):
        with psycopg.connect(big, autocommit=True) as conn:
            conn.execute(BIG_SQL.encode())
        argv = ["data", "anonymize", "--from", big, "--to", target, "--rules", str(rules)]
        proc = popen(
            [sys.executable, "-m", "repro", *argv, "--jobs", "2", "--json"],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while len(group_members(proc.pid)) < 3:  # the command and its two workers
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the workers never started"
                time.sleep(0.02)
            if how == "ctrl-c":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                os.kill(proc.pid, signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if how == "sigkill":
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 130, err
            assert err.strip() == "repro: interrupted"
        assert out == ""
        deadline = time.monotonic() + 10
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group_members(proc.pid) == []
        assert (
            scalar(
                target, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            )
            == 0
        )
