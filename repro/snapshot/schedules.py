"""The ``schedules`` facet: cron jobs and systemd timers, i.e. what runs without a request.

Sources, all read under the ``root`` option (default ``/``; a test points it at a fake tree):

* ``/etc/crontab`` and ``/etc/cron.d/*`` (system format, with a user column);
* user crontabs: ``/var/spool/cron/crontabs/*`` (Debian) and ``/var/spool/cron/*`` (RHEL),
  readable only by root — otherwise a problem and status partial;
* the script names in ``/etc/cron.{hourly,daily,weekly,monthly}`` and whether they are
  executable (run-parts silently skips those that are not);
* systemd timers from their unit files (+ drop-ins) in the usual unit directories, with the
  activated service's ``ExecStart``/``User``, and ``enabled`` from ``*.wants/`` links. With
  ``root: /`` and a working ``systemctl``, ``systemctl list-timers --all`` also says which timers
  systemd has ``loaded``; ``systemd_running`` records whether it answered at all (a timer in a
  container without systemd never fires).

Commands may carry secrets (``pg_dump postgresql://u:pw@db/x``, ``--password=...``,
``PGPASSWORD=...``). They are masked here, before the capture layer sees them, because a cron
job's key contains its command and the capture layer redacts values, not keys.

Data shape::

    jobs:
      "cron:/etc/cron.d/backup:pg_dump ...":      # command masked; " #2" for a duplicate line
          {schedule: "0 3 * * *", user: "root", command: "..." | {redacted, fingerprint, masked},
           source: "/etc/cron.d/backup"}
      "cron.daily:/etc/cron.daily/logrotate":
          {schedule: "daily", user: "root", command: "/etc/cron.daily/logrotate",
           source: "/etc/cron.daily", executable: true}
      "timer:backup.timer":
          {schedule: "OnCalendar=*-*-* 03:00:00", user: "root", command: "/usr/bin/backup",
           source: "/etc/systemd/system/backup.timer", unit: "backup.service", enabled: true,
           loaded: true}                           # loaded only when systemctl answered
    cron_env: {"/etc/crontab": {"SHELL": "/bin/sh", "MAILTO": "ops@example.com", ...}}
    systemd_running: true | false                  # only with root "/"

Next/last run times are deliberately absent: they change every minute.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from repro.errors import CaptureError
from repro.profile.facets import Option
from repro.redaction import MASK, Redactor
from repro.snapshot.base import CaptureContext
from repro.snapshot.file import FacetResult
from repro.targets.base import run_shell
from repro.text import one_line

PERIODS = ("hourly", "daily", "weekly", "monthly")
# Highest priority first, as systemd searches them; /lib is /usr/lib on merged-/usr systems.
UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
TIMER_KEYS = (
    "OnCalendar",
    "OnActiveSec",
    "OnBootSec",
    "OnStartupSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
)

# Records of NUL-separated fields: F kind path content | E kind path error |
# N kind path executable | S rc systemctl-output. Paths are relative to the root ($r).
# systemd.unit(5): name characters, an optional @instance, a type suffix.
_UNIT_NAME = re.compile(r"[A-Za-z0-9:_.\\-]+(?:@[A-Za-z0-9:_.\\-]*)?\.[a-z]+")
_SCRIPT = r"""
export LC_ALL=C
r=${1%/} mode=$2
shift 2
UNIT_DIRS='__UNIT_DIRS__'
emit() {
  if out=$(cat -- "$r$2" 2>&1); then printf 'F\0%s\0%s\0%s\0' "$1" "$2" "$out"
  else printf 'E\0%s\0%s\0%s\0' "$1" "$2" "$out"; fi
}
files_in() {
  [ -d "$r$2" ] || return 0
  if [ ! -r "$r$2" ] || [ ! -x "$r$2" ]; then
    printf 'E\0%s\0%s\0Permission denied\0' "$1" "$2"
    return 0
  fi
  for f in "$r$2"/*; do
    if [ -f "$f" ]; then emit "$1" "${f#"$r"}"; fi
  done
}
units() {
  for d in $UNIT_DIRS; do
    for f in "$r$d"/$1 "$r$d"/$1.d/*.conf; do
      if [ -f "$f" ]; then emit unit "${f#"$r"}"; fi
    done
  done
}
if [ "$mode" = units ]; then
  for u in "$@"; do units "$u"; done
  exit 0
fi
if [ -f "$r/etc/crontab" ]; then emit crontab /etc/crontab; fi
files_in cron.d /etc/cron.d
files_in user /var/spool/cron/crontabs
files_in user /var/spool/cron
for p in hourly daily weekly monthly; do
  [ -d "$r/etc/cron.$p" ] || continue
  for f in "$r/etc/cron.$p"/*; do
    [ -e "$f" ] || continue
    x=0
    if [ -x "$f" ]; then x=1; fi
    printf 'N\0%s\0%s\0%s\0' "cron.$p" "${f#"$r"}" "$x"
  done
done
units '*.timer'
for d in $UNIT_DIRS; do
  for f in "$r$d"/*.wants/*.timer; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf 'N\0wants\0%s\0-\0' "${f#"$r"}"; fi
  done
done
if [ -z "$r" ] && command -v systemctl >/dev/null 2>&1; then
  out=$(systemctl list-timers --all --no-legend --no-pager 2>&1); rc=$?
  printf 'S\0%s\0%s\0' "$rc" "$out"
fi
""".replace("__UNIT_DIRS__", " ".join(UNIT_DIRS))
_FIELDS = {"F": 3, "E": 3, "N": 3, "S": 2}

_ENV_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_VALUE = r"""('[^']*'|"[^"]*"|[^\s'"]+)"""
# --password=x, --token x, PGPASSWORD=x, password=x (libpq conninfo): masked when the name is
# a secret's. Values naming a variable or a file are not secrets themselves.
_FLAG_ARG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)(=|[ \t]+)" + _VALUE)
_NAME_ARG = re.compile(r"(?<![\w./-])([A-Za-z_][A-Za-z0-9_]*)=" + _VALUE)


@dataclass
class Tree:
    """What one scan of the target found."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (kind, content)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (kind, error)
    names: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, path, flag)
    systemctl: tuple[str, str] | None = None  # (rc, output)


def split_records(blob: bytes) -> Tree:
    tokens = blob.decode("utf-8", "surrogateescape").split("\0")
    tree = Tree()
    i = 0
    while i < len(tokens):
        tag = tokens[i]
        width = _FIELDS.get(tag)
        if width is None or i + width >= len(tokens):
            break
        fields = tokens[i + 1 : i + 1 + width]
        i += 1 + width
        if tag == "F":
            tree.files[fields[1]] = (fields[0], fields[2])
        elif tag == "E":
            tree.errors[fields[1]] = (fields[0], fields[2])
        elif tag == "N":
            tree.names.append((fields[0], fields[1], fields[2]))
        else:
            tree.systemctl = (fields[0], fields[1])
    return tree


# --- secrets in command lines ----------------------------------------------------------------


def redact_command(redactor: Redactor, command: str) -> tuple[str, Any]:
    """(masked text for the job's key, value for the data: the text or a redacted object)."""
    found = False

    def mask(match: re.Match[str], name: str, prefix: str) -> str:
        nonlocal found
        value = match.group(match.lastindex or 0)
        bare = value.strip("'\"")
        if not bare or bare.startswith(("$", "/")) or not redactor.name_is_secret(name):
            return match.group(0)
        found = True
        redactor.remember(bare)
        return prefix + MASK

    masked = _FLAG_ARG.sub(
        lambda m: mask(m, m.group(1).lstrip("-"), m.group(1) + m.group(2)), command
    )
    masked = _NAME_ARG.sub(lambda m: mask(m, m.group(1), m.group(1) + "="), masked)
    embedded = redactor.scrub_embedded(masked)
    if isinstance(embedded, dict):
        if "masked" not in embedded:  # a private key inside a command: nothing to show
            return MASK, redactor.redact_value(command)
        found, masked = True, str(embedded["masked"])
    if not found:
        return command, command
    return masked, {
        "redacted": True,
        "fingerprint": redactor.fingerprint(command),
        "masked": masked,
    }


# --- cron ------------------------------------------------------------------------------------


@dataclass
class CronJob:
    schedule: str
    user: str
    command: str
    source: str
    line: int


def parse_crontab(
    text: str, source: str, user: str | None
) -> tuple[list[CronJob], dict[str, str], list[str]]:
    """Jobs, environment assignments and problems of one crontab. ``user`` None: system
    format (/etc/crontab, /etc/cron.d), whose sixth field is the user."""
    jobs: list[CronJob] = []
    env: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        assignment = _ENV_ASSIGNMENT.match(line)
        if assignment:
            value = assignment.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[assignment.group(1)] = value
            continue
        line = line.removeprefix("-")  # cronie: "-" = do not syslog this job
        width = 1 if line.startswith("@") else 5
        parts = line.split(None, width + (0 if user else 1))
        if len(parts) < width + (1 if user else 2) or (
            width == 5 and not all(re.fullmatch(r"[\d*,/A-Za-z-]+", p) for p in parts[:5])
        ):
            problems.append(f"{source}: line {number}: not a cron entry")
            continue
        job_user = user or parts[width]
        jobs.append(
            CronJob(
                schedule=" ".join(parts[:width]),
                user=job_user,
                command=parts[-1],
                source=source,
                line=number,
            )
        )
    return jobs, env, problems


# --- systemd ---------------------------------------------------------------------------------


def parse_unit(texts: list[str]) -> dict[str, dict[str, list[str]]]:
    """A unit file and then its drop-ins, merged: repeated keys add up, an empty one resets."""
    out: dict[str, dict[str, list[str]]] = {}
    for text in texts:
        section = ""
        pending = ""
        for raw in text.splitlines():
            line = pending + raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1].rstrip() + " "
                continue
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, sep, value = line.partition("=")
            if not sep:
                continue
            values = out.setdefault(section, {}).setdefault(key.strip(), [])
            if value.strip():
                values.append(value.strip())
            else:
                values.clear()
    return out


def last(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str | None:
    values = unit.get(section, {}).get(key, [])
    return values[-1] if values else None


@dataclass
class UnitFiles:
    """Unit files by name, highest-priority directory first, each with its drop-ins."""

    main: dict[str, str] = field(default_factory=dict)  # name -> path
    dropins: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {conf: path}

    def add(self, path: str) -> None:
        parent, base = posixpath.split(path)
        if parent.endswith(".d") and base.endswith(".conf"):
            # A drop-in with the same file name in a higher-priority directory replaces it.
            self.dropins.setdefault(posixpath.basename(parent)[:-2], {}).setdefault(base, path)
        else:
            self.main.setdefault(base, path)

    def texts(self, name: str, files: dict[str, tuple[str, str]]) -> list[str]:
        paths = [self.main[name]] if name in self.main else []
        paths += [p for _, p in sorted(self.dropins.get(name, {}).items())]
        return [files[p][1] for p in paths if p in files]


def is_enabled(name: str, wanted: set[str]) -> bool:
    """A ``*.wants/`` link names the timer, or an instance of it (``pg_dump@main.timer``)."""
    if name in wanted:
        return True
    prefix, at, suffix = name.partition("@")
    return (
        bool(at)
        and suffix == ".timer"
        and any(w.startswith(prefix + "@") and w.endswith(".timer") for w in wanted)
    )


def listed_timers(output: str) -> set[str]:
    """Timer names in ``systemctl list-timers`` output (their times are never kept)."""
    names: set[str] = set()
    for line in output.splitlines():
        for token in line.split():
            if token.endswith(".timer"):
                names.add(token)
    return names


# --- the facet -------------------------------------------------------------------------------


class SchedulesFacet:
    name = "schedules"
    summary = "cron jobs (system, cron.d, user crontabs, cron.daily...) and systemd timers"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {
            "root": Option(
                str, "/", "filesystem root to read schedules under (tests: a fake tree)"
            ),
        }

    def capture(self, ctx: CaptureContext) -> FacetResult:
        root = ctx.options["root"] or "/"
        result = run_shell(ctx.target, _SCRIPT, root, "scan", timeout=120)
        if result.returncode != 0 and not result.stdout:
            reason = result.error_text or f"exit code {result.returncode}"
            raise CaptureError(f"cannot read schedules on the target: {reason}")
        tree = split_records(result.stdout)
        problems: list[str] = []
        jobs: dict[str, Any] = {}
        cron_env: dict[str, dict[str, str]] = {}
        self._errors(tree, problems)
        self._cron(ctx.redactor, tree, jobs, cron_env, problems)
        self._periods(tree, jobs)
        data: dict[str, Any] = {"jobs": jobs, "cron_env": cron_env}
        loaded: set[str] | None = None
        if tree.systemctl is not None:
            data["systemd_running"] = tree.systemctl[0] == "0"
            if data["systemd_running"]:
                loaded = listed_timers(tree.systemctl[1])
        self._timers(ctx, root, tree, jobs, loaded)
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)

    @staticmethod
    def _errors(tree: Tree, problems: list[str]) -> None:
        for path, (kind, error) in sorted(tree.errors.items()):
            reason = "permission denied" if "Permission denied" in error else one_line(error)
            if kind == "user" and reason == "permission denied":
                reason += " (user crontabs are readable only by root)"
            problems.append(f"{path}: {reason}")

    @staticmethod
    def _cron(
        redactor: Redactor,
        tree: Tree,
        jobs: dict[str, Any],
        cron_env: dict[str, dict[str, str]],
        problems: list[str],
    ) -> None:
        for path, (kind, content) in sorted(tree.files.items()):
            if kind not in ("crontab", "cron.d", "user"):
                continue
            user = posixpath.basename(path) if kind == "user" else None
            found, env, trouble = parse_crontab(content, path, user)
            problems += trouble
            if env:
                cron_env[path] = env
            for job in found:
                masked, command = redact_command(redactor, job.command)
                key = f"cron:{path}:{masked}"
                n = 2
                while key in jobs:  # the same line twice: keep both, in file order
                    key = f"cron:{path}:{masked} #{n}"
                    n += 1
                jobs[key] = {
                    "schedule": job.schedule,
                    "user": job.user,
                    "command": command,
                    "source": path,
                }

    @staticmethod
    def _periods(tree: Tree, jobs: dict[str, Any]) -> None:
        for kind, path, executable in tree.names:
            if not kind.startswith("cron."):
                continue
            jobs[f"{kind}:{path}"] = {
                "schedule": kind.removeprefix("cron."),
                "user": "root",
                "command": path,
                "source": posixpath.dirname(path),
                "executable": executable == "1",
            }

    def _timers(
        self,
        ctx: CaptureContext,
        root: str,
        tree: Tree,
        jobs: dict[str, Any],
        loaded: set[str] | None,
    ) -> None:
        units = UnitFiles()
        for path, (kind, _) in tree.files.items():
            if kind == "unit":
                units.add(path)
        timers = sorted(n for n in units.main if n.endswith(".timer"))
        enabled = {posixpath.basename(p) for k, p, _ in tree.names if k == "wants"}
        parsed = {name: parse_unit(units.texts(name, tree.files)) for name in timers}
        services = sorted(
            {
                last(u, "Timer", "Unit") or n.removesuffix(".timer") + ".service"
                for n, u in parsed.items()
            }
        )
        # A Unit= value is text from the target: only a unit name (no "/", no glob) is
        # looked up, since the script expands it as a file name pattern.
        services = [s for s in services if _UNIT_NAME.fullmatch(s)]
        service_tree = Tree()
        if services:
            # Only the services timers activate: reading every unit would be hundreds of files.
            reply = run_shell(ctx.target, _SCRIPT, root, "units", *services, timeout=120)
            service_tree = split_records(reply.stdout)
        for path, (kind, _) in service_tree.files.items():
            if kind == "unit":
                units.add(path)
        for name in timers:
            timer = parsed[name]
            service_name = last(timer, "Timer", "Unit") or name.removesuffix(".timer") + ".service"
            service = parse_unit(units.texts(service_name, service_tree.files))
            schedule = "; ".join(
                f"{key}={value}"
                for key in TIMER_KEYS
                for value in timer.get("Timer", {}).get(key, [])
            )
            exec_start = "; ".join(service.get("Service", {}).get("ExecStart", [])) or None
            entry: dict[str, Any] = {
                "schedule": schedule or None,
                "user": last(service, "Service", "User") or "root",
                "command": redact_command(ctx.redactor, exec_start)[1] if exec_start else None,
                "source": units.main[name],
                "unit": service_name,
                "enabled": is_enabled(name, enabled),
            }
            if loaded is not None:
                entry["loaded"] = name in loaded
            jobs[f"timer:{name}"] = entry
        for name in sorted((loaded or set()) - set(timers)):
            # Loaded from somewhere not scanned (a generator, a user unit): known by name only.
            jobs[f"timer:{name}"] = {
                "schedule": None,
                "user": None,
                "command": None,
                "source": "systemctl",
                "unit": None,
                "enabled": name in enabled,
                "loaded": True,
            }


FACET = SchedulesFacet()
