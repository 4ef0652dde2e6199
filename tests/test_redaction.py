"""Redaction: secrets become keyed fingerprints; nothing secret survives in clear text."""

from __future__ import annotations

import json

import pytest

from repro.redaction import RedactionKey, Redactor, fingerprint_key_id, load_key, looks_high_entropy

CANARY = "canary-Zq8pW3xV9tLm2Rk7"


def make(secret: bytes = b"team-key", extra: list[str] | None = None) -> Redactor:
    return Redactor(key=RedactionKey.from_bytes(secret, "test"), extra_secret_names=extra or [])


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "password",
        "API_KEY",
        "apiKey",
        "stripe.secret_key",
        "GITHUB_TOKEN",
        "aws_secret_access_key",
        "SENTRY_DSN",
        "primary_conninfo",
        "session_cookie",
        "key",
    ],
)
def test_secret_names_are_redacted(name: str) -> None:
    out = make().redact_scalar(name, "plain-value")
    assert out["redacted"] is True
    assert "plain-value" not in json.dumps(out)


@pytest.mark.parametrize(
    "name",
    ["PATH", "LANG", "TOKEN_URL", "public_key", "key_id", "primary_key", "password_encryption"],
)
def test_harmless_names_are_kept(name: str) -> None:
    assert make().redact_scalar(name, "value") == "value"


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "Xk9#Qw2mLp8vRt5zYb3nHc7dFg1jKs4a".replace("#", "_"),
    ],
)
def test_secret_shaped_values_are_redacted_whatever_the_name(value: str) -> None:
    out = make().redact_scalar("SOMETHING", value)
    assert isinstance(out, dict) and out["redacted"] is True


def test_ordinary_values_are_not_high_entropy() -> None:
    for value in [
        "/usr/local/bin:/usr/bin",
        "en_US.UTF-8",
        "production",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "12345678901234567890",
        "a" * 40,
        "deadbeef" * 8,
    ]:
        assert not looks_high_entropy(value), value


def test_url_keeps_host_and_hides_password() -> None:
    out = make().redact_scalar("DATABASE_URL", f"postgresql://app:{CANARY}@db.prod:5432/app")
    assert out["redacted"] is True
    assert out["masked"] == "postgresql://app:***@db.prod:5432/app"
    assert CANARY not in json.dumps(out)


def test_same_key_same_fingerprint_other_value_other_fingerprint() -> None:
    a, b = make(), make()
    assert a.redact_value(CANARY) == b.redact_value(CANARY)
    assert a.redact_value(CANARY) != a.redact_value(CANARY + "x")


def test_key_id_differs_between_keys() -> None:
    one = make(b"one").redact_value(CANARY)
    two = make(b"two").redact_value(CANARY)
    assert fingerprint_key_id(one) != fingerprint_key_id(two)
    assert one["fingerprint"].startswith("hmac-sha256:")


def test_embedded_url_in_command_line() -> None:
    out = make().redact_scalar("command", f"pg_dump postgresql://u:{CANARY}@h/db > /backup.sql")
    assert CANARY not in json.dumps(out)
    assert "pg_dump postgresql://u:***@h/db" in out["masked"]


def test_extra_secret_names_from_profile() -> None:
    redactor = make(extra=["*_SALT"])
    assert redactor.redact_scalar("COOKIE_SIGNING_SALT", "abc")["redacted"] is True


def test_scrub_removes_remembered_secrets_from_messages() -> None:
    redactor = make()
    redactor.redact_scalar("DB_PASSWORD", CANARY)
    assert CANARY not in redactor.scrub(f"auth failed for password {CANARY}")
    assert "***" in redactor.scrub(f"postgresql://u:{CANARY}@h/db")


def test_tree_walk_redacts_nested_leaves_by_their_own_key() -> None:
    tree = {"vars": {"DB_PASSWORD": CANARY, "MODE": "prod"}, "list": [{"token": CANARY}]}
    out = make().redact_tree(tree)
    assert CANARY not in json.dumps(out)
    assert out["vars"]["MODE"] == "prod"


def test_key_from_env_and_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REPRO_REDACTION_KEY", "shared-team-key")
    assert load_key().source == "env"
    monkeypatch.delenv("REPRO_REDACTION_KEY")
    key_file = tmp_path / "team.key"
    key_file.write_text("shared-team-key\n")
    assert load_key(str(key_file)).key_id == RedactionKey.from_bytes(b"shared-team-key", "x").key_id


def test_generated_user_key_is_private_and_stable(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REPRO_REDACTION_KEY", raising=False)
    monkeypatch.delenv("REPRO_REDACTION_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = load_key()
    assert first.source.startswith("generated:")
    assert (tmp_path / "repro" / "redaction.key").stat().st_mode & 0o777 == 0o600
    assert load_key().key_id == first.key_id


def test_a_secret_remembered_after_the_pattern_was_built_is_scrubbed_too() -> None:
    redactor = make()
    redactor.redact_scalar("DB_PASSWORD", CANARY)
    assert CANARY not in json.dumps(redactor.scrub_tree({"cmd": f"psql -W {CANARY}"}))
    later = "later-Hx4Tq9Lw2Mz7Vb3K"
    redactor.redact_scalar("API_TOKEN", later)
    assert later not in json.dumps(redactor.scrub_tree({"cmd": f"curl -H 'X: {later}'"}))


def test_secrets_remembered_by_threads_at_once_are_all_scrubbed_afterwards() -> None:
    # Parity captures facets four at once with one redactor: whatever the interleaving of
    # remember() and the scrubbing walks, the final walk over every facet knows every secret.
    import threading

    redactor = make()
    secrets = [f"thread{n:02d}-Qw8Zr4Tx7Lp2Vn6M" for n in range(32)]
    text = " ".join(secrets)

    def work(part: list[str]) -> None:
        for secret in part:
            redactor.redact_scalar("DB_PASSWORD", secret)
            redactor.scrub_tree({"line": text})
            redactor.scrub(text)

    threads = [threading.Thread(target=work, args=(secrets[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    walked = json.dumps(redactor.scrub_tree({"line": text}))
    assert not any(secret in walked for secret in secrets)
    assert not any(secret in redactor.scrub(text) for secret in secrets)
