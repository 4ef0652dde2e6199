"""The schedules facet against a fake crontab + systemd tree (this machine has no cron jobs of
its own worth asserting on), through the ``root`` option."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from repro.errors import ReproError
from repro.profile.facets import validate_options
from repro.profile.file import Profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext, sorted_tree
from repro.snapshot.file import FacetResult
from repro.snapshot.schedules import (
    FACET,
    is_enabled,
    listed_timers,
    parse_crontab,
    parse_unit,
    redact_command,
)
from repro.targets.base import Target
from repro.targets.local import LocalTarget
from tests.helpers.files import put

IS_ROOT = os.geteuid() == 0


def redactor() -> Redactor:
    return Redactor(key=RedactionKey.from_bytes(b"test-team-key", "test"))


def capture(target: Target, root: str | None) -> FacetResult:
    """As repro.snapshot.capture.capture_facet does (its registry imports every facet)."""
    red = redactor()
    ctx = CaptureContext(
        target=target,
        profile=Profile(name="test", path=None),
        options=validate_options(FACET, {} if root is None else {"root": root}, "test"),
        redactor=red,
    )
    try:
        result = FACET.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    result.data = sorted_tree(red.redact_tree(result.data))
    result.problems = sorted({red.scrub(p) for p in result.problems})
    return result


def dumps(result: FacetResult) -> str:
    return json.dumps(result.to_json(), sort_keys=True)


CRONTAB = """\
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin
MAILTO="ops@example.com"
# m h dom mon dow user  command
17 *    * * *   root    cd / && run-parts --report /etc/cron.hourly
"""
BACKUP = """\
# nightly dump
0 3 * * * postgres pg_dump postgresql://app:{canary}@db:5432/app > /backup/app.sql
@reboot root /usr/local/bin/warm --token={canary}-tok --level 3
*/5 * * * * root PGPASSWORD={canary}-pg psql -c 'select 1'
*/5 * * * * root PGPASSWORD={canary}-pg psql -c 'select 1'
this is not a cron line
"""


def build_tree(root: Path, canary: str) -> None:
    put(root, "/etc/crontab", CRONTAB)
    put(root, "/etc/cron.d/backup", BACKUP.format(canary=canary))
    put(root, "/etc/cron.daily/logrotate", "#!/bin/sh\n", mode=0o755)
    put(root, "/etc/cron.daily/forgotten", "#!/bin/sh\n", mode=0o644)
    put(root, "/etc/cron.weekly/man-db", "#!/bin/sh\n", mode=0o755)
    put(
        root,
        "/var/spool/cron/crontabs/alice",
        "# DO NOT EDIT\n30 2 * * 1 /home/alice/report\n",
        mode=0o600,
    )
    (root / "var/spool/cron/crontabs").chmod(0o1730)
    put(
        root,
        "/lib/systemd/system/backup.timer",
        "[Unit]\nDescription=nightly\n[Timer]\nOnCalendar=daily\nPersistent=true\n"
        "[Install]\nWantedBy=timers.target\n",
    )
    # The drop-in resets the schedule, as `systemctl edit` writes it.
    put(
        root,
        "/etc/systemd/system/backup.timer.d/override.conf",
        "[Timer]\nOnCalendar=\nOnCalendar=*-*-* 03:00:00\n",
    )
    put(
        root,
        "/lib/systemd/system/backup.service",
        "[Service]\nType=oneshot\nUser=backup\nExecStart=/usr/bin/backup \\\n    --all\n",
    )
    links = root / "etc/systemd/system/timers.target.wants"
    links.mkdir(parents=True)
    (links / "backup.timer").symlink_to("/lib/systemd/system/backup.timer")
    put(
        root,
        "/etc/systemd/system/clean.timer",
        "[Timer]\nOnBootSec=5min\nOnUnitActiveSec=1d\nUnit=cleanup.service\n",
    )
    put(root, "/usr/lib/systemd/system/cleanup.service", "[Service]\nExecStart=/usr/bin/clean\n")


@pytest.fixture
def fake_root() -> Iterator[Path]:
    # World-traversable, so a capture running as nobody reaches everything but the spool.
    base = Path(tempfile.mkdtemp(prefix="repro-sched-", dir="/tmp"))
    base.chmod(0o755)
    try:
        build_tree(base, "canary-Kp3Vd8Rw")
        yield base
    finally:
        shutil.rmtree(base)


# --- pure logic ------------------------------------------------------------------------------


def test_parse_crontab_system_and_user_formats() -> None:
    jobs, env, problems = parse_crontab(
        "A=1\n# c\n-0 1 * * * root /x\n@daily  root   /y --z\n0 1 * *\n", "/etc/crontab", None
    )
    assert [(j.schedule, j.user, j.command) for j in jobs] == [
        ("0 1 * * *", "root", "/x"),
        ("@daily", "root", "/y --z"),
    ]
    assert env == {"A": "1"}
    assert problems == ["/etc/crontab: line 5: not a cron entry"]
    jobs, _, _ = parse_crontab("MAILTO=''\n5 4 * * sun echo hi there\n", "/spool/bob", "bob")
    assert [(j.schedule, j.user, j.command) for j in jobs] == [
        ("5 4 * * sun", "bob", "echo hi there")
    ]


def test_unit_files_merge_drop_ins_and_continuations() -> None:
    unit = parse_unit(
        [
            "[Timer]\nOnCalendar=daily\nOnCalendar=weekly\n# x\n[Service]\nExecStart=/a \\\n  -b\n",
            "[Timer]\nOnCalendar=\nOnCalendar=hourly\n",
        ]
    )
    assert unit == {"Timer": {"OnCalendar": ["hourly"]}, "Service": {"ExecStart": ["/a -b"]}}


def test_systemctl_listing_gives_names_only() -> None:
    output = (
        "Mon 2024-01-01 06:00:00 UTC 5h left Sun 2023-12-31 06:00:00 UTC 18h ago "
        "apt-daily.timer apt-daily.service\n"
        "n/a n/a n/a n/a pg_dump@main.timer pg_dump@main.service\n"
    )
    assert listed_timers(output) == {"apt-daily.timer", "pg_dump@main.timer"}
    assert is_enabled("pg_dump@.timer", {"pg_dump@main.timer"})
    assert not is_enabled("pg_dump@.timer", {"other@main.timer"})
    assert is_enabled("a.timer", {"a.timer"})


def test_commands_hide_passwords_in_urls_flags_and_env() -> None:
    red = redactor()
    key, value = redact_command(red, "pg_dump postgresql://u:hunter2secret@db/x")
    assert key == "pg_dump postgresql://u:***@db/x"
    assert value["redacted"] is True and value["masked"] == key
    key, _ = redact_command(red, "mysqldump --password 's3cr3t pw' --user=app -h db")
    assert key == "mysqldump --password *** --user=app -h db"
    key, _ = redact_command(red, "PGPASSWORD=abc123xyz psql 'host=db password=zz9x'")
    assert key == "PGPASSWORD=*** psql 'host=db password=***'"
    # Variables and files are not secrets; plain commands stay plain.
    assert redact_command(red, "run --password-file=/run/secrets/pw") == (
        "run --password-file=/run/secrets/pw",
        "run --password-file=/run/secrets/pw",
    )
    assert redact_command(red, 'pg_dump --password="$PW" db')[0] == 'pg_dump --password="$PW" db'
    assert redact_command(red, "echo hi > /tmp/x") == ("echo hi > /tmp/x", "echo hi > /tmp/x")
    # Remembered: any later message mentioning them is scrubbed.
    assert "hunter2secret" not in red.scrub("failed: hunter2secret")


# --- the facet on a fake tree ----------------------------------------------------------------


def test_captures_cron_and_timers(fake_root: Path) -> None:
    result = capture(LocalTarget(), str(fake_root))
    assert result.status == "partial"  # the bad line in /etc/cron.d/backup
    assert result.problems == ["/etc/cron.d/backup: line 6: not a cron entry"]
    jobs = result.data["jobs"]
    assert jobs["cron:/etc/crontab:cd / && run-parts --report /etc/cron.hourly"] == {
        "command": "cd / && run-parts --report /etc/cron.hourly",
        "schedule": "17 * * * *",
        "source": "/etc/crontab",
        "user": "root",
    }
    dump = jobs[
        "cron:/etc/cron.d/backup:pg_dump postgresql://app:***@db:5432/app > /backup/app.sql"
    ]
    assert dump["schedule"] == "0 3 * * *"
    assert dump["user"] == "postgres"
    assert dump["command"]["masked"] == "pg_dump postgresql://app:***@db:5432/app > /backup/app.sql"
    warm = jobs["cron:/etc/cron.d/backup:/usr/local/bin/warm --token=*** --level 3"]
    assert warm["schedule"] == "@reboot"
    # The same line twice is two jobs.
    psql = "cron:/etc/cron.d/backup:PGPASSWORD=*** psql -c 'select 1'"
    assert psql in jobs and f"{psql} #2" in jobs
    assert jobs["cron:/var/spool/cron/crontabs/alice:/home/alice/report"]["user"] == "alice"
    assert jobs["cron.daily:/etc/cron.daily/logrotate"] == {
        "command": "/etc/cron.daily/logrotate",
        "executable": True,
        "schedule": "daily",
        "source": "/etc/cron.daily",
        "user": "root",
    }
    assert jobs["cron.daily:/etc/cron.daily/forgotten"]["executable"] is False
    assert jobs["cron.weekly:/etc/cron.weekly/man-db"]["schedule"] == "weekly"
    assert jobs["timer:backup.timer"] == {
        "command": "/usr/bin/backup --all",
        "enabled": True,
        "schedule": "OnCalendar=*-*-* 03:00:00",
        "source": "/lib/systemd/system/backup.timer",
        "unit": "backup.service",
        "user": "backup",
    }
    assert jobs["timer:clean.timer"] == {
        "command": "/usr/bin/clean",
        "enabled": False,
        "schedule": "OnBootSec=5min; OnUnitActiveSec=1d",
        "source": "/etc/systemd/system/clean.timer",
        "unit": "cleanup.service",
        "user": "root",
    }
    assert result.data["cron_env"] == {
        "/etc/crontab": {
            "MAILTO": "ops@example.com",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
            "SHELL": "/bin/sh",
        }
    }
    assert "systemd_running" not in result.data  # a fake root says nothing about systemd


def test_secrets_in_commands_never_leave(fake_root: Path) -> None:
    first = capture(LocalTarget(), str(fake_root))
    assert "canary-Kp3Vd8Rw" not in dumps(first)
    same = capture(LocalTarget(), str(fake_root))
    assert dumps(first) == dumps(same)
    build_tree_again = fake_root / "etc/cron.d/backup"
    build_tree_again.write_text(BACKUP.format(canary="canary-changed"))
    changed = capture(LocalTarget(), str(fake_root))
    key = "cron:/etc/cron.d/backup:pg_dump postgresql://app:***@db:5432/app > /backup/app.sql"
    assert (
        first.data["jobs"][key]["command"]["fingerprint"]
        != changed.data["jobs"][key]["command"]["fingerprint"]
    )
    assert "canary-changed" not in dumps(changed)


@pytest.mark.skipif(not IS_ROOT, reason="runs a capture as nobody")
def test_user_crontabs_need_root(fake_root: Path) -> None:
    result = capture(LocalTarget(user="nobody"), str(fake_root))
    assert result.status == "partial"
    assert (
        "/var/spool/cron/crontabs: permission denied (user crontabs are readable only by root)"
        in result.problems
    )
    assert not any(key.startswith("cron:/var/spool") for key in result.data["jobs"])
    assert "cron:/etc/crontab:cd / && run-parts --report /etc/cron.hourly" in result.data["jobs"]


def test_an_empty_root_is_ok(tmp_path: Path) -> None:
    result = capture(LocalTarget(), str(tmp_path))
    assert result.status == "ok"
    assert result.data == {"cron_env": {}, "jobs": {}}


def test_this_machine(tmp_path: Path) -> None:
    result = capture(LocalTarget(), None)
    assert result.status in ("ok", "partial"), result.message
    if shutil.which("systemctl"):
        assert isinstance(result.data["systemd_running"], bool)
    assert dumps(result) == dumps(capture(LocalTarget(), None))
