"""The profile's ``sandbox:`` section: how ``repro replay`` runs this service in a container.

Everything else the sandbox needs comes from the production snapshot: the PostgreSQL major
version and settings, the data's shape, the environment, files' modes and owners, the app's
uid. The profile only says what a snapshot cannot know::

    sandbox:
      app:
        image: registry.example.com/shop:2024-06-01   # the release production runs
        command: [python3, app.py]                     # default: the image's own
        port: 8000                                     # where the app listens in the container
        health: /health                                # GET until 2xx; default: TCP accept
        user: null                                     # default: production's uid:gid
        ready_timeout_s: 60
        files:                                         # config files' content, from this machine
          /etc/shop/settings.yaml: deploy/settings.yaml
        env:                                           # non-secret overrides
          LOG_LEVEL: debug
        sentry: SENTRY_DSN                             # the variable for repro's Sentry sink;
                                                       # false: the app has no Sentry SDK
      database:
        env: DATABASE_URL                              # the variable that carries the DSN, or
        # env: {host: DB_HOST, port: DB_PORT, user: DB_USER, password: DB_PASSWORD, name: DB_NAME}
        #                                              # default: read from production's env
        image: "postgres:{major}"
        rows: 100000                                   # at most, scaled from production's counts
      stand_ins:                                       # test credentials for lost request parts
        "header:Authorization": {env: SHOP_TEST_TOKEN}

Paths are relative to where repro runs (the repo root), as ``database.dsn_file`` is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from repro.errors import ProfileError
from repro.fields import expect, type_name, unknown_keys

SANDBOX_KEYS = {"app", "database", "stand_ins"}
APP_KEYS = {
    "image", "command", "port", "health", "user", "files", "env", "ready_timeout_s", "sentry",
}  # fmt: skip
DATABASE_KEYS = {"env", "image", "rows"}
DATABASE_PARTS = ("host", "port", "user", "password", "name", "sslmode")
DEFAULT_ROWS = 100_000
DEFAULT_DSN_ENV = "DATABASE_URL"
DEFAULT_SENTRY_ENV = "SENTRY_DSN"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class SandboxApp:
    image: str
    port: int = 8000
    command: list[str] | None = None
    health: str | None = None
    user: str | None = None
    ready_timeout_s: int = 60
    files: dict[str, str] = field(default_factory=dict)  # container path -> local file
    env: dict[str, str] = field(default_factory=dict)
    sentry_env: str | None = DEFAULT_SENTRY_ENV  # None: the app has no Sentry SDK


@dataclass
class SandboxDatabaseSpec:
    env: str | None = None  # the DSN variable; None (and no parts): read from the snapshot
    parts: dict[str, str] = field(default_factory=dict)  # "host" -> "DB_HOST" ...
    image: str = "postgres:{major}"
    rows: int = DEFAULT_ROWS


@dataclass
class StandInSource:
    value: str | None = None
    env: str | None = None

    def resolve(self, where: str) -> str:
        if self.value is not None:
            return self.value
        assert self.env is not None
        value = os.environ.get(self.env)
        if value is None:
            raise ProfileError(
                f"sandbox.stand_ins.{where}: environment variable {self.env} is not set"
            )
        return value


@dataclass
class SandboxSpec:
    app: SandboxApp | None = None
    database: SandboxDatabaseSpec = field(default_factory=SandboxDatabaseSpec)
    stand_ins: dict[str, StandInSource] = field(default_factory=dict)


def _fail(where: str, key: str, problem: str) -> ProfileError:
    return ProfileError(f"{where}: sandbox.{key}: {problem}")


def _mapping(where: str, key: str, raw: Any, allowed: set[str] | None = None) -> dict[str, Any]:
    if raw is None:
        return {}
    expect(where, f"sandbox.{key}", raw, dict, "a mapping")
    if allowed is not None:
        unknown_keys(where, f"sandbox.{key}.", raw, allowed)
    return dict(raw)


def _str(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, key, f"expected a non-empty string, got {type_name(value)}")
    return value


def _int(where: str, key: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _fail(where, key, f"expected an integer {low}..{high}, got {value!r}")
    return value


def _str_map(where: str, key: str, raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _mapping(where, key, raw).items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _fail(where, f"{key}.{name}", f"expected a string, got {type_name(value)}")
        out[str(name)] = str(value)
    return out


def parse_sandbox(where: str, raw: Any) -> SandboxSpec:
    top = expect(where, "sandbox", raw, dict, "a mapping")
    unknown_keys(where, "sandbox.", top, SANDBOX_KEYS)
    spec = SandboxSpec()
    if top.get("app") is not None:
        spec.app = _parse_app(where, top["app"])
    db = _mapping(where, "database", top.get("database"), DATABASE_KEYS)
    if isinstance(db.get("env"), dict):
        spec.database.parts = _parts(where, db["env"])
    elif db.get("env") is not None:
        spec.database.env = _variable(where, "database.env", db["env"])
    if "image" in db:
        spec.database.image = _str(where, "database.image", db["image"])
        if "{major}" not in spec.database.image:
            raise _fail(where, "database.image", "must contain {major} (e.g. postgres:{major})")
    if "rows" in db:
        spec.database.rows = _int(where, "database.rows", db["rows"], 0, 100_000_000)
    for name, value in _mapping(where, "stand_ins", top.get("stand_ins")).items():
        key = f"stand_ins.{name}"
        if not str(name).startswith(("header:", "cookie:", "query:", "body")):
            raise _fail(where, key, "must name header:X, cookie:X, query:X, body:X or body")
        if isinstance(value, str):
            spec.stand_ins[str(name)] = StandInSource(value=value)
        elif isinstance(value, dict) and set(value) == {"env"}:
            spec.stand_ins[str(name)] = StandInSource(env=_str(where, f"{key}.env", value["env"]))
        else:
            raise _fail(where, key, "expected a string or {env: VARIABLE}")
    return spec


def _variable(where: str, key: str, value: Any) -> str:
    name = _str(where, key, value)
    if not _VARIABLE.match(name):
        raise _fail(where, key, f"{name[:40]!r} is not an environment variable name")
    return name


def _parts(where: str, raw: dict[str, Any]) -> dict[str, str]:
    """``{host: DB_HOST, ...}``: which variable carries each part of the database address."""
    unknown_keys(where, "sandbox.database.env.", raw, set(DATABASE_PARTS))
    parts = {
        str(part): _variable(where, f"database.env.{part}", name) for part, name in raw.items()
    }
    if "host" not in parts and "name" not in parts:
        raise _fail(where, "database.env", "a map of parts needs at least host or name")
    return parts


def _parse_app(where: str, raw: Any) -> SandboxApp:
    app = _mapping(where, "app", raw, APP_KEYS)
    if "image" not in app:
        raise _fail(where, "app.image", "required (the image production runs)")
    spec = SandboxApp(image=_str(where, "app.image", app["image"]))
    if "port" in app:
        spec.port = _int(where, "app.port", app["port"], 1, 65535)
    if app.get("command") is not None:
        command = app["command"]
        if isinstance(command, str):
            command = command.split()
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(c, str) for c in command)
        ):
            raise _fail(where, "app.command", "expected a list of strings")
        spec.command = list(command)
    if app.get("health") is not None:
        spec.health = _str(where, "app.health", app["health"])
        if not spec.health.startswith("/"):
            raise _fail(where, "app.health", "expected a path starting with /")
    if app.get("user") is not None:
        spec.user = _str(where, "app.user", str(app["user"]))
    if "ready_timeout_s" in app:
        spec.ready_timeout_s = _int(where, "app.ready_timeout_s", app["ready_timeout_s"], 1, 3600)
    spec.files = _str_map(where, "app.files", app.get("files"))
    for path in spec.files:
        if not path.startswith("/"):
            raise _fail(where, f"app.files.{path}", "the container path must be absolute")
    spec.env = _str_map(where, "app.env", app.get("env"))
    if "sentry" in app:
        sentry = app["sentry"]
        if sentry is False:
            spec.sentry_env = None
        elif sentry is True:
            spec.sentry_env = DEFAULT_SENTRY_ENV
        else:
            spec.sentry_env = _variable(where, "app.sentry", sentry)
    return spec
