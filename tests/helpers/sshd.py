"""A real OpenSSH server on 127.0.0.1 for the ssh target's tests."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.settings import skip_or_fail
from tests.helpers.wait import GiveUp, free_port, read_banner, wait_until

SSHD = "/usr/sbin/sshd"
SSH_ALIAS = "repro-test-sshd"


@dataclass(frozen=True)
class SshServer:
    host: str
    port: int
    user: str
    identity_file: Path  # private key authorized for ``user``
    known_hosts: Path  # holds the server's host key, so StrictHostKeyChecking=yes works
    config_file: Path  # ssh_config with ``Host repro-test-sshd`` set up with all of the above
    log_file: Path
    alias: str = SSH_ALIAS

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}"

    def ssh_options(self) -> list[str]:
        """Options for ssh(1) that need no user config and never prompt."""
        return [
            "-p",
            str(self.port),
            "-i",
            str(self.identity_file),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=10",
        ]

    def ssh_command(self, *remote: str) -> list[str]:
        return ["ssh", "-F", "/dev/null", *self.ssh_options(), self.destination, *remote]


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )


@contextmanager
def sshd_server() -> Iterator[SshServer]:
    """Start ``sshd -D -e`` with throw-away host and client keys; stop and delete at exit.

    Root login by key only: sshd must run as root to switch to the logged-in user, and root
    is the only account it can count on here. Skips (fails under REPRO_REQUIRE_DOCKER=1)
    without sshd/ssh-keygen or without root.
    """
    if not os.path.exists(SSHD) or not shutil.which("ssh-keygen") or not shutil.which("ssh"):
        skip_or_fail("OpenSSH missing (apt packages openssh-server, openssh-client)")
    if os.geteuid() != 0:
        skip_or_fail("sshd_server needs root: sshd can only log in other users as root")

    # Privilege separation directory; Debian's init script normally creates it.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="repro-sshd-"))
    proc: subprocess.Popen[bytes] | None = None
    log_file = base / "sshd.log"
    try:
        host_key = base / "ssh_host_ed25519_key"
        identity = base / "id_ed25519"
        _keygen(host_key, "repro-test-host")
        _keygen(identity, "repro-test-client")
        authorized = base / "authorized_keys"
        shutil.copyfile(identity.with_suffix(".pub"), authorized)

        # The port is only known free a moment ago: if sshd cannot bind it, try another.
        port = 0
        for attempt in range(3):
            port = free_port()
            proc = started = _start_sshd(base, port, host_key, authorized, log_file)
            greets = functools.partial(_greets, started, port)
            try:
                wait_until(greets, timeout=20, what=f"sshd on 127.0.0.1:{port}")
                break
            except (TimeoutError, GiveUp) as exc:
                log = log_file.read_text(errors="replace")
                _stop(started)
                proc = None
                if attempt == 2 or "Address already in use" not in log:
                    raise RuntimeError(f"{exc}; sshd log:\n{log}") from exc

        known_hosts = base / "known_hosts"
        host_pub = host_key.with_suffix(".pub").read_text().strip()
        known_hosts.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
        client_config = base / "ssh_config"
        client_config.write_text(
            "\n".join(
                [
                    f"Host {SSH_ALIAS}",
                    "    HostName 127.0.0.1",
                    f"    Port {port}",
                    "    User root",
                    f"    IdentityFile {identity}",
                    "    IdentitiesOnly yes",
                    f"    UserKnownHostsFile {known_hosts}",
                    "    GlobalKnownHostsFile /dev/null",
                    "    StrictHostKeyChecking yes",
                    "    BatchMode yes",
                    "",
                ]
            )
        )
        yield SshServer(
            host="127.0.0.1",
            port=port,
            user="root",
            identity_file=identity,
            known_hosts=known_hosts,
            config_file=client_config,
            log_file=log_file,
        )
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(base, ignore_errors=True)


def _start_sshd(
    base: Path, port: int, host_key: Path, authorized: Path, log_file: Path
) -> subprocess.Popen[bytes]:
    config = base / "sshd_config"
    config.write_text(
        "\n".join(
            [
                "ListenAddress 127.0.0.1",
                f"Port {port}",
                f"HostKey {host_key}",
                f"PidFile {base / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                # The temp dir is not root-owned all the way up the way StrictModes wants.
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                # No PAM: pam_loginuid and friends fail inside containers.
                "UsePAM no",
                "AllowUsers root",
                "LogLevel VERBOSE",
                "Subsystem sftp internal-sftp",
                "",
            ]
        )
    )
    # sshd refuses to re-exec itself unless started by absolute path.
    with log_file.open("wb") as log:
        return subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _greets(proc: subprocess.Popen[bytes], port: int) -> bool:
    if proc.poll() is not None:
        raise GiveUp(f"sshd exited with {proc.returncode}")
    return read_banner("127.0.0.1", port).startswith(b"SSH-")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
