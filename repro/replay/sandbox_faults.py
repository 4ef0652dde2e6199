"""Evidence that the sandbox itself is broken, whatever the app's language.

A replayed request can fail for a reason of the sandbox's own: the app cannot reach or log in
to the sandbox database, a placeholder value (a secret the snapshot only fingerprinted) reached
a connection string, the migrations that run at start found a history they do not know, a
module is missing at start. Such a failure says nothing about the bug: it must be ENV_ERROR
with its cause named, never REPRODUCED because the status happened to be 500 as in production.

:func:`find_fault` reads the sandbox's exception chain and the app's log lines of the attempt.
A fault of a kind that production's own evidence shows too (a bug that *is* a failed
connection, an ImportError that happened in production) is not the sandbox's: the comparison
decides then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from repro.replay.incident import Signature
from repro.text import one_line

PLACEHOLDER_PREFIX = "repro-placeholder-"
MAX_SCANNED = 512 * 1024  # characters of log read per attempt (its end): a runaway log stays cheap


@dataclass(frozen=True)
class Fault:
    kind: str  # "placeholder", "database", "migration", "import"
    reason: str  # one line, naming the cause


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    reason: str  # may use the regex's named groups


def _p(kind: str, pattern: str, reason: str) -> _Pattern:
    return _Pattern(kind, re.compile(pattern, re.IGNORECASE), reason)


_DB = "the app cannot use the sandbox database"
PATTERNS = (
    # libpq (psycopg, psycopg2, asyncpg's messages, Ruby's pg), node-postgres, pgjdbc, Npgsql
    _p("database", r'password authentication failed for user "?(?P<user>[^"\s]+)',
       _DB + ': password authentication failed for user "{user}"'),
    _p("database", r"fe_sendauth: no password supplied|no password (?:was )?(?:supplied|provided)",
       _DB + ": the app sent no password"),
    _p("database", r'role "(?P<role>[^"]+)" does not exist',
       _DB + ': role "{role}" does not exist there'),
    _p("database", r'database "(?P<db>[^"]+)" does not exist',
       _DB + ': database "{db}" does not exist there'),
    _p("database", r'could not translate host name "(?P<host>[^"]+)"',
       _DB + ': host "{host}" is unknown in the sandbox'),
    _p("database", r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>\S+)",
       _DB + ': host "{host}" is unknown in the sandbox'),
    _p("database", r"connect ECONNREFUSED (?P<addr>\S+:5432)\b",
       _DB + ": connection to {addr} refused"),
    _p("database", r'connection to server (?:at|on) "?(?P<addr>[^"]*)"?.{0,80}?failed: '
       r"(?P<why>Connection refused|No such file or directory|timeout expired)",
       _DB + ": connection to {addr} failed ({why})"),
    _p("database", r"could not connect to server: (?P<why>Connection refused|No such file)",
       _DB + ": could not connect ({why})"),
    _p("database", r"Connection to (?P<addr>\S+:5432) refused",
       _DB + ": connection to {addr} refused"),
    _p("database", r"server does not support SSL, but SSL was required|"
       r"The server does not support SSL",
       _DB + ": the app requires SSL, which the sandbox's PostgreSQL does not offer"),
    _p("database", r'missing "=" after "(?P<text>[^"]{0,80})" in connection info string|'
       r"invalid connection option|invalid dsn|invalid URI query parameter|"
       r"Could not parse (?:SQLAlchemy|rfc1738) URL",
       _DB + ": its connection string is not a DSN (a placeholder or a wrong variable?)"),
    # migrations run at start: alembic, Django, Rails, Flyway, Liquibase, knex, goose
    _p("migration", r"Can't locate revision identified by '(?P<rev>[^']*)'",
       "the app's migrations failed: alembic cannot locate revision '{rev}' in the sandbox's "
       "alembic_version"),
    _p("migration", r"DuplicateTable\)? relation \"(?P<rel>[^\"]+)\" already exists",
       "the app's migrations failed: relation \"{rel}\" already exists (the sandbox's migration "
       "history does not match its schema)"),
    _p("migration", r"Target database is not up to date|alembic\.util\.exc\.CommandError",
       "the app's migrations failed (alembic)"),
    _p("migration", r"django\.db\.migrations\.exceptions\.(?P<what>\w+)|"
       r"InconsistentMigrationHistory",
       "the app's migrations failed (Django)"),
    _p("migration", r"ActiveRecord::(?:PendingMigrationError|NoEnvironmentInSchemaError|"
       r"EnvironmentMismatchError)|Migrations are pending",
       "the app's migrations failed (Rails)"),
    _p("migration", r"org\.flywaydb\.core\.\S*(?:Exception)|FlywayValidateException",
       "the app's migrations failed (Flyway)"),
    _p("migration", r"liquibase\.exception\.\w+", "the app's migrations failed (Liquibase)"),
    _p("migration", r"The migration directory is corrupt|Migration table is already locked",
       "the app's migrations failed (knex)"),
    _p("migration", r"goose run: |goose: no migration", "the app's migrations failed (goose)"),
    # a module or class missing at start
    _p("import", r"\bModuleNotFoundError: No module named '(?P<mod>[^']+)'",
       "the app cannot import {mod}"),
    _p("import", r"\bImportError: cannot import name '(?P<name>[^']+)'",
       "the app cannot import {name}"),
    _p("import", r"Cannot find module '(?P<mod>[^']+)'|ERR_MODULE_NOT_FOUND",
       "the app cannot load a module ({mod})"),
    _p("import", r"\bLoadError\b.{0,40}cannot load such file -- (?P<file>\S+)",
       "the app cannot load {file}"),
    _p("import", r"java\.lang\.(?:ClassNotFoundException|NoClassDefFoundError):? (?P<cls>\S+)",
       "the app cannot load class {cls}"),
)  # fmt: skip


def placeholder(name: str) -> str:
    """The value a variable gets when production's was a secret nobody supplied: it says
    what it is wherever it shows up (a log line, an error page, a connection error)."""
    return f"{PLACEHOLDER_PREFIX}{name.lower().replace('_', '-')}"


def find_fault(
    sandbox: Signature | None,
    log_lines: Iterable[str],
    placeholders: Mapping[str, str],
    production: Signature | None = None,
) -> Fault | None:
    """The first sign in the sandbox's evidence (its exceptions, then its log) that the
    sandbox is broken, unless production's own evidence shows the same kind of fault.

    ``placeholders`` maps each placeholder value the app was given to its variable's name."""
    texts = [*_signature_texts(sandbox), *_bounded(log_lines)]
    shared = {fault.kind for fault in _faults(_signature_texts(production), {})}
    for fault in _faults(texts, placeholders):
        if fault.kind not in shared:
            return fault
    return None


