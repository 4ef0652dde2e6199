"""The leak check right after a copy judges the digests of what the copy wrote
(repro.mask.written) instead of reading the target back: it must find exactly what reading the
target finds (``repro data verify``), leaks and coincidences alike, in one process and with
worker processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from repro.mask.anonymize import AnonymizeOptions, anonymize
from repro.mask.transforms import build
from repro.mask.verify import COMMON_CHECK, LEAK_CHECK
from repro.mask.written import Written, judgement
from repro.redaction import RedactionKey, Redactor
from tests.helpers.cli import run_repro
from tests.helpers.pg import PgServer, fresh_database

KEY = "written-test-key-Qx81Lm"
RULES = """
schema: repro.anonymize/v1
key: {env: REPRO_TEST_ANON_KEY}
tables:
  public.t:
    columns:
      token: hash
      code: mask
      name: fake:full_name
"""
ROWS = 25_000  # above parallel_copy.MIN_ROWS: workers mask it with --jobs 2


def source_sql(leak: str) -> str:
    """Row 2's token is what row 1's token masks to: the copy writes a source value (a leak).
    The two-character codes mask into a small space that holds other rows' codes
    (coincidences, judged common)."""
    return f"""
CREATE TABLE t (id bigint PRIMARY KEY, token text, code text, name text);
INSERT INTO t
SELECT i,
       CASE WHEN i = 2 THEN '{leak}' WHEN i % 11 = 0 THEN NULL ELSE 'token-' || i END,
       CASE WHEN i % 13 = 0 THEN '' ELSE chr(65 + i % 26) || (i % 10) END,
       'Person ' || i
FROM generate_series(1, {ROWS}) i;
ANALYZE;
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_copys_own_digests_find_what_reading_the_target_finds(
    postgres_15: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    monkeypatch.setenv("REPRO_TEST_ANON_KEY", KEY)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    token = build(
        "hash", key=KEY.encode(), column="t", type_name="text", max_length=None, nullable=True
    )
    leak = token("token-1")  # hex: safe in the SQL text
    assert leak is not None and leak.isalnum()
    with (
        fresh_database(postgres_15.dsn, prefix="written_src") as source,
        fresh_database(postgres_15.dsn, prefix="written_dst") as target,
    ):
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(source_sql(leak).encode())
        options = AnonymizeOptions(source=source, target=target, rules=str(rules), jobs=jobs)
        report = anonymize(options, Redactor(RedactionKey.from_bytes(b"written", "test")))
        assert report.verification is not None
        copied = {c.name: c for c in report.verification.checks}
        assert not copied[LEAK_CHECK].ok
        assert "public.t.token: 1 values (hash)" in copied[LEAK_CHECK].detail
        assert "public.t.code:" in copied[COMMON_CHECK].detail
        done = run_repro(
            "data", "verify", "--from", source, "--to", target, "--rules", str(rules), "--json"
        )
        assert done.returncode == 1, done.stderr  # the leak
        read = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
        for name in (LEAK_CHECK, COMMON_CHECK):
            assert read[name]["detail"] == copied[name].detail
            assert read[name]["ok"] == copied[name].ok


def _built(spec: str) -> object:
    return build(spec, key=b"k" * 16, column="c", type_name="text", max_length=None, nullable=True)


def test_written_digests_are_judged_as_target_values_are() -> None:
    mask, email, name = _built("mask"), _built("fake:email"), _built("fake:full_name")
    assert judgement(email) is True and judgement(name) is False
    assert callable(judgement(mask))  # a mask's value decides: short codes are common
    written = Written()
    written.add(["AB", "+49 160 1234567"], mask)
    written.add(["x@y.example"], email)
    seen = {hash("AB"), hash("+49 160 1234567"), hash("elsewhere")}
    assert written.found(seen) == (1, 1)
    assert written.found(set()) == (0, 0)
    other = Written()
    other.add(["AB"], mask)  # the same value from another batch counts once
    written.merge(other)
    assert written.found(seen) == (1, 1)


def test_against_a_source_set_known_before_the_copy_only_its_values_are_kept() -> None:
    """An avoid set holds every source value of its spec before the first row: a written value
    outside it can never be found, so it is neither judged nor kept."""
    mask = _built("mask")
    known = {hash("AB"), hash("+49 160 1234567")}
    written = Written()
    written.add(["AB", "+49 160 1234567", "CD", "+49 160 7654321"], mask, known)
    assert len(written.identifying) + len(written.common) == 2
    assert written.found(known) == (1, 1)
