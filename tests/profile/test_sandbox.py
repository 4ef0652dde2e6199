"""The profile's ``sandbox:`` section: parsed from the demo's profiles, and every bad shape
rejected with one line naming the key."""

from __future__ import annotations

import pytest

from repro.errors import ProfileError
from repro.profile.file import parse_profile, resolve_profile
from repro.profile.sandbox import parse_sandbox
from repro.snapshot.registry import FACETS


def test_profiles_parse_sandbox_sections() -> None:
    prod = resolve_profile("prod", FACETS)
    assert prod.sandbox is not None and prod.sandbox.app is not None
    assert prod.sandbox.app.image == "repro/demo-shop:2.1.0" and prod.sandbox.app.port == 8000
    assert prod.sandbox.database.env == "DATABASE_URL"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"app": {"port": 8000}}, "sandbox.app.image: required"),
        ({"app": {"image": "x", "port": "eighty"}}, "sandbox.app.port: expected an integer"),
        ({"app": {"image": "x", "health": "health"}}, "starting with /"),
        ({"app": {"image": "x", "files": {"relative": "a"}}}, "must be absolute"),
        ({"app": {"image": "x", "colour": "red"}}, "sandbox.app.colour: unknown key"),
        ({"database": {"image": "postgres:15"}}, "must contain {major}"),
        ({"stand_ins": {"password": "x"}}, "must name header:X"),
        ({"stand_ins": {"header:X": 3}}, "expected a string or {env: VARIABLE}"),
        ([], "expected a mapping"),
    ],
)
def test_bad_sandbox_sections_fail_with_one_line(raw: object, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_sandbox("p.yaml", raw)
    assert message in info.value.one_line() and "\n" not in info.value.one_line()
    with pytest.raises(ProfileError):
        parse_profile({"sandbox": raw}, where="p.yaml", default_name="p", catalog=FACETS)


def test_stand_in_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = parse_sandbox("p.yaml", {"stand_ins": {"header:Authorization": {"env": "TOKEN_X"}}})
    monkeypatch.delenv("TOKEN_X", raising=False)
    with pytest.raises(ProfileError, match="TOKEN_X is not set"):
        spec.stand_ins["header:Authorization"].resolve("header:Authorization")
    monkeypatch.setenv("TOKEN_X", "Bearer t")
    assert spec.stand_ins["header:Authorization"].resolve("header:Authorization") == "Bearer t"
