"""``repro diff --fix-script``: a bash + SQL script that would make the right side ("staging")
look like the left ("prod") where that is safe and knowable — for a human to review and run.

Nothing here executes anything. The script refuses to run until ``REPRO_FIX_REVIEWED=1`` is
set, shell-quotes every word (:func:`shlex.quote`), quotes every SQL literal and identifier,
and writes secrets only as placeholders carrying prod's fingerprint: the snapshot never had a
secret's value, and this script must not invent one. What cannot be fixed by a command
(a major version, schema, limits, cron jobs) becomes a commented note.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from repro.diff.model import MISSING, DiffResult, Discrepancy
from repro.diff.rules.db_server import setting_category
from repro.diff.versions import compare
from repro.redacted import is_redacted

# Settings that take effect only after a restart (postmaster context), or never (initdb).
RESTART_SETTINGS = frozenset(
    {
        "max_connections",
        "shared_buffers",
        "max_locks_per_transaction",
        "max_pred_locks_per_transaction",
        "max_prepared_transactions",
        "max_worker_processes",
        "wal_level",
        "shared_preload_libraries",
        "huge_pages",
        "max_wal_senders",
        "max_replication_slots",
        "superuser_reserved_connections",
        "wal_buffers",
        "track_commit_timestamp",
        "max_files_per_process",
        "autovacuum_max_workers",
    }
)
READ_ONLY_SETTINGS = frozenset(
    {
        "server_encoding",
        "lc_collate",
        "lc_ctype",
        "server_version",
        "server_version_num",
        "block_size",
        "data_checksums",
        "segment_size",
        "wal_segment_size",
        "integer_datetimes",
    }
)
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def sql_literal(value: Any) -> str:
    """A literal valid whatever standard_conforming_strings says, on one line."""
    text = str(value)
    if re.search(r"[\\\x00-\x1f]", text):
        escaped = (
            text.replace("\\", "\\\\")
            .replace("'", "''")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
            .replace("\t", "\\t")
        )
        escaped = re.sub(r"[\x00-\x1f]", lambda m: f"\\x{ord(m.group(0)):02x}", escaped)
        return f"E'{escaped}'"
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return name if _IDENTIFIER.match(name) else '"' + name.replace('"', '""') + '"'


def comment(text: str, prefix: str = "#") -> str:
    """A one-line comment; newlines in captured text must not end it early."""
    return f"{prefix} " + " ".join(str(text).split())


def secret_placeholder(value: Any) -> str:
    fingerprint = value.get("fingerprint", "?") if isinstance(value, dict) else "?"
    masked = value.get("masked") if isinstance(value, dict) else None
    shape = f" like {masked}" if isinstance(masked, str) and masked else ""
    return f"<secret: set from your vault{shape}; prod fingerprint {fingerprint}>"


@dataclass
class _Script:
    result: DiffResult
    python: list[str] = field(default_factory=list)  # pip requirement words
    os_packages: dict[str, list[str]] = field(default_factory=dict)  # manager -> words
    chmod: dict[str, str] = field(default_factory=dict)  # path -> mode
    chown: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> owner/group
    env: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reload_conf: bool = False

    @property
    def L(self) -> str:
        return self.result.left.label

    @property
    def R(self) -> str:
        return self.result.right.label

    def note(self, item: Discrepancy, text: str) -> None:
        self.notes.append(comment(f"[{item.severity}] {item.path}: {text}"))


def render_fix_script(result: DiffResult) -> str:
    script = _Script(result)
    for item in result.discrepancies:
        handler = _HANDLERS.get(item.facet)
        if item.severity == "info":
            continue  # known-harmless: nothing to fix, nothing to review
        if item.kind == "incomparable":
            script.note(item, f"incomparable, nothing generated: {item.hint}")
        elif handler is None or not handler(script, item):
            script.note(item, f"not fixable by a command: {item.hint}")
    return _assemble(script)


# --- per facet -------------------------------------------------------------------------------


def _packages(script: _Script, item: Discrepancy) -> bool:
    keys = item.keys
    if len(keys) != 3 or keys[1] not in ("distributions", "packages"):
        return False
    name = keys[2]
    if item.kind == "only_in_staging":
        script.note(
            item,
            f"installed only in {script.R}; to match {script.L}, remove it "
            f"({'pip uninstall' if keys[0] == 'python' else 'your package manager'})",
        )
        return True
    version = item.left
    if not isinstance(version, str) or not version:
        return False
    if keys[0] == "python":
        script.python.append(shlex.quote(f"{name}=={version}"))
        return True
    manager = _os_manager(script)
    if manager is None:
        return False
    word = _OS_INSTALL[manager][1].format(name=name, version=version)
    script.os_packages.setdefault(manager, []).append(shlex.quote(word))
    return True


def _os_manager(script: _Script) -> str | None:
    """The right side's package manager (the script runs there), else the left side's."""
    manager = script.result.facts.get("os_manager")
    return manager if isinstance(manager, str) and manager in _OS_INSTALL else None


def _env(script: _Script, item: Discrepancy) -> bool:
    if len(item.keys) != 2 or item.keys[0] != "vars":
        return False
    name = item.keys[1]
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
        script.note(
            item, f"{name!r} is not a shell variable name; set it in the app's environment by hand"
        )
        return True
    if item.kind == "only_in_staging":
        script.env.append(f"unset {name}")
        return True
    value = item.left
    if is_redacted(value):
        script.env.append(f"export {name}={shlex.quote(secret_placeholder(value))}")
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        script.env.append(f"export {name}={shlex.quote(str(value))}")
    else:
        return False
    return True


def _database(script: _Script, item: Discrepancy) -> bool:
    keys = item.keys
    if keys[0] == "settings" and len(keys) >= 2:
        return _setting(script, item)
    if keys[0] == "extensions" and len(keys) >= 2:
        return _extension(script, item)
    if keys[0] == "server":
        script.note(
            item,
            f"PostgreSQL versions cannot be changed by a script; run "
            f"{script.R} on {script.L}'s version ({item.hint})",
        )
        return True
    return False


def _setting(script: _Script, item: Discrepancy) -> bool:
    name = item.keys[1]
    if len(item.keys) == 3 and item.keys[2] != "value":
        return False
    if not _SETTING_NAME.match(name):
        script.note(item, f"unusual setting name {name!r}; set it by hand")
        return True
    if name in READ_ONLY_SETTINGS:
        script.note(
            item,
            f"{name} is fixed when the cluster/database is created "
            f"(initdb / CREATE DATABASE); recreate {script.R}'s to match",
        )
        return True
    sql_name = name if "." not in name else ".".join(sql_identifier(p) for p in name.split("."))
    if item.kind == "only_in_staging":
        script.sql.append(
            comment(
                f"{name} is at its default in {script.L}; RESET removes "
                "an ALTER SYSTEM value only (check postgresql.conf too)",
                "--",
            )
        )
        script.sql.append(f"ALTER SYSTEM RESET {sql_name};")
        script.reload_conf = True
        return True
    entry = item.left if len(item.keys) == 2 else {"value": item.left}
    value = entry.get("value") if isinstance(entry, dict) else MISSING
    if is_redacted(value):
        script.sql.append(
            comment(
                f"ALTER SYSTEM SET {sql_name} = {sql_literal(secret_placeholder(value))};", "--"
            )
        )
        return True
    if value is MISSING or value is None:
        return False
    unit = entry.get("unit") if isinstance(entry, dict) else None
    # pg_settings values are in the setting's base unit, which is what a unitless value means.
    amount = ""
    if isinstance(unit, str) and unit:
        amount = f" ({value} × {unit})" if unit[0].isdigit() else f" ({value} {unit})"
    why = f"{script.L} value{amount}"
    category = setting_category(name)
    if category == "risky":
        why += "; risky: changes query results or failures"
    if name in RESTART_SETTINGS:
        why += "; needs a server restart"
    statement = f"ALTER SYSTEM SET {sql_name} = {sql_literal(value)};"
    if category == "ops":
        # Logging, replication, authentication plumbing: matching prod is rarely the point
        # (and can weaken staging, e.g. password_encryption = md5), so only suggested.
        script.sql.append(comment(f"{why}; optional (operations setting): {statement}", "--"))
        return True
    script.sql.append(comment(why, "--"))
    script.sql.append(statement)
    script.reload_conf = True
    return True


def _extension(script: _Script, item: Discrepancy) -> bool:
    name = item.keys[1]
    ident = sql_identifier(name)
    if item.kind == "only_in_staging" and len(item.keys) == 2:
        script.sql.append(
            comment(
                f"extension {name} exists only in {script.R}; dropping it may "
                f"drop dependent objects: DROP EXTENSION {ident};",
                "--",
            )
        )
        return True
    if item.kind == "only_in_prod" and len(item.keys) == 2:
        entry = item.left if isinstance(item.left, dict) else {}
        version, schema = entry.get("version"), entry.get("schema")
        statement = f"CREATE EXTENSION IF NOT EXISTS {ident}"
        if isinstance(schema, str) and schema:
            statement += f" SCHEMA {sql_identifier(schema)}"
        if isinstance(version, str) and version:
            statement += f" VERSION {sql_literal(version)}"
        script.sql.append(statement + ";")
        return True
    if item.keys[2:] == ("version",) and isinstance(item.left, str):
        if compare(item.left, item.right) == -1:
            script.sql.append(
                comment(
                    f"extension {name}: {script.L} has the older "
                    f"{item.left}; extensions cannot be downgraded in place "
                    f"(drop and CREATE EXTENSION {ident} VERSION "
                    f"{sql_literal(item.left)})",
                    "--",
                )
            )
        else:
            script.sql.append(f"ALTER EXTENSION {ident} UPDATE TO {sql_literal(item.left)};")
        return True
    return False


def _files(script: _Script, item: Discrepancy) -> bool:
    keys = item.keys
    if len(keys) != 3 or keys[0] != "paths" or item.kind != "changed":
        return False
    path, what = keys[1], keys[2]
    if what == "mode" and isinstance(item.left, str) and re.fullmatch(r"[0-7]{3,4}", item.left):
        script.chmod[path] = item.left
        return True
    if what in ("owner", "group") and isinstance(item.left, str) and item.left:
        script.chown.setdefault(path, {})[what] = item.left
        return True
    # uid/gid follow owner/group, which carry the names chown needs.
    return what in ("uid", "gid")


def _owner_spec(who: dict[str, str]) -> str:
    """``owner``, ``owner:group`` or ``:group`` for chown."""
    return who.get("owner", "") + (f":{who['group']}" if "group" in who else "")


def _file_access(script: _Script, item: Discrepancy) -> bool:
    if len(item.keys) >= 3 and item.keys[0] == "paths" and item.keys[2] == "access":
        script.note(
            item,
            f"{item.hint} — follows from mode, owner and group (the chmod/chown "
            "lines above) and the parent directories",
        )
        return True
    return _files(script, item)


_HANDLERS: dict[str, Callable[[_Script, Discrepancy], bool]] = {
    "packages": _packages,
    "env": _env,
    "database": _database,
    "files": _file_access,
}
_OS_INSTALL = {
    "dpkg": ("apt-get install -y --allow-downgrades", "{name}={version}"),
    "apk": ("apk add", "{name}={version}"),
    "rpm": ("dnf install -y", "{name}-{version}"),
}


# --- assembly --------------------------------------------------------------------------------


def _assemble(script: _Script) -> str:
    left, right = script.result.left, script.result.right
    header = [
        "#!/usr/bin/env bash",
        comment(f"repro fix script: bring {right.label} closer to {left.label}."),
        comment(
            f"Generated from {left.label} ({left.captured_at}) and {right.label} "
            f"({right.captured_at})."
        ),
        comment(
            f"NOTHING WAS EXECUTED. Review every line, then run it against {right.label} "
            "only, with REPRO_FIX_REVIEWED=1."
        ),
        "# Secrets are placeholders (prod's fingerprint tells which value): fill them from your",
        "# vault. Nothing below has ever seen a secret's value.",
        "set -euo pipefail",
        ': "${REPRO_FIX_REVIEWED:?review this script first, then run it with '
        'REPRO_FIX_REVIEWED=1}"',
    ]
    body: list[str] = []
    if script.python:
        python = script.result.facts.get("python")
        default = shlex.quote(python) if isinstance(python, str) and python else "python3"
        body += [
            "",
            "# Python distributions pinned to prod's versions",
            f'PYTHON="${{PYTHON:-{default}}}"',
            '"$PYTHON" -m pip install ' + " ".join(script.python),
        ]
    for manager, words in sorted(script.os_packages.items()):
        body += [
            "",
            f"# OS packages ({manager}) pinned to prod's versions",
            f"{_OS_INSTALL[manager][0]} " + " ".join(words),
        ]
    if script.chown or script.chmod:
        # chown first: it may clear setuid/setgid bits that the chmod then restores.
        lines = [
            f"chown {shlex.quote(_owner_spec(who))} -- {shlex.quote(path)}"
            for path, who in sorted(script.chown.items())
        ]
        lines += [
            f"chmod {mode} -- {shlex.quote(path)}" for path, mode in sorted(script.chmod.items())
        ]
        body += ["", "# File owners and modes as in prod", *lines]
    if script.env:
        body += [
            "",
            "# Environment as in prod: put these where the app's environment is defined",
            "# (systemd unit, compose file, manifest); exporting here affects this shell.",
            *script.env,
        ]
    if script.sql:
        statements = list(script.sql)
        if script.reload_conf:
            statements.append("SELECT pg_reload_conf();")
        body += [
            "",
            "# PostgreSQL, as a superuser of the staging server",
            'psql "${STAGING_DSN:?set STAGING_DSN to the staging database}" '
            "-v ON_ERROR_STOP=1 <<'REPRO_SQL'",
            *statements,
            "REPRO_SQL",
        ]
    if script.notes:
        body += ["", "# Not fixed automatically (review by hand):", *script.notes]
    if not body:
        body = ["", "# Nothing to do: no discrepancy has a safe automatic fix."]
    return "\n".join(header + body) + "\n"
