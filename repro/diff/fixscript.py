"""``repro diff --fix-script``: a bash + SQL script that would make the right side ("staging")
look like the left ("prod") where that is safe and knowable — for a human to review and run.

Nothing here executes anything, and nothing from a snapshot is pasted into the script as it is:
snapshots are files from other machines, so every name is checked against its grammar
(:mod:`repro.shellsafe`) and refused with a comment when it does not match; every value is
quoted for the context it lands in (a shell word, an SQL literal or identifier inside a shell
word, a comment); ``--`` separates options from operands; SQL reaches ``psql`` as ``-c``
arguments, never through a heredoc a value could close. The script refuses to run until
``REPRO_FIX_REVIEWED=1`` is set, and writes secrets only as placeholders carrying prod's
fingerprint: the snapshot never had a secret's value, and this script must not invent one.
What cannot be fixed by a command (a major version, schema, limits, cron jobs) becomes a
commented note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from repro.diff.model import MISSING, DiffResult, Discrepancy
from repro.diff.rules.db_server import setting_category
from repro.diff.sqlquote import sql_identifier, sql_literal, sql_setting_name
from repro.diff.versions import compare
from repro.redacted import is_redacted
from repro.shellsafe import comment_text, shell_sensitive, shell_word, valid

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
# Settings whose value in prod can be *less* safe than staging's: copying prod's would weaken
# staging, so the script says to fix production instead. Values in order, weakest first.
SECURITY_ORDER: dict[str, tuple[str, ...]] = {
    "password_encryption": ("off", "on", "md5", "scram-sha-256"),
    "ssl": ("off", "on"),
    "ssl_prefer_server_ciphers": ("off", "on"),
    "row_security": ("off", "on"),
    "ssl_min_protocol_version": ("", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "allow_system_table_mods": ("on", "off"),
    "lo_compat_privileges": ("on", "off"),
}


def comment(text: str, prefix: str = "#") -> str:
    """A one-line comment: captured text can neither end it early nor hide what follows."""
    return f"{prefix} {comment_text(text)}"


def secret_placeholder(value: Any) -> str:
    fingerprint = value.get("fingerprint", "?") if isinstance(value, dict) else "?"
    masked = value.get("masked") if isinstance(value, dict) else None
    shape = f" like {masked}" if isinstance(masked, str) and masked else ""
    return comment_text(f"<secret: set from your vault{shape}; prod fingerprint {fingerprint}>")


@dataclass
class _Script:
    result: DiffResult
    python: list[str] = field(default_factory=list)  # pip requirements (name==version)
    os_packages: dict[str, list[str]] = field(default_factory=dict)  # manager -> words
    chmod: dict[str, str] = field(default_factory=dict)  # path -> mode
    chown: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> owner/group
    env: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)  # lines of the psql argument array
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

    def refuse(self, item: Discrepancy, grammar: str, value: Any) -> bool:
        """A token that does not match its grammar: no command, a note for the reviewer."""
        shown = comment_text(repr(value))[:120]
        self.note(item, f"refused: {shown} is not a valid {grammar}; fix this one by hand")
        return True

    def sql_comment(self, text: str) -> None:
        self.sql.append(comment(text))

    def statement(self, sql: str) -> None:
        self.sql.append(f"-c {shell_word(sql)}")


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

# manager -> (command and options, install word, name grammar, version grammar)
_OS_INSTALL = {
    "dpkg": (
        "apt-get install -y --allow-downgrades",
        "{name}={version}",
        "Debian package name",
        "Debian version",
    ),
    "apk": ("apk add", "{name}={version}", "apk package name", "apk version"),
    "rpm": ("dnf install -y", "{name}-{version}", "RPM package name", "RPM version"),
}


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
        if not valid("PEP 508 distribution name", name):
            return script.refuse(item, "PEP 508 distribution name", name)
        if not valid("PEP 440 version", version):
            return script.refuse(item, "PEP 440 version", version)
        script.python.append(f"{name}=={version}")
        return True
    manager = _os_manager(script)
    if manager is None:
        return False
    _command, word, name_grammar, version_grammar = _OS_INSTALL[manager]
    if not valid(name_grammar, name):
        return script.refuse(item, name_grammar, name)
    if not valid(version_grammar, version):
        return script.refuse(item, version_grammar, version)
    script.os_packages.setdefault(manager, []).append(word.format(name=name, version=version))
    return True


def _os_manager(script: _Script) -> str | None:
    """The right side's package manager (the script runs there), else the left side's."""
    manager = script.result.facts.get("os_manager")
    return manager if isinstance(manager, str) and manager in _OS_INSTALL else None


def _env(script: _Script, item: Discrepancy) -> bool:
    if len(item.keys) != 2 or item.keys[0] != "vars":
        return False
    name = item.keys[1]
    if not valid("environment variable name", name):
        return script.refuse(item, "environment variable name", name)
    if item.kind == "only_in_staging":
        line = f"unset {name}"
        script.env.append(_not_here(line, name) if shell_sensitive(name) else line)
        return True
    value = item.left
    if is_redacted(value):
        text = secret_placeholder(value)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        if "\0" in text:
            return script.refuse(item, "environment value (it holds a NUL)", text)
    else:
        return False
    line = f"export {name}={shell_word(text)}"
    script.env.append(_not_here(line, name) if shell_sensitive(name) else line)
    return True


def _not_here(line: str, name: str) -> str:
    """The exact command as a comment (a shell word is always one printable line), to apply
    by hand where the app's environment is defined. Not through comment(): that would fold
    runs of spaces inside the quoted value."""
    return f"# {line} (not run here: {name} changes how a shell runs commands)"


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
    if not valid("PostgreSQL setting name", name):
        return script.refuse(item, "PostgreSQL setting name", name)
    if name in READ_ONLY_SETTINGS:
        script.note(
            item,
            f"{name} is fixed when the cluster/database is created "
            f"(initdb / CREATE DATABASE); recreate {script.R}'s to match",
        )
        return True
    sql_name = sql_setting_name(name)
    weaker = _weakens(
        name, _setting_value(item.left, item.keys), _setting_value(item.right, item.keys)
    )
    if weaker is not None:
        script.note(item, weaker)
        return True
    if item.kind == "only_in_staging":
        script.sql_comment(
            f"{name} is at its default in {script.L}; RESET removes "
            "an ALTER SYSTEM value only (check postgresql.conf too)"
        )
        script.statement(f"ALTER SYSTEM RESET {sql_name};")
        script.reload_conf = True
        return True
    entry = item.left if len(item.keys) == 2 else {"value": item.left}
    value = entry.get("value") if isinstance(entry, dict) else MISSING
    if is_redacted(value):
        script.sql_comment(
            f"ALTER SYSTEM SET {sql_name} = {sql_literal(secret_placeholder(value))};"
        )
        return True
    if value is MISSING or value is None:
        return False
    if "\0" in str(value) or "\n" in str(value):
        # PostgreSQL refuses both in ALTER SYSTEM (postgresql.auto.conf is line-based).
        return script.refuse(item, "setting value (it holds a NUL or a newline)", value)
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
        script.sql_comment(f"{why}; optional (operations setting): {statement}")
        return True
    script.sql_comment(why)
    script.statement(statement)
    script.reload_conf = True
    return True


def _setting_value(side: Any, keys: tuple[str, ...]) -> Any:
    entry = side if len(keys) == 2 else {"value": side}
    return entry.get("value") if isinstance(entry, dict) else None


def _weakens(name: str, prod: Any, staging: Any) -> str | None:
    """Why copying prod's value of a security setting would weaken staging (the advice is
    then to fix production), or None."""
    order = SECURITY_ORDER.get(name)
    if order is None:
        return None
    # A setting at its default is not captured on that side: the default is the safe end
    # for these, except ssl, which is off unless configured.
    defaults = {"password_encryption": "scram-sha-256", "ssl": "off", "row_security": "on"}
    prod_text = str(prod) if isinstance(prod, str | bool) else defaults.get(name)
    staging_text = str(staging) if isinstance(staging, str | bool) else defaults.get(name)
    if prod_text is None or staging_text is None:
        return None
    prod_rank = _rank(order, prod_text)
    staging_rank = _rank(order, staging_text)
    if prod_rank is None or staging_rank is None or prod_rank >= staging_rank:
        return None
    return (
        f"not proposed: prod's {name} = {prod_text} is weaker than staging's ({staging_text}); "
        f"fix production instead (ALTER SYSTEM SET {name} = {sql_literal(staging_text)} there)"
    )


def _rank(order: tuple[str, ...], value: str) -> int | None:
    lowered = [v.lower() for v in order]
    text = {"true": "on", "false": "off"}.get(value.lower(), value.lower())
    return lowered.index(text) if text in lowered else None


def _extension(script: _Script, item: Discrepancy) -> bool:
    name = item.keys[1]
    if not valid("PostgreSQL identifier", name):
        return script.refuse(item, "PostgreSQL identifier", name)
    ident = sql_identifier(name)
    if item.kind == "only_in_staging" and len(item.keys) == 2:
        script.sql_comment(
            f"extension {name} exists only in {script.R}; dropping it may "
            f"drop dependent objects: DROP EXTENSION {ident};"
        )
        return True
    if item.kind == "only_in_prod" and len(item.keys) == 2:
        entry = item.left if isinstance(item.left, dict) else {}
        version, schema = entry.get("version"), entry.get("schema")
        statement = f"CREATE EXTENSION IF NOT EXISTS {ident}"
        if isinstance(schema, str) and schema:
            if not valid("PostgreSQL identifier", schema):
                return script.refuse(item, "PostgreSQL identifier", schema)
            statement += f" SCHEMA {sql_identifier(schema)}"
        if isinstance(version, str) and version:
            if "\0" in version:
                return script.refuse(item, "extension version (it holds a NUL)", version)
            statement += f" VERSION {sql_literal(version)}"
        script.statement(statement + ";")
        return True
    if item.keys[2:] == ("version",) and isinstance(item.left, str):
        if "\0" in item.left:
            return script.refuse(item, "extension version (it holds a NUL)", item.left)
        if compare(item.left, item.right) == -1:
            script.sql_comment(
                f"extension {name}: {script.L} has the older "
                f"{item.left}; extensions cannot be downgraded in place "
                f"(drop and CREATE EXTENSION {ident} VERSION "
                f"{sql_literal(item.left)})"
            )
        else:
            script.statement(f"ALTER EXTENSION {ident} UPDATE TO {sql_literal(item.left)};")
        return True
    return False


def _files(script: _Script, item: Discrepancy) -> bool:
    keys = item.keys
    if len(keys) != 3 or keys[0] != "paths" or item.kind != "changed":
        return False
    path, what = keys[1], keys[2]
    if what in ("uid", "gid"):
        return True  # they follow owner/group, which carry the names chown needs
    if what not in ("mode", "owner", "group") or not isinstance(item.left, str):
        return False
    if not valid("absolute path", path):
        return script.refuse(item, "absolute path", path)
    if what == "mode":
        if not valid("file mode", item.left):
            return script.refuse(item, "file mode", item.left)
        script.chmod[path] = item.left
        return True
    if not valid("user or group name", item.left):
        return script.refuse(item, "user or group name", item.left)
    script.chown.setdefault(path, {})[what] = item.left
    return True


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


# --- assembly --------------------------------------------------------------------------------


def _words(words: list[str]) -> str:
    return " ".join(shell_word(w) for w in words)


def _python_lines(script: _Script) -> list[str]:
    python = script.result.facts.get("python")
    lines = ["", "# Python distributions pinned to prod's versions (PYTHON= picks the interpreter)"]
    if valid("interpreter", python):
        default = shell_word(str(python))
    else:
        default = "python3"
        if python is not None:
            shown = comment_text(repr(python))[:120]
            lines.append(comment(f"refused the captured interpreter {shown}: not a path"))
    return [
        *lines,
        'PYTHON="${PYTHON:-}"',
        f'if [ -z "$PYTHON" ]; then PYTHON={default}; fi',
        '"$PYTHON" -m pip install -- ' + _words(script.python),
    ]


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
        body += _python_lines(script)
    for manager, words in sorted(script.os_packages.items()):
        body += [
            "",
            f"# OS packages ({manager}) pinned to prod's versions",
            f"{_OS_INSTALL[manager][0]} -- {_words(words)}",
        ]
    if script.chown or script.chmod:
        # chown first: it may clear setuid/setgid bits that the chmod then restores.
        lines = [
            f"chown -- {shell_word(_owner_spec(who))} {shell_word(path)}"
            for path, who in sorted(script.chown.items())
        ]
        lines += [
            f"chmod -- {mode} {shell_word(path)}" for path, mode in sorted(script.chmod.items())
        ]
        body += ["", "# File owners and modes as in prod", *lines]
    if script.sql:
        lines = list(script.sql)
        if script.reload_conf:
            lines.append(f"-c {shell_word('SELECT pg_reload_conf();')}")
        if any(line.startswith("-c ") for line in lines):
            # One statement per -c: ALTER SYSTEM cannot run inside a transaction block, and
            # psql sends -c text to the server as it is (no psql variables, no backslash
            # commands), so a captured value cannot turn into anything but SQL text.
            body += [
                "",
                "# PostgreSQL, as a superuser of the staging server",
                "sql=(",
                *(f"    {line}" for line in lines),
                ")",
                'psql -X -v ON_ERROR_STOP=1 -d "${STAGING_DSN:?set STAGING_DSN to the staging '
                'database}" "${sql[@]}"',
            ]
        else:
            body += ["", "# PostgreSQL (suggestions only, nothing to run):", *lines]
    if script.env:
        # Last, after every command: an exported PATH, LD_PRELOAD or PGSSLMODE from a
        # snapshot must not change which program, library or server a later line reaches.
        body += [
            "",
            "# Environment as in prod: put these where the app's environment is defined",
            "# (systemd unit, compose file, manifest); exporting here affects this shell only.",
            *script.env,
        ]
    if script.notes:
        body += ["", "# Not fixed automatically (review by hand):", *script.notes]
    if not body:
        body = ["", "# Nothing to do: no discrepancy has a safe automatic fix."]
    return "\n".join(header + body) + "\n"
