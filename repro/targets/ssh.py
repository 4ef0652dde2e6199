"""A host reached with the OpenSSH client, so the user's ssh config, agent and keys just work.

Every command line is built by :func:`ssh_argv`, a pure function. The first command opens a
master connection (``ControlMaster``) that later commands reuse: a capture runs a handful of
commands, and a fresh TCP + key exchange for each would cost more than the commands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from repro.errors import ProfileError, TargetError
from repro.targets.base import (
    DEFAULT_TIMEOUT,
    CommandResult,
    not_an_option,
    quote_argv,
    run_command,
)

SSH_FAILED = 255  # ssh's own exit code when it could not connect or authenticate
CONNECT_TIMEOUT = 10
MASTER_IDLE_SECONDS = 60
STRICT_CHOICES = ("yes", "accept-new", "no")
# Debian's ssh_config has `SendEnv LANG LC_*`: the remote shell would report *our* locale as
# the host's. ssh only sends variables it has, so they are left out of its environment.
_CLIENT_ENV_DROP = ("LANG", "LANGUAGE", "LC_")


@dataclass(frozen=True)
class SshSpec:
    host: str
    user: str | None = None
    port: int | None = None
    identity_file: str | None = None
    known_hosts_file: str | None = None
    strict_host_key_checking: str = "accept-new"
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def ssh_argv(
    spec: SshSpec,
    argv: Sequence[str] | None,
    *,
    control_path: str | None = None,
    master: bool = False,
    binary: str = "ssh",
) -> list[str]:
    """The ssh command line running argv on the host (argv None: a master with no command).

    BatchMode comes first because ssh keeps the first value it sees for an option: a prompt
    for a password or a host key would hang a capture, whatever the profile's options say.
    """
    out = [binary, "-o", "BatchMode=yes"]
    seen = {"batchmode"}

    def option(name: str, value: str) -> None:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.extend(["-o", f"{name}={value}"])

    for name in sorted(spec.options, key=str.lower):
        option(name, str(spec.options[name]))
    option("ConnectTimeout", str(CONNECT_TIMEOUT))
    if spec.port is not None:
        out.extend(["-p", str(spec.port)])
    if spec.identity_file:
        out.extend(["-i", spec.identity_file])
        option("IdentitiesOnly", "yes")  # else agent keys are tried first: "too many failures"
    if spec.known_hosts_file:
        option("UserKnownHostsFile", spec.known_hosts_file)
    option("StrictHostKeyChecking", spec.strict_host_key_checking)
    if control_path:
        if master:
            out.extend(["-M", "-N", "-f"])
            option("ControlMaster", "yes")
            # close() ends the master; the idle timeout only reaps it if repro died first.
            # Should it expire mid-capture, later commands fall back to a direct connection.
            option("ControlPersist", str(MASTER_IDLE_SECONDS))
        else:
            option("ControlMaster", "no")
        option("ControlPath", control_path)
    out.append(spec.destination)
    if argv is not None:
        out.extend(["--", quote_argv(argv)])
    return out


def spec_from_options(options: Mapping[str, Any]) -> SshSpec:
    host = options.get("host")
    if not host:
        raise ProfileError("ssh target: 'host' is required")
    for key in ("host", "user"):
        not_an_option("ssh", key, options.get(key))
    strict = options.get("strict_host_key_checking", "accept-new")
    if strict not in STRICT_CHOICES:
        raise ProfileError(
            f"ssh target: strict_host_key_checking: expected one of {', '.join(STRICT_CHOICES)}, "
            f"got {strict!r}"
        )
    extra = options.get("options") or {}
    for name, value in extra.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ProfileError(f"ssh target: options.{name}: expected a string or an integer")
    identity = options.get("identity_file")
    known_hosts = options.get("known_hosts_file")
    return SshSpec(
        host=host,
        user=options.get("user"),
        port=options.get("port"),
        identity_file=os.path.expanduser(identity) if identity else None,
        known_hosts_file=os.path.expanduser(known_hosts) if known_hosts else None,
        strict_host_key_checking=strict,
        options={str(k): str(v) for k, v in extra.items()},
    )


def ssh_error_line(stderr: bytes) -> str:
    """ssh's reason, skipping the 'Warning: Permanently added ...' chatter."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith("Warning:")]
    return lines[-1] if lines else "ssh failed without a message"


