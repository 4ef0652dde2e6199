"""What the standard-library parsers of the fast commands share (:mod:`.diff_args`,
:mod:`.snapshot_args`): a usage error is one ``repro: error:`` line and exit 2, like every
other error of repro."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class CommandParser(argparse.ArgumentParser):
    def __init__(self, command: str, arguments: str, summary: str, epilog: str) -> None:
        super().__init__(
            prog=f"repro {command}",
            usage=f"repro {command} [OPTIONS] {arguments}",
            description=summary,
            epilog=epilog,
            allow_abbrev=False,
        )
        self.command = command

    def error(self, message: str) -> NoReturn:
        print(
            f"repro: error: {self.command}: {message} (see: repro {self.command} --help)",
            file=sys.stderr,
        )
        raise SystemExit(2)
