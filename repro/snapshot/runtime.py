"""The ``runtime`` facet: the machine and limits the app runs under.

One shell round trip (two with ``app.process``: the first finds the process). Only values that
describe the environment are kept; uptime, free memory and other readings that change by the
minute are left out so snapshots stay stable.

With ``app.process`` set, the limits, cgroup, time zone and locale are the *app process's*
(``/proc/PID/limits``, ``/proc/PID/cgroup``, ``/proc/PID/environ``): a service started by
systemd or a supervisor often has other limits than a login shell. Otherwise they are the
shell's on the target.

Data shape::

    source:     "process:<app.process pattern>" | "shell"   # whose limits/locale these are
    os:         {id, version_id, pretty_name}                 # /etc/os-release; null if absent
    kernel:     "6.1.0-18-amd64"                              # uname -r
    arch:       "x86_64"                                      # uname -m
    cpu_count:  int                                           # nproc (honours cpusets)
    memory_total_bytes: int                                   # /proc/meminfo MemTotal
    cgroup:     {version: 1 | 2 | null,
                 memory_limit_bytes: int | null,   # null: unlimited (or no cgroups)
                 cpu_limit: float | null,          # cores (quota / period); null: unlimited
                 pids_limit: int | null}           # null: unlimited
    open_files: {soft: int | "unlimited", hard: int | "unlimited"}
    timezone:   "Europe/Berlin" | "UTC" | null     # effective zone: TZ, else /etc/localtime
    locale:     {LANG, LC_ALL, LC_CTYPE}           # value or null when unset
    user:       {name, uid, gid, groups: {name: gid}} | {error: "..."}
                # profile app.user, else the target's user; error when no such user

Cgroup limits are the smallest along the whole hierarchy, from the process's own cgroup up to
the root: a limit set on a parent slice binds the app as much as its own.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from repro.errors import CaptureError
from repro.profile.facets import Option
from repro.snapshot.base import CaptureContext
from repro.snapshot.env import scan_processes
from repro.snapshot.file import FacetResult
from repro.targets.base import run_shell

# "$1": the app's pid or empty (then the shell's own), "$2": the user to describe or empty.
_SCRIPT = r"""
pid="${1:-$$}"; u="$2"; proc="/proc/$pid"
s() { echo "@@$1"; }
walk() {  # mount relpath file...: "@ dir" then "file value" for each level up to the root
  m="$1"; d="$2"; shift 2
  while :; do
    echo "@ $d"
    for f in "$@"; do [ -r "$m$d/$f" ] && echo "$f $(cat "$m$d/$f" 2>/dev/null)"; done
    case "$d" in ""|/) break ;; esac
    d="${d%/*}"
  done
}
s os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s kernel; uname -r 2>/dev/null
s arch; uname -m 2>/dev/null
s cpus; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s meminfo; grep MemTotal /proc/meminfo 2>/dev/null
s cgroup
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "version 2"
  walk /sys/fs/cgroup "$(sed -n 's/^0:://p' "$proc/cgroup" 2>/dev/null)" memory.max cpu.max pids.max
elif [ -d /sys/fs/cgroup/memory ] || [ -d /sys/fs/cgroup/cpu ]; then
  echo "version 1"
  while IFS=: read -r n c p; do
    case ",$c," in *,memory,*) walk /sys/fs/cgroup/memory "$p" memory.limit_in_bytes ;; esac
    case ",$c," in *,cpu,*) walk /sys/fs/cgroup/cpu "$p" cpu.cfs_quota_us cpu.cfs_period_us ;; esac
    case ",$c," in *,pids,*) walk /sys/fs/cgroup/pids "$p" pids.max ;; esac
  done < "$proc/cgroup"
fi
s limits; grep '^Max open files' "$proc/limits" 2>/dev/null
s ulimit; ulimit -Sn 2>/dev/null; ulimit -Hn 2>/dev/null
s appenv
if [ -n "$1" ]; then
  if [ -r "$proc/environ" ]; then tr '\0' '\n' < "$proc/environ"
  else echo "!unreadable"; fi | grep -E '^(TZ|LANG|LC_ALL|LC_CTYPE)=|^!'