def _client_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_CLIENT_ENV_DROP)}


class SshTarget:
    kind = "ssh"
    OPTIONS: dict[str, type] = {
        "host": str,
        "user": str,
        "port": int,
        "identity_file": str,
        "known_hosts_file": str,
        "strict_host_key_checking": str,
        "options": dict,
    }

    def __init__(self, spec: SshSpec, *, multiplex: bool = True) -> None:
        self.spec = spec
        self.multiplex = multiplex
        self._control_dir: str | None = None
        self._remote_user: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SshTarget:
        target = cls(spec_from_options(options))
        target.connect()  # an unreachable host fails the capture once, with ssh's reason
        return target

    @property
    def _control_path(self) -> str | None:
        return os.path.join(self._control_dir, "cm") if self._control_dir else None

    def connect(self) -> None:
        if shutil.which("ssh") is None:
            raise TargetError("ssh target: the OpenSSH client (ssh) is not installed")
        if not self.multiplex or self._control_dir:
            return
        # A short private path: unix socket paths are limited to ~104 bytes.
        self._control_dir = tempfile.mkdtemp(prefix="repro-ssh-")
        argv = ssh_argv(self.spec, None, control_path=self._control_path, master=True)
        try:
            # -f forks the master once authenticated; its output goes nowhere, so no pipe of
            # ours is held open by the background process (that would hang a later read).
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=CONNECT_TIMEOUT * 3,
                env=_client_env(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            self._drop_control_dir()
            raise TargetError(f"ssh {self.spec.destination}: timed out connecting") from None
        if proc.returncode != 0:
            self._drop_control_dir()
            raise TargetError(f"ssh {self.spec.destination}: {ssh_error_line(proc.stderr)}")

    def describe(self) -> dict[str, str]:
        spec = self.spec
        identity = spec.host if spec.port is None else f"{spec.host}:{spec.port}"
        return {"kind": self.kind, "identity": identity, "user": self._user()}

    def _user(self) -> str:
        if self.spec.user:
            return self.spec.user
        if self._remote_user is None:  # the ssh config may choose the user: ask the host
            result = self.run(["id", "-un"], timeout=30)
            self._remote_user = result.text.strip() if result.ok else "unknown"
        return self._remote_user

    def run(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> CommandResult:
        if self.multiplex and not self._control_dir:
            self.connect()
        full = ssh_argv(self.spec, argv, control_path=self._control_path)
        try:
            result = run_command(full, argv, timeout=timeout, stdin=stdin, env=_client_env())
        except FileNotFoundError:
            raise TargetError("ssh target: the OpenSSH client (ssh) is not installed") from None
        if result.returncode == SSH_FAILED:
            # Also what a remote command exiting 255 looks like; ssh cannot tell them apart,
            # and no command repro runs exits 255 on purpose.
            raise TargetError(f"ssh {self.spec.destination}: {ssh_error_line(result.stderr)}")
        return result

    def close(self) -> None:
        if self._control_dir is None:
            return
        if os.path.exists(self._control_path or ""):
            argv = ssh_argv(self.spec, None, control_path=self._control_path)
            exit_argv = [*argv[:-1], "-O", "exit", argv[-1]]
            subprocess.run(
                exit_argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=CONNECT_TIMEOUT,
                env=_client_env(),
                check=False,
            )
        self._drop_control_dir()

    def _drop_control_dir(self) -> None:
        if self._control_dir:
            shutil.rmtree(self._control_dir, ignore_errors=True)
        self._control_dir = None
