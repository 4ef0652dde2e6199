"""The sandbox app's environment, files and uid, derived from real snapshots of the demo
(fixtures/snapshots/*.json) and the profiles' sandbox sections. No Docker needed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from repro.errors import ReproError, UsageError
from repro.profile.file import resolve_profile
from repro.profile.sandbox import SandboxApp, parse_sandbox
from repro.replay.sandbox_env import (
    app_env,
    app_user,
    file_archive,
    load_secrets_file,
)
from repro.replay.sandbox_faults import placeholder
from repro.snapshot.registry import FACETS
from repro.snapshot.store import load_snapshot

ROOT = Path(__file__).resolve().parents[2]
PROD = load_snapshot(ROOT / "fixtures" / "snapshots" / "prod.json")
STAGING = load_snapshot(ROOT / "fixtures" / "snapshots" / "staging.json")
SETTINGS = "/etc/demo-app/settings.yaml"


def _app(**kwargs: object) -> SandboxApp:
    return SandboxApp(image="repro/demo-shop:2.1.0", **kwargs)  # type: ignore[arg-type]


def _env(snapshot=PROD, secrets=None, spec=None):  # type: ignore[no-untyped-def]
    return app_env(
        snapshot,
        spec or _app(),
        database={"DATABASE_URL": "postgresql://repro:pw@db:5432/sandbox"},
        sentry_dsn="http://repro@172.18.0.1:4000/1",
        secrets=secrets or {},
    )


def test_env_keeps_plain_values_and_replaces_secrets() -> None:
    env, sources = _env()
    by_name = {s.name: s.source for s in sources}
    assert env["FEATURE_NEW_CHECKOUT"] == "1" and by_name["FEATURE_NEW_CHECKOUT"] == "snapshot"
    assert env["DATABASE_URL"] == "postgresql://repro:pw@db:5432/sandbox"
    assert by_name["DATABASE_URL"] == "sandbox database"
    assert env["SENTRY_DSN"].startswith("http://repro@") and by_name["SENTRY_DSN"] == "sentry sink"
    assert env["SECRET_KEY"] == placeholder("SECRET_KEY") == "repro-placeholder-secret-key"
    assert by_name["SECRET_KEY"] == by_name["DEMO_SIGNING_SALT"] == "placeholder"
    assert not any("hmac-sha256" in value for value in env.values())


def test_staging_has_no_feature_flag() -> None:
    env, _ = _env(STAGING)
    assert "FEATURE_NEW_CHECKOUT" not in env


def test_secrets_file_and_profile_env_override(tmp_path: Path) -> None:
    file = tmp_path / "secrets.env"
    file.write_text("# sandbox values\nSECRET_KEY=abc=def\nexport EXTRA='quoted value'\n\n")
    secrets = load_secrets_file(str(file))
    assert secrets == {"SECRET_KEY": "abc=def", "EXTRA": "quoted value"}
    env, sources = _env(secrets=secrets, spec=_app(env={"LOG_LEVEL": "debug"}))
    by_name = {s.name: s.source for s in sources}
    assert env["SECRET_KEY"] == "abc=def" and by_name["SECRET_KEY"] == "secrets file"
    assert env["EXTRA"] == "quoted value" and by_name["EXTRA"] == "secrets file"
    assert env["LOG_LEVEL"] == "debug" and by_name["LOG_LEVEL"] == "profile sandbox.app.env"


def test_secrets_file_errors_name_the_line_never_the_value(tmp_path: Path) -> None:
    file = tmp_path / "bad.env"
    file.write_text("GOOD=1\nthis is hunter2 not a pair\n")
    with pytest.raises(UsageError) as info:
        load_secrets_file(str(file))
    assert "line 2" in info.value.one_line() and "hunter2" not in info.value.one_line()
    with pytest.raises(UsageError, match="no such file"):
        load_secrets_file(str(tmp_path / "missing.env"))
    locked = tmp_path / "locked.env"
    locked.write_text("A=1\n")
    locked.chmod(0)
    try:
        import os

        if os.geteuid() != 0:  # root reads anything: the permission case needs a normal user
            with pytest.raises(UsageError, match="permission denied"):
                load_secrets_file(str(locked))
    finally:
        locked.chmod(0o600)


def test_app_user_is_productions_uid() -> None:
    assert app_user(PROD, _app()) == "10001:10001"
    assert app_user(PROD, _app(user="0")) == "0"


def _members(archive: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_config_file_gets_productions_mode_and_owner() -> None:
    spec = _app(files={SETTINGS: "fixtures/demo_app/settings.yaml"})
    prod = file_archive(PROD, spec, ROOT)
    staging = file_archive(STAGING, spec, ROOT)
    member = _members(prod.tar)["etc/demo-app/settings.yaml"]
    assert (oct(member.mode), member.uid, member.gid) == (oct(0o600), 0, 0)
    assert prod.mounts[0].origin == "snapshot" and prod.mounts[0].mode == "0600"
    member = _members(staging.tar)["etc/demo-app/settings.yaml"]
    assert (oct(member.mode), member.uid, member.gid) == (oct(0o640), 0, 10001)


def test_config_file_not_in_snapshot_and_changed_content(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("x: 1\n")
    (tmp_path / "settings.yaml").write_text("changed: true\n")
    spec = _app(files={"/etc/other.yaml": "other.yaml", SETTINGS: "settings.yaml"})
    archive = file_archive(PROD, spec, tmp_path)
    origins = {m.path: m.origin for m in archive.mounts}
    assert origins["/etc/other.yaml"].startswith("profile")
    assert "content differs" in origins[SETTINGS]
    with pytest.raises(ReproError, match="no such file"):
        file_archive(PROD, _app(files={SETTINGS: "nope.yaml"}), tmp_path)


def test_capture_gaps_are_named() -> None:
    from dataclasses import replace

    from repro.replay.sandbox_env import capture_gaps
    from repro.snapshot.file import FacetResult

    assert capture_gaps(PROD, _app()) == []
    facets = dict(PROD.facets)
    facets["env"] = FacetResult(status="error", message="no access")
    del facets["files"]
    facets["runtime"] = FacetResult(status="error")
    gaps = capture_gaps(replace(PROD, facets=facets), _app())
    assert any(g.startswith("production's env facet is error") for g in gaps)
    assert any(g.startswith("production's files facet is not captured") for g in gaps)
    assert any("runs as the image's user" in g for g in gaps)


def test_stand_ins_command_line_over_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    from repro.commands.replay import _stand_ins
    from repro.replay.options import ReplayOptions

    profile = resolve_profile("prod", FACETS)
    assert profile.sandbox is not None
    profile.sandbox.stand_ins = parse_sandbox(
        "p.yaml",
        {"stand_ins": {"header:Authorization": "Bearer from-profile", "cookie:sid": "s1"}},
    ).stand_ins
    args = ReplayOptions(incident="i.yaml", stand_ins=["cookie:sid=s2", "query:key=a=b"])
    got = _stand_ins(args, profile)
    assert got["header:Authorization"] == ("Bearer from-profile", "profile sandbox.stand_ins")
    assert got["cookie:sid"] == ("s2", "--stand-in")
    assert got["query:key"] == ("a=b", "--stand-in")
    args.auth = "Bearer from-flag"
    assert _stand_ins(args, profile)["header:Authorization"] == ("Bearer from-flag", "--auth")
