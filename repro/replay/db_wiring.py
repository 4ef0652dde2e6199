"""How the sandboxed app finds the sandbox database: which of its variables carry a DSN or the
parts of one (host, port, user, password, name, sslmode), and what they get.

The profile says it (``sandbox.database.env``: a variable, or a map of parts to variables), or
it is read from production's environment in the snapshot: a DSN-shaped value (``postgresql://``,
``postgres+psycopg2://``, ``jdbc:postgresql:``, ``host=... dbname=...``; a URL's password is the
only part a snapshot hides), the ``*_HOST``/``*_PORT``/``*_USER``/``*_PASSWORD``/``*_NAME``/
``*_DB`` conventions (``DB_HOST``, ``AZURE_POSTGRESQL_HOST``, ``POSTGRES_DB``) and libpq's
``PG*``. The user production's app connects as is the app role the sandbox creates when the
profile's ``database.role`` does not name one.

Pure functions over the snapshot and the profile section, so every rule is tested without Docker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from repro.profile.sandbox import DEFAULT_DSN_ENV, SandboxDatabaseSpec
from repro.snapshot.file import Snapshot

PARTS = ("host", "port", "user", "password", "name", "sslmode")
# Variable-name endings per part, longest first within a part.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("sslmode", "SSL_MODE"),
    ("sslmode", "SSLMODE"),
    ("host", "HOSTNAME"),
    ("host", "HOST"),
    ("port", "PORT"),
    ("user", "USERNAME"),
    ("user", "USER"),
    ("password", "PASSWORD"),
    ("password", "PASS"),
    ("name", "DATABASE"),
    ("name", "DBNAME"),
    ("name", "NAME"),
    ("name", "DB"),
)
_DB_PREFIX = re.compile(r"(?:^|_)(?:DB|DATABASE|POSTGRES|POSTGRESQL|PG|PSQL)_?$", re.IGNORECASE)
_OTHER_STORES = re.compile(
    r"REDIS|MYSQL|MARIADB|MONGO|ELASTIC|OPENSEARCH|RABBIT|AMQP|KAFKA|MEMCACHE|SMTP|MAIL|LDAP|"
    r"CLICKHOUSE|CASSANDRA|INFLUX|NEO4J|SQLITE|MSSQL|ORACLE",
    re.IGNORECASE,
)
_DSN_NAME = re.compile(
    r"^(?:\w+_)?(?:DATABASE|DB|POSTGRES|POSTGRESQL|PG)_(?:URL|URI|DSN)$|^DATABASE_URL$",
    re.IGNORECASE,
)
_URL_SCHEME = re.compile(r"^(?P<scheme>postgres(?:ql)?(?:\+\w+)?)://", re.IGNORECASE)
_JDBC = "jdbc:postgresql:"
_KEYWORD_DSN = re.compile(r"(?:^|\s)(?:host|dbname|user)=\S", re.IGNORECASE)


@dataclass(frozen=True)
class Login:
    """Where the app reaches the sandbox database from its own container."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


@dataclass
class Wiring:
    dsn_env: str | None = None  # the variable carrying a DSN
    parts: dict[str, str] = field(default_factory=dict)  # part -> variable
    origin: str = "profile"  # said in the report
    scheme: str = "postgresql"  # production's DSN scheme ("postgresql+psycopg2", "jdbc")
    user: str | None = None  # the user production's app connects as, when its value shows
    notes: list[str] = field(default_factory=list)

    @property
    def variables(self) -> list[str]:
        return ([self.dsn_env] if self.dsn_env else []) + list(self.parts.values())


def wiring_for(snapshot: Snapshot, spec: SandboxDatabaseSpec) -> Wiring:
    """The profile's wiring, else the one production's environment shows, else DATABASE_URL."""
    env = _env_vars(snapshot)
    if spec.env is not None or spec.parts:
        wiring = Wiring(spec.env, dict(spec.parts), "profile sandbox.database.env")
        if spec.env is not None:
            _read_dsn(wiring, env.get(spec.env))
        _read_user_part(wiring, env)
        return _no_tls(wiring, env)
    wiring = Wiring(origin="inferred from production's environment")
    dsn = _dsn_variable(env)
    if dsn is not None:
        wiring.dsn_env = dsn
        _read_dsn(wiring, env.get(dsn))
    group = _parts_group(env)
    if group:
        wiring.parts = group
        _read_user_part(wiring, env)
    if not wiring.variables:
        wiring.dsn_env = DEFAULT_DSN_ENV
        wiring.origin = "default"
        wiring.notes.append(
            "no database variable found in production's environment: the sandbox sets "
            f"{DEFAULT_DSN_ENV} (name the app's with sandbox.database.env)"
        )
    return _no_tls(wiring, env)


