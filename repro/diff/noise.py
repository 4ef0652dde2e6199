"""Noise control: what a diff hides, and always says why.

Three layers, applied in this order:

1. the built-in ignore list below: values that differ between any two hosts by nature
   (connection provenance, file locations of the server, per-login variables, table sizes
   that the statistics rules judge instead). Key patterns (see :mod:`repro.diff.paths`). These
   are set aside before any rule judges them: most of a diff between prod and test data is
   exactly this, and judging it would cost more than the rest of the diff.
2. the profile's ``ignore``: path globs over printed paths (a glob also hides what is below).
3. waivers: ``{path, reason, expires}`` entries in a YAML file, for a known difference someone
   accepted for a while. An expired waiver hides nothing; its discrepancy says
   "waiver expired on <date>: <reason>" so the owner notices.

(Between 1 and 2, a rule may itself call a change harmless — statistics within tolerance.)

Hidden discrepancies go to ``result.ignored`` with ``by`` and ``reason``
(``--show-ignored``). Incomparable facets are never hidden by the built-in list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repro.diff.model import Change, Discrepancy, Ignored
from repro.diff.paths import KeyPattern, PathGlob, PatternIndex
from repro.errors import ReproError
from repro.inputfile import read_text
from repro.text import one_line


class WaiverFileError(ReproError):
    """A waivers file cannot be read or has a malformed entry."""


@dataclass(frozen=True)
class IgnoreRule:
    pattern: str
    reason: str
    matcher: KeyPattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", KeyPattern(self.pattern))


def _ignores(reason: str, *patterns: str) -> list[IgnoreRule]:
    return [IgnoreRule(pattern, reason) for pattern in patterns]


# Per-login, per-terminal or per-container variables (the env facet already drops most of
# them at capture; older snapshots and other capture sources may still carry them). HOME, PATH,
# USER and SHELL are deliberately *not* here: a different PATH or HOME can explain
# "command not found" or "cannot write ~/.cache" in prod, so rules rank them low instead.
_VOLATILE_ENV = (
    "_",
    "COLUMNS",
    "LINES",
    "HOSTNAME",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "TERM",
    "TERM_*",
    "COLORTERM",
    "SSH_*",
    "XDG_SESSION_*",
    "XDG_RUNTIME_DIR",
    "XDG_SEAT",
    "XDG_VTNR",
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "INVOCATION_ID",
    "JOURNAL_STREAM",
    "MAIL",
    "MANAGERPID",
    "NOTIFY_SOCKET",
    "SYSTEMD_EXEC_PID",
    "LISTEN_*",
    "STY",
    "TMUX",
    "TMUX_PANE",
    "WINDOW",
    "WINDOWID",
    "LS_COLORS",
    "MOTD_SHOWN",
    "GPG_AGENT_INFO",
    "PYTEST_CURRENT_TEST",
)

# PostgreSQL settings that name this host's own files, sockets and shared memory. lc_collate,
# lc_ctype and friends are *not* here: they change query results.
_PER_HOST_SETTINGS = (
    "data_directory",
    "config_file",
    "hba_file",
    "ident_file",
    "external_pid_file",
    "listen_addresses",
    "port",
    "unix_socket_directories",
    "unix_socket_group",
    "unix_socket_permissions",
    "cluster_name",
    "krb_server_keyfile",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_ca_file",
    "ssl_crl_file",
    "ssl_crl_dir",
    "ssl_dh_params_file",
    "shared_memory_size",
    "shared_memory_size_in_huge_pages",
    "huge_pages_status",
    "dynamic_shared_memory_type",
    "shared_memory_type",
    "server_version",
    "server_version_num",
    "data_directory_mode",
    "log_directory",
    "log_filename",
    "stats_temp_directory",
    "event_source",
)

BUILTIN_IGNORES: tuple[IgnoreRule, ...] = (
    *_ignores("per-login or per-instance variable", *(f"env.vars.{n}" for n in _VOLATILE_ENV)),
    *_ignores(
        "connection provenance (host, port, names) differs per environment by design",
        "database.connection.**",
    ),
    *_ignores(
        "per-host server file, socket or memory setting",
        *(f"database.settings.{n}.**" for n in _PER_HOST_SETTINGS),
    ),
    *_ignores(
        "where a setting's value comes from (file, default, ALTER) is not its value",
        "database.settings.*.source",
    ),
    *_ignores("database names differ per environment by design", "database.database.name"),
    *_ignores(
        "why a role counts as used (which profile named it, who logs in) is judged through "
        "its privileges, not compared",
        "database.roles.*.used_by",
    ),
    *_ignores(
        "table and view sizes move with the data; the statistics rules judge the data shape",
        "database.tables.*.rows_estimate",
        "database.tables.*.size_bytes",
        "database.views.*.rows_estimate",
        "database.views.*.size_bytes",
    ),
    *_ignores(
        "planner sample details (correlation, most common values, histograms) differ on "
        "every ANALYZE; null fraction and distinct counts are judged instead",
        "database.statistics.*.columns.*.correlation",
        "database.statistics.*.columns.*.mcv",
        "database.statistics.*.columns.*.histogram",
    ),
)


@dataclass(frozen=True)
class Waiver:
    path: str
    reason: str
    expires: dt.date
    index: int = 0  # position in its file, for messages
    source: str | None = None
    matcher: PathGlob = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", PathGlob(self.path))

    def active(self, today: dt.date) -> bool:
        """A waiver is valid through its expiry day."""
        return today <= self.expires


class Noise:
    """Classifies discrepancies as shown (maybe with a note) or ignored (with why)."""

    def __init__(
        self,
        builtin: Sequence[IgnoreRule],
        ignore: Sequence[str],
        waivers: Sequence[Waiver],
        today: dt.date,
    ) -> None:
        self._builtin = PatternIndex([(rule.matcher, rule) for rule in builtin])
        self._globs = [PathGlob(text) for text in ignore]
        self._waivers = list(waivers)
        self._today = today

    def builtin(self, change: Change) -> str | None:
        """Why the built-in list hides this change, or None. Incomparable is never noise."""
        if change.kind == "incomparable":
            return None
        for rule in self._builtin.matching(change.facet, change.keys):
            return f"{rule.pattern}: {rule.reason}"
        return None

    def classify(self, item: Discrepancy) -> Discrepancy | Ignored:
        """Profile ignores and waivers (the built-in list is applied before rules judge)."""
        path = item.path
        for glob in self._globs:
            if glob.matches(path):
                return Ignored(item, "profile", f"profile ignore {glob.text!r}")
        expired: Waiver | None = None
        for waiver in self._waivers:
            if not waiver.matcher.matches(path):
                continue
            if waiver.active(self._today):
                return Ignored(
                    item,
                    "waiver",
                    f"waiver {waiver.path!r} until {waiver.expires.isoformat()}: {waiver.reason}",
                )
            expired = expired or waiver
        if expired is not None:
            return item.with_note(
                f"waiver expired on {expired.expires.isoformat()}: {expired.reason}"
            )
        return item


# --- waivers files -------------------------------------------------------------------------


def load_waivers(text: str, where: str) -> list[Waiver]:
    """A YAML list of ``{path, reason, expires}`` (or ``{waivers: [...]}``); errors name the
    file and the 1-based entry."""
    import yaml  # only a diff with waivers needs it

    from repro.limits import load_yaml

    try:
        raw = load_yaml(text, where, WaiverFileError)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise WaiverFileError(f"{where}: invalid YAML{line}") from None
    except ValueError as exc:  # PyYAML builds dates while parsing: 2025-13-01 fails here
        raise WaiverFileError(f"{where}: invalid value ({exc})") from None
    if raw is None:
        return []
    if isinstance(raw, dict) and set(raw) == {"waivers"}:
        raw = raw["waivers"] or []
    if not isinstance(raw, list):
        raise WaiverFileError(
            f"{where}: expected a list of waivers ({{path, reason, expires}} entries)"
        )
    return [_waiver(entry, index, where) for index, entry in enumerate(raw, start=1)]


def _waiver(entry: Any, index: int, where: str) -> Waiver:
    at = f"{where}: entry {index}"
    if not isinstance(entry, dict):
        raise WaiverFileError(f"{at}: expected a mapping with path, reason and expires")
    unknown = sorted(str(k) for k in entry if k not in ("path", "reason", "expires"))
    if unknown:
        raise WaiverFileError(
            f"{at}: unknown field {unknown[0]!r} (allowed: path, reason, expires)"
        )
    path, reason, expires = entry.get("path"), entry.get("reason"), entry.get("expires")
    if not isinstance(path, str) or not path.strip():
        raise WaiverFileError(f"{at}: 'path' must be a non-empty glob over discrepancy paths")
    if not isinstance(reason, str) or not reason.strip():
        raise WaiverFileError(f"{at}: 'reason' must say why the difference is accepted")
    if expires is None:
        raise WaiverFileError(f"{at}: 'expires' is required (YYYY-MM-DD): waivers must expire")
    return Waiver(
        path=path.strip(),
        reason=one_line(reason),
        expires=_date(expires, at),
        index=index,
        source=where,
    )


def _date(value: Any, at: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise WaiverFileError(f"{at}: 'expires' is not a date (YYYY-MM-DD): {value!r}") from None


def read_waivers(path: str | Path) -> list[Waiver]:
    """:func:`load_waivers` on a file's text (the only function here that does I/O)."""
    path = Path(path)
    text = read_text(path, WaiverFileError, noun="waivers file")
    return load_waivers(text, str(path))
