"""The fix script: reviewed-by-a-human bash + SQL, quoted everywhere, secrets as
placeholders, and notes for what no command can fix.

Commands are checked by running the script (REPRO_FIX_REVIEWED=1) against stub commands
that log their argv (tests/helpers/stubs.py): what bash actually passes, not what the text
looks like. Every script also passes ShellCheck.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repro.diff import render_fix_script
from repro.diff.fixscript import sql_identifier, sql_literal
from tests.helpers.builders import Side, diff, pair, secret
from tests.helpers.fixscript import REVIEWED, psql_statements, run, shellcheck
from tests.helpers.pg import PgServer
from tests.helpers.stubs import run_with_stubs


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


def test_package_pins(tmp_path: Path) -> None:
    def edit(p: Side, s: Side) -> None:
        s.put("packages", "python", "distributions", "demo-pricing", "1.4.2")
        p.put("packages", "python", "distributions", "sentry-sdk", "1.40.0")
        s.put("packages", "os", "packages", "libc6", "2.36-9+deb12u3")
        p.put("packages", "os", "packages", "imagemagick", "8:6.9.11.60+dfsg-1.6")

    text = script_for(edit)
    assert "if [ -z \"$PYTHON\" ]; then PYTHON=/usr/bin/python3; fi" in text
    done = run(text, tmp_path, PYTHON="python3")
    assert done.of("python3") == [
        ["-m", "pip", "install", "--", "demo-pricing==2.1.0", "sentry-sdk==1.40.0"]
    ]
    assert done.of("apt-get") == [
        ["install", "-y", "--allow-downgrades", "--", "imagemagick=8:6.9.11.60+dfsg-1.6",
         "libc6=2.36-9+deb12u4"]
    ]  # fmt: skip


def test_captured_interpreter_is_a_literal_path_never_run_as_code(tmp_path: Path) -> None:
    """Finding 1: staging's interpreter path `/usr/bin/python3$(touch pwned)` once ran
    `touch` as the script started (a shlex-quoted word inside "${PYTHON:-...}")."""

    def edit(p: Side, s: Side) -> None:
        s.put("packages", "python", "interpreter", "/usr/bin/python3$(touch pwned)")
        p.put("packages", "python", "distributions", "demo-pricing", "2.2.0")

    text = script_for(edit)
    shellcheck(text)
    done = run_with_stubs(text, tmp_path, env=REVIEWED)  # PYTHON unset: the default applies
    assert done.of("touch") == [] and done.new_files == []
    assert done.returncode == 127  # the literal path does not exist: set -e stops there
    assert "/usr/bin/python3$(touch pwned): No such file or directory" in done.stderr


@pytest.mark.parametrize(
    ("manager", "command", "word"),
    [
        ("rpm", ["dnf", "install", "-y", "--"], "openssl-3.0.11-1~deb12u2"),
        ("apk", ["apk", "add", "--"], "openssl=3.0.11-r1"),
    ],
)
def test_other_package_managers(
    manager: str, command: list[str], word: str, tmp_path: Path
) -> None:
    version = "3.0.11-r1" if manager == "apk" else "3.0.11-1~deb12u2"

    def edit(p: Side, s: Side) -> None:
        for side in (p, s):
            side.put("packages", "os", "manager", manager)
        p.put("packages", "os", "packages", "openssl", version)
        s.put("packages", "os", "packages", "openssl", "3.0.7-24.el9")

    done = run(script_for(edit), tmp_path)
    assert done.of(command[0]) == [[*command[1:], word]]


def test_option_shaped_names_never_reach_a_command(tmp_path: Path) -> None:
    """Finding 2: names that would be options are refused (and '--' precedes operands)."""

    def edit(p: Side, s: Side) -> None:
        p.put("packages", "os", "packages", "-oDPkg::Pre-Invoke::=touch pwned", "1.0")
        p.put("packages", "python", "distributions", "--index-url=http://evil.invalid", "1.0")
        p.put("packages", "python", "distributions", "requests", "--pre")
        p.put("files", "paths", "/etc/demo-app/settings.yaml", "owner", "--reference=/etc/shadow")
        p.put("files", "paths", "/etc/demo-app/settings.yaml", "group", "-R")
        p.put("database", "extensions", "x\nREPRO_SQL\ntouch pwned", {"version": "1"})

    text = script_for(edit)
    done = run(text, tmp_path)
    assert done.calls == []  # nothing valid left to run
    assert "refused: '-oDPkg::Pre-Invoke::=touch pwned' is not a valid Debian package name" in text
    assert "refused: '--index-url=http://evil.invalid' is not a valid PEP 508" in text
    assert "refused: '--pre' is not a valid PEP 440 version" in text
    assert "refused: '--reference=/etc/shadow' is not a valid user or group name" in text
    assert "is not a valid PostgreSQL identifier" in text


def test_settings_and_reload(tmp_path: Path) -> None:
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
    statements = psql_statements(run(text, tmp_path))
    assert sorted(statements[:-1]) == [
        "ALTER SYSTEM RESET max_connections;",
        "ALTER SYSTEM SET TimeZone = 'America/New_York';",
        "ALTER SYSTEM SET app.greeting = 'it''s';",
        "ALTER SYSTEM SET shared_buffers = '16384';",
        "ALTER SYSTEM SET work_mem = '65536';",
    ]
    assert statements[-1] == "SELECT pg_reload_conf();"
    assert "# prod value (65536 × kB)" not in text  # unit is on the parent entry
    assert "lc_collate is fixed when the cluster/database is created" in text
    assert "# prod value (16384 × 8kB); needs a server restart" in text
    # A weaker security setting in prod is never proposed for staging, not even as a comment:
    # the script says to fix production.
    assert "password_encryption = 'md5'" not in text
    assert (
        "not proposed: prod's password_encryption = md5 is weaker than staging's "
        "(scram-sha-256); fix production instead (ALTER SYSTEM SET password_encryption = "
        "'scram-sha-256' there)"
    ) in text
    assert "<<" not in text  # no heredoc a value could close


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
    assert line.startswith("# ALTER SYSTEM SET app.api_token = '<secret: set from your vault;")
    assert "psql" not in text  # nothing but a comment to run
    assert secret("tok")["fingerprint"] in line


def test_extensions(tmp_path: Path) -> None:
    def edit(p: Side, s: Side) -> None:
        p.put("database", "extensions", "citext", {"schema": "public", "version": "1.6"})
        p.put("database", "extensions", "hstore", "version", "1.8")
        s.put("database", "extensions", "hstore", "version", "1.4")
        s.put("database", "extensions", "pg_trgm", {"schema": "public", "version": "1.6"})

    text = script_for(edit)
    assert psql_statements(run(text, tmp_path)) == [
        "CREATE EXTENSION IF NOT EXISTS citext SCHEMA public VERSION '1.6';",
        "ALTER EXTENSION hstore UPDATE TO '1.8';",
    ]
    assert "# extension pg_trgm exists only in staging" in text


def test_files_env_and_notes(tmp_path: Path) -> None:
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

        p.put("env", "vars", "PATH", "/opt/evil:/usr/bin")

    text = script_for(edit)
    done = run(text, tmp_path, DEBUG="1")
    assert done.calls == [
        ("chown", ["--", "root:root", "/etc/my app/x.yaml"]),
        ("chmod", ["--", "0600", "/etc/my app/x.yaml"]),
    ]
    assert done.env["GREETING"] == "it's $HOME; rm -rf /"
    assert "DEBUG" not in done.env
    assert done.env["SECRET_KEY"] == (
        "<secret: set from your vault; prod fingerprint "
        f"{secret('secret-key')['fingerprint']}>"
    )
    # Exported, PATH would change which program a later line (or the reviewer's shell) runs.
    assert done.env["PATH"] != "/opt/evil:/usr/bin"
    assert "# export PATH=/opt/evil:/usr/bin (not run here" in text
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
    assert sql_identifier("user") == '"user"'  # a reserved word is never bare


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_script_is_valid_bash_and_refuses_to_run_unreviewed(tmp_path: object) -> None:
    from tests.helpers.builders import demo_result

    text = render_fix_script(demo_result())
    shellcheck(text)
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


def test_sql_runs_on_a_real_postgresql_as_written(postgres_17: PgServer, tmp_path: Path) -> None:
    """The psql line, run for real: one ALTER SYSTEM per -c (none inside a transaction
    block), hostile text arriving as the setting's exact value, nothing else executed.
    (PostgreSQL 17: the first to let ALTER SYSTEM set a custom setting nobody defined.)"""
    server = postgres_17
    if shutil.which("psql") is None:
        pytest.skip("no psql client")
    value = "it's \\ $(touch pwned) `x`\t\\! touch pwned\rREPRO_SQL ';-- \u202e"
    name = "repro_fixtest.greeting"

    def edit(p: Side, s: Side) -> None:
        p.put(
            "database", "settings", name,
            {"value": value, "unit": None, "source": "configuration file"},
        )  # fmt: skip

    text = script_for(edit)
    (tmp_path / "fix.sh").write_text(text)
    try:
        done = subprocess.run(
            ["bash", str(tmp_path / "fix.sh")],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "REPRO_FIX_REVIEWED": "1", "STAGING_DSN": server.dsn},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["fix.sh"]
        with server.connect() as conn:
            row = conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone()
        assert row is not None and row[0] == value
    finally:
        with server.connect(autocommit=True) as conn:
            conn.execute(f"ALTER SYSTEM RESET {name}")
            conn.execute("SELECT pg_reload_conf()")


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
    # Statements are ANSI-C quoted shell words ($'... = \'on\';') or comments.
    assert (f"SET {name} = '{prod}'" in text.replace("\\'", "'")) is not weaker
