"""Tokens from captured data, made safe for a generated shell script.

Snapshots are files from other machines: a package name, a path or an owner in one is text an
attacker may have chosen. A generated script therefore only ever contains

* names that match their grammar (:data:`GRAMMARS`): anything else is refused by the caller,
  which writes a comment saying so instead of a command;
* values quoted for the exact context they land in (:func:`shell_word` for a word of a
  command or the right side of an assignment, :func:`comment_text` for a comment);
* ``--`` before operands, so a name can never become an option (the caller's job; the
  grammars refuse a leading ``-`` as a second line of defence).

Each grammar is deliberately the strict, documented form; a real name outside it is rare and
is better fixed by hand than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeGuard

# POSIX: environment variable names that a shell can assign (portable character set).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# PEP 508 distribution name (also PEP 503's "valid project name").
PEP508_NAME = re.compile(r"[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]")
# PEP 440 (appendix B's permissive parsing regex: what `pip install name==VERSION` accepts).
PEP440_VERSION = re.compile(
    r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?",
    re.IGNORECASE,
)
# Debian policy 5.6.1 (Package) plus dpkg's multiarch qualifier; 5.6.12 (Version).
DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+(?::[a-z0-9][a-z0-9-]*)?")
DEBIAN_VERSION = re.compile(r"(?:[0-9]+:)?[0-9A-Za-z][A-Za-z0-9.+~-]*")
# Alpine's apk: lowercase names as abuild allows them; versions like 1.2.4_rc1-r2.
APK_PACKAGE = re.compile(r"[a-z0-9][a-z0-9._+-]*")
APK_VERSION = re.compile(r"[0-9][A-Za-z0-9._]*(?:-r[0-9]+)?")
# RPM: NAME and [EPOCH:]VERSION-RELEASE (the characters rpmbuild accepts).
RPM_PACKAGE = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")
RPM_VERSION = re.compile(r"(?:[0-9]+:)?[A-Za-z0-9._+~^]+-[A-Za-z0-9._+~^]+")
# PostgreSQL configuration parameter: a name, or a custom class.name (guc.c).
PG_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*")
# User and group names: shadow-utils' default NAME_REGEX (lowercase), the common upper-case
# and dotted ones, a trailing $ for machine accounts, or a numeric id.
USER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,31}\$?|[0-9]{1,10}")
FILE_MODE = re.compile(r"[0-7]{3,4}")
# A command for the interpreter: an absolute path, or a bare name found on PATH.
COMMAND_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]*")

PATH_MAX = 4096
PG_NAMEDATALEN = 63  # bytes in an identifier; PostgreSQL truncates longer ones


def matches(pattern: re.Pattern[str], text: object) -> bool:
    return isinstance(text, str) and pattern.fullmatch(text) is not None


def is_absolute_path(text: object) -> bool:
    """An absolute path of printable characters (a newline or escape in a path is refused:
    legal, but never what a config path looks like, and unreadable in a script under review)."""
    return (
        isinstance(text, str)
        and text.startswith("/")
        and len(text.encode("utf-8", "surrogatepass")) <= PATH_MAX
        and text.isprintable()
    )


def is_pg_identifier(text: object) -> bool:
    """Any printable name PostgreSQL keeps whole (quoting makes the characters safe)."""
    return (
        isinstance(text, str)
        and 0 < len(text.encode("utf-8", "surrogatepass")) <= PG_NAMEDATALEN
        and text.isprintable()
    )


def is_interpreter(text: object) -> bool:
    return is_absolute_path(text) or matches(COMMAND_NAME, text)


GRAMMARS: dict[str, Callable[[object], bool]] = {
    "environment variable name": lambda t: matches(ENV_NAME, t),
    "PEP 508 distribution name": lambda t: matches(PEP508_NAME, t),
    "PEP 440 version": lambda t: matches(PEP440_VERSION, t),
    "Debian package name": lambda t: matches(DEBIAN_PACKAGE, t),
    "Debian version": lambda t: matches(DEBIAN_VERSION, t),
    "apk package name": lambda t: matches(APK_PACKAGE, t),
    "apk version": lambda t: matches(APK_VERSION, t),
    "RPM package name": lambda t: matches(RPM_PACKAGE, t),
    "RPM version": lambda t: matches(RPM_VERSION, t),
    "PostgreSQL setting name": lambda t: matches(PG_SETTING, t),
    "PostgreSQL identifier": is_pg_identifier,
    "user or group name": lambda t: matches(USER_NAME, t),
    "file mode": lambda t: matches(FILE_MODE, t),
    "absolute path": is_absolute_path,
    "interpreter": is_interpreter,
}


def valid(grammar: str, text: object) -> TypeGuard[str]:
    """``text`` is a string of that grammar (see :data:`GRAMMARS`)."""
    return GRAMMARS[grammar](text)


_BARE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def shell_word(value: str) -> str:
    """One shell word that bash reads back as exactly ``value``, in any context where a word
    is expected (a command argument, the right side of an assignment, an array element).

    Plain text stays bare or in single quotes; text with a quote, ``$``, a backtick, a
    backslash or a non-printable character becomes ANSI-C quoting (``$'...'``) with every
    non-printable character as ``\\xHH`` bytes, so the script shows no raw control or bidi
    characters to its reviewer and means the same in every locale. NUL cannot be in a shell
    word: ValueError.
    """
    if "\0" in value:
        raise ValueError("a NUL character cannot be passed to a command")
    if value and _BARE.fullmatch(value) and not value.startswith(("-", "=", "~")):
        return value
    if value.isprintable() and not any(char in value for char in "'$`\\"):
        return f"'{value}'"  # ($, ` and \ are literal here, but ShellCheck asks to be sure)
    out = []
    for char in value:
        if char in "\\'":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
    return "$'" + "".join(out) + "'"


def comment_text(text: object) -> str:
    """Text safe inside a ``#`` (or SQL ``--``) comment: one line, printable characters only
    (a newline would end the comment; an escape or bidi character could hide what follows
    from the reviewer)."""
    flat = " ".join(str(text).split())
    return "".join(char if char.isprintable() else "?" for char in flat)


# Variables bash gives a meaning (or makes read-only), and the dynamic loader's: exported by the
# script they would change how its own shell, or the reviewer's when sourced, runs commands.
SHELL_SENSITIVE = frozenset(
    {
        "CDPATH", "CHILD_MAX", "COLUMNS", "COPROC", "DIRSTACK", "EMACS", "ENV",
        "EPOCHREALTIME", "EPOCHSECONDS", "EUID", "EXECIGNORE", "FCEDIT", "FIGNORE", "FUNCNAME",
        "FUNCNEST", "GLOBIGNORE", "GROUPS", "HOME", "HOSTFILE", "HOSTNAME", "HOSTTYPE", "IFS",
        "IGNOREEOF", "INPUTRC", "INSIDE_EMACS", "LINENO", "LINES", "MACHTYPE", "MAIL",
        "MAILCHECK", "MAILPATH", "MAPFILE", "OLDPWD", "OPTARG", "OPTERR", "OPTIND", "OSTYPE",
        "PATH", "PIPESTATUS", "POSIXLY_CORRECT", "PPID", "PROMPT_COMMAND", "PROMPT_DIRTRIM",
        "PS0", "PS1", "PS2", "PS3", "PS4", "PWD", "RANDOM", "REPLY", "SECONDS", "SHELL",
        "SHELLOPTS", "SHLVL", "SRANDOM", "TIMEFORMAT", "TMOUT", "UID", "_", "PYTHONPATH",
        "PYTHONHOME", "PYTHONSTARTUP",
    }
)
SHELL_SENSITIVE_PREFIXES = ("BASH", "COMP_", "HIST", "READLINE_", "LD_")


def shell_sensitive(name: str) -> bool:
    return name in SHELL_SENSITIVE or name.startswith(SHELL_SENSITIVE_PREFIXES)
