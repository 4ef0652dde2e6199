"""Terminal output: rich on a terminal, quiet and plain when piped or with --json."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console


def is_interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


def stdout_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=False, highlight=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, stderr=True, highlight=False)


def log(message: str) -> None:
    """A log line on stderr (never stdout, which carries data)."""
    print(f"repro: {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    """A command's machine-readable result on stdout: indented, keys sorted, so two runs
    compare line by line."""
    print(json.dumps(data, indent=2, sort_keys=True))
