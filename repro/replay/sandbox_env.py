"""What the sandboxed app is given, derived from the production snapshot: its environment
(secrets replaced), its config files (production's mode and owner), its uid.

Pure functions over the snapshot and the profile's ``sandbox:`` section, so every rule here is
tested without Docker. Secrets: the snapshot holds only fingerprints, so a secret variable gets
the sandbox's own value (the sandbox database's DSN, repro's Sentry sink), a value from the
user's secrets file, or a labelled placeholder. The report lists each variable's source, never
a value.
"""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.errors import ReproError, UsageError
from repro.inputfile import read_bytes, read_text
from repro.profile.sandbox import SandboxApp
from repro.replay.outcome import EnvSource, FileMount
from repro.replay.sandbox_faults import placeholder
from repro.snapshot.file import Snapshot

SENTRY_ENV = "SENTRY_DSN"
# Describe the machine or the container, not the app: Docker sets them itself.
MACHINE_VARS = frozenset({"HOSTNAME", "TERM", "SHLVL", "PWD", "OLDPWD", "_"})
MTIME = 1735689600  # fixed: two sandboxes get byte-identical files


def facet_data(snapshot: Snapshot, facet: str) -> dict[str, Any] | None:
    """The facet's data when it was captured (fully or partly), else None."""
    result = snapshot.facets.get(facet)
    if (
        result is None
        or result.status not in ("ok", "partial")
        or not isinstance(result.data, dict)
    ):
        return None
    return result.data


def app_env(
    snapshot: Snapshot,
    spec: SandboxApp,
    *,
    database: Mapping[str, str],
    sentry_dsn: str | None,
    secrets: Mapping[str, str],
) -> tuple[dict[str, str], list[EnvSource]]:
    """The sandbox app's environment and where each variable came from. ``database``: the
    variables that reach the sandbox database (:func:`repro.replay.db_wiring.wiring_env`);
    ``sentry_dsn``: repro's sink, given in ``spec.sentry_env`` (None: the app has no SDK)."""
    env: dict[str, str] = {}
    sources: dict[str, str] = {}
    data = facet_data(snapshot, "env") or {}
    for name, value in sorted((data.get("vars") or {}).items()):
        if name in MACHINE_VARS:
            continue
        if name in secrets:
            env[name], sources[name] = secrets[name], "secrets file"
        elif isinstance(value, dict):  # a fingerprint (redacted secret): no usable value
            env[name], sources[name] = placeholder(name), "placeholder"
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            env[name], sources[name] = str(value), "snapshot"
    for name, value in secrets.items():
        if name not in env:
            env[name], sources[name] = value, "secrets file"
    for name, value in spec.env.items():
        env[name], sources[name] = value, "profile sandbox.app.env"
    # Last: these are what makes it a sandbox, whatever production or a file said.
    for name, value in database.items():
        env[name], sources[name] = value, "sandbox database"
    if spec.sentry_env is not None and sentry_dsn is not None:
        env[spec.sentry_env], sources[spec.sentry_env] = sentry_dsn, "sentry sink"
    elif sources.get(SENTRY_ENV) == "placeholder":
        # No SDK to point at the sink: a placeholder DSN would only make one fail to start.
        env.pop(SENTRY_ENV, None)
        sources.pop(SENTRY_ENV, None)
    return env, [EnvSource(name, sources[name]) for name in sorted(env)]


def capture_gaps(snapshot: Snapshot, spec: SandboxApp) -> list[str]:
    """What the sandbox cannot copy from production because the snapshot lacks it: said in
    the report, never silently replaced by a default."""
    gaps: list[str] = []
    for facet, consequence in (
        ("env", "the app gets only the sandbox's own variables"),
        ("files", "config files keep their local mode, owned by root"),
    ):
        result = snapshot.facets.get(facet)
        if facet_data(snapshot, facet) is None:
            why = f"{result.status}" if result is not None else "not captured"
            gaps.append(f"production's {facet} facet is {why}: {consequence}")
    if app_user(snapshot, spec) is None:
        gaps.append("production's app user is unknown: the app runs as the image's user")
    return gaps


def app_user(snapshot: Snapshot, spec: SandboxApp) -> str | None:
    """``uid:gid`` production's app ran as (runtime facet, else the files facet's app user);
    None: the image's own user."""
    if spec.user:
        return spec.user
    for facet, key in (("runtime", "user"), ("files", "app_user")):
        user = (facet_data(snapshot, facet) or {}).get(key)
        if isinstance(user, dict) and isinstance(user.get("uid"), int):
            gid = user.get("gid")
            return f"{user['uid']}:{gid}" if isinstance(gid, int) else str(user["uid"])
    return None


def load_secrets_file(path: str) -> dict[str, str]:
    """``NAME=value`` lines (dotenv without interpolation); ``#`` comments and blank lines
    skipped. Errors name the line number, never its content."""
    text = read_text(Path(path).expanduser(), UsageError, label=f"secrets file {path}")
    secrets: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "").isalnum() or name[0].isdigit():
            raise UsageError(f"secrets file {path}: line {number}: expected NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        secrets[name] = value
    return secrets


@dataclass
class FilesArchive:
    tar: bytes  # to put at "/" in the container before it starts
    mounts: list[FileMount]


def file_archive(snapshot: Snapshot, spec: SandboxApp, base: Path) -> FilesArchive:
    """The profile's config files, each with production's mode and owner when the snapshot's
    files facet has the path (else the local file's mode, owned by root)."""
    captured = (facet_data(snapshot, "files") or {}).get("paths") or {}
    buffer = io.BytesIO()
    mounts: list[FileMount] = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for target, source in sorted(spec.files.items()):
            local = base / source
            data = read_bytes(local, ReproError, label=f"sandbox.app.files.{target}: {source}")
            local_mode = stat.S_IMODE(local.stat().st_mode)
            entry = captured.get(target)
            origin = "profile (not in the snapshot: local mode, root-owned)"
            mode, uid, gid = local_mode, 0, 0
            if isinstance(entry, dict) and entry.get("exists") and entry.get("type") == "file":
                try:
                    mode = int(str(entry["mode"]), 8)
                    uid, gid = int(entry["uid"]), int(entry["gid"])
                    origin = "snapshot"
                except (KeyError, TypeError, ValueError):
                    pass
                wanted = entry.get("sha256")
                differs = isinstance(wanted, str) and hashlib.sha256(data).hexdigest() != wanted
                if origin == "snapshot" and differs:
                    origin = "snapshot (mode/owner; the content differs from production's)"
            info = tarfile.TarInfo(target.lstrip("/"))
            info.size, info.mode, info.uid, info.gid, info.mtime = len(data), mode, uid, gid, MTIME
            tar.addfile(info, io.BytesIO(data))
            mounts.append(FileMount(target, f"{mode:04o}", f"{uid}:{gid}", origin))
    return FilesArchive(buffer.getvalue(), mounts)
