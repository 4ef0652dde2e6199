"""Secrets in code: every shape a body holds one in is masked, the rest kept as written."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.redaction import RedactionKey, Redactor
from repro.snapshot.db.code import scrub_code

FAST = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
SECRET = st.text(
    alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=12, max_size=30
).map(lambda s: "Zq8" + s)


def redactor() -> Redactor:
    return Redactor(RedactionKey.from_bytes(b"code-key", "test"))


@FAST
@given(SECRET)
def test_secret_shapes_are_masked(secret: str) -> None:
    shapes = [
        f"  api_key text := '{secret}';",
        f"  v_password = '{secret}'",
        f" SET app.token TO '{secret}'",
        f"  conn := 'host=db password={secret} dbname=x';",
        f"  url := 'postgresql://app:{secret}@db/x';",
    ]
    for line in shapes:
        body = f"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n{line}\nEND $$"
        masked, found = scrub_code(body, redactor())
        assert secret not in masked, line
        assert found >= 1
        assert masked.startswith("CREATE FUNCTION f() RETURNS void")


def test_clean_code_is_untouched() -> None:
    body = (
        "CREATE FUNCTION f(status text) RETURNS text LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  -- don't touch: it's fine\n  IF status = 'active' THEN RETURN 'ok'; END IF;\n"
        "  RAISE NOTICE 'key = %', status;\n  RETURN 'https://example.com/a?b=c';\nEND $$"
    )
    assert scrub_code(body, redactor()) == (body, 0)