def _no_tls(wiring: Wiring, env: Mapping[str, Any]) -> Wiring:
    """libpq reads PGSSLMODE whatever the DSN says: production's ``require`` would make every
    connection to the sandbox's PostgreSQL (which offers no TLS) fail."""
    if "PGSSLMODE" in env and "sslmode" not in wiring.parts:
        wiring.parts["sslmode"] = "PGSSLMODE"
    return wiring


def wiring_env(wiring: Wiring, login: Login) -> dict[str, str]:
    """Each wired variable's value for the sandbox database."""
    values = {
        "host": login.host,
        "port": str(login.port),
        "user": login.user,
        "password": login.password,
        "name": login.dbname,
        "sslmode": "disable",  # the sandbox's PostgreSQL offers no TLS
    }
    env = {variable: values[part] for part, variable in wiring.parts.items()}
    if wiring.dsn_env:
        env[wiring.dsn_env] = dsn_for(wiring.scheme, login)
    return env


def dsn_for(scheme: str, login: Login) -> str:
    user, password = quote(login.user, safe=""), quote(login.password, safe="")
    where = f"{login.host}:{login.port}/{quote(login.dbname, safe='')}"
    if scheme == "jdbc":
        return f"{_JDBC}//{where}?user={user}&password={password}"
    return f"{scheme}://{user}:{password}@{where}"


def app_role(
    snapshot_db: Mapping[str, Any], profile_role: str | None, wiring: Wiring
) -> str | None:
    """The role the sandbox creates for the app: the profile's ``database.role``, else the
    user production's app connects as, when the snapshot has that role (its grants make the
    sandbox's permissions production's) and it is no superuser (the sandbox's own is)."""
    if profile_role:
        return profile_role
    roles = snapshot_db.get("roles") or {}
    entry = roles.get(wiring.user) if wiring.user else None
    if isinstance(entry, Mapping) and entry.get("exists", True) and not entry.get("superuser"):
        return wiring.user
    return None


def _env_vars(snapshot: Snapshot) -> dict[str, Any]:
    result = snapshot.facets.get("env")
    if result is None or result.status not in ("ok", "partial"):
        return {}
    if not isinstance(result.data, dict):
        return {}
    raw = result.data.get("vars")
    return dict(raw) if isinstance(raw, dict) else {}


def _shown(value: Any) -> str | None:
    """A variable's text as the snapshot shows it: the value, or a redacted URL's masked form."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("masked"), str):
        return str(value["masked"])
    return None


def _is_dsn(text: str) -> bool:
    lowered = text.lower()
    return bool(_URL_SCHEME.match(text) or lowered.startswith(_JDBC) or _KEYWORD_DSN.search(text))


def _dsn_variable(env: Mapping[str, Any]) -> str | None:
    shaped = sorted(name for name, value in env.items() if _is_dsn(_shown(value) or ""))
    named = sorted(name for name, value in env.items() if _DSN_NAME.match(name) and value)
    for candidates in (shaped, named):
        if DEFAULT_DSN_ENV in candidates:
            return DEFAULT_DSN_ENV
        if candidates:
            return candidates[0]
    return None


def _read_dsn(wiring: Wiring, value: Any) -> None:
    text = _shown(value)
    if not text:
        return
    scheme = _URL_SCHEME.match(text)
    if scheme is not None:
        wiring.scheme = scheme["scheme"]
        with suppress(ValueError):
            wiring.user = urlsplit(text).username or wiring.user
    elif text.lower().startswith(_JDBC):
        wiring.scheme = "jdbc"
        match = re.search(r"[?&]user=([^&]+)", text)
        wiring.user = match.group(1) if match else wiring.user
    else:
        match = re.search(r"(?:^|\s)user=(\S+)", text)
        wiring.user = match.group(1).strip("'\"") if match else wiring.user


def _read_user_part(wiring: Wiring, env: Mapping[str, Any]) -> None:
    variable = wiring.parts.get("user")
    value = env.get(variable) if variable else None
    if isinstance(value, str) and value:
        wiring.user = value


def _parts_group(env: Mapping[str, Any]) -> dict[str, str]:
    """The variables of the best-looking database group: {part: variable}."""
    groups: dict[str, dict[str, str]] = {}
    for name in sorted(env):
        upper = name.upper()
        for part, suffix in _SUFFIXES:
            if not upper.endswith(suffix) or len(upper) == len(suffix):
                continue
            prefix = name[: -len(suffix)]
            if not _DB_PREFIX.search(prefix) or _OTHER_STORES.search(prefix):
                continue
            groups.setdefault(prefix.upper(), {}).setdefault(part, name)
            break
    usable = {
        prefix: parts
        for prefix, parts in groups.items()
        if ("host" in parts or "name" in parts) and len(parts) >= 2
    }
    if not usable:
        return {}
    best = max(usable.items(), key=lambda item: (len(item[1]), item[0] == "PG", item[0]))
    return best[1]
