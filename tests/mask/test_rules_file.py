"""The anonymization rules file: load, validate, write back (pure, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import UsageError
from repro.mask.rules_file import Rules, TableRules, dump_rules, load_rules, parse_rules

ROOT = Path(__file__).resolve().parents[2]

CONTRACT = """
schema: repro.anonymize/v1
key: {env: REPRO_ANON_KEY}
tables:
  public.customers:
    columns:
      email: fake:email
      full_name: fake:full_name
      phone: mask:keep_last=4
      card: mask
      birthday: shift_date:30
      ssn: hash
      notes: null
      memo: "null"
      tier: constant:gold
      country: keep
    where: "created_at > now() - interval '1 year'"
  public.audit_log: skip
  public.sessions: truncate
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_the_contract_example_loads(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, CONTRACT))
    customers = rules.tables["public.customers"]
    assert customers.action == "copy"
    assert customers.columns["notes"] == "null" and customers.columns["memo"] == "null"
    assert customers.columns["phone"] == "mask:keep_last=4"
    assert customers.where == "created_at > now() - interval '1 year'"
    assert rules.tables["public.audit_log"] == TableRules("skip")
    assert rules.tables["public.sessions"].action == "truncate"
    assert rules.key_source == "env:REPRO_ANON_KEY"


def test_the_example_profile_loads() -> None:
    rules = load_rules(ROOT / "profiles" / "anonymize.yaml")
    assert rules.tables["public.customers"].columns["email"] == "fake:email"
    assert parse_rules(dump_rules(rules)) == rules


def test_dump_round_trips_with_comments(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, CONTRACT))
    odd = Rules(
        tables={
            **rules.tables,
            "shop.weird": TableRules(
                "copy",
                {"yes": "constant: spaced # not a comment", "Mixed Case": "constant:", "n": "keep"},
                where='a = "x"\nAND b',
            ),
            "shop.empty": TableRules("copy"),
        },
        key_source="file:~/keys/anon key.txt",
    )
    text = dump_rules(
        odd,
        comments={
            ("public.customers", "email"): "high: email: name says email,\n 98% match",
            ("shop.weird", "yes"): "why # not",
        },
    )
    assert "email: fake:email  # high: email: name says email, 98% match" in text
    assert parse_rules(text) == odd
    assert load_rules(write(tmp_path, text)) == odd


def test_key_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPRO_TEST_KEY", "s3cret-value")
    assert Rules({}, "env:REPRO_TEST_KEY").key() == b"s3cret-value"
    (tmp_path / "anon.key").write_text("file-secret\n")
    rules = load_rules(write(tmp_path, "schema: repro.anonymize/v1\nkey: {file: anon.key}\n"))
    assert rules.key() == b"file-secret"  # relative to the rules file, newline dropped
    assert Rules({}, f"file:{tmp_path / 'anon.key'}").key() == b"file-secret"


def test_key_problems_name_the_source_never_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPRO_NO_SUCH_KEY", raising=False)
    with pytest.raises(UsageError, match="REPRO_NO_SUCH_KEY"):
        Rules({}, "env:REPRO_NO_SUCH_KEY").key()
    monkeypatch.setenv("REPRO_EMPTY_KEY", "  ")
    with pytest.raises(UsageError, match="REPRO_EMPTY_KEY"):
        Rules({}, "env:REPRO_EMPTY_KEY").key()
    with pytest.raises(UsageError, match=r"missing\.key"):
        Rules({}, f"file:{tmp_path / 'missing.key'}").key()
    (tmp_path / "empty.key").write_text("\n")
    with pytest.raises(UsageError, match="empty"):
        Rules({}, f"file:{tmp_path / 'empty.key'}").key()


HEAD = "schema: repro.anonymize/v1\nkey: {env: K}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema: [unclosed\n", "line 1"),
        (HEAD + "tables:\n  public.t:\n    columns:\n      a: mask\n     b: x\n", "line 7"),
        ("- a list\n", "mapping"),
        ("schema: repro.anonymize/v2\nkey: {env: K}\n", "not supported"),
        ("schema: something/v1\nkey: {env: K}\n", "schema must be"),
        ("key: {env: K}\n", "schema must be"),
        (HEAD + "extra: 1\n", "unknown keys extra"),
        ("schema: repro.anonymize/v1\n", "key must be"),
        ("schema: repro.anonymize/v1\nkey: {vault: x}\n", "key must be"),
        ("schema: repro.anonymize/v1\nkey: secretvalue\n", "key must be"),
        (HEAD + "tables: [a]\n", "tables must be"),
        (HEAD + "tables:\n  customers: skip\n", "schema.table"),
        (HEAD + "tables:\n  public.t: drop\n", "expected skip, truncate"),
        (HEAD + "tables:\n  public.t: {columns: {a: mask}, filter: x}\n", "unknown keys filter"),
        (HEAD + "tables:\n  public.t: {where: 3}\n", "where must be"),
        (HEAD + "tables:\n  public.t: {columns: [a]}\n", "columns must be"),
        (HEAD + "tables:\n  public.t: {columns: {a: 3}}\n", "string or null"),
        (HEAD + "tables:\n  public.t: {columns: {a: yes}}\n", "string or null"),
        (HEAD + "tables:\n  public.t: {columns: {a: scramble}}\n", "'scramble' is not valid"),
        (HEAD + "tables:\n  public.t: {columns: {a: 'fake:planet'}}\n", "unknown fake kind"),
        (HEAD + "tables:\n  public.t: {columns: {a: 'shift_date:x'}}\n", "whole number"),
        (HEAD + "tables:\n  public.t: {columns: {a: {hash: 1}}}\n", "{keys:"),
        (HEAD + "tables:\n  public.t: {columns: {a: {keys: []}}}\n", "{keys:"),
        (HEAD + "tables:\n  public.t: {columns: {a: {keys: {e: 3}}}}\n", "found 'e': 3"),
        (HEAD + "tables:\n  public.t: {columns: {a: {keys: {e: 'fake:x'}}}}\n", "unknown fake"),
    ],
)
def test_every_problem_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_rules(path)
    line = info.value.one_line()
    assert "\n" not in line and message in line and str(path) in line


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.yaml: no such file"):
        load_rules(tmp_path / "nope.yaml")


def test_bad_column_names_the_table_and_column(tmp_path: Path) -> None:
    text = HEAD + "tables:\n  public.people:\n    columns:\n      email: fake:mail\n"
    with pytest.raises(UsageError, match=r"public\.people\.email: 'fake:mail'"):
        load_rules(write(tmp_path, text))


def test_keys_in_their_mapping_form_round_trip(tmp_path: Path) -> None:
    text = HEAD + (
        "tables:\n  public.t:\n    columns:\n      doc:\n        keys:\n"
        "          email: fake:email\n          '*phone*': mask:keep_last=2\n"
        "          secret: null\n      tags: fake:email\n"
    )
    rules = load_rules(write(tmp_path, text))
    assert rules.tables["public.t"].columns["doc"] == (
        'keys:{"email": "fake:email", "*phone*": "mask:keep_last=2", "secret": "null"}'
    )
    written = dump_rules(rules, comments={("public.t", "doc"): "high: personal_keys"})
    assert "      doc:  # high: personal_keys\n        keys:\n          email: fake:email" in (
        written
    )
    assert parse_rules(written) == rules
    # the string form is accepted too
    same = HEAD + 'tables:\n  public.t:\n    columns:\n      doc: \'keys:{"email": "hash"}\'\n'
    assert parse_rules(same).tables["public.t"].columns["doc"] == 'keys:{"email": "hash"}'