def _faults(texts: list[str], placeholders: Mapping[str, str]) -> Iterable[Fault]:
    for text in texts:
        if PLACEHOLDER_PREFIX in text and _looks_like_failure(text):
            names = sorted(name for value, name in placeholders.items() if value in text)
            if names:
                yield Fault(
                    "placeholder",
                    f"the app failed on a placeholder: {', '.join(names)} held production's "
                    "secret, which the snapshot has only as a fingerprint (give a value with "
                    "--secrets FILE, or name the app's database variables in the profile's "
                    "sandbox.database.env)",
                )
    for pattern in PATTERNS:
        for text in texts:
            match = pattern.regex.search(text)
            if match is not None:
                groups = {k: one_line(v or "?")[:80] for k, v in match.groupdict().items()}
                yield Fault(pattern.kind, pattern.reason.format(**groups))
                break


_FAILURE_WORDS = re.compile(
    r"error|exception|fail|invalid|refused|cannot|could not|unable|missing|denied|traceback",
    re.IGNORECASE,
)


def _looks_like_failure(text: str) -> bool:
    return _FAILURE_WORDS.search(text) is not None


def _signature_texts(signature: Signature | None) -> list[str]:
    if signature is None:
        return []
    return [f"{exc.type}: {exc.value or ''}" for exc in signature.exceptions]


def _bounded(lines: Iterable[str]) -> list[str]:
    """The last lines, at most :data:`MAX_SCANNED` characters: a failure is logged last."""
    out: list[str] = []
    used = 0
    for line in reversed(list(lines)):
        if used + len(line) > MAX_SCANNED:
            break
        out.append(line)
        used += len(line)
    return out[::-1]