else
  env | grep -E '^(TZ|LANG|LC_ALL|LC_CTYPE)='
fi
s tz
if [ -L /etc/localtime ]; then echo "link $(readlink /etc/localtime)"
elif [ -e /etc/localtime ]; then echo "file"; fi
[ -r /etc/timezone ] && echo "etc $(head -n 1 /etc/timezone)"
s id; if [ -n "$u" ]; then id -- "$u" 2>&1; else id 2>&1; fi
"""

_UNLIMITED_V1 = 1 << 62  # v1 says "no limit" with a huge page-aligned number (2^63 - 4096)
_ID = re.compile(r"uid=(\d+)\(([^)]*)\)\s+gid=(\d+)\([^)]*\)(?:\s+groups=(\S+))?")
_GROUP = re.compile(r"(\d+)\(([^)]*)\)")
LOCALE_VARS = ("LANG", "LC_ALL", "LC_CTYPE")


def split_sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@@"):
            current = out.setdefault(line[2:].strip(), [])
        elif current is not None:
            current.append(line)
    return out


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def parse_os_release(lines: list[str]) -> dict[str, str | None]:
    values: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep:
            continue
        try:  # shell quoting, as the os-release spec says
            parts = shlex.split(value)
            values[key.strip()] = parts[0] if parts else ""
        except ValueError:
            values[key.strip()] = value.strip().strip("\"'")
    return {
        "id": values.get("ID"),
        "version_id": values.get("VERSION_ID"),
        "pretty_name": values.get("PRETTY_NAME"),
    }


def _smallest(values: list[int | None]) -> int | None:
    limits = [v for v in values if v is not None]
    return min(limits) if limits else None


def parse_cgroup(lines: list[str]) -> dict[str, Any]:
    """``version N``, then per level ``@ dir`` and ``file value`` lines -> the binding limits."""
    version: int | None = None
    levels: list[dict[str, str]] = []
    for line in lines:
        head, _, value = line.partition(" ")
        if head == "version":
            version = _int(value)
        elif head == "@":
            levels.append({})
        elif levels:
            levels[-1][head] = value.strip()
    memory: list[int | None] = []
    cpus: list[float | None] = []
    pids: list[int | None] = []
    for level in levels:
        if "memory.max" in level:
            memory.append(_int(level["memory.max"]))  # "max" -> None
        if "memory.limit_in_bytes" in level:
            v1 = _int(level["memory.limit_in_bytes"])
            memory.append(v1 if v1 is not None and v1 < _UNLIMITED_V1 else None)
        if "cpu.max" in level:
            quota, _, period = level["cpu.max"].partition(" ")
            cpus.append(_ratio(_int(quota), _int(period)))
        if "cpu.cfs_quota_us" in level:
            cpus.append(
                _ratio(_int(level["cpu.cfs_quota_us"]), _int(level.get("cpu.cfs_period_us")))
            )
        if "pids.max" in level:
            pids.append(_int(level["pids.max"]))
    cpu_limits = [c for c in cpus if c is not None]
    return {
        "version": version,
        "memory_limit_bytes": _smallest(memory),
        "cpu_limit": min(cpu_limits) if cpu_limits else None,
        "pids_limit": _smallest(pids),
    }


def _ratio(quota: int | None, period: int | None) -> float | None:
    if quota is None or quota <= 0 or not period:
        return None  # "max" or -1: no quota
    return round(quota / period, 3)


def _nofile(text: str | None) -> int | str | None:
    if text is None:
        return None
    return "unlimited" if text.strip() == "unlimited" else _int(text)


def parse_open_files(limits: list[str], ulimit: list[str]) -> dict[str, int | str | None]:
    # "Max open files            1024                 524288               files"
    for line in limits:
        fields = line.split()
        if len(fields) >= 5:
            return {"soft": _nofile(fields[3]), "hard": _nofile(fields[4])}
    soft = ulimit[0] if ulimit else None
    hard = ulimit[1] if len(ulimit) > 1 else None
    return {"soft": _nofile(soft), "hard": _nofile(hard)}


def zone_of(path: str) -> str | None:
    """``../usr/share/zoneinfo/Europe/Berlin`` -> ``Europe/Berlin``."""
    if "zoneinfo/" in path:
        return path.split("zoneinfo/", 1)[1].strip("/") or None
    return None


def parse_timezone(tz_env: str | None, lines: list[str]) -> str | None:
    """The zone glibc uses: TZ, else the /etc/localtime link, else /etc/timezone."""
    if tz_env:
        value = tz_env.lstrip(":")
        return zone_of(value) or value
    link = etc = None
    has_localtime = False
    for line in lines:
        kind, _, value = line.partition(" ")
        if kind == "link":
            has_localtime = True
            link = zone_of(value) or value.strip() or None
        elif kind == "file":
            has_localtime = True
        elif kind == "etc":
            etc = value.strip() or None
    if link:
        return link
    if etc:
        return etc
    return None if has_localtime else "UTC"  # glibc's default without /etc/localtime


def parse_user(lines: list[str], wanted: str | None) -> dict[str, Any]:
    text = " ".join(lines)
    match = _ID.search(text)
    if not match:
        reason = f"no such user {wanted!r}" if wanted else (text.strip() or "id failed")
        return {"error": reason}
    groups = {name: int(gid) for gid, name in _GROUP.findall(match.group(4) or "")}
    return {
        "name": match.group(2),
        "uid": int(match.group(1)),
        "gid": int(match.group(3)),
        "groups": dict(sorted(groups.items())),
    }


class RuntimeFacet:
    name = "runtime"
    summary = "OS, kernel, CPUs, memory and cgroup limits, open files, timezone, locale, user"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {}

    def capture(self, ctx: CaptureContext) -> FacetResult:
        problems: list[str] = []
        pattern = ctx.profile.app.process
        pid = ""
        source = "shell"
        if pattern:
            scan = scan_processes(ctx.target, pattern)
            if scan.pid is None:
                problems.append(
                    f"app process {pattern!r} not found; limits and locale are the shell's"
                )
            else:
                pid, source = str(scan.pid), f"process:{pattern}"
        user = ctx.app_user
        result = run_shell(ctx.target, _SCRIPT, pid, user or "")
        sec = split_sections(result.text)
        if "id" not in sec:
            reason = result.error_text or f"exit code {result.returncode}"
            raise CaptureError(f"runtime probe failed: {reason}")

        app_env: dict[str, str] = {}
        for line in sec.get("appenv", []):
            if line == "!unreadable":
                problems.append(
                    f"app process {pattern!r}: environment unreadable (permission denied); "
                    "time zone and locale are not the app's"
                )
            name, eq, value = line.partition("=")
            if eq:
                app_env.setdefault(name, value)
        meminfo = " ".join(sec.get("meminfo", [])).split()
        user_data = parse_user(sec.get("id", []), user)
        if "error" in user_data:
            problems.append(f"user: {user_data['error']}")
        cpus = sec.get("cpus", [])
        kernel = sec.get("kernel", [])
        arch = sec.get("arch", [])
        data: dict[str, Any] = {
            "source": source,
            "os": parse_os_release(sec.get("os_release", [])),
            "kernel": kernel[0].strip() if kernel else None,
            "arch": arch[0].strip() if arch else None,
            "cpu_count": _int(cpus[0]) if cpus else None,
            "memory_total_bytes": int(meminfo[1]) * 1024
            if len(meminfo) >= 2 and meminfo[1].isdigit()
            else None,
            "cgroup": parse_cgroup(sec.get("cgroup", [])),
            "open_files": parse_open_files(sec.get("limits", []), sec.get("ulimit", [])),
            "timezone": parse_timezone(app_env.get("TZ"), sec.get("tz", [])),
            "locale": {name: app_env.get(name) or None for name in LOCALE_VARS},
            "user": user_data,
        }
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)


FACET = RuntimeFacet()
