"""The fix script: reviewed-by-a-human bash + SQL, quoted everywhere, secrets as
placeholders, and notes for what no command can fix."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from repro.diff import render_fix_script
from repro.diff.fixscript import sql_identifier, sql_literal
from tests.helpers.builders import Side, diff, pair, secret


def script_for(edit: object) -> str:
    prod, staging = pair()
    edit(prod, staging)  # type: ignore[operator]
    return render_fix_script(diff(prod, staging))


def test_header_says_nothing_ran_and_guards_execution() -> None:
    text = script_for(lambda p, s: None)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "NOTHING WAS EXECUTED" in text
    assert ': "${REPRO_FIX_REVIEWED:?' in text
    assert "Nothing to do" in text


def test_package_pins() -> None:
    def edit(p: Side, s: Side) -> None:
        s.put("packages", "python", "distributions", "demo-pricing", "1.4.2")
        p.put("packages", "python", "distributions", "sentry-sdk", "1.40.0")
        s.put("packages", "os", "packages", "libc6", "2.36-9+deb12u3")
        p.put("packages", "os", "packages", "imagemagick", "8:6.9.11.60+dfsg-1.6")

    text = script_for(edit)
    assert '"$PYTHON" -m pip install demo-pricing==2.1.0 sentry-sdk==1.40.0' in text
    assert 'PYTHON="${PYTHON:-/usr/bin/python3}"' in text
    assert (
        "apt-get install -y --allow-downgrades imagemagick=8:6.9.11.60+dfsg-1.6 "
        "libc6=2.36-9+deb12u4"
    ) in text


def test_other_package_managers() -> None:
    def edit(p: Side, s: Side) -> None:
        for side in (p, s):
            side.put("packages", "os", "manager", "rpm")
        s.put("packages", "os", "packages", "openssl", "3.0.7-24.el9")

    assert "dnf install -y 'openssl-3.0.11-1~deb12u2'" in script_for(edit)


def test_settings_and_reload() -> None:
    def edit(p: Side, s: Side) -> None:
        p.put("database", "settings", "TimeZone", "value", "America/New_York")
        p.put(
            "database",
            "settings",
            "app.greeting",
            {"value": "it's", "unit": None, "source": "database"},
        )
        s.put(
            "database",
            "settings",
            "max_connections",
            {"value": "500", "unit": None, "source": "configuration file"},
        )
        p.put("database", "settings", "work_mem", "value", "65536")
        p.put(
            "database", "settings", "lc_collate", {"value": "C", "unit": None, "source": "override"}
        )
        p.put(
            "database",
            "settings",
            "shared_buffers",
            {"value": "16384", "unit": "8kB", "source": "configuration file"},
        )
        p.put(
            "database",
            "settings",
            "password_encryption",
            {"value": "md5", "unit": None, "source": "configuration file"},
        )

    text = script_for(edit)
    assert "ALTER SYSTEM SET TimeZone = 'America/New_York';" in text
    assert "ALTER SYSTEM SET app.greeting = 'it''s';" in text
    assert "ALTER SYSTEM RESET max_connections;" in text
    assert "ALTER SYSTEM SET work_mem = '65536';" in text
    assert "-- prod value (65536 × kB)" not in text  # unit is on the parent entry
    assert "lc_collate is fixed when the cluster/database is created" in text
    assert "-- prod value (16384 × 8kB); needs a server restart" in text
    assert "\nALTER SYSTEM SET shared_buffers = '16384';" in text
    # A weaker security setting in prod is never proposed for staging, not even as a comment:
    # the script says to fix production.
    assert "password_encryption = 'md5'" not in text
    assert (
        "not proposed: prod's password_encryption = md5 is weaker than staging's "
        "(scram-sha-256); fix production instead (ALTER SYSTEM SET password_encryption = "
        "'scram-sha-256' there)"
    ) in text
    assert text.index("SELECT pg_reload_conf();") > text.index("ALTER SYSTEM SET TimeZone")
    assert "<<'REPRO_SQL'" in text and "\nREPRO_SQL\n" in text


def test_secret_setting_is_a_commented_placeholder() -> None:
    text = script_for(
        lambda p, s: p.put(
            "database",
            "settings",
            "app.api_token",
            {"value": secret("tok"), "unit": None, "source": "database"},
        )
    )
    line = next(x for x in text.splitlines() if "app.api_token" in x and "ALTER" in x)
    assert line.startswith("-- ALTER SYSTEM SET app.api_token = '<secret: set from your vault;")
    assert secret("tok")["fingerprint"] in line


def test_extensions() -> None:
    def edit(p: Side, s: Side) -> None:
        p.put("database", "extensions", "citext", {"schema": "public", "version": "1.6"})
        p.put("database", "extensions", "hstore", "version", "1.8")
        s.put("database", "extensions", "hstore", "version", "1.4")
        s.put("database", "extensions", "pg_trgm", {"schema": "public", "version": "1.6"})

    text = script_for(edit)
    assert "CREATE EXTENSION IF NOT EXISTS citext SCHEMA public VERSION '1.6';" in text
    assert "ALTER EXTENSION hstore UPDATE TO '1.8';" in text
    assert "-- extension pg_trgm exists only in staging" in text


def test_files_env_and_notes() -> None:
    def edit(p: Side, s: Side) -> None:
        p.put(
            "files",
            "paths",
            "/etc/my app/x.yaml",
            {"exists": True, "mode": "0600", "owner": "root", "group": "root"},
        )
        s.put(
            "files",
            "paths",
            "/etc/my app/x.yaml",
            {"exists": True, "mode": "0644", "owner": "app", "group": "app"},
        )
        p.put("env", "vars", "GREETING", "it's $HOME; rm -rf /")
        s.put("env", "vars", "DEBUG", "1")
        s.put("env", "vars", "SECRET_KEY", secret("other"))
        p.put("runtime", "cgroup", "memory_limit_bytes", 1)

    text = script_for(edit)
    assert "chown root:root -- '/etc/my app/x.yaml'" in text
    assert "chmod 0600 -- '/etc/my app/x.yaml'" in text
    assert text.index("chown root:root") < text.index("chmod 0600")
    assert "export GREETING='it'\"'\"'s $HOME; rm -rf /'" in text
    assert "unset DEBUG" in text
    assert (
        "export SECRET_KEY='<secret: set from your vault; prod fingerprint "
        f"{secret('secret-key')['fingerprint']}>'"
    ) in text
    assert "# [high] runtime.cgroup.memory_limit_bytes: not fixable by a command" in text


def test_major_version_and_schema_are_notes() -> None:
    def edit(p: Side, s: Side) -> None:
        p.put("database", "server", "major", 13)
        p.put("database", "tables", "public.audit", {"kind": "table"})

    text = script_for(edit)
    assert "# [critical] database.server.major: PostgreSQL versions cannot be changed" in text
    assert "# [high] database.tables.public.audit: not fixable by a command" in text


def test_sql_quoting() -> None:
    assert sql_literal("a'b") == "'a''b'"
    assert sql_literal("a\\b\nc") == "E'a\\\\b\\nc'"
    assert sql_identifier("hstore") == "hstore"
    assert sql_identifier('Odd"Name') == '"Odd""Name"'


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_script_is_valid_bash_and_refuses_to_run_unreviewed(tmp_path: object) -> None:
    from tests.helpers.builders import demo_result

    text = render_fix_script(demo_result())
    assert subprocess.run(["bash", "-n"], input=text, text=True, check=False).returncode == 0
    done = subprocess.run(
        ["bash", "-s"],
        input=text,
        text=True,
        capture_output=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0 and "review this script first" in done.stderr


@pytest.mark.parametrize(
    ("name", "prod", "staging", "weaker"),
    [
        ("ssl", "off", "on", True),
        ("ssl", "on", "off", False),
        ("ssl_min_protocol_version", "TLSv1", "TLSv1.2", True),
        ("ssl_min_protocol_version", "TLSv1.3", "TLSv1.2", False),
        ("row_security", "off", None, True),  # staging at its default (on)
        ("password_encryption", "scram-sha-256", "md5", False),  # prod is the safer: copy it
        ("allow_system_table_mods", "on", None, False),  # default unknown on staging's side
    ],
)
def test_security_settings_never_weaken_staging(
    name: str, prod: str, staging: str | None, weaker: bool
) -> None:
    def edit(p: Any, s: Any) -> None:
        entry = {"unit": None, "source": "configuration file"}
        p.put("database", "settings", name, {"value": prod, **entry})
        if staging is not None:  # None: at its default there, so not captured
            s.put("database", "settings", name, {"value": staging, **entry})

    text = script_for(edit)
    assert ("fix production instead" in text) is weaker, text
    assert (f"SET {name} = '{prod}'" in text) is not weaker
