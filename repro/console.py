"""Terminal output: rich on a terminal, quiet and plain when piped or with --json.

rich is imported by the functions that make a console: a command whose output is piped
(``repro diff | jq``, ``repro snapshot -o f --json``) never loads it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def is_interactive() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


def stdout_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, highlight=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, stderr=True, highlight=False)


def log(message: str) -> None:
    """A log line on stderr (never stdout, which carries data)."""
    print(f"repro: {message}", file=sys.stderr)


def print_json(data: Any) -> None:
    """A command's machine-readable result on stdout: indented, keys sorted, so two runs
    compare line by line."""
    print(json.dumps(data, indent=2, sort_keys=True))
