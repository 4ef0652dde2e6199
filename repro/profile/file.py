"""The profile file (``profiles/<name>.yaml``): how to reach an environment and what to capture.

Validation errors name the file, the key and the problem, e.g.
``profiles/prod.yaml: facets.files.paths: expected a list of strings, got int``.

Reading one needs the facet catalog (``repro.snapshot.registry.FACETS``) to check the
``facets:`` section: the caller hands it in, so profiles sit below the snapshot that uses them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from repro.errors import ProfileError
from repro.fields import expect, string_list, unknown_keys
from repro.inputfile import read_text
from repro.limits import load_yaml
from repro.profile.facets import FacetCatalog, parse_facets
from repro.profile.paths import find_profile_path, profile_dirs
from repro.profile.sandbox import SandboxSpec, parse_sandbox
from repro.targets.registry import validate_target_options

TARGET_KINDS = ("local", "docker", "ssh", "kubectl")
TOP_LEVEL_KEYS = {
    "name",
    "description",
    "target",
    "database",
    "app",
    "facets",
    "secrets",
    "ignore",
    "redaction",
    "sandbox",
}
DATABASE_KEYS = {
    "dsn_env",
    "dsn_file",
    "dsn",
    "statement_timeout_ms",
    "schemas",
    "role",
    "optional",
}
APP_KEYS = {"user", "process", "python", "workdir"}


@dataclass
class DatabaseSpec:
    dsn_env: str | None = None
    dsn_file: str | None = None
    dsn: str | None = None  # only without a password in YAML; --dsn sets it from the CLI
    statement_timeout_ms: int = 30_000
    schemas: list[str] | None = None
    role: str | None = None  # the app's database role, for roles and grants
    optional: bool = False  # skip quietly when the env var is unset (the built-in local profile)

    def resolve_dsn(self) -> str | None:
        """The DSN, or None when an optional source is absent. Raises ProfileError otherwise."""
        if self.dsn:
            return self.dsn
        if self.dsn_env:
            value = os.environ.get(self.dsn_env)
            if value:
                return value.strip()
            if self.optional:
                return None
            raise ProfileError(f"database DSN: environment variable {self.dsn_env} is not set")
        if self.dsn_file:
            path = Path(self.dsn_file).expanduser()
            try:
                return path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ProfileError(
                    f"database DSN: cannot read {path}: {exc.strerror or exc}"
                ) from None
        return None


@dataclass
class AppSpec:
    user: str | None = None
    process: str | None = None  # a process name/pattern whose /proc/PID/environ is the app's env
    python: str | None = None  # the app's interpreter (default: python3)
    workdir: str | None = None


@dataclass
class Profile:
    name: str
    path: str | None
    target_kind: str = "local"
    target_options: dict[str, Any] = field(default_factory=dict)
    database: DatabaseSpec | None = None
    app: AppSpec = field(default_factory=AppSpec)
    facets: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    redaction_key_file: str | None = None
    sandbox: SandboxSpec | None = None  # how `repro replay` runs the app
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return self.path or f"built-in profile {self.name!r}"


def builtin_local_profile(catalog: FacetCatalog) -> Profile:
    """What ``repro snapshot local`` captures on a machine with no configuration at all:
    every facet of the catalog, with its defaults (filled in when each is captured)."""
    return Profile(
        name="local",
        path=None,
        target_kind="local",
        database=DatabaseSpec(dsn_env="DATABASE_URL", optional=True),
        facets={name: {} for name in catalog},
    )


def _parse_database(where: str, raw: Any) -> DatabaseSpec:
    expect(where, "database", raw, dict, "a mapping")
    unknown_keys(where, "database.", raw, DATABASE_KEYS)
    spec = DatabaseSpec()
    for key in ("dsn_env", "dsn_file", "dsn", "role"):
        if key in raw:
            setattr(spec, key, expect(where, f"database.{key}", raw[key], str, "a string"))
    if spec.dsn:
        try:
            has_password = bool(urlsplit(spec.dsn).password) or "password=" in spec.dsn
        except ValueError:
            has_password = True
        if has_password:
            # Do not echo the DSN: it holds the password we refuse to store.
            raise ProfileError(
                f"{where}: database.dsn: contains a password; put the DSN in an environment "
                "variable (database.dsn_env) or a file (database.dsn_file), never inline"
            )
    if "statement_timeout_ms" in raw:
        spec.statement_timeout_ms = expect(
            where, "database.statement_timeout_ms", raw["statement_timeout_ms"], int, "an integer"
        )
    if "schemas" in raw:
        spec.schemas = string_list(where, "database.schemas", raw["schemas"])
    if "optional" in raw:
        spec.optional = expect(where, "database.optional", raw["optional"], bool, "true/false")
    if not (spec.dsn or spec.dsn_env or spec.dsn_file):
        raise ProfileError(f"{where}: database: needs one of dsn_env, dsn_file or dsn")
    return spec


def parse_profile(raw: Any, *, where: str, default_name: str, catalog: FacetCatalog) -> Profile:
    """A profile from its parsed YAML; ``catalog``: the facets it may name (every one of
    them when it names none)."""
    if raw is None:
        raw = {}
    expect(where, "(top level)", raw, dict, "a mapping")
    unknown_keys(where, "", raw, TOP_LEVEL_KEYS)
    name = expect(where, "name", raw.get("name", default_name), str, "a string")
    profile = Profile(name=name, path=where, raw=raw)

    target = raw.get("target", {"kind": "local"})
    if isinstance(target, str):
        target = {"kind": target}
    expect(where, "target", target, dict, "a mapping with 'kind'")
    kind = target.get("kind", "local")
    if kind not in TARGET_KINDS:
        raise ProfileError(
            f"{where}: target.kind: unknown target {kind!r} (known: {', '.join(TARGET_KINDS)})"
        )
    profile.target_kind = kind
    profile.target_options = validate_target_options(
        kind, {k: v for k, v in target.items() if k != "kind"}, f"{where}: target"
    )

    if raw.get("database") is not None:
        profile.database = _parse_database(where, raw["database"])

    app = raw.get("app") or {}
    expect(where, "app", app, dict, "a mapping")
    unknown_keys(where, "app.", app, APP_KEYS)
    for key in APP_KEYS:
        if key in app:
            setattr(profile.app, key, expect(where, f"app.{key}", app[key], str, "a string"))

    profile.facets = parse_facets(where, raw.get("facets", list(catalog)), catalog)
    profile.secrets = string_list(where, "secrets", raw.get("secrets", []))
    profile.ignore = string_list(where, "ignore", raw.get("ignore", []))
    if raw.get("sandbox") is not None:
        profile.sandbox = parse_sandbox(where, raw["sandbox"])
    redaction = raw.get("redaction") or {}
    expect(where, "redaction", redaction, dict, "a mapping")
    unknown_keys(where, "redaction.", redaction, {"key_file"})
    if "key_file" in redaction:
        profile.redaction_key_file = expect(
            where, "redaction.key_file", redaction["key_file"], str, "a string"
        )
    return profile


def load_profile_file(path: Path, catalog: FacetCatalog) -> Profile:
    where = str(path)
    text = read_text(path, ProfileError, noun="profile file")
    try:
        raw = load_yaml(text, where, ProfileError)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ProfileError(f"{where}: malformed YAML{at}: {problem}") from None
    return parse_profile(raw, where=where, default_name=path.stem, catalog=catalog)


def resolve_profile(name_or_path: str, catalog: FacetCatalog) -> Profile:
    """A profile by file path or by name (``prod`` -> ``profiles/prod.yaml``)."""
    as_path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        return load_profile_file(as_path, catalog)
    found = find_profile_path(name_or_path)
    if found is not None:
        return load_profile_file(found, catalog)
    if name_or_path == "local":
        return builtin_local_profile(catalog)
    looked = ", ".join(str(d) for d in profile_dirs())
    raise ProfileError(f"no profile named {name_or_path!r} (looked in {looked})")
