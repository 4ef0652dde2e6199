"""The ``runtime`` facet: the machine and limits the app runs under.

One shell round trip. Only values that describe the environment are kept; uptime, free memory
and other readings that change by the minute are left out so snapshots stay stable.

Data shape::

    os:         {id, version_id, pretty_name}
    kernel, arch, cpu_count, memory_total_bytes
    cgroup:     {version: 1 | 2 | null, memory_limit_bytes: int | null (null = unlimited),
                 cpu_limit: float | null (cores), pids_limit: int | null}
    open_files: {soft, hard}
    timezone:   "Europe/Berlin" | "UTC" | null
    locale:     {LANG, LC_ALL, LC_CTYPE}
    user:       {name, uid, gid, groups: {name: gid}}   # the app's user (profile app.user)
"""

from __future__ import annotations

from typing import Any

from repro.snapshot.base import CaptureContext, Option
from repro.snapshot.model import FacetResult
from repro.targets.base import run_shell

_SCRIPT = r"""
u="$1"
s() { echo "@@$1"; }
s os_release; cat /etc/os-release 2>/dev/null
s kernel; uname -r 2>/dev/null
s arch; uname -m 2>/dev/null
s cpus; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null
s meminfo; grep -m1 MemTotal /proc/meminfo 2>/dev/null
s cg2_memory; cat /sys/fs/cgroup/memory.max 2>/dev/null
s cg2_cpu; cat /sys/fs/cgroup/cpu.max 2>/dev/null
s cg2_pids; cat /sys/fs/cgroup/pids.max 2>/dev/null
s cg1_memory; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null
s cg1_quota; cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null
s cg1_period; cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null
s nofile_soft; ulimit -Sn 2>/dev/null
s nofile_hard; ulimit -Hn 2>/dev/null
s tz_env; echo "${TZ:-}"
s tz_file; cat /etc/timezone 2>/dev/null
s tz_link; readlink /etc/localtime 2>/dev/null
s lang; echo "${LANG:-}"
s lc_all; echo "${LC_ALL:-}"
s lc_ctype; echo "${LC_CTYPE:-}"
if [ -n "$u" ]; then
  s uid; id -u "$u" 2>/dev/null; s gid; id -g "$u" 2>/dev/null
  s groups; id -G "$u" 2>/dev/null; s group_names; id -Gn "$u" 2>/dev/null
else
  s user; id -un 2>/dev/null; s uid; id -u; s gid; id -g
  s groups; id -G 2>/dev/null; s group_names; id -Gn 2>/dev/null
fi
"""

_UNLIMITED_V1 = 1 << 62  # cgroup v1 reports "no limit" as a huge page-aligned number


def _sections(text: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            out[current] = []
        elif current:
            out[current].append(line)
    return {k: "\n".join(v).strip() for k, v in out.items()}


def _int(text: str | None) -> int | None:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


def parse_os_release(text: str) -> dict[str, str | None]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return {
        "id": values.get("ID"),
        "version_id": values.get("VERSION_ID"),
        "pretty_name": values.get("PRETTY_NAME"),
    }


def parse_cgroup(sec: dict[str, str]) -> dict[str, Any]:
    if sec.get("cg2_memory") or sec.get("cg2_cpu"):
        memory = sec.get("cg2_memory", "")
        cpu = sec.get("cg2_cpu", "").split()
        cpu_limit = None
        if len(cpu) == 2 and cpu[0] != "max" and _int(cpu[1]):
            cpu_limit = round(int(cpu[0]) / int(cpu[1]), 3)
        pids = sec.get("cg2_pids", "")
        return {
            "version": 2,
            "memory_limit_bytes": None if memory in ("", "max") else _int(memory),
            "cpu_limit": cpu_limit,
            "pids_limit": None if pids in ("", "max") else _int(pids),
        }
    if sec.get("cg1_memory"):
        memory_v1 = _int(sec.get("cg1_memory"))
        quota, period = _int(sec.get("cg1_quota")), _int(sec.get("cg1_period"))
        return {
            "version": 1,
            "memory_limit_bytes": None
            if memory_v1 is None or memory_v1 >= _UNLIMITED_V1
            else memory_v1,
            "cpu_limit": round(quota / period, 3) if quota and quota > 0 and period else None,
            "pids_limit": None,
        }
    return {"version": None, "memory_limit_bytes": None, "cpu_limit": None, "pids_limit": None}


def parse_timezone(sec: dict[str, str]) -> str | None:
    if sec.get("tz_env"):
        return sec["tz_env"].lstrip(":")
    if sec.get("tz_file"):
        return sec["tz_file"].splitlines()[0].strip()
    link = sec.get("tz_link", "")
    if "zoneinfo/" in link:
        return link.split("zoneinfo/", 1)[1]
    return link or None


def _limit(text: str | None) -> int | str | None:
    if text == "unlimited":
        return "unlimited"
    return _int(text)


class RuntimeFacet:
    name = "runtime"
    summary = "OS, kernel, CPUs, memory and cgroup limits, open files, timezone, locale, user"

    def __init__(self) -> None:
        self.options: dict[str, Option] = {}

    def capture(self, ctx: CaptureContext) -> FacetResult:
        user = ctx.app_user or ""
        result = run_shell(ctx.target, _SCRIPT, user)
        sec = _sections(result.text)
        problems: list[str] = []
        if not sec:
            reason = result.error_text or f"exit code {result.returncode}"
            return FacetResult(status="error", message=f"runtime probe failed: {reason}")
        meminfo = sec.get("meminfo", "").split()
        gids = sec.get("groups", "").split()
        names = sec.get("group_names", "").split()
        uid = _int(sec.get("uid"))
        if user and uid is None:
            problems.append(f"user: no such user {user!r} on the target")
        data: dict[str, Any] = {
            "os": parse_os_release(sec.get("os_release", "")),
            "kernel": sec.get("kernel") or None,
            "arch": sec.get("arch") or None,
            "cpu_count": _int(sec.get("cpus")),
            "memory_total_bytes": int(meminfo[1]) * 1024 if len(meminfo) >= 2 else None,
            "cgroup": parse_cgroup(sec),
            "open_files": {
                "soft": _limit(sec.get("nofile_soft")),
                "hard": _limit(sec.get("nofile_hard")),
            },
            "timezone": parse_timezone(sec),
            "locale": {
                "LANG": sec.get("lang") or None,
                "LC_ALL": sec.get("lc_all") or None,
                "LC_CTYPE": sec.get("lc_ctype") or None,
            },
            "user": {
                "name": user or sec.get("user") or None,
                "uid": uid,
                "gid": _int(sec.get("gid")),
                "groups": dict(zip(names, (int(g) for g in gids), strict=False))
                if len(names) == len(gids)
                else {},
            },
        }
        return FacetResult(status="partial" if problems else "ok", data=data, problems=problems)


FACET = RuntimeFacet()
