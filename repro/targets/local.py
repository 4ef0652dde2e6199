"""This machine. With ``user`` set (and repro running as root), commands run as that user,
which is how a capture sees what the app's own user can and cannot read."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Sequence
from typing import Any

from repro.errors import TargetError
from repro.targets.base import COMMAND_NOT_FOUND, DEFAULT_TIMEOUT, CommandResult, run_command


class LocalTarget:
    kind = "local"
    OPTIONS: dict[str, type] = {"user": str}

    def __init__(self, user: str | None = None) -> None:
        self.user = user

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> LocalTarget:
        return cls(user=options.get("user"))

    def describe(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "identity": socket.gethostname(),
            "user": self.user or getpass.getuser(),
        }

    def _argv(self, argv: Sequence[str]) -> list[str]:
        if self.user and self.user != getpass.getuser():
            if os.geteuid() != 0:
                raise TargetError(f"local target: running as {self.user!r} needs root")
            return ["runuser", "-u", self.user, "--", *argv]
        return list(argv)

    def run(
        self, argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, stdin: bytes | None = None
    ) -> CommandResult:
        full = self._argv(argv)
        try:
            return run_command(full, argv, timeout=timeout, stdin=stdin)
        except FileNotFoundError:
            return CommandResult(tuple(argv), COMMAND_NOT_FOUND, b"", b"command not found")
        except PermissionError:
            return CommandResult(tuple(argv), 126, b"", b"Permission denied")

    def close(self) -> None:
        return None
