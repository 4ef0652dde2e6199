"""What the standard-library parsers of the fast commands share (:mod:`.diff_args`,
:mod:`.snapshot_args`): a usage error is one ``repro: error:`` line and exit 2, worded as the
Typer commands word theirs (``No such option: --x``, ``Missing argument 'LEFT'``), and
``--help`` starts with ``Usage:`` like theirs."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

_REQUIRED = re.compile(r"the following arguments are required: ([^,]+)")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (\S+)")
_EXPECTS_VALUE = re.compile(r"argument (\S+?)(?:/\S+)?: expected one argument")
_INVALID = re.compile(r"argument (\S+?)(?:/\S+)?: (invalid .*)")


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

    def format_usage(self) -> str:
        return _capitalised(super().format_usage())

    def format_help(self) -> str:
        return _capitalised(super().format_help())

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        # An unknown option is the first thing worth saying (argparse would first complain
        # about a missing LEFT that the unknown option may have been meant to precede).
        unknown = self._first_unknown_option(list(sys.argv[1:] if args is None else args))
        if unknown is not None:
            self.error(f"unrecognized arguments: {unknown}")
        parsed: argparse.Namespace = super().parse_args(args, namespace)
        return parsed

    def _first_unknown_option(self, args: list[str]) -> str | None:
        takes_value = {
            s for a in self._actions if a.nargs != 0 for s in a.option_strings
        }  # store_true and help take none
        known = {s for a in self._actions for s in a.option_strings}
        skip = False
        for token in args:
            if skip:
                skip = False
                continue
            if token == "--":
                return None
            if not token.startswith("-") or token == "-":
                continue
            name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
            if name not in known:
                return name
            skip = name in takes_value and token == name  # its value is the next word
        return None

    def error(self, message: str) -> NoReturn:
        print(f"repro: error: {self.command}: {_worded(message)} (see repro {self.command} --help)",
              file=sys.stderr)  # fmt: skip
        raise SystemExit(2)


def _capitalised(text: str) -> str:
    return "Usage: " + text[len("usage: ") :] if text.startswith("usage: ") else text


def _worded(message: str) -> str:
    """argparse's messages in the words click uses for the other commands."""
    if found := _REQUIRED.match(message):
        return f"Missing argument '{found.group(1)}'"
    if found := _UNRECOGNIZED.match(message):
        word = found.group(1)
        return f"No such option: {word}" if word.startswith("-") else (
            f"Got unexpected extra argument ({word})"
        )
    if found := _EXPECTS_VALUE.match(message):
        return f"Option '{found.group(1)}' requires an argument"
    if found := _INVALID.match(message):
        return f"Invalid value for '{found.group(1)}': {found.group(2)}"
    return message
